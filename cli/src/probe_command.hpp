// `fpsim probe`: the feature-detection suite of docs/mma.md ("Probes") run on a
// target (the MMA model, AMX-BF16, AVX512-BF16), the fitted model parameter
// set and the check of the fit on random vectors (docs/cli.md, docs/mma.md
// "Probes").
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace fpsim::cli {

struct ProbeCommandOptions {
  std::string target;           // model:PRESET, amx-bf16 or avx512-bf16
  int64_t random = 10000;  // random vectors checked against the fitted model, 0..10^7
  uint64_t seed = 0;       // of the random vectors
  bool json = false;       // one JSON object instead of text
};

// Runs the probes and prints the report to `out`. Returns 0 when the fitted
// model agrees with the target on every random vector, 1 when it does not,
// 2 for a usage error (unknown target or preset, a unit this CPU lacks, a
// bad option value: one line on `err`).
int run_probe_command(const ProbeCommandOptions& options, std::ostream& out, std::ostream& err);

void add_probe_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
