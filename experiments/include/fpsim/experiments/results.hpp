// The files a run writes beside its safetensors (docs/training.md, "Result
// files"): metrics.csv (one row per step), quant_stats.csv (one row per
// GEMM operand on statistics steps) and summary.json. Each is written whole
// and atomically through fpsim::io (temporary file, fsync, rename): the
// runner keeps each CSV's text in memory, appends a line per row
// (append_*_line), and rewrites the files at each evaluation and at the end,
// never appending in place, so an interrupted run leaves either the old or
// the new file, never a torn one. metrics_csv / quant_stats_csv and their
// write_* forms render whole row lists, for callers that hold the rows.
//
// Numbers: a float or double is printed as the shortest decimal that reads
// back to the same value of its type (std::to_chars, C++17 [charconv]: "%f"
// or "%e" style, whichever is shorter), so every value round-trips exactly;
// NaN of either sign is "nan", infinities "inf" and "-inf" (what Python's
// float() and pandas read).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "fpsim/experiments/gemm.hpp"

namespace fpsim::experiments {

// One row of metrics.csv.
struct MetricsRow {
  uint64_t step = 0;                  // 1-based, the optimizer step this row follows
  double loss = 0.0;                  // the training loss of the step's batch (before the update)
  double lr = 0.0;                    // the learning rate the update used
  double loss_scale = 1.0;            // the loss scale the step used (1 without scaling)
  bool skipped = false;               // the update was skipped (non-finite gradients): 1, else 0
  double grad_norm = 0.0;             // global L2 norm of the unscaled gradients, before clipping
  std::optional<double> eval_metric;  // mlp: test accuracy, gpt: validation loss; empty when not evaluated
};

// The header line of metrics.csv and of quant_stats.csv, without the newline.
inline constexpr std::string_view kMetricsHeader = "step,loss,lr,loss_scale,skipped,grad_norm,eval_metric";
inline constexpr std::string_view kQuantStatsHeader =
    "step,layer,gemm,operand,tensor,underflow_pct,saturation_pct,sqnr_db,scale_min,scale_max,nan_count,inf_count";

// A value as written to the result files (see above).
std::string csv_number(double v);
std::string csv_number(float v);
// A text field as RFC 4180 (section 2) writes it: enclosed in double quotes,
// its quotes doubled, when it holds a comma, a double quote or a line break.
std::string csv_field(std::string_view s);

// The whole of metrics.csv: the header, then one line per row in the given
// order, each ending in '\n'.
std::string metrics_csv(std::span<const MetricsRow> rows);
// One row's line, '\n' included, appended to `out` (the runner keeps the
// file's text and appends a line per step).
void append_metrics_line(std::string& out, const MetricsRow& row);
void write_metrics_csv(const std::string& path, std::span<const MetricsRow> rows);

// The whole of quant_stats.csv, one line per row: gemm = gemm_role_name
// (fprop, dgrad, wgrad); operand 'a' or 'b'; underflow_pct = 100 *
// underflows / elements and saturation_pct = 100 * saturated / elements
// (computed in double, in that order; nan when elements is 0); sqnr_db as
// QuantStats holds it (inf when there is no error); scale_min, scale_max as
// floats; nan_count, inf_count = the operand's NaN and infinite inputs.
// Layer and tensor names that hold a comma, a double quote or a line break
// are quoted as RFC 4180 says ("a""b").
std::string quant_stats_csv(std::span<const OperandStatsRow> rows);
void append_quant_stats_line(std::string& out, const OperandStatsRow& row);
void write_quant_stats_csv(const std::string& path, std::span<const OperandStatsRow> rows);

// Records the run's speed in `summary`: "wall_time_s" = the seconds of the
// step loop by a steady clock (from before the first step to after the last,
// result-file writes excluded), "steps_per_s" = steps / wall_time_s (null
// when wall_time_s is not positive).
void set_timing(nlohmann::json& summary, double wall_time_s, uint64_t steps);

// The text of summary.json: keys sorted (nlohmann::json's object is a
// std::map, so the order is stable), two-space indentation, a final newline.
// JSON has no NaN or infinity: nlohmann::json writes them as null. Throws
// ConfigError when a string is not valid UTF-8.
std::string summary_json_text(const nlohmann::json& summary);
void write_summary_json(const std::string& path, const nlohmann::json& summary);

}  // namespace fpsim::experiments
