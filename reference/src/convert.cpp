// Conversions, rounded once with MPFR (docs/conversion-semantics.md).
//
// How each mode is built (magnitudes; the sign is handled around them):
//   rtz / away (rup, rdn by sign): MPFR_RNDZ / MPFR_RNDA at precision p = M + 1,
//     then mpfr_check_range + mpfr_subnormalize with emin = emin_f - M + 1, so
//     the quantum never drops below the target's subnormal quantum 2^(emin_f - M).
//   rne, M >= 1: MPFR_RNDN the same way (an even significand is an even code).
//   rne, M == 0 (e8m0, eXm0fn[uz]) and rna: the RNDZ and RNDA neighbours and an
//     exact comparison with their midpoint; a tie picks the even code / the
//     larger magnitude.
//   rto: the RNDZ neighbour, replaced by the RNDA one when inexact and its code
//     is even.
// Overflow, saturation, the formats without inf or NaN, e8m0, ue4m3 and int8
// are decided on top, on the rounded value, as the contract's tables say.
#include <mpfr.h>

#include <algorithm>
#include <bit>
#include <boost/multiprecision/gmp.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "fpsim_ref/reference.hpp"
#include "internal.hpp"

namespace fpsim_ref {
namespace detail {
namespace {

uint64_t sign_bit(const RefFormat& f) { return uint64_t{1} << (f.bits - 1); }

}  // namespace

Work& work() {
  thread_local Work w;
  return w;
}

Decoded decode(uint64_t code, const RefFormat& f) {
  if (f.code_count != 0 && code >= f.code_count)
    throw std::invalid_argument("code " + std::to_string(code) + " is not a valid " + f.name + " code");
  Decoded d;
  if (f.specials == S::int8) {
    const int v = static_cast<int8_t>(static_cast<uint8_t>(code));
    d.kind = v == 0 ? Kind::zero : Kind::finite;
    d.neg = v < 0;
    d.mag = std::abs(v);
    return d;
  }
  if (f.specials == S::e8m0) {
    if (code == f.nan_code) {
      d.kind = Kind::nan;
    } else {
      d.kind = Kind::finite;
      d.mag = std::ldexp(1.0, static_cast<int>(code) - 127);
    }
    return d;
  }
  const int M = f.man_bits;
  const uint64_t field_ones = (uint64_t{1} << f.exp_bits) - 1;
  const uint64_t field = (code >> M) & field_ones;
  const uint64_t mant = code & ((uint64_t{1} << M) - 1);
  if (f.has_nan && f.specials != S::ieee && code == f.nan_code) {
    d.kind = Kind::nan;  // fnuz 0x80 counts as unsigned
    return d;
  }
  d.neg = f.has_sign && ((code & sign_bit(f)) != 0);
  if (f.specials == S::fn && (code & ~sign_bit(f)) == f.nan_code) {
    d.kind = Kind::nan;
    return d;
  }
  if (f.specials == S::ieee && field == field_ones) {
    d.kind = mant == 0 ? Kind::inf : Kind::nan;
    d.snan = mant != 0 && ((mant >> (M - 1)) & 1) == 0;
    return d;
  }
  if (field == 0) {
    if (mant == 0) return d;  // zero
    d.kind = Kind::finite;
    d.subnormal = true;
    d.mag = std::ldexp(static_cast<double>(mant), f.emin - M);
    return d;
  }
  d.kind = Kind::finite;
  d.mag = std::ldexp(static_cast<double>((uint64_t{1} << M) | mant), static_cast<int>(field) - f.bias - M);
  return d;
}

namespace {

// MPFR rounding of ax to precision p; `bounded` adds the target's subnormal
// grid (MPFR's emin = log2(min subnormal) + 1). Returns MPFR's ternary value.
int mpfr_round_p(mpfr_ptr out, mpfr_srcptr ax, const RefFormat& f, mpfr_rnd_t rnd, bool bounded) {
  mpfr_set_prec(out, f.man_bits + 1);
  int t = mpfr_set(out, ax, rnd);
  if (bounded) {
    const mpfr_exp_t saved = mpfr_get_emin();
    if (mpfr_set_emin(f.emin - f.man_bits + 1) != 0) throw std::logic_error("mpfr_set_emin failed");
    t = mpfr_check_range(out, t, rnd);
    t = mpfr_subnormalize(out, t, rnd);
    mpfr_set_emin(saved);
  }
  return t;
}

// Parity of the code of grid value v >= 0, extended past the format's ends
// (the "phantom" codes above max and, unbounded, below the subnormals).
bool code_is_odd(Work& w, mpfr_srcptr v, const RefFormat& f, bool bounded) {
  if (mpfr_zero_p(v)) return false;
  const long e = mpfr_get_exp(v) - 1;  // v in [2^e, 2^(e+1))
  const int M = f.man_bits;
  if (M == 0) return ((e + f.bias) & 1) != 0;  // the code's last bit is the exponent's
  long q = e - M;                              // quantum of v's binade
  if (bounded) q = std::max(q, static_cast<long>(f.emin - M));
  mpfr_mul_2si(w.tmp, v, -(q + 1), MPFR_RNDN);
  return mpfr_integer_p(w.tmp) == 0;
}

// Rounds ax > 0 in direction dir to the target grid (bounded) or to precision
// p with unbounded exponent; result in out. Returns true when inexact.
bool round_mag(Work& w, mpfr_ptr out, mpfr_srcptr ax, const RefFormat& f, Dir dir, bool bounded) {
  if (dir == Dir::nearest_even && f.man_bits >= 1) return mpfr_round_p(out, ax, f, MPFR_RNDN, bounded) != 0;
  if (mpfr_round_p(out, ax, f, MPFR_RNDZ, bounded) == 0) return false;
  if (dir == Dir::toward_zero) return true;
  mpfr_round_p(w.hi, ax, f, MPFR_RNDA, bounded);
  bool take_hi = true;
  if (dir == Dir::odd) {
    take_hi = !code_is_odd(w, out, f, bounded);
  } else if (dir != Dir::away) {
    mpfr_add(w.mid, out, w.hi, MPFR_RNDN);  // exact: p + 1 bits at most
    mpfr_div_2ui(w.mid, w.mid, 1, MPFR_RNDN);
    const int c = mpfr_cmp(ax, w.mid);
    take_hi = c > 0 || (c == 0 && (dir == Dir::nearest_away || code_is_odd(w, out, f, bounded)));
  }
  if (take_hi) mpfr_set(out, w.hi, MPFR_RNDN);  // same precision: exact
  return true;
}

uint64_t signed_max(const RefFormat& f, bool neg) { return f.max_code | (neg && f.has_sign ? sign_bit(f) : 0); }

uint64_t nan_of(const RefFormat& f, bool neg) {
  const bool signed_nans = f.has_sign && (f.specials == S::ieee || f.specials == S::fn);
  return f.nan_code | (neg && signed_nans ? sign_bit(f) : 0);
}

uint64_t zero_of(const RefFormat& f, bool neg) { return neg && f.has_neg_zero ? sign_bit(f) : 0; }

uint64_t inf_of(const RefFormat& f, bool neg) {
  return (((uint64_t{1} << f.exp_bits) - 1) << f.man_bits) | (neg ? sign_bit(f) : 0);
}

// Code of a grid value v (exact in double) of a float format.
uint64_t encode(double v, bool neg, const RefFormat& f) {
  if (v == 0) return zero_of(f, neg);
  int e2 = 0;
  std::frexp(v, &e2);
  const int e = e2 - 1;  // v in [2^e, 2^(e+1))
  if (f.specials == S::e8m0) return static_cast<uint64_t>(e + 127);
  const int M = f.man_bits;
  uint64_t field = 0, mant = 0;
  if (e < f.emin) {
    mant = static_cast<uint64_t>(std::ldexp(v, M - f.emin));
  } else {
    field = static_cast<uint64_t>(e + f.bias);
    mant = static_cast<uint64_t>(std::ldexp(v, M - e)) - (uint64_t{1} << M);
  }
  return (field << M) | mant | (neg && f.has_sign ? sign_bit(f) : 0);
}

RefResult to_int8(Work& w, const Decoded& d, mpfr_srcptr ax, const How& how, uint32_t fl) {
  switch (d.kind) {
    case Kind::nan:
      return {0, fl | flag::invalid};
    case Kind::inf:
      return {d.neg ? 0x80u : 0x7Fu, fl | flag::invalid | flag::saturated};
    case Kind::zero:
      return {0, fl};
    case Kind::finite:
      break;
  }
  const auto clamp = [&] { return RefResult{d.neg ? 0x80u : 0x7Fu, fl | flag::invalid | flag::saturated}; };
  if (mpfr_cmp_ui(ax, 1u << 16) >= 0) return clamp();  // clamps whatever the rounding
  mpfr_set_prec(w.res, kExactPrec);
  int t = 0;
  switch (how.dir(d.neg)) {
    case Dir::nearest_even:
      t = mpfr_rint(w.res, ax, MPFR_RNDN);
      break;
    case Dir::nearest_away:
      t = mpfr_round(w.res, ax);
      break;
    case Dir::toward_zero:
      t = mpfr_rint(w.res, ax, MPFR_RNDZ);
      break;
    case Dir::away:
      t = mpfr_rint(w.res, ax, MPFR_RNDA);
      break;
    case Dir::odd:
      t = mpfr_rint(w.res, ax, MPFR_RNDZ);
      mpfr_div_2ui(w.tmp, w.res, 1, MPFR_RNDN);
      if (t != 0 && mpfr_integer_p(w.tmp)) mpfr_add_ui(w.res, w.res, 1, MPFR_RNDN);  // even: step to odd
      break;
  }
  const long mag = mpfr_get_si(w.res, MPFR_RNDN);
  const long v = d.neg ? -mag : mag;
  if (v > 127 || v < -128) return clamp();
  return {static_cast<uint64_t>(static_cast<uint8_t>(static_cast<int8_t>(v))), fl | (t != 0 ? flag::inexact : 0)};
}

}  // namespace

RefResult produce(Work& w, Decoded d, mpfr_srcptr ax, const RefFormat& to, const RefSpec& spec, const How& how,
                  uint32_t fl) {
  if (to.specials == S::int8) return to_int8(w, d, ax, how, fl);
  if (d.kind == Kind::nan) {
    if (d.snan) fl |= flag::invalid;
    if (to.has_nan) return {nan_of(to, d.neg), fl};
    return {to.max_code, fl | flag::invalid};  // no NaN: +max, sign dropped (CUDA 13.0 cuda_fp4/fp6.hpp)
  }
  if (d.kind == Kind::zero) {
    if (to.specials == S::e8m0) return {0, fl | flag::inexact | flag::underflow};
    return {zero_of(to, d.neg), fl};
  }
  if (d.neg && !to.has_sign) {
    if (to.specials != S::e8m0) return {to.nan_code, fl | flag::invalid};  // ue4m3
    d.neg = false;                                                         // e8m0 reads the magnitude
    fl |= flag::invalid;
  }
  if (d.kind == Kind::inf) {
    if (spec.saturate) return {signed_max(to, d.neg), fl | flag::saturated};
    if (to.has_inf) return {inf_of(to, d.neg), fl};
    if (to.has_nan) return {nan_of(to, d.neg), fl | flag::invalid};
    return {signed_max(to, d.neg), fl | flag::invalid | flag::saturated};
  }

  const Dir dir = how.dir(d.neg);
  const bool inexact = round_mag(w, w.res, ax, to, dir, /*bounded=*/true);
  if (mpfr_cmp_d(w.res, to.max_finite) > 0) {  // overflow, judged after rounding
    fl |= flag::overflow | flag::inexact;
    if (how.overflow_to_max(d.neg)) return {signed_max(to, d.neg), fl};
    if (spec.saturate || (!to.has_inf && !to.has_nan)) return {signed_max(to, d.neg), fl | flag::saturated};
    if (to.has_inf) return {inf_of(to, d.neg), fl};
    return {nan_of(to, d.neg), fl};
  }
  if (inexact) fl |= flag::inexact;

  bool tiny = false;
  if (mpfr_cmp_d(ax, to.min_normal) < 0) {
    if (spec.tininess_before) {
      tiny = true;
    } else {
      round_mag(w, w.un, ax, to, dir, /*bounded=*/false);
      tiny = mpfr_cmp_d(w.un, to.min_normal) < 0;
    }
  }
  if (to.specials == S::e8m0) {
    if (mpfr_cmp_d(w.res, to.min_normal) < 0) return {0, fl | flag::inexact | flag::underflow};
    if (tiny && inexact) fl |= flag::underflow;
    return {encode(mpfr_get_d(w.res, MPFR_RNDN), false, to), fl};
  }
  if (tiny && inexact) fl |= flag::underflow;
  if (spec.ftz && tiny && !mpfr_zero_p(w.res))
    return {zero_of(to, d.neg), fl | flag::underflow | flag::inexact | flag::flushed};
  return {encode(mpfr_get_d(w.res, MPFR_RNDN), d.neg, to), fl};
}

namespace {

// Loads a code into w.x; applies daz.
Decoded load_code(Work& w, uint64_t code, const RefFormat& from, const RefSpec& spec, uint32_t& fl) {
  Decoded d = decode(code, from);
  if (spec.daz && d.subnormal) {
    d.kind = Kind::zero;
    d.mag = 0;
    fl |= flag::flushed;
  }
  mpfr_set_prec(w.x, kExactPrec);
  mpfr_set_d(w.x, d.mag, MPFR_RNDN);  // exact
  return d;
}

const RefFormat& fp64() {
  static const RefFormat& f = ref_format("fp64");
  return f;
}

}  // namespace

std::string dyadic_string(mpfr_srcptr p) {
  if (mpfr_zero_p(p)) return "0";
  boost::multiprecision::mpz_int num;
  mpfr_exp_t e = mpfr_get_z_2exp(num.backend().data(), p);  // p = num * 2^e
  const unsigned tz = boost::multiprecision::lsb(num);
  num >>= tz;
  e += static_cast<mpfr_exp_t>(tz);
  const long b = -static_cast<long>(e);
  if (b <= 10) return num.str() + "/" + std::to_string(1L << b);
  return num.str() + "/2^" + std::to_string(b);
}

RefStochastic stochastic(Work& w, const Decoded& d, mpfr_srcptr ax, const RefFormat& to, const RefSpec& spec,
                         int sr_bits, uint32_t fl, const RefSrKey* key) {
  if (sr_bits < 0 || sr_bits > 64)
    throw std::invalid_argument("sr_bits must be 0 (exact) or 1..64, got " + std::to_string(sr_bits));
  How toward{spec.mode, true, false}, away{spec.mode, true, true};
  RefStochastic r{produce(w, d, ax, to, spec, toward, fl), produce(w, d, ax, to, spec, away, fl), "0", 0.0, {}};
  r.drawn = r.toward_zero;
  const bool rounds = d.kind == Kind::finite && !(d.neg && !to.has_sign && to.specials != S::e8m0);
  if (!rounds) return r;
  // f below has at most as many significant bits as ax (its bits are ax's
  // below the truncation point), so w.tmp holds it exactly once it is at
  // least that wide. Conversions (64-bit inputs) never widen it.
  const bool widen = mpfr_get_prec(ax) > kWorkPrec;
  if (widen) mpfr_set_prec(w.tmp, mpfr_get_prec(ax));
  // f = (|x| - lo) / (hi - lo) on the bounded grid (integers for int8).
  bool exact = false;
  if (to.specials == S::int8) {
    mpfr_frac(w.tmp, ax, MPFR_RNDN);  // exact
  } else if (mpfr_round_p(w.lo, ax, to, MPFR_RNDZ, true) == 0) {
    exact = true;
  } else {
    mpfr_round_p(w.hi, ax, to, MPFR_RNDA, true);
    mpfr_sub(w.tmp, ax, w.lo, MPFR_RNDN);      // exact
    mpfr_sub(w.mid, w.hi, w.lo, MPFR_RNDN);    // the quantum, a power of two
    mpfr_div(w.tmp, w.tmp, w.mid, MPFR_RNDN);  // exact division by a power of two
  }
  if (!exact) {
    if (key != nullptr && draw_rounds_away(w.tmp, sr_bits, *key)) r.drawn = r.away;
    if (sr_bits > 0) {
      mpfr_mul_2si(w.tmp, w.tmp, sr_bits, MPFR_RNDN);
      mpfr_floor(w.tmp, w.tmp);
      mpfr_div_2si(w.tmp, w.tmp, sr_bits, MPFR_RNDN);
    }
    r.p_away_exact = dyadic_string(w.tmp);
    r.p_away = mpfr_get_d(w.tmp, MPFR_RNDN);
  }
  if (widen) mpfr_set_prec(w.tmp, kWorkPrec);
  return r;
}

}  // namespace detail

using namespace detail;

bool ref_mpfr_is_thread_local() { return mpfr_buildopt_tls_p() != 0; }

RefResult ref_convert(uint64_t code, const RefFormat& from, const RefFormat& to, const RefSpec& spec) {
  CallGuard guard;
  Work& w = work();
  uint32_t fl = 0;
  const Decoded d = load_code(w, code, from, spec, fl);
  return produce(w, d, w.x, to, spec, How{spec.mode, false, false}, fl);
}

RefResult ref_from_double(double x, const RefFormat& to, const RefSpec& spec) {
  return ref_convert(std::bit_cast<uint64_t>(x), fp64(), to, spec);
}

RefResult ref_from_decimal(std::string_view text, const RefFormat& to, const RefSpec& spec) {
  CallGuard guard;
  Work& w = work();
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  const std::string s(text);
  if (s.empty()) throw std::invalid_argument("not a number: empty text");
  char* end = nullptr;
  mpfr_set_prec(w.lo, kDecimalPrec);
  const int t = mpfr_strtofr(w.lo, s.c_str(), &end, 0, MPFR_RNDZ);
  if (end != s.c_str() + s.size()) throw std::invalid_argument("not a number: '" + s + "'");
  Decoded d;
  d.neg = s.front() == '-' || (!mpfr_nan_p(w.lo) && mpfr_signbit(w.lo));
  mpfr_set_prec(w.x, kDecimalPrec + 1);
  if (mpfr_nan_p(w.lo)) {
    d.kind = Kind::nan;
  } else if (mpfr_inf_p(w.lo)) {
    d.kind = Kind::inf;
  } else if (mpfr_zero_p(w.lo) && t == 0) {
    d.kind = Kind::zero;
  } else {
    d.kind = Kind::finite;
    mpfr_abs(w.x, w.lo, MPFR_RNDN);
    if (t != 0) {  // append the sticky bit: half an ulp of the kDecimalPrec-bit truncation
      if (mpfr_zero_p(w.x))
        mpfr_set_ui_2exp(w.x, 1, mpfr_get_emin() - 1, MPFR_RNDN);
      else
        mpfr_nextabove(w.x);
    }
  }
  return produce(w, d, w.x, to, spec, How{spec.mode, false, false}, 0);
}

double ref_decode_to_double(uint64_t code, const RefFormat& f) {
  const Decoded d = decode(code, f);
  const double sign = d.neg ? -1.0 : 1.0;
  switch (d.kind) {
    case Kind::nan:
      return std::copysign(std::numeric_limits<double>::quiet_NaN(), sign);
    case Kind::inf:
      return sign * std::numeric_limits<double>::infinity();
    case Kind::zero:
      return sign * 0.0;
    case Kind::finite:
      break;
  }
  return sign * d.mag;
}

bool ref_is_nan(uint64_t code, const RefFormat& f) { return decode(code, f).kind == Kind::nan; }

RefStochastic ref_stochastic(uint64_t code, const RefFormat& from, const RefFormat& to,
                             const RefSpec& spec_without_mode, int sr_bits) {
  CallGuard guard;
  Work& w = work();
  uint32_t fl = 0;
  const Decoded d = load_code(w, code, from, spec_without_mode, fl);
  return stochastic(w, d, w.x, to, spec_without_mode, sr_bits, fl);
}

RefStochastic ref_stochastic_double(double x, const RefFormat& to, const RefSpec& spec_without_mode, int sr_bits) {
  return ref_stochastic(std::bit_cast<uint64_t>(x), fp64(), to, spec_without_mode, sr_bits);
}

RefStochastic ref_stochastic_drawn(uint64_t code, const RefFormat& from, const RefFormat& to,
                                   const RefSpec& spec_without_mode, int sr_bits, const RefSrKey& key) {
  CallGuard guard;
  Work& w = work();
  uint32_t fl = 0;
  const Decoded d = load_code(w, code, from, spec_without_mode, fl);
  return stochastic(w, d, w.x, to, spec_without_mode, sr_bits, fl, &key);
}

RefStochastic ref_stochastic_drawn_double(double x, const RefFormat& to, const RefSpec& spec_without_mode,
                                          int sr_bits, const RefSrKey& key) {
  return ref_stochastic_drawn(std::bit_cast<uint64_t>(x), fp64(), to, spec_without_mode, sr_bits, key);
}

}  // namespace fpsim_ref
