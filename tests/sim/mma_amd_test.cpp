// Hand-derived cases of the AMD matrix-core parameters (docs/mma.md, "AMD matrix cores"): pairwise FP32
// sums, alignment toward -inf, exact block sums, the product limit (each expected value worked out in the
// comment beside it), and the fast GEMM path checked against the definition on random inputs and models.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/mma.hpp"

namespace fpsim {
namespace {

uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }

// A plain block-FMA model: fp16 inputs, FP32 output, n = 4, no extra bits, RZ, no clamp.
MmaModel plain_block() {
  MmaModel m;
  m.input_a = m.input_b = formats::fp16;
  m.output = formats::fp32;
  m.block_size = 4;
  m.extra_bits = 0;
  m.final_rounding = Rounding::rtz;
  return m;
}

// Products 1, 0, 2^-24, 2^-24 (fp16 operands 1, 0, 2^-12, 2^-12 squared), C = 0.
// Pairwise (mi210): RN(1 + 0) = 1, RN(2^-24 + 2^-24) = 2^-23, RN(1 + 2^-23) = 1 + 2^-23 (exact in
// FP32: 0x3F800001), then RN(0 + that) = 0x3F800001.
// Sequential (fp32-sequential): 1, 1, RN(1 + 2^-24) = 1 (a tie, to even), RN(1 + 2^-24) = 1: 0x3F800000.
TEST(MmaAmd, PairwiseSumDiffersFromSequential) {
  const std::vector<float> a{1.0f, 0.0f, 0x1p-12f, 0x1p-12f};
  for (const char* preset : {"mi210-fp16-fp32", "mi250-fp16-fp32"})
    EXPECT_EQ(bits(mma_dot(mma_preset(preset), a, a, 0.0f)), 0x3F800001u) << preset;
  EXPECT_EQ(bits(mma_dot(mma_preset("fp32-sequential"), a, a, 0.0f)), 0x3F800000u);
}

// MI210 flushes subnormals of the input format: fp16 2^-15 (subnormal) times 1 reads as 0, so
// 2^-15 * 1 + 1 = 1 exactly; with fp16 2^-14 (normal) the product 2^-14 stays: RN(1 + 2^-14) = 1 + 2^-14.
TEST(MmaAmd, Cdna2FlushesInputFormatSubnormals) {
  const MmaModel m = mma_preset("mi210-fp16-fp32");
  const std::vector<float> one{1.0f};
  EXPECT_EQ(mma_dot(m, std::vector<float>{0x1p-15f}, one, 1.0f), 1.0f);
  EXPECT_EQ(mma_dot(m, std::vector<float>{0x1p-14f}, one, 1.0f), 1.0f + 0x1p-14f);
}

// C = 1 (exponent 0) and one product -2^-24 (fp16 -2^-12 * 2^-12). The block aligns to exponent 0
// keeping 23 fraction bits (neab = 0): the product is -1/2 of the last unit 2^-23.
// Truncation drops it: 1 (0x3F800000). Toward -inf: -1 unit: 1 - 2^-23, an FP32 value (below 1 the
// FP32 spacing is 2^-24, so it is two steps below 1: 0x3F7FFFFE), exact under RZ.
TEST(MmaAmd, AlignmentTruncationDiffersFromFloor) {
  MmaModel m = plain_block();
  const std::vector<float> a{-0x1p-12f}, b{0x1p-12f};
  EXPECT_EQ(bits(mma_dot(m, a, b, 1.0f)), 0x3F800000u);
  m.align_rounding = AlignRounding::floor;
  EXPECT_EQ(bits(mma_dot(m, a, b, 1.0f)), 0x3F7FFFFEu);
  // A positive term with lost bits is truncated by floor as well: +2^-24 dropped, 1.
  EXPECT_EQ(bits(mma_dot(m, b, b, 1.0f)), 0x3F800000u);
}

// C = 1 and products 2^-24, 2^-30 (fp16 2^-12 squared, 2^-15 squared; 2^-15 is an fp16 subnormal,
// kept by MI100). Exact: 1 + 2^-24 + 2^-30, above the tie between 1 and 1 + 2^-23: RNE gives
// 1 + 2^-23 (0x3F800001). The same model with truncating alignment (neab = 0) drops both products: 1.
TEST(MmaAmd, ExactBlockSumDiffersFromTruncated) {
  MmaModel m = mma_preset("mi100-fp16-fp32");
  const std::vector<float> a{0x1p-12f, 0x1p-15f};
  EXPECT_EQ(bits(mma_dot(m, a, a, 1.0f)), 0x3F800001u);
  m.exact_sum = false;
  EXPECT_EQ(bits(mma_dot(m, a, a, 1.0f)), 0x3F800000u);
}

// Exact sums keep what lies far below the last kept bit: C = 1 and product -2^-48 (fp16 2^-24 *
// -2^-24, both subnormal): exact 1 - 2^-48 rounds (RNE) to 1 (0x3F800000); under RDN the sticky
// part makes it 1 - 2^-24 (0x3F7FFFFF), the FP32 value just below 1.
TEST(MmaAmd, ExactBlockSumKeepsTheStickyOfFarTerms) {
  MmaModel m = mma_preset("mi100-fp16-fp32");
  const std::vector<float> a{0x1p-24f}, b{-0x1p-24f};
  EXPECT_EQ(bits(mma_dot(m, a, b, 1.0f)), 0x3F800000u);
  m.final_rounding = Rounding::rdn;
  EXPECT_EQ(bits(mma_dot(m, a, b, 1.0f)), 0x3F7FFFFFu);
}

// bf16 2^64 * 2^64 = 2^128 is beyond FP32's range (>= 2^(127 + 1)). With product_limit the block is
// +inf even though the exact sum 2^128 - 2^128 = 0; with both signs it is NaN. Without the limit
// (h100-bf16-fp32) the block sums exactly to +0.
TEST(MmaAmd, ProductLimitMakesTheBlockInfOrNan) {
  const MmaModel m = mma_preset("mi300x-bf16-fp32");
  const std::vector<float> a{0x1p64f, 1.0f}, b{0x1p64f, 1.0f};
  EXPECT_EQ(mma_dot(m, a, b, 0.0f), std::numeric_limits<float>::infinity());
  const std::vector<float> a2{0x1p64f, -0x1p64f}, b2{0x1p64f, 0x1p64f};
  EXPECT_TRUE(std::isnan(mma_dot(m, a2, b2, 0.0f)));
  EXPECT_EQ(bits(mma_dot(mma_preset("h100-bf16-fp32"), a2, b2, 0.0f)), 0u);
  // The same through mma_gemm (the fast paths' limit check, K = 2, one block, C = 0; also MI100 with
  // the limit switched on): +inf, and NaN where the sums without the limit are the finite +0.
  MmaModel exact = mma_preset("mi100-bf16-fp32");
  exact.product_limit = true;
  for (const MmaModel& g : {m, exact}) {
    std::vector<float> d(1), c{0.0f};
    mma_gemm(g, 1, 1, 2, a, b, c, d);
    EXPECT_EQ(d[0], std::numeric_limits<float>::infinity()) << g.name;
    mma_gemm(g, 1, 1, 2, a2, b2, c, d);
    EXPECT_TRUE(std::isnan(d[0])) << g.name;
  }
}

// CDNA3, C after the products: one product -2^-24 (fp16), C = 1. The products' group sums at its own
// exponent -24 exactly; C's exponent 0 is larger, so the products' sum is aligned to it keeping
// 23 + 1 (neab) + 7 fraction bits: -2^-24 = -2^7 units of 2^-31, exact; 1 - 2^-24 is an FP32 value
// (24 significant bits), so D = 0x3F7FFFFF. With product -2^-48 (fp16 2^-24 * -2^-24), the late stage floors
// -2^-48 to -2^-31: 1 - 2^-31, RNE to 1 (0x3F800000) (the floor is invisible after RNE here), and
// with C = -1: -1 - 2^-31 rounds to -1 (0xBF800000).
TEST(MmaAmd, Cdna3AddsCAfterTheProducts) {
  const MmaModel m = mma_preset("mi300x-fp16-fp32");
  EXPECT_EQ(bits(mma_dot(m, std::vector<float>{-0x1p-12f}, std::vector<float>{0x1p-12f}, 1.0f)), 0x3F7FFFFFu);
  EXPECT_EQ(bits(mma_dot(m, std::vector<float>{0x1p-24f}, std::vector<float>{-0x1p-24f}, 1.0f)), 0x3F800000u);
  EXPECT_EQ(bits(mma_dot(m, std::vector<float>{0x1p-24f}, std::vector<float>{-0x1p-24f}, -1.0f)), 0xBF800000u);
}

// CDNA3 FP8 groups: e4m3fnuz a = [2^7, 2^-10], b = [2^7, -2^-10] (2^-10 is the smallest e4m3fnuz
// subnormal): products 2^14 (k = 0, even group) and -2^-20 (k = 1, odd group), C = 0.
// Odd/even: each group is exact at its own exponent; the odd group joins the even one at exponent 14
// with 23 + 1 (neab) fraction bits, units of 2^-10, rounded toward -inf: -2^-20 becomes -2^-10, so
// D = 2^14 - 2^-10, an FP32 value (spacing 2^-10 in [2^13, 2^14)): 0x467FFFFF.
// One group (odd_even_groups false): -2^-20 is truncated away at the same alignment: 2^14 = 0x46800000.
TEST(MmaAmd, Cdna3Fp8OddAndEvenProductsFormTwoGroups) {
  MmaModel m = mma_preset("mi300x-e4m3fnuz-fp32");
  const std::vector<float> a{0x1p7f, 0x1p-10f}, b{0x1p7f, -0x1p-10f};
  EXPECT_EQ(bits(mma_dot(m, a, b, 0.0f)), 0x467FFFFFu);
  m.odd_even_groups = false;
  EXPECT_EQ(bits(mma_dot(m, a, b, 0.0f)), 0x46800000u);
}

// The C-stage shift of the published CDNA3 model wraps modulo 64 (docs/mma.md, "AMD matrix cores").
// bf16 a = b = 2^-35: product 2^-70; C = 1. The products' sum is 70 binades below C, kept with
// 1 + 7 extra bits. Wrapped: it is shifted by 70 mod 64 = 6 binades instead of 70, so it weighs
// 2^-70 * 2^64 = 2^-6: D = 1 + 2^-6 = 0x3F820000. Not wrapped: 2^-70 is far below the last kept bit
// 2^-31 and positive, so the floor drops it: D = 1 (0x3F800000).
TEST(MmaAmd, Cdna3CStageShiftWrapsModulo64) {
  MmaModel m = mma_preset("mi300x-bf16-fp32");
  const std::vector<float> a{0x1p-35f};
  EXPECT_EQ(bits(mma_dot(m, a, a, 1.0f)), 0x3F820000u);
  m.c_stage_shift_wraps = false;
  EXPECT_EQ(bits(mma_dot(m, a, a, 1.0f)), 0x3F800000u);
}

// The fast GEMM path (mma_gemm.cpp: CDNA1's exact sums on 128-bit integers, CDNA2's trees in native
// FP32, CDNA3's staged sums on 64-bit integers) against the definition, element by element, bit for
// bit: the oracle is mma_dot. Random shapes (K not a multiple of the block, K = 0), operands over the
// whole range of their format (zeros, subnormals, the largest values) or of similar magnitude (sums
// that cancel), a few inf / NaN operands, and C zero, -0, subnormal, huge, inf or NaN.

// A random value of f: |x| = 2^e * [1, 2) rounded to f (RNE, saturating: subnormals, zeros and the
// largest value come out of the rounding); e over the whole format (wide) or in [-3, 3].
float random_value(const Format& f, std::mt19937_64& rng, bool wide) {
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> pick(0, 99);
  const int roll = pick(rng);
  if (roll < 8) return roll < 4 ? 0.0f : -0.0f;
  if (roll == 8) return std::numeric_limits<float>::infinity() * (pick(rng) < 50 ? 1.0f : -1.0f);
  if (roll == 9 && pick(rng) < 30) return std::numeric_limits<float>::quiet_NaN();
  const int lo = wide ? f.emin() - f.man_bits - 1 : -3, hi = wide ? 130 : 3;
  const float x = std::ldexp(mant(rng), std::uniform_int_distribution<int>(lo, hi)(rng)) * (pick(rng) < 50 ? 1 : -1);
  RoundingSpec rs;
  rs.overflow = Overflow::saturate;
  Flags fl;
  return quantize(x, f, rs, fl);
}

void expect_gemm_equals_dot(const MmaModel& m, std::mt19937_64& rng, int trials) {
  std::uniform_int_distribution<int> dim(0, 5), kdim(0, 3 * m.block_size + 5), pick(0, 99);
  for (int trial = 0; trial < trials; ++trial) {
    const int M = dim(rng) + 1, N = dim(rng) + 1, K = trial == 0 ? 0 : kdim(rng);
    const bool wide = pick(rng) < 50, specials = pick(rng) < 20;
    auto value = [&](const Format& f) {
      for (;;) {
        const float x = random_value(f, rng, wide);
        if (specials || std::isfinite(x)) return x;
      }
    };
    std::vector<float> A(size_t(M * K)), B(size_t(K * N)), C(size_t(M * N)), D(size_t(M * N));
    for (float& x : A) x = value(m.input_a);
    for (float& x : B) x = value(m.input_b);
    for (float& x : C) {
      const int roll = pick(rng);
      x = roll < 5 ? 0x1p-140f * (roll < 3 ? 1.0f : -1.0f)  // FP32 subnormals
                   : value(formats::fp32);
    }
    mma_gemm(m, M, N, K, A, B, C, D);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        const std::vector<float> a(A.begin() + i * K, A.begin() + (i + 1) * K);
        std::vector<float> b(static_cast<size_t>(K));
        for (int k = 0; k < K; ++k) b[size_t(k)] = B[size_t(k * N + j)];
        const float want = mma_dot(m, a, b, C[size_t(i * N + j)]);
        ASSERT_EQ(bits(D[size_t(i * N + j)]), bits(want))
            << m.name << " (" << describe_mma_model(m) << ") trial " << trial << " M=" << M << " N=" << N
            << " K=" << K << " element " << i << "," << j;
      }
  }
}

TEST(MmaAmd, GemmEqualsDotForEveryAmdPreset) {
  std::mt19937_64 rng(19);
  int amd = 0;
  for (const MmaModel& m : mma_presets()) {
    if (!mma_uses_amd_parameters(m)) continue;
    ++amd;
    expect_gemm_equals_dot(m, rng, 150);
    if (testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GE(amd, 14);
}

// A flushed result keeps its sign (FTZ gives a signed zero, as IEEE's underflow to zero does), in the
// definition and in the fast path's native FP32. mi210-bf16-fp32, K = 4, C = -0: products
// -1.5 * 2^-126, 2^-126, -0, -0 (bf16 a = -1.5 * 2^-63, 2^-63, -0, -0 times b = 2^-63, 2^-63, 1, 1).
// Tree: RN(-1.5 * 2^-126 + 2^-126) = -2^-127, subnormal, flushed to -0; RN(-0 + -0) = -0;
// RN(-0 + -0) = -0; then RN(C + -0) = RN(-0 + -0) = -0: 0x80000000 (an unsigned flush gives +0).
TEST(MmaAmd, Cdna2FlushKeepsTheSignInGemmAndDot) {
  const MmaModel m = mma_preset("mi210-bf16-fp32");
  const std::vector<float> a{-0x1.8p-63f, 0x1p-63f, -0.0f, -0.0f}, b{0x1p-63f, 0x1p-63f, 1.0f, 1.0f};
  EXPECT_EQ(bits(mma_dot(m, a, b, -0.0f)), 0x80000000u);
  std::vector<float> d(1), c{-0.0f};
  mma_gemm(m, 1, 1, 4, a, b, c, d);
  EXPECT_EQ(bits(d[0]), 0x80000000u);
}

// Custom models with the AMD parameters varied around each AMD preset (block size, extra bits, every
// alignment rounding, the C stage's bits, clamp and wrapping, groups, limit, final rounding, flushes,
// FP16 output, accumulator width, promotion); combinations validate_mma_model refuses are skipped.
TEST(MmaAmd, GemmEqualsDotForRandomAmdParameters) {
  std::mt19937_64 rng(1919);
  std::uniform_int_distribution<int> pick(0, 99);
  const AlignRounding roundings[] = {AlignRounding::truncate, AlignRounding::rne, AlignRounding::floor};
  const Rounding finals[] = {Rounding::rtz, Rounding::rne, Rounding::rup, Rounding::rdn};
  int tested = 0;
  for (int model = 0; model < 300; ++model) {
    std::vector<const MmaModel*> amd;
    for (const MmaModel& p : mma_presets())
      if (mma_uses_amd_parameters(p)) amd.push_back(&p);
    MmaModel m = *amd[size_t(pick(rng)) % amd.size()];
    m.name = "random-amd";
    m.block_size = 1 + pick(rng) % 16;
    m.extra_bits = pick(rng) % 4;
    m.align_rounding = roundings[pick(rng) % 3];
    m.c_stage_rounding = roundings[pick(rng) % 3];
    m.c_stage_extra_bits = pick(rng) % 9;
    m.min_exp = pick(rng) < 50 ? -126 : (pick(rng) < 50 ? kNoClamp : -140 + pick(rng) % 20);
    if (m.c_after_products) m.c_stage_shift_wraps = pick(rng) < 50, m.odd_even_groups = pick(rng) < 50;
    m.product_limit = pick(rng) < 50;
    if (m.kind == MmaKind::block_fma) m.final_rounding = finals[pick(rng) % 4];
    m.subnormal_inputs = pick(rng) < 50;
    m.subnormal_outputs = pick(rng) < 50;
    if (m.kind == MmaKind::block_fma && pick(rng) < 20) m.output = formats::fp16, m.acc_frac_bits = 10;
    if (m.kind == MmaKind::block_fma && pick(rng) < 20) m.acc_frac_bits = 13;
    if (m.kind == MmaKind::block_fma && pick(rng) < 20) m.promotion_interval = m.block_size * (1 + pick(rng) % 3);
    try {
      validate_mma_model(m);
    } catch (const OptionError&) {
      continue;
    }
    ++tested;
    expect_gemm_equals_dot(m, rng, 20);
    if (testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GE(tested, 100);
}

TEST(MmaAmd, BadCombinationsAreRefused) {
  MmaModel m = plain_block();
  m.odd_even_groups = true;
  EXPECT_THROW(validate_mma_model(m), OptionError);
  m = plain_block();
  m.exact_sum = m.c_after_products = true;
  EXPECT_THROW(validate_mma_model(m), OptionError);
  m = mma_preset("fp32-sequential");
  m.exact_sum = true;
  EXPECT_THROW(validate_mma_model(m), OptionError);
  m = plain_block();
  m.c_stage_shift_wraps = true;  // without c_after_products
  EXPECT_THROW(validate_mma_model(m), OptionError);
  m = mma_preset("mi300x-fp16-fp32");
  m.extra_bits = 58;  // 58 + 7 > 64: the staged sums would not fit 128 bits
  EXPECT_THROW(validate_mma_model(m), OptionError);
  m.extra_bits = 57;
  EXPECT_NO_THROW(validate_mma_model(m));
  m.extra_bits = -1;
  EXPECT_THROW(validate_mma_model(m), OptionError);
}

}  // namespace
}  // namespace fpsim
