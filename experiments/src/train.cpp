// The step loop (docs/training.md, "The step loop"). One step reads top to
// bottom: batch -> forward -> loss -> backward -> loss-scale check ->
// clipping -> optimizer update -> metrics. Nothing here branches on a
// recipe's name: only on its fields (loss scaling) through the parts that
// read them.
#include "fpsim/experiments/train.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "fpsim/experiments/checkpoint.hpp"
#include "fpsim/experiments/data_order.hpp"
#include "fpsim/experiments/datasets.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/grad_scaler.hpp"
#include "fpsim/experiments/lr_schedule.hpp"
#include "fpsim/experiments/models/gpt.hpp"
#include "fpsim/experiments/models/mlp.hpp"
#include "fpsim/experiments/optimizer.hpp"
#include "fpsim/experiments/results.hpp"
#include "fpsim/experiments/safetensors.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/io/output_file.hpp"
#include "fpsim/quoted_text.hpp"

#ifndef FPSIM_VERSION
#define FPSIM_VERSION "unknown"
#endif
#ifndef FPSIM_GIT_COMMIT
#define FPSIM_GIT_COMMIT "unknown"
#endif

namespace fpsim::experiments {

namespace {

// Synthetic data (data = synthetic: tests, no files) is generated from this
// fixed seed: the data seed orders batches, it never changes the data.
constexpr uint32_t kSyntheticDataSeed = 20261205;
constexpr size_t kSyntheticDigitsRows = 1000;
constexpr size_t kSyntheticTextChars = 20000;

// A model and its data behind the loop's five questions.
class RunModel {
 public:
  virtual ~RunModel() = default;
  virtual std::vector<Parameter<float>>& parameters() = 0;
  virtual float forward(GemmRuntime& rt, uint64_t step) = 0;  // the mean loss of step's batch
  virtual void backward(GemmRuntime& rt, float dloss) = 0;
  virtual double evaluate(const GemmRuntime& rt) = 0;  // on a copy of the runtime: no state changes
  virtual const char* eval_metric_name() const = 0;
  virtual StoredTensor data_order() const = 0;
  virtual nlohmann::json data_description() const = 0;
};

class MlpRun final : public RunModel {
 public:
  MlpRun(const TrainConfig& c, const Recipe& recipe, ClassificationData data)
      : data_(std::move(data)),
        config_(with_data_sizes(c.mlp, data_)),
        model_(config_, recipe),
        batch_(c.batch),
        order_(mlp_batch_order(c.data_seed, data_.train_size(), c.batch, c.steps)),
        steps_(c.steps) {
    model_.init(c.seed);
  }
  std::vector<Parameter<float>>& parameters() override { return model_.parameters(); }
  float forward(GemmRuntime& rt, uint64_t step) override {
    x_.resize(batch_ * data_.features);
    y_.resize(batch_);
    for (size_t i = 0; i < batch_; ++i) {
      const size_t row = size_t(order_[step * batch_ + i]);
      std::copy_n(data_.train_x.begin() + ptrdiff_t(row * data_.features), data_.features,
                  x_.begin() + ptrdiff_t(i * data_.features));
      y_[i] = data_.train_y[row];
    }
    return model_.forward(rt, x_, y_);
  }
  void backward(GemmRuntime& rt, float dloss) override { model_.backward(rt, dloss); }
  // Test accuracy: the whole test set in one forward pass.
  double evaluate(const GemmRuntime& rt) override {
    GemmRuntime eval = rt;
    eval.collect_stats = false;
    Mlp<float> scratch = model_;
    scratch.forward(eval, data_.test_x, data_.test_y);
    const std::vector<int32_t> predicted = scratch.predictions();
    size_t correct = 0;
    for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == data_.test_y[i];
    return double(correct) / double(predicted.size());
  }
  const char* eval_metric_name() const override { return "test_accuracy"; }
  StoredTensor data_order() const override { return stored_tensor({steps_, batch_}, order_); }
  nlohmann::json data_description() const override {
    return {{"train_rows", data_.train_size()},
            {"test_rows", data_.test_size()},
            {"features", data_.features},
            {"classes", data_.classes},
            {"data_order", "row indices into the training set, [steps, batch]"}};
  }

 private:
  static MlpConfig with_data_sizes(MlpConfig m, const ClassificationData& d) {
    m.inputs = d.features;
    m.classes = d.classes;
    return m;
  }
  ClassificationData data_;
  MlpConfig config_;
  Mlp<float> model_;
  size_t batch_;
  std::vector<int32_t> order_;
  uint64_t steps_;
  std::vector<float> x_;
  std::vector<int32_t> y_;
};

class GptRun final : public RunModel {
 public:
  GptRun(const TrainConfig& c, const Recipe& recipe, TextData data)
      : data_(std::move(data)),
        config_(with_vocab(c.gpt, data_)),
        model_(config_, recipe),
        batch_(c.batch),
        order_(gpt_window_offsets(c.data_seed, data_.train.size(), config_.context, c.batch, c.steps)),
        val_(gpt_val_offsets(data_.val.size(), config_.context, c.eval_batches * c.batch)),
        steps_(c.steps) {
    model_.init(c.seed);
  }
  std::vector<Parameter<float>>& parameters() override { return model_.parameters(); }
  float forward(GemmRuntime& rt, uint64_t step) override {
    windows(data_.train, std::span<const int32_t>(order_).subspan(step * batch_, batch_));
    return model_.forward(rt, tokens_, targets_, batch_);
  }
  void backward(GemmRuntime& rt, float dloss) override { model_.backward(rt, dloss); }
  // Validation loss: the mean, in double, of the batch losses over the
  // fixed validation windows, `batch` windows per forward pass.
  double evaluate(const GemmRuntime& rt) override {
    GemmRuntime eval = rt;
    eval.collect_stats = false;
    Gpt<float> scratch = model_;
    double sum = 0;
    const size_t batches = val_.size() / batch_;
    for (size_t b = 0; b < batches; ++b) {
      windows(data_.val, std::span<const int32_t>(val_).subspan(b * batch_, batch_));
      sum += double(scratch.forward(eval, tokens_, targets_, batch_));
    }
    return sum / double(batches);
  }
  const char* eval_metric_name() const override { return "val_loss"; }
  StoredTensor data_order() const override { return stored_tensor({steps_, batch_}, order_); }
  nlohmann::json data_description() const override {
    return {{"train_tokens", data_.train.size()},
            {"val_tokens", data_.val.size()},
            {"vocab", data_.vocab},
            {"vocab_chars", data_.vocab_chars},
            {"val_windows", val_.size()},
            {"data_order", "window offsets into the training tokens, [steps, batch]"}};
  }

 private:
  static GptConfig with_vocab(GptConfig g, const TextData& d) {
    g.vocab = d.vocab;
    return g;
  }
  void windows(const std::vector<int32_t>& text, std::span<const int32_t> offsets) {
    const size_t T = config_.context;
    tokens_.resize(offsets.size() * T);
    targets_.resize(offsets.size() * T);
    for (size_t b = 0; b < offsets.size(); ++b) {
      const size_t o = size_t(offsets[b]);
      std::copy_n(text.begin() + ptrdiff_t(o), T, tokens_.begin() + ptrdiff_t(b * T));
      std::copy_n(text.begin() + ptrdiff_t(o + 1), T, targets_.begin() + ptrdiff_t(b * T));
    }
  }
  TextData data_;
  GptConfig config_;
  Gpt<float> model_;
  size_t batch_;
  std::vector<int32_t> order_, val_;
  uint64_t steps_;
  std::vector<int32_t> tokens_, targets_;
};

std::unique_ptr<RunModel> make_run_model(const TrainConfig& c, const Recipe& recipe) {
  const bool synthetic = c.data == "synthetic";
  if (c.model == "mlp") {
    ClassificationData d = synthetic ? synthetic_digits(kSyntheticDataSeed, kSyntheticDigitsRows) : load_digits();
    return std::make_unique<MlpRun>(c, recipe, std::move(d));
  }
  TextData d = synthetic ? synthetic_text(kSyntheticDataSeed, kSyntheticTextChars) : load_devil();
  return std::make_unique<GptRun>(c, recipe, std::move(d));
}

// The configuration that identifies a run: every run setting and the
// resolved recipe. A directory holding a run with another one is refused.
nlohmann::json run_identity(const TrainConfig& c, const Recipe& recipe) {
  nlohmann::json id;
  for (const auto& [key, value] : train_config_entries(c)) id[key] = value;
  id["recipe"] = recipe.name;
  id["recipe_toml"] = recipe_to_toml(recipe);
  return id;
}

// Refuses `dir` when it holds files but no summary.json of a run with the
// same identity.
void check_run_dir(const std::filesystem::path& dir, const nlohmann::json& identity) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw ConfigError(quoted_text(dir.string()) + " exists and is not a directory");
  }
  const std::filesystem::path summary = dir / "summary.json";
  if (!std::filesystem::exists(summary, ec)) {
    if (std::filesystem::directory_iterator(dir, ec) == std::filesystem::directory_iterator()) return;
    throw ConfigError(quoted_text(dir.string()) + " holds files but no summary.json: not overwriting it");
  }
  nlohmann::json old;
  try {
    old = nlohmann::json::parse(io::read_input_file(summary.string()));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(quoted_text(summary.string()) + " is not JSON (" + escaped_text(e.what()) + "): not overwriting the run");
  }
  const auto it = old.find("config");
  if (it == old.end() || !it->is_object()) {
    throw ConfigError(quoted_text(summary.string()) + " has no \"config\": not overwriting the run");
  }
  // Settings are strings (train_config_entries); anything else was not
  // written by fpsim and is shown as its JSON.
  auto shown = [](const nlohmann::json& v) { return quoted_text(v.is_string() ? v.get<std::string>() : v.dump(), 40); };
  for (const auto& [key, value] : identity.items()) {
    const auto there = it->find(key);
    if (there == it->end() || *there != value) {
      const std::string was = there == it->end() ? std::string("absent") : shown(*there);
      throw ConfigError(quoted_text(dir.string()) + " holds a run of another configuration (" + key + ": " + was +
                        " there, " + shown(value) + " here); choose another --out or remove it");
    }
  }
}

SafetensorsFile parameters_file(const std::vector<Parameter<float>>& params, const Recipe& recipe) {
  SafetensorsFile f;
  for (const Parameter<float>& p : params) {
    std::vector<uint64_t> shape(p.value.shape.begin(), p.value.shape.end());
    f.tensors[p.name] = stored_tensor(std::move(shape), p.value.span());
  }
  f.metadata["format"] = "pt";
  f.metadata["master_format"] = recipe.master_format.name;
  f.metadata["note"] = "F32 tensors hold values of master_format exactly; lm_head.weight is transformer.wte.weight";
  return f;
}

// A run killed while replacing one of its files may have left the writer's
// named temporary (fpsim::io): the restarted run owns the directory and
// removes it.
void remove_stray_temporaries(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (io::is_temporary_name(entry.path().filename().string())) std::filesystem::remove(entry.path(), ec);
}

// The checkpoint of an interrupted run of this configuration, if the
// directory holds one.
std::optional<RunCheckpoint> saved_checkpoint(const std::filesystem::path& dir, const nlohmann::json& identity,
                                              uint64_t steps) {
  const std::filesystem::path path = dir / kCheckpointFileName;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  RunCheckpoint c = read_checkpoint(path);
  if (c.identity != identity)
    throw DataError(quoted_text(path.string(), 4096) +
                    " is the checkpoint of another configuration than its run's summary.json; remove it to run "
                    "from step 1");
  if (c.steps_done == 0 || c.steps_done >= steps)
    throw DataError(quoted_text(path.string(), 4096) + " is a checkpoint after step " + std::to_string(c.steps_done) +
                    " of a run of " + std::to_string(steps) + " steps; remove it to run from step 1");
  return c;
}

// The parameters a checkpoint holds, copied into the model's tensors.
void restore_parameters(const SafetensorsFile& state, std::vector<Parameter<float>>& params,
                        const std::filesystem::path& path) {
  size_t stored = 0;
  for (const auto& [key, t] : state.tensors) stored += key.rfind("param/", 0) == 0;
  if (stored != params.size())
    throw DataError(quoted_text(path.string(), 4096) + " holds " + std::to_string(stored) + " parameters, the model " +
                    std::to_string(params.size()) + "; remove it to run from step 1");
  for (Parameter<float>& p : params) {
    const auto it = state.tensors.find("param/" + p.name);
    if (it == state.tensors.end() ||
        !std::equal(it->second.shape.begin(), it->second.shape.end(), p.value.shape.begin(), p.value.shape.end()) ||
        it->second.dtype != StoredDtype::f32)
      throw DataError(quoted_text(path.string(), 4096) + " has no F32 parameter " + p.name +
                      " of the model's shape; remove it to run from step 1");
    p.value.data = values_f32(it->second);
  }
}

bool all_finite(const std::vector<Parameter<float>>& params) {
  for (const Parameter<float>& p : params) {
    for (const float g : p.grad.data) {
      if (!std::isfinite(g)) return false;
    }
  }
  return true;
}

}  // namespace

std::string run_id(const TrainConfig& c, const Recipe& r) {
  return c.model + "-" + r.name + "-s" + std::to_string(c.seed) + "-d" + std::to_string(c.data_seed);
}

RunOutcome run_training(const TrainConfig& config, const Recipe& recipe, const std::filesystem::path& out_root,
                        const RunOptions& options) {
  validate_train_config(config);
  RunOutcome outcome;
  outcome.dir = out_root / run_id(config, recipe);
  const nlohmann::json identity = run_identity(config, recipe);
  check_run_dir(outcome.dir, identity);
  remove_stray_temporaries(outcome.dir);
  std::optional<RunCheckpoint> checkpoint = saved_checkpoint(outcome.dir, identity, config.steps);
  const std::filesystem::path checkpoint_path = outcome.dir / kCheckpointFileName;

  std::unique_ptr<RunModel> run = make_run_model(config, recipe);
  std::vector<Parameter<float>>& params = run->parameters();
  const SafetensorsFile params_init = parameters_file(params, recipe);

  std::vector<Param> opt_params;
  for (Parameter<float>& p : params) {
    opt_params.push_back(Param{p.name, &p.value, &p.grad, p.weight_decay, parameter_stream_id(p.name)});
  }
  const OptimizerNumerics numerics = optimizer_numerics(recipe, config.seed);
  std::unique_ptr<Optimizer> optimizer;
  if (config.optimizer == OptimizerKind::adamw) {
    optimizer = std::make_unique<AdamW>(
        opt_params, AdamWConfig{config.beta1, config.beta2, config.eps, config.weight_decay}, numerics);
  } else {
    optimizer =
        std::make_unique<Sgd>(opt_params, SgdConfig{config.momentum, 0.0, config.weight_decay, false}, numerics);
  }
  const LrSchedule schedule{config.lr, std::min(config.warmup_steps, config.steps), config.steps, config.min_lr};
  validate(schedule);
  GradScaler scaler(recipe.loss_scaling);
  GemmRuntime rt(config.seed);

  // The two CSV files' text, a line appended per row.
  std::string metrics_text = std::string(kMetricsHeader) + '\n';
  std::string quant_stats_text = std::string(kQuantStatsHeader) + '\n';
  nlohmann::json summary;
  summary["status"] = "running";
  summary["config"] = identity;
  summary["model"] = config.model;
  summary["recipe"] = recipe.name;
  summary["seed"] = config.seed;
  summary["data_seed"] = config.data_seed;
  summary["fpsim_version"] = FPSIM_VERSION;
  summary["git_commit"] = FPSIM_GIT_COMMIT;
  summary["data"] = run->data_description();
  summary["eval_metric_name"] = run->eval_metric_name();
  summary["parameters"] = [&] {
    size_t n = 0;
    for (const Parameter<float>& p : params) n += p.value.size();
    return n;
  }();

  // Seconds of the step loop, result-file writes excluded.
  double loop_seconds = 0;
  auto clock_start = std::chrono::steady_clock::now();
  auto stop_clock = [&] {
    loop_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
  };

  // Files are written once the first step has run: a recipe that cannot
  // apply to the model (a block that does not divide a dimension) fails in
  // the first GEMM, before anything exists on disk.
  bool files_started = false;
  auto write_files = [&](bool final_write) {
    if (!files_started) {
      std::filesystem::create_directories(outcome.dir);
      // summary.json (status running) first: a run killed at any later
      // moment leaves a directory that names its configuration, which a
      // restart (fpsim sweep's resume) recognises and replaces.
      summary["steps_done"] = outcome.steps_done;
      set_timing(summary, loop_seconds, outcome.steps_done);
      write_summary_json((outcome.dir / "summary.json").string(), summary);
      write_safetensors((outcome.dir / "params_init.safetensors").string(), params_init);
      SafetensorsFile order;
      order.tensors["data_order"] = run->data_order();
      order.metadata["model"] = config.model;
      write_safetensors((outcome.dir / "data_order.safetensors").string(), order);
      files_started = true;
    }
    io::write_output_file((outcome.dir / "metrics.csv").string(), metrics_text);
    io::write_output_file((outcome.dir / "quant_stats.csv").string(), quant_stats_text);
    if (final_write) {
      write_safetensors((outcome.dir / "params_final.safetensors").string(), parameters_file(params, recipe));
      // Before the final summary.json: a run that says done never holds a
      // checkpoint (one killed in between runs again from its last checkpoint or from step 1).
      std::error_code ec;
      std::filesystem::remove(checkpoint_path, ec);
      if (ec) throw IoError("cannot remove " + quoted_text(checkpoint_path.string()) + ": " + ec.message());
    }
    summary["steps_done"] = outcome.steps_done;
    set_timing(summary, loop_seconds, outcome.steps_done);
    write_summary_json((outcome.dir / "summary.json").string(), summary);
  };

  auto save_checkpoint = [&] {
    RunCheckpoint c;
    c.identity = identity;
    c.steps_done = outcome.steps_done;
    c.loop_seconds = loop_seconds;
    c.final_loss = outcome.final_loss;
    c.last_eval = outcome.eval_metric;
    c.loss_scale = scaler.scale();
    c.growth_tracker = scaler.growth_tracker();
    c.delayed = rt.delayed_state_records();
    c.metrics_csv = metrics_text;
    c.quant_stats_csv = quant_stats_text;
    for (const Parameter<float>& p : params)
      c.state.tensors["param/" + p.name] =
          stored_tensor(std::vector<uint64_t>(p.value.shape.begin(), p.value.shape.end()), p.value.span());
    optimizer->save_state(c.state);
    write_checkpoint(checkpoint_path, c);
  };

  outcome.eval_metric = NAN;
  uint64_t first_step = 0;
  if (checkpoint) {
    restore_parameters(checkpoint->state, params, checkpoint_path);
    optimizer->load_state(checkpoint->state);
    scaler.restore(checkpoint->loss_scale, checkpoint->growth_tracker);
    rt.restore_delayed_states(checkpoint->delayed);
    metrics_text = std::move(checkpoint->metrics_csv);
    quant_stats_text = std::move(checkpoint->quant_stats_csv);
    loop_seconds = checkpoint->loop_seconds;
    outcome.steps_done = first_step = checkpoint->steps_done;
    outcome.final_loss = checkpoint->final_loss;
    outcome.eval_metric = checkpoint->last_eval;
    outcome.resumed_from = checkpoint->steps_done;
    checkpoint.reset();
    if (options.resumed) options.resumed(first_step);
  }
  const ProgressFn& progress = options.progress;
  clock_start = std::chrono::steady_clock::now();
  for (uint64_t step = first_step; step < config.steps; ++step) {
    rt.step = uint32_t(step);
    // Statistics on step 1, every stats_interval steps and the last (steps
    // count from 1 in the result files; the SR key uses the 0-based step).
    rt.collect_stats = config.stats_interval != 0 &&
                       (step == 0 || (step + 1) % config.stats_interval == 0 || step + 1 == config.steps);
    rt.stats.clear();
    MetricsRow row;
    row.step = step + 1;
    row.lr = learning_rate(schedule, step);
    row.loss_scale = scaler.scale();

    const float loss = run->forward(rt, step);
    row.loss = loss;
    bool stop = !std::isfinite(loss);
    if (!stop) {
      run->backward(rt, scaler.scale());
      // AMP: non-finite gradients skip the step (GradScaler); without a
      // scaler they stop the run.
      const bool found_inf = scaler.enabled() ? scaler.unscale_and_check(opt_params) : !all_finite(params);
      row.grad_norm = config.clip > 0 ? clip_grad_norm(opt_params, config.clip) : global_grad_norm(opt_params);
      if (found_inf && !scaler.enabled()) {
        stop = true;
      } else {
        row.skipped = found_inf;
        if (!found_inf) optimizer->step(row.lr, uint32_t(step));
        scaler.update(found_inf);
      }
    }
    for (OperandStatsRow& r : rt.stats) {
      r.step = uint32_t(step + 1);
      append_quant_stats_line(quant_stats_text, r);
    }
    if (stop) {
      outcome.stopped = true;
      outcome.stopped_at = step + 1;
      append_metrics_line(metrics_text, row);
      break;
    }
    outcome.steps_done = step + 1;
    const bool last = step + 1 == config.steps;
    if (last || (step + 1) % config.eval_interval == 0) {
      outcome.eval_metric = run->evaluate(rt);
      row.eval_metric = outcome.eval_metric;
    }
    append_metrics_line(metrics_text, row);
    outcome.final_loss = loss;
    const bool checkpoint_now = options.checkpoint_every != 0 && !last && (step + 1) % options.checkpoint_every == 0;
    if (!files_started || row.eval_metric || checkpoint_now) {
      stop_clock();
      if (!files_started || row.eval_metric) write_files(false);
      if (checkpoint_now) save_checkpoint();
      clock_start = std::chrono::steady_clock::now();
    }
    if (progress) {
      const double elapsed =
          loop_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
      progress(step + 1, config.steps, loss, elapsed > 0 ? double(step + 1) / elapsed : 0.0);
    }
  }
  stop_clock();
  summary["status"] = outcome.stopped ? "stopped" : "done";
  if (outcome.stopped) {
    summary["stopped_at_step"] = *outcome.stopped_at;
    summary["stop_reason"] = "loss or gradients not finite";
  }
  summary["final_loss"] = outcome.final_loss;
  summary["final_eval_metric"] = outcome.eval_metric;
  write_files(true);
  outcome.wall_time_s = loop_seconds;
  return outcome;
}

}  // namespace fpsim::experiments
