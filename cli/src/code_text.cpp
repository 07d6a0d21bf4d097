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

namespace {

template <typename Float>
std::string shortest(Float v, NanSign nan_sign) {
  if (!std::isfinite(v)) return nonfinite_text(double(v), nan_sign);
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  return std::string(buf, end);
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string input_position(std::string_view name, size_t line, size_t column) {
  std::string s(name);
  s.append(" line ").append(std::to_string(line));
  if (column) s.append(", column ").append(std::to_string(column));
  return s;
}

std::string_view without_0x(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  return text;
}

bool read_hex_digits(std::string_view digits, uint64_t& value) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return false;
  value = v;
  return true;
}

uint64_t parse_hex_code(std::string_view text, const Format& f) {
  uint64_t value = 0;
  if (!read_hex_digits(without_0x(trim(text)), value))
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
  if (body.size() > 2 && without_0x(body).size() != body.size() &&
      body.find_first_of(".pP") == std::string_view::npos)
    throw ParseError(quoted_text(text) + " is a hex integer: write a hex float (0x1.8p3, 0x1.8) for a number, or pass " +
                     std::string(bits_option) + " to read bit patterns");
  return parse_number(text);
}

std::string nonfinite_text(double v, NanSign nan_sign) {
  if (std::isnan(v)) return nan_sign == NanSign::shown && std::signbit(v) ? "-nan" : "nan";
  return v < 0 ? "-inf" : "inf";
}

std::string shortest_decimal(double v, NanSign nan_sign) { return shortest(v, nan_sign); }

std::string shortest_float_decimal(float v, NanSign nan_sign) { return shortest(v, nan_sign); }

std::string format_decimal_value(uint64_t code, const Format& f) {
  return shortest_decimal(to_double(code, f), NanSign::shown);
}

std::string flags_hex(uint32_t flags) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02x", flags);
  return buf;
}

}  // namespace fpsim::cli
