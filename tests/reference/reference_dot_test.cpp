// fpsim_ref::exact_dot (reference/include/fpsim_ref/dot.hpp): hand-derived
// values, and properties whose oracles are integer arithmetic and the host's
// IEEE division.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "fpsim_ref/dot.hpp"

namespace fpsim_ref {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMax = std::numeric_limits<double>::max();
const double kMinSub = std::ldexp(1.0, -1074);

ExactDot dot(std::vector<double> a, std::vector<double> b, double c = 0.0) { return exact_dot(a, b, c); }

uint64_t bits(double x) { return std::bit_cast<uint64_t>(x); }

RefSpec mode(RefMode m) {
  RefSpec s;
  s.mode = m;
  return s;
}

// 1e30*1 + 1*1 - 1e30*1: double arithmetic in this order gives 0, the exact
// value is 1.
TEST(ExactDot, CancellationKeepsTheSmallTerm) {
  volatile double big = 1e30;
  EXPECT_EQ(big * 1 + 1.0 * 1 - big * 1, 0.0);  // what the naive sum does
  const ExactDot d = dot({1e30, 1, -1e30}, {1, 1, 1});
  EXPECT_TRUE(d.is_finite());
  EXPECT_EQ(d.to_string(), "0x1p0");
  EXPECT_EQ(d.to_double(), 1.0);
  EXPECT_EQ(d.relative_error(1.0), 0.0);
  EXPECT_EQ(d.relative_error(0.0), 1.0);
  EXPECT_EQ(d.relative_error(2.0), 1.0);
  EXPECT_EQ(dot({1, 1e30, -1e30}, {1, 1, 1}).to_string(), "0x1p0");
}

// 2^1023 * 2^1023 + 2^-1074 * 2^-1074 - 2^1023 * 2^1023 = 2^-2148: a spread
// of 4194 bits between the terms.
TEST(ExactDot, WidestExponentSpreadIsExact) {
  const double top = std::ldexp(1.0, 1023);
  const ExactDot d = dot({top, kMinSub, -top}, {top, kMinSub, top});
  EXPECT_EQ(d.to_string(), "0x1p-2148");
  EXPECT_EQ(bits(d.to_double()), bits(0.0));  // far below half the smallest subnormal
  EXPECT_EQ(d.to_double(RefMode::rup), kMinSub);
  EXPECT_EQ(d.to_double(RefMode::rdn), 0.0);
  EXPECT_EQ(d.to_double(RefMode::rtz), 0.0);
}

// A single product of two smallest subnormals: 2^-2148.
TEST(ExactDot, TinySubnormalProducts) {
  const ExactDot d = dot({kMinSub}, {kMinSub});
  EXPECT_FALSE(d.is_zero());
  EXPECT_EQ(d.to_string(), "0x1p-2148");
  EXPECT_EQ(d.to_double(RefMode::rne), 0.0);
  EXPECT_EQ(d.to_double(RefMode::rna), 0.0);
  EXPECT_EQ(d.to_double(RefMode::rup), kMinSub);
  EXPECT_EQ(d.relative_error(0.0), 1.0);
  // (2^-1074 - 2^-2148) / 2^-2148 = 2^1074 - 1, beyond double: rne gives inf.
  EXPECT_EQ(d.relative_error(kMinSub), kInf);
  // Negative: rne gives -0, rdn the negative smallest subnormal.
  const ExactDot n = dot({-kMinSub}, {kMinSub});
  EXPECT_EQ(bits(n.to_double()), bits(-0.0));
  EXPECT_EQ(n.to_double(RefMode::rdn), -kMinSub);
  EXPECT_EQ(n.to_double(RefMode::rup), -0.0);
}

// Values on double's subnormal grid and between its points.
TEST(ExactDot, RoundsThroughDoubleSubnormals) {
  // 2^-1075: exactly half the smallest subnormal.
  const ExactDot half = dot({kMinSub}, {0.5});
  EXPECT_EQ(half.to_double(RefMode::rne), 0.0);  // tie to even (0)
  EXPECT_EQ(half.to_double(RefMode::rna), kMinSub);
  EXPECT_EQ(half.to_double(RefMode::rto), kMinSub);
  // 3 * 2^-1076 = 0.75 of the smallest subnormal.
  EXPECT_EQ(dot({3 * kMinSub}, {0.25}).to_double(), kMinSub);
  // 5 * 2^-1076 = 1.25; 6 * 2^-1076 = 1.5, a tie to the even 2.
  EXPECT_EQ(dot({5 * kMinSub}, {0.25}).to_double(), kMinSub);
  EXPECT_EQ(dot({3 * kMinSub}, {0.5}).to_double(), 2 * kMinSub);
  // Two halves make the smallest subnormal exactly.
  const ExactDot two = dot({kMinSub, kMinSub}, {0.5, 0.5});
  EXPECT_EQ(two.to_string(), "0x1p-1074");
  EXPECT_EQ(two.to_double(), kMinSub);
  EXPECT_EQ(two.relative_error(kMinSub), 0.0);
}

// 2^600 * 2^600 + 1 * 1 = 2^1200 + 1: finite, beyond double's range.
TEST(ExactDot, BeyondDoubleRangeOverflowsOnlyWhenRounded) {
  const double p = std::ldexp(1.0, 600);
  const ExactDot d = dot({p, 1}, {p, 1});
  EXPECT_TRUE(d.is_finite());
  EXPECT_EQ(d.to_double(RefMode::rne), kInf);
  EXPECT_EQ(d.to_double(RefMode::rup), kInf);
  EXPECT_EQ(d.to_double(RefMode::rtz), kMax);
  EXPECT_EQ(d.to_double(RefMode::rdn), kMax);
  // (2^1200 + 1 - DBL_MAX) / (2^1200 + 1) = 1 - (DBL_MAX - 1) / (2^1200 + 1),
  // within 2^-175 of 1: rounds to 1.
  EXPECT_EQ(d.relative_error(kMax), 1.0);
  EXPECT_EQ(d.relative_error(kInf), kInf);
  const RefResult f = d.round_to(ref_format("fp32"), mode(RefMode::rne));
  EXPECT_EQ(f.code, 0x7F800000u);
  EXPECT_NE(f.flags & flag::overflow, 0u);
  // Cancelling huge products: exactly zero.
  EXPECT_TRUE(dot({p, -p}, {p, p}).is_zero());
}

TEST(ExactDot, ExactZero) {
  const ExactDot d = dot({1, 1}, {1, -1});
  EXPECT_TRUE(d.is_zero());
  EXPECT_EQ(d.to_string(), "0");
  EXPECT_EQ(bits(d.to_double()), bits(0.0));
  EXPECT_EQ(d.relative_error(0.0), 0.0);
  EXPECT_EQ(d.relative_error(-0.0), 0.0);
  EXPECT_EQ(d.relative_error(1e-300), kInf);
  // Against the terms: |1e-300 - 0| / (1 + 1); the host's division of two
  // doubles is correctly rounded.
  EXPECT_EQ(d.error_vs_abs_sum(1e-300), 1e-300 / 2);
  // Every term zero (and empty vectors): the denominator is zero too.
  const ExactDot z = dot({0, 0}, {5, -3});
  EXPECT_TRUE(z.is_zero());
  EXPECT_TRUE(z.abs_sum().is_zero());
  EXPECT_EQ(z.error_vs_abs_sum(0.0), 0.0);
  EXPECT_EQ(z.error_vs_abs_sum(1.0), kInf);
  EXPECT_TRUE(dot({}, {}).is_zero());
}

TEST(ExactDot, CIsAddedExactly) {
  EXPECT_EQ(dot({}, {}, 2.5).to_double(), 2.5);
  EXPECT_EQ(dot({1e30}, {1}, -1e30).to_string(), "0");
  // 1 + 2^-80 - 1 = 2^-80.
  EXPECT_EQ(dot({1, std::ldexp(1.0, -40)}, {1, std::ldexp(1.0, -40)}, -1.0).to_string(), "0x1p-80");
}

TEST(ExactDot, ValueAndAbsSumAsDyadics) {
  const ExactDot d = dot({1, -2}, {1, 1});  // 1 - 2 = -1; |1| + |-2| = 3
  EXPECT_EQ(d.to_string(), "-0x1p0");
  EXPECT_TRUE(d.value().neg);
  EXPECT_EQ(d.abs_sum().mag, std::vector<uint64_t>{3});
  EXPECT_EQ(d.abs_sum().exp, 0);
  EXPECT_EQ(dot({-0.75}, {1}).to_string(), "-0x3p-2");
  // 2^64 + 1 needs two words.
  const ExactDot w = dot({std::ldexp(1.0, 32), 1}, {std::ldexp(1.0, 32), 1});
  EXPECT_EQ(w.value().mag, (std::vector<uint64_t>{1, 1}));
  EXPECT_EQ(w.to_string(), "0x10000000000000001p0");
}

TEST(ExactDot, RelativeErrorIsCorrectlyRounded) {
  // |1 - 3| / 3 and |4 - 3| / 3: the host's division is correctly rounded.
  const ExactDot three = dot({1}, {3});
  EXPECT_EQ(three.relative_error(1.0), 2.0 / 3.0);
  EXPECT_EQ(three.relative_error(4.0), 1.0 / 3.0);
  // exact 1 + 2^-60, approx 1: 2^-60 / (1 + 2^-60) = 2^-60 - 2^-120 + ...,
  // nearest double 2^-60 (the next double below is 2^-60 - 2^-113).
  const double t = std::ldexp(1.0, -30);
  const ExactDot d = dot({1, t}, {1, t});
  EXPECT_EQ(d.relative_error(1.0), std::ldexp(1.0, -60));
  EXPECT_EQ(d.to_double(), 1.0);
  // The same error measured against the terms' sum |1| + |2^-60|.
  EXPECT_EQ(d.error_vs_abs_sum(1.0), std::ldexp(1.0, -60));
  // exact 2^-52 = 1*1 - 1*(1 - 2^-52), terms 2 - 2^-52: approx 0 gives
  // relative error 1 and 2^-52 / (2 - 2^-52) against the terms.
  const double below = 1 - std::ldexp(1.0, -52);
  const ExactDot c = dot({1, -1}, {1, below});
  EXPECT_EQ(c.relative_error(0.0), 1.0);
  EXPECT_EQ(c.error_vs_abs_sum(0.0), std::ldexp(1.0, -52) / (1 + 1 - std::ldexp(1.0, -52)));
}

TEST(ExactDot, SpecialValues) {
  EXPECT_EQ(dot({kInf}, {0}).kind(), ExactDot::Kind::nan);  // 0 * inf
  EXPECT_EQ(dot({0}, {-kInf}).kind(), ExactDot::Kind::nan);
  EXPECT_EQ(dot({kInf, -kInf}, {1, 1}).kind(), ExactDot::Kind::nan);
  EXPECT_EQ(dot({kInf, 1}, {1, 1}).kind(), ExactDot::Kind::pos_inf);
  EXPECT_EQ(dot({-kInf}, {2}).kind(), ExactDot::Kind::neg_inf);
  EXPECT_EQ(dot({kInf}, {-1}, -kInf).kind(), ExactDot::Kind::neg_inf);
  EXPECT_EQ(dot({kInf}, {1}, -kInf).kind(), ExactDot::Kind::nan);
  EXPECT_EQ(dot({1}, {1}, kNaN).kind(), ExactDot::Kind::nan);
  EXPECT_EQ(dot({kNaN}, {0}).kind(), ExactDot::Kind::nan);
  // An infinite product next to a huge finite sum is still inf.
  EXPECT_EQ(dot({kMax, kInf}, {kMax, 1}).kind(), ExactDot::Kind::pos_inf);

  const ExactDot nan = dot({kInf}, {0});
  EXPECT_TRUE(std::isnan(nan.to_double()));
  EXPECT_EQ(nan.to_string(), "nan");
  EXPECT_EQ(nan.relative_error(kNaN), 0.0);
  EXPECT_EQ(nan.relative_error(1.0), kInf);
  EXPECT_EQ(nan.error_vs_abs_sum(kInf), kInf);
  const ExactDot inf = dot({kInf}, {1});
  EXPECT_EQ(inf.to_double(), kInf);
  EXPECT_EQ(inf.relative_error(kInf), 0.0);
  EXPECT_EQ(inf.relative_error(-kInf), kInf);
  EXPECT_EQ(inf.relative_error(kMax), kInf);
  EXPECT_EQ(dot({-kInf}, {1}).to_double(), -kInf);
  // Finite exact value, non-finite approximation.
  const ExactDot one = dot({1}, {1});
  EXPECT_EQ(one.relative_error(kNaN), kInf);
  EXPECT_EQ(one.relative_error(-kInf), kInf);
  EXPECT_EQ(one.error_vs_abs_sum(kNaN), kInf);
  EXPECT_TRUE(std::isnan(one.ulp_error(kNaN, ref_format("fp32"))));
  EXPECT_TRUE(std::isnan(inf.ulp_error(kInf, ref_format("fp32"))));
}

TEST(ExactDot, SizeMismatchThrows) { EXPECT_THROW(dot({1, 2}, {1}), std::invalid_argument); }

TEST(ExactDot, RoundsIntoOtherFormats) {
  // 1 + 2^-30: fp32 rne gives 1 (inexact), rup the next float up.
  const double t = std::ldexp(1.0, -15);
  const ExactDot d = dot({1, t}, {1, t});
  const RefResult rne = d.round_to(ref_format("fp32"), mode(RefMode::rne));
  EXPECT_EQ(rne.code, 0x3F800000u);
  EXPECT_NE(rne.flags & flag::inexact, 0u);
  EXPECT_EQ(d.round_to(ref_format("fp32"), mode(RefMode::rup)).code, 0x3F800001u);
  EXPECT_EQ(d.round_to(ref_format("bf16"), mode(RefMode::rne)).code, 0x3F80u);
  EXPECT_EQ(d.round_to(ref_format("bf16"), mode(RefMode::rup)).code, 0x3F81u);
  // -464 into e4m3: the midpoint of 448 (0x7E, even) and the phantom 480
  // (0x7F): rne gives -448 (0xFE). -480 overflows: e4m3 has no inf, so NaN
  // (0xFF) under the ieee overflow policy.
  EXPECT_EQ(dot({-464}, {1}).round_to(ref_format("e4m3"), mode(RefMode::rne)).code, 0xFEu);
  EXPECT_EQ(dot({-480}, {1}).round_to(ref_format("e4m3"), mode(RefMode::rne)).code, 0xFFu);
}

TEST(ExactDot, UlpError) {
  const RefFormat& fp32 = ref_format("fp32");
  const double t = std::ldexp(1.0, -15);
  const ExactDot d = dot({1, t}, {1, t});  // 1 + 2^-30, ulp_fp32 = 2^-23
  EXPECT_EQ(d.ulp_error(1.0, fp32), -std::ldexp(1.0, -7));
  EXPECT_EQ(d.ulp_error(1 + std::ldexp(1.0, -23), fp32), 1 - std::ldexp(1.0, -7));
  // 0.75 is in [2^-1, 1): ulp 2^-24.
  EXPECT_EQ(dot({0.75}, {1}).ulp_error(0.75 + std::ldexp(1.0, -24), fp32), 1.0);
  EXPECT_EQ(dot({0.75}, {1}).ulp_error(0.75 - std::ldexp(1.0, -23), fp32), -2.0);
  // Zero: fp32's smallest subnormal spacing 2^-149.
  EXPECT_EQ(dot({1}, {-1}, 1).ulp_error(std::ldexp(1.0, -149), fp32), 1.0);
  // fp16 subnormal 2^-20: spacing 2^-24 (emin -14, 10 fraction bits).
  EXPECT_EQ(dot({std::ldexp(1.0, -20)}, {1}).ulp_error(std::ldexp(1.0, -20) + std::ldexp(1.0, -24), ref_format("fp16")),
            1.0);
  EXPECT_THROW(d.ulp_error(1.0, ref_format("int8")), std::invalid_argument);
  EXPECT_THROW(d.ulp_error(1.0, ref_format("e8m0")), std::invalid_argument);
}

// Small integers (|v| <= 2^20, up to 32 terms): every product and partial sum
// is below 2^46, so int64 arithmetic is exact and the double of the sum is
// too. Scaling a by 2^s and b by 2^t scales the exact value by 2^(s+t).
RC_GTEST_PROP(ExactDotProperties, SmallIntegerDotEqualsIntegerArithmetic, ()) {
  const size_t n = *rc::gen::inRange<size_t>(0, 33);
  const auto a = *rc::gen::container<std::vector<int64_t>>(n, rc::gen::inRange<int64_t>(-(1 << 20), (1 << 20) + 1));
  const auto b = *rc::gen::container<std::vector<int64_t>>(n, rc::gen::inRange<int64_t>(-(1 << 20), (1 << 20) + 1));
  const int64_t c = *rc::gen::inRange<int64_t>(-(1 << 20), (1 << 20) + 1);
  const int s = *rc::gen::inRange(-480, 481);
  const int t = *rc::gen::inRange(-480, 481);
  int64_t sum = c;
  std::vector<double> da, db;
  for (size_t i = 0; i < n; ++i) {
    sum += a[i] * b[i];
    da.push_back(std::ldexp(static_cast<double>(a[i]), s));
    db.push_back(std::ldexp(static_cast<double>(b[i]), t));
  }
  const double expected = std::ldexp(static_cast<double>(sum), s + t);
  const ExactDot d = exact_dot(da, db, std::ldexp(static_cast<double>(c), s + t));
  RC_ASSERT(d.is_finite());
  RC_ASSERT(d.is_zero() == (sum == 0));
  RC_ASSERT(bits(d.to_double()) == bits(sum == 0 ? 0.0 : expected));
  RC_ASSERT(d.relative_error(expected) == 0.0);
  RC_ASSERT(d.error_vs_abs_sum(expected) == 0.0);
}

// When approx and the exact value are doubles within a factor of 2 of each
// other (Sterbenz), approx - exact is exact in double, so the correctly
// rounded relative error is the host's IEEE division of two doubles.
RC_GTEST_PROP(ExactDotProperties, RelativeErrorMatchesHostDivisionWhenSubtractionIsExact, ()) {
  const uint64_t x_bits = *rc::gen::inRange<uint64_t>(1, 0x7FF0000000000000u);  // positive finite
  const int64_t delta = *rc::gen::inRange<int64_t>(-(int64_t{1} << 40), (int64_t{1} << 40) + 1);
  const int64_t y_signed = static_cast<int64_t>(x_bits) + delta;
  RC_PRE(y_signed > 0 && y_signed < int64_t{0x7FF0000000000000});
  const double x = std::bit_cast<double>(x_bits);
  const double y = std::bit_cast<double>(static_cast<uint64_t>(y_signed));
  RC_PRE(y / 2 <= x && x <= 2 * y);
  const bool neg = *rc::gen::arbitrary<bool>();
  const double sx = neg ? -x : x, sy = neg ? -y : y;
  const ExactDot d = exact_dot(std::vector<double>{sx}, std::vector<double>{1.0});
  RC_ASSERT(d.relative_error(sy) == std::fabs(sy - sx) / std::fabs(sx));
  RC_ASSERT(d.error_vs_abs_sum(sy) == std::fabs(sy - sx) / std::fabs(sx));
}

// The exact value does not depend on the order of the terms.
RC_GTEST_PROP(ExactDotProperties, OrderDoesNotMatter, ()) {
  const auto a = *rc::gen::container<std::vector<double>>(8, rc::gen::arbitrary<double>());
  const auto b = *rc::gen::container<std::vector<double>>(8, rc::gen::arbitrary<double>());
  const std::vector<double> ra(a.rbegin(), a.rend()), rb(b.rbegin(), b.rend());
  RC_ASSERT(exact_dot(a, b).to_string() == exact_dot(ra, rb).to_string());
}

}  // namespace
}  // namespace fpsim_ref
