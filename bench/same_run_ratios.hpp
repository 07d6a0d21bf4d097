// What arith_bench and bench/softfloat/softfloat_bench share so that their
// ratios have one denominator: the native scalar FP32 add loop (one addss per
// element, compiled the same way in both) and the reporter that collects
// each benchmark's items/s so the program can print ratios taken in the same
// run (bench/README.md, "Scalar arithmetic").
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fpsim_bench {

// One addss per element: the scalar host rate.
#if defined(__clang__)
__attribute__((noinline)) void native_f32_add_scalar(const float* a, const float* b, float* out, size_t n) {
#pragma clang loop vectorize(disable) interleave(disable)
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}
#else
__attribute__((noinline, optimize("no-tree-vectorize"))) void native_f32_add_scalar(const float* a, const float* b,
                                                                                    float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}
#endif

// Google Benchmark's console output, plus each benchmark's items/s kept for
// the ratios printed at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Colour only on a terminal (the library's own "auto").
  RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const auto it = r.counters.find("items_per_second");
      if (it == r.counters.end()) continue;
      if (r.run_type == Run::RT_Iteration) {
        auto& [sum, n] = means_[r.benchmark_name()];
        sum += it->second.value;
        ++n;
      } else if (r.aggregate_name == "median") {
        medians_[r.run_name.str()] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  // items/s of a benchmark: the median over repetitions where there were
  // several, else the (mean of the) iteration runs; 0 when it did not run.
  double rate(const std::string& name) const {
    if (const auto m = medians_.find(name); m != medians_.end()) return m->second;
    const auto it = means_.find(name);
    return it == means_.end() ? 0.0 : it->second.first / it->second.second;
  }

 private:
  std::map<std::string, std::pair<double, int>> means_;
  std::map<std::string, double> medians_;
};

}  // namespace fpsim_bench
