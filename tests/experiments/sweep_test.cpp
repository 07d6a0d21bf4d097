// Sweeps (docs/training.md, "Sweeps"): the sweep file and its errors, the
// run list, shards, the directory's identity, resume and parallel runs.
// Killing a real sweep process is tests/experiments/sweep_kill_test.sh.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../io/temporary_directory.hpp"
#include "run_fpsim.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/report.hpp"
#include "fpsim/experiments/sweep.hpp"

namespace fpsim::experiments {
namespace {

using io::test::TemporaryDirectory;
namespace fs = std::filesystem;

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const char* kTiny = R"(name = "tiny"
models = ["mlp"]
recipes = ["fp32", "bf16-pure-rne", "fp8-current"]
seeds = [3, 1]
steps = 12
eval_interval = 6
stats_interval = 6
[model.mlp]
data = "synthetic"
warmup_steps = 2
lr = 0.002
)";

std::string error_of(std::string_view text) {
  try {
    (void)parse_sweep_config(text, "s.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SweepFile, ErrorsNameTheFileLineAndKey) {
  const std::string base = "models = [\"mlp\"]\nrecipes = [\"fp32\"]\nseeds = [0]\nsteps = 5\n";
  const std::pair<std::string, std::string> cases[] = {
      {base + "stpes = 4\n", "s.toml:5: unknown key 'stpes'; known keys: name, models"},
      {"models = \"mlp\"\nrecipes = [\"fp32\"]\nseeds = [0]\nsteps = 5\n", "s.toml:1: models: expected an array, got a string"},
      {"models = [\"mlp\"]\nrecipes = [\"fp32\", \"nope\"]\nseeds = [0]\nsteps = 5\n", "s.toml:2: recipes: unknown recipe 'nope'"},
      {"models = [\"mlp\"]\nrecipes = [\"bf16-amp\"]\nseeds = [0]\nsteps = 5\n", "s.toml:2: recipes: must include \"fp32\""},
      {"models = [\"mlp\", \"cnn\"]\nrecipes = [\"fp32\"]\nseeds = [0]\nsteps = 5\n", "s.toml:1: models: unknown model 'cnn'"},
      {"models = [\"mlp\"]\nrecipes = [\"fp32\"]\nseeds = [0, 0]\nsteps = 5\n", "s.toml:3: seeds: 0 is listed twice"},
      {"models = [\"mlp\"]\nrecipes = [\"fp32\"]\nseeds = [0]\nsteps = 0\n", "s.toml:4: steps: must be between 1"},
      {"models = [\"mlp\"]\nrecipes = [\"fp32\"]\nseeds = []\nsteps = 5\n", "s.toml:3: seeds: must not be empty"},
      {"models = [\"mlp\"]\nrecipes = [\"fp32\"]\nseeds = [0]\n", "s.toml: missing key \"steps\""},
      {base + "noise_data_seeds = [0]\n", "s.toml:5: noise_data_seeds: 0 is the data_seed itself"},
      {base + "[model.mlp]\nseed = 3\n", "s.toml:6: model.mlp.seed: is set by the sweep itself"},
      {base + "[model.mlp]\nlr = \"fast\"\n", "s.toml:6: model.mlp.lr: expected a finite number"},
      {base + "[model.mlp]\nbogus = 1\n", "s.toml:6: model.mlp.bogus: unknown key 'bogus'; known keys: model"},
      // A quoted key may hold any byte: the key is escaped where it is named.
      {base + "[model.mlp]\n\"a\\rb\" = 1\n", "s.toml:6: model.mlp.a\\rb: unknown key 'a\\rb'"},
      {base + "[model.gpt]\nlr = 0.1\n", "model.gpt: settings for \"gpt\", which is not in models"},
      // Settings each valid alone but not together: the file is refused,
      // not every run of the model later (a fuzz finding).
      {base + "[model.mlp]\nlr = 1.5e-6\n", "s.toml:5: model.mlp: min_lr (1e-04) must not exceed lr (1.5e-06)"},
      {"models = [\"mlp\", \"gpt\"]\nrecipes = [\"fp32\"]\nseeds = [0]\nsteps = 5\n[model.gpt]\ngpt.width = 30\n",
       "s.toml:5: model.gpt: gpt.width (30) must be a multiple of gpt.heads"},
      {base + "steps = [", "s.toml:5:"},
  };
  for (const auto& [text, want] : cases) {
    const std::string got = error_of(text);
    EXPECT_NE(got.find(want), std::string::npos) << text << "\n-> " << got;
  }
}

TEST(SweepFile, CanonicalTomlParsesBackToTheSameConfiguration) {
  const SweepConfig c = parse_sweep_config(kTiny, "tiny.toml");
  EXPECT_EQ(c.noise_data_seeds, std::vector<uint32_t>{1});  // default: data_seed + 1
  const std::string canonical = sweep_config_to_toml(c);
  EXPECT_EQ(sweep_config_to_toml(parse_sweep_config(canonical, "canonical")), canonical);
  // Settings in key order, as strings.
  EXPECT_NE(canonical.find("[model.mlp]\ndata = \"synthetic\"\nlr = \"0.002\"\nwarmup_steps = \"2\"\n"),
            std::string::npos)
      << canonical;
  // Dotted run settings, nested (a TOML table) or quoted, are one key; the
  // canonical form quotes it (found by fuzz_sweep_toml: written bare it read
  // back as a table).
  const std::string gpt = "models = [\"gpt\"]\nrecipes = [\"fp32\"]\nseeds = [0]\nsteps = 5\n[model.gpt]\n";
  for (const std::string& form : {std::string("gpt.layers = 1\n"), std::string("\"gpt.layers\" = 1\n"),
                                   std::string("gpt = {layers = 1}\n")}) {
    const SweepConfig g = parse_sweep_config(gpt + form, "g.toml");
    ASSERT_EQ(g.model_settings.at("gpt").size(), 1u) << form;
    EXPECT_EQ(g.model_settings.at("gpt")[0], std::make_pair(std::string("gpt.layers"), std::string("1"))) << form;
    EXPECT_NE(sweep_config_to_toml(g).find("\n\"gpt.layers\" = \"1\"\n"), std::string::npos);
    EXPECT_EQ(sweep_config_to_toml(parse_sweep_config(sweep_config_to_toml(g), "c")), sweep_config_to_toml(g));
  }
  EXPECT_NE(error_of(gpt + "gpt.layers = 1\n\"gpt.layers\" = 2\n").find("model.gpt.gpt.layers: is set twice"),
            std::string::npos);
  // The built-in default: the MLP, every built-in recipe, three seeds and the noise floor.
  const SweepConfig d = default_sweep_config();
  EXPECT_EQ(d.models, std::vector<std::string>{"mlp"});
  EXPECT_EQ(d.recipes.size(), builtin_recipe_names().size());
  EXPECT_EQ(d.seeds.size(), 3u);
  EXPECT_EQ(sweep_runs(d).size(), 3u * 12u + 3u);
}

TEST(SweepRuns, OrderIsModelSeedRecipeThenTheNoiseFloor) {
  const SweepConfig c = parse_sweep_config(kTiny, "tiny.toml");
  std::vector<std::string> ids;
  for (const SweepRun& r : sweep_runs(c)) ids.push_back(r.id + ":" + r.role);
  const std::vector<std::string> want = {
      "mlp-fp32-s3-d0:recipe",        "mlp-bf16-pure-rne-s3-d0:recipe", "mlp-fp8-current-s3-d0:recipe",
      "mlp-fp32-s1-d0:recipe",        "mlp-bf16-pure-rne-s1-d0:recipe", "mlp-fp8-current-s1-d0:recipe",
      "mlp-fp32-s3-d1:noise_floor",   "mlp-fp32-s1-d1:noise_floor"};
  EXPECT_EQ(ids, want);
  const TrainConfig t = sweep_run_config(c, sweep_runs(c)[4]);
  EXPECT_EQ(t.steps, 12u);
  EXPECT_EQ(t.eval_interval, 6u);
  EXPECT_EQ(t.warmup_steps, 2u);
  EXPECT_EQ(t.lr, 0.002);
  EXPECT_EQ(t.seed, 1u);
  EXPECT_EQ(t.data, "synthetic");
}

TEST(SweepRuns, ShardsPartitionTheRunList) {
  SweepConfig c = parse_sweep_config(kTiny, "tiny.toml");
  c.seeds = {0, 1, 2, 3, 4};
  const std::vector<SweepRun> runs = sweep_runs(c);
  for (uint64_t n = 1; n <= 9; ++n) {
    std::multiset<size_t> seen;
    for (uint64_t i = 0; i < n; ++i)
      for (const SweepRun& r : runs)
        if (in_shard(r, Shard{i, n})) seen.insert(r.index);
    std::multiset<size_t> all;
    for (const SweepRun& r : runs) all.insert(r.index);
    EXPECT_EQ(seen, all) << "n = " << n;  // every run exactly once
  }
}

// Every file of a sweep directory, the timing fields of summary.json
// (wall_time_s, steps_per_s: docs/training.md "summary.json") taken out.
std::map<std::string, std::string> sweep_files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string text = file_text(e.path());
    if (e.path().filename() == "summary.json") {
      nlohmann::json j = nlohmann::json::parse(text);
      j.erase("wall_time_s");
      j.erase("steps_per_s");
      text = j.dump(2);
    }
    files[fs::relative(e.path(), dir).string()] = text;
  }
  return files;
}

SweepOutcome run(const SweepConfig& c, const fs::path& out, unsigned jobs, Shard shard = {}) {
  SweepOptions o;
  o.out = out;
  o.jobs = jobs;
  o.shard = shard;
  return run_sweep(c, o);
}

TEST(SweepRun, ResumeSkipsFinishedRunsAndRerunsInterruptedOnes) {
  TemporaryDirectory tmp;
  const SweepConfig c = parse_sweep_config(kTiny, "tiny.toml");
  const fs::path dir = fs::path(tmp.path()) / "sweep";
  const SweepOutcome first = run(c, dir, 2);
  EXPECT_EQ(first.total, 8u);
  EXPECT_EQ(first.ran, 8u);
  const auto want = sweep_files(dir);
  EXPECT_EQ(want.count("sweep.toml"), 1u);
  EXPECT_EQ(want.count("runs/mlp-fp8-current-s1-d0/metrics.csv"), 1u);

  // An interrupted run (status running, as a killed run leaves it) and a run never started.
  const fs::path summary = dir / "runs/mlp-bf16-pure-rne-s3-d0/summary.json";
  nlohmann::json j = nlohmann::json::parse(file_text(summary));
  j["status"] = "running";
  std::ofstream(summary) << j.dump(2) << "\n";
  fs::remove_all(dir / "runs/mlp-fp32-s1-d1");
  const SweepOutcome again = run(c, dir, 1);
  EXPECT_EQ(again.ran, 2u);
  EXPECT_EQ(again.skipped, 6u);
  EXPECT_EQ(sweep_files(dir), want);
}

// A recipe file's runs are named after its stem (summary.json's "recipe")
// while sweep.json lists the file as the sweep file gives it: the report
// matches the two (recipe_name) and reports the runs, with no problem.
TEST(SweepRun, RecipeFileRunsAreReportedLikeBuiltInOnes) {
  TemporaryDirectory tmp;
  const fs::path recipe = fs::path(tmp.path()) / "tuned.toml";
  std::ofstream(recipe) << "extends = \"bf16-pure-rne\"\n";
  std::string text = kTiny;
  text.replace(text.find("\"bf16-pure-rne\""), std::string("\"bf16-pure-rne\"").size(), "\"" + recipe.string() + "\"");
  const SweepConfig c = parse_sweep_config(text, "tiny.toml");
  const fs::path dir = fs::path(tmp.path()) / "sweep";
  EXPECT_EQ(run(c, dir, 2).ran, 8u);
  EXPECT_TRUE(fs::exists(dir / "runs/mlp-tuned-s3-d0/summary.json"));
  EXPECT_EQ(recipe_name(recipe.string()), "tuned");
  EXPECT_EQ(recipe_name("fp8-current"), "fp8-current");
  const SweepReport rep = build_report(dir);
  EXPECT_TRUE(rep.problems.empty()) << rep.problems.front();
  EXPECT_TRUE(rep.missing_runs.empty()) << rep.missing_runs.front();
  EXPECT_EQ(rep.runs.size(), 8u);
}

TEST(SweepRun, ResultsDoNotDependOnJobsOrShards) {
  TemporaryDirectory tmp;
  const SweepConfig c = parse_sweep_config(kTiny, "tiny.toml");
  const fs::path one = fs::path(tmp.path()) / "one", sharded = fs::path(tmp.path()) / "sharded";
  run(c, one, 1);
  for (uint64_t i = 0; i < 3; ++i) {
    const SweepOutcome o = run(c, sharded, 2, Shard{2 - i, 3});  // shards in any order, one directory
    EXPECT_EQ(o.ran, o.in_shard);
  }
  EXPECT_EQ(sweep_files(sharded), sweep_files(one));
}

// Job-array tasks start at the same moment in one shared directory: each
// must accept the sweep files the others are writing.
TEST(SweepRun, ShardsStartingTogetherInOneDirectoryAgree) {
  TemporaryDirectory tmp;
  const SweepConfig c = parse_sweep_config(kTiny, "tiny.toml");
  const fs::path one = fs::path(tmp.path()) / "one", shared = fs::path(tmp.path()) / "shared";
  run(c, one, 2);
  for (int attempt = 0; attempt < 3; ++attempt) {
    fs::remove_all(shared);
    std::vector<std::thread> tasks;
    std::vector<std::string> errors(4);
    for (uint64_t i = 0; i < 4; ++i)
      tasks.emplace_back([&, i] {
        try {
          run(c, shared, 1, Shard{i, 4});
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    for (std::thread& t : tasks) t.join();
    for (const std::string& e : errors) EXPECT_EQ(e, "");
    EXPECT_EQ(sweep_files(shared), sweep_files(one));
  }
}

TEST(SweepRun, AnotherConfigurationOrAForeignDirectoryIsRefusedAndNothingIsWritten) {
  TemporaryDirectory tmp;
  SweepConfig c = parse_sweep_config(kTiny, "tiny.toml");
  const fs::path dir = fs::path(tmp.path()) / "sweep";
  run(c, dir, 2, Shard{0, 4});
  const auto before = sweep_files(dir);
  auto refusal = [&](const SweepConfig& other, const fs::path& where) {
    try {
      run(other, where, 2);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  SweepConfig steps = c;
  steps.steps = 13;
  EXPECT_NE(refusal(steps, dir).find("holds a sweep of another configuration (steps: 12 there, 13 here)"),
            std::string::npos);
  SweepConfig lr = c;
  for (auto& [key, value] : lr.model_settings["mlp"])
    if (key == "lr") value = "0.003";
  EXPECT_NE(refusal(lr, dir).find("(model.mlp.lr: \"0.002\" there, \"0.003\" here)"), std::string::npos);
  EXPECT_EQ(sweep_files(dir), before);

  const fs::path foreign = fs::path(tmp.path()) / "foreign";
  fs::create_directories(foreign);
  std::ofstream(foreign / "notes.txt") << "mine\n";
  EXPECT_NE(refusal(c, foreign).find("is not empty and is not a sweep directory"), std::string::npos);
  EXPECT_EQ(std::distance(fs::directory_iterator(foreign), fs::directory_iterator()), 1);

  nlohmann::json j = nlohmann::json::parse(file_text(dir / "sweep.json"));
  j["format_version"] = 99;
  std::ofstream(dir / "sweep.json") << j.dump(2) << "\n";
  EXPECT_NE(refusal(c, dir).find("not a sweep directory of this fpsim (format \"fpsim-sweep\", version 99; expected format "
                                  "\"fpsim-sweep\", version 1)"),
            std::string::npos);
}

using test::run_fpsim;
using Result = test::CommandResult;

// The commands end to end: a half-done sweep (one shard of two) reports what
// it has with exit status 1 and lists the missing runs; the other shard
// completes it (status 0); bad input is status 2 with one line and nothing
// written.
TEST(SweepCommand, ShardThenReportThenTheRestThenBadInput) {
  TemporaryDirectory tmp;
  const fs::path t(tmp.path());
  std::ofstream(t / "tiny.toml") << kTiny;
  const std::string dir = (t / "sweep").string();
  Result r = run_fpsim("sweep " + (t / "tiny.toml").string() + " --out " + dir + " --shard 0/2 --jobs 2", t.string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, dir + "\n");
  EXPECT_NE(r.err.find("4 of 8 runs in shard 0/2: 4 ran"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);  // not a terminal: plain lines

  r = run_fpsim("report " + dir + " --format csv", t.string());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 4) << r.err;  // the other shard's 4 runs
  EXPECT_NE(r.err.find("fpsim report: missing run: mlp-bf16-pure-rne-s3-d0 (not run)"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.rfind("model,recipe,role,", 0), 0u) << r.out;
  EXPECT_TRUE(fs::exists(fs::path(dir) / "report.md"));

  r = run_fpsim("sweep " + (t / "tiny.toml").string() + " --out " + dir + " --shard 1/2", t.string());
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_fpsim("report " + dir, t.string());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("# Divergence report: tiny", 0), 0u) << r.out;

  std::ofstream(t / "bad.toml") << "models = [\"mlp\"]\nrecipes = [\"fp32\"]\nseeds = [0]\nsteps = 5\nstpes = 4\n";
  const std::pair<std::string, std::string> bad[] = {
      {"sweep " + (t / "bad.toml").string() + " --out " + (t / "new").string(), "bad.toml:5: unknown key 'stpes'"},
      {"sweep " + (t / "tiny.toml").string() + " --out " + (t / "new").string() + " --shard 2/2", "--shard '2/2'"},
      {"report " + (t / "nothing").string(), "not a sweep directory"},
  };
  for (const auto& [args, message] : bad) {
    r = run_fpsim(args, t.string());
    EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(fs::exists(t / "new"));
}

}  // namespace
}  // namespace fpsim::experiments
