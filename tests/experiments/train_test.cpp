// The step loop end to end (docs/training.md): result files, determinism
// across runs and SIMD targets, the known phenomena of the recipes, and bad
// input. Everything runs on the synthetic data sets (no files needed).
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <tuple>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "../io/temporary_directory.hpp"
#include "run_fpsim.hpp"
#include "fpsim/experiments/checkpoint.hpp"
#include "fpsim/experiments/datasets.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/models/gpt.hpp"
#include "fpsim/experiments/models/mlp.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/safetensors.hpp"
#include "fpsim/experiments/train.hpp"

namespace fpsim::experiments {
namespace {

using io::test::TemporaryDirectory;
namespace fs = std::filesystem;

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TrainConfig small_mlp(uint64_t steps = 40) {
  TrainConfig c = default_train_config("mlp");
  c.data = "synthetic";
  c.steps = steps;
  c.eval_interval = 20;
  c.stats_interval = 20;
  c.warmup_steps = 5;
  return c;
}

TrainConfig small_gpt(uint64_t steps = 20) {
  TrainConfig c = default_train_config("gpt");
  c.data = "synthetic";
  c.steps = steps;
  c.batch = 4;
  c.gpt.context = 16;
  c.gpt.width = 32;
  c.gpt.heads = 2;
  c.gpt.layers = 1;
  c.eval_interval = 10;
  c.stats_interval = 10;
  c.eval_batches = 2;
  c.warmup_steps = 5;
  return c;
}

// Every file of a run directory by name; summary.json without its two
// wall-clock fields (the only bytes allowed to differ between runs).
std::map<std::string, std::string> run_files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string text = file_text(e.path());
    if (e.path().filename() == "summary.json") {
      nlohmann::json j = nlohmann::json::parse(text);
      j.erase("wall_time_s");
      j.erase("steps_per_s");
      text = j.dump();
    }
    files[e.path().filename().string()] = text;
  }
  return files;
}

TEST(TrainRun, WritesEveryResultFile) {
  TemporaryDirectory tmp;
  const RunOutcome r = run_training(small_mlp(), load_recipe("fp32"), tmp.path());
  EXPECT_EQ(r.dir.filename(), "mlp-fp32-s0-d0");
  EXPECT_FALSE(r.stopped);
  for (const char* name : {"params_init.safetensors", "params_final.safetensors", "data_order.safetensors",
                           "metrics.csv", "quant_stats.csv", "summary.json"}) {
    EXPECT_TRUE(fs::exists(r.dir / name)) << name;
  }
  const std::string metrics = file_text(r.dir / "metrics.csv");
  EXPECT_EQ(metrics.substr(0, metrics.find('\n')), "step,loss,lr,loss_scale,skipped,grad_norm,eval_metric");
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 41);
  const nlohmann::json summary = nlohmann::json::parse(file_text(r.dir / "summary.json"));
  EXPECT_EQ(summary["status"], "done");
  EXPECT_EQ(summary["steps_done"], 40);
  EXPECT_EQ(summary["config"]["steps"], "40");
  const SafetensorsFile order = read_safetensors((r.dir / "data_order.safetensors").string());
  EXPECT_EQ(order.tensors.at("data_order").shape, (std::vector<uint64_t>{40, 32}));
  const SafetensorsFile init = read_safetensors((r.dir / "params_init.safetensors").string());
  EXPECT_EQ(init.tensors.size(), 6u);
  EXPECT_EQ(init.tensors.at("fc1.weight").shape, (std::vector<uint64_t>{128, 64}));
  // fp32 has no operand that is not fp32: no statistics rows, only the header.
  const std::string stats = file_text(r.dir / "quant_stats.csv");
  EXPECT_EQ(std::count(stats.begin(), stats.end(), '\n'), 1);
}

TEST(TrainRun, SameRunTwiceGivesIdenticalFiles) {
  for (const char* recipe : {"fp32", "nvfp4", "fp8-delayed"}) {
    SCOPED_TRACE(recipe);
    TemporaryDirectory a, b;
    const RunOutcome ra = run_training(small_mlp(30), load_recipe(recipe), a.path());
    const RunOutcome rb = run_training(small_mlp(30), load_recipe(recipe), b.path());
    EXPECT_EQ(run_files(ra.dir), run_files(rb.dir));
  }
}

// The FP32 GEMM's summation order does not depend on the vector width, and
// the bulk kernels are bit-identical to the scalar core: a run under every
// SIMD target Highway compiled in (AVX2, AVX-512, ... as this CPU has them)
// writes the same bytes.
TEST(TrainRun, IdenticalOnEverySimdTarget) {
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  std::printf("  SIMD targets on this CPU: %zu\n", targets.size());
  for (const char* recipe : {"fp32", "bf16-pure-sr", "mxfp8"}) {
    for (const std::string model : {"mlp", "gpt"}) {
      SCOPED_TRACE(std::string(recipe) + " " + model);
      std::map<std::string, std::string> first;
      for (const int64_t target : targets) {
        hwy::SetSupportedTargetsForTest(target);
        SCOPED_TRACE(hwy::TargetName(target));
        TemporaryDirectory tmp;
        const RunOutcome r =
            run_training(model == "mlp" ? small_mlp(20) : small_gpt(10), load_recipe(recipe), tmp.path());
        const auto files = run_files(r.dir);
        if (first.empty()) {
          first = files;
        } else {
          EXPECT_EQ(files, first);
        }
      }
      hwy::SetSupportedTargetsForTest(0);
    }
  }
}

TEST(TrainRun, GptRunsAndLearns) {
  TemporaryDirectory tmp;
  TrainConfig c = small_gpt(60);
  const RunOutcome r = run_training(c, load_recipe("fp32"), tmp.path());
  EXPECT_FALSE(r.stopped);
  // synthetic_text's entropy is 1.18 nats against ln 16 = 2.77 for guessing
  // (datasets.hpp); 60 steps get well below guessing.
  EXPECT_LT(r.eval_metric, 2.4);
  const SafetensorsFile init = read_safetensors((r.dir / "params_init.safetensors").string());
  EXPECT_TRUE(init.tensors.count("transformer.h.0.attn.c_attn.weight"));
  EXPECT_FALSE(init.tensors.count("lm_head.weight"));  // tied to transformer.wte.weight
}

// quant_stats has one row per (layer, gemm, operand, tensor) and step: the
// attention core's per-(batch, head) GEMMs merge into one row for the whole
// tensor, counts summed and SQNR from the summed energies; a row of a GEMM
// called once keeps the quantizer's own SQNR (the energies are computed by
// the same loop).
TEST(TrainRun, QuantStatsHaveOneRowPerOperandAndStep) {
  for (const char* name : {"bf16-amp", "nvfp4", "fp8-current"}) {
    SCOPED_TRACE(name);
    GptConfig g;
    g.vocab = 11;
    g.layers = 1;
    g.width = 32;
    g.heads = 2;
    g.context = 16;
    Gpt<float> model(g, load_recipe(name));
    model.init(0);
    const size_t batch = 2;
    std::vector<int32_t> tokens(batch * g.context), targets(batch * g.context);
    for (size_t i = 0; i < tokens.size(); ++i) {
      tokens[i] = int32_t(i * 7 % g.vocab);
      targets[i] = int32_t((i * 5 + 1) % g.vocab);
    }
    GemmRuntime rt(3);
    rt.collect_stats = true;
    model.forward(rt, tokens, targets, batch);
    model.backward(rt, 1.0f);
    std::set<std::tuple<std::string, GemmRole, char, std::string>> keys;
    bool saw_q = false;
    for (const OperandStatsRow& r : rt.stats) {
      EXPECT_TRUE(keys.insert({r.layer, r.role, r.operand, r.tensor}).second)
          << "duplicate row " << r.layer << " " << gemm_role_name(r.role) << " " << r.operand << " " << r.tensor;
      if (r.layer == "transformer.h.0.attn" && r.tensor == "q") {
        saw_q = true;
        EXPECT_EQ(r.stats.elements, batch * g.context * g.width);  // every head of every sequence
      }
      if (r.layer.ends_with("c_fc") && r.stats.sqnr_db != std::numeric_limits<double>::infinity()) {
        EXPECT_EQ(r.stats.sqnr_db, 10.0 * std::log10(r.signal_energy / r.error_energy)) << r.layer;
      }
    }
    EXPECT_TRUE(saw_q);
    EXPECT_GT(keys.size(), 10u);
  }
}

// Every built-in recipe trains the MLP: the test accuracy after 300 steps is
// within 5 points of fp32's (the recipes differ by rounding, not by what they
// can learn; a broken recipe lands near 10%). On the real digits when
// scripts/fetch_data.sh has fetched them (fp32 reaches about 0.88 there, so
// a recipe that learns worse shows), else on the synthetic set (which every
// recipe learns perfectly: the check then only catches broken recipes).
TEST(TrainPhenomena, EveryRecipeTrainsTheMlpNearFp32) {
  TrainConfig c = small_mlp(300);
  if (fs::exists(fs::path(data_dir()) / "digits.csv.gz")) {
    c.data = "real";
  } else {
    std::printf("  no real digits in %s (scripts/fetch_data.sh): using the synthetic set\n", data_dir().c_str());
  }
  c.eval_interval = 300;
  c.stats_interval = 0;
  TemporaryDirectory tmp;
  const double fp32 = run_training(c, load_recipe("fp32"), tmp.path()).eval_metric;
  EXPECT_GT(fp32, 0.8);
  for (const std::string& name : builtin_recipe_names()) {
    if (name == "fp32") continue;
    const RunOutcome r = run_training(c, load_recipe(name), tmp.path());
    std::printf("  %-16s test accuracy %.4f (fp32 %.4f)\n", name.c_str(), r.eval_metric, fp32);
    EXPECT_FALSE(r.stopped) << name;
    EXPECT_GT(r.eval_metric, fp32 - 0.05) << name;
  }
}

// fp16 without loss scaling loses small gradients that fp16-amp keeps: with
// a loss whose gradient is scaled down by 2^-16 (a mean over a large batch),
// most of fc1's weight gradients fall below fp16's smallest subnormal
// (2^-24) in the fp16 wgrad GEMM and come out 0 without a scaler; with the
// GradScaler's 2^16 the same gradients survive. Counted over the elements
// whose fp32-recipe gradient is non-zero (ReLU units that are off for the
// whole batch have exactly-zero gradients in every recipe).
TEST(TrainPhenomena, Fp16WithoutLossScalingLosesSmallGradients) {
  const float tiny = 0x1p-16f;
  auto fc1_grad = [&](const Recipe& recipe, float dloss) {
    Mlp<float> model(MlpConfig{}, recipe);
    model.init(1);
    std::vector<float> x(32 * 64);
    std::vector<int32_t> y(32);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7919) % 17) / 16.0f;
    for (size_t i = 0; i < y.size(); ++i) y[i] = int32_t(i % 10);
    GemmRuntime rt(0);
    model.forward(rt, x, y);
    model.backward(rt, dloss);
    return model.parameters()[0].grad.data;  // fc1.weight
  };
  const Recipe amp = load_recipe("fp16-amp");
  const std::vector<float> reference = fc1_grad(load_recipe("fp32"), tiny);
  auto lost_fraction = [&](const std::vector<float>& g) {
    size_t nonzero = 0, lost = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      if (reference[i] == 0.0f) continue;
      ++nonzero;
      lost += g[i] == 0.0f;
    }
    EXPECT_GT(nonzero, g.size() / 4);
    return double(lost) / double(nonzero);
  };
  const double unscaled = lost_fraction(fc1_grad(amp, tiny));
  const double scaled = lost_fraction(fc1_grad(amp, tiny * amp.loss_scaling.init_scale));
  std::printf("  fc1 weight gradients lost to 0: %.3f without scaling, %.3f with S = 2^16\n", unscaled, scaled);
  EXPECT_GT(unscaled, 0.5);
  EXPECT_LT(scaled, 0.01);
}

// bf16 master weights with rne updates stall when lr is below half an ulp
// of the weights (AdamW's step is about lr per element); stochastic rounding
// and Kahan compensation keep the expected update and keep lowering the
// loss (docs/training.md, "Updates in low precision").
TEST(TrainPhenomena, Bf16RneStallsWhereSrAndKahanKeepImproving) {
  TrainConfig c = small_mlp(200);
  c.lr = 2e-5;
  c.min_lr = 2e-5;
  c.warmup_steps = 0;
  c.weight_decay = 0;
  c.eval_interval = 200;
  c.stats_interval = 0;
  TemporaryDirectory tmp;
  auto loss_drop = [&](const std::string& recipe) {
    const RunOutcome r = run_training(c, load_recipe(recipe), tmp.path());
    // mean loss of the first and last 20 steps (from metrics.csv)
    std::istringstream in(file_text(r.dir / "metrics.csv"));
    std::string line;
    std::getline(in, line);
    std::vector<double> losses;
    while (std::getline(in, line)) {
      const size_t a = line.find(',');
      losses.push_back(std::stod(line.substr(a + 1, line.find(',', a + 1) - a - 1)));
    }
    double first = 0, last = 0;
    for (size_t i = 0; i < 20; ++i) {
      first += losses[i];
      last += losses[losses.size() - 1 - i];
    }
    return (first - last) / 20;
  };
  const double fp32 = loss_drop("fp32");
  const double rne = loss_drop("bf16-pure-rne");
  const double sr = loss_drop("bf16-pure-sr");
  const double kahan = loss_drop("bf16-pure-kahan");
  std::printf("  loss drop over 200 steps: fp32 %.4f, bf16 rne %.4f, sr %.4f, kahan %.4f\n", fp32, rne, sr, kahan);
  EXPECT_GT(fp32, 0.05);
  EXPECT_LT(std::abs(rne), 0.2 * fp32);
  EXPECT_GT(sr, 0.5 * fp32);
  EXPECT_GT(kahan, 0.5 * fp32);
}

TEST(TrainBadInput, ABlockThatDoesNotDivideIsRefusedBeforeAnythingIsWritten) {
  TemporaryDirectory tmp;
  TrainConfig c = small_mlp(5);
  c.batch = 20;  // mxfp8's wgrad reduces over the batch in blocks of 32
  try {
    run_training(c, load_recipe("mxfp8"), tmp.path());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("32"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(TrainBadInput, ARunOfAnotherConfigurationIsNeverOverwritten) {
  TemporaryDirectory tmp;
  const RunOutcome r = run_training(small_mlp(10), load_recipe("fp32"), tmp.path());
  const std::string before = file_text(r.dir / "metrics.csv");
  TrainConfig other = small_mlp(10);
  other.lr = 5e-3;
  try {
    run_training(other, load_recipe("fp32"), tmp.path());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("(lr: '0.001' there, '0.005' here)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(file_text(r.dir / "metrics.csv"), before);
  // The same configuration again replaces the run.
  EXPECT_NO_THROW(run_training(small_mlp(10), load_recipe("fp32"), tmp.path()));
}

TEST(TrainBadInput, NonFiniteLossStopsTheRunAndWritesItsFiles) {
  TemporaryDirectory tmp;
  TrainConfig c = small_mlp(30);
  c.lr = 1e30;
  c.min_lr = 1e30;
  c.clip = 0;
  const RunOutcome r = run_training(c, load_recipe("fp32"), tmp.path());
  ASSERT_TRUE(r.stopped);
  const nlohmann::json summary = nlohmann::json::parse(file_text(r.dir / "summary.json"));
  EXPECT_EQ(summary["status"], "stopped");
  EXPECT_EQ(summary["stopped_at_step"], *r.stopped_at);
  EXPECT_LT(*r.stopped_at, 30u);
  EXPECT_TRUE(fs::exists(r.dir / "params_final.safetensors"));
}

// ---- the fpsim binary ---------------------------------------------------------------------------------------

using test::run_fpsim;
using Result = test::CommandResult;

TEST(TrainCommand, RunsAndPrintsPlainProgressWhenStderrIsNotATerminal) {
  TemporaryDirectory tmp;
  const Result r = run_fpsim("train --model mlp --recipe bf16-amp --steps 20 --set data=synthetic --out " +
                                 tmp.path() + "/runs",
                             tmp.path());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, tmp.path() + "/runs/mlp-bf16-amp-s0-d0\n");
  EXPECT_NE(r.err.find("step 20/20  loss "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
}

TEST(TrainCommand, BadInputExitsTwoAndWritesNothing) {
  TemporaryDirectory tmp;
  const std::string out = " --out " + tmp.path() + "/runs";
  struct Case {
    std::string args, message;
  } cases[] = {
      {"train --recipe fp64-magic" + out, "fpsim train: unknown recipe 'fp64-magic'"},
      {"train --model resnet --recipe fp32" + out, "unknown model 'resnet'; known models: mlp, gpt"},
      {"train --recipe fp32 --set stpes=3" + out, "unknown key 'stpes'; known keys: model, data, steps"},
      {"train --recipe fp32 --set lr=fast" + out, "--set lr: expected a finite number"},
      {"train --recipe mxfp8 --set data=synthetic --set batch=20" + out, "32"},
  };
  for (const Case& c : cases) {
    const Result r = run_fpsim(c.args, tmp.path());
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(tmp.path() + "/runs")) << c.args;
  }
}

TEST(TrainCommand, StoppedRunExitsOne) {
  TemporaryDirectory tmp;
  const Result r = run_fpsim("train --recipe fp32 --steps 30 --set data=synthetic --set lr=1e30 --set min_lr=1e30 "
                             "--set clip=0 --out " + tmp.path(),
                             tmp.path());
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("fpsim train: stopped at step"), std::string::npos) << r.err;
}

// A full disk during a write: the file-size limit makes every write past a
// few kilobytes fail (EFBIG, SIGXFSZ ignored) as ENOSPC would. The run fails
// with status 1 and leaves no half-written file: each result file is absent
// or whole, and no temporary file remains.
TEST(TrainCommand, AFullDiskLeavesNoHalfWrittenFile) {
  TemporaryDirectory tmp;
  const Result r = run_fpsim("train --recipe fp32 --steps 40 --set data=synthetic --out " + tmp.path() + "/runs",
                             tmp.path(), "trap \"\" XFSZ; ulimit -f 100; exec ");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("fpsim train: "), std::string::npos) << r.err;
  const fs::path dir = fs::path(tmp.path()) / "runs" / "mlp-fp32-s0-d0";
  ASSERT_TRUE(fs::exists(dir));
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    EXPECT_NE(name[0], '.') << "temporary file left: " << name;
    if (name.ends_with(".safetensors")) {
      EXPECT_NO_THROW(read_safetensors(e.path().string())) << name;
    }
    if (name == "summary.json") {
      EXPECT_TRUE(nlohmann::json::accept(file_text(e.path()))) << name;
    }
  }
}


// ---- checkpoints (docs/training.md, "Checkpoints") ------------------------------

struct Interrupted {};

// Runs until the progress callback of step `stop_at` throws, leaving the run
// directory as a killed process would after its last checkpoint.
void run_until(const TrainConfig& c, const Recipe& r, const fs::path& out, uint64_t every, uint64_t stop_at) {
  RunOptions o;
  o.checkpoint_every = every;
  o.progress = [stop_at](uint64_t step, uint64_t, double, double) {
    if (step == stop_at) throw Interrupted{};
  };
  EXPECT_THROW(run_training(c, r, out, o), Interrupted);
}

RunOutcome run_with_checkpoints(const TrainConfig& c, const Recipe& r, const fs::path& out, uint64_t every) {
  RunOptions o;
  o.checkpoint_every = every;
  return run_training(c, r, out, o);
}

// Every built-in recipe: a run interrupted after step 17 (its last
// checkpoint after step 15) and run again ends with the files of a run that
// was never interrupted, and a run that writes checkpoints with those of one
// that does not.
TEST(TrainCheckpoint, ResumedRunEqualsAnUninterruptedOneForEveryRecipe) {
  TrainConfig c = small_mlp(40);
  c.stats_interval = 5;
  for (const std::string& name : builtin_recipe_names()) {
    SCOPED_TRACE(name);
    const Recipe recipe = load_recipe(name);
    TemporaryDirectory plain, checkpointed, resumed;
    const RunOutcome reference = run_training(c, recipe, plain.path());
    const RunOutcome with = run_with_checkpoints(c, recipe, checkpointed.path(), 5);
    EXPECT_FALSE(with.resumed_from);
    EXPECT_EQ(run_files(with.dir), run_files(reference.dir));
    run_until(c, recipe, resumed.path(), 5, 17);
    const fs::path dir = fs::path(resumed.path()) / run_id(c, recipe);
    ASSERT_TRUE(fs::exists(dir / kCheckpointFileName));
    EXPECT_EQ(read_checkpoint(dir / kCheckpointFileName).steps_done, 15u);
    const RunOutcome r = run_with_checkpoints(c, recipe, resumed.path(), 5);
    EXPECT_EQ(r.resumed_from, std::optional<uint64_t>(15));
    EXPECT_EQ(run_files(r.dir), run_files(reference.dir));  // the checkpoint is gone too
    EXPECT_EQ(r.final_loss, reference.final_loss);
  }
}

// The state that only shows after many steps: a loss scaler that backs off
// and grows every 3 steps, amax histories shorter than the run (so the
// restored history decides the scale), SGD's momentum with Kahan buffers,
// the gpt's attention and tied head; several interruptions in a row,
// checkpoint intervals changed between them, and one run continued without
// writing checkpoints.
TEST(TrainCheckpoint, ResumeKeepsScalerHistoriesMomentumAndKahanState) {
  Recipe amp = load_recipe("fp16-amp");
  amp.name = "fp16-amp-fast-growth";
  amp.loss_scaling.init_scale = 1.6777216e7f;  // 2^24: the first steps overflow and back off
  amp.loss_scaling.growth_interval = 3;
  Recipe delayed = load_recipe("fp8-delayed");
  delayed.name = "fp8-delayed-history-3";
  for (GemmPolicy* p : {&delayed.fprop, &delayed.dgrad, &delayed.wgrad})
    for (OperandPolicy* o : {&p->a, &p->b}) o->amax_history_len = 3;
  TrainConfig sgd = small_mlp(40);
  sgd.optimizer = OptimizerKind::sgd;
  sgd.lr = 0.05;
  struct Case {
    TrainConfig config;
    Recipe recipe;
  };
  const std::vector<Case> cases = {{small_mlp(40), amp},
                                   {small_mlp(40), delayed},
                                   {sgd, load_recipe("bf16-pure-kahan")},
                                   {sgd, load_recipe("bf16-pure-sr")},
                                   {small_gpt(20), delayed},
                                   {small_gpt(20), load_recipe("bf16-pure-kahan")},
                                   {small_gpt(20), load_recipe("nvfp4")}};
  for (const Case& k : cases) {
    SCOPED_TRACE(k.config.model + " " + k.recipe.name);
    TemporaryDirectory plain, resumed;
    const RunOutcome reference = run_training(k.config, k.recipe, plain.path());
    if (k.recipe.name == amp.name) {  // the scaler did back off and grow in this run
      const std::string m = file_text(reference.dir / "metrics.csv");
      EXPECT_NE(m.find(",1,"), std::string::npos) << "no skipped step";
    }
    run_until(k.config, k.recipe, resumed.path(), 4, 6);  // checkpoint after 4
    run_until(k.config, k.recipe, resumed.path(), 3, 11);  // continues from 4; checkpoints after 6, 9
    const fs::path dir = fs::path(resumed.path()) / run_id(k.config, k.recipe);
    EXPECT_EQ(read_checkpoint(dir / kCheckpointFileName).steps_done, 9u);
    const RunOutcome r = run_training(k.config, k.recipe, resumed.path());  // no new checkpoints
    EXPECT_EQ(r.resumed_from, std::optional<uint64_t>(9));
    EXPECT_EQ(run_files(r.dir), run_files(reference.dir));
  }
}

TEST(TrainCheckpoint, DamagedCheckpointIsRefusedNamingItAndNothingChanges) {
  TemporaryDirectory tmp;
  const TrainConfig c = small_mlp(30);
  const Recipe recipe = load_recipe("bf16-pure-kahan");
  run_until(c, recipe, tmp.path(), 5, 12);
  const fs::path dir = fs::path(tmp.path()) / run_id(c, recipe);
  const fs::path path = dir / kCheckpointFileName;
  std::string bytes = file_text(path);
  bytes[bytes.size() - 100] ^= 0x01;  // one bit of a tensor
  std::ofstream(path, std::ios::binary) << bytes;
  const auto before = run_files(dir);
  try {
    run_training(c, recipe, tmp.path());
    ADD_FAILURE() << "a damaged checkpoint was used";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not match its checksum"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("remove it to run from step 1"), std::string::npos) << e.what();
  }
  EXPECT_EQ(run_files(dir), before);
  // Truncated: not a safetensors file any more.
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_THROW(run_training(c, recipe, tmp.path()), DataError);
  // Removed, as the message says: the run starts from step 1 and ends as an uninterrupted one.
  fs::remove(path);
  TemporaryDirectory plain;
  EXPECT_EQ(run_files(run_training(c, recipe, tmp.path()).dir), run_files(run_training(c, recipe, plain.path()).dir));
}

TEST(TrainCheckpoint, CheckpointOfAnotherRunIsRefused) {
  TemporaryDirectory tmp;
  TrainConfig seed0 = small_mlp(30), seed1 = small_mlp(30);
  seed1.seed = 1;
  const Recipe recipe = load_recipe("fp32");
  run_until(seed0, recipe, tmp.path(), 5, 12);
  run_until(seed1, recipe, tmp.path(), 5, 12);
  fs::copy_file(fs::path(tmp.path()) / run_id(seed1, recipe) / kCheckpointFileName,
                fs::path(tmp.path()) / run_id(seed0, recipe) / kCheckpointFileName, fs::copy_options::overwrite_existing);
  try {
    run_training(seed0, recipe, tmp.path());
    ADD_FAILURE() << "another run's checkpoint was used";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint of another configuration"), std::string::npos) << e.what();
  }
}

TEST(TrainCheckpoint, WritersStrayTemporariesAreRemovedOnRestart) {
  TemporaryDirectory tmp, plain;
  const TrainConfig c = small_mlp(30);
  const Recipe recipe = load_recipe("fp32");
  run_until(c, recipe, tmp.path(), 5, 12);
  const fs::path dir = fs::path(tmp.path()) / run_id(c, recipe);
  std::ofstream(dir / ".metrics.csv.fpsim-tmp.4242.3") << "half a file";
  std::ofstream(dir / ".notes") << "the user's own hidden file";
  const RunOutcome r = run_training(c, recipe, tmp.path());
  EXPECT_FALSE(fs::exists(dir / ".metrics.csv.fpsim-tmp.4242.3"));
  EXPECT_TRUE(fs::exists(dir / ".notes"));
  fs::remove(dir / ".notes");
  EXPECT_EQ(run_files(r.dir), run_files(run_training(c, recipe, plain.path()).dir));
}

TEST(TrainCheckpoint, FileFieldsRoundTripAndBadFilesAreRefused) {
  RunCheckpoint c;
  c.identity = {{"steps", "40"}, {"recipe", "x"}};
  c.steps_done = 15;
  c.loop_seconds = 0.1;
  c.final_loss = 2.302585092994046;
  c.last_eval = std::nan("");
  c.loss_scale = 32768.0f;
  c.growth_tracker = 7;
  c.delayed = {{"fc1", "x", 4.48f, {100.0f, 0.0f}}, {"fc,2", "dy", 1.0f, {}}};
  c.metrics_csv = "step,loss\n1,2.5\n";
  c.quant_stats_csv = "";
  const std::vector<float> w = {1.0f, -0.0f, 1e-45f};
  c.state.tensors["param/fc1.weight"] = stored_tensor({3}, w);
  c.state.metadata["optimizer/steps"] = "15";
  const std::string bytes = checkpoint_bytes(c);
  const RunCheckpoint back = parse_checkpoint(bytes, "ck");
  EXPECT_EQ(back.identity, c.identity);
  EXPECT_EQ(back.steps_done, 15u);
  EXPECT_EQ(back.loop_seconds, 0.1);
  EXPECT_EQ(back.final_loss, c.final_loss);
  EXPECT_TRUE(std::isnan(back.last_eval));
  EXPECT_EQ(back.loss_scale, 32768.0f);
  EXPECT_EQ(back.growth_tracker, 7);
  ASSERT_EQ(back.delayed.size(), 2u);
  EXPECT_EQ(back.delayed[0].layer, "fc1");
  EXPECT_EQ(back.delayed[0].multiplier, 4.48f);
  EXPECT_EQ(back.delayed[0].history, (std::vector<float>{100.0f, 0.0f}));
  EXPECT_EQ(back.delayed[1].layer, "fc,2");
  EXPECT_TRUE(back.delayed[1].history.empty());
  EXPECT_EQ(back.metrics_csv, c.metrics_csv);
  EXPECT_EQ(back.quant_stats_csv, "");
  EXPECT_EQ(back.state.tensors.at("param/fc1.weight").bytes, c.state.tensors.at("param/fc1.weight").bytes);
  EXPECT_EQ(back.state.metadata.at("optimizer/steps"), "15");
  // Another format version: refused, naming both.
  SafetensorsFile f = parse_safetensors(bytes, "ck");
  f.metadata["format_version"] = "2";
  try {
    parse_checkpoint(safetensors_bytes(f), "ck");
    ADD_FAILURE() << "version 2 accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("format version '2'; this fpsim writes version 1"), std::string::npos)
        << e.what();
  }
  f.metadata["format_version"] = "1";
  f.metadata.erase("loss_scale");
  EXPECT_THROW(parse_checkpoint(safetensors_bytes(f), "ck"), DataError);
  EXPECT_THROW(parse_checkpoint("not a checkpoint", "ck"), DataError);
}

}  // namespace
}  // namespace fpsim::experiments
