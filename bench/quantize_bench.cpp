// Throughput of the bulk SIMD quantizers (sim/bulk, fpsim::bulk::quantize /
// dequantize), single thread, on a 4096 x 4096 f32 tensor, against a baseline
// in the same binary: a plain loop that reads each float and writes one byte.
// The `vs_baseline` counter is the ratio of a row's items/s (elements/s) to
// the baseline's (measured once at start-up, best of several runs). The
// scalar definitions (fpsim::quantize) are timed once each for reference.
// See README.md, "quantize_bench".
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "narrow_baseline.hpp"
#include "fpsim/bulk/quantize_bulk.hpp"
#include "fpsim/quantize.hpp"

namespace {

constexpr fpsim::TensorShape kShape{4096, 4096};

const std::vector<float>& inputs() {
  static const std::vector<float> data = fpsim_bench::activation_like_inputs(kShape.size());
  return data;
}

using fpsim_bench::narrow_to_bytes;

double g_baseline_items_per_s = 0;

double measure_baseline() { return fpsim_bench::best_narrow_items_per_s(inputs()); }

void set_counters(benchmark::State& state) {
  const double items = double(state.iterations()) * double(kShape.size());
  state.SetItemsProcessed(int64_t(items));
  state.counters["vs_baseline"] = benchmark::Counter(items / g_baseline_items_per_s, benchmark::Counter::kIsRate);
}

void BM_Baseline(benchmark::State& state) {
  const std::vector<float>& in = inputs();
  std::vector<uint8_t> out(in.size());
  for (auto _ : state) {
    narrow_to_bytes(in.data(), out.data(), in.size());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

fpsim::QuantScheme scheme_of(const char* name, bool error_stats) {
  fpsim::QuantScheme q = fpsim::parse_quant_scheme(name);
  q.error_stats = error_stats;
  return q;
}

// Steady state: the result's storage is reused from call to call, as the
// training runner does (quantize_into), and as the baseline's output buffer is.
void BM_Quantize(benchmark::State& state, const char* name, bool error_stats) {
  const fpsim::QuantScheme q = scheme_of(name, error_stats);
  const std::vector<float>& in = inputs();
  fpsim::QuantizedTensor t;
  for (auto _ : state) {
    fpsim::bulk::quantize_into(in, kShape, q, t);
    benchmark::DoNotOptimize(t.elements.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

// A fresh result per call (bulk::quantize returning by value): the first
// touch of 16 MiB of new pages is part of the cost.
void BM_QuantizeFreshResult(benchmark::State& state, const char* name) {
  const fpsim::QuantScheme q = scheme_of(name, false);
  const std::vector<float>& in = inputs();
  for (auto _ : state) {
    fpsim::QuantizedTensor t = fpsim::bulk::quantize(in, kShape, q);
    benchmark::DoNotOptimize(t.elements.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

void BM_Dequantize(benchmark::State& state, const char* name) {
  const fpsim::QuantizedTensor t = fpsim::bulk::quantize(inputs(), kShape, scheme_of(name, false));
  std::vector<float> v(t.elements.size());
  for (auto _ : state) {
    fpsim::bulk::dequantize_into(t, v);
    benchmark::DoNotOptimize(v.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

void BM_ScalarQuantize(benchmark::State& state, const char* name) {
  const fpsim::QuantScheme q = scheme_of(name, false);
  const std::vector<float>& in = inputs();
  for (auto _ : state) {
    fpsim::QuantizedTensor t = fpsim::quantize(in, kShape, q);
    benchmark::DoNotOptimize(t.elements.data());
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  inputs();
  g_baseline_items_per_s = measure_baseline();
  std::printf("SIMD target: %s; baseline (read f32, write u8 loop): %.3g items/s; tensor %zux%zu\n",
              fpsim::bulk::simd_target_name(), g_baseline_items_per_s, kShape.rows, kShape.cols);
  benchmark::RegisterBenchmark("Baseline", BM_Baseline)->Unit(benchmark::kMillisecond);
  const char* schemes[] = {"per-tensor-e4m3", "mxfp8-e4m3", "mxfp4", "nvfp4"};
  for (const char* s : schemes)
    benchmark::RegisterBenchmark((std::string("Quantize/") + s).c_str(), BM_Quantize, s, false)
        ->Unit(benchmark::kMillisecond);
  for (const char* s : schemes)
    benchmark::RegisterBenchmark((std::string("QuantizeFreshResult/") + s).c_str(), BM_QuantizeFreshResult, s)
        ->Unit(benchmark::kMillisecond);
  for (const char* s : schemes)
    benchmark::RegisterBenchmark((std::string("QuantizeErrorStats/") + s).c_str(), BM_Quantize, s, true)
        ->Unit(benchmark::kMillisecond);
  for (const char* s : schemes)
    benchmark::RegisterBenchmark((std::string("Dequantize/") + s).c_str(), BM_Dequantize, s)
        ->Unit(benchmark::kMillisecond);
  // The scalar definitions, once each (seconds per call).
  for (const char* s : schemes)
    benchmark::RegisterBenchmark((std::string("ScalarQuantize/") + s).c_str(), BM_ScalarQuantize, s)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
