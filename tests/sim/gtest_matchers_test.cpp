// fpsim::testing::BitExactTo and WithinUlps (sim/testing): what matches, and
// the text of a failure. Bit patterns and ULP distances are worked out by
// hand from the IEEE 754 encodings (fp32: 1.0 = 0x3f800000, the next float up
// is 0x3f800001 = 1 + 2^-23; fp16: 1.0 = 0x3c00).
#include "fpsim/testing/gtest_matchers.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace {

using fpsim::testing::BitExactTo;
using fpsim::testing::WithinUlps;

float f32(uint32_t bits) { return std::bit_cast<float>(bits); }

// The explanation gmock prints under "Actual:" for a value that fails.
template <typename M, typename V>
std::string explain(const M& matcher, const V& value) {
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(matcher, value, &listener));
  return listener.str();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(BitExactTo, MatchesEqualBitsInAnyRangeOfFloat) {
  const std::vector<float> expected = {1.0f, -2.5f, 0.0f, f32(0x00000001)};
  const std::array<float, 4> same = {1.0f, -2.5f, 0.0f, f32(0x00000001)};
  EXPECT_THAT(expected, BitExactTo(expected));
  EXPECT_THAT(same, BitExactTo(expected));
  EXPECT_THAT(std::span<const float>(same), BitExactTo(expected));
  EXPECT_THAT(same, BitExactTo({1.0f, -2.5f, 0.0f, f32(0x00000001)}));
}

TEST(BitExactTo, NegativeZeroDiffersFromPositiveZero) {
  const std::vector<float> expected = {0.0f};
  const std::vector<float> actual = {-0.0f};
  EXPECT_FALSE(::testing::Matches(BitExactTo(expected))(actual));
  EXPECT_EQ(explain(BitExactTo(expected), actual),
            "which differs in 1 of 1 element\n"
            "  [0] expected 0x00000000 (0), actual 0x80000000 (-0), 0 ulps (the sign of zero differs)");
}

TEST(BitExactTo, NaNMatchesOnlyTheSameNaNCode) {
  const std::vector<float> quiet = {f32(0x7fc00000)};
  EXPECT_THAT(quiet, BitExactTo(quiet));
  const std::vector<float> all_ones = {f32(0x7fffffff)};  // what NVIDIA GPUs write for NaN
  EXPECT_THAT(explain(BitExactTo(quiet), all_ones),
              ::testing::HasSubstr("[0] expected 0x7fc00000 (nan), actual 0x7fffffff (nan), another NaN"));
  EXPECT_THAT(explain(BitExactTo(quiet), std::vector<float>{1.0f}), ::testing::HasSubstr("NaN vs a number"));
}

TEST(BitExactTo, FailureShowsIndexHexDecimalAndUlps) {
  const std::vector<float> expected = {1.0f, 2.0f, 3.0f};
  const std::vector<float> actual = {1.0f, f32(0x40000003), 3.0f};  // 2 + 3*2^-22
  EXPECT_EQ(explain(BitExactTo(expected), actual),
            "which differs in 1 of 3 elements\n"
            "  [1] expected 0x40000000 (2), actual 0x40000003 (2.0000007152557373), 3 ulps");
}

TEST(BitExactTo, ListsTenDifferencesAndCountsTheRest) {
  const std::vector<float> expected(16, 1.0f);
  const std::vector<float> actual(16, f32(0x3f800001));  // 1 + 2^-23 = 1.00000011920928955078125
  const std::string text = explain(BitExactTo(expected), actual);
  EXPECT_TRUE(contains(text, "which differs in 16 of 16 elements\n")) << text;
  EXPECT_TRUE(contains(text, "[9] expected 0x3f800000 (1), actual 0x3f800001 (1.0000001192092896), 1 ulp\n")) << text;
  EXPECT_FALSE(contains(text, "[10]")) << text;
  EXPECT_TRUE(text.ends_with("\n  ... and 6 more")) << text;
}

TEST(BitExactTo, SizeMismatchIsExplained) {
  EXPECT_EQ(explain(BitExactTo(std::vector<float>{1.0f, 2.0f}), std::vector<float>{1.0f}),
            "which has 1 element, expected 2");
}

TEST(BitExactTo, DescriptionsNameTheCountAndFormat) {
  const ::testing::Matcher<const std::vector<float>&> m = BitExactTo(std::vector<float>{1.0f, 2.0f});
  EXPECT_EQ(::testing::DescribeMatcher<const std::vector<float>&>(m), "is bit-exact to the 2 expected fp32 values");
  EXPECT_EQ(::testing::DescribeMatcher<const std::vector<float>&>(m, true),
            "is not bit-exact to the 2 expected fp32 values");
}

TEST(BitExactTo, ExpectThatFailureCarriesTheExplanation) {
  const std::vector<float> expected = {1.0f};
  const std::vector<float> actual = {f32(0x3f800001)};
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(actual, BitExactTo(expected)),
                          "[0] expected 0x3f800000 (1), actual 0x3f800001 (1.0000001192092896), 1 ulp");
}

TEST(BitExactTo, Fp16AndBf16CodesShowTheirOwnValues) {
  // fp16 0x3c01 = 1 + 2^-10 = 1.0009765625; bf16 0x3f81 = 1 + 2^-7 = 1.0078125.
  const std::vector<uint16_t> fp16_codes = {0x3c00};
  EXPECT_THAT(fp16_codes, BitExactTo(fp16_codes));
  EXPECT_EQ(explain(BitExactTo(fp16_codes), std::vector<uint16_t>{0x3c01}),
            "which differs in 1 of 1 element\n"
            "  [0] expected 0x3c00 (1), actual 0x3c01 (1.0009765625), 1 ulp");
  const std::vector<uint16_t> bf16_codes = {0x3f80};
  EXPECT_EQ(explain(BitExactTo(bf16_codes, fpsim::formats::bf16), std::vector<uint16_t>{0x3f81}),
            "which differs in 1 of 1 element\n"
            "  [0] expected 0x3f80 (1), actual 0x3f81 (1.0078125), 1 ulp");
  // e4m3 (the uint8_t default): 0x38 = 1, 0x3a = 1.25, two codes apart.
  EXPECT_THAT(explain(BitExactTo(std::vector<uint8_t>{0x38}), std::vector<uint8_t>{0x3a}),
              ::testing::HasSubstr("[0] expected 0x38 (1), actual 0x3a (1.25), 2 ulps"));
}

TEST(WithinUlps, CountsCodesInSignedMagnitudeOrder) {
  const std::vector<float> one = {1.0f};
  const std::vector<float> next = {f32(0x3f800001)};
  EXPECT_THAT(next, WithinUlps(one, 1));
  EXPECT_FALSE(::testing::Matches(WithinUlps(one, 0))(next));
  // 1.0 and the float just below it (0x3f7fffff = 1 - 2^-24) are 1 ulp apart
  // although their exponents differ.
  EXPECT_THAT(std::vector<float>{f32(0x3f7fffff)}, WithinUlps(one, 1));
  // The smallest subnormals of opposite signs are 2 apart (through ±0).
  EXPECT_THAT(std::vector<float>{f32(0x80000001)}, WithinUlps(std::vector<float>{f32(0x00000001)}, 2));
  EXPECT_THAT(explain(WithinUlps(std::vector<float>{f32(0x00000001)}, 1), std::vector<float>{f32(0x80000001)}),
              ::testing::HasSubstr("2 ulps"));
  // The largest finite float and inf are neighbours.
  const float max = std::numeric_limits<float>::max();
  EXPECT_THAT(std::vector<float>{std::numeric_limits<float>::infinity()}, WithinUlps(std::vector<float>{max}, 1));
}

TEST(WithinUlps, PlusAndMinusZeroAreZeroUlpsApart) {
  EXPECT_THAT(std::vector<float>{-0.0f}, WithinUlps(std::vector<float>{0.0f}, 0));
}

TEST(WithinUlps, AnyNaNMatchesAnyNaNButNoNumber) {
  EXPECT_THAT(std::vector<float>{f32(0x7fffffff)}, WithinUlps(std::vector<float>{f32(0x7fc00000)}, 0));
  EXPECT_EQ(explain(WithinUlps(std::vector<float>{f32(0x7fc00000)}, 1000), std::vector<float>{1.0f}),
            "which differs in 1 of 1 element\n"
            "  [0] expected 0x7fc00000 (nan), actual 0x3f800000 (1), NaN vs a number");
}

TEST(WithinUlps, FailureListsOnlyTheElementsBeyondTheBound) {
  const std::vector<float> expected = {1.0f, 1.0f, 1.0f};
  const std::vector<float> actual = {f32(0x3f800001), f32(0x3f800003), f32(0x3f7fffff)};
  EXPECT_EQ(explain(WithinUlps(expected, 2), actual),
            "which differs in 1 of 3 elements\n"
            "  [1] expected 0x3f800000 (1), actual 0x3f800003 (1.0000003576278687), 3 ulps");
}

TEST(WithinUlps, DescriptionNamesTheBoundAndFormat) {
  const ::testing::Matcher<const std::vector<uint16_t>&> m = WithinUlps(std::vector<uint16_t>{0x3c00}, 1);
  EXPECT_EQ(::testing::DescribeMatcher<const std::vector<uint16_t>&>(m),
            "is within 1 ulp (fp16) of the 1 expected fp16 value");
  EXPECT_THAT(std::vector<uint16_t>{0x3bff}, m);  // 1 - 2^-11, the fp16 just below 1
  EXPECT_THAT(std::vector<uint16_t>{0x3c02}, ::testing::Not(m));
}

TEST(WithinUlps, DoublesUseFp64Codes) {
  const double one = 1.0, next = std::bit_cast<double>(uint64_t{0x3ff0000000000001});
  EXPECT_THAT(std::vector<double>{next}, WithinUlps(std::vector<double>{one}, 1));
  EXPECT_THAT(explain(BitExactTo(std::vector<double>{one}), std::vector<double>{next}),
              ::testing::HasSubstr("expected 0x3ff0000000000000 (1), actual 0x3ff0000000000001 (1.0000000000000002)"));
}

}  // namespace
