// `fpsim mma-error`: the error of an MMA model's dot products against the
// exact dot product of the same inputs (docs/cli.md, docs/mma.md "Error
// against the exact dot product").
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "fpsim/mma.hpp"

namespace CLI {
class App;
}

namespace fpsim::cli {

struct MmaErrorOptions {
  std::string model;               // an fpsim::mma_preset name (":promoteN" suffix allowed)
  int64_t k = 0;                   // dot-product length, 1..kMmaErrorMaxK
  std::optional<int64_t> promote;  // promotion_interval override (0: fast accumulation); >= 0
  std::string dist = "normal";     // normal: N(0,1); uniform: U(-1,1); uniform01: U(0,1)
  int64_t trials = 1000;           // 1..kMmaErrorMaxTrials
  uint64_t seed = 0;
  bool json = false;  // one JSON object instead of text
};

inline constexpr int64_t kMmaErrorMaxK = int64_t{1} << 24;
inline constexpr int64_t kMmaErrorMaxTrials = int64_t{1} << 32;

enum class MmaErrorDist : uint8_t { normal, uniform, uniform01 };

// Input value `index` of operand `operand` (0: a, 1: b) in trial `trial`,
// before rounding to the model's input format. One Philox4x32-10 block
// (fpsim/philox.hpp) with key (seed & 0xFFFFFFFF, seed >> 32) and counter
// (index, trial, operand, 0) gives two 53-bit integers m1 = (w1:w0) >> 11,
// m2 = (w3:w2) >> 11. uniform: m1 * 2^-52 - 1, in [-1, 1). uniform01:
// m1 * 2^-53, in [0, 1) (no cancellation: every product is >= 0). normal: Box-Muller,
// sqrt(-2 ln u1) * cos(2 pi u2) with u1 = (m1 + 1) * 2^-53 in (0, 1] and
// u2 = m2 * 2^-53. Philox is integer arithmetic; the normal draw also uses the
// C library's log and cos (glibc: faithful, nearly always correctly rounded),
// so a last-bit difference on another libm is possible but almost never
// survives the rounding to the input format.
double mma_error_draw(MmaErrorDist dist, uint64_t seed, uint32_t trial, uint32_t operand, uint32_t index);

// Order statistics of one error measure over the trials. Percentiles by
// nearest rank: the p-th is the ceil(p/100 * T)-th smallest (median: p = 50).
struct ErrorStats {
  double max = 0;
  double median = 0;
  double mean = 0;  // summed in trial order; inf if any trial's error is inf
  double p99 = 0;
};

struct MmaErrorReport {
  MmaModel model;  // the preset with the promotion override applied
  int64_t k = 0;
  MmaErrorDist dist = MmaErrorDist::normal;
  int64_t trials = 0;
  uint64_t seed = 0;
  // |d - exact| / |exact| (fpsim_ref::ExactDot::relative_error).
  ErrorStats relative;
  // |d - exact| / sum_i |a_i b_i| (fpsim_ref::ExactDot::error_vs_abs_sum):
  // free of the dot product's condition number.
  ErrorStats vs_abs_sum;
  int64_t exact_results = 0;  // trials whose d equals the exact dot product
};

// Runs the trials. Throws fpsim::OptionError for bad options (unknown
// preset, k or trials out of range, negative promote, unknown dist, a
// promotion the model does not allow, --promote beside a ":promoteN" in the
// preset name).
MmaErrorReport mma_error_report(const MmaErrorOptions& options);

// Runs and prints the report to `out`; a problem is one line on `err`
// ("fpsim mma-error: ..."). Returns the exit status: 0, or 2 for bad options.
int run_mma_error(const MmaErrorOptions& options, std::ostream& out, std::ostream& err);

void add_mma_error_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
