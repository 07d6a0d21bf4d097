#include "quantize_input.hpp"

#include <bit>
#include <charconv>
#include <cstdint>
#include <istream>

#include "code_text.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::cli {

float parse_quantize_value(std::string_view token, bool bits) {
  if (bits) {
    const std::string_view digits = without_0x(token);
    uint64_t value = 0;
    if (digits.size() != 8 || !read_hex_digits(digits, value))
      throw ParseError(
          quoted_text(token).append(" is not an FP32 bit pattern (--bits: 8 hex digits, optionally after 0x)"));
    return std::bit_cast<float>(uint32_t(value));
  }
  Flags flags;
  const uint64_t code = round(parse_input_number(token, "--bits"), formats::fp32, RoundingSpec{}, flags);
  return std::bit_cast<float>(uint32_t(code));
}

QuantizeInput read_quantize_input(std::istream& in, const std::string& name, bool bits) {
  QuantizeInput input;
  std::string line;
  size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    size_t count = 0;
    size_t pending_comma = 0;  // 1-based column of a comma not yet followed by a value
    size_t i = 0;
    const size_t n = line.size();
    while (i < n) {
      const char c = line[i];
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
        continue;
      }
      if (c == '#') break;
      if (c == ',') {
        if (count == 0 || pending_comma)
          throw ParseError(input_position(name, line_number, i + 1).append(": empty value before the comma"));
        pending_comma = i + 1;
        ++i;
        continue;
      }
      const size_t start = i;
      while (i < n && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != ',' && line[i] != '#') ++i;
      const std::string_view token(line.data() + start, i - start);
      try {
        input.values.push_back(parse_quantize_value(token, bits));
      } catch (const Error& e) {
        throw ParseError(input_position(name, line_number, start + 1).append(": ").append(e.what()));
      }
      ++count;
      pending_comma = 0;
    }
    if (pending_comma)
      throw ParseError(input_position(name, line_number, pending_comma).append(": empty value after the comma"));
    if (count) input.lines.push_back({line_number, count});
  }
  if (in.bad()) throw IoError(std::string("cannot read ").append(name));
  if (input.values.empty())
    throw ParseError(name + " has no values (expected numbers separated by blanks, commas or newlines)");
  return input;
}

// "RxC" (or, when `single` is allowed, "N" for 1 x N); both sizes positive.
TensorShape parse_dims(std::string_view text, std::string_view option, bool single) {
  auto number = [&](std::string_view s, size_t& v) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && s[0] != '+' && ec == std::errc() && end == s.data() + s.size();
  };
  const size_t x = text.find_first_of("xX");
  TensorShape shape{1, 0};
  bool ok = false;
  if (x == std::string::npos) {
    ok = single && number(text, shape.cols);
  } else {
    ok = number(std::string_view(text).substr(0, x), shape.rows) &&
         number(std::string_view(text).substr(x + 1), shape.cols);
  }
  if (!ok)
    throw OptionError(std::string(option)
                          .append(" ")
                          .append(quoted_text(text))
                          .append(single ? ": expected RxC or N" : ": expected RxC"));
  if (shape.rows == 0 || shape.cols == 0)
    throw OptionError(std::string(option).append(" ").append(quoted_text(text)).append(": sizes must be positive"));
  if (shape.cols > SIZE_MAX / shape.rows)
    throw OptionError(std::string(option).append(" ").append(quoted_text(text)).append(": too large"));
  return shape;
}

TensorShape quantize_input_shape(const std::optional<std::string>& shape_option, const QuantizeInput& input,
                                 const std::string& name) {
  if (shape_option) {
    const TensorShape shape = parse_dims(*shape_option, "--shape", true);
    if (shape.size() != input.values.size())
      throw ParseError(std::string("expected ")
                           .append(std::to_string(shape.size()))
                           .append(" values for --shape ")
                           .append(*shape_option)
                           .append(", got ")
                           .append(std::to_string(input.values.size()))
                           .append(" in ")
                           .append(name));
    return shape;
  }
  const QuantizeInputLine& first = input.lines.front();
  for (const QuantizeInputLine& l : input.lines)
    if (l.count != first.count)
      throw ParseError(input_position(name, l.line_number, 0)
                           .append(" has ")
                           .append(std::to_string(l.count))
                           .append(l.count == 1 ? " value, line " : " values, line ")
                           .append(std::to_string(first.line_number))
                           .append(" has ")
                           .append(std::to_string(first.count))
                           .append(" (without --shape every line is one row; --shape RxC reads any layout)"));
  return TensorShape{input.lines.size(), first.count};
}

}  // namespace fpsim::cli
