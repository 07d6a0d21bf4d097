// Checkpoints of a training run (docs/training.md, "Checkpoints"): what a
// run needs to continue after `steps_done` steps exactly as if it had never
// stopped. Parameters and optimizer state are tensors; the loss scaler, the
// delayed-scaling amax histories, the step, the timing and the result-file
// text written so far travel beside them. Nothing else carries state from
// one step to the next: stochastic rounding is keyed by (run seed, tensor,
// step), the data order by the data seed, and gradients are written afresh
// by every backward pass.
//
// The file is one safetensors file, RUN_DIR/checkpoint.safetensors, written
// atomically (fpsim::io), so a run killed while writing it keeps the last
// whole checkpoint:
//   tensors   "param/<name>"                 F32, the master weights
//             "optimizer/<state>/<name>"     F32 (Optimizer::save_state)
//             "delayed/<i>/amax_history"     F32, record i of "delayed"
//             "text/metrics.csv"             U8, the file's text so far
//             "text/quant_stats.csv"         U8
//   metadata  "format" = "fpsim-checkpoint", "format_version", "identity"
//             (the run's configuration as JSON: a checkpoint restores only
//             the run it came from), "steps_done", "loop_seconds",
//             "final_loss", "last_eval", "loss_scale", "growth_tracker",
//             "optimizer/steps", "delayed" (JSON: [{layer, tensor,
//             multiplier}]), "data_sha256" (of the data buffer: the tensors'
//             bytes in name order, so that a damaged file is refused).
// Numbers are the shortest decimal text that reads back to the same value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/experiments/gemm.hpp"
#include "fpsim/experiments/safetensors.hpp"

namespace fpsim::experiments {

inline constexpr std::string_view kCheckpointFileName = "checkpoint.safetensors";
inline constexpr int kCheckpointFormatVersion = 1;

struct RunCheckpoint {
  nlohmann::json identity;  // the run's configuration (summary.json "config")
  uint64_t steps_done = 0;
  double loop_seconds = 0.0;  // of the step loop so far (summary.json wall_time_s)
  double final_loss = 0.0;    // the loss of step steps_done
  double last_eval = 0.0;     // the last evaluation (NaN before the first)
  float loss_scale = 1.0f;
  int32_t growth_tracker = 0;
  std::vector<DelayedStateRecord> delayed;
  std::string metrics_csv, quant_stats_csv;  // the files' text after step steps_done
  // "param/..." and "optimizer/..." tensors, and the optimizer's metadata.
  SafetensorsFile state;
};

// The file's bytes (the layout above).
std::string checkpoint_bytes(const RunCheckpoint& c);
void write_checkpoint(const std::filesystem::path& path, const RunCheckpoint& c);

// Reads and checks a checkpoint. DataError naming the file: not a
// safetensors file, another format or version, a missing or malformed
// field, a checksum that does not match.
RunCheckpoint read_checkpoint(const std::filesystem::path& path);
RunCheckpoint parse_checkpoint(std::string_view bytes, const std::string& name);

}  // namespace fpsim::experiments
