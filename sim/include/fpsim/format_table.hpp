// Host-side naming of formats and rounding modes: the built-in table with its
// aliases (docs/formats.md §1), the user grammar eXmY[fn|fnuz][bN] (§1.1),
// rounding-mode names (§2) and each format's derived properties.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim {

// Every built-in format, fp64 (host carrier) first.
std::span<const Format> builtin_formats();

// Looks a name up, case-insensitively: built-in names and aliases first,
// then the user grammar. Throws FormatError naming the input.
Format parse_format(std::string_view name);

// The aliases of a built-in format (empty for user formats).
std::vector<std::string_view> format_aliases(const Format& f);

// "rne" ... "sr", "sr<R>". Throws OptionError; "nearest" is rejected because
// it means ties-away elsewhere (docs/formats.md §2).
void parse_rounding(std::string_view name, RoundingSpec& spec);
std::string rounding_name(const RoundingSpec& spec);

// "ieee" or "saturate". Throws OptionError.
Overflow parse_overflow(std::string_view name);
std::string_view overflow_name(Overflow o);

// "after" or "before" (rounding). Throws OptionError.
Tininess parse_tininess(std::string_view name);
std::string_view tininess_name(Tininess t);

struct FormatProperties {
  double max_finite = 0;
  double min_normal = 0;
  double min_subnormal = 0;  // 0 when the format has none
  double epsilon = 0;        // 2^-M: the distance from 1 to the next value
  uint64_t max_code = 0;
  bool has_inf = false;
  bool has_nan = false;
  bool has_negative_zero = false;
  std::string inf_codes;   // e.g. "0x7c 0xfc", or "none"
  std::string nan_codes;   // the default NaN(s) written by fpsim
  std::string kind;        // ieee, fn, fnuz, finite, unsigned_scale, integer
};

FormatProperties describe(const Format& f);

// Hex digits needed for a code of f (the container for tf32).
int hex_digits(const Format& f);

// "0x" + lower-case hex, zero-padded to the format's width; tf32 in its
// 32-bit container (code << 13).
std::string format_hex_code(uint64_t code, const Format& f);

}  // namespace fpsim
