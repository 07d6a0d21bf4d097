// `fpsim gpu convert`: every Hopper `cvt` between the ML formats, run on all
// of its inputs on the device and compared with sim compiled as device code
// (docs/gpu.md, "Conversions on the device"). The table and the judgement
// are conversion_semantics.hpp; this is the plain C++ around them: names,
// results, the JSON report (conversion_cases.cpp) and the device runner
// (conversion_kernels.cu, CUDA builds only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fpsim/gpu/conversion_semantics.hpp"

namespace fpsim::gpu {

// The most examples kept per conversion (--keep).
inline constexpr int kMaxKeptExamples = 64;

// One input the hardware and sim answered differently.
struct ConversionExample {
  uint32_t input = 0;
  uint32_t hardware = 0;
  uint32_t sim = 0;
};

struct ConversionResult {
  ConversionId id = ConversionId::count_;
  uint64_t inputs_total = 0;    // the size of the conversion's input space (or --limit)
  uint64_t inputs_checked = 0;  // fewer when the time budget ran out
  uint64_t matches = 0;
  uint64_t ignored_bits_differ = 0;        // tf32's low 13 bits only
  uint64_t nan_pattern_differs = 0;        // both NaN, different bits
  uint64_t hardware_nan_noncanonical = 0;  // inputs with a hardware NaN lane other than PTX's canonical NaN
  uint64_t mismatches = 0;
  std::vector<ConversionExample> first_mismatches;       // the first --keep, in device order
  std::vector<ConversionExample> first_nan_differences;  // the first few, likewise

  bool passed() const { return mismatches == 0; }
  bool complete() const { return inputs_checked == inputs_total; }
};

struct ConversionRunOptions {
  std::vector<ConversionId> only;  // empty: all
  uint64_t limit = 0;              // inputs per conversion, evenly strided; 0: all
  int keep = 16;                   // examples kept per conversion (<= kMaxKeptExamples)
  double time_budget_s = 45;       // stop starting new rounds after this (the report says so)
};

struct ConversionRun {
  std::string device;  // device_description()
  std::string error;   // a CUDA error, when one stopped the run
  bool stopped_by_time_budget = false;
  double seconds = 0;
  uint64_t limit = 0;
  std::vector<ConversionResult> results;

  bool passed() const;
};

// The conversion named `name` ("f32-e4m3x2-rn-satfinite"); false if none.
bool conversion_by_name(const std::string& name, ConversionId* id);
// All conversions, in table order.
std::vector<ConversionId> all_conversions();
// A comma-separated list of names; throws fpsim::Error naming the first
// unknown one (and listing the known ones).
std::vector<ConversionId> parse_conversion_list(const std::string& csv);

// The inputs a conversion checks: all 2^input_bits, or `limit` of them.
uint64_t conversion_input_count(ConversionId id, uint64_t limit);
// Input number i (0 <= i < conversion_input_count) of the evenly strided
// sample: i * (2^input_bits / count).
uint64_t conversion_input_stride(ConversionId id, uint64_t limit);

// "f32-e4m3x2-rn-satfinite        4294967296/4294967296 inputs  0 mismatches ... PASS".
std::string conversion_summary_line(const ConversionResult& r);
// The JSON report (schema "fpsim-gpu-convert-1").
std::string conversion_report_json(const ConversionRun& run);
// Writes the report through fpsim::io (atomically); throws fpsim::IoError.
void write_conversion_report(const ConversionRun& run, const std::string& path);

#if defined(FPSIM_HAVE_GPU) && FPSIM_HAVE_GPU
// Runs the conversions on the current CUDA device. Never throws for a CUDA
// error: it stops, and `error` says which call failed.
ConversionRun run_conversion_checks(const ConversionRunOptions& options);
#endif

}  // namespace fpsim::gpu
