// The divergence report of a sweep (docs/training.md, "Divergence report"):
// reads a sweep directory (DIR/sweep.json and DIR/runs/<id>/, see "Sweeps"),
// measures every run against the FP32 run of the same model and seed, puts
// the FP32 run-to-run noise floor (another data order) beside it, and
// summarises each (model, recipe) over its seeds.
//
// Every number is defined in docs/training.md, "Divergence report", with the
// order of its sums; scripts/check_report.py recomputes them independently.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fpsim::experiments {

struct ReportOptions {
  // Shard directories merged into the first: a run missing from DIR/runs is
  // looked up in each EXTRA/runs (each EXTRA/sweep.json must hold the same
  // config_sha256).
  std::vector<std::filesystem::path> extra_dirs;
};

// The measured quantities, in the order of report.csv's columns.
enum class ReportMetric : uint8_t {
  final_loss,               // S_r(T): the smoothed training loss at the last step
  final_eval,               // the last evaluation (mlp: test accuracy, gpt: validation loss)
  final_gap_abs,            // S_r(T) - S_f(T)
  final_gap_rel,            // (S_r(T) - S_f(T)) / S_f(T)
  max_abs_gap_rel,          // max_t |S_r(t) - S_f(t)| / S_f(t)
  mean_abs_gap_rel_last10,  // mean |L_r(t) - L_f(t)| / L_f(t) over the last 10% of the steps (raw losses)
  eval_gap,                 // final_eval_r - final_eval_f
  steps_to_target_ratio,    // steps to reach 1.05 S_f(T), relative to the reference's
  param_drift,              // ||theta_r - theta_f|| / ||theta_f|| of params_final
  gap_over_noise,           // |final_gap_rel(r)| / |final_gap_rel(noise run)|
  drift_over_noise,         // param_drift(r) / param_drift(noise run)
  skipped_steps,            // updates skipped (metrics.csv's skipped column)
  underflow_pct,            // mean underflow_pct over the quant_stats.csv rows
  saturation_pct,           // mean saturation_pct over the quant_stats.csv rows
};
inline constexpr size_t kReportMetricCount = 14;
static_assert(size_t(ReportMetric::saturation_pct) + 1 == kReportMetricCount);
// The metric's name in report.csv and report.json ("final_gap_rel").
std::string_view report_metric_name(ReportMetric m);

// One value per metric; nullopt where it is not defined (a missing or
// stopped reference, a run that never reached the target, a non-finite
// value).
using ReportValues = std::array<std::optional<double>, kReportMetricCount>;

// One run that was found finished (status done or stopped).
struct RunReport {
  std::string id, model, recipe;
  std::string role;    // "recipe" or "noise_floor"
  std::string status;  // "done" or "stopped"
  uint32_t seed = 0, data_seed = 0;
  bool never_reached_target = false;  // the reference set a target and this run never reached it
  ReportValues values;
};

struct MetricSummary {
  size_t n = 0;                // runs of the row that have the value
  std::optional<double> mean;  // sum in run-list order / n; nullopt when n = 0
  std::optional<double> sd;    // sample standard deviation; nullopt when n < 2
};

// One (model, recipe) over its seeds, or a model's noise floor (role
// "noise_floor", recipe "fp32": the noise runs against their references).
struct RecipeSummaryRow {
  std::string model, recipe, role;
  size_t seeds_done = 0;      // runs found finished (done or stopped)
  size_t seeds_expected = 0;  // runs the sweep lists for the row
  size_t runs_stopped = 0;    // of seeds_done, those whose status is stopped
  size_t steps_to_target_never = 0;
  std::array<MetricSummary, kReportMetricCount> metrics;
};

// A figure of DIR/figures/figures.json (scripts/plot sweep; docs/figures.md),
// linked from report.md: file names inside DIR/figures/.
struct FigureLink {
  std::string name, caption, png, pdf, csv;
};

struct SweepReport {
  std::string name;  // from sweep.json
  uint64_t steps = 0;
  std::string config_sha256;
  std::vector<RunReport> runs;         // the finished runs, in run-list order
  std::vector<RecipeSummaryRow> rows;  // per model (first appearance): its recipes, then its noise floor
  // "<id> (not run)", "<id> (status running)", "<id> (started, no summary.json)", "<id> (unreadable: see problems)"
  std::vector<std::string> missing_runs;
  std::vector<std::string> problems;  // one line each, naming the file
  // The figures DIR/figures/figures.json lists whose PNG exists, in its order
  // (an index that cannot be read is a problem; the report goes on).
  std::vector<FigureLink> figures;
};

// Reads the sweep directory and computes the report. Throws ConfigError when
// DIR/sweep.json (or an extra directory's) is not a sweep of this fpsim or
// belongs to another sweep, IoError when it cannot be read. Everything wrong
// with one run (a truncated metrics.csv, a summary that disagrees with the
// run list) goes into `problems` and the run counts as missing; the rest is
// reported.
SweepReport build_report(const std::filesystem::path& sweep_dir, const ReportOptions& options = {});

// The three renderings (docs/training.md, "Divergence report").
std::string report_markdown(const SweepReport& report);
std::string report_csv(const SweepReport& report);
std::string report_json(const SweepReport& report);

// Writes DIR/report.md, DIR/report.csv and DIR/report.json, each atomically
// (fpsim::io::write_output_file).
void write_report(const std::filesystem::path& sweep_dir, const SweepReport& report);

}  // namespace fpsim::experiments
