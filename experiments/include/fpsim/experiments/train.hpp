// One training run (docs/training.md, "The step loop"): a model under a
// recipe, from its seeds to its result files. One step reads top to bottom:
// batch -> forward (each layer's GEMMs under the recipe's policies) -> loss
// -> backward -> loss-scale check -> clipping -> optimizer update in the
// recipe's formats -> metrics.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/train_config.hpp"

namespace fpsim::experiments {

// "<model>-<recipe>-s<seed>-d<data_seed>": the run's directory name.
std::string run_id(const TrainConfig& config, const Recipe& recipe);

struct RunOutcome {
  std::filesystem::path dir;
  bool stopped = false;                // NaN/inf: summary status "stopped"
  std::optional<uint64_t> stopped_at;  // the step whose loss or gradients were not finite
  uint64_t steps_done = 0;
  double final_loss = 0.0;
  double eval_metric = 0.0;  // mlp: test accuracy; gpt: validation loss
  double wall_time_s = 0.0;
  std::optional<uint64_t> resumed_from;  // the checkpoint's step, when the run continued from one
};

// Called after every step (step counts from 1) for the progress line.
using ProgressFn = std::function<void(uint64_t step, uint64_t steps, double loss, double steps_per_s)>;

struct RunOptions {
  ProgressFn progress;
  // Called once, before the first step, when the run continues from a
  // checkpoint: with the checkpoint's step.
  std::function<void(uint64_t step)> resumed;
  // Writes RUN_DIR/checkpoint.safetensors after every N-th step but the last
  // (0: never). Checkpoints never change a result file; the run removes its
  // checkpoint when it ends.
  uint64_t checkpoint_every = 0;
};

// Trains and writes params_init.safetensors, params_final.safetensors,
// data_order.safetensors, metrics.csv, quant_stats.csv and summary.json into
// out_root / run_id(config, recipe) (docs/training.md, "Result files").
// Refuses (ConfigError, nothing written) a directory that holds a run of
// another configuration, naming what differs; a run of the same
// configuration is replaced, or, when it holds a checkpoint (its run was
// interrupted), continued from the checkpoint's step: the files it ends with
// are those of an uninterrupted run, byte for byte but the timing fields of
// summary.json (docs/training.md, "Checkpoints"). A checkpoint that cannot
// be read is refused (DataError naming it). The writer's temporaries that an
// interrupted run left in the directory are removed. Bad configurations
// throw ConfigError before anything is written; a missing data set throws
// DataError.
RunOutcome run_training(const TrainConfig& config, const Recipe& recipe, const std::filesystem::path& out_root,
                        const RunOptions& options = {});

}  // namespace fpsim::experiments
