// FastOracle: exact arithmetic for <= 24-bit significands through host doubles.
//
// Why it is exact (the whole argument; the code below follows it step by step)
// ---------------------------------------------------------------------------
// Ranges. supports() admits operand formats whose values lie in
// [2^-400, 2^400] (apart from 0, inf, NaN) with significands of p <= 24 bits,
// and result formats whose grid lies in [2^-1000, 2^1000] with p <= 24. So
// every finite non-zero exact result (sum, product, quotient, root, fma) lies
// in [2^-801, 2^802]: far inside the normal double range. No double operation
// below overflows or underflows, and every double is normal.
//
// Step 1, the exact result as a value plus the sign of an error. Operands are
// decoded exactly (a 2^bits table filled from ref_decode_to_double, or the
// fp32 / tf32 bit pattern read as a float, which is exact in double).
//   mul: a 24x24-bit product has <= 48 bits: x*y is exact.
//   add, sub, fma: t1 + t2 (fma: t1 = x*y, exact as for mul) gives
//     s = RN(t1 + t2), and Knuth's TwoSum gives the exact error
//     e = (t1 + t2) - s as a double (exact for any two doubles without
//     overflow). A zero sum is exact (a non-zero sum of doubles is a multiple
//     of 2^-1074 and at least that large, so it cannot round to 0).
//   div: q = RN(x/y); r = fma(-q, y, x) is the exact remainder x - q*y (the
//     remainder of a correctly rounded quotient is representable when nothing
//     underflows), and x/y - q = r/y has the sign of r*y.
//   sqrt: s = RN(sqrt(x)); r = fma(-s, s, x) = x - s^2 exactly (likewise), and
//     sqrt(x) - s has the sign of r.
// Step 2, round to odd at 53 bits. From (v, sign of error): if the error is 0,
// v is the exact result; otherwise the exact result X lies strictly between v
// and its neighbour on the error's side, and RO(X) is whichever of the two has
// an odd last significand bit: v itself if odd, else the next double toward
// the error (one step on the bit pattern; at a power of two going down this
// lands on the all-ones significand below, as it should).
// Step 3, why RO(X) decides everything. Every threshold used by the rounding
// into the result format T is a number y with at most 52 significant bits
// (T's grid values and the phantom value above max have <= 25, their midpoints
// <= 26, the largest unbounded p-bit value below min_normal and its midpoint
// with min_normal <= 26), and it is a normal double. Such a y is a 53-bit
// double with an even last bit. If X is exact, RO(X) = X. If not, X lies
// strictly between consecutive doubles d1 < X < d2 and RO(X) is the odd one of
// them; y cannot lie strictly between d1 and d2 and cannot equal the odd one,
// so y < X iff y < RO(X), and y = X never happens (nor y = RO(X)). Hence
// comparisons of RO(X) with every grid value, midpoint and with min_normal
// have the same outcome as those of X (Boldo & Melquiond's round-to-odd
// theorem: 53 >= p + 2 bits), and "X is on T's grid" (exact) is "RO(X) is".
// Step 4, rounding into T (our own, no shared code): the neighbours
// lo <= |RO(X)| < hi on T's grid (T <= 16 bits: the sorted table of T's
// non-negative finite values built from ref_decode_to_double, with the
// phantom value above max appended, indexed by magnitude code; the index is
// proposed by quantum arithmetic and taken only when the table confirms
// table[m] <= |v| < table[m+1], else found by binary search, so the table
// alone decides; wider T: quantum arithmetic itself,
// lo = trunc(|v| / q) * q with q = 2^(max(e, emin) - M)); a magnitude code
// and its successor differ by one, so the parity of lo's code decides ties
// (rne: even code) and rto (the odd code). rna takes hi at the midpoint, rtz
// lo, rup / rdn by sign. Overflow: |X| >= phantom, or the mode picks the
// phantom over max; the contract's table decides the result. Tininess after
// rounding: |X| < min_normal and X rounded with unbounded exponent stays
// below min_normal -- just below min_normal that grid is min_normal minus
// multiples of min_normal * 2^-(M+1), so it is the same neighbour decision
// between that value and min_normal. Tininess before: |X| < min_normal, which
// RO preserves (min_normal is a power of two).
// Specials (NaN operands, invalid operations, division by zero, infinities)
// are recognised on the decoded operands and on the double result before any
// rounding, and delivered as docs/arithmetic-semantics.md says.
#include "fpsim_ref/fast_oracle.hpp"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fpsim_ref {
namespace {

using S = RefFormat::Specials;

static_assert(std::numeric_limits<double>::is_iec559 && std::numeric_limits<float>::is_iec559,
              "the fast oracle needs IEEE binary64 / binary32 host arithmetic");
static_assert(FLT_EVAL_METHOD == 0, "the fast oracle needs doubles evaluated as doubles (no x87 excess precision)");

// Exponent windows of the exactness argument (see the top of the file).
constexpr int kOperandLimit = 400;
constexpr int kResultLimit = 1000;

// 2^n for -1022 <= n <= 1023, built from the bit pattern.
double pow2(int n) { return std::bit_cast<double>(static_cast<uint64_t>(n + 1023) << 52); }

// Round to odd at 53 bits from RN(X) = s and the sign of X - s (0: exact).
double to_odd(double s, int err_sign) {
  if (err_sign == 0) return s;
  uint64_t bits = std::bit_cast<uint64_t>(s);
  if ((bits & 1) == 0) {
    const bool grows = (err_sign > 0) == (s > 0);  // the error points away from zero
    bits = grows ? bits + 1 : bits - 1;
  }
  return std::bit_cast<double>(bits);
}

bool is_fp32(const RefFormat& f) {
  return f.bits == 32 && f.exp_bits == 8 && f.man_bits == 23 && f.bias == 127 && f.specials == S::ieee;
}
bool is_tf32(const RefFormat& f) {
  return f.bits == 19 && f.exp_bits == 8 && f.man_bits == 10 && f.bias == 127 && f.specials == S::ieee;
}

bool format_ok(const RefFormat& f, const char* role, int limit, std::string* why) {
  const auto no = [&](const std::string& s) {
    if (why) *why = std::string(role) + " format " + f.name + ": " + s;
    return false;
  };
  if (f.specials == S::e8m0)
    return no("e8m0 has no sign and no zero; the fast oracle handles signed float formats only");
  if (f.specials == S::int8) return no("int8 is an integer format; the fast oracle handles signed float formats only");
  if (!f.has_sign) return no("it has no sign bit; the fast oracle handles signed float formats only");
  if (f.man_bits + 1 > 24)
    return no("its significand has " + std::to_string(f.man_bits + 1) +
              " bits; the fast oracle's double arithmetic is exact only for significands of at most 24 bits");
  const int lsb = f.emin - f.man_bits;
  if (lsb < -limit || f.emax > limit)
    return no("its values span 2^" + std::to_string(lsb) + " .. 2^" + std::to_string(f.emax + 1) +
              "; the fast oracle's exactness argument needs them within 2^-" + std::to_string(limit) + " .. 2^" +
              std::to_string(limit));
  return true;
}

}  // namespace

bool FastOracle::supports(RefOp op, const RefFormat& from, const RefFormat& to, const RefSpec& spec, std::string* why) {
  (void)spec;  // every mode, ftz, daz, tininess and saturate are handled
  switch (op) {
    case RefOp::add:
    case RefOp::sub:
    case RefOp::mul:
    case RefOp::div:
    case RefOp::fma:
    case RefOp::sqrt:
      break;
    default:
      if (why) *why = "unknown operation";
      return false;
  }
  return format_ok(from, "operand", kOperandLimit, why) && format_ok(to, "result", kResultLimit, why);
}

FastOracle::FastOracle(RefOp op, const RefFormat& from, const RefFormat& to, const RefSpec& spec)
    : op_(op), from_(from), to_(to), spec_(spec) {
  std::string why;
  if (!supports(op, from, to, spec, &why)) throw std::invalid_argument(why);

  // Operands.
  from_count_ = from_.code_count;
  if (from_.bits <= 16) {
    decode_kind_ = Decode::table;
    decode_table_.resize(from_count_);
    for (uint64_t c = 0; c < from_count_; ++c) decode_table_[c] = ref_decode_to_double(c, from_);
  } else if (is_fp32(from_)) {
    decode_kind_ = Decode::fp32;
  } else if (is_tf32(from_)) {
    decode_kind_ = Decode::tf32;
  } else {
    decode_kind_ = Decode::bits;
  }

  // Result grid.
  const int M = to_.man_bits;
  to_sign_ = uint64_t{1} << (to_.bits - 1);
  max_ = to_.max_finite;
  phantom_ = max_ + pow2(std::max(to_.emax, to_.emin) - M);
  min_normal_ = to_.min_normal;
  below_min_normal_ = min_normal_ - min_normal_ * pow2(-(M + 1));
  below_min_normal_odd_ = M != 0;  // all-ones significand (M >= 1); M = 0: the code's last bit is the exponent's
  to_table_ = to_.bits <= 16;
  if (to_table_) {
    to_vals_.resize(to_.max_code + 2);
    for (uint64_t m = 0; m <= to_.max_code; ++m) {
      const double v = ref_decode_to_double(m, to_);
      if (!std::isfinite(v) || (m == 0 ? v != 0 : !(v > to_vals_[m - 1])))
        throw std::logic_error("result format " + to_.name + ": codes 0..max_code are not increasing finite values");
      to_vals_[m] = v;
    }
    to_vals_[to_.max_code + 1] = phantom_;
    if (to_vals_[to_.max_code] != max_) throw std::logic_error("result format " + to_.name + ": max mismatch");
  }
}

bool FastOracle::is_snan(uint64_t code) const {
  if (from_.specials != S::ieee) return false;  // fn, fnuz NaNs are quiet
  const int M = from_.man_bits;
  const uint64_t field_ones = (uint64_t{1} << from_.exp_bits) - 1;
  const uint64_t mant = code & ((uint64_t{1} << M) - 1);
  return ((code >> M) & field_ones) == field_ones && mant != 0 && ((mant >> (M - 1)) & 1) == 0;
}

double FastOracle::decode_bits(uint64_t code) const {
  const int M = from_.man_bits;
  const uint64_t sign = uint64_t{1} << (from_.bits - 1);
  const uint64_t mag = code & (sign - 1);
  const uint64_t field = mag >> M, mant = mag & ((uint64_t{1} << M) - 1);
  const uint64_t field_ones = (uint64_t{1} << from_.exp_bits) - 1;
  double x = 0;
  if ((from_.specials == S::fnuz && code == sign) || (from_.specials == S::fn && mag == from_.nan_code)) {
    x = std::numeric_limits<double>::quiet_NaN();
  } else if (from_.specials == S::ieee && field == field_ones) {
    x = mant != 0 ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (field == 0) {
    x = std::ldexp(static_cast<double>(mant), from_.emin - M);
  } else {
    x = std::ldexp(static_cast<double>((uint64_t{1} << M) | mant), static_cast<int>(field) - from_.bias - M);
  }
  return (code & sign) != 0 ? -x : x;
}

void FastOracle::bad_code(uint64_t code) const {
  throw std::invalid_argument("code " + std::to_string(code) + " is not a valid " + from_.name + " code");
}

// (Hot helpers are forced inline: they are private and used in this file only.)
[[gnu::always_inline]] inline double FastOracle::decode(uint64_t code, uint32_t& fl) const {
  if (code >= from_count_) [[unlikely]]
    bad_code(code);
  double x = 0;
  switch (decode_kind_) {
    case Decode::table:
      x = decode_table_[code];
      break;
    case Decode::fp32:
      x = std::bit_cast<float>(static_cast<uint32_t>(code));
      break;
    case Decode::tf32:
      x = std::bit_cast<float>(static_cast<uint32_t>(code << 13));
      break;
    case Decode::bits:
      x = decode_bits(code);
      break;
  }
  if (spec_.daz && x != 0 && std::fabs(x) < from_.min_normal) [[unlikely]] {  // a subnormal (NaN compares false)
    x = std::copysign(0.0, x);
    fl |= flag::flushed;
  }
  return x;
}

[[gnu::always_inline]] inline FastOracle::Exact FastOracle::evaluate(uint64_t a, uint64_t b, uint64_t c,
                                                                     bool rdn_zero) const {
  Exact r;
  const int n = op_ == RefOp::sqrt ? 1 : op_ == RefOp::fma ? 3 : 2;
  const double x = decode(a, r.fl);
  const double y = n >= 2 ? decode(b, r.fl) : 0.0;
  const double z = n >= 3 ? decode(c, r.fl) : 0.0;
  const auto invalid = [&r] {
    r.nan = true;
    r.fl |= flag::invalid;
    return r;
  };
  if (std::isnan(x) || std::isnan(y) || std::isnan(z)) {
    r.nan = true;
    if (is_snan(a) || (n >= 2 && is_snan(b)) || (n >= 3 && is_snan(c))) r.fl |= flag::invalid;
    // fma(0, inf, c) is invalid even when c is a quiet NaN (as SoftFloat / TestFloat).
    if (op_ == RefOp::fma && ((x == 0 && std::isinf(y)) || (std::isinf(x) && y == 0))) r.fl |= flag::invalid;
    return r;
  }
  switch (op_) {
    case RefOp::add:
    case RefOp::sub:
    case RefOp::fma: {
      const double t1 = op_ == RefOp::fma ? x * y : x;  // exact product
      const double t2 = op_ == RefOp::fma ? z : op_ == RefOp::sub ? -y : y;
      if (std::isnan(t1)) return invalid();  // 0 * inf
      const double s = t1 + t2;
      if (std::isnan(s)) return invalid();  // inf - inf
      if (std::isinf(s)) {
        r.v = s;  // an infinite operand: exact
      } else if (s == 0) {
        // Exact zero. RN gives +0 except (-0) + (-0); rdn gives -0 except (+0) + (+0).
        const bool both_plus_zero = t1 == 0 && t2 == 0 && !std::signbit(t1) && !std::signbit(t2);
        r.v = rdn_zero && !both_plus_zero ? -0.0 : s;
      } else {
        const double bb = s - t1;  // TwoSum (Knuth)
        const double e = (t1 - (s - bb)) + (t2 - bb);
        r.v = to_odd(s, (e > 0) - (e < 0));
      }
      return r;
    }
    case RefOp::mul: {
      const double p = x * y;  // exact
      if (std::isnan(p)) return invalid();
      r.v = p;
      return r;
    }
    case RefOp::div: {
      const double q = x / y;
      if (std::isnan(q)) return invalid();                            // 0/0, inf/inf
      if (std::isinf(q) && std::isfinite(x)) r.fl |= flag::infinite;  // finite non-zero / 0 (no overflow in range)
      if (std::isfinite(q) && q != 0) {
        const double rem = std::fma(-q, y, x);  // exact remainder x - q*y
        r.v = to_odd(q, rem == 0 ? 0 : ((rem > 0) == (y > 0) ? 1 : -1));
      } else {
        r.v = q;  // ±0 or ±inf, exact
      }
      return r;
    }
    case RefOp::sqrt: {
      if (x < 0) return invalid();  // -0 is not below 0: sqrt(-0) = -0
      const double s = std::sqrt(x);
      if (std::isfinite(s) && s != 0) {
        const double rem = std::fma(-s, s, x);  // exact x - s^2
        r.v = to_odd(s, (rem > 0) - (rem < 0));
      } else {
        r.v = s;
      }
      return r;
    }
  }
  return r;
}

[[gnu::always_inline]] inline FastOracle::Dir FastOracle::dir_for(bool neg, How how) const {
  if (how.sr) return how.sr_away ? Dir::away : Dir::toward_zero;
  switch (spec_.mode) {
    case RefMode::rne:
      return Dir::nearest_even;
    case RefMode::rna:
      return Dir::nearest_away;
    case RefMode::rtz:
      return Dir::toward_zero;
    case RefMode::rup:
      return neg ? Dir::toward_zero : Dir::away;
    case RefMode::rdn:
      return neg ? Dir::away : Dir::toward_zero;
    case RefMode::rto:
      return Dir::odd;
  }
  return Dir::nearest_even;
}

bool FastOracle::overflow_to_max(bool neg, How how) const {
  if (how.sr) return false;  // either draw follows the rne row
  switch (spec_.mode) {
    case RefMode::rtz:
    case RefMode::rto:
      return true;
    case RefMode::rup:
      return neg;
    case RefMode::rdn:
      return !neg;
    default:
      return false;
  }
}

uint64_t FastOracle::zero_code(bool neg) const { return neg && to_.has_neg_zero ? to_sign_ : 0; }

RefResult FastOracle::default_nan(uint32_t fl) const {
  if (to_.has_nan) return {to_.nan_code, fl};
  return {to_.max_code, fl | flag::invalid};  // no NaN: +max
}

RefResult FastOracle::inf_result(bool neg, uint32_t fl) const {
  if (spec_.saturate) return {signed_code(to_.max_code, neg), fl | flag::saturated};
  if (to_.has_inf) return {signed_code(((uint64_t{1} << to_.exp_bits) - 1) << to_.man_bits, neg), fl};
  if (to_.has_nan) {
    const bool signed_nan = to_.specials == S::ieee || to_.specials == S::fn;
    return {to_.nan_code | (neg && signed_nan ? to_sign_ : 0), fl | flag::invalid};
  }
  return {signed_code(to_.max_code, neg), fl | flag::invalid | flag::saturated};
}

RefResult FastOracle::overflow_result(bool neg, uint32_t fl, How how) const {
  fl |= flag::overflow | flag::inexact;
  if (overflow_to_max(neg, how)) return {signed_code(to_.max_code, neg), fl};
  if (spec_.saturate || (!to_.has_inf && !to_.has_nan)) return {signed_code(to_.max_code, neg), fl | flag::saturated};
  if (to_.has_inf) return {signed_code(((uint64_t{1} << to_.exp_bits) - 1) << to_.man_bits, neg), fl};
  const bool signed_nan = to_.specials == S::ieee || to_.specials == S::fn;  // no inf: the NaN, no invalid
  return {to_.nan_code | (neg && signed_nan ? to_sign_ : 0), fl};
}

// The neighbour decision for lo < a < hi (a strictly between: inexact).
[[gnu::always_inline]] inline bool FastOracle::take_hi(Dir dir, double a, double lo, double hi, bool lo_odd) {
  switch (dir) {
    case Dir::toward_zero:
      return false;
    case Dir::away:
      return true;
    case Dir::odd:
      return !lo_odd;
    case Dir::nearest_even:
    case Dir::nearest_away:
      break;
  }
  const double mid = 0.5 * (lo + hi);  // exact: <= 26 significant bits
  if (a != mid) return a > mid;
  return dir == Dir::nearest_away || lo_odd;  // a tie: rna away, rne the even code
}

[[gnu::always_inline]] inline void FastOracle::neighbours(double a, double& lo, double& hi, uint64_t& lo_mag,
                                                          bool& lo_odd) const {
  // Quantum arithmetic on T's grid: q = 2^(max(e, emin) - M), e = floor(log2 a), lo = trunc(a / q) * q.
  const int M = to_.man_bits;
  const int e = static_cast<int>(std::bit_cast<uint64_t>(a) >> 52) - 1023;  // a is a normal double
  const int qe = std::max(e, to_.emin) - M;
  const auto k = static_cast<int64_t>(a * pow2(-qe));  // trunc; a * 2^-qe < 2^(M+1) (exact scaling)
  const uint64_t mag =
      e < to_.emin ? static_cast<uint64_t>(k)
                   : (static_cast<uint64_t>(e + to_.bias) << M) | (static_cast<uint64_t>(k) - (uint64_t{1} << M));
  if (to_table_) {
    // The table decides: the quantum arithmetic only proposes an index, which is used when the
    // table confirms to_vals_[m] <= a < to_vals_[m + 1]; otherwise a binary search finds it.
    const double* v = to_vals_.data();
    size_t base = 0;
    if (mag < to_.max_code && v[mag] <= a && a < v[mag + 1]) {
      base = mag;
    } else {
      // Largest m <= max_code with to_vals_[m] <= a (to_vals_[0] = 0 < a < max).
      size_t n = to_.max_code + 1;
      while (n > 1) {
        const size_t half = n / 2;
        base = v[base + half] <= a ? base + half : base;
        n -= half;
      }
    }
    lo = v[base];
    hi = v[base + 1];
    lo_mag = base;
    lo_odd = (base & 1) != 0;
    return;
  }
  const double q = pow2(qe);
  lo = static_cast<double>(k) * q;
  hi = static_cast<double>(k + 1) * q;
  lo_odd = (k & 1) != 0;
  lo_mag = mag;
}

[[gnu::always_inline]] inline RefResult FastOracle::round_finite(double v, uint32_t fl, How how) const {
  const bool neg = std::signbit(v);
  const double a = std::fabs(v);
  if (a == 0) return {zero_code(neg), fl};
  const Dir dir = dir_for(neg, how);
  if (a >= max_) {
    if (a == max_) return {signed_code(to_.max_code, neg), fl};
    if (a >= phantom_ || take_hi(dir, a, max_, phantom_, (to_.max_code & 1) != 0)) return overflow_result(neg, fl, how);
    return {signed_code(to_.max_code, neg), fl | flag::inexact};
  }
  double lo = 0, hi = 0;
  uint64_t mag = 0;
  bool lo_odd = false;
  neighbours(a, lo, hi, mag, lo_odd);
  bool tiny = a < min_normal_;
  double r = lo;
  if (a != lo) {  // inexact
    fl |= flag::inexact;
    if (take_hi(dir, a, lo, hi, lo_odd)) {
      r = hi;
      ++mag;
    }
    if (tiny && !spec_.tininess_before && a > below_min_normal_)
      tiny = !take_hi(dir, a, below_min_normal_, min_normal_, below_min_normal_odd_);
    if (tiny) fl |= flag::underflow;
  }
  if (spec_.ftz && tiny && r != 0) return {zero_code(neg), fl | flag::underflow | flag::inexact | flag::flushed};
  if (mag == 0) return {zero_code(neg), fl};
  return {signed_code(mag, neg), fl};
}

[[gnu::always_inline]] inline RefResult FastOracle::deliver(const Exact& x, How how) const {
  if (x.nan) return default_nan(x.fl);
  if (std::isinf(x.v)) return inf_result(std::signbit(x.v), x.fl);
  return round_finite(x.v, x.fl, how);
}

RefResult FastOracle::operator()(uint64_t a, uint64_t b, uint64_t c) const {
  return deliver(evaluate(a, b, c, spec_.mode == RefMode::rdn), How{});
}

std::pair<RefResult, RefResult> FastOracle::sr_candidates(uint64_t a, uint64_t b, uint64_t c) const {
  const Exact x = evaluate(a, b, c, /*rdn_zero=*/false);
  return {deliver(x, How{true, false}), deliver(x, How{true, true})};
}

}  // namespace fpsim_ref
