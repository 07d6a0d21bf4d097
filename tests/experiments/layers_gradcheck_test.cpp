// The layers of experiments/ (docs/training.md, "Layers"):
//  * FP64 gradient checks: every backward against central differences of its
//    own forward, in double, where rounding to a format is the identity and
//    gemm is a plain FP64 sum. Each check differentiates a random linear
//    functional L = Σ r·y of the output (so dL/dy = r), perturbing every
//    element of every input and parameter by ±h, h = 1e-6.
//  * Float-path tests: the format rules (which format each op writes, where
//    gradients are rounded) with hand-derived expected values, and a few
//    accuracy laws (GELU against its formula in double, log(V) for uniform
//    logits).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/gemm.hpp"
#include "fpsim/experiments/layers/activations.hpp"
#include "fpsim/experiments/layers/attention.hpp"
#include "fpsim/experiments/layers/cross_entropy.hpp"
#include "fpsim/experiments/layers/embedding.hpp"
#include "fpsim/experiments/layers/layernorm.hpp"
#include "fpsim/experiments/layers/linear.hpp"
#include "fpsim/experiments/tensor.hpp"
#include "fpsim/flags.hpp"

namespace fpsim::experiments {
namespace {

// ---------------------------------------------------------------------------
// Fixed-seed inputs. splitmix64 rather than a <random> distribution, whose
// algorithm the standard leaves to the library: the same seed gives the same
// inputs everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * double(next() >> 11) * 0x1p-53; }

 private:
  uint64_t state_;
};

Tensor64 random64(std::vector<size_t> shape, Rng& rng, double lo = -1.0, double hi = 1.0) {
  Tensor64 t(std::move(shape));
  for (double& v : t.data) v = rng.uniform(lo, hi);
  return t;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// ---------------------------------------------------------------------------
// Central differences. With h = 1e-6 the truncation error is h²/6·|L'''|
// ≈ 1e-13 for these O(1) functions, and the rounding error of L (a few ulps
// of |L| ≲ 10, ≈ 1e-15) divided by 2h is ≈ 1e-9. A gradient entry therefore
// agrees with the analytic one to 1e-6 relative, and entries below 1e-2 to
// 1e-8 absolute (the 1e-9 rounding noise with a factor 10 to spare). A wrong
// term in a backward formula is off by the size of the gradient itself.
constexpr double kStep = 1e-6;
constexpr double kRelTol = 1e-6;
constexpr double kAbsFloor = 1e-2;

void expect_gradient(const std::string& what, std::vector<double>& theta, const std::vector<double>& analytic,
                     const std::function<double()>& loss) {
  ASSERT_EQ(theta.size(), analytic.size()) << what;
  for (size_t i = 0; i < theta.size(); ++i) {
    const double saved = theta[i];
    theta[i] = saved + kStep;
    const double up = loss();
    theta[i] = saved - kStep;
    const double down = loss();
    theta[i] = saved;
    const double numeric = (up - down) / (2 * kStep);
    EXPECT_NEAR(analytic[i], numeric, kRelTol * std::max(std::abs(analytic[i]), kAbsFloor)) << what << "[" << i << "]";
  }
}

GemmPolicy fp32_policy() { return GemmPolicy{}; }

LinearSites linear_sites(const std::string& layer, const GemmPolicy& fprop, const GemmPolicy& dgrad,
                         const GemmPolicy& wgrad) {
  return LinearSites{GemmSite{layer, GemmRole::fprop, "x", "w", fprop},
                     GemmSite{layer, GemmRole::dgrad, "dy", "w", dgrad},
                     GemmSite{layer, GemmRole::wgrad, "dy", "x", wgrad}};
}

// ===========================================================================
// FP64 gradient checks

TEST(LayersGradcheck, LinearBackwardMatchesCentralDifferences) {
  Rng rng(1);
  GemmRuntime rt;
  const LinearSites sites = linear_sites("fc", fp32_policy(), fp32_policy(), fp32_policy());
  // x has two leading dimensions: Linear flattens them to 6 rows.
  Tensor64 x = random64({2, 3, 4}, rng), w = random64({5, 4}, rng), b = random64({5}, rng);
  const Tensor64 r = random64({2, 3, 5}, rng);
  auto loss = [&] {
    Tensor64 y;
    linear_forward(rt, sites, x, w, &b, y);
    return dot(y.data, r.data);
  };
  Tensor64 y, dx, dw, db;
  linear_forward(rt, sites, x, w, &b, y);
  EXPECT_EQ(y.shape, (std::vector<size_t>{2, 3, 5}));
  linear_backward(rt, sites, x, w, &b, r, &dx, dw, &db);
  expect_gradient("dx", x.data, dx.data, loss);
  expect_gradient("dw", w.data, dw.data, loss);
  expect_gradient("db", b.data, db.data, loss);
}

TEST(LayersGradcheck, LinearWithoutBiasOrDxGivesTheSameWeightGradient) {
  Rng rng(2);
  GemmRuntime rt;
  const LinearSites sites = linear_sites("fc", fp32_policy(), fp32_policy(), fp32_policy());
  Tensor64 x = random64({3, 4}, rng), w = random64({2, 4}, rng);
  const Tensor64 r = random64({3, 2}, rng);
  auto loss = [&] {
    Tensor64 y;
    linear_forward<double>(rt, sites, x, w, nullptr, y);
    return dot(y.data, r.data);
  };
  Tensor64 dw;
  linear_backward<double>(rt, sites, x, w, nullptr, r, nullptr, dw, nullptr);
  expect_gradient("dw", w.data, dw.data, loss);
}

TEST(LayersGradcheck, EmbeddingBackwardMatchesCentralDifferences) {
  Rng rng(3);
  Tensor64 table = random64({6, 3}, rng);
  const std::vector<int32_t> ids = {2, 0, 2, 5};  // id 2 twice: its gradient is a sum
  const Tensor64 r = random64({4, 3}, rng);
  auto loss = [&] {
    Tensor64 out;
    embedding_forward<double>(table, ids, out);
    return dot(out.data, r.data);
  };
  Tensor64 dtable;
  embedding_backward<double>(table, ids, r, dtable);
  expect_gradient("dtable", table.data, dtable.data, loss);
  // Rows 1, 3, 4 are never looked up: their gradient is exactly zero.
  for (size_t row : {1, 3, 4}) {
    for (size_t j = 0; j < 3; ++j) EXPECT_EQ(dtable.data[row * 3 + j], 0.0) << row;
  }
}

TEST(LayersGradcheck, LayerNormBackwardMatchesCentralDifferences) {
  Rng rng(4);
  // An offset mean and a spread of scales, so that neither mean nor rstd is
  // trivial.
  Tensor64 x = random64({3, 7}, rng, -2.0, 3.0);
  Tensor64 gamma = random64({7}, rng, 0.5, 1.5), beta = random64({7}, rng);
  const Tensor64 r = random64({3, 7}, rng);
  auto loss = [&] {
    Tensor64 y;
    LayerNormCache<double> cache;
    layernorm_forward(x, gamma, beta, formats::fp32, y, cache);
    return dot(y.data, r.data);
  };
  Tensor64 y, dx, dgamma, dbeta;
  LayerNormCache<double> cache;
  layernorm_forward(x, gamma, beta, formats::fp32, y, cache);
  layernorm_backward(x, gamma, cache, r, dx, dgamma, dbeta);
  expect_gradient("dx", x.data, dx.data, loss);
  expect_gradient("dgamma", gamma.data, dgamma.data, loss);
  expect_gradient("dbeta", beta.data, dbeta.data, loss);
}

// Values at least 0.05 away from ReLU's kink, so that x ± h stays on one side.
Tensor64 away_from_zero(std::vector<size_t> shape, Rng& rng) {
  Tensor64 t = random64(std::move(shape), rng, 0.05, 2.0);
  for (double& v : t.data) {
    if (rng.next() & 1) v = -v;
  }
  return t;
}

TEST(LayersGradcheck, ReluBackwardMatchesCentralDifferences) {
  Rng rng(5);
  Tensor64 x = away_from_zero({4, 5}, rng);
  const Tensor64 r = random64({4, 5}, rng);
  auto loss = [&] {
    Tensor64 y;
    relu_forward(x, y);
    return dot(y.data, r.data);
  };
  Tensor64 dx;
  relu_backward(x, r, dx);
  expect_gradient("dx", x.data, dx.data, loss);
}

TEST(LayersGradcheck, GeluBackwardMatchesCentralDifferences) {
  Rng rng(6);
  Tensor64 x = random64({4, 5}, rng, -4.0, 4.0);
  const Tensor64 r = random64({4, 5}, rng);
  auto loss = [&] {
    Tensor64 y;
    gelu_forward(x, y);
    return dot(y.data, r.data);
  };
  Tensor64 dx;
  gelu_backward(x, r, dx);
  expect_gradient("dx", x.data, dx.data, loss);
}

TEST(LayersGradcheck, ResidualBackwardMatchesCentralDifferences) {
  Rng rng(7);
  Tensor64 a = random64({3, 4}, rng), b = random64({3, 4}, rng);
  const Tensor64 r = random64({3, 4}, rng);
  auto loss = [&] {
    Tensor64 y;
    residual_forward(a, b, y);
    return dot(y.data, r.data);
  };
  Tensor64 da, db;
  residual_backward(a, b, r, da, db);
  expect_gradient("da", a.data, da.data, loss);
  expect_gradient("db", b.data, db.data, loss);
}

// B = 2, T = 4, C = 8, NH = 2 (hs = 4): enough positions for the mask to
// matter and enough heads for a wrong head offset to show.
constexpr size_t kB = 2, kT = 4, kC = 8, kNH = 2;

TEST(LayersGradcheck, AttentionBackwardMatchesCentralDifferences) {
  Rng rng(8);
  GemmRuntime rt;
  const AttentionSites sites = attention_sites("attn", fp32_policy());
  Tensor64 qkv = random64({kB, kT, 3 * kC}, rng, -1.5, 1.5);
  const Tensor64 r = random64({kB, kT, kC}, rng);
  auto loss = [&] {
    Tensor64 out;
    AttentionCache<double> cache;
    attention_forward(rt, sites, qkv, kNH, formats::fp32, out, cache);
    return dot(out.data, r.data);
  };
  Tensor64 out, dqkv;
  AttentionCache<double> cache;
  attention_forward(rt, sites, qkv, kNH, formats::fp32, out, cache);
  attention_backward(rt, sites, qkv, r, cache, dqkv);
  EXPECT_EQ(dqkv.shape, qkv.shape);
  expect_gradient("dqkv", qkv.data, dqkv.data, loss);
}

// Causality: the output at position t depends on q, k, v of positions <= t
// only. With the functional's weights zero at the last position, every
// gradient of q, k and v at the last position must be exactly 0 (the
// backward writes masked dS entries as 0 rather than P·(...)), and
// perturbing them must leave the earlier outputs bit-identical.
TEST(LayersGradcheck, AttentionLastPositionDoesNotReachEarlierOutputs) {
  Rng rng(9);
  GemmRuntime rt;
  const AttentionSites sites = attention_sites("attn", fp32_policy());
  Tensor64 qkv = random64({kB, kT, 3 * kC}, rng, -1.5, 1.5);
  Tensor64 r = random64({kB, kT, kC}, rng);
  for (size_t b = 0; b < kB; ++b) {
    for (size_t c = 0; c < kC; ++c) r.data[(b * kT + kT - 1) * kC + c] = 0.0;
  }
  Tensor64 out, dqkv;
  AttentionCache<double> cache;
  attention_forward(rt, sites, qkv, kNH, formats::fp32, out, cache);
  attention_backward(rt, sites, qkv, r, cache, dqkv);
  for (size_t b = 0; b < kB; ++b) {
    for (size_t c = 0; c < 3 * kC; ++c) {
      EXPECT_EQ(dqkv.data[(b * kT + kT - 1) * 3 * kC + c], 0.0) << "batch " << b << " channel " << c;
    }
  }
  // Position 0 attends to itself only: its softmax has one entry, P = 1
  // whatever the score, so q at t = 0 has exactly zero gradient too; its k
  // and v do reach outputs (the test is not vacuous).
  for (size_t b = 0; b < kB; ++b) {
    for (size_t c = 0; c < kC; ++c) {
      EXPECT_EQ(dqkv.data[b * kT * 3 * kC + c], 0.0) << "q, batch " << b << " channel " << c;
      EXPECT_NE(dqkv.data[b * kT * 3 * kC + kC + c], 0.0) << "k, batch " << b << " channel " << c;
      EXPECT_NE(dqkv.data[b * kT * 3 * kC + 2 * kC + c], 0.0) << "v, batch " << b << " channel " << c;
    }
  }

  Tensor64 moved = qkv;
  for (size_t b = 0; b < kB; ++b) {
    for (size_t c = 0; c < 3 * kC; ++c) moved.data[(b * kT + kT - 1) * 3 * kC + c] += 0.75;
  }
  Tensor64 out2;
  AttentionCache<double> cache2;
  attention_forward(rt, sites, moved, kNH, formats::fp32, out2, cache2);
  for (size_t b = 0; b < kB; ++b) {
    for (size_t t = 0; t + 1 < kT; ++t) {
      for (size_t c = 0; c < kC; ++c) {
        const size_t i = (b * kT + t) * kC + c;
        EXPECT_EQ(out2.data[i], out.data[i]) << "b " << b << " t " << t << " c " << c;
      }
    }
  }
  // The last position itself does change.
  EXPECT_NE(out2.data[(kT - 1) * kC], out.data[(kT - 1) * kC]);
}

TEST(LayersGradcheck, CrossEntropyBackwardMatchesCentralDifferences) {
  Rng rng(10);
  Tensor64 logits = random64({4, 5}, rng, -3.0, 3.0);
  const std::vector<int32_t> targets = {1, 4, 0, 1};
  auto loss = [&] {
    CrossEntropyCache<double> cache;
    return cross_entropy_forward<double>(logits, targets, formats::fp32, cache);
  };
  CrossEntropyCache<double> cache;
  const double l = cross_entropy_forward<double>(logits, targets, formats::fp32, cache);
  Tensor64 dlogits;
  cross_entropy_backward<double>(logits, targets, cache, 1.0, dlogits);
  expect_gradient("dlogits", logits.data, dlogits.data, loss);

  // The forward value against log-sum-exp written out directly.
  double expected = 0;
  for (size_t n = 0; n < 4; ++n) {
    double z = 0;
    for (size_t j = 0; j < 5; ++j) z += std::exp(logits.data[n * 5 + j]);
    expected += std::log(z) - logits.data[n * 5 + size_t(targets[n])];
  }
  EXPECT_NEAR(l, expected / 4, 1e-14);
}

// ===========================================================================
// Float path: format rules

double fp16_ulp_at_one() { return 0x1p-10; }

TEST(LayersFloat, LinearFp16OutputPolicyWritesFp16AndGradientsTakeTheirSourceFormats) {
  GemmRuntime rt;
  GemmPolicy fprop, dgrad, wgrad;
  fprop.output = formats::fp16;
  dgrad.output = formats::fp32;
  wgrad.output = formats::bf16;
  const LinearSites sites = linear_sites("fc", fprop, dgrad, wgrad);
  Tensor x({2, 2}, formats::bf16);
  x.data = {1.0f, 1.0f, 1.0f, 1.0f};
  Tensor w({1, 2}, formats::fp32);
  w.data = {1.0f, 0x1p-12f};
  Tensor b({1}, formats::fp32);
  b.data = {0.0f};

  // y = 1 + 2^-12 exactly, a quarter fp16 ulp above 1: fp16 gives 1.
  Tensor y;
  linear_forward(rt, sites, x, w, &b, y);
  EXPECT_TRUE(same_format(y.format, formats::fp16));
  EXPECT_EQ(y.data, (std::vector<float>{1.0f, 1.0f}));
  EXPECT_LT(0x1p-12, fp16_ulp_at_one() / 2);

  // dy in fp16: rows 1 + 2^-10 and 2^-11.
  Tensor dy({2, 1}, formats::fp16);
  dy.data = {1.0f + 0x1p-10f, 0x1p-11f};
  Tensor dx, dw, db;
  linear_backward(rt, sites, x, w, &b, dy, &dx, dw, &db);
  // dx = dy·w in fp32 (dgrad output), then bf16 (x's format, 8 bits):
  // 1 + 2^-10 -> 1; 2^-12·(1 + 2^-10) -> 2^-12; 2^-11 -> 2^-11;
  // 2^-11·2^-12 = 2^-23 exactly.
  EXPECT_TRUE(same_format(dx.format, formats::bf16));
  EXPECT_EQ(dx.data, (std::vector<float>{1.0f, 0x1p-12f, 0x1p-11f, 0x1p-23f}));
  // dw = dyᵀ·x = (1 + 2^-10 + 2^-11) for both columns, written in bf16 by
  // the wgrad GEMM (-> 1), then tagged fp32 (w's format).
  EXPECT_TRUE(same_format(dw.format, formats::fp32));
  EXPECT_EQ(dw.data, (std::vector<float>{1.0f, 1.0f}));
  // db = 1 + 2^-10 + 2^-11 = 1 + 1.5 fp16 ulps in FP32, then fp16 (dy's
  // format): a tie, to even -> 1 + 2^-9; then fp32 (b's format).
  EXPECT_TRUE(same_format(db.format, formats::fp32));
  EXPECT_EQ(db.data, (std::vector<float>{1.0f + 0x1p-9f}));
}

TEST(LayersFloat, ResidualOfFp16AndFp32IsFp32AndOfTwoFp16IsFp16) {
  Tensor a({2}, formats::fp16), b32({2}, formats::fp32), b16({2}, formats::fp16);
  a.data = {1.0f, 2.0f};
  b32.data = {0x1p-11f, 0x1p-20f};
  b16.data = {0x1p-11f, 0x1p-10f};
  Tensor y;
  residual_forward(a, b32, y);
  EXPECT_TRUE(same_format(y.format, formats::fp32));
  EXPECT_EQ(y.data, (std::vector<float>{1.0f + 0x1p-11f, 2.0f + 0x1p-20f}));
  // 1 + 2^-11 is half an fp16 ulp above 1: a tie, to even -> 1; 2 + 2^-10
  // is half an ulp above 2 (ulp 2^-9) -> 2.
  residual_forward(a, b16, y);
  EXPECT_TRUE(same_format(y.format, formats::fp16));
  EXPECT_EQ(y.data, (std::vector<float>{1.0f, 2.0f}));

  Tensor dy({2}, formats::fp32);
  dy.data = {1.0f + 0x1p-12f, 3.0f};
  Tensor da, db;
  residual_backward(a, b32, dy, da, db);
  EXPECT_TRUE(same_format(da.format, formats::fp16));
  EXPECT_TRUE(same_format(db.format, formats::fp32));
  EXPECT_EQ(da.data, (std::vector<float>{1.0f, 3.0f}));
  EXPECT_EQ(db.data, dy.data);
}

TEST(LayersFloat, ReluDerivativeAtZeroIsZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x({5});
  x.data = {0.0f, -0.0f, 1.5f, -1.5f, nan};
  Tensor dy({5});
  dy.data = {3.0f, 3.0f, 3.0f, 3.0f, 3.0f};
  Tensor y, dx;
  relu_forward(x, y);
  EXPECT_EQ(y.data[0], 0.0f);
  EXPECT_EQ(y.data[2], 1.5f);
  EXPECT_EQ(y.data[3], 0.0f);
  EXPECT_TRUE(std::isnan(y.data[4]));  // PyTorch's relu propagates NaN
  relu_backward(x, dy, dx);
  EXPECT_EQ(dx.data, (std::vector<float>{0.0f, 0.0f, 3.0f, 0.0f, 3.0f}));
}

TEST(LayersFloat, ActivationsWriteTheirInputFormat) {
  Tensor x({3}, formats::bf16);
  x.data = {-1.0f, 0.5f, 2.0f};
  Tensor y;
  gelu_forward(x, y);
  EXPECT_TRUE(same_format(y.format, formats::bf16));
  Flags fl;
  for (float v : y.data) EXPECT_EQ(v, quantize(v, formats::bf16, RoundingSpec{}, fl)) << v;
  relu_forward(x, y);
  EXPECT_TRUE(same_format(y.format, formats::bf16));
}

// The tanh GELU in FP32 against the same formula in double. Error analysis
// for x in [-0.5, 3]: the argument of tanh carries ≲ 5 FP32 roundings
// (constants, x³, products, sum), tanhf ≲ 2 ulps (glibc's documented
// bound), and 1 + tanh ≥ 0.6 so nothing cancels badly; the product then
// adds two roundings: ≲ 6 ulps of the result in all. Bound: 8 ulps.
TEST(LayersFloat, GeluMatchesTheTanhFormulaInDoubleWithin8Ulps) {
  const std::vector<float> points = {-0.5f, -0.125f, 0.25f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f};
  Tensor x({points.size()});
  x.data = points;
  Tensor y;
  gelu_forward(x, y);
  for (size_t i = 0; i < points.size(); ++i) {
    const double v = points[i];
    const double exact = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (v + 0.044715 * v * v * v)));
    const double ulp = std::nextafter(std::abs(float(exact)), INFINITY) - std::abs(float(exact));
    EXPECT_LE(std::abs(double(y.data[i]) - exact), 8 * ulp) << "x = " << v;
  }
  // Far out the tanh saturates: gelu(x) = x for large x, 0 for very negative.
  Tensor far({2});
  far.data = {20.0f, -20.0f};
  gelu_forward(far, y);
  EXPECT_EQ(y.data[0], 20.0f);
  EXPECT_EQ(y.data[1], -0.0f);
}

TEST(LayersFloat, LayerNormWritesOutFormatAndGradientsTheirSourceFormats) {
  Rng rng(11);
  Tensor x({2, 8}, formats::fp32), gamma({8}, formats::bf16), beta({8}, formats::bf16);
  for (float& v : x.data) v = float(rng.uniform(-2, 2));
  Flags fl;
  for (float& v : gamma.data) v = quantize(float(rng.uniform(0.5, 1.5)), formats::bf16, {}, fl);
  for (float& v : beta.data) v = quantize(float(rng.uniform(-1, 1)), formats::bf16, {}, fl);
  Tensor y32, y16, dx, dgamma, dbeta;
  LayerNormCache<float> cache;
  layernorm_forward(x, gamma, beta, formats::fp32, y32, cache);
  layernorm_forward(x, gamma, beta, formats::bf16, y16, cache);
  EXPECT_TRUE(same_format(y16.format, formats::bf16));
  for (size_t i = 0; i < y32.size(); ++i) EXPECT_EQ(y16.data[i], quantize(y32.data[i], formats::bf16, {}, fl));
  layernorm_backward(x, gamma, cache, y32, dx, dgamma, dbeta);
  EXPECT_TRUE(same_format(dx.format, formats::fp32));
  EXPECT_TRUE(same_format(dgamma.format, formats::bf16));
  EXPECT_TRUE(same_format(dbeta.format, formats::bf16));
  for (float v : dgamma.data) EXPECT_EQ(v, quantize(v, formats::bf16, {}, fl));
}

TEST(LayersFloat, EmbeddingGradientIsSummedInFp32AndRoundedOnce) {
  Tensor table({2, 1}, formats::bf16);
  table.data = {0.5f, 0.25f};
  const std::vector<int32_t> ids = {0, 0, 0, 1};
  Tensor out;
  embedding_forward(table, ids, out);
  EXPECT_TRUE(same_format(out.format, formats::bf16));
  EXPECT_EQ(out.data, (std::vector<float>{0.5f, 0.5f, 0.5f, 0.25f}));
  // Row 0 receives 1, 2^-8, 2^-8 in that order. FP32 sum: 1 + 2^-7, one bf16
  // ulp above 1, kept. Rounding after every add would give 1 (1 + 2^-8 is a
  // tie, to even, twice).
  Tensor dout({4, 1}, formats::fp32);
  // Row 1 receives 3 + 2^-10 alone, below half a bf16 ulp of 3: it becomes 3.
  dout.data = {1.0f, 0x1p-8f, 0x1p-8f, 3.0f + 0x1p-10f};
  Tensor dtable;
  embedding_backward(table, ids, dout, dtable);
  EXPECT_TRUE(same_format(dtable.format, formats::bf16));
  EXPECT_EQ(dtable.data, (std::vector<float>{1.0f + 0x1p-7f, 3.0f}));
}

TEST(LayersFloat, EmbeddingIdOutOfRangeIsADataErrorNamingThePosition) {
  Tensor table({3, 2});
  Tensor out;
  const std::vector<int32_t> ids = {0, 3};
  try {
    embedding_forward(table, ids, out);
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("position 1"), std::string::npos) << e.what();
  }
}

TEST(LayersFloat, AttentionWritesThePolicyOutputAndDqkvInQkvFormat) {
  Rng rng(12);
  GemmRuntime rt;
  GemmPolicy policy;
  policy.output = formats::fp16;
  const AttentionSites sites = attention_sites("attn", policy);
  EXPECT_EQ(sites.dk.role, GemmRole::wgrad);
  EXPECT_EQ(sites.dk.a_tensor, "ds");
  Tensor qkv({kB, kT, 3 * kC}, formats::bf16);
  Flags fl;
  for (float& v : qkv.data) v = quantize(float(rng.uniform(-1, 1)), formats::bf16, {}, fl);
  Tensor out, dqkv;
  AttentionCache<float> cache;
  attention_forward(rt, sites, qkv, kNH, formats::fp32, out, cache);
  EXPECT_TRUE(same_format(out.format, formats::fp16));
  for (float v : out.data) EXPECT_EQ(v, quantize(v, formats::fp16, {}, fl));
  // Causal mask: P is exactly 0 above the diagonal; position 0 attends to
  // itself only, P[0][0] = exp(0) / 1 = 1.
  for (size_t bh = 0; bh < kB * kNH; ++bh) {
    const float* p = cache.p.data() + bh * kT * kT;
    EXPECT_EQ(p[0], 1.0f);
    for (size_t i = 0; i < kT; ++i) {
      for (size_t j = i + 1; j < kT; ++j) EXPECT_EQ(p[i * kT + j], 0.0f);
    }
  }
  // So the output at t = 0 is V at t = 0 (fp16-rounded): head h's v slice.
  for (size_t b = 0; b < kB; ++b) {
    for (size_t c = 0; c < kC; ++c) {
      const float v0 = qkv.data[b * kT * 3 * kC + 2 * kC + c];
      EXPECT_EQ(out.data[b * kT * kC + c], quantize(v0, formats::fp16, {}, fl)) << b << " " << c;
    }
  }
  Tensor dout({kB, kT, kC}, formats::fp16);
  for (float& v : dout.data) v = quantize(float(rng.uniform(-1, 1)), formats::fp16, {}, fl);
  attention_backward(rt, sites, qkv, dout, cache, dqkv);
  EXPECT_TRUE(same_format(dqkv.format, formats::bf16));
  for (float v : dqkv.data) EXPECT_EQ(v, quantize(v, formats::bf16, {}, fl));
}

TEST(LayersFloat, AttentionRejectsHeadsThatDoNotDivideC) {
  GemmRuntime rt;
  const AttentionSites sites = attention_sites("attn", fp32_policy());
  Tensor qkv({1, 2, 3 * 6}), out;
  AttentionCache<float> cache;
  EXPECT_THROW(attention_forward(rt, sites, qkv, 4, formats::fp32, out, cache), ConfigError);
}

// Uniform logits: every exp(l - max) is exp(0) = 1, the sum is V exactly, so
// the loss is logf(V) (glibc: < 1 ulp). The mean over N = 2 equal rows is
// exact (doubling, then halving).
TEST(LayersFloat, CrossEntropyOfUniformLogitsIsLogVWithin1Ulp) {
  for (size_t vocab : {2u, 10u, 65u, 1000u}) {
    Tensor logits({2, vocab});
    std::fill(logits.data.begin(), logits.data.end(), 0.7f);
    const std::vector<int32_t> targets = {0, int32_t(vocab - 1)};
    CrossEntropyCache<float> cache;
    const float loss = cross_entropy_forward(logits, targets, formats::fp32, cache);
    const double exact = std::log(double(vocab));
    const double ulp = std::nextafter(float(exact), INFINITY) - float(exact);
    EXPECT_LE(std::abs(double(loss) - exact), ulp) << "V = " << vocab;
  }
}

// The max-subtracted log-sum-exp keeps logits beyond expf's range finite:
// for {0, 100} the sum is exp(-100) + exp(0), which is 1 in FP32, so the
// loss is log(1) - (l[t] - 100) exactly: 0 for t = 1 and 100 for t = 0.
TEST(LayersFloat, CrossEntropyIsExactForLogitsBeyondExpRange) {
  Tensor logits({2, 2});
  logits.data = {0.0f, 100.0f, 0.0f, 100.0f};
  CrossEntropyCache<float> cache;
  const std::vector<int32_t> right = {1, 1}, wrong = {0, 0};
  EXPECT_EQ(cross_entropy_forward(logits, right, formats::fp32, cache), 0.0f);
  EXPECT_EQ(cross_entropy_forward(logits, wrong, formats::fp32, cache), 100.0f);
  Tensor d;
  cross_entropy_backward(logits, wrong, cache, 2.0f, d);
  // p = {exp(-100)/1, 1}; (p - onehot)·(2 / 2): {exp(-100) - 1, 1} = {-1, 1}.
  EXPECT_EQ(d.data, (std::vector<float>{-1.0f, 1.0f, -1.0f, 1.0f}));
}

TEST(LayersFloat, CrossEntropyLossScaleOfPowerOfTwoScalesGradientsExactly) {
  Rng rng(13);
  Tensor logits({3, 7});
  for (float& v : logits.data) v = float(rng.uniform(-4, 4));
  const std::vector<int32_t> targets = {6, 0, 3};
  CrossEntropyCache<float> cache;
  cross_entropy_forward(logits, targets, formats::fp32, cache);
  Tensor d1, d1024;
  cross_entropy_backward(logits, targets, cache, 1.0f, d1);
  cross_entropy_backward(logits, targets, cache, 1024.0f, d1024);
  for (size_t i = 0; i < d1.size(); ++i) EXPECT_EQ(d1024.data[i], 1024.0f * d1.data[i]) << i;
  // Each row of (p - onehot) sums to ~0: the target's entry is negative.
  EXPECT_LT(d1.data[6], 0.0f);
  EXPECT_LT(d1.data[7], 0.0f);
}

TEST(LayersFloat, CrossEntropyGradientIsInLogitsFormatAndLossInOutFormat) {
  Tensor logits({1, 3}, formats::bf16);
  logits.data = {0.0f, 1.0f, 2.0f};
  const std::vector<int32_t> targets = {2};
  CrossEntropyCache<float> cache;
  const float loss = cross_entropy_forward(logits, targets, formats::bf16, cache);
  Flags fl;
  EXPECT_EQ(loss, quantize(loss, formats::bf16, {}, fl));
  // log(1 + e^-1 + e^-2) = 0.40760596..., bf16 nearest: 0.408203125.
  EXPECT_EQ(loss, 0.408203125f);
  Tensor d;
  cross_entropy_backward(logits, targets, cache, 1.0f, d);
  EXPECT_TRUE(same_format(d.format, formats::bf16));
  for (float v : d.data) EXPECT_EQ(v, quantize(v, formats::bf16, {}, fl));
}

TEST(LayersFloat, CrossEntropyTargetOutOfRangeIsADataErrorNamingTheRow) {
  Tensor logits({3, 4});
  CrossEntropyCache<float> cache;
  for (int32_t bad : {4, -1}) {
    const std::vector<int32_t> targets = {0, 3, bad};
    try {
      cross_entropy_forward(logits, targets, formats::fp32, cache);
      FAIL() << "no DataError for " << bad;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("row 2"), std::string::npos) << e.what();
    }
  }
}

TEST(LayersFloat, LinearShapeMismatchIsAConfigErrorNamingTheLayer) {
  GemmRuntime rt;
  const LinearSites sites = linear_sites("fc7", fp32_policy(), fp32_policy(), fp32_policy());
  Tensor x({2, 3}), w({4, 5}), y;
  try {
    linear_forward<float>(rt, sites, x, w, nullptr, y);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("fc7"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fpsim::experiments
