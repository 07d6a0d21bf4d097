// The SIMD tensor-core GEMM (fpsim::bulk::mma_gemm, issue 15) against the
// definition, fpsim::mma_dot, element by element and bit for bit: random
// parameter sets (presets and custom ones: block sizes, extra bits, clamps,
// accumulator widths, rtz / rne / rup / rdn, DAZ / FTZ, overflow rule,
// promotion, every small input format) and shapes (K not a multiple of the
// block, chains of many blocks, wide and narrow N), with values from the
// whole code range (subnormal and overflowing block results, so the lanes
// that go back to the definition are exercised), from a narrow range (the
// SIMD path proper), with exact cancellations (zero block sums) and with
// NaN / inf; once for every Highway target this CPU has. The GPU golden
// files run through it in mma_golden_test.cpp.
#include <gtest/gtest.h>
#include <hwy/targets.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "fpsim/bulk/mma_gemm_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/mma.hpp"

namespace fpsim {
namespace {

struct GemmCase {
  MmaModel model;
  int M = 0, N = 0, K = 0;
  std::vector<float> A, B, C;
};

const std::vector<Format>& input_formats() {
  static const std::vector<Format> f = {formats::fp16,          formats::bf16,          formats::tf32,
                                        formats::e4m3,          formats::e5m2,          parse_format("e4m3fnuz"),
                                        parse_format("e5m2fnuz"), parse_format("e2m1"), parse_format("e3m2"),
                                        parse_format("e2m3"),   parse_format("e3m4"),   parse_format("e5m2b10")};
  return f;
}

MmaModel random_model(std::mt19937_64& rng) {
  auto pick = [&](int lo, int hi) { return lo + int(rng() % uint64_t(hi - lo + 1)); };
  const auto presets = mma_presets();
  if (pick(0, 2) == 0) {
    MmaModel m = presets[rng() % presets.size()];
    if (m.kind == MmaKind::block_fma && m.output.man_bits == 23 && pick(0, 2) == 0)
      m.promotion_interval = pick(1, 160);
    return m;
  }
  MmaModel m;
  m.name = "random";
  m.kind = MmaKind::block_fma;
  const auto& fmts = input_formats();
  do {
    m.input_a = fmts[rng() % fmts.size()];
    m.input_b = pick(0, 1) ? m.input_a : fmts[rng() % fmts.size()];
  } while (m.input_a.man_bits + m.input_b.man_bits > 23);
  m.output = pick(0, 2) ? formats::fp32 : formats::fp16;
  m.block_size = pick(0, 3) ? pick(1, 40) : pick(41, 128);
  m.extra_bits = pick(0, 4) ? pick(-12, 10) : pick(20, 30);  // 20..30: some beyond the SIMD path's 53 bits
  m.align_rounding = pick(0, 9) ? AlignRounding::truncate : AlignRounding::rne;
  const Rounding modes[] = {Rounding::rtz, Rounding::rne, Rounding::rtz, Rounding::rne, Rounding::rup, Rounding::rdn};
  m.final_rounding = modes[rng() % 6];
  const int lo = m.output.man_bits == 23 ? -150 : -30;
  m.min_exp = pick(0, 2) ? -1024 : pick(lo, 10);
  m.acc_frac_bits = pick(0, 2) ? int(m.output.man_bits) : pick(1, m.output.man_bits);
  m.subnormal_inputs = pick(0, 3) != 0;
  m.subnormal_outputs = pick(0, 3) != 0;
  m.overflow_to_inf = pick(0, 3) != 0;
  if (m.output.man_bits == 23 && pick(0, 3) == 0) m.promotion_interval = pick(1, 100);
  validate_mma_model(m);
  return m;
}

// Values of format f: any code (style 0), or N(0, 1.5) · 2^scale_exp
// rounded to f (style 1 with scale_exp 0: where the SIMD path does all the
// work; with scale_exp about half the output's emin or emax, products land at
// the edges of the output's normal range), occasionally zero, NaN or inf.
std::vector<float> random_values(const Format& f, size_t n, int style, bool specials, std::mt19937_64& rng,
                                 int scale_exp = 0) {
  std::vector<float> v(n);
  RoundingSpec rs;
  rs.overflow = Overflow::saturate;
  std::normal_distribution<float> normal(0.0f, 1.5f);
  for (float& x : v) {
    if (specials && rng() % 25 == 0) {
      const float s[] = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::quiet_NaN()};
      x = s[rng() % 3];
      continue;
    }
    if (style == 0) {
      const double d = to_double(rng() % f.code_count(), f);
      x = std::isfinite(d) ? float(d) : 0.0f;
    } else {
      Flags ignored;
      x = float(to_double(from_float(std::ldexp(normal(rng), scale_exp), f, rs, ignored), f));
    }
    if (rng() % 8 == 0) x = 0.0f;
  }
  return v;
}

GemmCase random_case(std::mt19937_64& rng) {
  GemmCase c;
  c.model = random_model(rng);
  c.M = 1 + int(rng() % 4);
  c.N = rng() % 3 ? 1 + int(rng() % 12) : 1 + int(rng() % 70);
  c.K = int(rng() % 140);
  const int r = int(rng() % 6);
  const int style = r == 0 ? 0 : 1;
  const int emin_out = c.model.output.emin(), emax_out = int(c.model.output.exp_field_max()) - 1 - c.model.output.bias;
  const int scale_exp = r == 4 ? emin_out / 2 : r == 5 ? emax_out / 2 : 0;
  const bool specials = rng() % 5 == 0;
  c.A = random_values(c.model.input_a, size_t(c.M) * size_t(c.K), style, specials, rng, scale_exp);
  c.B = random_values(c.model.input_b, size_t(c.K) * size_t(c.N), style, specials, rng, scale_exp);
  if (rng() % 4 == 0 && c.K >= 2) {
    // Exact cancellation: column 0 of B repeats its first product negated,
    // so zero block sums (the +0 rule) turn up.
    for (int k = 1; k < c.K; k += 2) {
      c.A[size_t(k)] = c.A[size_t(k - 1)];
      c.B[size_t(k) * size_t(c.N)] = -c.B[size_t(k - 1) * size_t(c.N)];
    }
  }
  if (rng() % 2) {
    c.C.resize(size_t(c.M) * size_t(c.N));
    for (float& x : c.C) {
      const int r = int(rng() % 20);
      x = r == 0 ? 0.0f : r == 1 ? -0.0f : std::ldexp(float(int(rng() % 2000) - 1000), int(rng() % 60) - 40);
      if (specials && rng() % 30 == 0) x = std::numeric_limits<float>::infinity();
    }
  }
  return c;
}

std::string describe(const GemmCase& c) {
  std::ostringstream s;
  s << c.model.name << " [" << describe_mma_model(c.model) << "] M=" << c.M << " N=" << c.N << " K=" << c.K
    << (c.C.empty() ? " no C" : " with C");
  return s.str();
}

// Empty string when every element of bulk::mma_gemm and of the scalar
// fpsim::mma_gemm (whose fast path the custom models reach too) matches
// mma_dot bit for bit, else the first mismatch.
std::string first_mismatch(const GemmCase& c) {
  std::vector<float> D(size_t(c.M) * size_t(c.N), -1.0f), D_scalar(D);
  bulk::mma_gemm(c.model, c.M, c.N, c.K, c.A, c.B, c.C, D);
  mma_gemm(c.model, c.M, c.N, c.K, c.A, c.B, c.C, D_scalar);
  std::vector<float> row(size_t(c.K)), col(size_t(c.K));
  for (int i = 0; i < c.M; ++i)
    for (int j = 0; j < c.N; ++j) {
      for (int k = 0; k < c.K; ++k) {
        row[size_t(k)] = c.A[size_t(i) * size_t(c.K) + size_t(k)];
        col[size_t(k)] = c.B[size_t(k) * size_t(c.N) + size_t(j)];
      }
      const float want = mma_dot(c.model, row, col, c.C.empty() ? 0.0f : c.C[size_t(i) * size_t(c.N) + size_t(j)]);
      const float got = D[size_t(i) * size_t(c.N) + size_t(j)];
      const float got_scalar = D_scalar[size_t(i) * size_t(c.N) + size_t(j)];
      if (std::bit_cast<uint32_t>(got) != std::bit_cast<uint32_t>(want) ||
          std::bit_cast<uint32_t>(got_scalar) != std::bit_cast<uint32_t>(want)) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "D[%d][%d]: bulk 0x%08x, scalar mma_gemm 0x%08x, mma_dot 0x%08x; ", i, j,
                      std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(got_scalar),
                      std::bit_cast<uint32_t>(want));
        return buf + describe(c);
      }
    }
  return "";
}

// Each case on a random one of the Highway targets this CPU has (the
// dispatcher alone would only run the best).
RC_GTEST_PROP(MmaGemmBulkProperty, EqualsMmaDotElementByElement, ()) {
  std::mt19937_64 rng(*rc::gen::arbitrary<uint64_t>());
  const GemmCase c = random_case(rng);
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  const int64_t target = targets[rng() % targets.size()];
  hwy::SetSupportedTargetsForTest(target);
  const std::string mismatch = first_mismatch(c);
  hwy::SetSupportedTargetsForTest(0);
  RC_ASSERT(mismatch == "");
}

// Every block-FMA preset runs in SIMD (the speed claim of bench/README.md
// rests on it) except those with AMD parameters (docs/mma.md, "AMD matrix cores"), which the
// definition evaluates; the others go to the scalar function.
TEST(MmaGemmBulk, EveryBlockFmaPresetIsVectorized) {
  for (const MmaModel& m : mma_presets())
    EXPECT_EQ(bulk::mma_gemm_is_vectorized(m), m.kind == MmaKind::block_fma && !mma_uses_amd_parameters(m)) << m.name;
  EXPECT_TRUE(bulk::mma_gemm_is_vectorized(mma_preset("h100-e4m3-fp32:promote128")));
}

// Bad input gets the scalar function's errors, word for word.
TEST(MmaGemmBulk, ErrorsAreTheScalarFunctions) {
  const MmaModel m = mma_preset("h100-e4m3-fp32");
  std::vector<float> A = {1.0f, 2.0f}, B = {1.0f, 0.1f}, D(1);
  auto message = [&](auto&& f) {
    try {
      f();
    } catch (const OptionError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string bulk_msg = message([&] { bulk::mma_gemm(m, 1, 1, 2, A, B, {}, D); });
  EXPECT_EQ(bulk_msg, message([&] { mma_gemm(m, 1, 1, 2, A, B, {}, D); }));
  EXPECT_NE(bulk_msg.find("is not a value of e4m3"), std::string::npos) << bulk_msg;
  B[1] = 0.125f;
  const std::string size_msg = message([&] { bulk::mma_gemm(m, 1, 1, 3, A, B, {}, D); });
  EXPECT_EQ(size_msg, message([&] { mma_gemm(m, 1, 1, 3, A, B, {}, D); }));
  EXPECT_NE(size_msg.find("sizes do not match"), std::string::npos) << size_msg;
}

// The same random cases on every instruction set compiled in and supported
// by this CPU (the dispatcher alone would only ever run the best one).
TEST(MmaGemmBulk, EveryCompiledTarget) {
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  ASSERT_FALSE(targets.empty());
  for (int64_t target : targets) {
    hwy::SetSupportedTargetsForTest(target);
    ASSERT_EQ(std::string(bulk::simd_target_name()), hwy::TargetName(target));
    std::printf("  checking SIMD target %s\n", hwy::TargetName(target));
    std::mt19937_64 rng(20261206);
    for (int t = 0; t < 150; ++t) {
      const GemmCase c = random_case(rng);
      const std::string mismatch = first_mismatch(c);
      ASSERT_EQ(mismatch, "") << hwy::TargetName(target) << " case " << t;
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

// Promotion's FP32 accumulator overflowing to inf from finite chunk sums,
// then meeting a finite chunk of the other sign, on every target: chunks of
// 16 bf16 products 2^63 · 1.5·2^64 = 1.5·2^127 (exact, finite), two of them
// sum past FLT_MAX to +inf (IEEE RNE overflow), and +inf − 2^127 stays +inf
// (hand-derived). Highway's SCALAR target clamps a double → float DemoteTo
// of inf to FLT_MAX, which once turned this into a finite 0x1.fffp+116
// (found by the property test under the ASan build's SCALAR-only kernels).
TEST(MmaGemmBulk, PromotionAccumulatorOverflowStaysInfOnEveryTarget) {
  MmaModel m = mma_preset("h100-bf16-fp32");
  m.promotion_interval = 16;
  const int K = 48;
  for (const int N : {1, 3, 9, 33}) {
    std::vector<float> A(size_t(K), std::ldexp(1.0f, 63)), B(size_t(K) * size_t(N), 0.0f);
    for (int j = 0; j < N; ++j) {
      B[size_t(0 * N + j)] = 1.5f * std::ldexp(1.0f, 64);
      B[size_t(16 * N + j)] = 1.5f * std::ldexp(1.0f, 64);
      B[size_t(32 * N + j)] = -std::ldexp(1.0f, 64);
    }
    for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
      hwy::SetSupportedTargetsForTest(target);
      std::vector<float> D(static_cast<size_t>(N));
      bulk::mma_gemm(m, 1, N, K, A, B, {}, D);
      for (int j = 0; j < N; ++j)
        EXPECT_EQ(D[size_t(j)], std::numeric_limits<float>::infinity()) << hwy::TargetName(target) << " N=" << N;
    }
    hwy::SetSupportedTargetsForTest(0);
  }
}

// A training-sized GEMM per FP8 / 16-bit preset, with fast accumulation and
// promotion: many column groups and rows, K a multiple of the block plus a
// tail.
TEST(MmaGemmBulk, LargeGemmsOfThePresetsTrainingUses) {
  std::mt19937_64 rng(77);
  for (const char* name : {"h100-e4m3-fp32", "h100-e5m2-fp32", "h100-e4m3-fp32:promote128", "h100-bf16-fp32",
                           "h100-fp16-fp32", "h100-tf32-fp32", "a100-fp16-fp16", "b200-e4m3-fp32"}) {
    GemmCase c;
    c.model = mma_preset(name);
    c.M = 9;
    c.N = 77;
    c.K = 300;
    c.A = random_values(c.model.input_a, size_t(c.M) * size_t(c.K), 1, false, rng);
    c.B = random_values(c.model.input_b, size_t(c.K) * size_t(c.N), 1, false, rng);
    EXPECT_EQ(first_mismatch(c), "") << name;
  }
}

}  // namespace
}  // namespace fpsim
