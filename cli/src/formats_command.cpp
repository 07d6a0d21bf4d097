#include "formats_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "code_text.hpp"
#include "fpsim/format_table.hpp"

namespace fpsim::cli {

namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string joined_aliases(const Format& f) {
  std::string out;
  for (std::string_view a : format_aliases(f)) out += (out.empty() ? "" : ",") + std::string(a);
  return out.empty() ? "-" : out;
}

}  // namespace

void print_formats(std::ostream& out, bool json) {
  if (json) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const Format& f : builtin_formats()) {
      const FormatProperties p = describe(f);
      nlohmann::ordered_json row;
      row["name"] = f.name;
      row["aliases"] = format_aliases(f);
      row["bits"] = f.bits;
      row["exponent_bits"] = f.exp_bits;
      row["mantissa_bits"] = f.man_bits;
      row["bias"] = f.bias;
      row["kind"] = p.kind;
      row["signed"] = f.has_sign;
      row["max_finite"] = p.max_finite;
      row["min_normal"] = p.min_normal;
      row["min_subnormal"] = p.min_subnormal;
      row["epsilon"] = p.epsilon;
      row["max_code"] = format_hex_code(p.max_code, f);
      row["inf"] = p.inf_codes;
      row["nan"] = p.nan_codes;
      row["negative_zero"] = p.has_negative_zero;
      rows.push_back(row);
    }
    out << rows.dump(2) << '\n';
    return;
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-9s %4s %2s %2s %5s %-14s %-13s %-13s %-13s %-13s %-21s %-21s %s\n", "name",
                "bits", "E", "M", "bias", "kind", "max_finite", "min_normal", "min_subnorm", "epsilon", "inf", "nan",
                "aliases");
  out << line;
  for (const Format& f : builtin_formats()) {
    const FormatProperties p = describe(f);
    std::snprintf(line, sizeof line, "%-9s %4d %2d %2d %5d %-14s %-13s %-13s %-13s %-13s %-21s %-21s %s\n", f.name,
                  f.bits, f.exp_bits, f.man_bits, f.bias, p.kind.c_str(), number(p.max_finite).c_str(),
                  number(p.min_normal).c_str(), p.min_subnormal > 0 ? number(p.min_subnormal).c_str() : "-",
                  number(p.epsilon).c_str(), p.inf_codes.c_str(), p.nan_codes.c_str(), joined_aliases(f).c_str());
    out << line;
  }
  out << "User formats: eXmY[fn|fnuz][bN], 2 <= X <= 11, 0 <= Y <= 52 (Y = 0 needs fn or fnuz).\n";
}

void add_formats_command(CLI::App& app, int& exit_code) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("formats", "Print the built-in formats and their properties.");
  cmd->add_flag("--json", *json, "print a JSON array instead of a table");
  cmd->callback([json, &exit_code] {
    print_formats(std::cout, *json);
    exit_code = 0;
  });
}

}  // namespace fpsim::cli
