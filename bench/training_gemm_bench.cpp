// The training runner's GEMMs (experiments/, docs/training.md "GEMM"),
// single thread, in multiply-adds per second:
// - gemm_fp32 (Highway, one FMA chain per output element) at 128³, 256³ and 512³,
//   and 256³ with B read transposed (packed to [K, N] first, included in the
//   time), beside a plain FP32 loop in sequential k order (`acc += a[k] *
//   b[k]`, B transposed so both operands stream; plain C++ compiled with the
//   same flags) timed in the same run;
// - gemm under three recipes' policies at 256³: a bf16 cast (bf16 operands,
//   FP32 accumulation, bf16 output), mxfp8 (e4m3, 1x32 E8M0 ceil blocks
//   along K, FP32 accumulation, bf16 output) and FP8 current scaling with the
//   h100-e4m3-fp32 MMA model (fast accumulation, FP32 output). Operand
//   preparation (casts, quantization) is part of the time, as in training.
// `vs_fp32_loop` is each row's MAC/s divided by the loop's MAC/s at the same
// size (the best of 5 runs at start-up). Rates are per second of this
// thread's CPU time, not wall time: the benchmark machines are shared, and
// a single-threaded kernel's CPU time does not count the time it waited.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <ctime>
#include <map>
#include <random>
#include <span>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "fpsim/experiments/gemm.hpp"

namespace {

using fpsim::experiments::MatrixView;

std::vector<float> normal_values(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// The baseline: D = A·Bᵀ, k innermost and in order (the compiler may not
// reorder the k sum without -ffast-math).
void fp32_sequential_gemm(size_t d, const std::vector<float>& a, const std::vector<float>& bt, std::vector<float>& o) {
  for (size_t i = 0; i < d; ++i)
    for (size_t j = 0; j < d; ++j) {
      float acc = 0.0f;
      const float* x = &a[i * d];
      const float* y = &bt[j * d];
      for (size_t k = 0; k < d; ++k) acc += x[k] * y[k];
      o[i * d + j] = acc;
    }
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

double loop_rate(size_t d) {
  static std::map<size_t, double> rates;
  auto it = rates.find(d);
  if (it != rates.end()) return it->second;
  const std::vector<float> a = normal_values(d * d, 1), bt = normal_values(d * d, 2);
  std::vector<float> o(d * d);
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    const double t0 = thread_cpu_seconds();
    fp32_sequential_gemm(d, a, bt, o);
    benchmark::DoNotOptimize(o.data());
    const double s = thread_cpu_seconds() - t0;
    best = std::max(best, double(d) * double(d) * double(d) / s);
  }
  return rates[d] = best;
}

void set_counters(benchmark::State& state, size_t d) {
  const double macs = double(d) * double(d) * double(d) * double(state.iterations());
  state.counters["MAC/s"] = benchmark::Counter(macs, benchmark::Counter::kIsRate);
  state.counters["vs_fp32_loop"] = benchmark::Counter(macs / loop_rate(d), benchmark::Counter::kIsRate);
}

void BM_fp32_sequential_loop(benchmark::State& state) {
  const size_t d = size_t(state.range(0));
  const std::vector<float> a = normal_values(d * d, 1), bt = normal_values(d * d, 2);
  std::vector<float> o(d * d);
  for (auto _ : state) {
    fp32_sequential_gemm(d, a, bt, o);
    benchmark::DoNotOptimize(o.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, d);
}

void BM_gemm_fp32(benchmark::State& state, bool b_transposed) {
  const size_t d = size_t(state.range(0));
  const std::vector<float> a = normal_values(d * d, 1), b = normal_values(d * d, 2), bias = normal_values(d, 3);
  std::vector<float> o(d * d);
  for (auto _ : state) {
    fpsim::experiments::gemm_fp32({a.data(), d, d, false}, {b.data(), d, d, b_transposed}, bias.data(), o);
    benchmark::DoNotOptimize(o.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, d);
  state.SetLabel(fpsim::bulk::simd_target_name());
}

fpsim::experiments::GemmPolicy policy(const char* name) {
  using fpsim::experiments::OperandScaling;
  fpsim::experiments::GemmPolicy p;
  const std::string n = name;
  if (n == "bf16-cast") {
    p.a.format = p.b.format = fpsim::formats::bf16;
    p.output = fpsim::formats::bf16;
  } else if (n == "mxfp8") {
    p.a.format = p.b.format = fpsim::formats::e4m3;
    p.a.scaling = p.b.scaling = OperandScaling::mx;
    p.a.block = p.b.block = 32;
    p.output = fpsim::formats::bf16;
  } else {  // fp8 current scaling on the H100 FP8 MMA model
    p.a.format = p.b.format = fpsim::formats::e4m3;
    p.a.scaling = p.b.scaling = OperandScaling::current;
    p.accumulate = "h100-e4m3-fp32";
  }
  return p;
}

void BM_gemm_policy(benchmark::State& state, const char* name) {
  const size_t d = 256;
  const std::vector<float> a = normal_values(d * d, 1), b = normal_values(d * d, 2), bias = normal_values(d, 3);
  std::vector<float> o(d * d);
  fpsim::experiments::GemmRuntime rt(7);
  const fpsim::experiments::GemmSite site{"fc1", fpsim::experiments::GemmRole::fprop, "x", "w", policy(name)};
  for (auto _ : state) {
    // Y = X·Wᵀ: W stored [out, in] read transposed, as a Linear layer's fprop.
    fpsim::experiments::gemm(rt, site, MatrixView<float>{a.data(), d, d, false},
                             MatrixView<float>{b.data(), d, d, true}, bias.data(), o);
    benchmark::DoNotOptimize(o.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, d);
}

}  // namespace

BENCHMARK(BM_fp32_sequential_loop)->Arg(128)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gemm_fp32, b_rows, false)->Arg(128)->Arg(256)->Arg(512)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gemm_fp32, b_transposed, true)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gemm_policy, bf16_cast, "bf16-cast")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gemm_policy, mxfp8, "mxfp8")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_gemm_policy, fp8_current_h100_e4m3_fp32, "h100-e4m3-fp32")->Unit(benchmark::kMicrosecond);

