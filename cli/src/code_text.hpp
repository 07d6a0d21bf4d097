// Reading and writing codes, values and flags as text: the CLI's one
// definition of each (hex bit patterns, the shortest decimal, the names of
// inf and NaN, flags as two hex digits), shared by every subcommand. Kept
// free of JSON and CLI11 so the fuzz build (fuzz/) compiles it alone;
// json_number.hpp writes the same numbers into JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fpsim/format.hpp"
#include "fpsim/unpacked.hpp"

namespace fpsim::cli {

// ---- reading ----------------------------------------------------------------

// `text` without a leading 0x or 0X.
std::string_view without_0x(std::string_view text);

// Whether `digits` is one or more hex digits and nothing else (no 0x, sign
// or blank), of a value that fits in 64 bits; the value goes to `value`.
bool read_hex_digits(std::string_view digits, uint64_t& value);

// A bit pattern of `f` in hex, with or without 0x. tf32 is read in its 32-bit
// container (low 13 bits zero). Throws ParseError naming the text.
uint64_t parse_hex_code(std::string_view text, const Format& f);

// A number as `convert` and `quantize` read it: fpsim::parse_number's
// grammar (decimal, hex float, inf, nan), except that a hex integer such as
// 0x3f800000 (no '.', no p exponent) is refused: it is almost always a bit
// pattern given without `bits_option`, and reading it as 1065353216 would be
// silently wrong. 0x1.8 and 0x18p0 are numbers. Throws ParseError.
Unpacked parse_input_number(std::string_view text, std::string_view bits_option);

// Trims spaces, tabs and a trailing carriage return.
std::string_view trim(std::string_view s);

// Where a parser found bad input: "NAME line 3", or "NAME line 3, column 7"
// (lines and columns from 1; column 0: the line as a whole).
std::string input_position(std::string_view name, size_t line, size_t column = 0);

// ---- writing ----------------------------------------------------------------

// Hex output is fpsim::format_hex_code (fpsim/format_table.hpp).

// Whether a NaN's sign shows: "-nan" where the sign bit is part of what is
// printed (convert, mma: bit patterns are compared), "nan" where only the
// value matters (quantize, mma-error, JSON).
enum class NanSign { shown, hidden };

// "inf", "-inf" or "nan" ("-nan" for a negative NaN when `nan_sign` is
// shown): the text of a value that is not finite.
std::string nonfinite_text(double v, NanSign nan_sign);

// The shortest decimal that reads back to the same double (to_chars'
// shortest form: exact in any reader); nonfinite_text for inf and NaN.
std::string shortest_decimal(double v, NanSign nan_sign);
// The shortest decimal that reads back to the same float, shorter than the
// double's ("0.1", not "0.10000000149011612"). A name of its own: a float
// passed to shortest_decimal gets the double's text.
std::string shortest_float_decimal(float v, NanSign nan_sign);

// The shortest decimal of a code's exact value (every code's value is a
// double), with the sign of a NaN shown.
std::string format_decimal_value(uint64_t code, const Format& f);

// fpsim::Flags bits as two lower-case hex digits (TestFloat's encoding, plus
// 0x20 saturated and 0x40 flushed: docs/cli.md).
std::string flags_hex(uint32_t flags);

}  // namespace fpsim::cli
