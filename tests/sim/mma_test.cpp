// The MMA model's hand-derived cases (docs/mma.md, "Per-GPU parameters and their evidence"-§3). Every expected
// value is worked out in the comment beside it from the spec's definitions or
// from the hardware papers' probe decisions (docs/mma.md, "The probe table"), never taken
// from the code.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/mma.hpp"

namespace fpsim {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }

float dot(const char* preset, std::vector<float> a, std::vector<float> b, float c) {
  return mma_dot(mma_preset(preset), a, b, c);
}

TEST(MmaPresets, EveryGpuAndInputOfTheSpecIsNamedGpuInputOutput) {
  std::set<std::string> names;
  for (const MmaModel& m : mma_presets()) names.insert(m.name);
  for (const char* gpu : {"v100", "a100", "ada", "l40s", "h100", "h200", "b200"}) {
    const std::string g = gpu;
    EXPECT_TRUE(names.count(g + "-fp16-fp32")) << g;
    EXPECT_TRUE(names.count(g + "-fp16-fp16")) << g;
    if (g == "v100") continue;  // V100 tensor cores take fp16 only (docs/mma.md, "Per-GPU parameters and their evidence")
    EXPECT_TRUE(names.count(g + "-bf16-fp32")) << g;
    EXPECT_TRUE(names.count(g + "-tf32-fp32")) << g;
    if (g == "a100") continue;  // no FP8 on Ampere
    EXPECT_TRUE(names.count(g + "-e4m3-fp32")) << g;
    EXPECT_TRUE(names.count(g + "-e5m2-fp32")) << g;
  }
  for (const char* cpu : {"fp32-sequential", "fp32-fma-sequential", "fp32-pairwise", "fp32-fma-blocked"})
    EXPECT_TRUE(names.count(cpu)) << cpu;
  // The B200 FP8 fit and FP8 -> FP16 are marked unverified (docs/mma.md, "Per-GPU parameters and their evidence", Q2, Q8).
  EXPECT_FALSE(mma_preset("b200-e4m3-fp32").verified);
  EXPECT_FALSE(mma_preset("h100-e4m3-fp16").verified);
  EXPECT_TRUE(mma_preset("h100-e4m3-fp32").verified);
}

TEST(MmaPresets, ParametersAreTheSpecTable) {
  // docs/mma.md, "Per-GPU parameters and their evidence", row by row for the three GPUs with golden data.
  const MmaModel v = mma_preset("V100-FP16-FP32");  // names are case-insensitive
  EXPECT_EQ(v.block_size, 4);
  EXPECT_EQ(v.extra_bits, 0);
  EXPECT_EQ(v.final_rounding, Rounding::rtz);
  EXPECT_EQ(v.min_exp, -1024);
  const MmaModel a = mma_preset("a100-tf32-fp32");
  EXPECT_EQ(a.block_size, 4);
  EXPECT_EQ(a.extra_bits, 1);
  EXPECT_EQ(a.min_exp, -132);
  const MmaModel h16 = mma_preset("h100-fp16-fp16");
  EXPECT_EQ(h16.block_size, 16);
  EXPECT_EQ(h16.final_rounding, Rounding::rne);
  EXPECT_EQ(h16.min_exp, -21);
  EXPECT_EQ(h16.acc_frac_bits, 10);
  const MmaModel h8 = mma_preset("h100-e4m3-fp32");
  EXPECT_EQ(h8.block_size, 32);
  EXPECT_EQ(h8.extra_bits, -10);
  EXPECT_EQ(h8.acc_frac_bits, 13);
  EXPECT_EQ(h8.min_exp, -133);
}

TEST(MmaPresets, PromotionSuffixAndBadNames) {
  EXPECT_EQ(mma_preset("h100-e4m3-fp32:promote128").promotion_interval, 128);
  EXPECT_EQ(mma_preset("h100-e4m3-fp32:promote128").name, "h100-e4m3-fp32:promote128");
  EXPECT_EQ(mma_preset("h100-e4m3-fp32:promote").promotion_interval, 128);  // CUTLASS's default (docs/mma.md, "FP8 accumulation in libraries")
  EXPECT_EQ(mma_preset("h100-e4m3-fp32").promotion_interval, 0);            // presets are the instruction
  try {
    mma_preset("h900-fp16-fp32");
    FAIL() << "expected OptionError";
  } catch (const OptionError& e) {
    // An unknown unit: every unit, as "<unit>-*" (the message stays one short line).
    EXPECT_EQ(std::string(e.what()).rfind("unknown MMA preset 'h900-fp16-fp32'; known: v100-*, a100-*, ", 0), 0u)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(", mi300x-*, "), std::string::npos) << e.what();
  }
  try {
    mma_preset("H100-fp17-fp32");
    FAIL() << "expected OptionError";
  } catch (const OptionError& e) {
    // A known unit: that unit's presets, and only those.
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("unknown MMA preset 'H100-fp17-fp32'; known: h100-fp16-fp32, h100-fp16-fp16, ", 0), 0u)
        << what;
    EXPECT_NE(what.find("h100-e5m2-fp16 (`fpsim mma --list` names every preset)"), std::string::npos) << what;
    EXPECT_EQ(what.find("h200"), std::string::npos) << what;
  }
  EXPECT_THROW(mma_preset("h100-e4m3-fp32:promotex"), OptionError);
  EXPECT_THROW(mma_preset("h100-e4m3-fp32:fast"), OptionError);
  // Promotion feeds a true FP32 accumulator: FP16 output has none.
  EXPECT_THROW(mma_preset("h100-fp16-fp16:promote32"), OptionError);
}

TEST(MmaInputs, ValuesOutsideTheInputFormatAreRefusedWithTheirIndex) {
  try {
    dot("h100-e4m3-fp32", {1.0f, 0.3f}, {1.0f, 1.0f}, 0.0f);
    FAIL() << "expected OptionError";
  } catch (const OptionError& e) {
    EXPECT_NE(std::string(e.what()).find("a[1] = 0.300000012 is not a value of e4m3"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(dot("h100-bf16-fp32", {1.0f}, {1.0f, 2.0f}, 0.0f), OptionError);
  EXPECT_THROW(dot("h100-e4m3-fp32", {480.0f}, {1.0f}, 0.0f), OptionError);  // e4m3's max is 448
  EXPECT_NO_THROW(dot("h100-e4m3-fp32", {kInf}, {1.0f}, 0.0f));  // specials are always accepted
}

// The validation limits, at their edges: a model at each limit is accepted
// and evaluated (the definition's fixed arrays are sized by the same
// constants), one past it is refused.
TEST(MmaValidation, LimitsAreEnforcedAtTheirEdges) {
  MmaModel m = mma_preset("h100-fp16-fp32");
  m.block_size = kMaxBlockSize;
  EXPECT_NO_THROW(validate_mma_model(m));
  const std::vector<float> ones(size_t(kMaxBlockSize) * 2, 1.0f);
  EXPECT_EQ(mma_dot(m, ones, ones, 0.5f), float(2 * kMaxBlockSize) + 0.5f);
  m.block_size = kMaxBlockSize + 1;
  EXPECT_THROW(validate_mma_model(m), OptionError);
  m.block_size = 4;
  m.min_exp = kNoClamp;
  EXPECT_NO_THROW(validate_mma_model(m));
  m.min_exp = kNoClamp - 1;
  EXPECT_THROW(validate_mma_model(m), OptionError);
  m.min_exp = -kNoClamp + 1;
  EXPECT_THROW(validate_mma_model(m), OptionError);
  MmaModel amx = mma_preset("amx-bf16-fp32");
  amx.chains = kMaxChains;
  EXPECT_NO_THROW(validate_mma_model(amx));
  EXPECT_EQ(mma_dot(amx, ones, ones, 0.0f), float(2 * kMaxBlockSize));
  amx.chains = kMaxChains + 1;
  EXPECT_THROW(validate_mma_model(amx), OptionError);
}

// docs/mma.md, "The block-FMA model": special values are resolved over the whole dot product.
TEST(MmaSpecials, NanInfAndTheirCombinations) {
  const uint32_t nan = 0x7FFFFFFF;  // NVIDIA's canonical NaN (PTX ISA)
  EXPECT_EQ(bits(dot("h100-bf16-fp32", {kNaN, 1}, {1, 1}, 0)), nan);
  EXPECT_EQ(bits(dot("h100-bf16-fp32", {kInf, 1}, {0, 1}, 0)), nan);           // 0·inf
  EXPECT_EQ(bits(dot("h100-bf16-fp32", {kInf, kInf}, {1, -1}, 0)), nan);       // +inf and -inf
  EXPECT_EQ(dot("h100-bf16-fp32", {kInf, 1}, {2, 1}, 5), kInf);
  EXPECT_EQ(dot("h100-bf16-fp32", {kInf}, {-2}, 0), -kInf);
  EXPECT_EQ(dot("h100-bf16-fp32", {1}, {1}, kInf), kInf);
  EXPECT_EQ(bits(dot("h100-bf16-fp32", {kInf}, {1}, -kInf)), nan);
  // A NaN in the second block of a chain (K = 20, n = 16).
  std::vector<float> a(20, 1.0f), b(20, 1.0f);
  a[18] = kNaN;
  EXPECT_EQ(bits(mma_dot(mma_preset("h100-bf16-fp32"), a, b, 0)), nan);
  // The first block (n = 4) overflows to +inf (2^64·2^64 = 2^128), the second
  // holds a -inf product: resolved over the whole dot product, the answer is
  // the one infinite input, -inf, not +inf + -inf = NaN.
  EXPECT_EQ(dot("a100-tf32-fp32", {0x1p64f, 0, 0, 0, 1}, {0x1p64f, 0, 0, 0, -kInf}, 0), -kInf);
}

TEST(MmaSpecials, ExactZeroIsPositiveAndOverflowUnderRzIsInf) {
  EXPECT_EQ(bits(dot("h100-bf16-fp32", {1}, {1}, -1)), 0u);     // 1 - 1 = +0 (docs/mma.md, "Open questions" Q6)
  EXPECT_EQ(bits(dot("h100-bf16-fp32", {0}, {5}, -0.0f)), 0u);  // nothing to sum: +0
  // 2^127 + 2^127 = 2^128 >= 2^(emax+1): inf even under RZ (docs/mma.md, "Open questions" Q5).
  EXPECT_EQ(dot("h100-bf16-fp32", {0x1p127f, 0x1p127f}, {1, 1}, 0), kInf);
  EXPECT_EQ(dot("h100-bf16-fp32", {-0x1p127f, -0x1p127f}, {1, 1}, 0), -kInf);
}

// docs/mma.md, "The probe table" F9 (guard bit): 1·1 - (1 - 2^-24) gives 2^-23 without extra
// alignment bits (V100) and 2^-24 with one (A100, neab = 1).
TEST(MmaProbeDecisions, GuardBitF9) {
  EXPECT_EQ(dot("v100-fp16-fp32", {1}, {1}, -(1.0f - 0x1p-24f)), 0x1p-23f);
  EXPECT_EQ(dot("a100-fp16-fp32", {1}, {1}, -(1.0f - 0x1p-24f)), 0x1p-24f);
}

// docs/mma.md, "The probe table" F5: a_i = 0.5, b_i = 2^-24 (i < 4), c = 1: the four 2^-25
// terms survive alignment only with neab = 2: 1 (neab <= 1), 1 + 2^-23 (neab = 2).
TEST(MmaProbeDecisions, FP32LevelSumF5) {
  const std::vector<float> a(4, 0.5f), b(4, 0x1p-24f);
  EXPECT_EQ(mma_dot(mma_preset("v100-fp16-fp32"), a, b, 1.0f), 1.0f);
  EXPECT_EQ(mma_dot(mma_preset("a100-fp16-fp32"), a, b, 1.0f), 1.0f);
  EXPECT_EQ(mma_dot(mma_preset("h100-fp16-fp32"), a, b, 1.0f), 1.0f + 0x1p-23f);
}

// Hopper FP8 keeps 13 fraction bits, truncated (docs/mma.md, "Per-GPU parameters and their evidence", "FP22"):
// 1 + 2^-13 survives, 1 + 2^-14 does not. 2^-14 = 2^-7·2^-7 and
// 2^-13 = 2^-6·2^-7 are products of e4m3 values (2^-7 is subnormal).
TEST(MmaHopperFp8, ThirteenFractionBitsTruncated) {
  EXPECT_EQ(dot("h100-e4m3-fp32", {1, 0x1p-7f}, {1, 0x1p-7f}, 0), 1.0f);
  EXPECT_EQ(dot("h100-e4m3-fp32", {1, 0x1p-6f}, {1, 0x1p-7f}, 0), 1.0f + 0x1p-13f);
  EXPECT_EQ(dot("h100-e4m3-fp32", {-1, -0x1p-6f}, {1, 0x1p-7f}, 0), -(1.0f + 0x1p-13f));
}

// Promotion (docs/mma.md, "FP8 accumulation in libraries"): K = 64 with 1·1 first and 63 products of
// 2^-14. Fast accumulation: every 2^-14 falls below the 13 kept bits of a
// block holding 1 -> 1. Promotion every 32: the second chunk is a fresh
// chain, 32·2^-14 = 2^-9 exactly, added in FP32 -> 1 + 2^-9.
TEST(MmaHopperFp8, PromotionEvery32RecoversWhatFastAccumulationLoses) {
  std::vector<float> a(64, 0x1p-7f), b(64, 0x1p-7f);
  a[0] = b[0] = 1.0f;
  EXPECT_EQ(mma_dot(mma_preset("h100-e4m3-fp32"), a, b, 0), 1.0f);
  EXPECT_EQ(mma_dot(mma_preset("h100-e4m3-fp32:promote64"), a, b, 0), 1.0f);
  EXPECT_EQ(mma_dot(mma_preset("h100-e4m3-fp32:promote32"), a, b, 0), 1.0f + 0x1p-9f);
  std::vector<float> D(1);
  mma_gemm(mma_preset("h100-e4m3-fp32:promote32"), 1, 1, 64, a, b, {}, D);
  EXPECT_EQ(D[0], 1.0f + 0x1p-9f);
  // Specials are resolved over the whole dot product under promotion too:
  // 0·inf in the second chunk, or +inf and -inf products in different
  // chunks, give the canonical NaN (docs/mma.md, "The block-FMA model").
  std::vector<float> s = a;
  s[40] = std::numeric_limits<float>::infinity();
  std::vector<float> z = b;
  z[40] = 0.0f;
  EXPECT_EQ(bits(mma_dot(mma_preset("h100-e4m3-fp32:promote32"), s, z, 0)), 0x7FFFFFFFu);
  s[1] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(bits(mma_dot(mma_preset("h100-e4m3-fp32:promote32"), s, b, 0)), 0x7FFFFFFFu);
}

// FP16 output: C is first rounded to FP16 with RNE (docs/mma.md, "The block-FMA model").
TEST(MmaFp16Output, CIsRoundedToFp16First) {
  EXPECT_EQ(dot("v100-fp16-fp16", {0}, {0}, 1.0f + 0x1p-11f), 1.0f);  // tie -> even
  EXPECT_EQ(dot("v100-fp16-fp16", {0}, {0}, 1.0f + 0x1p-11f + 0x1p-20f), 1.0f + 0x1p-10f);
  // The result itself is an fp16 value: 1 + 2^-11 + 2^-12 rounds to 1 + 2^-10.
  EXPECT_EQ(dot("v100-fp16-fp16", {1, 0x1p-11f}, {1, 1.5f}, 0), 1.0f + 0x1p-10f);
}

// The CPU accumulation models in their stated orders (docs/mma.md).
TEST(MmaFp32Models, OrdersAreDistinguishable) {
  // (1+2^-12)^2 = 1 + 2^-11 + 2^-24: RN32 gives 1 + 2^-11 (a tie, to even).
  const float x = 1.0f + 0x1p-12f;
  EXPECT_EQ(bits(dot("fp32-sequential", {x}, {x}, -(1.0f + 0x1p-11f))), 0u);
  EXPECT_EQ(dot("fp32-fma-sequential", {x}, {x}, -(1.0f + 0x1p-11f)), 0x1p-24f);
  // {2^24, 1, 1, 1}: in order every +1 is a tie back to 2^24; the halving
  // tree adds (2^24 + 1) -> 2^24 and (1 + 1) = 2, then 2^24 + 2.
  EXPECT_EQ(dot("fp32-sequential", {0x1p24f, 1, 1, 1}, {1, 1, 1, 1}, 0), 0x1p24f);
  EXPECT_EQ(dot("fp32-pairwise", {0x1p24f, 1, 1, 1}, {1, 1, 1, 1}, 0), 0x1p24f + 2);
  // Sixteen 2^-24 then c = 1: one block sums them exactly to 2^-20 before
  // meeting c; the plain chain loses each against 1.
  std::vector<float> a(17, 1.0f), b(17, 0x1p-24f);
  b[16] = 0;
  EXPECT_EQ(mma_dot(mma_preset("fp32-fma-blocked"), a, b, 1.0f), 1.0f + 0x1p-20f);
  EXPECT_EQ(mma_dot(mma_preset("fp32-fma-sequential"), a, b, 1.0f), 1.0f);
}

// docs/mma.md, "INT8 MMA": exact sums, then wrap or clamp once.
TEST(MmaInt8, ExactThenWrapOrClampOnce) {
  const std::vector<int16_t> a{127, 127}, b{127, 127};  // 2·16129 = 32258
  const int32_t c = std::numeric_limits<int32_t>::max() - 32257;  // sum = 2^31
  EXPECT_EQ(mma_dot_int8(a, IntOperand::s8, b, IntOperand::s8, c, IntOverflow::wrap),
            std::numeric_limits<int32_t>::min());
  EXPECT_EQ(mma_dot_int8(a, IntOperand::s8, b, IntOperand::s8, c, IntOverflow::saturate),
            std::numeric_limits<int32_t>::max());
  // A partial sum that overflows and comes back: clamped once at the end.
  const std::vector<int16_t> up_down{127, -127};
  EXPECT_EQ(mma_dot_int8(up_down, IntOperand::s8, a, IntOperand::s8, std::numeric_limits<int32_t>::max(),
                         IntOverflow::saturate),
            std::numeric_limits<int32_t>::max());
  // u8 × s8: 255·(-128) = -32640.
  EXPECT_EQ(mma_dot_int8(std::vector<int16_t>{255}, IntOperand::u8, std::vector<int16_t>{-128}, IntOperand::s8, 40,
                         IntOverflow::wrap),
            -32600);
  EXPECT_THROW(mma_dot_int8(std::vector<int16_t>{128}, IntOperand::s8, std::vector<int16_t>{1}, IntOperand::s8, 0,
                            IntOverflow::wrap),
               OptionError);
  EXPECT_THROW(mma_dot_int8(std::vector<int16_t>{-1}, IntOperand::u8, std::vector<int16_t>{1}, IntOperand::s8, 0,
                            IntOverflow::wrap),
               OptionError);
}

// The GEMM fast path against the definition on typical data (normal-like
// values with mixed signs and magnitudes, C present), every preset, K long
// enough to chain many blocks and to cross promotion chunks.
TEST(MmaGemm, FastPathEqualsDotOnTypicalData) {
  const int M = 6, N = 5, K = 300;
  for (MmaModel m : mma_presets()) {
    for (int promote : {0, 128}) {
      if (promote && (m.kind != MmaKind::block_fma || m.output.man_bits != 23)) continue;
      m.promotion_interval = promote;
      uint64_t state = 12345;
      auto next = [&state] {  // xorshift64*: a fixed, portable sequence
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return state * 2685821657736338717ull;
      };
      auto value = [&](const Format& f) {
        const double u = double(next() >> 11) * 0x1p-53 * 2.0 - 1.0;  // U(-1, 1)
        const int e = int(next() % 9) - 4;                                // magnitudes over 2^-4 .. 2^4
        Flags fl;
        RoundingSpec rs;
        rs.overflow = Overflow::saturate;
        return quantize(float(std::ldexp(u, e)), f, rs, fl);
      };
      std::vector<float> A(M * K), B(K * N), C(M * N), D(M * N);
      for (float& x : A) x = value(m.input_a);
      for (float& x : B) x = value(m.input_b);
      for (float& x : C) x = value(formats::fp32);
      mma_gemm(m, M, N, K, A, B, C, D);
      std::vector<float> row(K), col(K);
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
          for (int k = 0; k < K; ++k) {
            row[size_t(k)] = A[size_t(i * K + k)];
            col[size_t(k)] = B[size_t(k * N + j)];
          }
          ASSERT_EQ(bits(D[size_t(i * N + j)]), bits(mma_dot(m, row, col, C[size_t(i * N + j)])))
              << m.name << " promote " << promote << " element " << i << "," << j;
        }
    }
  }
}

TEST(MmaGemm, SizesAreChecked) {
  std::vector<float> A(6), B(6), D(4);
  EXPECT_NO_THROW(mma_gemm(mma_preset("h100-bf16-fp32"), 2, 2, 3, A, B, {}, D));
  EXPECT_THROW(mma_gemm(mma_preset("h100-bf16-fp32"), 2, 2, 4, A, B, {}, D), OptionError);
}

}  // namespace
}  // namespace fpsim
