// `fpsim sweep`: models × recipes × seeds plus the FP32 noise floor, in
// parallel, resumable, shardable (docs/cli.md; docs/training.md "Sweeps").
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace fpsim::cli {

struct SweepOptions {
  std::string config;            // empty: the built-in default sweep
  std::string out;               // empty: runs/<sweep name>
  std::optional<unsigned> jobs;  // default: the core count
  std::string shard = "0/1";
  std::optional<uint64_t> checkpoint_every;  // overrides the file's checkpoint_every
};

// Runs the sweep; progress on `err` (a live line on a terminal, a line per
// run otherwise); prints the sweep directory on `out`. Returns 0 when every
// run of the shard is done or stopped, 1 when a file could not be written,
// 2 for bad input (nothing written).
int run_sweep_command(const SweepOptions& options, std::ostream& out, std::ostream& err, bool err_is_terminal);

void add_sweep_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
