// One training step (forward, backward, AdamW update) of the mlp and the gpt
// under every built-in recipe, in one run so the ratios to the fp32 step
// are measured on the same machine state (bench/README.md, "Training step").
// The data are random batches of the models' default sizes: the cost of a
// step does not depend on the values (no data-dependent branches apart from
// the rare special cases).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "fpsim/experiments/models/gpt.hpp"
#include "fpsim/experiments/models/mlp.hpp"
#include "fpsim/experiments/optimizer.hpp"
#include "fpsim/experiments/recipe.hpp"

namespace {

using namespace fpsim::experiments;

std::vector<Param> optimizer_params(std::vector<Parameter<float>>& params) {
  std::vector<Param> out;
  for (Parameter<float>& p : params) {
    out.push_back(Param{p.name, &p.value, &p.grad, p.weight_decay, parameter_stream_id(p.name)});
  }
  return out;
}

void BM_MlpStep(benchmark::State& state, const std::string& recipe_name) {
  const Recipe recipe = load_recipe(recipe_name);
  Mlp<float> model(MlpConfig{}, recipe);
  model.init(0);
  AdamW opt(optimizer_params(model.parameters()), AdamWConfig{}, optimizer_numerics(recipe, 0));
  const size_t batch = 32;
  std::vector<float> x(batch * 64);
  std::vector<int32_t> y(batch);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 2654435761u) % 17) / 16.0f;
  for (size_t i = 0; i < batch; ++i) y[i] = int32_t(i % 10);
  GemmRuntime rt(0);
  uint32_t step = 0;
  for (auto _ : state) {
    rt.step = step;
    const float loss = model.forward(rt, x, y);
    benchmark::DoNotOptimize(loss);
    model.backward(rt, 1.0f);
    opt.step(1e-3, step++);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}

void BM_GptStep(benchmark::State& state, const std::string& recipe_name) {
  const Recipe recipe = load_recipe(recipe_name);
  GptConfig config;  // the defaults of docs/training.md: 2 layers, width 64, 4 heads, context 64
  config.vocab = 84;  // about the size of The Devil's Dictionary's character set (83)
  Gpt<float> model(config, recipe);
  model.init(0);
  AdamW opt(optimizer_params(model.parameters()), AdamWConfig{}, optimizer_numerics(recipe, 0));
  const size_t batch = 16;
  std::vector<int32_t> tokens(batch * config.context), targets(batch * config.context);
  for (size_t i = 0; i < tokens.size(); ++i) {
    tokens[i] = int32_t((i * 2654435761u) % config.vocab);
    targets[i] = int32_t((i * 40503u + 7) % config.vocab);
  }
  GemmRuntime rt(0);
  uint32_t step = 0;
  for (auto _ : state) {
    rt.step = step;
    const float loss = model.forward(rt, tokens, targets, batch);
    benchmark::DoNotOptimize(loss);
    model.backward(rt, 1.0f);
    opt.step(1e-3, step++);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}

const int registered = [] {
  for (const std::string& r : builtin_recipe_names()) {
    benchmark::RegisterBenchmark(("MlpStep/" + r).c_str(), BM_MlpStep, r)->Unit(benchmark::kMicrosecond);
  }
  for (const std::string& r : builtin_recipe_names()) {
    benchmark::RegisterBenchmark(("GptStep/" + r).c_str(), BM_GptStep, r)->Unit(benchmark::kMillisecond);
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
