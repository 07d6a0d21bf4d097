// The divergence report of a sweep (docs/training.md, "Divergence report").
// Sweep directories are built by hand with losses, evaluations, parameters
// and quantization statistics chosen so that every expected value follows on
// paper from the documented formulas (written out next to each check); the
// end-to-end test runs real training and has scripts/check_report.py (an
// independent Python implementation) recompute the report.
#include "fpsim/experiments/report.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../io/temporary_directory.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/results.hpp"
#include "fpsim/experiments/safetensors.hpp"
#include "fpsim/experiments/train.hpp"
#include "message_of.hpp"

namespace fpsim::experiments {
namespace {

namespace fs = std::filesystem;
using io::test::file_content;
using io::test::put_file;
using io::test::TemporaryDirectory;
using test::message_of;

// ---------------------------------------------------------------- fixtures

struct Listed {
  std::string model, recipe, role;
  uint32_t seed, data_seed;
  std::string id() const {
    return model + "-" + recipe + "-s" + std::to_string(seed) + "-d" + std::to_string(data_seed);
  }
};

void write_sweep_json(const fs::path& dir, const std::vector<Listed>& runs, uint64_t steps,
                      const std::string& sha = "abc123", nlohmann::json format = "fpsim-sweep",
                      nlohmann::json version = 1) {
  fs::create_directories(dir);
  nlohmann::json j;
  j["config_sha256"] = sha;
  j["format"] = format;
  j["format_version"] = version;
  j["name"] = "hand";
  j["steps"] = steps;
  j["runs"] = nlohmann::json::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    const Listed& r = runs[i];
    j["runs"].push_back({{"data_seed", r.data_seed},
                         {"id", r.id()},
                         {"index", i},
                         {"model", r.model},
                         {"recipe", r.recipe},
                         {"role", r.role},
                         {"seed", r.seed}});
  }
  put_file((dir / "sweep.json").string(), j.dump(2) + "\n");
}

struct HandRun {
  std::vector<double> loss;
  std::map<uint64_t, double> eval;  // step -> eval_metric
  std::vector<uint64_t> skipped;    // steps whose update was skipped
  std::vector<float> a, b;          // params_final tensors "a" [2] and "b" [1]
  std::string quant_rows;           // quant_stats.csv lines after the header
  std::string status = "done";
};

// loss(t) = `base` for t < `from`, `after` from step `from` on; the last
// step's loss is `last` when given.
std::vector<double> losses(size_t steps, double base, size_t from, double after, std::optional<double> last = {}) {
  std::vector<double> l(steps);
  for (size_t t = 1; t <= steps; ++t) l[t - 1] = t < from ? base : after;
  if (last) l.back() = *last;
  return l;
}

void write_run(const fs::path& root, const Listed& listed, const HandRun& run) {
  const fs::path dir = root / "runs" / listed.id();
  fs::create_directories(dir);
  std::vector<MetricsRow> rows;
  std::optional<double> last_eval;
  for (size_t t = 1; t <= run.loss.size(); ++t) {
    MetricsRow r;
    r.step = t;
    r.loss = run.loss[t - 1];
    r.lr = 1e-3;
    r.grad_norm = 0.5;
    r.skipped = std::find(run.skipped.begin(), run.skipped.end(), t) != run.skipped.end();
    if (run.eval.count(t)) r.eval_metric = last_eval = run.eval.at(t);
    rows.push_back(r);
  }
  write_metrics_csv((dir / "metrics.csv").string(), rows);
  put_file((dir / "quant_stats.csv").string(), std::string(kQuantStatsHeader) + "\n" + run.quant_rows);
  nlohmann::json s;
  s["status"] = run.status;
  s["model"] = listed.model;
  s["recipe"] = listed.recipe;
  s["seed"] = listed.seed;
  s["data_seed"] = listed.data_seed;
  s["final_loss"] = run.loss.back();
  s["final_eval_metric"] = last_eval ? nlohmann::json(*last_eval) : nlohmann::json(nullptr);
  put_file((dir / "summary.json").string(), s.dump(2) + "\n");
  SafetensorsFile params;
  params.tensors["a"] = stored_tensor({2}, run.a);
  params.tensors["b"] = stored_tensor({1}, run.b);
  write_safetensors((dir / "params_final.safetensors").string(), params);
}

// The hand sweep: T = 40 steps, so the smoothing window is w = max(1,
// floor(40/20)) = 2 and the last 10% are k = ceil(40/10) = 4 steps.
constexpr uint64_t kSteps = 40;
const Listed kF0{"mlp", "fp32", "recipe", 0, 0}, kR0{"mlp", "bf16", "recipe", 0, 0};
const Listed kF1{"mlp", "fp32", "recipe", 1, 0}, kR1{"mlp", "bf16", "recipe", 1, 0};
const Listed kN0{"mlp", "fp32", "noise_floor", 0, 1}, kN1{"mlp", "fp32", "noise_floor", 1, 1};
const std::vector<Listed> kHandList = {kF0, kR0, kF1, kR1, kN0, kN1};

std::map<std::string, HandRun> hand_runs() {
  std::map<std::string, HandRun> runs;
  // f0: L = 2, last 1  ->  S_f0(t) = 2 (t < 40), S_f0(40) = (2 + 1)/2 = 1.5. ||theta|| = ||(4, 0, 0)|| = 4.
  runs[kF0.id()] = {losses(kSteps, 2, 41, 2, 1.0), {{20, 0.25}, {40, 0.5}}, {}, {4, 0}, {0}, "", "done"};
  // r0: L = 2, L(39) = 2.5, L(40) = 1.5  ->  S(39) = 2.25, S(40) = 2.
  HandRun r0{losses(kSteps, 2, 41, 2, 1.5), {{20, 0.5}, {40, 0.25}}, {5, 6}, {4, 1}, {0}, "", "done"};
  r0.loss[38] = 2.5;
  // underflow_pct 1, 3, nan (left out) -> mean 2; saturation_pct 0, 0, 0 -> 0. The second row's
  // layer name holds a comma, quotes and a line break (RFC 4180).
  r0.quant_rows =
      "1,fc1,fprop,a,x,1,0,30,1,1,0,0\n"
      "1,\"h.0,\"\"attn\"\"\nx\",fprop,b,w,3,0,30,1,1,0,0\n"
      "1,fc1,wgrad,a,dy,nan,0,inf,1,1,0,0\n";
  runs[kR0.id()] = r0;
  // f1: L = 4, last 2  ->  S_f1(t) = 4 (t < 40), S_f1(40) = 3.
  runs[kF1.id()] = {losses(kSteps, 4, 41, 4, 2.0), {{40, 0.75}}, {}, {4, 0}, {0}, "", "done"};
  // r1: L = 4 (t < 20), 2 from t = 20  ->  S(20) = 3, S(t >= 21) = 2.
  runs[kR1.id()] = {losses(kSteps, 4, 20, 2),
                    {{40, 0.5}},
                    {},
                    {4, 0},
                    {2},
                    "1,fc1,fprop,a,x,2,1,30,1,1,0,0\n1,fc1,fprop,b,w,2,nan,30,1,1,0,0\n",
                    "done"};
  // n0: L = 2, last 1.25  ->  S(40) = 1.625; n1: L = 4, last 2.5  ->  S(40) = 3.25.
  runs[kN0.id()] = {losses(kSteps, 2, 41, 2, 1.25), {{40, 0.5}}, {}, {4, 0.5f}, {0}, "", "done"};
  runs[kN1.id()] = {losses(kSteps, 4, 41, 4, 2.5), {{40, 0.75}}, {}, {4, 0}, {0.5f}, "", "done"};
  return runs;
}

void write_hand_sweep(const fs::path& dir) {
  write_sweep_json(dir, kHandList, kSteps);
  const auto runs = hand_runs();
  for (const Listed& l : kHandList) write_run(dir, l, runs.at(l.id()));
}

const RunReport& run_of(const SweepReport& r, const std::string& id) {
  for (const RunReport& rr : r.runs)
    if (rr.id == id) return rr;
  throw std::runtime_error("no run " + id);
}

const RecipeSummaryRow& row_of(const SweepReport& r, const std::string& recipe, const std::string& role = "recipe") {
  for (const RecipeSummaryRow& row : r.rows)
    if (row.recipe == recipe && row.role == role) return row;
  throw std::runtime_error("no row " + recipe);
}

std::optional<double> value(const RunReport& r, ReportMetric m) { return r.values[size_t(m)]; }
const MetricSummary& metric(const RecipeSummaryRow& r, ReportMetric m) { return r.metrics[size_t(m)]; }

bool have_python_checker() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

// The exit status of scripts/check_report.py ARGS (docs/training.md, "scripts/check_report.py").
int check_report(const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " FPSIM_SOURCE_DIR "/scripts/check_report.py " + args + " >&2";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// ---------------------------------------------------------------- per-run values

TEST(Report, GapsAreSmoothedLossDifferencesAgainstTheFp32RunOfTheSameSeed) {
  TemporaryDirectory tmp;
  write_hand_sweep(tmp.path());
  const SweepReport rep = build_report(tmp.path());
  EXPECT_TRUE(rep.problems.empty()) << rep.problems.front();
  EXPECT_TRUE(rep.missing_runs.empty());
  ASSERT_EQ(rep.runs.size(), 6u);

  const RunReport& r0 = run_of(rep, kR0.id());
  EXPECT_EQ(value(r0, ReportMetric::final_loss), 2.0);           // S_r0(40) = (2.5 + 1.5) / 2
  EXPECT_EQ(value(r0, ReportMetric::final_eval), 0.25);          // the eval of step 40
  EXPECT_EQ(value(r0, ReportMetric::final_gap_abs), 0.5);        // 2 - 1.5
  EXPECT_EQ(value(r0, ReportMetric::final_gap_rel), 1.0 / 3.0);  // 0.5 / 1.5, one rounding of 1/3
  // |gap_rel| is 0 up to t = 38, (2.25 - 2) / 2 = 0.125 at 39, 1/3 at 40.
  EXPECT_EQ(value(r0, ReportMetric::max_abs_gap_rel), 1.0 / 3.0);
  // Raw losses over t = 37..40: 0, 0, |2.5 - 2| / 2 = 0.25, |1.5 - 1| / 1 = 0.5; (0.75) / 4.
  EXPECT_EQ(value(r0, ReportMetric::mean_abs_gap_rel_last10), 0.1875);
  EXPECT_EQ(value(r0, ReportMetric::eval_gap), -0.25);  // 0.25 - 0.5
  // Target 1.05 * 1.5 = 1.575; S_r0 never goes below 2.
  EXPECT_EQ(value(r0, ReportMetric::steps_to_target_ratio), std::nullopt);
  EXPECT_TRUE(r0.never_reached_target);
  EXPECT_EQ(value(r0, ReportMetric::param_drift), 0.25);  // ||(0, 1, 0)|| / ||(4, 0, 0)||
  // The noise run n0 (data seed 1): gap (1.625 - 1.5) / 1.5 = 1/12 (the rounded 1/3 divided by 4, exactly), drift
  // ||(0, 0.5, 0)|| / 4 = 0.125.
  EXPECT_EQ(value(r0, ReportMetric::gap_over_noise), 4.0);
  EXPECT_EQ(value(r0, ReportMetric::drift_over_noise), 2.0);
  EXPECT_EQ(value(r0, ReportMetric::skipped_steps), 2.0);
  EXPECT_EQ(value(r0, ReportMetric::underflow_pct), 2.0);  // (1 + 3) / 2, the nan row left out
  EXPECT_EQ(value(r0, ReportMetric::saturation_pct), 0.0);

  const RunReport& r1 = run_of(rep, kR1.id());
  EXPECT_EQ(value(r1, ReportMetric::final_loss), 2.0);
  EXPECT_EQ(value(r1, ReportMetric::final_gap_abs), -1.0);  // 2 - 3
  EXPECT_EQ(value(r1, ReportMetric::final_gap_rel), -1.0 / 3.0);
  // 0.25 at t = 20 ((3 - 4) / 4), 0.5 for t = 21..39 ((2 - 4) / 4), 1/3 at 40.
  EXPECT_EQ(value(r1, ReportMetric::max_abs_gap_rel), 0.5);
  EXPECT_EQ(value(r1, ReportMetric::mean_abs_gap_rel_last10), 0.375);  // (0.5 + 0.5 + 0.5 + 0) / 4
  // Target 1.05 * 3 = 3.15: S_f1 first at t = 40, S_r1 first at t = 20 (S = 3).
  EXPECT_EQ(value(r1, ReportMetric::steps_to_target_ratio), 0.5);
  EXPECT_FALSE(r1.never_reached_target);
  EXPECT_EQ(value(r1, ReportMetric::param_drift), 0.5);       // ||(0, 0, 2)|| / 4
  EXPECT_EQ(value(r1, ReportMetric::gap_over_noise), 4.0);    // (1/3) / (0.25 / 3)
  EXPECT_EQ(value(r1, ReportMetric::drift_over_noise), 4.0);  // 0.5 / 0.125
  EXPECT_EQ(value(r1, ReportMetric::underflow_pct), 2.0);     // (2 + 2) / 2
  EXPECT_EQ(value(r1, ReportMetric::saturation_pct), 1.0);    // the nan row left out

  // The reference against itself: every gap and the drift 0, ratio 1, no quantization statistics.
  const RunReport& f0 = run_of(rep, kF0.id());
  EXPECT_EQ(value(f0, ReportMetric::final_loss), 1.5);
  EXPECT_EQ(value(f0, ReportMetric::final_gap_rel), 0.0);
  EXPECT_EQ(value(f0, ReportMetric::max_abs_gap_rel), 0.0);
  EXPECT_EQ(value(f0, ReportMetric::param_drift), 0.0);
  EXPECT_EQ(value(f0, ReportMetric::steps_to_target_ratio), 1.0);
  EXPECT_EQ(value(f0, ReportMetric::gap_over_noise), 0.0);
  EXPECT_EQ(value(f0, ReportMetric::underflow_pct), std::nullopt);
}

// T = 15: w = max(1, floor(15/20)) = 1 (S = L) and k = ceil(15/10) = 2 (not floor's 1).
TEST(Report, LastTenPercentRoundsUpAndTheWindowIsAtLeastOneStep) {
  TemporaryDirectory tmp;
  const std::vector<Listed> list = {kF0, kR0};
  write_sweep_json(tmp.path(), list, 15);
  HandRun f{losses(15, 1, 16, 1), {{15, 0.5}}, {}, {4, 0}, {0}, "", "done"};
  HandRun r = f;
  r.loss[13] = 1.5;  // step 14
  write_run(tmp.path(), kF0, f);
  write_run(tmp.path(), kR0, r);
  const SweepReport rep = build_report(tmp.path());
  const RunReport& rr = run_of(rep, kR0.id());
  EXPECT_EQ(value(rr, ReportMetric::mean_abs_gap_rel_last10), 0.25);  // (0.5 + 0) / 2
  EXPECT_EQ(value(rr, ReportMetric::max_abs_gap_rel), 0.5);           // S = L: |1.5 - 1| / 1 at step 14
  EXPECT_EQ(value(rr, ReportMetric::final_gap_rel), 0.0);
}

TEST(Report, RowsAreMeanAndSampleSdOverSeedsInRunListOrder) {
  TemporaryDirectory tmp;
  write_hand_sweep(tmp.path());
  const SweepReport rep = build_report(tmp.path());
  ASSERT_EQ(rep.rows.size(), 3u);
  EXPECT_EQ(rep.rows[0].recipe, "fp32");
  EXPECT_EQ(rep.rows[1].recipe, "bf16");
  EXPECT_EQ(rep.rows[2].role, "noise_floor");

  const RecipeSummaryRow& bf16 = row_of(rep, "bf16");
  EXPECT_EQ(bf16.seeds_done, 2u);
  EXPECT_EQ(bf16.seeds_expected, 2u);
  EXPECT_EQ(bf16.steps_to_target_never, 1u);
  const MetricSummary& loss = metric(bf16, ReportMetric::final_loss);
  EXPECT_EQ(loss.n, 2u);
  EXPECT_EQ(loss.mean, 2.0);
  EXPECT_EQ(loss.sd, 0.0);
  // 1/3 and -1/3: mean 0; sd = sqrt(2 (1/3)^2 / 1) = sqrt(2)/3, within 4 ulps (three roundings).
  EXPECT_EQ(metric(bf16, ReportMetric::final_gap_rel).mean, 0.0);
  EXPECT_DOUBLE_EQ(*metric(bf16, ReportMetric::final_gap_rel).sd, std::sqrt(2.0) / 3.0);
  // 0.1875 and 0.375: mean 0.28125, sd sqrt(2 * 0.09375^2) = 0.09375 sqrt(2).
  EXPECT_EQ(metric(bf16, ReportMetric::mean_abs_gap_rel_last10).mean, 0.28125);
  EXPECT_DOUBLE_EQ(*metric(bf16, ReportMetric::mean_abs_gap_rel_last10).sd, 0.09375 * std::sqrt(2.0));
  // One seed reached the target: n = 1, no sd.
  const MetricSummary& ratio = metric(bf16, ReportMetric::steps_to_target_ratio);
  EXPECT_EQ(ratio.n, 1u);
  EXPECT_EQ(ratio.mean, 0.5);
  EXPECT_EQ(ratio.sd, std::nullopt);
  // Drift over noise 2 and 4: mean 3, sd sqrt(1 + 1) exactly.
  EXPECT_EQ(metric(bf16, ReportMetric::drift_over_noise).mean, 3.0);
  EXPECT_EQ(metric(bf16, ReportMetric::drift_over_noise).sd, std::sqrt(2.0));
  EXPECT_EQ(metric(bf16, ReportMetric::saturation_pct).mean, 0.5);
  EXPECT_EQ(metric(bf16, ReportMetric::saturation_pct).sd, std::sqrt(0.5));
  EXPECT_EQ(metric(bf16, ReportMetric::skipped_steps).mean, 1.0);
  EXPECT_EQ(metric(bf16, ReportMetric::eval_gap).mean, -0.25);  // 0.25 - 0.5 and 0.5 - 0.75

  // fp32 has no quantization statistics: n = 0, mean null.
  const RecipeSummaryRow& fp32 = row_of(rep, "fp32");
  EXPECT_EQ(metric(fp32, ReportMetric::underflow_pct).n, 0u);
  EXPECT_EQ(metric(fp32, ReportMetric::underflow_pct).mean, std::nullopt);
  EXPECT_EQ(metric(fp32, ReportMetric::final_loss).mean, 2.25);  // (1.5 + 3) / 2
  // sd = sqrt(0.75^2 + 0.75^2) = sqrt(1.125), every step exact.
  EXPECT_EQ(metric(fp32, ReportMetric::final_loss).sd, std::sqrt(1.125));

  // The noise floor: both noise runs at a relative gap of 1/12 (0.125 / 1.5 and 0.25 / 3).
  const RecipeSummaryRow& noise = row_of(rep, "fp32", "noise_floor");
  EXPECT_EQ(noise.seeds_done, 2u);
  EXPECT_EQ(metric(noise, ReportMetric::final_gap_rel).mean, (1.0 / 3.0) / 4.0);
  EXPECT_EQ(metric(noise, ReportMetric::gap_over_noise).mean, 1.0);
  EXPECT_EQ(metric(noise, ReportMetric::param_drift).mean, 0.125);
}

// ---------------------------------------------------------------- renderings

TEST(Report, CsvHasOneHeaderAndOneLinePerRowWithNullsEmpty) {
  TemporaryDirectory tmp;
  write_hand_sweep(tmp.path());
  const std::string csv = report_csv(build_report(tmp.path()));
  const std::string header =
      "model,recipe,role,seeds_done,seeds_expected,runs_stopped,steps_to_target_never,"
      "final_loss_mean,final_loss_sd,final_loss_n,final_eval_mean,final_eval_sd,final_eval_n,"
      "final_gap_abs_mean,final_gap_abs_sd,final_gap_abs_n,final_gap_rel_mean,final_gap_rel_sd,final_gap_rel_n,"
      "max_abs_gap_rel_mean,max_abs_gap_rel_sd,max_abs_gap_rel_n,"
      "mean_abs_gap_rel_last10_mean,mean_abs_gap_rel_last10_sd,mean_abs_gap_rel_last10_n,"
      "eval_gap_mean,eval_gap_sd,eval_gap_n,steps_to_target_ratio_mean,steps_to_target_ratio_sd,"
      "steps_to_target_ratio_n,param_drift_mean,param_drift_sd,param_drift_n,"
      "gap_over_noise_mean,gap_over_noise_sd,gap_over_noise_n,drift_over_noise_mean,drift_over_noise_sd,"
      "drift_over_noise_n,skipped_steps_mean,skipped_steps_sd,skipped_steps_n,"
      "underflow_pct_mean,underflow_pct_sd,underflow_pct_n,saturation_pct_mean,saturation_pct_sd,saturation_pct_n\n";
  ASSERT_EQ(csv.substr(0, header.size()), header);
  // fp32 row by hand: final loss (1.5, 3) -> 2.25, sqrt(1.125) = 1.0606601717798212 (shortest round trip);
  // eval 0.5 and 0.75 -> 0.625, sd sqrt(2 * 0.125^2) = 0.1767766952966369; every gap 0; ratio 1; drift 0;
  // gap/noise 0 and drift/noise 0; skipped 0; no statistics (empty mean and sd, n = 0).
  const std::string fp32 =
      "mlp,fp32,recipe,2,2,0,0,2.25,1.0606601717798212,2,0.625,0.1767766952966369,2,0,0,2,0,0,2,0,0,2,0,0,2,0,0,"
      "2,1,0,2,0,0,2,0,0,2,0,0,2,0,0,2,,,0,,,0\n";
  EXPECT_EQ(csv.substr(header.size(), fp32.size()), fp32);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
}

TEST(Report, JsonIsSortedWithNullsAndMarkdownSaysNever) {
  TemporaryDirectory tmp;
  write_hand_sweep(tmp.path());
  const SweepReport rep = build_report(tmp.path());
  const std::string text = report_json(rep);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(text, j.dump(2) + "\n");  // nlohmann's objects are sorted maps: keys sorted, 2-space indent
  EXPECT_EQ(j["sweep"], (nlohmann::json{{"name", "hand"}, {"steps", 40}, {"config_sha256", "abc123"}}));
  EXPECT_TRUE(j["rows"][1]["metrics"]["steps_to_target_ratio"]["sd"].is_null());
  EXPECT_EQ(j["rows"][1]["metrics"]["steps_to_target_ratio"]["n"], 1);
  EXPECT_TRUE(j["runs"][1]["values"]["steps_to_target_ratio"].is_null());
  EXPECT_EQ(j["runs"][1]["id"], kR0.id());
  EXPECT_EQ(j["missing_runs"], nlohmann::json::array());

  const std::string md = report_markdown(rep);
  EXPECT_NE(md.find("# Divergence report: hand\n"), std::string::npos);
  EXPECT_NE(md.find("config sha256 `abc123`"), std::string::npos);
  // bf16: final loss 2 ± 0; the steps-to-target cell holds seed 1's 0.5 and counts seed 0.
  EXPECT_NE(md.find("| mlp | bf16 | 2/2 | 2 ± 0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.5 (1 never) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| mlp | fp32 (noise floor) | 2/2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("## Missing runs\n\nNone.\n"), std::string::npos);
}

// report.md links the figures DIR/figures/figures.json lists (scripts/plot
// sweep) whose PNG exists; an entry whose PNG is missing, or with a file name
// that is not a plain name, is a problem line instead; without an index the
// section says how to draw them.
TEST(Report, MarkdownLinksTheFiguresWhosePngExists) {
  TemporaryDirectory tmp;
  write_hand_sweep(tmp.path());
  EXPECT_NE(report_markdown(build_report(tmp.path())).find("## Figures\n\nNone yet: `scripts/plot sweep DIR`"),
            std::string::npos);
  const fs::path figs = fs::path(tmp.path()) / "figures";
  fs::create_directories(figs);
  std::ofstream(figs / "loss_curves.png") << "png";
  std::ofstream(figs / "figures.json") << R"({"figures": [
    {"name": "loss_curves", "caption": "Training loss | per step.", "sources": ["runs/*/metrics.csv"],
     "files": {"pdf": "loss_curves.pdf", "png": "loss_curves.png", "csv": "loss_curves.csv"}},
    {"name": "relative_gap", "caption": "Gap.", "files": {"png": "relative_gap.png"}},
    {"name": "sneaky", "caption": "x", "files": {"png": "../report.md"}}]})";
  const SweepReport rep = build_report(tmp.path());
  ASSERT_EQ(rep.figures.size(), 1u);
  EXPECT_EQ(rep.figures[0].name, "loss_curves");
  const std::string md = report_markdown(rep);
  EXPECT_NE(md.find("### loss_curves\n\n![Training loss \\| per step.](figures/loss_curves.png)\n\n"
                    "Training loss \\| per step. [PDF](figures/loss_curves.pdf) [data](figures/loss_curves.csv)\n"),
            std::string::npos)
      << md;
  ASSERT_EQ(rep.problems.size(), 2u);
  EXPECT_NE(rep.problems[0].find("figure 'relative_gap' has no PNG"), std::string::npos) << rep.problems[0];
  EXPECT_NE(rep.problems[1].find("figure 'sneaky' has no PNG"), std::string::npos) << rep.problems[1];
  std::ofstream(figs / "figures.json") << "[not json";
  const SweepReport broken = build_report(tmp.path());
  EXPECT_TRUE(broken.figures.empty());
  ASSERT_EQ(broken.problems.size(), 1u);
  EXPECT_NE(broken.problems[0].find("figures.json: not JSON"), std::string::npos) << broken.problems[0];
}

// ---------------------------------------------------------------- incomplete sweeps

TEST(Report, MissingAndRunningRunsAreListedAndTheRestIsReported) {
  TemporaryDirectory tmp;
  const Listed r2{"mlp", "bf16", "recipe", 2, 0}, f2{"mlp", "fp32", "recipe", 2, 0};
  std::vector<Listed> list = kHandList;
  list.push_back(f2);
  list.push_back(r2);
  write_sweep_json(tmp.path(), list, kSteps);
  auto runs = hand_runs();
  for (const Listed& l : kHandList)
    if (l.id() != kN1.id()) write_run(tmp.path(), l, runs.at(l.id()));
  HandRun running = runs.at(kF0.id());
  running.status = "running";
  running.loss.resize(10);
  write_run(tmp.path(), f2, running);
  // r2 stopped at step 10: counted, its final values null, its skipped steps counted.
  HandRun stopped = runs.at(kR0.id());
  stopped.status = "stopped";
  stopped.loss.resize(10);
  stopped.eval.clear();
  write_run(tmp.path(), r2, stopped);

  const SweepReport rep = build_report(tmp.path());
  EXPECT_EQ(rep.missing_runs, (std::vector<std::string>{kN1.id() + " (not run)", f2.id() + " (status running)"}));
  EXPECT_TRUE(rep.problems.empty()) << rep.problems.front();
  const RecipeSummaryRow& bf16 = row_of(rep, "bf16");
  EXPECT_EQ(bf16.seeds_done, 3u);
  EXPECT_EQ(bf16.seeds_expected, 3u);
  EXPECT_EQ(bf16.runs_stopped, 1u);
  EXPECT_EQ(metric(bf16, ReportMetric::final_loss).n, 2u);
  EXPECT_EQ(metric(bf16, ReportMetric::skipped_steps).n, 3u);  // 2, 0, 2
  EXPECT_EQ(metric(bf16, ReportMetric::skipped_steps).mean, 4.0 / 3.0);
  // Seed 1 lost its noise run: its gap/noise is null, seed 0's is still 4.
  EXPECT_EQ(metric(bf16, ReportMetric::gap_over_noise).n, 1u);
  EXPECT_EQ(metric(bf16, ReportMetric::gap_over_noise).mean, 4.0);
  EXPECT_EQ(row_of(rep, "fp32", "noise_floor").seeds_done, 1u);
  write_report(tmp.path(), rep);
  if (have_python_checker()) {
    EXPECT_EQ(check_report(tmp.path() + " --exact"), 0);
  }
}

TEST(Report, TruncatedMetricsCsvIsAProblemNamingFileAndLine) {
  TemporaryDirectory tmp;
  write_hand_sweep(tmp.path());
  const fs::path metrics = fs::path(tmp.path()) / "runs" / kR1.id() / "metrics.csv";
  const std::string text = file_content(metrics.string());
  // Cut inside line 12 (the header is line 1, step 11 is line 12).
  size_t cut = 0;
  for (int i = 0; i < 11; ++i) cut = text.find('\n', cut) + 1;
  put_file(metrics.string(), text.substr(0, cut + 3));
  // And a bad number in another run's metrics.csv, line 6.
  const fs::path other = fs::path(tmp.path()) / "runs" / kN0.id() / "metrics.csv";
  put_file(other.string(),
           "step,loss,lr,loss_scale,skipped,grad_norm,eval_metric\n1,2,0.001,1,0,0.5,\n"
           "2,2,0.001,1,0,0.5,\n3,2,0.001,1,0,0.5,\n4,2,0.001,1,0,0.5,\n5,x2,0.001,1,0,0.5,\n");

  const SweepReport rep = build_report(tmp.path());
  EXPECT_EQ(rep.problems,
            (std::vector<std::string>{metrics.string() + ":12: the last line does not end in a newline (truncated)",
                                      other.string() + ":6: loss 'x2' is not a number"}));
  EXPECT_EQ(rep.missing_runs, (std::vector<std::string>{kR1.id() + " (unreadable: see problems)",
                                                        kN0.id() + " (unreadable: see problems)"}));
  EXPECT_EQ(value(run_of(rep, kR0.id()), ReportMetric::final_gap_rel), 1.0 / 3.0);
  EXPECT_EQ(value(run_of(rep, kR0.id()), ReportMetric::gap_over_noise), std::nullopt);  // n0 unreadable
  write_report(tmp.path(), rep);
  if (have_python_checker()) {
    EXPECT_EQ(check_report(tmp.path() + " --exact"), 0);
  }
}

TEST(Report, SummaryThatDisagreesWithMetricsIsAProblemButTheRunStays) {
  TemporaryDirectory tmp;
  write_hand_sweep(tmp.path());
  const fs::path summary = fs::path(tmp.path()) / "runs" / kR0.id() / "summary.json";
  nlohmann::json s = nlohmann::json::parse(file_content(summary.string()));
  s["final_eval_metric"] = 0.875;
  put_file(summary.string(), s.dump(2));
  const SweepReport rep = build_report(tmp.path());
  EXPECT_EQ(rep.problems,
            (std::vector<std::string>{summary.string() + ": final_eval_metric 0.875 differs from metrics.csv's last "
                                                         "eval_metric 0.25"}));
  EXPECT_EQ(value(run_of(rep, kR0.id()), ReportMetric::final_eval), 0.25);
}

TEST(Report, SweepJsonOfAnotherFormatOrVersionIsAConfigError) {
  TemporaryDirectory tmp;
  write_sweep_json(tmp.path(), kHandList, kSteps, "abc123", "fpsim-sweep", 2);
  EXPECT_EQ(message_of<ConfigError>([&] { build_report(tmp.path()); }),
            tmp.path() +
                "/sweep.json: not a sweep directory of this fpsim (format \"fpsim-sweep\", version 2; expected format "
                "\"fpsim-sweep\", version 1)");
  write_sweep_json(tmp.path(), kHandList, kSteps, "abc123", "other", 1);
  EXPECT_EQ(message_of<ConfigError>([&] { build_report(tmp.path()); }),
            tmp.path() +
                "/sweep.json: not a sweep directory of this fpsim (format \"other\", version 1; expected format "
                "\"fpsim-sweep\", version 1)");
  fs::remove(fs::path(tmp.path()) / "sweep.json");
  EXPECT_EQ(message_of<ConfigError>([&] { build_report(tmp.path()); }),
            tmp.path() + "/sweep.json: not a sweep directory of this fpsim (no such file)");
}

// ---------------------------------------------------------------- shards

TEST(Report, MergingShardsGivesTheSameBytesInEitherOrder) {
  TemporaryDirectory tmp;
  const fs::path whole = fs::path(tmp.path()) / "whole", main = fs::path(tmp.path()) / "main",
                 s1 = fs::path(tmp.path()) / "s1", s2 = fs::path(tmp.path()) / "s2";
  write_hand_sweep(whole);
  for (const fs::path& d : {main, s1, s2}) write_sweep_json(d, kHandList, kSteps);
  // --shard i/3: index % 3 == i - 1; shard 1 stays in main, 2 and 3 elsewhere.
  const auto runs = hand_runs();
  for (size_t i = 0; i < kHandList.size(); ++i)
    write_run(i % 3 == 0 ? main : i % 3 == 1 ? s1 : s2, kHandList[i], runs.at(kHandList[i].id()));
  // An interrupted copy in main of a run that s1 finished is passed over.
  HandRun running = runs.at(kR0.id());
  running.status = "running";
  write_run(main, kR0, running);

  const SweepReport a = build_report(main, {{s1, s2}}), b = build_report(main, {{s2, s1}});
  const SweepReport w = build_report(whole);
  EXPECT_TRUE(a.problems.empty()) << a.problems.front();
  EXPECT_EQ(report_json(a), report_json(b));
  EXPECT_EQ(report_csv(a), report_csv(b));
  EXPECT_EQ(report_markdown(a), report_markdown(b));
  EXPECT_EQ(report_json(a), report_json(w));
  write_report(main, b);
  if (have_python_checker()) {
    EXPECT_EQ(check_report(main.string() + " " + s2.string() + " " + s1.string()), 0);
  }

  // Two finished copies with different metrics: the first directory wins and a problem names both.
  HandRun changed = runs.at(kR0.id());
  changed.loss[0] = 3;
  write_run(s2, kR0, changed);
  const SweepReport c = build_report(main, {{s1, s2}});
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_EQ(c.problems[0], "run '" + kR0.id() + "': " + (s1 / "runs" / kR0.id() / "metrics.csv").string() + " and " +
                               (s2 / "runs" / kR0.id() / "metrics.csv").string() + " differ; the report uses " +
                               (s1 / "runs" / kR0.id()).string());
  EXPECT_EQ(report_csv(c), report_csv(a));

  // A shard of another sweep is refused.
  write_sweep_json(s2, kHandList, kSteps, "other-sha");
  EXPECT_EQ(message_of<ConfigError>([&] {
              build_report(main, {{s1, s2}});
            }),
            (s2 / "sweep.json").string() + ": another sweep (config_sha256 'other-sha'; " +
                (main / "sweep.json").string() + " has 'abc123')");
}

TEST(Report, WriteReportWritesTheThreeRenderings) {
  TemporaryDirectory tmp;
  write_hand_sweep(tmp.path());
  const SweepReport rep = build_report(tmp.path());
  write_report(tmp.path(), rep);
  EXPECT_EQ(file_content(tmp / "report.json"), report_json(rep));
  EXPECT_EQ(file_content(tmp / "report.csv"), report_csv(rep));
  EXPECT_EQ(file_content(tmp / "report.md"), report_markdown(rep));
  if (!have_python_checker()) GTEST_SKIP() << "/usr/bin/python3 with numpy is needed for scripts/check_report.py";
  EXPECT_EQ(check_report(tmp.path() + " --exact"), 0);
}

// The checker is not a rubber stamp: a value off by 1e-6 is a difference (1), one off by 1e-13 relative passes
// the 1e-12 tolerance but not --exact, and a report.json that is not JSON is bad input (2).
TEST(Report, PythonCheckerFindsAWrongValue) {
  if (!have_python_checker()) GTEST_SKIP() << "/usr/bin/python3 with numpy is needed for scripts/check_report.py";
  TemporaryDirectory tmp;
  write_hand_sweep(tmp.path());
  const SweepReport rep = build_report(tmp.path());
  nlohmann::json j = nlohmann::json::parse(report_json(rep));
  ASSERT_EQ(j["runs"][1]["id"], kR0.id());
  j["runs"][1]["values"]["final_gap_rel"] = 1.0 / 3.0 + 1e-6;
  put_file(tmp / "report.json", j.dump(2));
  EXPECT_EQ(check_report(tmp.path()), 1);
  j["runs"][1]["values"]["final_gap_rel"] = (1.0 / 3.0) * (1 + 1e-13);
  put_file(tmp / "report.json", j.dump(2));
  EXPECT_EQ(check_report(tmp.path()), 0);
  EXPECT_EQ(check_report(tmp.path() + " --exact"), 1);
  j["rows"][1]["metrics"]["final_loss"]["n"] = 3;
  put_file(tmp / "report.json", j.dump(2));
  EXPECT_EQ(check_report(tmp.path()), 1);
  put_file(tmp / "report.json", "{");
  EXPECT_EQ(check_report(tmp.path()), 2);
}

// ---------------------------------------------------------------- end to end

TEST(Report, RealTrainingRunsAgreeWithTheIndependentPythonChecker) {
  if (!have_python_checker()) GTEST_SKIP() << "/usr/bin/python3 with numpy is needed for scripts/check_report.py";
  TemporaryDirectory tmp;
  TrainConfig c = default_train_config("mlp");
  c.data = "synthetic";
  c.steps = 20;
  c.eval_interval = 10;
  c.stats_interval = 5;
  c.warmup_steps = 5;
  std::vector<Listed> list;
  for (uint32_t seed : {0u, 1u})
    for (const char* recipe : {"fp32", "bf16-pure-rne"}) list.push_back({"mlp", recipe, "recipe", seed, 0});
  for (uint32_t seed : {0u, 1u}) list.push_back({"mlp", "fp32", "noise_floor", seed, 1});
  write_sweep_json(tmp.path(), list, c.steps);
  for (const Listed& l : list) {
    c.seed = l.seed;
    c.data_seed = l.data_seed;
    run_training(c, load_recipe(l.recipe), fs::path(tmp.path()) / "runs");
  }
  const SweepReport rep = build_report(tmp.path());
  EXPECT_TRUE(rep.problems.empty()) << rep.problems.front();
  EXPECT_TRUE(rep.missing_runs.empty());
  ASSERT_EQ(rep.rows.size(), 3u);
  // bf16 rounds the weights: it drifts from fp32 and has statistics rows.
  EXPECT_GT(*metric(row_of(rep, "bf16-pure-rne"), ReportMetric::param_drift).mean, 0.0);
  EXPECT_EQ(metric(row_of(rep, "bf16-pure-rne"), ReportMetric::underflow_pct).n, 2u);
  write_report(tmp.path(), rep);
  const std::string cmd = "/usr/bin/python3 " FPSIM_SOURCE_DIR "/scripts/check_report.py '" + tmp.path() + "' --exact";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace
}  // namespace fpsim::experiments
