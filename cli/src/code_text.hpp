// Reading and writing codes and values as text, shared by the subcommands.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fpsim/format.hpp"
#include "fpsim/unpacked.hpp"

namespace fpsim::cli {

// A bit pattern of `f` in hex, with or without 0x. tf32 is read in its 32-bit
// container (low 13 bits zero). Throws ParseError naming the text.
uint64_t parse_hex_code(std::string_view text, const Format& f);

// A number as `convert` and `quantize` read it: fpsim::parse_number's
// grammar (decimal, hex float, inf, nan), except that a hex integer such as
// 0x3f800000 (no '.', no p exponent) is refused: it is almost always a bit
// pattern given without `bits_option`, and reading it as 1065353216 would be
// silently wrong. 0x1.8 and 0x18p0 are numbers. Throws ParseError.
Unpacked parse_input_number(std::string_view text, std::string_view bits_option);

// Hex output is fpsim::format_hex_code (fpsim/format_table.hpp).

// The shortest decimal that reads back to the code's exact value (every
// code's value is a double, and to_chars' shortest form round-trips it).
std::string format_decimal_value(uint64_t code, const Format& f);

// Trims spaces, tabs and a trailing carriage return.
std::string_view trim(std::string_view s);

}  // namespace fpsim::cli
