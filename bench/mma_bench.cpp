// MMA model GEMM throughput (issues 5 and 15): the scalar fpsim::mma_gemm
// and the SIMD fpsim::bulk::mma_gemm on 256×256×256 for the H100 bf16, fp16,
// e4m3 (fast accumulation and promotion every 128) and tf32 presets, single
// thread, in multiply-adds per second, beside a plain FP32 GEMM in
// sequential k order compiled with the same flags. `vs_fp32_loop` is each
// model's rate divided by the FP32 loop's rate measured in the same run.
#include <benchmark/benchmark.h>
#include <hwy/targets.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "fpsim/bulk/mma_gemm_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/mma.hpp"

namespace {

constexpr int kDim = 256;
constexpr double kMacs = double(kDim) * kDim * kDim;

// N(0,1) values rounded to `f` (RNE, saturating): what a quantized operand holds.
std::vector<float> operand(const fpsim::Format& f, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  fpsim::RoundingSpec rs;
  rs.overflow = fpsim::Overflow::saturate;
  std::vector<float> v(size_t(kDim) * kDim);
  for (float& x : v) {
    fpsim::Flags fl;
    x = fpsim::quantize(normal(rng), f, rs, fl);
  }
  return v;
}

// The baseline: D = A·B in FP32, k innermost and in order (plain C++; the
// compiler may not reorder the k sum without -ffast-math).
void fp32_sequential_gemm(const std::vector<float>& A, const std::vector<float>& Bt, std::vector<float>& D) {
  for (int i = 0; i < kDim; ++i)
    for (int j = 0; j < kDim; ++j) {
      float acc = 0.0f;
      const float* a = &A[size_t(i) * kDim];
      const float* b = &Bt[size_t(j) * kDim];
      for (int k = 0; k < kDim; ++k) acc += a[k] * b[k];
      D[size_t(i) * kDim + size_t(j)] = acc;
    }
}

struct Fp32Loop {
  std::vector<float> A = operand(fpsim::formats::fp32, 1), Bt = operand(fpsim::formats::fp32, 2),
                     D = std::vector<float>(size_t(kDim) * kDim);
  // MAC/s of the loop: the best of 5 timed runs (wall clock), taken once at
  // start-up so every row divides by the same figure.
  double best_rate = [this] {
    double best = 0;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      fp32_sequential_gemm(A, Bt, D);
      benchmark::DoNotOptimize(D.data());
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, kMacs / s);
    }
    return best;
  }();
};

const Fp32Loop& fp32_loop() {
  static const Fp32Loop loop;
  return loop;
}

void BM_fp32_sequential_loop(benchmark::State& state) {
  Fp32Loop loop = fp32_loop();
  for (auto _ : state) {
    fp32_sequential_gemm(loop.A, loop.Bt, loop.D);
    benchmark::DoNotOptimize(loop.D.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(kMacs * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["vs_fp32_loop"] =
      benchmark::Counter(kMacs * double(state.iterations()) / loop.best_rate, benchmark::Counter::kIsRate);
}

// simd: fpsim::bulk::mma_gemm (the label names the Highway target), else
// the scalar fpsim::mma_gemm.
template <bool simd>
void run_mma_gemm(benchmark::State& state, const char* preset) {
  const fpsim::MmaModel m = fpsim::mma_preset(preset);
  const std::vector<float> A = operand(m.input_a, 1), B = operand(m.input_b, 2);
  std::vector<float> D(size_t(kDim) * kDim);
  if (simd) state.SetLabel(fpsim::bulk::simd_target_name());
  for (auto _ : state) {
    if (simd)
      fpsim::bulk::mma_gemm(m, kDim, kDim, kDim, A, B, {}, D);
    else
      fpsim::mma_gemm(m, kDim, kDim, kDim, A, B, {}, D);
    benchmark::DoNotOptimize(D.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(kMacs * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["vs_fp32_loop"] =
      benchmark::Counter(kMacs * double(state.iterations()) / fp32_loop().best_rate, benchmark::Counter::kIsRate);
}

// The SIMD GEMM forced onto one Highway target (issue 15 states a target
// for AVX2 as well as AVX-512); registered in main for every target this CPU
// has.
void BM_mma_gemm_simd_on_target(benchmark::State& state, int64_t target, const char* preset) {
  hwy::SetSupportedTargetsForTest(target);
  run_mma_gemm<true>(state, preset);
  hwy::SetSupportedTargetsForTest(0);
}

void BM_mma_gemm_scalar(benchmark::State& state, const char* preset) { run_mma_gemm<false>(state, preset); }
void BM_mma_gemm_simd(benchmark::State& state, const char* preset) { run_mma_gemm<true>(state, preset); }

}  // namespace

// The FP32 loop runs first; each model reports its ratio to it through the
// MAC/s counters (bench/README.md explains how the ratio is taken).
BENCHMARK(BM_fp32_sequential_loop)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_scalar, h100_bf16_fp32, "h100-bf16-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_scalar, h100_fp16_fp32, "h100-fp16-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_scalar, h100_e4m3_fp32, "h100-e4m3-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_scalar, h100_e4m3_fp32_promote128, "h100-e4m3-fp32:promote128")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_scalar, h100_tf32_fp32, "h100-tf32-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_scalar, a100_tf32_fp32, "a100-tf32-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_simd, h100_bf16_fp32, "h100-bf16-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_simd, h100_fp16_fp32, "h100-fp16-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_simd, h100_e4m3_fp32, "h100-e4m3-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_simd, h100_e4m3_fp32_promote128, "h100-e4m3-fp32:promote128")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_simd, h100_tf32_fp32, "h100-tf32-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_mma_gemm_simd, a100_tf32_fp32, "a100-tf32-fp32")->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  for (const int64_t target : hwy::SupportedAndGeneratedTargets())
    for (const char* preset : {"h100-bf16-fp32", "h100-e4m3-fp32"}) {
      const std::string name = std::string("BM_mma_gemm_simd_on_target/") + hwy::TargetName(target) + "/" + preset;
      benchmark::RegisterBenchmark(name.c_str(), BM_mma_gemm_simd_on_target, target, preset)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
