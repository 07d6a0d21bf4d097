// fuzz_hex_code: the CLI's parse_hex_code (convert --in hex, docs/cli.md)
// on arbitrary text, in every built-in format.
//
// - An independent reading of the contract ("a bit pattern of f in hex,
//   with or without 0x; tf32 in its 32-bit container, low 13 bits zero; a
//   pattern wider than the format is an error"; blanks around it and a
//   trailing CR/LF are trimmed) accepts exactly the texts sim accepts, with
//   the same code.
// - Accepted: f.valid_code(code), and format_hex_code(code, f) parses back
//   to the same code.
// - Refused: a fpsim::ParseError whose message is one short line with every
//   control byte and invalid UTF-8 escaped (quoted_text).
#include <optional>
#include <string>
#include <string_view>

#include "code_text.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fuzz_check.hpp"
#include "fuzz_targets.hpp"

namespace {

using fpsim_fuzz::fail;
using fpsim_fuzz::shown;

constexpr const char* kTarget = "hex_code";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The contract, read again: the code, or nothing for a refusal.
std::optional<uint64_t> expected_code(std::string_view t, const fpsim::Format& f) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r' || t.back() == '\n'))
    t.remove_suffix(1);
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) t.remove_prefix(2);
  if (t.empty()) return std::nullopt;
  uint64_t value = 0;
  for (const char c : t) {
    const int h = hex_value(c);
    if (h < 0 || (value >> 60) != 0) return std::nullopt;  // not hex, or more than 64 bits
    value = (value << 4) | uint64_t(h);
  }
  const uint64_t low = (uint64_t{1} << f.container_shift) - 1;
  if ((value & low) != 0) return std::nullopt;
  const uint64_t code = value >> f.container_shift;
  const unsigned value_bits = f.is_integer() ? f.bits : unsigned(f.exp_bits + f.man_bits + (f.has_sign ? 1 : 0));
  if (value_bits < 64 && (code >> value_bits) != 0) return std::nullopt;
  return code;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

int fuzz_hex_code(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const fpsim::Format& f : fpsim::builtin_formats()) {
      const std::optional<uint64_t> want = expected_code(text, f);
      const std::string where = std::string(f.name) + " '" + shown(text) + "'";
      try {
        const uint64_t code = fpsim::cli::parse_hex_code(text, f);
        if (!want) fail(kTarget, where + ": sim accepts it as " + hex(code) + ", the contract refuses it");
        if (*want != code) fail(kTarget, where + ": sim reads " + hex(code) + ", the contract " + hex(*want));
        if (!f.valid_code(code)) fail(kTarget, where + ": accepted code " + hex(code) + " is not valid");
        const std::string printed = fpsim::format_hex_code(code, f);
        uint64_t back = 0;
        try {
          back = fpsim::cli::parse_hex_code(printed, f);
        } catch (const fpsim::Error& e) {
          fail(kTarget, where + ": " + hex(code) + " printed as " + printed + " does not read back: " + e.what());
        }
        if (back != code)
          fail(kTarget, where + ": " + hex(code) + " printed as " + printed + " reads back as " + hex(back));
      } catch (const fpsim::ParseError& e) {
        fpsim_fuzz::check_message(kTarget, e.what(), text);
        if (want) fail(kTarget, where + ": sim refuses it, the contract reads " + hex(*want) + ": " + e.what());
      }
    }
  } catch (...) {
    fpsim_fuzz::fail_on_unexpected(kTarget, text);
  }
  return 0;
}
