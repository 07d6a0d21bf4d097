#include "train_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>

#include "command_errors.hpp"
#include "duration_text.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/train.hpp"
#include "fpsim/experiments/train_config.hpp"
#include "option_values.hpp"

namespace fpsim::cli {

namespace {

// "step 120/1000  loss 0.3456  312.5 steps/s  ETA 3s"
std::string progress_text(uint64_t step, uint64_t steps, double loss, double steps_per_s) {
  char buf[160];
  const double eta = steps_per_s > 0 ? double(steps - step) / steps_per_s : NAN;
  std::snprintf(buf, sizeof buf, "step %llu/%llu  loss %.4f  %.1f steps/s  ETA %s", (unsigned long long)step,
                (unsigned long long)steps, loss, steps_per_s, duration_text(eta).c_str());
  return buf;
}

}  // namespace

int run_train(const TrainOptions& o, std::ostream& out, std::ostream& err, bool err_is_terminal) {
  return exit_status_of("train", err, [&] {
    using namespace fpsim::experiments;
    TrainConfig config = default_train_config(o.model);
    if (o.steps) config.steps = *o.steps;
    if (o.seed) config.seed = uint32_t(*o.seed);
    if (o.data_seed) config.data_seed = uint32_t(*o.data_seed);
    for (const std::string& s : o.sets) set_train_option(config, s);
    if (config.model != o.model) {
      throw ConfigError("--set model=" + config.model + " contradicts --model " + o.model);
    }
    validate_train_config(config);
    const Recipe recipe = load_recipe(o.recipe);

    // A terminal gets one line redrawn in place; a file or pipe gets a plain
    // line every 5% of the run and at the end.
    const uint64_t every = std::max<uint64_t>(1, config.steps / 20);
    bool drew_live_line = false;
    ProgressFn progress = [&](uint64_t step, uint64_t steps, double loss, double steps_per_s) {
      if (err_is_terminal) {
        err << '\r' << progress_text(step, steps, loss, steps_per_s) << "\x1b[K" << std::flush;
        drew_live_line = true;
      } else if (step % every == 0 || step == steps) {
        err << progress_text(step, steps, loss, steps_per_s) << '\n';
      }
    };
    RunOptions run_options;
    run_options.progress = progress;
    run_options.checkpoint_every = o.checkpoint_every.value_or(0);
    run_options.resumed = [&](uint64_t step) {
      err << "fpsim train: continuing from the checkpoint after step " << step << '\n';
    };
    RunOutcome r;
    try {
      r = run_training(config, recipe, o.out, run_options);
    } catch (...) {
      if (drew_live_line) err << '\n';
      throw;
    }
    if (drew_live_line) err << '\n';
    if (r.stopped) {
      err << "fpsim train: stopped at step " << *r.stopped_at << ": the loss or the gradients are not finite; "
          << "files written to " << r.dir.string() << '\n';
      return 1;
    }
    out << r.dir.string() << '\n';
    if (!out) throw_stdout_failure();
    return 0;
  });
}

void add_train_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train one model under one precision recipe (docs/training.md) and write the run's files into "
      "OUT/<model>-<recipe>-s<seed>-d<data-seed>/: metrics.csv, quant_stats.csv, summary.json and the parameters "
      "and data order as safetensors. Prints the run directory. Exit status 1 when the run stops on NaN/inf.");
  cmd->add_option("--model", o->model, "mlp (UCI digits) or gpt (character-level, The Devil's Dictionary)")
      ->capture_default_str();
  cmd->add_option("--recipe", o->recipe, "a built-in recipe (fpsim recipes) or a recipe TOML file")->required();
  add_whole_number_option(cmd, "--steps", o->steps, 1, std::numeric_limits<uint32_t>::max(),
                          "training steps (default: the model's)");
  add_whole_number_option(cmd, "--seed", o->seed, 0, std::numeric_limits<uint32_t>::max(),
                          "model seed: initialisation and stochastic rounding (default 0)");
  add_whole_number_option(cmd, "--data-seed", o->data_seed, 0, std::numeric_limits<uint32_t>::max(),
                          "data-order seed (default 0)");
  cmd->add_option("--out", o->out, "parent directory of the run directory")->capture_default_str();
  cmd->add_option("--set", o->sets, "key=value: any run setting (docs/training.md, \"Run configuration\")");
  add_whole_number_option(cmd, "--checkpoint-every", o->checkpoint_every, 1, std::numeric_limits<uint32_t>::max(),
                          "write a checkpoint every N steps; the same command run again after an interruption "
                          "continues from it, bit-identically (docs/training.md, \"Checkpoints\")");
  cmd->callback([o, &exit_code] { exit_code = run_train(*o, std::cout, std::cerr, isatty(STDERR_FILENO) != 0); });
}

}  // namespace fpsim::cli
