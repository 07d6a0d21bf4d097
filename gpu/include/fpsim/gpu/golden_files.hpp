// New golden data from a real tensor core (docs/gpu.md, "Golden data"): the
// input sets gpu/ feeds to each configuration, the files in the published
// format (tests/data/gpu-golden/README.md: a/b rows of K hex FP32 encodings,
// c/d lines of 32-character binary strings) and the comparison with a model.
// Plain C++: the device only fills in D.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fpsim/gpu/mma_config.hpp"
#include "fpsim/mma.hpp"

namespace fpsim::gpu {

// One set of dot products for one configuration.
struct GoldenSet {
  std::string name;          // "random", "zero-c", "separate-fp16", "chained"
  std::string distribution;  // one line for the README
  int k = 0;
  int rows = 0;
  std::vector<uint32_t> a, b;  // rows · k FP32 bit patterns, values of the input format
  std::vector<uint32_t> c;     // rows FP32 bit patterns, values of the output format
};

// The sets for `config`, reproducible from `seed` (std::mt19937_64):
// - random: K = instruction k, random signs, exponents in a band that keeps
//   products and sums finite in the output format, random significands, one
//   operand in 16 subnormal (where the format has them), one in 32 zero;
//   C a random non-zero value of the output format near the products' scale;
// - zero-c (FP8 inputs): the same with C = 0, like the published H100 rows;
// - separate-fp16 (FP8 inputs, fp16 output): C and the products within a few
//   binades of each other with mixed signs, so that the accumulator's width,
//   its rounding and the final fp16 rounding all show;
// - chained: K = 4 · instruction k (four instructions chained through the
//   accumulator), rows / 5 rows.
std::vector<GoldenSet> golden_input_sets(const MmaConfig& config, int rows, uint64_t seed);

// Writes <dir>/a_<tag>_<in>.txt, b_..., c_<tag>_<out>.txt and d_<tag>_<out>.txt
// (tag e.g. "H200"), creating nothing else; throws IoError.
void write_golden_files(const std::string& dir, const std::string& tag, const MmaConfig& config,
                        const GoldenSet& set, std::span<const uint32_t> d);

// Rows where `model` (mma_dot over the row, C as given) gives D bit for bit
// (NaNs match any NaN).
int count_model_matches(const MmaModel& model, const GoldenSet& set, std::span<const uint32_t> d);

}  // namespace fpsim::gpu
