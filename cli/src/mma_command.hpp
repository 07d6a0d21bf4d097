// `fpsim mma`: a tensor-core model (fpsim/mma.hpp) over golden-data files
// (mma_files.hpp), writing D or comparing a kernel's D with the model
// (docs/cli.md, docs/mma.md "Kernel regression testing").
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace fpsim::cli {

inline constexpr int kMaxK = 1 << 24;
inline constexpr size_t kDefaultMaxReport = 20;

struct MmaOptions {
  bool list = false;                   // print the presets and nothing else
  std::string model;                   // fpsim::mma_preset name, with an optional ":promoteN"
  std::optional<int> k;                // values per A/B row (a check on the files), 1..kMaxK
  std::optional<std::string> a, b;     // rows of K hex FP32 encodings (gzip read transparently)
  std::optional<std::string> c;        // 32-character binary strings; none: C = 0
  std::optional<std::string> out;      // D (docs/cli.md "Output files"); none or "-": stdout
  std::optional<std::string> expect;   // a kernel's D: compare instead of writing D
  std::optional<size_t> max_report;    // with expect: mismatches printed in full (all are counted); default 20
  bool any_nan = false;                // with expect: any NaN matches any NaN (default: NaN bits must be equal)
};

// Runs one command. Output goes to `out` (or options.out); a problem is one
// line on `err` ("fpsim mma: ..." naming the file and line). Returns the exit
// status: 0; 1 when --expect found a mismatch or a file cannot be read or
// written; 2 for a usage error or bad input (unknown preset, malformed file,
// an input that is not a value of the preset's input format).
int run_mma(const MmaOptions& options, std::ostream& out, std::ostream& err);

void add_mma_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
