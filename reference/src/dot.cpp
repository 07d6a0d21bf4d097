// Exact dot products (include/fpsim_ref/dot.hpp).
//
// Why the sum is exact. Every finite double x is |x| = m * 2^e with an integer
// m < 2^53 (std::frexp splits |x| = f * 2^k with f in [0.5, 1) holding at most
// 53 significant bits, so m = f * 2^53 is an integer and both steps only scale
// by powers of two). A product is then ma * mb * 2^(ea + eb) with the integer
// ma * mb < 2^106. Let E be the smallest exponent among the non-zero terms
// (products and c). Every term equals (ma * mb * 2^(ea + eb - E)) * 2^E, an
// integer times 2^E with a non-negative shift, and the sum of all terms is
// S * 2^E where S is the sum of those integers. S is accumulated in a GMP
// integer, whose additions are exact at any size: nothing is rounded. (The
// exponents span at most [-2252, 1942], so S has at most about 4200 + log2(K)
// bits.) sum |terms| is accumulated the same way.
//
// Every rounding afterwards happens once: the exact value goes through
// produce(), the conversion core of the reference (src/convert.cpp), into the
// requested format. Ratios (relative errors) are exact dyadic numerator and
// denominator divided by MPFR toward zero at 256 bits with a sticky bit
// appended (round to odd at 257 bits, the argument in src/arith.cpp's file
// comment, Boldo & Melquiond IEEE TC 2008), then rounded once into fp64 by
// produce(): correctly rounded, double's subnormals and overflow included.
#include "fpsim_ref/dot.hpp"

#include <gmp.h>
#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "internal.hpp"

namespace fpsim_ref {
namespace {

using detail::Decoded;
using detail::Kind;

static_assert(sizeof(unsigned long) >= sizeof(uint64_t), "mpz_*_ui must take 64-bit values (LP64)");

constexpr mpfr_prec_t kOddPrec = 256;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct DotWork {
  mpz_t s, abs, t;
  mpfr_t x, y, d, q, odd;
  DotWork() {
    mpz_inits(s, abs, t, static_cast<mpz_ptr>(nullptr));
    mpfr_inits2(64, x, y, d, q, odd, static_cast<mpfr_ptr>(nullptr));
  }
  ~DotWork() {
    mpz_clears(s, abs, t, static_cast<mpz_ptr>(nullptr));
    mpfr_clears(x, y, d, q, odd, static_cast<mpfr_ptr>(nullptr));
  }
  DotWork(const DotWork&) = delete;
  DotWork& operator=(const DotWork&) = delete;
};

DotWork& dot_work() {
  thread_local DotWork w;
  return w;
}

// |x| = m * 2^e exactly for a finite non-zero double (file comment).
struct Split {
  uint64_t m;
  int e;
};
Split split(double x) {
  int k = 0;
  const double f = std::frexp(std::fabs(x), &k);
  return {static_cast<uint64_t>(std::ldexp(f, 53)), k - 53};
}

// z * 2^e, with the factors of two of z moved into the exponent (a canonical
// form: odd magnitude, or empty for zero).
ExactDyadic to_dyadic(mpz_ptr z, int64_t e) {
  ExactDyadic d;
  if (mpz_sgn(z) == 0) return d;
  d.neg = mpz_sgn(z) < 0;
  mpz_abs(z, z);
  const mp_bitcnt_t low = mpz_scan1(z, 0);
  mpz_tdiv_q_2exp(z, z, low);
  d.exp = e + static_cast<int64_t>(low);
  d.mag.resize((mpz_sizeinbase(z, 2) + 63) / 64);
  size_t count = 0;
  mpz_export(d.mag.data(), &count, -1, sizeof(uint64_t), 0, 0, z);
  d.mag.resize(count);
  return d;
}

// out = the dyadic's exact signed value (out's precision is set to fit).
void load(DotWork& w, mpfr_ptr out, const ExactDyadic& v) {
  if (v.is_zero()) {
    mpfr_set_zero(out, 1);
    return;
  }
  mpz_import(w.t, v.mag.size(), -1, sizeof(uint64_t), 0, 0, v.mag.data());
  mpfr_set_prec(out, std::max<mpfr_prec_t>(static_cast<mpfr_prec_t>(mpz_sizeinbase(w.t, 2)), MPFR_PREC_MIN));
  if (mpfr_set_z_2exp(out, w.t, static_cast<mpfr_exp_t>(v.exp), MPFR_RNDN) != 0)
    throw std::logic_error("exact_dot: value not exact in MPFR");
  if (v.neg) mpfr_neg(out, out, MPFR_RNDN);
}

// out = approx - x exactly (approx finite; x loaded by load()). The precision
// covers every bit from the highest exponent down to the lowest bit of either
// operand, plus a carry.
void exact_difference(mpfr_ptr out, double approx, mpfr_srcptr x, mpfr_ptr scratch) {
  mpfr_set_prec(scratch, 64);
  mpfr_set_d(scratch, approx, MPFR_RNDN);  // exact: 53 bits
  if (mpfr_zero_p(x)) {
    mpfr_set_prec(out, 64);
    mpfr_set(out, scratch, MPFR_RNDN);
    return;
  }
  if (mpfr_zero_p(scratch)) {
    mpfr_set_prec(out, mpfr_get_prec(x));
    mpfr_neg(out, x, MPFR_RNDN);
    return;
  }
  const mpfr_exp_t hi = std::max(mpfr_get_exp(scratch), mpfr_get_exp(x));
  const mpfr_exp_t lo = std::min(mpfr_get_exp(scratch) - static_cast<mpfr_exp_t>(mpfr_get_prec(scratch)),
                                 mpfr_get_exp(x) - static_cast<mpfr_exp_t>(mpfr_get_prec(x)));
  mpfr_set_prec(out, static_cast<mpfr_prec_t>(hi - lo + 2));
  if (mpfr_sub(out, scratch, x, MPFR_RNDN) != 0) throw std::logic_error("exact_dot: difference not exact");
}

const RefFormat& fp64() { return ref_format("fp64"); }

// The signed value (-1)^neg * ax (ax > 0, or zero) rounded once to double, rne.
double round_to_double(mpfr_srcptr ax, bool neg) {
  Decoded d;
  d.kind = mpfr_zero_p(ax) ? Kind::zero : Kind::finite;
  d.neg = neg;
  detail::How how;
  const RefResult r = detail::produce(detail::work(), d, ax, fp64(), RefSpec{}, how, 0);
  return ref_decode_to_double(r.code, fp64());
}

// |num| / |den| (den non-zero) correctly rounded to double, rne.
double ratio(DotWork& w, mpfr_srcptr num, mpfr_srcptr den) {
  if (mpfr_zero_p(num)) return 0.0;
  mpfr_set_prec(w.q, kOddPrec);
  const int t = mpfr_div(w.q, num, den, MPFR_RNDZ);
  mpfr_set_prec(w.odd, kOddPrec + 1);
  mpfr_abs(w.odd, w.q, MPFR_RNDN);    // exact
  if (t != 0) mpfr_nextabove(w.odd);  // + half a 256-bit ulp: the sticky bit
  return round_to_double(w.odd, false);
}

// The cases relative_error and error_vs_abs_sum decide without dividing
// (dot.hpp): a special exact value, a NaN or infinite approx, a zero
// denominator. Returns true with `answer` set when it decided.
bool special_error(ExactDot::Kind kind, bool exact_zero, double approx, double& answer) {
  switch (kind) {
    case ExactDot::Kind::nan:
      answer = std::isnan(approx) ? 0.0 : kInf;
      return true;
    case ExactDot::Kind::pos_inf:
      answer = approx == kInf ? 0.0 : kInf;
      return true;
    case ExactDot::Kind::neg_inf:
      answer = approx == -kInf ? 0.0 : kInf;
      return true;
    case ExactDot::Kind::finite:
      break;
  }
  if (!std::isfinite(approx)) {
    answer = kInf;
    return true;
  }
  if (exact_zero) {
    answer = approx == 0 ? 0.0 : kInf;
    return true;
  }
  return false;
}

}  // namespace

ExactDot exact_dot(std::span<const double> a, std::span<const double> b, double c) {
  if (a.size() != b.size())
    throw std::invalid_argument("exact_dot: a has " + std::to_string(a.size()) + " elements, b has " +
                                std::to_string(b.size()));
  bool nan = std::isnan(c), pos_inf = c == kInf, neg_inf = c == -kInf;
  bool any_finite = std::isfinite(c) && c != 0;
  int emin = any_finite ? split(c).e : 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    if (std::isnan(x) || std::isnan(y)) {
      nan = true;
    } else if (std::isinf(x) || std::isinf(y)) {
      if (x == 0 || y == 0) {
        nan = true;  // 0 * inf
      } else {
        (std::signbit(x) != std::signbit(y) ? neg_inf : pos_inf) = true;
      }
    } else if (x != 0 && y != 0) {
      const int e = split(x).e + split(y).e;
      emin = any_finite ? std::min(emin, e) : e;
      any_finite = true;
    }
  }
  ExactDot r;
  if (nan || (pos_inf && neg_inf)) {
    r.kind_ = ExactDot::Kind::nan;
    return r;
  }
  if (pos_inf || neg_inf) {
    r.kind_ = pos_inf ? ExactDot::Kind::pos_inf : ExactDot::Kind::neg_inf;
    return r;
  }
  r.kind_ = ExactDot::Kind::finite;
  if (!any_finite) return r;  // every term is zero

  detail::CallGuard guard;
  DotWork& w = dot_work();
  mpz_set_ui(w.s, 0);
  mpz_set_ui(w.abs, 0);
  auto add_term = [&](uint64_t m1, uint64_t m2, int e, bool neg) {
    mpz_set_ui(w.t, static_cast<unsigned long>(m1));
    mpz_mul_ui(w.t, w.t, static_cast<unsigned long>(m2));
    mpz_mul_2exp(w.t, w.t, static_cast<mp_bitcnt_t>(e - emin));
    if (neg) {
      mpz_sub(w.s, w.s, w.t);
    } else {
      mpz_add(w.s, w.s, w.t);
    }
    mpz_add(w.abs, w.abs, w.t);
  };
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == 0 || b[i] == 0) continue;  // finite here: the special cases returned above
    const Split x = split(a[i]), y = split(b[i]);
    add_term(x.m, y.m, x.e + y.e, std::signbit(a[i]) != std::signbit(b[i]));
  }
  if (c != 0) {
    const Split z = split(c);
    add_term(z.m, 1, z.e, std::signbit(c));
  }
  r.value_ = to_dyadic(w.s, emin);
  r.abs_sum_ = to_dyadic(w.abs, emin);
  return r;
}

RefResult ExactDot::round_to(const RefFormat& to, const RefSpec& spec) const {
  detail::CallGuard guard;
  Decoded d;
  switch (kind_) {
    case Kind::nan:
      d.kind = detail::Kind::nan;
      break;
    case Kind::pos_inf:
    case Kind::neg_inf:
      d.kind = detail::Kind::inf;
      d.neg = kind_ == Kind::neg_inf;
      break;
    case Kind::finite:
      d.kind = value_.is_zero() ? detail::Kind::zero : detail::Kind::finite;
      d.neg = value_.neg;
      break;
  }
  DotWork& w = dot_work();
  load(w, w.x, value_);
  mpfr_abs(w.x, w.x, MPFR_RNDN);  // exact
  detail::How how;
  how.mode = spec.mode;
  return detail::produce(detail::work(), d, w.x, to, spec, how, 0);
}

double ExactDot::to_double(RefMode mode) const {
  RefSpec spec;
  spec.mode = mode;
  return ref_decode_to_double(round_to(fp64(), spec).code, fp64());
}

double ExactDot::relative_error(double approx) const {
  double answer = 0;
  if (special_error(kind_, is_zero(), approx, answer)) return answer;
  detail::CallGuard guard;
  DotWork& w = dot_work();
  load(w, w.x, value_);
  exact_difference(w.d, approx, w.x, w.y);
  mpfr_abs(w.d, w.d, MPFR_RNDN);
  mpfr_abs(w.x, w.x, MPFR_RNDN);
  return ratio(w, w.d, w.x);
}

double ExactDot::error_vs_abs_sum(double approx) const {
  double answer = 0;
  if (special_error(kind_, abs_sum_.is_zero(), approx, answer)) return answer;
  detail::CallGuard guard;
  DotWork& w = dot_work();
  load(w, w.x, value_);
  exact_difference(w.d, approx, w.x, w.y);
  mpfr_abs(w.d, w.d, MPFR_RNDN);
  load(w, w.x, abs_sum_);
  return ratio(w, w.d, w.x);
}

double ExactDot::ulp_error(double approx, const RefFormat& f) const {
  if (f.specials == RefFormat::Specials::int8 || f.specials == RefFormat::Specials::e8m0)
    throw std::invalid_argument("ulp_error: format " + f.name + " has no binary floating-point ulp");
  if (kind_ != Kind::finite || !std::isfinite(approx)) return std::numeric_limits<double>::quiet_NaN();
  detail::CallGuard guard;
  DotWork& w = dot_work();
  load(w, w.x, value_);
  long e = f.emin;  // floor(log2|x|), at least emin_F
  if (!mpfr_zero_p(w.x)) e = std::max(e, static_cast<long>(mpfr_get_exp(w.x) - 1));
  exact_difference(w.d, approx, w.x, w.y);
  const bool neg = mpfr_signbit(w.d) != 0;
  mpfr_abs(w.d, w.d, MPFR_RNDN);
  mpfr_mul_2si(w.d, w.d, -(e - f.man_bits), MPFR_RNDN);  // exact: a power of two
  return round_to_double(w.d, neg);
}

std::string ExactDot::to_string() const {
  switch (kind_) {
    case Kind::nan:
      return "nan";
    case Kind::pos_inf:
      return "inf";
    case Kind::neg_inf:
      return "-inf";
    case Kind::finite:
      break;
  }
  if (value_.is_zero()) return "0";
  DotWork& w = dot_work();
  mpz_import(w.t, value_.mag.size(), -1, sizeof(uint64_t), 0, 0, value_.mag.data());
  std::string digits(mpz_sizeinbase(w.t, 16) + 2, '\0');
  mpz_get_str(digits.data(), 16, w.t);
  digits.resize(digits.find('\0'));
  std::string s = value_.neg ? "-0x" : "0x";
  s.append(digits).append("p").append(std::to_string(value_.exp));
  return s;
}

}  // namespace fpsim_ref
