// fpsim_ref exact dot products: the ground truth for MMA error analysis
// (docs/architecture.md, "reference/"; docs/mma.md, "Error against the exact dot
// product").
//
// exact_dot(a, b, c) is sum_i a[i]*b[i] + c with no rounding at all: every
// double is an integer times a power of two, so every product and the sum are
// integers times 2^E for the smallest exponent E that occurs, and that integer
// is accumulated in GMP (src/dot.cpp proves it). The object it returns rounds
// that value once, with the reference's own conversion core, into any
// reference format and mode, and measures approximations against it.
//
// Special values follow IEEE 754 evaluated exactly (docs/mma.md, "The block-FMA model" uses the
// same rule for the models): the result is NaN when any a[i], b[i] or c is
// NaN, when a product is 0 * inf, or when +inf and -inf both occur among the
// products and c; otherwise it is +inf or -inf when one occurs. Finite inputs
// always give a finite exact value, even when it is beyond double's range.
// An exact zero has no sign (it rounds to +0).
//
// Plain types only: this header never names a sim/ or GMP type. Errors
// (a.size() != b.size()) throw std::invalid_argument. Thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fpsim_ref/reference.hpp"

namespace fpsim_ref {

// (-1)^neg * mag * 2^exp exactly; mag is little-endian 64-bit words without
// leading zero words (empty: the value 0).
struct ExactDyadic {
  bool neg = false;
  std::vector<uint64_t> mag;
  int64_t exp = 0;
  bool is_zero() const { return mag.empty(); }
};

class ExactDot {
 public:
  enum class Kind : uint8_t { finite, pos_inf, neg_inf, nan };

  Kind kind() const { return kind_; }
  bool is_finite() const { return kind_ == Kind::finite; }
  // Finite and exactly zero.
  bool is_zero() const { return kind_ == Kind::finite && value_.is_zero(); }
  // The exact finite value, and sum_i |a[i]*b[i]| + |c| (finite results only;
  // both zero otherwise).
  const ExactDyadic& value() const { return value_; }
  const ExactDyadic& abs_sum() const { return abs_sum_; }

  // The exact value correctly rounded to double (an overflow follows the
  // mode: rne/rna/away-from-zero give inf, rtz/rto/toward-zero give the
  // largest finite double; underflow goes through double's subnormals).
  // NaN and ±inf results give NaN and ±inf.
  double to_double(RefMode mode = RefMode::rne) const;
  // The exact value rounded once into any reference format with any spec
  // (flags included), as ref_from_double would round it if it were a double.
  RefResult round_to(const RefFormat& to, const RefSpec& spec) const;

  // |approx - exact| / |exact|, correctly rounded to double (rne). Exact
  // zero: 0 when approx is ±0, else +inf. A NaN or infinite result: 0 when
  // approx is the same special (any NaN for NaN, the same-signed inf), else
  // +inf. A finite exact value and a NaN or infinite approx: +inf.
  double relative_error(double approx) const;
  // |approx - exact| / (sum_i |a[i]*b[i]| + |c|), correctly rounded to double:
  // the error measured against the size of the terms, free of the dot
  // product's condition number. Exact zero with every term zero: 0 when
  // approx is ±0, else +inf. Specials as relative_error.
  double error_vs_abs_sum(double approx) const;
  // (approx - exact) / ulp_F(exact), signed, correctly rounded to double, where
  // ulp_F(x) = 2^(max(floor(log2|x|), emin_F) - man_bits_F) is the spacing of
  // format F at x (F's smallest subnormal spacing for x = 0). NaN when the
  // exact value or approx is not finite. Throws std::invalid_argument for
  // int8 or e8m0.
  double ulp_error(double approx, const RefFormat& f) const;

  // The exact value as text: "0", "nan", "inf", "-inf", or a hex float
  // "-0x<hex digits>p<exp>" (value = digits * 2^exp), for messages and tests.
  std::string to_string() const;

 private:
  friend ExactDot exact_dot(std::span<const double> a, std::span<const double> b, double c);
  Kind kind_ = Kind::finite;
  ExactDyadic value_;
  ExactDyadic abs_sum_;
};

// sum_i a[i]*b[i] + c, exactly. Throws std::invalid_argument when the sizes
// differ.
ExactDot exact_dot(std::span<const double> a, std::span<const double> b, double c = 0.0);

}  // namespace fpsim_ref
