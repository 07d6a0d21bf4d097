// Reading and writing codes and values as text, shared by the subcommands.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fpsim/format.hpp"

namespace fpsim::cli {

// A bit pattern of `f` in hex, with or without 0x. tf32 is read in its 32-bit
// container (low 13 bits zero). Throws ParseError naming the text.
uint64_t parse_hex_code(std::string_view text, const Format& f);

// Hex output is fpsim::format_hex_code (fpsim/format_table.hpp).

// The shortest decimal that reads back to the code's exact value (every
// code's value is a double, and to_chars' shortest form round-trips it).
std::string format_decimal_value(uint64_t code, const Format& f);

// Trims spaces, tabs and a trailing carriage return.
std::string_view trim(std::string_view s);

}  // namespace fpsim::cli
