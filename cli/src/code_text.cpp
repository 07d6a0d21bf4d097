#include "code_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "fpsim/convert.hpp"
#include "fpsim/decimal.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::cli {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

uint64_t parse_hex_code(std::string_view text, const Format& f) {
  std::string_view digits = trim(text);
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) digits.remove_prefix(2);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
    throw ParseError(quoted_text(text) + " is not a hex bit pattern (expected hex digits, optionally after 0x)");
  const uint64_t low_mask = (uint64_t{1} << f.container_shift) - 1;
  if (f.container_shift != 0 && (value & low_mask) != 0)
    throw ParseError(quoted_text(text) + " is not a " + f.name + " bit pattern: its low " +
                     std::to_string(f.container_shift) + " bits must be zero");
  const uint64_t code = value >> f.container_shift;
  if (!f.valid_code(code))
    throw ParseError(quoted_text(text) + " is out of range for " + f.name + " (largest bit pattern " +
                     format_hex_code(f.code_count() - 1, f) + ")");
  return code;
}

Unpacked parse_input_number(std::string_view text, std::string_view bits_option) {
  std::string_view body = text;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') &&
      body.find_first_of(".pP") == std::string_view::npos)
    throw ParseError(quoted_text(text) + " is a hex integer: write a hex float (0x1.8p3, 0x1.8) for a number, or pass " +
                     std::string(bits_option) + " to read bit patterns");
  return parse_number(text);
}

std::string format_decimal_value(uint64_t code, const Format& f) {
  const double v = to_double(code, f);
  if (std::isnan(v)) return std::signbit(v) ? "-nan" : "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  return std::string(buf, end);
}

}  // namespace fpsim::cli
