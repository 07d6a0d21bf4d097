// The exact currency between steps (docs/architecture.md): sign, class, the exponent of
// the leading bit and a 128-bit significand with that bit at position 127,
// plus a sticky bit for anything below it. For a finite non-zero value:
//   value = (-1)^sign * sig * 2^(exp - 127),  sig >= 2^127.
#pragma once

#include <bit>
#include <cstdint>

#include "fpsim/config.hpp"
#include "fpsim/format.hpp"

namespace fpsim {

enum class ValueClass : uint8_t { zero, finite, inf, quiet_nan, signaling_nan };

struct Unpacked {
  bool sign = false;
  ValueClass cls = ValueClass::zero;
  int32_t exp = 0;     // exponent of the leading significand bit
  u128 sig = 0;        // normalized: bit 127 set when finite
  bool sticky = false; // a non-zero tail below bit 0 of sig

  FPSIM_HD constexpr bool is_nan() const {
    return cls == ValueClass::quiet_nan || cls == ValueClass::signaling_nan;
  }
};

namespace detail {

// Number of significant bits of v (0 for v == 0): one count-leading-zeros
// instruction on the host and on the GPU.
FPSIM_HD constexpr int bit_length(u128 v) {
  const uint64_t hi = uint64_t(v >> 64), lo = uint64_t(v);
#if defined(__CUDA_ARCH__)
  return hi ? 128 - __clzll((long long)hi) : (lo ? 64 - __clzll((long long)lo) : 0);
#else
  return hi ? 128 - std::countl_zero(hi) : 64 - std::countl_zero(lo);
#endif
}

}  // namespace detail

// A finite non-zero value (-1)^sign * magnitude * 2^scale_exp, made exact.
FPSIM_HD constexpr Unpacked unpacked_from_integer(bool sign, u128 magnitude, int32_t scale_exp) {
  Unpacked u;
  u.sign = sign;
  if (magnitude == 0) {
    u.cls = ValueClass::zero;
    return u;
  }
  const int len = detail::bit_length(magnitude);
  u.cls = ValueClass::finite;
  u.exp = scale_exp + len - 1;
  u.sig = magnitude << (128 - len);
  return u;
}

// Decodes a code of format f exactly. The code must be valid for f.
FPSIM_HD constexpr Unpacked unpack(uint64_t code, const Format& f) {
  Unpacked u;
  if (f.is_integer()) {
    const uint64_t sign_bit = f.sign_mask();
    const bool negative = (code & sign_bit) != 0;
    const uint64_t magnitude = negative ? (sign_bit << 1) - code : code;
    return unpacked_from_integer(negative, magnitude, 0);
  }
  u.sign = (code & f.sign_mask()) != 0;
  if (f.is_nan_code(code)) {
    u.sign = u.sign && f.has_signed_nan();  // the fnuz NaN 0x80 is unsigned
    u.cls = f.is_signaling_nan_code(code) ? ValueClass::signaling_nan : ValueClass::quiet_nan;
    return u;
  }
  if (f.is_inf_code(code)) {
    u.cls = ValueClass::inf;
    return u;
  }
  const uint64_t mag = code & f.magnitude_mask();
  if (f.is_scale()) return unpacked_from_integer(false, 1, int32_t(mag) - f.bias);
  const uint64_t exp_field = mag >> f.man_bits;
  const uint64_t fraction = mag & f.man_mask();
  if (exp_field == 0) return unpacked_from_integer(u.sign, fraction, f.emin() - f.man_bits);
  return unpacked_from_integer(u.sign, (uint64_t{1} << f.man_bits) | fraction,
                               int32_t(exp_field) - f.bias - f.man_bits);
}

}  // namespace fpsim
