// TOML text helpers shared by the recipe and sweep-file readers and writers
// (experiments/src/recipe_toml.cpp, sweep_config.cpp): the name of a node's
// type for messages, toml++'s parse-error text made safe to print, and a
// TOML basic string.
#pragma once

#include <toml++/toml.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "fpsim/quoted_text.hpp"

namespace fpsim::experiments {

// toml++'s description of a syntax error, which already writes a control
// character it quotes as an escape ("saw '\n'"): kept as it is when that is
// so, else escaped whole (it may repeat raw input).
inline std::string parser_message(std::string_view description) {
  std::string doubled;
  for (const char c : description) doubled.append(c == '\\' ? 2 : 1, c);
  std::string escaped = escaped_text(description);
  return escaped == doubled ? std::string(description) : escaped;
}

// "a table", "an integer", ...: what a message says a value was.
inline std::string toml_type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// A TOML basic string: quotes, backslashes and control characters escaped.
inline std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace fpsim::experiments
