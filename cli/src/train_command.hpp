// `fpsim train`: one training run of a model under a precision recipe
// (docs/cli.md; docs/training.md).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fpsim::cli {

struct TrainOptions {
  std::string model = "mlp";
  std::string recipe;  // a built-in name or a .toml file
  std::optional<uint64_t> steps;
  std::optional<uint64_t> seed;
  std::optional<uint64_t> data_seed;
  std::string out = "runs/train";
  std::vector<std::string> sets;  // key=value
  std::optional<uint64_t> checkpoint_every;
};

// Runs it; progress on `err` (a live line on a terminal, plain lines
// otherwise). Returns 0 when the run is done, 1 when it stopped on NaN/inf
// or a file could not be written, 2 for bad input (nothing written).
int run_train(const TrainOptions& options, std::ostream& out, std::ostream& err, bool err_is_terminal);

void add_train_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
