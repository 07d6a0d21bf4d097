// Whole-model gradients against FP64 central differences (docs/training.md,
// "Verification"): Mlp<double> and Gpt<double> run the same layer code as
// training, with rounding the identity and GEMMs plain FP64 sums, so the
// analytical backward must match (L(θ+h) - L(θ-h)) / 2h to the accuracy of
// the difference quotient.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "fpsim/experiments/models/gpt.hpp"
#include "fpsim/experiments/models/mlp.hpp"
#include "fpsim/philox.hpp"

namespace fpsim::experiments {
namespace {

// Uniform in (-a, a) from Philox, for parameters and inputs of a size that
// makes every gradient clearly non-zero (the models' own inits are tiny).
double uniform(uint32_t stream, uint64_t i, double a) {
  const uint32_t counter[4] = {uint32_t(i), uint32_t(i >> 32), 7, 0};
  return a * (double(philox4x32_10(counter, 1234, stream).w[0]) * 0x1p-31 - 1.0);
}

// Compares every parameter element's analytical gradient with the central
// difference. h = 1e-5 on O(1) values: truncation error O(h^2 f''') ~ 1e-10
// and cancellation ~ 1e-16 / h ~ 1e-11, so |analytic - numeric| <= 1e-7 +
// 1e-6 |numeric| leaves margin while any wrong term (O(1e-2) or more here)
// fails.
template <class Model, class LossFn>
void expect_gradients_match(Model& model, LossFn loss) {
  GemmRuntime rt(0);
  loss(rt);
  model.backward(rt, 1.0);
  size_t checked = 0;
  for (Parameter<double>& p : model.parameters()) {
    const std::vector<double> analytic = p.grad.data;
    for (size_t i = 0; i < p.value.size(); ++i) {
      const double saved = p.value.data[i];
      const double h = 1e-5;
      p.value.data[i] = saved + h;
      const double up = loss(rt);
      p.value.data[i] = saved - h;
      const double down = loss(rt);
      p.value.data[i] = saved;
      const double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(analytic[i], numeric, 1e-7 + 1e-6 * std::abs(numeric)) << p.name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

TEST(ModelGradients, MlpMatchesCentralDifferencesInFp64) {
  const MlpConfig config{5, 7, 2, 4};
  Mlp<double> model(config, Recipe{});
  uint32_t stream = 0;
  for (Parameter<double>& p : model.parameters()) {
    ++stream;
    for (size_t i = 0; i < p.value.size(); ++i) p.value.data[i] = uniform(stream, i, 0.8);
  }
  const size_t batch = 6;
  std::vector<double> x(batch * config.inputs);
  for (size_t i = 0; i < x.size(); ++i) x[i] = uniform(100, i, 1.0);
  const std::vector<int32_t> labels = {0, 3, 1, 2, 3, 0};
  expect_gradients_match(model, [&](GemmRuntime& rt) { return model.forward(rt, x, labels); });
}

TEST(ModelGradients, GptMatchesCentralDifferencesInFp64) {
  GptConfig config;
  config.vocab = 5;
  config.layers = 2;
  config.width = 8;
  config.heads = 2;
  config.context = 4;
  Gpt<double> model(config, Recipe{});
  uint32_t stream = 0;
  for (Parameter<double>& p : model.parameters()) {
    ++stream;
    for (size_t i = 0; i < p.value.size(); ++i) p.value.data[i] = uniform(stream, i, 0.5);
  }
  const std::vector<int32_t> tokens = {0, 1, 2, 3, 4, 4, 2, 1};
  const std::vector<int32_t> targets = {1, 2, 3, 4, 4, 2, 1, 0};
  expect_gradients_match(model, [&](GemmRuntime& rt) { return model.forward(rt, tokens, targets, 2); });
}

// The tied LM head: wte's gradient is the sum of the embedding's and the
// head's, so a token that never appears as an input still gets a gradient
// (through the head), and one that never appears anywhere as input or target
// still gets one through the softmax over every logit.
TEST(ModelGradients, TiedEmbeddingGetsTheHeadsGradient) {
  GptConfig config;
  config.vocab = 6;
  config.layers = 1;
  config.width = 4;
  config.heads = 1;
  config.context = 3;
  Gpt<double> model(config, Recipe{});
  model.init(3);
  GemmRuntime rt(0);
  const std::vector<int32_t> tokens = {0, 1, 2};
  const std::vector<int32_t> targets = {1, 2, 3};
  model.forward(rt, tokens, targets, 1);
  model.backward(rt, 1.0);
  const Parameter<double>& wte = model.parameters()[0];
  ASSERT_EQ(wte.name, "transformer.wte.weight");
  double row5 = 0;
  for (size_t c = 0; c < config.width; ++c) row5 += std::abs(wte.grad.data[5 * config.width + c]);
  EXPECT_GT(row5, 0.0);
}

}  // namespace
}  // namespace fpsim::experiments
