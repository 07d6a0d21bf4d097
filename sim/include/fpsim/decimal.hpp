// Exact parsing of decimal and hexadecimal number text (docs/architecture.md: nothing
// rounds twice). The parser never rounds: it returns the exact value as an
// Unpacked, and fpsim::round then gives the correctly rounded result in every
// mode, format and overflow/subnormal policy (docs/conversion-semantics.md).
// There is no detour through double or strtod.
#pragma once

#include <string_view>

#include "fpsim/unpacked.hpp"

namespace fpsim {

// Parses, case-insensitively:
//   [+-] digits [. [digits]] [(e|E) [+-] digits]     also [+-] . digits [...]
//   [+-] 0x hexdigits [. [hexdigits]] [(p|P) [+-] digits]   (also 0x.hexdigits)
//   [+-] inf | infinity | nan                          (nan gives a quiet NaN)
// No surrounding whitespace. The result is the exact value: a 128-bit
// significand, the exponent of its leading bit, and sticky = any non-zero
// bits below it. Zero keeps its sign ("-0e5" is -0).
//
// Magnitudes certainly beyond every format are capped: a value above 2^2000
// comes back with exp = parse_cap_exp, below 2^-2000 with exp = -parse_cap_exp,
// sticky set in both cases (fp64 spans 2^-1074..2^1024, so rounding still
// sees a certain overflow / underflow). Time and memory stay linear in the
// text, whatever its digit count or exponent ("1e999999999" is instant).
//
// Throws ParseError("'<text>' is not a number: <reason>") for anything else:
// empty text, trailing junk, "1e", "--1", "0x", "1.2.3", ...
Unpacked parse_number(std::string_view text);

inline constexpr int32_t parse_cap_exp = 100000;

}  // namespace fpsim
