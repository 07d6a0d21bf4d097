// A number format is data, not code (docs/architecture.md, "The core of sim/"): widths,
// bias and a specials policy. Every property below is derived from those
// fields; nothing outside the format table names a particular format.
#pragma once

#include <cstdint>

#include "fpsim/config.hpp"

namespace fpsim {

// How a format spends its top codes (docs/formats.md §1 and §1.1).
enum class Specials : uint8_t {
  ieee,            // exponent all ones: inf (M = 0) and NaN (M != 0)
  fn,              // no inf; exponent and mantissa all ones is NaN
  fnuz,            // no inf, no -0; the code "sign only" is the one NaN
  finite,          // every code is a finite number (FP6, FP4)
  unsigned_scale,  // e8m0: code c is 2^(c - bias); all ones is NaN; no zero
  integer,         // two's-complement integer (int8)
};

struct Format {
  char name[20];          // canonical lower-case name
  uint8_t bits;           // width of a code
  uint8_t exp_bits;       // E
  uint8_t man_bits;       // M (stored fraction bits)
  int32_t bias;
  Specials specials;
  bool has_sign;          // ue4m3 and e8m0 are unsigned
  uint8_t container_shift;  // tf32 is stored as code << 13 in 32 bits

  FPSIM_HD constexpr bool is_integer() const { return specials == Specials::integer; }
  FPSIM_HD constexpr bool is_scale() const { return specials == Specials::unsigned_scale; }
  FPSIM_HD constexpr bool has_inf() const { return specials == Specials::ieee; }
  FPSIM_HD constexpr bool has_nan() const {
    return specials == Specials::ieee || specials == Specials::fn || specials == Specials::fnuz ||
           specials == Specials::unsigned_scale;
  }
  // A representable zero of either sign.
  FPSIM_HD constexpr bool has_zero() const { return specials != Specials::unsigned_scale; }
  FPSIM_HD constexpr bool has_negative_zero() const {
    return has_sign && specials != Specials::fnuz && specials != Specials::integer;
  }
  FPSIM_HD constexpr bool has_subnormals() const { return !is_scale() && !is_integer() && man_bits > 0; }
  // NaNs of both signs (fp32 -NaN -> e4m3 0xFF, §7).
  FPSIM_HD constexpr bool has_signed_nan() const {
    return has_sign && (specials == Specials::ieee || specials == Specials::fn);
  }

  // Bits that carry the value: a code must be below 2^value_bits().
  FPSIM_HD constexpr int value_bits() const { return is_integer() ? bits : exp_bits + man_bits + (has_sign ? 1 : 0); }
  // Number of codes; meaningful below 64 value bits (fp64 is a carrier only).
  FPSIM_HD constexpr uint64_t code_count() const { return value_bits() >= 64 ? 0 : uint64_t{1} << value_bits(); }
  FPSIM_HD constexpr bool valid_code(uint64_t code) const { return value_bits() >= 64 || code < code_count(); }
  FPSIM_HD constexpr uint64_t sign_mask() const {
    return has_sign ? (uint64_t{1} << (is_integer() ? bits - 1 : exp_bits + man_bits)) : 0;
  }
  FPSIM_HD constexpr uint64_t magnitude_mask() const {
    return (uint64_t{1} << (is_integer() ? bits - 1 : exp_bits + man_bits)) - 1;
  }
  FPSIM_HD constexpr uint64_t exp_field_max() const { return (uint64_t{1} << exp_bits) - 1; }
  FPSIM_HD constexpr uint64_t man_mask() const { return (uint64_t{1} << man_bits) - 1; }

  // Exponent of the smallest normal number.
  FPSIM_HD constexpr int emin() const { return is_scale() ? -bias : 1 - bias; }

  // The largest finite positive code.
  FPSIM_HD constexpr uint64_t max_code() const {
    switch (specials) {
      case Specials::ieee:
        return (exp_field_max() << man_bits) - 1;  // just below +inf
      case Specials::fn:
        return magnitude_mask() - 1;  // just below the all-ones NaN
      case Specials::unsigned_scale:
        return magnitude_mask() - 1;
      case Specials::integer:
        return magnitude_mask();
      case Specials::fnuz:
      case Specials::finite:
        break;
    }
    return magnitude_mask();
  }
  // The default NaN (docs/formats.md §7) with the given sign where NaNs are signed.
  FPSIM_HD constexpr uint64_t nan_code(bool negative) const {
    const uint64_t sign = (negative && has_signed_nan()) ? sign_mask() : 0;
    switch (specials) {
      case Specials::ieee:
        return sign | (exp_field_max() << man_bits) | (uint64_t{1} << (man_bits - 1));
      case Specials::fn:
      case Specials::unsigned_scale:
        return sign | magnitude_mask();
      case Specials::fnuz:
        return sign_mask();
      case Specials::finite:
      case Specials::integer:
        break;
    }
    return 0;  // no NaN encoding; callers check has_nan()
  }
  FPSIM_HD constexpr uint64_t inf_code(bool negative) const {
    return (negative ? sign_mask() : 0) | (exp_field_max() << man_bits);
  }
  FPSIM_HD constexpr uint64_t zero_code(bool negative) const {
    return (negative && has_negative_zero()) ? sign_mask() : 0;
  }
  FPSIM_HD constexpr bool is_nan_code(uint64_t code) const {
    const uint64_t mag = code & magnitude_mask();
    switch (specials) {
      case Specials::ieee:
        return (mag >> man_bits) == exp_field_max() && (mag & man_mask()) != 0;
      case Specials::fn:
      case Specials::unsigned_scale:
        return mag == magnitude_mask();
      case Specials::fnuz:
        return code == sign_mask();
      case Specials::finite:
      case Specials::integer:
        break;
    }
    return false;
  }
  FPSIM_HD constexpr bool is_inf_code(uint64_t code) const {
    return has_inf() && (code & magnitude_mask()) == (exp_field_max() << man_bits);
  }
  // Signaling NaN: IEEE-like, top mantissa bit clear (§7).
  FPSIM_HD constexpr bool is_signaling_nan_code(uint64_t code) const {
    return specials == Specials::ieee && is_nan_code(code) && ((code >> (man_bits - 1)) & 1) == 0;
  }
  FPSIM_HD constexpr bool is_subnormal_code(uint64_t code) const {
    return has_subnormals() && ((code & magnitude_mask()) >> man_bits) == 0 && (code & man_mask()) != 0;
  }

  // Format identity: whether `o` has the same codes with the same values
  // (every field but the name and the container shift). The one test the
  // library uses to recognise a layout (fp32's, a fast-path instance's, a
  // scheme's element format) instead of matching fields where it is needed.
  FPSIM_HD constexpr bool same_encoding(const Format& o) const {
    return bits == o.bits && exp_bits == o.exp_bits && man_bits == o.man_bits && bias == o.bias &&
           specials == o.specials && has_sign == o.has_sign;
  }
};

// The built-in formats of docs/formats.md §1, as named rows.
namespace formats {
// clang-format off
//                                  name        bits E   M   bias  specials                  sign  shift
inline constexpr Format fp64     = {"fp64",     64, 11, 52, 1023, Specials::ieee,           true,  0};
inline constexpr Format fp32     = {"fp32",     32,  8, 23,  127, Specials::ieee,           true,  0};
inline constexpr Format tf32     = {"tf32",     19,  8, 10,  127, Specials::ieee,           true, 13};
inline constexpr Format bf16     = {"bf16",     16,  8,  7,  127, Specials::ieee,           true,  0};
inline constexpr Format fp16     = {"fp16",     16,  5, 10,   15, Specials::ieee,           true,  0};
inline constexpr Format e4m3     = {"e4m3",      8,  4,  3,    7, Specials::fn,             true,  0};
inline constexpr Format e4m3fnuz = {"e4m3fnuz",  8,  4,  3,    8, Specials::fnuz,           true,  0};
inline constexpr Format e5m2     = {"e5m2",      8,  5,  2,   15, Specials::ieee,           true,  0};
inline constexpr Format e5m2fnuz = {"e5m2fnuz",  8,  5,  2,   16, Specials::fnuz,           true,  0};
inline constexpr Format e3m4     = {"e3m4",      8,  3,  4,    3, Specials::ieee,           true,  0};
inline constexpr Format e2m3     = {"e2m3",      6,  2,  3,    1, Specials::finite,         true,  0};
inline constexpr Format e3m2     = {"e3m2",      6,  3,  2,    3, Specials::finite,         true,  0};
inline constexpr Format e2m1     = {"e2m1",      4,  2,  1,    1, Specials::finite,         true,  0};
inline constexpr Format e8m0     = {"e8m0",      8,  8,  0,  127, Specials::unsigned_scale, false, 0};
inline constexpr Format ue4m3    = {"ue4m3",     8,  4,  3,    7, Specials::fn,             false, 0};
inline constexpr Format int8     = {"int8",      8,  0,  0,    0, Specials::integer,        true,  0};
// clang-format on
}  // namespace formats

// Whether f encodes IEEE binary32 (fp32's codes and values, whatever its name).
FPSIM_HD constexpr bool is_binary32(const Format& f) { return f.same_encoding(formats::fp32); }

}  // namespace fpsim
