// Correctly rounded arithmetic in every format (docs/architecture.md, "Arithmetic";
// docs/formats.md §3): add, sub, mul, fma, div, sqrt, the IEEE 754
// comparisons and minimum/maximum(Number). Each operation decodes its
// operands exactly, forms the exact result on integer significands (sign,
// unbounded exponent, 128-bit significand + sticky) and hands it to the one
// rounding core, once. Operands may be of different formats and the result
// format is separate (an fma with fp16 factors and an fp32 addend, the shape
// of a tensor-core step, is still rounded once). The special-value, zero-sign
// and flag decisions are written out in docs/arithmetic-semantics.md.
#pragma once

#include <cmath>
#include <cstdint>

#include "fpsim/arith_fast.hpp"
#include "fpsim/config.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/flags.hpp"
#include "fpsim/format.hpp"
#include "fpsim/round.hpp"
#include "fpsim/rounding_spec.hpp"
#include "fpsim/unpacked.hpp"

namespace fpsim {

enum class ArithOp : uint8_t { add, sub, mul, div, fma, sqrt };

FPSIM_HD constexpr int arity(ArithOp op) {
  return op == ArithOp::fma ? 3 : op == ArithOp::sqrt ? 1 : 2;
}

namespace detail {

// ---- exact intermediates on integer significands --------------------------

FPSIM_HD constexpr Unpacked default_nan() {
  Unpacked u;
  u.cls = ValueClass::quiet_nan;  // positive quiet: the default NaN of §7
  return u;
}

FPSIM_HD constexpr Unpacked signed_special(ValueClass cls, bool sign) {
  Unpacked u;
  u.cls = cls;
  u.sign = sign;
  return u;
}

FPSIM_HD constexpr bool is_signaling(const Unpacked& u) { return u.cls == ValueClass::signaling_nan; }

// True when an operand is a NaN, so the result is the default NaN; raises
// invalid when one of them is signaling (IEEE 754-2019 §6.2, §7.2).
FPSIM_HD constexpr bool nan_operand(const Unpacked& x, const Unpacked& y, Flags& fl) {
  if (!x.is_nan() && !y.is_nan()) return false;
  if (is_signaling(x) || is_signaling(y)) fl.raise(Flags::invalid);
  return true;
}

FPSIM_HD constexpr int count_leading_zeros_128(u128 v) { return 128 - bit_length(v); }

// A 256-bit unsigned integer as two halves; the arithmetic below is just
// what alignment needs.
struct Wide {
  u128 hi = 0;
  u128 lo = 0;
};

// w >> n, folding every bit shifted out into `sticky`.
FPSIM_HD constexpr Wide shift_right_sticky(Wide w, int n, bool& sticky) {
  if (n <= 0) return w;
  if (n >= 256) {
    sticky = sticky || w.hi != 0 || w.lo != 0;
    return {};
  }
  if (n >= 128) {
    const int k = n - 128;
    sticky = sticky || w.lo != 0 || (k > 0 && (w.hi << (128 - k)) != 0);
    return {0, k == 0 ? w.hi : w.hi >> k};
  }
  sticky = sticky || (w.lo << (128 - n)) != 0;
  return {w.hi >> n, (w.lo >> n) | (w.hi << (128 - n))};
}

FPSIM_HD constexpr Wide wide_add(Wide a, Wide b) {
  const u128 lo = a.lo + b.lo;
  return {a.hi + b.hi + (lo < a.lo ? 1 : 0), lo};
}

FPSIM_HD constexpr Wide wide_sub(Wide a, Wide b) {
  const u128 lo = a.lo - b.lo;
  return {a.hi - b.hi - (a.lo < b.lo ? 1 : 0), lo};
}

// A non-zero 256-bit magnitude whose bit 255 stands for 2^top_exp, plus the
// sticky tail below it, as an Unpacked (leading bit at 127; the rest sticky).
FPSIM_HD constexpr Unpacked normalize_wide(bool sign, Wide w, int32_t top_exp, bool sticky) {
  if (w.hi == 0) {
    w = {w.lo, 0};
    top_exp -= 128;
  }
  const int lz = count_leading_zeros_128(w.hi);
  Unpacked u;
  u.sign = sign;
  u.cls = ValueClass::finite;
  u.exp = top_exp - lz;
  u.sig = lz == 0 ? w.hi : (w.hi << lz) | (w.lo >> (128 - lz));
  const u128 rest = lz == 0 ? w.lo : w.lo << lz;
  u.sticky = sticky || rest != 0;
  return u;
}

// The exact sum of two finite non-zero exact values (no sticky tails: every
// code, and every product of two codes, is exact). Alignment happens in a 256-bit window with one bit of headroom:
// the larger operand's significand fills the top, the smaller one is shifted
// right by the exponent gap and whatever leaves the window becomes sticky.
// With a sticky tail an effective subtraction borrows one unit of the
// window's last place, so the window value stays a strict lower bound of the
// true magnitude and the sticky bit marks the (non-zero) remainder. Massive
// cancellation only happens for gaps <= 1, where nothing was shifted out.
// A zero result is exact; its sign follows IEEE 754 §6.3.
FPSIM_HD constexpr Unpacked exact_sum_finite(Unpacked x, Unpacked y, Rounding mode) {
  if (y.exp > x.exp || (y.exp == x.exp && y.sig > x.sig)) {
    const Unpacked t = x;
    x = y;
    y = t;
  }
  const bool subtract = x.sign != y.sign;
  bool sticky = false;
  const Wide a = shift_right_sticky(Wide{x.sig, 0}, 1, sticky);  // headroom: never drops a bit
  const Wide b = shift_right_sticky(Wide{y.sig, 0}, 1 + (x.exp - y.exp), sticky);
  Wide r{};
  if (!subtract) {
    r = wide_add(a, b);
  } else {
    r = wide_sub(a, b);
    if (sticky) r = wide_sub(r, Wide{0, 1});
  }
  if (r.hi == 0 && r.lo == 0 && !sticky) {
    Unpacked z;
    z.cls = ValueClass::zero;
    z.sign = mode == Rounding::rdn;
    return z;
  }
  return normalize_wide(x.sign, r, x.exp + 1, sticky);
}

// x + y for any classes (the operands already negated for a subtraction).
FPSIM_HD constexpr Unpacked exact_sum(const Unpacked& x, const Unpacked& y, Rounding mode, Flags& fl) {
  if (nan_operand(x, y, fl)) return default_nan();
  if (x.cls == ValueClass::inf) {
    if (y.cls == ValueClass::inf && y.sign != x.sign) {
      fl.raise(Flags::invalid);
      return default_nan();
    }
    return x;
  }
  if (y.cls == ValueClass::inf) return y;
  if (x.cls == ValueClass::zero && y.cls == ValueClass::zero) {
    Unpacked z;
    z.cls = ValueClass::zero;
    z.sign = x.sign == y.sign ? x.sign : mode == Rounding::rdn;
    return z;
  }
  if (x.cls == ValueClass::zero) return y;
  if (y.cls == ValueClass::zero) return x;
  return exact_sum_finite(x, y, mode);
}

// The exact 256-bit product of two finite significands, as an Unpacked
// (exact when each significand has at most 64 significant bits, as every
// code of every format does; a wider operand's low bits reach sticky).
FPSIM_HD constexpr Unpacked exact_product_finite(const Unpacked& x, const Unpacked& y) {
  const uint64_t a1 = uint64_t(x.sig >> 64), a0 = uint64_t(x.sig);
  const uint64_t b1 = uint64_t(y.sig >> 64), b0 = uint64_t(y.sig);
  Wide p{u128{a1} * b1, 0};
  if (a0 != 0 || b0 != 0) {
    const u128 cross1 = u128{a1} * b0, cross0 = u128{a0} * b1;
    p = wide_add(p, Wide{cross1 >> 64, cross1 << 64});
    p = wide_add(p, Wide{cross0 >> 64, cross0 << 64});
    p = wide_add(p, Wide{0, u128{a0} * b0});
  }
  // x.sig * y.sig < 2^256 has its leading bit at 254 or 255; bit 255 stands
  // for 2^(x.exp + y.exp + 1).
  return normalize_wide(x.sign != y.sign, p, x.exp + y.exp + 1, x.sticky || y.sticky);
}

FPSIM_HD constexpr Unpacked exact_product(const Unpacked& x, const Unpacked& y, Flags& fl) {
  if (nan_operand(x, y, fl)) return default_nan();
  const bool sign = x.sign != y.sign;
  const bool x_inf = x.cls == ValueClass::inf, y_inf = y.cls == ValueClass::inf;
  const bool x_zero = x.cls == ValueClass::zero, y_zero = y.cls == ValueClass::zero;
  if ((x_inf && y_zero) || (x_zero && y_inf)) {
    fl.raise(Flags::invalid);
    return default_nan();
  }
  if (x_inf || y_inf) return signed_special(ValueClass::inf, sign);
  if (x_zero || y_zero) return signed_special(ValueClass::zero, sign);
  return exact_product_finite(x, y);
}

// a * b + c with one rounding. Invalid for 0 * inf even when c is a quiet
// NaN, as SoftFloat (and so TestFloat) decides; any signaling operand
// raises invalid.
FPSIM_HD constexpr Unpacked exact_fma(const Unpacked& a, const Unpacked& b, const Unpacked& c, Rounding mode,
                                      Flags& fl) {
  const bool any_signaling = is_signaling(a) || is_signaling(b) || is_signaling(c);
  const bool zero_times_inf = (a.cls == ValueClass::zero && b.cls == ValueClass::inf) ||
                              (a.cls == ValueClass::inf && b.cls == ValueClass::zero);
  if (a.is_nan() || b.is_nan() || c.is_nan() || zero_times_inf) {
    if (any_signaling || zero_times_inf) fl.raise(Flags::invalid);
    return default_nan();
  }
  return exact_sum(exact_product(a, b, fl), c, mode, fl);
}

// 128/64-bit division whose quotient fits 64 bits (n >> 64 < d).
FPSIM_HD constexpr uint64_t divide_128_by_64(u128 n, uint64_t d, uint64_t& remainder) {
  return divide_double_width(n, d, remainder);
}

// x / y for finite non-zero values. The top 64 bits of each significand are
// the whole significand for every format (<= 64 significant bits). A first
// 128/64 division gives 64 quotient bits (>= p + 2 for every format: enough,
// with the remainder as sticky, for every deterministic mode); stochastic
// rounding takes 64 more so that f is known to 128 - p bits.
FPSIM_HD constexpr Unpacked exact_quotient_finite(const Unpacked& x, const Unpacked& y, bool more_bits) {
  const uint64_t a = uint64_t(x.sig >> 64), b = uint64_t(y.sig >> 64);
  // Numerator a * 2^64 (or a * 2^63 when a >= b) keeps the quotient in
  // [2^63, 2^64): its leading bit is bit 63.
  const bool a_ge_b = a >= b;
  const u128 n = u128{a} << (a_ge_b ? 63 : 64);
  uint64_t rem = 0;
  const uint64_t q = divide_128_by_64(n, b, rem);
  u128 sig = u128{q} << 64;
  if (more_bits && rem != 0) sig |= divide_128_by_64(u128{rem} << 64, b, rem);
  Unpacked u;
  u.sign = x.sign != y.sign;
  u.cls = ValueClass::finite;
  // x / y = q * 2^-64 (or 2^-63) * 2^(x.exp - y.exp); Unpacked's leading bit
  // is the 2^exp place.
  u.exp = x.exp - y.exp - (a_ge_b ? 0 : 1);
  u.sig = sig;
  u.sticky = rem != 0 || uint64_t(x.sig) != 0 || uint64_t(y.sig) != 0;
  return u;
}

FPSIM_HD constexpr Unpacked exact_quotient(const Unpacked& x, const Unpacked& y, bool more_bits, Flags& fl) {
  if (nan_operand(x, y, fl)) return default_nan();
  const bool sign = x.sign != y.sign;
  const bool x_inf = x.cls == ValueClass::inf, y_inf = y.cls == ValueClass::inf;
  const bool x_zero = x.cls == ValueClass::zero, y_zero = y.cls == ValueClass::zero;
  if ((x_inf && y_inf) || (x_zero && y_zero)) {
    fl.raise(Flags::invalid);
    return default_nan();
  }
  if (x_inf) return signed_special(ValueClass::inf, sign);
  if (y_inf || x_zero) return signed_special(ValueClass::zero, sign);
  if (y_zero) {
    fl.raise(Flags::infinite);
    return signed_special(ValueClass::inf, sign);
  }
  return exact_quotient_finite(x, y, more_bits);
}

// floor(sqrt(n)) for n in [2^126, 2^128): a 64-bit root. The double
// estimate is only a starting point: one Newton step in integers brings it
// within one, and the final value is established by exact integer
// comparisons (r^2 <= n < (r+1)^2), so no float rounding can leak in.
FPSIM_HD inline uint64_t integer_sqrt_128(u128 n) {
  const double estimate = ::sqrt(double(n));
  uint64_t r = estimate >= 18446744073709551615.0 ? ~uint64_t{0} : uint64_t(estimate);
  if (r < (uint64_t{1} << 63)) r = uint64_t{1} << 63;
  // Newton: (r + n / r) / 2, in 128 bits (n / r may exceed 2^64).
  const u128 next = (u128{r} + n / r) >> 1;
  r = next >> 64 ? ~uint64_t{0} : uint64_t(next);
  while (u128{r} * r > n) --r;
  while (r != ~uint64_t{0} && u128{r + 1} * (r + 1) <= n) ++r;
  return r;
}

// sqrt(x) for finite x > 0. The operand becomes an integer n in [2^126,
// 2^128) times an even power of two; the 64-bit integer root plus the
// remainder as sticky is enough for every deterministic mode. Stochastic
// rounding extends the root by 56 bits with the restoring (digit-by-digit)
// recurrence, so f is known to 120 - p bits.
FPSIM_HD inline Unpacked exact_sqrt_finite(const Unpacked& x, bool more_bits) {
  const uint64_t a = uint64_t(x.sig >> 64);  // x = a * 2^(x.exp - 63)
  // Pick n = a * 2^64 or a * 2^63 so that x = n * 2^(2k) exactly.
  const bool odd = ((int64_t{x.exp} - 127) & 1) != 0;
  const u128 n = u128{a} << (odd ? 63 : 64);
  const int32_t k2 = odd ? x.exp - 126 : x.exp - 127;  // even
  const uint64_t r = integer_sqrt_128(n);
  u128 root = r;
  u128 rem = n - u128{r} * r;  // <= 2r < 2^65
  int extra = 0;
  if (more_bits && rem != 0) {
    for (; extra < 56; ++extra) {
      rem <<= 2;
      const u128 trial = (root << 2) | 1;
      if (rem >= trial) {
        rem -= trial;
        root = (root << 1) | 1;
      } else {
        root <<= 1;
      }
    }
  }
  Unpacked u;
  u.cls = ValueClass::finite;
  // root = sqrt(n) * 2^extra truncated; its leading bit is bit 63 + extra,
  // worth 2^(63 + k2/2) in the result.
  u.exp = 63 + k2 / 2;
  u.sig = root << (64 - extra);
  u.sticky = rem != 0 || uint64_t(x.sig) != 0;
  return u;
}

FPSIM_HD inline Unpacked exact_sqrt(const Unpacked& x, bool more_bits, Flags& fl) {
  if (x.is_nan()) {
    if (is_signaling(x)) fl.raise(Flags::invalid);
    return default_nan();
  }
  if (x.cls == ValueClass::zero) return x;  // sqrt(-0) = -0
  if (x.sign) {
    fl.raise(Flags::invalid);
    return default_nan();
  }
  if (x.cls == ValueClass::inf) return x;
  return exact_sqrt_finite(x, more_bits);
}

// -1, 0, +1 for ordered values (zeros equal whatever their signs).
FPSIM_HD constexpr int compare_ordered(const Unpacked& x, const Unpacked& y) {
  const bool x_zero = x.cls == ValueClass::zero, y_zero = y.cls == ValueClass::zero;
  if (x_zero && y_zero) return 0;
  // Signs (a zero counts as neither).
  const int sx = x_zero ? 0 : (x.sign ? -1 : 1);
  const int sy = y_zero ? 0 : (y.sign ? -1 : 1);
  if (sx != sy) return sx < sy ? -1 : 1;
  // Same sign, both non-zero: compare magnitudes, then apply the sign.
  int mag = 0;
  const bool x_inf = x.cls == ValueClass::inf, y_inf = y.cls == ValueClass::inf;
  if (x_inf || y_inf) {
    mag = x_inf == y_inf ? 0 : (x_inf ? 1 : -1);
  } else if (x.exp != y.exp) {
    mag = x.exp < y.exp ? -1 : 1;
  } else if (x.sig != y.sig) {
    mag = x.sig < y.sig ? -1 : 1;
  } else if (x.sticky != y.sticky) {
    mag = x.sticky ? 1 : -1;
  }
  return sx < 0 ? -mag : mag;
}

}  // namespace detail

namespace detail {

// ---- the definition on codes ------------------------------------------------
// Decode exactly, form the exact result, round once. The public operations
// below try the fast path (arith_fast.hpp) first and come here for whatever
// it declines (out of line: the rare case should not crowd the common one);
// these stay callable so that tests can hold the two together.

FPSIM_NOINLINE FPSIM_HD constexpr uint64_t general_add(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                       const Format& out, const RoundingSpec& rs, Flags& fl,
                                                       uint64_t index = 0) {
  const Unpacked x = unpack_input(a, fa, rs, fl), y = unpack_input(b, fb, rs, fl);
  return round(exact_sum(x, y, rs.rounding, fl), out, rs, fl, index);
}

FPSIM_NOINLINE FPSIM_HD constexpr uint64_t general_sub(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                       const Format& out, const RoundingSpec& rs, Flags& fl,
                                                       uint64_t index = 0) {
  const Unpacked x = unpack_input(a, fa, rs, fl);
  Unpacked y = unpack_input(b, fb, rs, fl);
  y.sign = !y.sign;
  return round(exact_sum(x, y, rs.rounding, fl), out, rs, fl, index);
}

FPSIM_NOINLINE FPSIM_HD constexpr uint64_t general_mul(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                       const Format& out, const RoundingSpec& rs, Flags& fl,
                                                       uint64_t index = 0) {
  const Unpacked x = unpack_input(a, fa, rs, fl), y = unpack_input(b, fb, rs, fl);
  return round(exact_product(x, y, fl), out, rs, fl, index);
}

FPSIM_NOINLINE FPSIM_HD constexpr uint64_t general_div(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                       const Format& out, const RoundingSpec& rs, Flags& fl,
                                                       uint64_t index = 0) {
  const Unpacked x = unpack_input(a, fa, rs, fl), y = unpack_input(b, fb, rs, fl);
  return round(exact_quotient(x, y, rs.rounding == Rounding::sr, fl), out, rs, fl, index);
}

FPSIM_NOINLINE FPSIM_HD constexpr uint64_t general_fma(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                       uint64_t c, const Format& fc, const Format& out,
                                                       const RoundingSpec& rs, Flags& fl, uint64_t index = 0) {
  const Unpacked x = unpack_input(a, fa, rs, fl), y = unpack_input(b, fb, rs, fl);
  const Unpacked z = unpack_input(c, fc, rs, fl);
  return round(exact_fma(x, y, z, rs.rounding, fl), out, rs, fl, index);
}

FPSIM_NOINLINE FPSIM_HD inline uint64_t general_sqrt(uint64_t a, const Format& fa, const Format& out,
                                                     const RoundingSpec& rs, Flags& fl, uint64_t index = 0) {
  const Unpacked x = unpack_input(a, fa, rs, fl);
  return round(exact_sqrt(x, rs.rounding == Rounding::sr, fl), out, rs, fl, index);
}

}  // namespace detail

// ---- operations on codes ---------------------------------------------------
// Each takes its operands' codes and formats, the result format, the
// rounding spec and the flags to raise; `index` is the element index that
// keys stochastic rounding (docs/formats.md §2). The fast path and the
// definition give the same codes and flags (docs/arithmetic-semantics.md).

FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t add(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                  const Format& out, const RoundingSpec& rs, Flags& fl,
                                                  uint64_t index = 0) {
  uint64_t r = 0;
  if (detail::fast_add_any(a, fa, b, fb, false, out, rs, fl, index, r)) return r;
  return detail::general_add(a, fa, b, fb, out, rs, fl, index);
}

FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t sub(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                  const Format& out, const RoundingSpec& rs, Flags& fl,
                                                  uint64_t index = 0) {
  uint64_t r = 0;
  if (detail::fast_add_any(a, fa, b, fb, true, out, rs, fl, index, r)) return r;
  return detail::general_sub(a, fa, b, fb, out, rs, fl, index);
}

FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t mul(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                  const Format& out, const RoundingSpec& rs, Flags& fl,
                                                  uint64_t index = 0) {
  uint64_t r = 0;
  if (detail::fast_mul_any(a, fa, b, fb, out, rs, fl, index, r)) return r;
  return detail::general_mul(a, fa, b, fb, out, rs, fl, index);
}

FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t div(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                  const Format& out, const RoundingSpec& rs, Flags& fl,
                                                  uint64_t index = 0) {
  uint64_t r = 0;
  if (detail::fast_div_any(a, fa, b, fb, out, rs, fl, index, r)) return r;
  return detail::general_div(a, fa, b, fb, out, rs, fl, index);
}

// a * b + c, rounded once.
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t fma(uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                                  uint64_t c, const Format& fc, const Format& out,
                                                  const RoundingSpec& rs, Flags& fl, uint64_t index = 0) {
  uint64_t r = 0;
  if (detail::fast_fma_any(a, fa, b, fb, c, fc, out, rs, fl, index, r)) return r;
  return detail::general_fma(a, fa, b, fb, c, fc, out, rs, fl, index);
}

FPSIM_FORCEINLINE FPSIM_HD inline uint64_t sqrt(uint64_t a, const Format& fa, const Format& out, const RoundingSpec& rs,
                                                Flags& fl, uint64_t index = 0) {
  uint64_t r = 0;
  if (detail::fast_sqrt_any(a, fa, out, rs, fl, index, r)) return r;
  return detail::general_sqrt(a, fa, out, rs, fl, index);
}

// Same-format shorthands: operands and result in f.
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t add(uint64_t a, uint64_t b, const Format& f, const RoundingSpec& rs,
                                                  Flags& fl, uint64_t index = 0) {
  return add(a, f, b, f, f, rs, fl, index);
}
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t sub(uint64_t a, uint64_t b, const Format& f, const RoundingSpec& rs,
                                                  Flags& fl, uint64_t index = 0) {
  return sub(a, f, b, f, f, rs, fl, index);
}
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t mul(uint64_t a, uint64_t b, const Format& f, const RoundingSpec& rs,
                                                  Flags& fl, uint64_t index = 0) {
  return mul(a, f, b, f, f, rs, fl, index);
}
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t div(uint64_t a, uint64_t b, const Format& f, const RoundingSpec& rs,
                                                  Flags& fl, uint64_t index = 0) {
  return div(a, f, b, f, f, rs, fl, index);
}
FPSIM_FORCEINLINE FPSIM_HD constexpr uint64_t fma(uint64_t a, uint64_t b, uint64_t c, const Format& f,
                                                  const RoundingSpec& rs, Flags& fl, uint64_t index = 0) {
  return fma(a, f, b, f, c, f, f, rs, fl, index);
}
FPSIM_FORCEINLINE FPSIM_HD inline uint64_t sqrt(uint64_t a, const Format& f, const RoundingSpec& rs, Flags& fl,
                                                uint64_t index = 0) {
  return sqrt(a, f, f, rs, fl, index);
}

// One of the six operations on operands of one format; b and c are ignored
// where the operation takes fewer operands.
FPSIM_HD inline uint64_t arith(ArithOp op, uint64_t a, uint64_t b, uint64_t c, const Format& f, const Format& out,
                               const RoundingSpec& rs, Flags& fl, uint64_t index = 0) {
  switch (op) {
    case ArithOp::add:
      return add(a, f, b, f, out, rs, fl, index);
    case ArithOp::sub:
      return sub(a, f, b, f, out, rs, fl, index);
    case ArithOp::mul:
      return mul(a, f, b, f, out, rs, fl, index);
    case ArithOp::div:
      return div(a, f, b, f, out, rs, fl, index);
    case ArithOp::fma:
      return fma(a, f, b, f, c, f, out, rs, fl, index);
    case ArithOp::sqrt:
      return sqrt(a, f, out, rs, fl, index);
  }
  return 0;
}

// ---- comparisons (IEEE 754-2019 §5.11) ------------------------------------

enum class Comparison : uint8_t { eq, lt, le, unordered };

// Quiet predicates raise invalid only for a signaling NaN operand; signaling
// ones for any NaN. -0 == +0; NaN is unordered with everything. rs.daz
// applies to the operands.
FPSIM_HD constexpr bool compare(Comparison c, bool signaling, uint64_t a, const Format& fa, uint64_t b,
                                const Format& fb, const RoundingSpec& rs, Flags& fl) {
  const Unpacked x = unpack_input(a, fa, rs, fl), y = unpack_input(b, fb, rs, fl);
  if (x.is_nan() || y.is_nan()) {
    if (signaling || detail::is_signaling(x) || detail::is_signaling(y)) fl.raise(Flags::invalid);
    return c == Comparison::unordered;
  }
  const int order = detail::compare_ordered(x, y);
  switch (c) {
    case Comparison::eq:
      return order == 0;
    case Comparison::lt:
      return order < 0;
    case Comparison::le:
      return order <= 0;
    case Comparison::unordered:
      return false;
  }
  return false;
}

// ---- minimum / maximum (IEEE 754-2019 §9.6) --------------------------------

enum class MinMax : uint8_t { minimum, maximum, minimum_number, maximum_number };

// minimum/maximum propagate NaN; the *_number forms ignore a NaN operand;
// -0 < +0 in all four; a signaling NaN raises invalid. The chosen operand is
// delivered into `out` like a conversion.
FPSIM_HD constexpr uint64_t min_max(MinMax op, uint64_t a, const Format& fa, uint64_t b, const Format& fb,
                                    const Format& out, const RoundingSpec& rs, Flags& fl, uint64_t index = 0) {
  const Unpacked x = unpack_input(a, fa, rs, fl), y = unpack_input(b, fb, rs, fl);
  if (detail::is_signaling(x) || detail::is_signaling(y)) fl.raise(Flags::invalid);
  const bool number = op == MinMax::minimum_number || op == MinMax::maximum_number;
  if (x.is_nan() || y.is_nan()) {
    if (!number || (x.is_nan() && y.is_nan())) return round(detail::default_nan(), out, rs, fl, index);
    return round(x.is_nan() ? y : x, out, rs, fl, index);
  }
  int order = detail::compare_ordered(x, y);
  if (order == 0 && x.cls == ValueClass::zero && x.sign != y.sign) order = x.sign ? -1 : 1;  // -0 < +0
  const bool want_min = op == MinMax::minimum || op == MinMax::minimum_number;
  const bool take_x = want_min ? order <= 0 : order >= 0;
  return round(take_x ? x : y, out, rs, fl, index);
}

}  // namespace fpsim
