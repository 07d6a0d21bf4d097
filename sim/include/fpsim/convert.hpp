// Conversions between any two formats and from/to the host's float and
// double: unpack exactly, then the one rounding core. Nothing rounds twice
// (docs/formats.md §3).
#pragma once

#include <bit>
#include <cstdint>

#include "fpsim/config.hpp"
#include "fpsim/flags.hpp"
#include "fpsim/format.hpp"
#include "fpsim/round.hpp"
#include "fpsim/rounding_spec.hpp"
#include "fpsim/unpacked.hpp"

namespace fpsim {

// Unpacks a code, applying daz (docs/formats.md §5): a subnormal input reads
// as zero and raises `flushed`.
FPSIM_HD constexpr Unpacked unpack_input(uint64_t code, const Format& from, const RoundingSpec& rs, Flags& fl) {
  Unpacked u = unpack(code, from);
  if (rs.daz && from.is_subnormal_code(code)) {
    fl.raise(Flags::flushed);
    u.cls = ValueClass::zero;
  }
  return u;
}

// code (format `from`) -> code (format `to`).
FPSIM_HD constexpr uint64_t convert(uint64_t code, const Format& from, const Format& to, const RoundingSpec& rs,
                                    Flags& fl, uint64_t index = 0) {
  return round(unpack_input(code, from, rs, fl), to, rs, fl, index);
}

FPSIM_HD inline uint64_t from_float(float x, const Format& to, const RoundingSpec& rs, Flags& fl,
                                    uint64_t index = 0) {
  constexpr Format source = formats::fp32;  // a copy: device code may not odr-use host constants
  return convert(std::bit_cast<uint32_t>(x), source, to, rs, fl, index);
}

FPSIM_HD inline uint64_t from_double(double x, const Format& to, const RoundingSpec& rs, Flags& fl,
                                     uint64_t index = 0) {
  constexpr Format source = formats::fp64;
  return convert(std::bit_cast<uint64_t>(x), source, to, rs, fl, index);
}

// The exact value of a code as a double (every format's values are doubles,
// docs/formats.md §1.1), NaN and inf included.
FPSIM_HD inline double to_double(uint64_t code, const Format& from) {
  Flags ignored;
  constexpr Format target = formats::fp64;
  return std::bit_cast<double>(round(unpack(code, from), target, RoundingSpec{}, ignored));
}

// A code rounded to the host float with the given spec.
FPSIM_HD inline float to_float(uint64_t code, const Format& from, const RoundingSpec& rs, Flags& fl,
                               uint64_t index = 0) {
  constexpr Format target = formats::fp32;
  return std::bit_cast<float>(uint32_t(convert(code, from, target, rs, fl, index)));
}

// x rounded to format f and read back as a float: the value a tensor stored
// in f holds.
FPSIM_HD inline float quantize(float x, const Format& f, const RoundingSpec& rs, Flags& fl, uint64_t index = 0) {
  return float(to_double(from_float(x, f, rs, fl, index), f));
}

}  // namespace fpsim
