// Throughput of the bulk SIMD conversion f32 -> low precision (sim/bulk),
// single thread, against a baseline in the same binary: a plain loop that
// narrows the same floats to bytes. The `vs_narrow` counter is the ratio of a
// conversion's items/s to the baseline's (measured once at start-up, best of
// several runs). See README.md for the table.
#include <benchmark/benchmark.h>
#include <hwy/targets.h>

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "narrow_baseline.hpp"
#include "fpsim/format_table.hpp"

namespace {

constexpr size_t kCount = size_t{16} << 20;  // 16M floats

const std::vector<float>& inputs() {
  static const std::vector<float> data = fpsim_bench::activation_like_inputs(kCount);
  return data;
}

using fpsim_bench::narrow_to_bytes;

double g_baseline_items_per_s = 0;

// The in-cache rows: the first 32Ki inputs (128 KiB in, at most 64 KiB out:
// inside the L2 of every machine we have seen), converted again and again, so
// the rate is the kernel's compute, not the memory system's. On the Intel VM
// the 16M rows wait on memory; on the AMD Zen 5 the SR rows were compute-bound
// (bench/README.md), and these rows show that cost on any machine.
constexpr size_t kInCacheCount = size_t{32} << 10;
double g_in_cache_baseline_items_per_s = 0;

// The narrowing loop on the in-cache block: best of 9 runs of 64 passes.
double measure_in_cache_baseline() {
  return fpsim_bench::best_narrow_items_per_s(inputs().data(), kInCacheCount, 64);
}

double measure_baseline() { return fpsim_bench::best_narrow_items_per_s(inputs()); }

void BM_NarrowToBytesBaseline(benchmark::State& state) {
  const std::vector<float>& in = inputs();
  std::vector<uint8_t> out(in.size());
  for (auto _ : state) {
    narrow_to_bytes(in.data(), out.data(), in.size());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(in.size()));
}

// Converts the first `count` inputs per iteration; the counter divides by
// the baseline rate measured on the same count.
template <typename T>
void run_convert(benchmark::State& state, const fpsim::Format& f, const fpsim::RoundingSpec& rs, size_t count,
                 const char* counter, double baseline_items_per_s) {
  const std::span<const float> in(inputs().data(), count);
  std::vector<T> out(count);
  for (auto _ : state) {
    fpsim::bulk::convert_from_f32(in, f, rs, std::span<T>(out), 0, nullptr);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double items = double(state.iterations()) * double(count);
  state.SetItemsProcessed(int64_t(items));
  // items / baseline rate, divided by the elapsed time: the ratio of rates
  state.counters[counter] = benchmark::Counter(items / baseline_items_per_s, benchmark::Counter::kIsRate);
}

void convert_rows(benchmark::State& state, const char* format, const char* mode, size_t count, const char* counter,
                  double baseline_items_per_s) {
  const fpsim::Format f = fpsim::parse_format(format);
  fpsim::RoundingSpec rs;
  fpsim::parse_rounding(mode, rs);
  rs.seed = 1234;
  rs.stream = 1;
  if (f.bits <= 8)
    run_convert<uint8_t>(state, f, rs, count, counter, baseline_items_per_s);
  else
    run_convert<uint16_t>(state, f, rs, count, counter, baseline_items_per_s);
}

void BM_Convert(benchmark::State& state, const char* format, const char* mode) {
  convert_rows(state, format, mode, kCount, "vs_narrow", g_baseline_items_per_s);
}

void BM_ConvertInCache(benchmark::State& state, const char* format, const char* mode) {
  convert_rows(state, format, mode, kInCacheCount, "vs_narrow_in_cache", g_in_cache_baseline_items_per_s);
}

// The same conversion forced onto one Highway target, registered in main for
// every target this CPU has: an AVX-512 machine then also shows what the
// AVX2 code does (issue 2's stochastic-rounding target was stated on an
// AVX2-only machine). The label names the target the dispatch chose.
void BM_ConvertOnTarget(benchmark::State& state, int64_t target, const char* format, const char* mode) {
  hwy::SetSupportedTargetsForTest(target);
  state.SetLabel(fpsim::bulk::simd_target_name());
  BM_Convert(state, format, mode);
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  inputs();
  g_baseline_items_per_s = measure_baseline();
  g_in_cache_baseline_items_per_s = measure_in_cache_baseline();
  std::printf("SIMD target: %s; baseline (narrow f32 -> u8 loop): %.3g items/s; in cache (%zu floats): %.3g items/s\n",
              fpsim::bulk::simd_target_name(), g_baseline_items_per_s, kInCacheCount,
              g_in_cache_baseline_items_per_s);
  benchmark::RegisterBenchmark("NarrowToBytesBaseline", BM_NarrowToBytesBaseline)->Unit(benchmark::kMillisecond);
  for (const char* mode : {"rne", "sr", "sr16"})
    for (const char* format : {"bf16", "fp16", "e4m3", "e5m2", "e2m1"})
      benchmark::RegisterBenchmark((std::string("Convert/") + format + "/" + mode).c_str(), BM_Convert, format, mode)
          ->Unit(benchmark::kMillisecond);
  for (const char* mode : {"rne", "sr", "sr16"})
    for (const char* format : {"bf16", "e4m3"})
      benchmark::RegisterBenchmark((std::string("ConvertInCache/") + format + "/" + mode).c_str(), BM_ConvertInCache,
                                   format, mode);
  for (const int64_t target : hwy::SupportedAndGeneratedTargets())
    for (const char* mode : {"rne", "sr", "sr16"})
      for (const char* format : {"bf16", "e4m3"})
        benchmark::RegisterBenchmark(
            (std::string("ConvertOnTarget/") + hwy::TargetName(target) + "/" + format + "/" + mode).c_str(),
            BM_ConvertOnTarget, target, format, mode)
            ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
