// What the bulk benchmarks share: their fixed input and their baseline, a
// plain loop that reads each float and writes one byte (convert_bulk_bench,
// quantize_bench; bench/README.md).
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <random>
#include <vector>

namespace fpsim_bench {

// N(0, 1) * 2^u, u uniform in [-6, 6]: normal values whose scale spreads over
// four decades (activations / gradients of different layers); fixed seed.
inline std::vector<float> activation_like_inputs(size_t n) {
  std::vector<float> v(n);
  std::mt19937_64 rng(20240601);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> spread(-6.0f, 6.0f);
  for (float& x : v) x = normal(rng) * std::exp2(spread(rng));
  return v;
}

// The baseline: narrow each float to a byte. Vectorized by the compiler
// (same flags as the library); callers let the output escape.
__attribute__((noinline)) inline void narrow_to_bytes(const float* in, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = uint8_t(int(in[i]));
}

// Thread CPU time, as Google Benchmark's items_per_second uses.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// The baseline's best rate over 9 runs (items per second), each run
// `passes` passes over the first n inputs (several for a block small
// enough to stay in cache, whose one pass is too short to time).
inline double best_narrow_items_per_s(const float* in, size_t n, int passes = 1) {
  std::vector<uint8_t> out(n);
  double best = 1e30;
  for (int rep = 0; rep < 9; ++rep) {
    const double t0 = thread_cpu_seconds();
    for (int pass = 0; pass < passes; ++pass) {
      narrow_to_bytes(in, out.data(), n);
      benchmark::DoNotOptimize(out.data());
      benchmark::ClobberMemory();
    }
    best = std::min(best, thread_cpu_seconds() - t0);
  }
  return double(passes) * double(n) / best;
}
inline double best_narrow_items_per_s(const std::vector<float>& in) {
  return best_narrow_items_per_s(in.data(), in.size());
}

}  // namespace fpsim_bench
