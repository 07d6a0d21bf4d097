// The arithmetic fast path (docs/arithmetic-semantics.md, "The fast path"):
// add, sub, mul, fma, div and sqrt for binary float formats whose values have
// at most 24 significant bits (M <= 23: fp32, tf32, bf16, fp16, the FP8 /
// FP6 / FP4 formats and user eXmY formats alike), on finite non-zero
// operands. The exact result is formed on 64-bit integers instead of the
// definition's 128/256-bit ones and rounded by the same rounding core
// (round.hpp, instantiated for a uint64_t significand), so the codes and
// flags are the definition's. Whatever is rare or needs more bits (zeros,
// infinities, NaNs, daz inputs, stochastic rounding of an inexact
// intermediate, other formats) is declined here and handled by the
// definition in arith.hpp. Every function returns false when it declines,
// before it has raised any flag.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "fpsim/config.hpp"
#include "fpsim/flags.hpp"
#include "fpsim/format.hpp"
#include "fpsim/round.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim {
namespace detail {

// A format the fast path takes: a binary float format (no integer, no e8m0)
// with at most 24 significant bits, so that every significand sits in the
// top 24 bits of a uint64_t and a product of two fits 64 bits exactly.
FPSIM_HD constexpr bool fast_format(const Format& f) { return !f.is_integer() && !f.is_scale() && f.man_bits <= 23; }

FPSIM_HD constexpr int count_leading_zeros_64(uint64_t v) {
#if defined(__CUDA_ARCH__)
  return __clzll((long long)v);
#else
  return std::countl_zero(v);
#endif
}

// The same for v != 0, which the caller guarantees: the compiler then needs
// no branch for v == 0 (bsr leaves its result undefined there).
FPSIM_HD constexpr int count_leading_zeros_nonzero_64(uint64_t v) {
#if defined(__CUDA_ARCH__)
  return __clzll((long long)v);
#else
  if (std::is_constant_evaluated()) return std::countl_zero(v);
  return __builtin_clzll(v);
#endif
}

// A double's bits (the host and the device spell the cast differently).
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t double_bits(double v) {
#if defined(__CUDA_ARCH__)
  return uint64_t(__double_as_longlong(v));
#else
  return std::bit_cast<uint64_t>(v);
#endif
}

// The smallest magnitude code that is not a finite number (an inf or a NaN):
// for ieee formats the all-ones exponent field, for fn formats the all-ones
// NaN; fnuz and finite formats have none (fnuz's NaN is "sign only", which
// has magnitude 0 and is declined with the zeros).
FPSIM_HD constexpr uint64_t first_special_magnitude(const Format& f) {
  if (f.specials == Specials::ieee) return f.exp_field_max() << f.man_bits;
  if (f.specials == Specials::fn) return f.magnitude_mask();
  return f.magnitude_mask() + 1;
}

// A finite non-zero value (-1)^sign * sig * 2^(exp - 63), sig's bit 63 set.
struct FastValue {
  uint64_t sig = 0;
  int32_t exp = 0;
  bool sign = false;
};

// A finite non-zero value (-1)^sign * sig * 2^exp with sig the code's
// integer significand, not normalised: the hidden bit at M for a normal
// code, a subnormal's fraction as it stands (sig < 2^(M+1) <= 2^24).
struct FastSignificand {
  uint64_t sig = 0;
  int32_t exp = 0;
  bool sign = false;
};

// Decodes a code of a fast_format without normalising; declines what
// fast_decode declines.
FPSIM_HD constexpr bool fast_decode_significand(uint64_t code, const Format& f, bool daz, FastSignificand& v) {
  const int man = f.man_bits;
  const uint64_t mag = code & f.magnitude_mask();
  const uint64_t exp_field = mag >> man;
  if (mag - 1 >= first_special_magnitude(f) - 1) return false;  // mag == 0 wraps: zeros decline too
  if (exp_field == 0 && daz) return false;
  const bool normal = exp_field != 0;
  v.sig = (mag & f.man_mask()) | (uint64_t{normal} << man);
  v.exp = int32_t(exp_field + uint64_t{!normal}) - f.bias - man;  // a subnormal's exponent field reads as 1
  v.sign = (code & f.sign_mask()) != 0;
  return true;
}

// Decodes a code of a fast_format, normalised; false for zeros, infinities,
// NaNs and a subnormal under daz (the definition raises `flushed` for it).
FPSIM_HD constexpr bool fast_decode(uint64_t code, const Format& f, bool daz, FastValue& v) {
  FastSignificand m;
  if (!fast_decode_significand(code, f, daz, m)) return false;
  const int lz = count_leading_zeros_nonzero_64(m.sig);
  v.sig = m.sig << lz;
  v.exp = m.exp + (63 - lz);
  v.sign = m.sign;
  return true;
}

// An exact (sticky == false) or exact-with-sticky result for the rounding
// core: (-1)^sign * (sig + tail) * 2^(exp - 63), 0 < tail < 1 when sticky.
// Where low bits of sig are zero because of normalization, the tail's unit
// may be several of sig's places; the core only asks which side of half an
// ulp the value lies, at a place >= 2^38 of sig (24 significant bits kept
// plus a round bit), and no multiple of that half lies strictly inside the
// interval the tail spans, so the answer is the exact value's.
struct FastResult {
  uint64_t sig = 0;
  int32_t exp = 0;
  bool sign = false;
  bool sticky = false;
};

// A non-zero normal double's bits as an exact FastResult: the hidden bit at
// 63, exp the unbiased exponent.
FPSIM_FORCEINLINE FPSIM_HD constexpr FastResult double_bits_as_fast_result(uint64_t bits) {
  return FastResult{(bits << 11) | (uint64_t{1} << 63), int32_t((bits >> 52) & 0x7ff) - 1023, (bits >> 63) != 0,
                    false};
}

// A result below the normal range: the same core, out of line (rare). Its
// arguments are six scalars (sign and sticky ride in the exponent's word),
// so they travel in registers and the call from an instance is a tail
// call: the common path then makes no call and saves no registers
// (docs/arithmetic-semantics.md, "The fast path").
FPSIM_HD constexpr int64_t pack_exp_sign_sticky(const FastResult& r) {
  return int64_t{r.exp} * 4 + (r.sign ? 2 : 0) + (r.sticky ? 1 : 0);
}
FPSIM_NOINLINE FPSIM_HD constexpr uint64_t fast_round_tiny(uint64_t sig, int64_t exp_sign_sticky, const Format& out,
                                                           const RoundingSpec& rs, Flags& fl, uint64_t index) {
  const int32_t exp = int32_t(exp_sign_sticky >> 2);  // arithmetic shift: floor, the * 4 undone
  const bool sign = (exp_sign_sticky & 2) != 0, sticky = (exp_sign_sticky & 1) != 0;
  return round_finite_to_float(sign, exp, sig, sticky, out, rs, fl, index);
}

// The rounding mode of an instance: kModeAtRunTime reads rs.rounding; a
// Rounding value makes it a compile-time constant, so the inlined core's
// mode switches (rounds_away, the overflow result) fold to that mode's
// branch. A loop over one mode takes one instance (docs/arithmetic-semantics.md,
// "The fast path").
inline constexpr int kModeAtRunTime = -1;
template <int Mode>
FPSIM_FORCEINLINE FPSIM_HD constexpr Rounding mode_of(const RoundingSpec& rs) {
  if constexpr (Mode == kModeAtRunTime)
    return rs.rounding;
  else
    return Rounding(Mode);
}

// Results below the normal range go to the core out of line; past that test
// the compiler knows the exponent is >= emin, and with a compile-time layout
// (the instances below) the inlined core's shift is a constant and its
// subnormal and tininess steps fold away. Both are the same core; with a
// constant Mode the inlined one reads a copy of rs whose mode is that
// constant (equal to rs.rounding: the dispatch below picks Mode from it).
template <int Mode = kModeAtRunTime>
FPSIM_HD constexpr uint64_t fast_round(const FastResult& r, const Format& out, const RoundingSpec& rs, Flags& fl,
                                       uint64_t index) {
  if (r.exp < out.emin()) return fast_round_tiny(r.sig, pack_exp_sign_sticky(r), out, rs, fl, index);
  if constexpr (Mode == kModeAtRunTime) {
    return round_finite_to_float(r.sign, r.exp, r.sig, r.sticky, out, rs, fl, index);
  } else {
    RoundingSpec fixed = rs;
    fixed.rounding = Rounding(Mode);
    return round_finite_to_float(r.sign, r.exp, r.sig, r.sticky, out, fixed, fl, index);
  }
}

// The exact product of two fast values: each significand has at most 24
// significant bits, so their top 32-bit halves hold them whole and the
// product of those, in [2^62, 2^64), is exact.
FPSIM_HD constexpr FastValue fast_product(const FastValue& x, const FastValue& y) {
  const uint64_t p = (x.sig >> 32) * (y.sig >> 32);
  const int carry = int(p >> 63);
  FastValue r;
  r.sig = p << (1 - carry);
  r.exp = x.exp + y.exp + carry;
  r.sign = x.sign != y.sign;
  return r;
}

// x + y for finite non-zero values whose significands have their set bits
// within sig's top 48 (a code's 24 or a product's 48). The operand with the
// larger exponent is placed with two bits of headroom (leading bit at 61),
// the other shifted right by the exponent gap more; bits shifted out become
// sticky, and an effective subtraction then borrows one unit of the last
// place, so the window is the exact value truncated (exact_sum_finite's
// scheme in 64 bits). Bits only leave the window for gaps >= 15, where at
// most one leading bit cancels and the result keeps >= 60 significant bits.
// The sign of a same-exponent subtraction comes from the signed difference.
// Returns false for an exact zero (its sign is the mode's, the definition's
// case) and leaves `sticky` set when bits were shifted out.
FPSIM_HD constexpr bool fast_sum(const FastValue& x_in, const FastValue& y_in, FastResult& r) {
  // Order by exponent with masks, not a branch: which operand is larger is
  // as random as the data.
  const int32_t diff = x_in.exp - y_in.exp;
  const uint64_t swap = uint64_t(int64_t{diff} >> 63);  // all ones when y's exponent is larger
  const uint64_t x_sig = x_in.sig ^ ((x_in.sig ^ y_in.sig) & swap);
  const uint64_t y_sig = y_in.sig ^ ((x_in.sig ^ y_in.sig) & swap);
  const int32_t swap32 = int32_t(swap);
  const int32_t x_exp = x_in.exp - (diff & swap32);
  const int32_t gap = (diff ^ swap32) - swap32;
  const bool x_sign = x_in.sign != ((x_in.sign != y_in.sign) & (swap != 0));
  const bool subtract = x_in.sign != y_in.sign;

  const uint64_t a = x_sig >> 2;
  const bool gone = gap >= 62;  // y lies wholly below the window: sticky only
  const int sh = gone ? 0 : 2 + gap;
  const uint64_t b = gone ? 0 : y_sig >> sh;
  const uint64_t lost = gone ? y_sig : y_sig << ((64 - sh) & 63);  // sh >= 2
  const uint64_t sticky = lost != 0 ? 1 : 0;
  // subtract: a - (b + sticky); add: a + b. Both magnitudes are below 2^62,
  // so the result, read as signed, carries the sign of a - b.
  const uint64_t neg = uint64_t{0} - uint64_t{subtract};
  int64_t s = int64_t(a + (((b + (sticky & neg)) ^ neg) - neg));
  const uint64_t flip = uint64_t(s >> 63);  // all ones when y was the larger (same exponent)
  const uint64_t m = (uint64_t(s) ^ flip) - flip;
  if (m == 0 && sticky == 0) return false;
  const int lz = count_leading_zeros_64(m);
  r.sig = m << lz;
  r.exp = x_exp + 2 - lz;
  r.sign = x_sign != (flip != 0);
  r.sticky = sticky != 0;
  return true;
}

// ---- the fixed-point sum of a narrow layout ---------------------------------
// Every value of a float format is an integer multiple of its least
// subnormal 2^(emin - M): the code's significand (hidden bit included)
// shifted left by max(exponent field, 1) - 1. Where two such integers and
// their sum stay below 2^63 (fp16, e5m2, e4m3: at most 41 bits), the exact
// sum is one int64 addition: no alignment, no sticky, no per-operand
// normalisation, one exact conversion to double (or a clz) for the result.
// The result goes to the same rounding core as fast_sum's
// (docs/arithmetic-semantics.md, "The fast path").

// Whether every finite value of f, as a multiple of 2^(emin - M), and the
// sum of two fit an int64: significand bits M + 1, shift below the
// exponent field's range, one carry.
FPSIM_HD constexpr bool fixed_point_sum_fits(const Format& f) {
  return fast_format(f) && f.man_bits + 1 + int(f.exp_field_max()) + 1 <= 63;
}

// A code's value as a signed multiple of 2^(emin - M); false for what
// fast_decode declines (zeros, infinities, NaNs, daz'd subnormals).
FPSIM_HD constexpr bool fixed_point_decode(uint64_t code, const Format& f, bool daz, int64_t& v) {
  const int man = f.man_bits;
  const uint64_t mag = code & f.magnitude_mask();
  const uint64_t exp_field = mag >> man;
  if (mag - 1 >= first_special_magnitude(f) - 1) return false;  // mag == 0 wraps: zeros decline too
  if (exp_field == 0 && daz) return false;
  const bool normal = exp_field != 0;
  const uint64_t mant = normal ? (mag & f.man_mask()) | (uint64_t{1} << man) : mag;
  const int64_t m = int64_t(mant << (exp_field - uint64_t{normal}));
  v = (code & f.sign_mask()) != 0 ? -m : m;
  return true;
}

// x + y (or x - y) of two decoded values of a layout with
// fixed_point_sum_fits, rounded by the core; declines an exact zero sum (its
// sign is the mode's, the definition's case). The sum is exact, so sr is
// taken too. The first form takes the signed sum of a value whose sign is
// `flip` xor the sum's own.
template <int Mode = kModeAtRunTime>
FPSIM_FORCEINLINE FPSIM_HD constexpr bool fixed_point_sum_round(int64_t sum, bool flip, const Format& f,
                                                                const RoundingSpec& rs, Flags& fl, uint64_t index,
                                                                uint64_t& result) {
  if (sum == 0) return false;
  // Each operand is below 2^(M + largest exponent field), their sum below
  // twice that. Where that is at most 2^53, the host's int64 -> double
  // conversion is exact (in any host rounding mode; |sum| >= 1 is no
  // subnormal) and gives sign, exponent and normalised significand at once,
  // in place of |sum|, a clz and a shift. The bound, told to the compiler,
  // folds the inlined core's early overflow test.
  if (f.man_bits + int(f.exp_field_max()) + 1 <= 53) {
    FastResult r = double_bits_as_fast_result(double_bits(double(sum)));  // |sum| in [2^exp, 2^(exp+1))
    FPSIM_ASSUME(r.exp >= 0 && r.exp <= f.man_bits + int(f.exp_field_max()));
    // value = sum * 2^(emin - M)
    r.exp += f.emin() - f.man_bits;
    r.sign = r.sign != flip;
    result = fast_round<Mode>(r, f, rs, fl, index);
    return true;
  }
  // |sum| with a mask, not a branch: the sign is as random as the data (GCC
  // made the conditional negation a branch, mispredicted half the time).
  const uint64_t neg = uint64_t(sum >> 63);
  const uint64_t mag = (uint64_t(sum) ^ neg) - neg;
  const int lz = count_leading_zeros_nonzero_64(mag);
  // The same bound, and the normalised leading bit: the inlined core's early
  // overflow test and its zero test fold away.
  FPSIM_ASSUME(lz >= 63 - (f.man_bits + int(f.exp_field_max())));
  FPSIM_ASSUME(((mag << lz) >> 63) != 0);
  // value = mag * 2^(emin - M) = (mag << lz) * 2^(emin - M - lz)
  const FastResult r{mag << lz, int32_t(63 - lz + f.emin() - f.man_bits), (neg != 0) != flip, false};
  result = fast_round<Mode>(r, f, rs, fl, index);
  return true;
}
template <int Mode = kModeAtRunTime>
FPSIM_FORCEINLINE FPSIM_HD constexpr bool fixed_point_sum_round(int64_t x, int64_t y, bool negate_b, const Format& f,
                                                                const RoundingSpec& rs, Flags& fl, uint64_t index,
                                                                uint64_t& result) {
  return fixed_point_sum_round<Mode>(negate_b ? x - y : x + y, false, f, rs, fl, index, result);
}

// a + b (or a - b) with the full decode; declines as fast_add does.
template <int Mode = kModeAtRunTime>
FPSIM_HD constexpr bool fast_add_fixed_point(uint64_t a, uint64_t b, bool negate_b, const Format& f,
                                             const RoundingSpec& rs, Flags& fl, uint64_t index, uint64_t& result) {
  int64_t x = 0, y = 0;
  if (!fixed_point_decode(a, f, rs.daz, x) || !fixed_point_decode(b, f, rs.daz, y)) return false;
  return fixed_point_sum_round<Mode>(x, y, negate_b, f, rs, fl, index, result);
}

// fma in the same units where it fits an int64 (e4m3): the product of two
// such integers counts 2^(2(emin - M)), c is shifted into those units, and
// the exact a * b + c is one int64 multiply-add: no alignment, no sticky, so
// sr is taken too. A decoded operand is below 2^V, V = M + 1 + the largest
// exponent field (e4m3: 19), so the product is below 2^(2V) and c's shifted
// value below 2^(V + M - emin) (e4m3: 2^38 and 2^28).
FPSIM_HD constexpr bool fixed_point_fma_fits(const Format& f) {
  const int value_bits = f.man_bits + 1 + int(f.exp_field_max());
  return fixed_point_sum_fits(f) && 2 * value_bits + 1 <= 63 && value_bits + (f.man_bits - f.emin()) + 1 <= 63;
}

template <int Mode = kModeAtRunTime>
FPSIM_FORCEINLINE FPSIM_HD constexpr bool fixed_point_fma_round(int64_t x, int64_t y, int64_t z, const Format& f,
                                                                const RoundingSpec& rs, Flags& fl, uint64_t index,
                                                                uint64_t& result) {
  const int64_t sum = x * y + int64_t(uint64_t(z) << (f.man_bits - f.emin()));
  if (sum == 0) return false;  // an exact zero: its sign is the mode's, the definition's case
  const uint64_t neg = uint64_t(sum >> 63);
  const uint64_t mag = (uint64_t(sum) ^ neg) - neg;
  const int lz = count_leading_zeros_64(mag);
  // value = mag * 2^(2(emin - M)) = (mag << lz) * 2^((63 - lz + 2(emin - M)) - 63)
  const FastResult r{mag << lz, int32_t(63 - lz + 2 * (f.emin() - f.man_bits)), neg != 0, false};
  result = fast_round<Mode>(r, f, rs, fl, index);
  return true;
}

// a * b + c with the full decode; declines as fast_fma does (never for sr).
template <int Mode = kModeAtRunTime>
FPSIM_HD constexpr bool fast_fma_fixed_point(uint64_t a, uint64_t b, uint64_t c, const Format& f,
                                             const RoundingSpec& rs, Flags& fl, uint64_t index, uint64_t& result) {
  int64_t x = 0, y = 0, z = 0;
  if (!fixed_point_decode(a, f, rs.daz, x) || !fixed_point_decode(b, f, rs.daz, y) ||
      !fixed_point_decode(c, f, rs.daz, z))
    return false;
  return fixed_point_fma_round<Mode>(x, y, z, f, rs, fl, index, result);
}

// ---- one layout, normal operands --------------------------------------------
// add, sub and fma where every operand and the result share one layout (the
// compile-time instances below) and every operand is normal. fp32 and bf16
// add and every fma follow SoftFloat's scheme: the significand is the
// fraction with the hidden bit at a fixed place (no clz), the operands are
// aligned by their exponent difference in a 64-bit window with guard bits,
// bits shifted out become a sticky, and one clz normalises the result for
// the same rounding core; the fixed-point layouts' add skips its decode's
// tests. One unsigned comparison per operand tells a normal one; a zero,
// subnormal, infinity or NaN among them (rare) sends the call out of line,
// to fast_add_fixed_point or the generic fast path above (the instances
// below; docs/arithmetic-semantics.md, "The fast path").

// Whether a code of f is a normal number: its magnitude in [2^M, the first
// special); zeros and subnormals wrap below 2^M to large values.
FPSIM_FORCEINLINE FPSIM_HD constexpr bool is_normal_code(uint64_t code, const Format& f) {
  const uint64_t min_normal = uint64_t{1} << f.man_bits;
  return (code & f.magnitude_mask()) - min_normal < first_special_magnitude(f) - min_normal;
}

// A normal code's shift: its exponent field less one. Read once, it serves
// the decode below and screens the code (is_normal_shift).
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t fixed_point_normal_shift(uint64_t code, const Format& f) {
  return ((code & f.magnitude_mask()) >> f.man_bits) - 1;
}
// Whether the exponent field alone tells that a code is normal: in ieee
// layouts the specials fill the top field (fn's NaN shares its field with
// normal numbers, so there it does not).
FPSIM_HD constexpr bool normal_by_exponent_field(const Format& f) {
  return first_special_magnitude(f) == f.exp_field_max() << f.man_bits;
}
// With normal_by_exponent_field: whether the code of that shift is normal
// (a zero or subnormal code's field 0 wraps to the largest shift).
FPSIM_FORCEINLINE FPSIM_HD constexpr bool is_normal_shift(uint64_t shift, const Format& f) {
  return shift < f.exp_field_max() - 1;
}

// A normal code's value as a signed multiple of 2^(emin - M), as
// fixed_point_decode, without its tests: the significand with the hidden bit
// shifted by the exponent field less one, negated by a mask (the sign is as
// random as the data; a ternary here became a branch in some callers).
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t fixed_point_normal_magnitude(uint64_t code, uint64_t shift,
                                                                          const Format& f) {
  return ((code & f.man_mask()) | (uint64_t{1} << f.man_bits)) << shift;
}
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t fixed_point_normal_magnitude(uint64_t code, const Format& f) {
  return fixed_point_normal_magnitude(code, fixed_point_normal_shift(code, f), f);
}
FPSIM_FORCEINLINE FPSIM_HD constexpr int64_t fixed_point_normal(uint64_t code, const Format& f) {
  const uint64_t m = fixed_point_normal_magnitude(code, f);
  const uint64_t neg = uint64_t{0} - uint64_t((code & f.sign_mask()) != 0);
  return int64_t((m ^ neg) - neg);
}

// ---- the sum in the host's double ---------------------------------------
// Layouts whose codes are IEEE binary32 codes with the fraction cut short
// (fp32, bf16: 8 exponent bits, bias 127, ieee specials) widen to float by a
// shift and to double by the host's exact conversion. Two normal values
// whose exponents are at most 51 - M apart add exactly in double: both are
// multiples of 2^(ey - M) (ey the smaller exponent), the sum is below
// 2^(ex + 2), so it is k * 2^(ey - M) with |k| < 2^(gap + M + 2) <= 2^53;
// and a non-zero sum is at least 2^-149 and below 2^129, a normal double.
// Exact, so the host's rounding mode plays no part, and no subnormal double
// goes in or comes out, so flush-to-zero and denormals-are-zero (MXCSR's
// FTZ and DAZ, which -ffast-math sets) play none either. One addsd replaces
// the alignment, the sticky and the normalising clz of the integer window
// (fast_add_normal, which takes the wider gaps).
FPSIM_HD constexpr bool float_layout(const Format& f) {
  return fast_format(f) && f.exp_bits == 8 && f.bias == 127 && f.specials == Specials::ieee && f.has_sign &&
         f.man_bits <= 23;
}
FPSIM_HD constexpr int double_sum_max_gap(const Format& f) { return 51 - f.man_bits; }
FPSIM_FORCEINLINE FPSIM_HD constexpr double float_layout_code_as_double(uint64_t code, const Format& f) {
  const uint32_t bits = uint32_t(code << (23 - f.man_bits));  // the code's 1 + 8 + M bits at a float's top
#if defined(__CUDA_ARCH__)
  return double(__int_as_float(int(bits)));
#else
  return double(std::bit_cast<float>(bits));
#endif
}
// A double that holds an exact result, normal or zero, for the core; false
// for zero (its sign is the mode's, the definition's case).
template <int Mode = kModeAtRunTime>
FPSIM_FORCEINLINE FPSIM_HD constexpr bool exact_double_round(double v, const Format& f, const RoundingSpec& rs,
                                                             Flags& fl, uint64_t index, uint64_t& result) {
  const uint64_t bits = double_bits(v);
  if ((bits << 1) == 0) return false;
  result = fast_round<Mode>(double_bits_as_fast_result(bits), f, rs, fl, index);
  return true;
}

// a + b (or a - b), both normal, in one layout. Codes of one format order
// as their magnitudes, so x, the operand of larger magnitude code, is the
// larger in magnitude and the result takes its sign; no signed difference
// is needed. The significands (hidden bit at M) go to the window with the
// hidden bit at 62: x whole, y shifted right by the exponent gap (at most
// 63: further bits are all sticky). y's lowest set bit is at 62 - M >= 39,
// so bits are shifted out only for gaps >= 40, and the window keeps >= 60
// significant bits (x's leading bit is at 62; far more than the core's
// window needs, see FastResult). An effective subtraction borrows one unit
// of the last place for the sticky (fast_sum's scheme), so the window is
// the exact |a +- b| truncated; x >= y keeps it >= 0, and both below 2^63
// keep the addition below 2^64. An exact zero (only x == -y) is declined:
// its sign is the mode's, the definition's case.
template <int Mode = kModeAtRunTime>
FPSIM_HD constexpr bool fast_add_normal(uint64_t a, uint64_t b, bool negate_b, const Format& f, const RoundingSpec& rs,
                                        Flags& fl, uint64_t index, uint64_t& result) {
  const int man = f.man_bits;
  const uint64_t mag_a = a & f.magnitude_mask(), mag_b = b & f.magnitude_mask();
  const uint64_t sign_mask = f.sign_mask();
  const uint64_t b_signed = b ^ (sign_mask & (uint64_t{0} - uint64_t{negate_b}));
  const bool swap = mag_a < mag_b;
  const uint64_t mag_x = swap ? mag_b : mag_a, mag_y = swap ? mag_a : mag_b;
  const bool sign = ((swap ? b_signed : a) & sign_mask) != 0;
  const bool subtract = ((a ^ b_signed) & sign_mask) != 0;
  const uint64_t hidden = uint64_t{1} << man;
  const uint64_t x = ((mag_x & f.man_mask()) | hidden) << (62 - man);
  const uint64_t y = ((mag_y & f.man_mask()) | hidden) << (62 - man);
  const int32_t exp_x = int32_t(mag_x >> man);
  const int32_t gap_full = exp_x - int32_t(mag_y >> man);
  const int gap = gap_full < 63 ? gap_full : 63;
  const uint64_t y_kept = y >> gap;
  const uint64_t sticky = (y_kept << gap) != y ? 1 : 0;
  const uint64_t neg = uint64_t{0} - uint64_t{subtract};
  const uint64_t m = x + (((y_kept + (sticky & neg)) ^ neg) - neg);
  if (m == 0) return false;  // exact: with a sticky the window keeps >= 60 bits
  // Stochastic rounding reads f beyond the window: only an exact window is
  // the definition's significand (round.hpp, stochastic_rounds_away_sig).
  if (mode_of<Mode>(rs) == Rounding::sr && sticky != 0) return false;  // the mode first: it predicts
  const int lz = count_leading_zeros_64(m);
  // value = m * 2^(exp_x - bias - M - (62 - M)) = (m << lz) * 2^((exp_x - bias + 1 - lz) - 63)
  const FastResult r{m << lz, exp_x - f.bias + 1 - lz, sign, sticky != 0};
  result = fast_round<Mode>(r, f, rs, fl, index);
  return true;
}

// a * b + c, all normal, in one layout. The significands (hidden bit at M)
// are in [2^M, 2^(M+1)), so their product lies in [2^(2M), 2^(2M+2)), below
// 2^48. The window holds it shifted by 60 - 2M (leading bit at 60 or 61)
// and c's significand shifted by 61 - M (leading bit at 61), c's negated
// where its sign differs from the product's: two signed int64, the sum's
// sign relative to the product's. The one whose window has the larger
// exponent stays, the other is shifted right arithmetically by the gap (at
// most 63: further bits are all sticky), which is the floor of its exact
// value in the window's units, so the signed sum is the floor of the exact
// a * b + c (sign relative) and the shifted-out bits are its sticky. Both
// magnitudes are below 2^62, so the sum is below 2^63 in magnitude: no
// overflow, and its sign says which operand is larger without a test. The
// lowest set bit of either window is at 60 - 2M >= 14 or above, so bits are
// shifted out only for gaps >= 15; the staying operand then has magnitude
// >= 2^60 and the shifted one < 2^62 / 2^15 = 2^47, so the sum is above
// 2^59 (>= 60 significant bits, far more than the core's window needs, see
// FastResult). For a negative sum the magnitude is -s less one unit when a
// sticky tail is present (-(s + t) = (-s - 1) + (1 - t)); that is 0 only for
// s == 0, an exact zero, which is declined: its sign is the mode's, the
// definition's case.
template <int Mode = kModeAtRunTime>
FPSIM_HD constexpr bool fast_fma_normal(uint64_t a, uint64_t b, uint64_t c, const Format& f, const RoundingSpec& rs,
                                        Flags& fl, uint64_t index, uint64_t& result) {
  const int man = f.man_bits;
  const uint64_t hidden = uint64_t{1} << man;
  const uint64_t sig_a = (a & f.man_mask()) | hidden, sig_b = (b & f.man_mask()) | hidden,
                 sig_c = (c & f.man_mask()) | hidden;
  const uint64_t mag_mask = f.magnitude_mask();
  const int32_t exp_a = int32_t((a & mag_mask) >> man), exp_b = int32_t((b & mag_mask) >> man),
                exp_c = int32_t((c & mag_mask) >> man);
  const uint64_t sign_mask = f.sign_mask();
  const bool sign_p = ((a ^ b) & sign_mask) != 0;
  const uint64_t differ = uint64_t{0} - uint64_t(((a ^ b ^ c) & sign_mask) != 0);
  const int64_t p = int64_t((sig_a * sig_b) << (60 - 2 * man));
  const int64_t q = int64_t(((sig_c << (61 - man)) ^ differ) - differ);
  // The windows' units: p counts 2^(exp_a + exp_b - 2 bias - 60), q 2^(exp_c - bias - 61).
  const int32_t unit_p = exp_a + exp_b - 2 * f.bias - 60, unit_c = exp_c - f.bias - 61;
  // Which stays by masks, not a branch (the compiler made the ternaries one):
  // which window is larger is as random as the data.
  const int32_t diff = unit_p - unit_c;
  const int32_t swap = diff >> 31;  // all ones when c stays
  const int64_t swap64 = swap;
  const int64_t x = p ^ ((p ^ q) & swap64), y = q ^ ((p ^ q) & swap64);
  const int32_t unit = unit_p - (diff & swap);
  const int32_t gap_full = (diff ^ swap) - swap;  // |diff|
  const int gap = gap_full < 63 ? gap_full : 63;
  const int64_t y_kept = y >> gap;  // arithmetic: the floor
  const uint64_t sticky = (y_kept << gap) != y ? 1 : 0;
  const int64_t s = x + y_kept;
  const uint64_t neg = uint64_t(s >> 63);
  const uint64_t m = (uint64_t(s) ^ neg) + (neg & (sticky ^ 1));
  // m == 0 only for s == 0, exact (with a sticky |s| > 2^59)
  if (m == 0) return false;
  if (mode_of<Mode>(rs) == Rounding::sr && sticky != 0) return false;  // as fast_fma: sr needs an exact window
  const int lz = count_leading_zeros_64(m);
  // value = m * 2^unit = (m << lz) * 2^((unit + 63 - lz) - 63)
  const FastResult r{m << lz, unit + 63 - lz, sign_p != (neg != 0), sticky != 0};
  result = fast_round<Mode>(r, f, rs, fl, index);
  return true;
}

// ---- the operations --------------------------------------------------------
// Same signatures as the public operations plus the result; false when
// declined (nothing raised, `result` untouched).

template <int Mode = kModeAtRunTime>
FPSIM_HD constexpr bool fast_add(uint64_t a, const Format& fa, uint64_t b, const Format& fb, bool negate_b,
                                 const Format& out, const RoundingSpec& rs, Flags& fl, uint64_t index,
                                 uint64_t& result) {
  if (!fast_format(fa) || !fast_format(fb) || !fast_format(out)) return false;
  FastValue x, y;
  if (!fast_decode(a, fa, rs.daz, x) || !fast_decode(b, fb, rs.daz, y)) return false;
  y.sign = y.sign != negate_b;
  FastResult r;
  if (!fast_sum(x, y, r)) return false;
  // Stochastic rounding reads f beyond the window: only an exact window is
  // the definition's significand (round.hpp, stochastic_rounds_away_sig).
  if (mode_of<Mode>(rs) == Rounding::sr && r.sticky) return false;  // the mode first: it predicts, sticky does not
  result = fast_round<Mode>(r, out, rs, fl, index);
  return true;
}

// The product on the codes' integer significands: each is at most 24 bits
// (hidden bit included, a subnormal's without), so their product is exact
// in 48 bits and one clz normalises it; the operands themselves are not
// normalised (fast_decode's two clz and shifts), which a subnormal operand
// does not need either: its significand is simply shorter.
template <int Mode = kModeAtRunTime>
FPSIM_HD constexpr bool fast_mul(uint64_t a, const Format& fa, uint64_t b, const Format& fb, const Format& out,
                                 const RoundingSpec& rs, Flags& fl, uint64_t index, uint64_t& result) {
  if (!fast_format(fa) || !fast_format(fb) || !fast_format(out)) return false;
  FastSignificand x, y;
  if (!fast_decode_significand(a, fa, rs.daz, x) || !fast_decode_significand(b, fb, rs.daz, y)) return false;
  const uint64_t p = x.sig * y.sig;  // in [1, 2^48)
  const int lz = count_leading_zeros_nonzero_64(p);
  // value = p * 2^(x.exp + y.exp) = (p << lz) * 2^(x.exp + y.exp + 63 - lz - 63)
  const FastResult r{p << lz, int32_t(x.exp + y.exp + 63 - lz), x.sign != y.sign, false};
  result = fast_round<Mode>(r, out, rs, fl, index);
  return true;
}

template <int Mode = kModeAtRunTime>
FPSIM_HD constexpr bool fast_fma(uint64_t a, const Format& fa, uint64_t b, const Format& fb, uint64_t c,
                                 const Format& fc, const Format& out, const RoundingSpec& rs, Flags& fl, uint64_t index,
                                 uint64_t& result) {
  if (!fast_format(fa) || !fast_format(fb) || !fast_format(fc) || !fast_format(out)) return false;
  FastValue x, y, z;
  if (!fast_decode(a, fa, rs.daz, x) || !fast_decode(b, fb, rs.daz, y) || !fast_decode(c, fc, rs.daz, z)) return false;
  FastResult r;
  if (!fast_sum(fast_product(x, y), z, r)) return false;
  if (mode_of<Mode>(rs) == Rounding::sr && r.sticky) return false;  // the mode first: it predicts, sticky does not
  result = fast_round<Mode>(r, out, rs, fl, index);
  return true;
}

// x / y: the 32-bit top halves a, b hold the significands whole; (a * 2^32)
// / b lies in (2^31, 2^33), so the quotient has >= 32 bits (p + 2 <= 26 are
// needed) and the remainder is the sticky. Stochastic rounding needs the
// definition's 128 quotient bits and is declined.
template <int Mode = kModeAtRunTime>
FPSIM_HD constexpr bool fast_div(uint64_t a, const Format& fa, uint64_t b, const Format& fb, const Format& out,
                                 const RoundingSpec& rs, Flags& fl, uint64_t index, uint64_t& result) {
  if (mode_of<Mode>(rs) == Rounding::sr) return false;
  if (!fast_format(fa) || !fast_format(fb) || !fast_format(out)) return false;
  FastValue x, y;
  if (!fast_decode(a, fa, rs.daz, x) || !fast_decode(b, fb, rs.daz, y)) return false;
  const uint64_t n = (x.sig >> 32) << 32, d = y.sig >> 32;
  const uint64_t q = n / d;
  const bool rem = n - q * d != 0;
  const int carry = int(q >> 32);  // a >= b
  const int lz = count_leading_zeros_64(q);
  FastResult r;
  r.sig = q << lz;
  r.exp = x.exp - y.exp - 1 + carry;
  r.sign = x.sign != y.sign;
  r.sticky = rem;
  result = fast_round<Mode>(r, out, rs, fl, index);
  return true;
}

// sqrt(x) for x > 0: x = n * 2^(2k) with n = a * 2^29 or a * 2^30 in [2^60,
// 2^62) (a: the 32-bit top half), whose integer root r in [2^30, 2^31) has
// 31 bits (p + 2 <= 26 are needed) and whose remainder n - r^2 is the
// sticky. n has at most 24 significant bits, so double(n) is exact and the
// correctly rounded double root is floor(sqrt(n)) or one above it (never
// below: the floor is a double); one integer comparison settles it.
// Stochastic rounding needs the definition's 120 root bits and is declined.
template <int Mode = kModeAtRunTime>
FPSIM_HD inline bool fast_sqrt(uint64_t a, const Format& fa, const Format& out, const RoundingSpec& rs, Flags& fl,
                               uint64_t index, uint64_t& result) {
  if (mode_of<Mode>(rs) == Rounding::sr) return false;
  if (!fast_format(fa) || !fast_format(out)) return false;
  FastValue x;
  if (!fast_decode(a, fa, rs.daz, x) || x.sign) return false;
  // x = (sig >> 32) * 2^(exp - 31); pick the shift that makes the power even.
  const int k = (x.exp & 1) != 0 ? 30 : 29;
  const uint64_t n = (x.sig >> 32) << k;
  uint64_t root = uint64_t(::sqrt(double(n)));
  if (root * root > n) --root;
  FastResult r;
  r.sig = root << 33;
  r.exp = 30 + (x.exp - 31 - k) / 2;
  r.sticky = n != root * root;
  result = fast_round<Mode>(r, out, rs, fl, index);
  return true;
}

// ---- compile-time layout instances -----------------------------------------
// The operations above read the format's fields at run time on every call.
// For the layouts most arithmetic is done in, the same functions are
// instantiated with a Format that is a compile-time constant, so the
// compiler folds the field reads and the format's branches (decode,
// rounding core, packing) away. The instance is picked by the format's data
// (exponent and fraction widths, bias, specials, sign; the name, width and
// container shift play no part in the arithmetic), never by its name: any
// format with those fields takes it, any other the generic path above. The
// code that runs is the generic code, rounding core included, only with the
// fields known, so it gives the generic path's codes and flags (tested:
// ArithFastPath in tests/sim/arith_test.cpp; docs/arithmetic-semantics.md,
// "The fast path").
// `name`: the Format of layout L as a constant, read from L::kFormat on the
// host and a local copy in device code (which may not odr-use host constants).
#if defined(__CUDA_ARCH__)
#define FPSIM_FAST_LAYOUT_FORMAT(name, L) constexpr Format name = L::format()
#else
#define FPSIM_FAST_LAYOUT_FORMAT(name, L) constexpr const Format& name = L::kFormat
#endif

template <uint8_t E, uint8_t M, int32_t Bias, Specials S, bool Signed>
struct FastLayout {
  FPSIM_HD static constexpr Format format() {
    return Format{"", uint8_t(E + M + (Signed ? 1 : 0)), E, M, Bias, S, Signed, 0};
  }
  // same_encoding against a constant with static storage: the compiler
  // folds its fields into the comparisons. same_encoding(format()) built the
  // Format on the stack on every call and read it back with a load wider
  // than its stores (a store-forwarding stall, a quarter of an fp16 add's
  // time in the profile, docs/arithmetic-semantics.md "The fast path").
  // Device code may not odr-use a host constant: there the Format is a local
  // copy, as before (the GPU has no store-forwarding penalty of this kind).
  static constexpr Format kFormat = format();
  FPSIM_FORCEINLINE FPSIM_HD static constexpr bool matches(const Format& f) {
#if defined(__CUDA_ARCH__)
    return f.same_encoding(format());
#else
    return f.same_encoding(kFormat);
#endif
  }
};

// The layouts of fp32, fp16, bf16, e4m3 and e5m2 (format.hpp).
using FastLayoutE8M23 = FastLayout<8, 23, 127, Specials::ieee, true>;
using FastLayoutE5M10 = FastLayout<5, 10, 15, Specials::ieee, true>;
using FastLayoutE8M7 = FastLayout<8, 7, 127, Specials::ieee, true>;
using FastLayoutE4M3Fn = FastLayout<4, 3, 7, Specials::fn, true>;
using FastLayoutE5M2 = FastLayout<5, 2, 15, Specials::ieee, true>;

// 1..5: the instance whose layout f has; 0: none (the generic path).
FPSIM_FORCEINLINE FPSIM_HD constexpr int fast_instance(const Format& f) {
  switch (f.man_bits) {
    case 23:
      return FastLayoutE8M23::matches(f) ? 1 : 0;
    case 10:
      return FastLayoutE5M10::matches(f) ? 2 : 0;
    case 7:
      return FastLayoutE8M7::matches(f) ? 3 : 0;
    case 3:
      return FastLayoutE4M3Fn::matches(f) ? 4 : 0;
    case 2:
      return FastLayoutE5M2::matches(f) ? 5 : 0;
    default:
      return 0;
  }
}

// Whether two formats have the same layout (the same-format shorthands pass
// one object three times, which the first test settles at compile time).
FPSIM_FORCEINLINE FPSIM_HD constexpr bool same_layout(const Format& x, const Format& y) {
  return &x == &y || x.same_encoding(y);
}

// The instance the operation runs in: that of `out` when every operand has
// out's layout, else 0.
FPSIM_FORCEINLINE FPSIM_HD constexpr int fast_instance(const Format& out, const Format& f1, const Format& f2,
                                                       const Format& f3) {
  const int k = fast_instance(out);
  return k != 0 && same_layout(f1, out) && same_layout(f2, out) && same_layout(f3, out) ? k : 0;
}

// Calls op.template operator()<L, Mode>() with L the layout of instance k
// (fast_instance), or with L = void for 0; Mode is rne when the spec rounds
// with rne (the mode the arithmetic runs in most), kModeAtRunTime otherwise
// and for L = void. The one place that lists the instances, shared by the
// operations below.
template <class L, class Op>
FPSIM_FORCEINLINE FPSIM_HD constexpr bool with_fast_mode(Rounding mode, const Op& op) {
  if constexpr (std::is_void_v<L>) {
    return op.template operator()<L, kModeAtRunTime>();
  } else {
    if (mode == Rounding::rne) return op.template operator()<L, int(Rounding::rne)>();
    return op.template operator()<L, kModeAtRunTime>();
  }
}
template <class Op>
FPSIM_FORCEINLINE FPSIM_HD constexpr bool with_fast_layout(int k, Rounding mode, const Op& op) {
  switch (k) {
    case 1:
      return with_fast_mode<FastLayoutE8M23>(mode, op);
    case 2:
      return with_fast_mode<FastLayoutE5M10>(mode, op);
    case 3:
      return with_fast_mode<FastLayoutE8M7>(mode, op);
    case 4:
      return with_fast_mode<FastLayoutE4M3Fn>(mode, op);
    case 5:
      return with_fast_mode<FastLayoutE5M2>(mode, op);
    default:
      return with_fast_mode<void>(mode, op);
  }
}

// What an instance returns when it declines: no code of an instance's
// layout (at most 32 bits) has all 64 bits set. Returning the code in a
// register, with six register arguments, keeps the call to the flattened
// instance free of stack traffic (docs/arithmetic-semantics.md, "The fast path").
inline constexpr uint64_t kFastDeclined = ~uint64_t{0};
FPSIM_FORCEINLINE FPSIM_HD constexpr bool accept_fast(uint64_t code, uint64_t& result) {
  if (code == kFastDeclined) return false;
  result = code;
  return true;
}
// The generic fast path's answer, returned by value (in two registers):
// passing the caller's result by reference to the out-of-line function made
// it live in memory, a store and a reload on every operation of a loop.
struct FastCode {
  uint64_t code = 0;
  bool took = false;
};
FPSIM_FORCEINLINE FPSIM_HD constexpr bool accept_fast(FastCode c, uint64_t& result) {
  if (!c.took) return false;
  result = c.code;
  return true;
}

// The operations with the layout of `out` (and for rne the mode) a
// compile-time constant where it has an instance; the generic fast path
// otherwise. Same contract as above. Each body is flattened (the decode,
// the exact result and the rounding core inlined into one function, where
// the constant fields fold) and called once per operation; the dispatch in
// front of it is inlined into the caller, where a loop over one format and
// one mode predicts it perfectly. The format is read from L::kFormat, a
// static constant, not built on the stack on every call. An instance takes
// normal operands inline (fast_add_normal, fast_fma_normal, the fixed-point
// sum of normal codes); the rest go to its _rare twin, out of line.

// The instance's operands that are not all normal (rare): the fixed-point
// sum with its full decode where the layout has one, else the generic fast
// path, with the layout's constants, out of line.
template <class L, int Mode>
FPSIM_FLATTEN FPSIM_HD constexpr uint64_t fast_add_rare(uint64_t a, uint64_t b, bool negate_b, const RoundingSpec& rs,
                                                        Flags& fl, uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  uint64_t result = 0;
  if constexpr (fixed_point_sum_fits(f))
    return fast_add_fixed_point<Mode>(a, b, negate_b, f, rs, fl, index, result) ? result : kFastDeclined;
  else
    return fast_add<Mode>(a, f, b, f, negate_b, f, rs, fl, index, result) ? result : kFastDeclined;
}
// Normal operands whose exponents lie too far apart for the double sum
// (rare): the integer window, out of line, so that its registers are not
// saved on the common path.
template <class L, int Mode>
FPSIM_FLATTEN FPSIM_HD constexpr uint64_t fast_add_far(uint64_t a, uint64_t b, bool negate_b, const RoundingSpec& rs,
                                                       Flags& fl, uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  uint64_t result = 0;
  return fast_add_normal<Mode>(a, b, negate_b, f, rs, fl, index, result) ? result : kFastDeclined;
}
// Negate: sub (a compile-time constant at every call, so add and sub are
// separate instances and neither tests it).
template <class L, int Mode, bool Negate>
FPSIM_FLATTEN FPSIM_HD constexpr uint64_t fast_add_in(uint64_t a, uint64_t b, const RoundingSpec& rs, Flags& fl,
                                                      uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  static_assert(f.bits < 64, "kFastDeclined must not be a code");
  uint64_t result = 0;
  if constexpr (fixed_point_sum_fits(f)) {
    // The screen reads the decode's shifts where the layout allows it (one
    // comparison each on a value the decode needs anyway).
    const uint64_t shift_a = fixed_point_normal_shift(a, f), shift_b = fixed_point_normal_shift(b, f);
    if constexpr (normal_by_exponent_field(f)) {
      if (!is_normal_shift(shift_a, f) || !is_normal_shift(shift_b, f))
        return fast_add_rare<L, Mode>(a, b, Negate, rs, fl, index);
    } else {
      if (!is_normal_code(a, f) || !is_normal_code(b, f)) return fast_add_rare<L, Mode>(a, b, Negate, rs, fl, index);
    }
    // The magnitudes added or subtracted as the signs say (one mask), not
    // each operand negated by its own: the sum's sign then comes from its
    // own sign bit and a's.
    const uint64_t x = fixed_point_normal_magnitude(a, shift_a, f), y = fixed_point_normal_magnitude(b, shift_b, f);
    const uint64_t sign_a = (a & f.sign_mask()) != 0 ? 1 : 0;
    const uint64_t differ = uint64_t{0} - (sign_a ^ ((b & f.sign_mask()) != 0 ? 1 : 0) ^ uint64_t{Negate});
    const int64_t sum = int64_t(x + ((y ^ differ) - differ));  // x + y or x - y; |sum| < 2^42
    return fixed_point_sum_round<Mode>(sum, sign_a != 0, f, rs, fl, index, result) ? result : kFastDeclined;
  } else {
    // Both normal: the smaller magnitude is not below the least normal, the
    // larger not a special. fast_add_normal orders them the same way (the
    // same expressions: the compiler computes them once).
    const uint64_t mag_a = a & f.magnitude_mask(), mag_b = b & f.magnitude_mask();
    const bool swap = mag_a < mag_b;
    const uint64_t mag_x = swap ? mag_b : mag_a, mag_y = swap ? mag_a : mag_b;
    if (mag_y < (uint64_t{1} << f.man_bits) || mag_x >= first_special_magnitude(f))
      return fast_add_rare<L, Mode>(a, b, Negate, rs, fl, index);
    if constexpr (float_layout(f)) {
      // The exponent gap is at most double_sum_max_gap: a larger one makes
      // the magnitudes differ by more than (max gap) * 2^M.
      if (mag_x - mag_y < uint64_t(double_sum_max_gap(f)) << f.man_bits) {
        const uint64_t b_signed = Negate ? b ^ f.sign_mask() : b;
        const double sum = float_layout_code_as_double(a, f) + float_layout_code_as_double(b_signed, f);
        return exact_double_round<Mode>(sum, f, rs, fl, index, result) ? result : kFastDeclined;
      }
      return fast_add_far<L, Mode>(a, b, Negate, rs, fl, index);
    } else {
      return fast_add_normal<Mode>(a, b, Negate, f, rs, fl, index, result) ? result : kFastDeclined;
    }
  }
}
FPSIM_FLATTEN FPSIM_HD constexpr FastCode fast_add_generic(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                           bool negate_b, const Format& out, const RoundingSpec& rs,
                                                           Flags& fl, uint64_t index) {
  FastCode answer;
  answer.took = fast_add(a, fa, b, fb, negate_b, out, rs, fl, index, answer.code);
  return answer;
}
FPSIM_FORCEINLINE FPSIM_HD constexpr bool fast_add_any(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                       bool negate_b, const Format& out, const RoundingSpec& rs,
                                                       Flags& fl, uint64_t index, uint64_t& result) {
  return with_fast_layout(fast_instance(out, fa, fb, out), rs.rounding, [&]<class L, int Mode>() FPSIM_FORCEINLINE {
    if constexpr (std::is_void_v<L>)
      return accept_fast(fast_add_generic(a, fa, b, fb, negate_b, out, rs, fl, index), result);
    else
      return accept_fast(negate_b ? fast_add_in<L, Mode, true>(a, b, rs, fl, index)
                                  : fast_add_in<L, Mode, false>(a, b, rs, fl, index),
                         result);
  });
}

template <class L, int Mode>
FPSIM_NOINLINE FPSIM_HD constexpr uint64_t fast_mul_not_normal(uint64_t a, uint64_t b, const RoundingSpec& rs,
                                                               Flags& fl, uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  uint64_t result = 0;
  return fast_mul<Mode>(a, f, b, f, f, rs, fl, index, result) ? result : kFastDeclined;
}
// a * b for normal a, b, as div below: significands x, y in [2^M, 2^(M+1))
// taken apart with the layout's constants, so p = x * y lies in [2^(2M),
// 2^(2M+2)) (exact: 2M + 2 <= 48 bits) and its leading bit is at 2M + top,
// top = p >> (2M + 1): one variable shift normalises it, no clz. a * b =
// p * 2^(ea + eb - 2 bias - 2M) = sig * 2^(exp - 63) with sig = p << (63 -
// 2M - top), so exp = ea + eb - 2 bias + top (ea, eb: the exponent fields).
// Exact, so every mode (sr included) is taken; a zero, subnormal, infinity
// or NaN operand (rare) takes fast_mul with its full decode, out of line.
template <class L, int Mode>
FPSIM_FLATTEN FPSIM_HD constexpr uint64_t fast_mul_in(uint64_t a, uint64_t b, const RoundingSpec& rs, Flags& fl,
                                                      uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  static_assert(f.bits < 64, "kFastDeclined must not be a code");
  static_assert(f.man_bits <= 23, "the product's bounds above");
  if (!is_normal_code(a, f) || !is_normal_code(b, f)) return fast_mul_not_normal<L, Mode>(a, b, rs, fl, index);
  constexpr int man = f.man_bits;
  const uint64_t x = (a & f.man_mask()) | (uint64_t{1} << man);
  const uint64_t y = (b & f.man_mask()) | (uint64_t{1} << man);
  const uint64_t p = x * y;
  const int top = int(p >> (2 * man + 1));
  const uint64_t sig = p << (63 - 2 * man - top);
  const int32_t exp =
      int32_t((a & f.magnitude_mask()) >> man) + int32_t((b & f.magnitude_mask()) >> man) - 2 * f.bias + top;
  const bool sign = ((a ^ b) & f.sign_mask()) != 0;
  return fast_round<Mode>(FastResult{sig, exp, sign, false}, f, rs, fl, index);
}
FPSIM_FLATTEN FPSIM_HD constexpr FastCode fast_mul_generic(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                           const Format& out, const RoundingSpec& rs, Flags& fl,
                                                           uint64_t index) {
  FastCode answer;
  answer.took = fast_mul(a, fa, b, fb, out, rs, fl, index, answer.code);
  return answer;
}
FPSIM_FORCEINLINE FPSIM_HD constexpr bool fast_mul_any(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                       const Format& out, const RoundingSpec& rs, Flags& fl,
                                                       uint64_t index, uint64_t& result) {
  return with_fast_layout(fast_instance(out, fa, fb, out), rs.rounding, [&]<class L, int Mode>() FPSIM_FORCEINLINE {
    if constexpr (std::is_void_v<L>)
      return accept_fast(fast_mul_generic(a, fa, b, fb, out, rs, fl, index), result);
    else
      return accept_fast(fast_mul_in<L, Mode>(a, b, rs, fl, index), result);
  });
}

// The instance's operands that are not all normal (rare): the fixed-point
// fma with its full decode where the layout has one, else the generic fast
// path, with the layout's constants, out of line.
template <class L, int Mode>
FPSIM_FLATTEN FPSIM_HD constexpr uint64_t fast_fma_rare(uint64_t a, uint64_t b, uint64_t c, const RoundingSpec& rs,
                                                        Flags& fl, uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  uint64_t result = 0;
  if constexpr (fixed_point_fma_fits(f))
    return fast_fma_fixed_point<Mode>(a, b, c, f, rs, fl, index, result) ? result : kFastDeclined;
  else
    return fast_fma<Mode>(a, f, b, f, c, f, f, rs, fl, index, result) ? result : kFastDeclined;
}
template <class L, int Mode>
FPSIM_FLATTEN FPSIM_HD constexpr uint64_t fast_fma_in(uint64_t a, uint64_t b, uint64_t c, const RoundingSpec& rs,
                                                      Flags& fl, uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  static_assert(f.bits < 64, "kFastDeclined must not be a code");
  uint64_t result = 0;
  if (!is_normal_code(a, f) || !is_normal_code(b, f) || !is_normal_code(c, f))
    return fast_fma_rare<L, Mode>(a, b, c, rs, fl, index);
  if constexpr (fixed_point_fma_fits(f))
    return fixed_point_fma_round<Mode>(fixed_point_normal(a, f), fixed_point_normal(b, f), fixed_point_normal(c, f), f,
                                       rs, fl, index, result)
               ? result
               : kFastDeclined;
  else
    return fast_fma_normal<Mode>(a, b, c, f, rs, fl, index, result) ? result : kFastDeclined;
}
FPSIM_FLATTEN FPSIM_HD constexpr FastCode fast_fma_generic(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                           uint64_t c, const Format& fc, const Format& out,
                                                           const RoundingSpec& rs, Flags& fl, uint64_t index) {
  FastCode answer;
  answer.took = fast_fma(a, fa, b, fb, c, fc, out, rs, fl, index, answer.code);
  return answer;
}
FPSIM_FORCEINLINE FPSIM_HD constexpr bool fast_fma_any(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                       uint64_t c, const Format& fc, const Format& out,
                                                       const RoundingSpec& rs, Flags& fl, uint64_t index,
                                                       uint64_t& result) {
  return with_fast_layout(fast_instance(out, fa, fb, fc), rs.rounding, [&]<class L, int Mode>() FPSIM_FORCEINLINE {
    if constexpr (std::is_void_v<L>)
      return accept_fast(fast_fma_generic(a, fa, b, fb, c, fc, out, rs, fl, index), result);
    else
      return accept_fast(fast_fma_in<L, Mode>(a, b, c, rs, fl, index), result);
  });
}

// Division and square root in an instance take normal operands apart with
// the layout's constants, as add and fma do above: the significand is the
// fraction field with the hidden bit, (mag & man_mask) | 2^M, the exponent
// the field itself, so neither operand is normalised with a clz (only a
// subnormal would need one). Whatever is not normal (is_normal_code: zeros,
// subnormals, infinities, NaNs; daz only ever concerns subnormals) goes to
// the generic fast path, which declines or normalises it.

// The quotient and the root below hand the core a "jammed" significand:
// the truncated result S has its lowest k places zero in sig, and the
// remainder, 0 <= rem < u = 2^k in those units, is or-ed into them, with
// r.sticky false. S + rem is not the exact value (for the quotient S + rem
// / y * u), but both lie in [S, S + u), both at S when rem = 0 (exact) and
// both strictly inside otherwise; every place the core compares at (the
// half ulp of a result, normal or subnormal, and of the tininess-after
// step, all >= u because the result keeps >= p + 1 bits above those k
// places) is a multiple of u, so none lies strictly inside (S, S + u), and
// the two round alike, inexact alike: FastResult's window argument with the
// remainder in the window. sr reads the exact fraction and is declined
// before. (Results below the normal range take fast_round's out-of-line
// call, the tail call of every instance.)
FPSIM_FLATTEN FPSIM_HD constexpr FastCode fast_div_generic(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                           const Format& out, const RoundingSpec& rs, Flags& fl,
                                                           uint64_t index) {
  FastCode answer;
  answer.took = fast_div(a, fa, b, fb, out, rs, fl, index, answer.code);
  return answer;
}
// Not a finite normal operand: the generic fast path (out of line, rare).
template <class L>
FPSIM_NOINLINE FPSIM_HD constexpr uint64_t fast_div_not_normal(uint64_t a, uint64_t b, const RoundingSpec& rs,
                                                               Flags& fl, uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  const FastCode c = fast_div_generic(a, f, b, f, f, rs, fl, index);
  return c.took ? c.code : kFastDeclined;
}

// 64/32-bit division whose quotient fits 32 bits (n >> 32 < d): x86's
// divl, where a uint64_t division compiles to the 64-bit divq. Before Ice
// Lake, Intel's divq takes some 35-90 cycles (reciprocal throughput 20-80)
// against divl's 26 (6) (Agner Fog's tables, Skylake); from Ice Lake on both
// take some 12-15. On the AVX512-FP16 Xeon the benchmarks run on (Sapphire
// Rapids or later) fp32 div measured the same with either, within the
// machine's noise: divl costs nothing there and saves much on older cores.
// A division whose quotient fits the narrow type (n >> width(Narrow) < d):
// one x86 divl / divq where a plain division of the wide type would compile
// to the next wider instruction (divq, or a call for u128). Also
// divide_128_by_64 in arith.hpp.
template <class Narrow, class Wide>
FPSIM_FORCEINLINE FPSIM_HD constexpr Narrow divide_double_width(Wide n, Narrow d, Narrow& remainder) {
  static_assert(sizeof(Wide) == 2 * sizeof(Narrow) && (sizeof(Narrow) == 4 || sizeof(Narrow) == 8));
#if defined(__x86_64__) && !defined(__CUDA_ARCH__)
  if (!__builtin_is_constant_evaluated()) {
    Narrow q = 0, r = 0;
    constexpr int width = int(sizeof(Narrow)) * 8;
    if constexpr (sizeof(Narrow) == 4)
      __asm__("divl %4" : "=a"(q), "=d"(r) : "a"(Narrow(n)), "d"(Narrow(n >> width)), "r"(d));
    else
      __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(Narrow(n)), "d"(Narrow(n >> width)), "r"(d));
    remainder = r;
    return q;
  }
#endif
  remainder = Narrow(n % d);
  return Narrow(n / d);
}
FPSIM_FORCEINLINE FPSIM_HD constexpr uint32_t divide_64_by_32(uint64_t n, uint32_t d, uint32_t& remainder) {
  return divide_double_width(n, d, remainder);
}

// a / b for normal a, b: significands x, y in [2^M, 2^(M+1)). The
// numerator x * 2^(s + lt), lt = (x < y), puts x / y * 2^(s + lt) in
// [2^s, 2^(s+1)), so the quotient q has s + 1 bits, its leading bit at s
// whichever operand is larger (no clz), and a / b = (q + rem / y) * 2^(ea -
// eb - lt - s) with rem the remainder. s >= M + 1 gives q >= p + 1 = M + 2
// bits (a result's p bits and a round bit), and rem < y < 2^(M+1) <= 2^(63 -
// s) fits the zero places below q in sig (jammed, above). Both
// divisions are 32-bit: for M <= 14, s = 30 - M keeps the numerator x *
// 2^(s + lt) below 2^(M+2+s) = 2^32; else (fp32) s = 31 keeps the quotient
// below 2^32 for the 64/32 division (numerator < 2^(M+1+s+1) = 2^56).
template <class L, int Mode>
FPSIM_FLATTEN FPSIM_HD constexpr uint64_t fast_div_in(uint64_t a, uint64_t b, const RoundingSpec& rs, Flags& fl,
                                                      uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  static_assert(f.bits < 64, "kFastDeclined must not be a code");
  static_assert(f.man_bits <= 23, "the quotient's bounds below");
  if (mode_of<Mode>(rs) == Rounding::sr) return kFastDeclined;  // as fast_div
  constexpr int man = f.man_bits;
  const uint64_t mag_a = a & f.magnitude_mask(), mag_b = b & f.magnitude_mask();
  if (!is_normal_code(a, f) || !is_normal_code(b, f)) return fast_div_not_normal<L>(a, b, rs, fl, index);
  const uint32_t x = uint32_t((mag_a & f.man_mask()) | (uint64_t{1} << man));
  const uint32_t y = uint32_t((mag_b & f.man_mask()) | (uint64_t{1} << man));
  const int lt = x < y ? 1 : 0;
  constexpr int s = man <= 14 ? 30 - man : 31;
  static_assert(s >= man + 1 && man + 1 <= 63 - s, "q keeps p + 1 bits, rem fits below it in sig");
  uint32_t q = 0, rem = 0;
  if constexpr (man <= 14) {
    const uint32_t n = x << (s + lt);
    q = n / y;
    rem = n % y;
  } else {
    q = divide_64_by_32(uint64_t{x} << (s + lt), y, rem);
  }
  const uint64_t sig = (uint64_t{q} << (63 - s)) | rem;
  // a = x * 2^(ea - bias - M), b likewise: a / b = q' * 2^(ea - eb - lt - s)
  // with q' = q + rem / y in [2^s, 2^(s+1)); sig * 2^(exp - 63) = q' * 2^(exp - s),
  // so exp = ea - eb - lt: the difference of the magnitudes, floor-divided
  // by 2^M (an arithmetic shift), since their fraction fields differ by
  // less than 2^M and are negative exactly when lt.
  const int32_t exp = int32_t(int64_t(mag_a - mag_b) >> man);
  const bool sign = ((a ^ b) & f.sign_mask()) != 0;
  return fast_round<Mode>(FastResult{sig, exp, sign, false}, f, rs, fl, index);
}
FPSIM_FORCEINLINE FPSIM_HD constexpr bool fast_div_any(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                       const Format& out, const RoundingSpec& rs, Flags& fl,
                                                       uint64_t index, uint64_t& result) {
  return with_fast_layout(fast_instance(out, fa, fb, out), rs.rounding, [&]<class L, int Mode>() FPSIM_FORCEINLINE {
    if constexpr (std::is_void_v<L>)
      return accept_fast(fast_div_generic(a, fa, b, fb, out, rs, fl, index), result);
    else
      return accept_fast(fast_div_in<L, Mode>(a, b, rs, fl, index), result);
  });
}

FPSIM_FLATTEN FPSIM_HD inline FastCode fast_sqrt_generic(uint64_t a, const Format& fa, const Format& out,
                                                         const RoundingSpec& rs, Flags& fl, uint64_t index) {
  FastCode answer;
  answer.took = fast_sqrt(a, fa, out, rs, fl, index, answer.code);
  return answer;
}
template <class L>
FPSIM_NOINLINE FPSIM_HD inline uint64_t fast_sqrt_not_normal(uint64_t a, const RoundingSpec& rs, Flags& fl,
                                                             uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  const FastCode c = fast_sqrt_generic(a, f, f, rs, fl, index);
  return c.took ? c.code : kFastDeclined;
}

// The correctly rounded square root of a double v >= 0. On x86-64 one
// sqrtsd: ::sqrt there also tests v < 0 to set errno (a compare and a branch
// per call, since the compiler does not know v's sign).
FPSIM_FORCEINLINE FPSIM_HD inline double sqrt_of_nonnegative(double v) {
#if defined(__x86_64__) && !defined(__CUDA_ARCH__)
  __asm__("sqrtsd %0, %0" : "+x"(v));
  return v;
#else
  return ::sqrt(v);
#endif
}

// sqrt(a) for a normal a > 0, significand x in [2^M, 2^(M+1)), exponent e =
// ea - bias: a = n * 2^(e - odd - 48), n = x * 2^(48 - M + odd) in [2^48,
// 2^50), odd = e & 1 making the power even, so sqrt(a) = sqrt(n) *
// 2^((e - odd) / 2 - 24) with sqrt(n) in [2^24, 2^25): 25 bits = p + 1 for
// fp32 (fewer formats need fewer), the remainder n - r^2 <= 2r < 2^26 jammed
// into the 39 zero places below r in sig (jammed, above).
// n < 2^53 is a double exactly, and double's root of it, rounded in any
// host mode, truncates to r = floor(sqrt(n)) with no correction step: r is
// a double, so no rounding of sqrt(n) >= r goes below it; and for n not a
// square, r + 1 - sqrt(n) = ((r + 1)^2 - n) / (r + 1 + sqrt(n)) >= 2^-26,
// more than the double spacing there (2^-28), so no rounding reaches r + 1.
// The result is never tiny (sqrt halves the exponent).
template <class L, int Mode>
FPSIM_FLATTEN FPSIM_HD inline uint64_t fast_sqrt_in(uint64_t a, const RoundingSpec& rs, Flags& fl, uint64_t index) {
  FPSIM_FAST_LAYOUT_FORMAT(f, L);
  static_assert(f.bits < 64, "kFastDeclined must not be a code");
  static_assert(f.man_bits <= 23, "n's bounds below");
  if (mode_of<Mode>(rs) == Rounding::sr) return kFastDeclined;  // as fast_sqrt
  constexpr int man = f.man_bits;
  // is_normal_code on the code with its sign bit, which lies above the
  // magnitude: a negative code is no normal magnitude, so one comparison
  // sends it to the generic path as well.
  const uint64_t mag = a & (f.sign_mask() | f.magnitude_mask());
  constexpr uint64_t min_normal = uint64_t{1} << man;
  if (mag - min_normal >= first_special_magnitude(f) - min_normal) return fast_sqrt_not_normal<L>(a, rs, fl, index);
  const uint64_t x = (mag & f.man_mask()) | (uint64_t{1} << man);
  const int32_t e = int32_t(mag >> man) - f.bias;
  const int odd = e & 1;
  const uint64_t n = x << (48 - man + odd);
  const uint64_t root = uint64_t(int64_t(sqrt_of_nonnegative(double(int64_t(n)))));  // < 2^25: int64 conversions
  // sig * 2^(exp - 63) = root * 2^(exp - 24): exp = (e - odd) / 2, an exact
  // halving (the arithmetic shift of an even number).
  const uint64_t sig = (root << 39) | (n - root * root);
  return fast_round<Mode>(FastResult{sig, e >> 1, false, false}, f, rs, fl, index);
}
FPSIM_FORCEINLINE FPSIM_HD inline bool fast_sqrt_any(uint64_t a, const Format& fa, const Format& out,
                                                     const RoundingSpec& rs, Flags& fl, uint64_t index,
                                                     uint64_t& result) {
  return with_fast_layout(fast_instance(out, fa, out, out), rs.rounding, [&]<class L, int Mode>() FPSIM_FORCEINLINE {
    if constexpr (std::is_void_v<L>)
      return accept_fast(fast_sqrt_generic(a, fa, out, rs, fl, index), result);
    else
      return accept_fast(fast_sqrt_in<L, Mode>(a, rs, fl, index), result);
  });
}

}  // namespace detail
}  // namespace fpsim
