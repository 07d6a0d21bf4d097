// Arithmetic, comparisons and min/max with MPFR (docs/arithmetic-semantics.md).
//
// Every operation decodes its operands exactly (64-bit MPFR values), handles
// NaN, infinity and the signs of zero by the contract's tables, forms the
// result's magnitude and rounds it once into the output format with
// produce(), the routine the conversions use (internal.hpp). So overflow,
// saturation, ftz, tininess and the formats without inf or NaN follow
// docs/conversion-semantics.md by construction.
//
// The magnitude handed to produce():
//   add, sub, mul, fma: exact. A product of two operands of precision p1, p2
//     is exact at p1 + p2 bits; a sum is exact at (highest exponent - lowest
//     bit position + 2) bits. MPFR's ternary value must be 0 (checked).
//   div, sqrt: rounded toward zero to kOddPrec = 256 bits; when inexact, a
//     sticky bit is appended (the value is moved half a 256-bit ulp up, at 257
//     bits). This is round-to-odd at 256 bits. Every number the final rounding
//     and its flags compare against (a grid point of the output format, a
//     midpoint between two neighbours, the smallest normal, the largest finite
//     value, the unbounded-exponent grid used for tininess after rounding, the
//     integers and half-integers of int8 below the 2^16 clamp) has at most
//     p + 1 <= 54 significant bits at or below the result's exponent, so it is
//     a multiple of the 256-bit ulp. The sticky value and the true value lie
//     strictly inside the same open interval between consecutive 256-bit
//     numbers, so no such number separates them, and neither equals one:
//     every mode, inexact, tininess, underflow and overflow come out as for
//     the true value (Boldo & Melquiond, "Emulation of FMA and correctly
//     rounded sums: proved algorithms using rounding to odd", IEEE TC 2008:
//     round-to-odd with at least p + 2 bits followed by any rounding to p bits
//     is the correct rounding). Stochastic P(away) is that of the sticky value
//     (within 2^-200 of the true fraction), as reference.hpp says.
#include <mpfr.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "fpsim_ref/reference.hpp"
#include "internal.hpp"

namespace fpsim_ref {
namespace detail {
namespace {

constexpr mpfr_prec_t kOddPrec = 256;

// Per-thread MPFR variables of the arithmetic.
struct ArithWork {
  mpfr_t v[3];   // the operands' exact signed values
  mpfr_t prod;   // fma's exact product
  mpfr_t exact;  // an exact signed sum or product
  mpfr_t q;      // the quotient or root rounded toward zero to kOddPrec bits
  mpfr_t mag;    // the result's magnitude, handed to produce()
  ArithWork() { mpfr_inits2(kExactPrec, v[0], v[1], v[2], prod, exact, q, mag, static_cast<mpfr_ptr>(nullptr)); }
  ~ArithWork() { mpfr_clears(v[0], v[1], v[2], prod, exact, q, mag, static_cast<mpfr_ptr>(nullptr)); }
  ArithWork(const ArithWork&) = delete;
  ArithWork& operator=(const ArithWork&) = delete;
};

ArithWork& arith_work() {
  thread_local ArithWork a;
  return a;
}

// Decodes an operand; daz reads a subnormal as a zero of the same sign.
Decoded load(const RefOperand& o, const RefSpec& spec, uint32_t& fl) {
  if (o.format == nullptr) throw std::invalid_argument("operand has no format");
  Decoded d = decode(o.code, *o.format);
  if (spec.daz && d.subnormal) {
    d.kind = Kind::zero;
    d.mag = 0;
    fl |= flag::flushed;
  }
  return d;
}

// v = the operand's exact signed value (NaN, ±inf, ±0 as such).
void set_value(mpfr_ptr v, const Decoded& d) {
  mpfr_set_prec(v, kExactPrec);
  const int sign = d.neg ? -1 : 1;
  switch (d.kind) {
    case Kind::nan:
      mpfr_set_nan(v);
      break;
    case Kind::inf:
      mpfr_set_inf(v, sign);
      break;
    case Kind::zero:
      mpfr_set_zero(v, sign);
      break;
    case Kind::finite:
      if (mpfr_set_d(v, d.neg ? -d.mag : d.mag, MPFR_RNDN) != 0) throw std::logic_error("operand not exact");
      break;
  }
}

Decoded special(Kind k, bool neg) {
  Decoded d;
  d.kind = k;
  d.neg = neg;
  return d;
}

// The default NaN: the output format's positive quiet NaN (delivered by
// produce() like a conversion of a quiet NaN).
Decoded default_nan() { return special(Kind::nan, false); }

// A non-zero exact or sticky signed value x: its sign, magnitude into a.mag.
Decoded finite_result(ArithWork& a, mpfr_srcptr x) {
  Decoded d = special(Kind::finite, mpfr_signbit(x) != 0);
  mpfr_set_prec(a.mag, mpfr_get_prec(x));
  mpfr_abs(a.mag, x, MPFR_RNDN);  // exact
  return d;
}

// out = x * y exactly (x, y finite non-zero).
void exact_mul(mpfr_ptr out, mpfr_srcptr x, mpfr_srcptr y) {
  mpfr_set_prec(out, mpfr_get_prec(x) + mpfr_get_prec(y));
  if (mpfr_mul(out, x, y, MPFR_RNDN) != 0) throw std::logic_error("product not exact");
}

// out = x + y exactly (x, y finite non-zero). A value of precision P and
// exponent E (x in [2^(E-1), 2^E)) has its lowest bit at or above 2^(E-P).
void exact_add(mpfr_ptr out, mpfr_srcptr x, mpfr_srcptr y) {
  const mpfr_exp_t hi = std::max(mpfr_get_exp(x), mpfr_get_exp(y));
  const mpfr_exp_t lo = std::min(mpfr_get_exp(x) - static_cast<mpfr_exp_t>(mpfr_get_prec(x)),
                                 mpfr_get_exp(y) - static_cast<mpfr_exp_t>(mpfr_get_prec(y)));
  mpfr_set_prec(out, static_cast<mpfr_prec_t>(hi - lo + 2));
  if (mpfr_add(out, x, y, MPFR_RNDN) != 0) throw std::logic_error("sum not exact");
}

// x + y for finite or zero terms (signed values; xz / yz: the term is a zero
// of sign xn / yn). Signs of zero: (+0) + (+0) = +0, (-0) + (-0) = -0; a
// mixed pair of zeros and every exact cancellation give +0, -0 under rdn
// (never under stochastic rounding: the caller passes rdn = false).
Decoded sum(ArithWork& a, mpfr_srcptr x, bool xz, bool xn, mpfr_srcptr y, bool yz, bool yn, bool rdn) {
  if (xz && yz) return special(Kind::zero, xn == yn ? xn : rdn);
  if (xz) return finite_result(a, y);
  if (yz) return finite_result(a, x);
  exact_add(a.exact, x, y);
  if (mpfr_zero_p(a.exact)) return special(Kind::zero, rdn);
  return finite_result(a, a.exact);
}

// Round to odd at kOddPrec bits of a quotient or root already rounded toward
// zero into a.q with ternary t (see the file comment): magnitude into a.mag.
Decoded odd_result(ArithWork& a, int t, bool neg) {
  Decoded d = special(Kind::finite, neg);
  mpfr_set_prec(a.mag, kOddPrec + 1);
  mpfr_abs(a.mag, a.q, MPFR_RNDN);    // exact
  if (t != 0) mpfr_nextabove(a.mag);  // + half a kOddPrec-bit ulp: the sticky bit
  return d;
}

// The op's result before the final rounding: kind and sign, the magnitude in
// a.mag when finite; flags raised on the way (flushed, invalid, infinite) in fl.
Decoded compute(ArithWork& a, RefOp op, std::span<const RefOperand> operands, const RefSpec& spec, bool sr,
                uint32_t& fl) {
  const int n = ref_arity(op);
  if (static_cast<int>(operands.size()) != n)
    throw std::invalid_argument("operation takes " + std::to_string(n) + " operands, got " +
                                std::to_string(operands.size()));
  std::array<Decoded, 3> d;
  bool snan = false, nan = false;
  for (int i = 0; i < n; ++i) {
    d[i] = load(operands[i], spec, fl);
    set_value(a.v[i], d[i]);
    nan = nan || d[i].kind == Kind::nan;
    snan = snan || (d[i].kind == Kind::nan && d[i].snan);
  }
  const auto invalid = [&] {
    fl |= flag::invalid;
    return default_nan();
  };
  const auto is = [&](int i, Kind k) { return d[i].kind == k; };
  // fma(0, inf, c), fma(inf, 0, c): invalid even when c is a quiet NaN.
  if (op == RefOp::fma && ((is(0, Kind::zero) && is(1, Kind::inf)) || (is(0, Kind::inf) && is(1, Kind::zero))))
    return invalid();
  if (nan) {
    if (snan) fl |= flag::invalid;
    return default_nan();
  }
  const bool rdn = !sr && spec.mode == RefMode::rdn;

  switch (op) {
    case RefOp::add:
    case RefOp::sub: {
      const bool yn = d[1].neg != (op == RefOp::sub);  // x - y = x + (-y)
      if (op == RefOp::sub) mpfr_neg(a.v[1], a.v[1], MPFR_RNDN);
      if (is(0, Kind::inf) || is(1, Kind::inf)) {
        if (is(0, Kind::inf) && is(1, Kind::inf) && d[0].neg != yn) return invalid();  // inf - inf
        return special(Kind::inf, is(0, Kind::inf) ? d[0].neg : yn);
      }
      return sum(a, a.v[0], is(0, Kind::zero), d[0].neg, a.v[1], is(1, Kind::zero), yn, rdn);
    }
    case RefOp::mul: {
      const bool neg = d[0].neg != d[1].neg;
      if (is(0, Kind::inf) || is(1, Kind::inf)) {
        if (is(0, Kind::zero) || is(1, Kind::zero)) return invalid();  // 0 * inf
        return special(Kind::inf, neg);
      }
      if (is(0, Kind::zero) || is(1, Kind::zero)) return special(Kind::zero, neg);
      exact_mul(a.exact, a.v[0], a.v[1]);
      return finite_result(a, a.exact);
    }
    case RefOp::div: {
      const bool neg = d[0].neg != d[1].neg;
      if (is(0, Kind::inf)) {
        if (is(1, Kind::inf)) return invalid();  // inf / inf
        return special(Kind::inf, neg);
      }
      if (is(1, Kind::inf)) return special(Kind::zero, neg);  // finite / inf
      if (is(1, Kind::zero)) {
        if (is(0, Kind::zero)) return invalid();  // 0 / 0
        fl |= flag::infinite;                     // finite non-zero / 0
        return special(Kind::inf, neg);
      }
      if (is(0, Kind::zero)) return special(Kind::zero, neg);
      mpfr_set_prec(a.q, kOddPrec);
      const int t = mpfr_div(a.q, a.v[0], a.v[1], MPFR_RNDZ);
      return odd_result(a, t, neg);
    }
    case RefOp::sqrt: {
      if (is(0, Kind::zero)) return special(Kind::zero, d[0].neg);  // sqrt(-0) = -0
      if (d[0].neg) return invalid();                               // sqrt(x < 0), sqrt(-inf)
      if (is(0, Kind::inf)) return special(Kind::inf, false);
      mpfr_set_prec(a.q, kOddPrec);
      const int t = mpfr_sqrt(a.q, a.v[0], MPFR_RNDZ);
      return odd_result(a, t, false);
    }
    case RefOp::fma: {
      // The product (0 * inf was handled above), then product + addend.
      const bool pn = d[0].neg != d[1].neg;
      const bool p_inf = is(0, Kind::inf) || is(1, Kind::inf);
      const bool p_zero = is(0, Kind::zero) || is(1, Kind::zero);
      if (p_inf) {
        if (is(2, Kind::inf) && d[2].neg != pn) return invalid();  // inf - inf
        return special(Kind::inf, pn);
      }
      if (is(2, Kind::inf)) return special(Kind::inf, d[2].neg);
      if (!p_zero) exact_mul(a.prod, a.v[0], a.v[1]);
      return sum(a, a.prod, p_zero, pn, a.v[2], is(2, Kind::zero), d[2].neg, rdn);
    }
  }
  throw std::invalid_argument("unknown operation");
}

}  // namespace
}  // namespace detail

using namespace detail;

int ref_arity(RefOp op) {
  switch (op) {
    case RefOp::add:
    case RefOp::sub:
    case RefOp::mul:
    case RefOp::div:
      return 2;
    case RefOp::fma:
      return 3;
    case RefOp::sqrt:
      return 1;
  }
  throw std::invalid_argument("unknown operation");
}

RefResult ref_arith(RefOp op, std::span<const RefOperand> operands, const RefFormat& to, const RefSpec& spec) {
  CallGuard guard;
  Work& w = work();
  ArithWork& a = arith_work();
  uint32_t fl = 0;
  const Decoded d = compute(a, op, operands, spec, /*sr=*/false, fl);
  return produce(w, d, a.mag, to, spec, How{spec.mode, false, false}, fl);
}

RefStochastic ref_arith_stochastic(RefOp op, std::span<const RefOperand> operands, const RefFormat& to,
                                   const RefSpec& spec_without_mode, int sr_bits) {
  CallGuard guard;
  Work& w = work();
  ArithWork& a = arith_work();
  uint32_t fl = 0;
  const Decoded d = compute(a, op, operands, spec_without_mode, /*sr=*/true, fl);
  return stochastic(w, d, a.mag, to, spec_without_mode, sr_bits, fl);
}

RefStochastic ref_arith_stochastic_drawn(RefOp op, std::span<const RefOperand> operands, const RefFormat& to,
                                         const RefSpec& spec_without_mode, int sr_bits, const RefSrKey& key) {
  CallGuard guard;
  Work& w = work();
  ArithWork& a = arith_work();
  uint32_t fl = 0;
  const Decoded d = compute(a, op, operands, spec_without_mode, /*sr=*/true, fl);
  return stochastic(w, d, a.mag, to, spec_without_mode, sr_bits, fl, &key);
}

RefCompareResult ref_compare(RefPredicate p, bool signaling, RefOperand x, RefOperand y, const RefSpec& spec) {
  CallGuard guard;
  ArithWork& a = arith_work();
  uint32_t fl = 0;
  const Decoded dx = load(x, spec, fl);
  const Decoded dy = load(y, spec, fl);
  if (dx.kind == Kind::nan || dy.kind == Kind::nan) {
    if (signaling || (dx.kind == Kind::nan && dx.snan) || (dy.kind == Kind::nan && dy.snan)) fl |= flag::invalid;
    return {p == RefPredicate::unordered, fl};
  }
  set_value(a.v[0], dx);
  set_value(a.v[1], dy);
  const int c = mpfr_cmp(a.v[0], a.v[1]);  // exact; -0 == +0
  switch (p) {
    case RefPredicate::eq:
      return {c == 0, fl};
    case RefPredicate::lt:
      return {c < 0, fl};
    case RefPredicate::le:
      return {c <= 0, fl};
    case RefPredicate::unordered:
      return {false, fl};
  }
  throw std::invalid_argument("unknown predicate");
}

RefResult ref_min_max(RefMinMax op, RefOperand x, RefOperand y, const RefFormat& to, const RefSpec& spec) {
  CallGuard guard;
  Work& w = work();
  ArithWork& a = arith_work();
  uint32_t fl = 0;
  const Decoded dx = load(x, spec, fl);
  const Decoded dy = load(y, spec, fl);
  const bool xnan = dx.kind == Kind::nan, ynan = dy.kind == Kind::nan;
  if ((xnan && dx.snan) || (ynan && dy.snan)) fl |= flag::invalid;
  const bool number = op == RefMinMax::minimum_number || op == RefMinMax::maximum_number;
  const bool is_min = op == RefMinMax::minimum || op == RefMinMax::minimum_number;
  bool take_x = true;
  if (xnan || ynan) {
    if (!number || (xnan && ynan)) return produce(w, default_nan(), a.mag, to, spec, How{spec.mode, false, false}, fl);
    take_x = ynan;  // minimumNumber / maximumNumber ignore the NaN
  } else {
    set_value(a.v[0], dx);
    set_value(a.v[1], dy);
    int c = mpfr_cmp(a.v[0], a.v[1]);
    if (c == 0 && dx.kind == Kind::zero && dx.neg != dy.neg) c = dx.neg ? -1 : 1;  // -0 < +0
    take_x = is_min ? c <= 0 : c >= 0;
  }
  const Decoded& d = take_x ? dx : dy;
  mpfr_set_prec(a.mag, kExactPrec);
  mpfr_set_d(a.mag, d.mag, MPFR_RNDN);  // exact
  return produce(w, d, a.mag, to, spec, How{spec.mode, false, false}, fl);
}

}  // namespace fpsim_ref
