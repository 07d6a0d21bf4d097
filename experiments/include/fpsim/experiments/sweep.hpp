// Sweeps (docs/training.md, "Sweeps"): models × recipes × seeds, plus the
// FP32 noise-floor runs, run in parallel into one directory, resumable, and
// split into deterministic shards for a cluster. The directory layout:
//   DIR/sweep.toml   the sweep's configuration, canonical (its identity)
//   DIR/sweep.json   format, version, the configuration's SHA-256, the run list
//   DIR/runs/<id>/   one run each, exactly as `fpsim train` writes it
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/experiments/train_config.hpp"

namespace fpsim::experiments {

// What a sweep file says (sweep TOML, docs/training.md "Sweep files").
struct SweepConfig {
  std::string name = "sweep";
  std::vector<std::string> models;   // mlp, gpt
  std::vector<std::string> recipes;  // built-in names or recipe files; "fp32" must be one (the reference)
  std::vector<uint32_t> seeds;       // model seeds; every recipe runs each
  uint32_t data_seed = 0;            // the data order of every recipe run
  std::vector<uint32_t> noise_data_seeds;  // FP32 runs of each seed with these data orders: the noise floor
  uint64_t steps = 0;
  uint64_t eval_interval = 0;   // 0: the model's default
  uint64_t stats_interval = 0;  // 0: the model's default
  // Per model: run settings ("key" -> "value", any key of train_config_keys()
  // but model, seed and data_seed), in key order (a TOML table's keys have no order).
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> model_settings;
  // Each run writes a checkpoint every N steps (0: none; RunOptions). Not
  // part of the sweep's identity: it never changes a result, so it may
  // differ between a sweep and its restart, and sweep.toml leaves it out.
  uint64_t checkpoint_every = 0;
};

// One run of a sweep, in run-list order.
struct SweepRun {
  size_t index = 0;
  std::string id;  // run_id(): "<model>-<recipe>-s<seed>-d<data_seed>"
  std::string model, recipe;
  uint32_t seed = 0, data_seed = 0;
  std::string role;  // "recipe" or "noise_floor"
};

// Parses a sweep file's text; `source` names it in messages ("file:line:
// key: ..."). Throws ConfigError (unknown key or model, wrong type, a recipe
// list without fp32, empty lists, duplicates).
SweepConfig parse_sweep_config(std::string_view text, std::string_view source);
// Reads and parses a file (IoError when it cannot be read).
SweepConfig load_sweep_config(const std::filesystem::path& path);
// The built-in default sweep (experiments/configs/default.toml).
SweepConfig default_sweep_config();
std::filesystem::path default_sweep_config_path();

// Every setting but checkpoint_every as (key, canonical value), in the canonical file's order
// ("steps" -> "2000", "model.mlp.lr" -> "\"0.001\""): how two
// configurations are compared and their first difference named.
std::vector<std::pair<std::string, std::string>> sweep_config_entries(const SweepConfig& c);

// The canonical TOML of a configuration (what DIR/sweep.toml holds; parsing
// it gives the same configuration back).
std::string sweep_config_to_toml(const SweepConfig& c);

// The run list: for each model, seed and recipe (in the file's orders) the
// recipe run with data_seed; then for each model, seed and noise data seed
// the FP32 noise-floor run.
std::vector<SweepRun> sweep_runs(const SweepConfig& c);

// The full run configuration of one run (the model's defaults, the sweep's
// steps and intervals, the model's settings, the seeds). Throws ConfigError.
TrainConfig sweep_run_config(const SweepConfig& c, const SweepRun& run);

// Shard i of n, 0 <= i < n (as `fpsim verify --shard i/n` and a Slurm
// array's SLURM_ARRAY_TASK_ID count): the runs whose index mod n is i.
struct Shard {
  uint64_t index = 0, count = 1;
};
bool in_shard(const SweepRun& run, Shard shard);

// What a sweep reports while it runs: called (under a lock, from worker
// threads) when a run starts, after each of its steps and when it ends.
struct SweepEvent {
  // started: step 0 when a run is taken up; again with the checkpoint's step
  // when it continues from one.
  enum class Kind : uint8_t { started, step, finished, skipped, failed } kind;
  const SweepRun* run = nullptr;
  uint64_t step = 0, steps = 0;
  double loss = 0.0;
  std::string status;  // finished: done | stopped; skipped: the status found; failed: the message
};
using SweepProgressFn = std::function<void(const SweepEvent&)>;

struct SweepOptions {
  std::filesystem::path out;
  unsigned jobs = 1;  // runs at once, one thread each
  Shard shard;
  SweepProgressFn progress;
};

struct SweepOutcome {
  size_t total = 0;    // runs in the sweep
  size_t in_shard = 0;
  size_t ran = 0, skipped = 0, stopped = 0, failed = 0;
  std::vector<std::string> failures;  // "<id>: <message>"
  std::exception_ptr first_failure;   // the first run's exception, for the caller to rethrow
};

// Runs the sweep's runs of this shard into opts.out. A directory that holds
// a sweep of another configuration is refused, naming the first setting
// that differs (ConfigError, nothing written); so is a non-empty directory
// that is not a sweep, and a sweep directory of another format version.
// Runs whose summary.json says done or stopped are skipped; the others
// (missing, or interrupted: status running) run from their first step, or
// from their checkpoint when they hold one (run_training).
// A run that throws (data missing, a run directory of another
// configuration, a full disk) stops the sweep from starting more runs; the
// running ones finish, and the outcome holds the failure.
SweepOutcome run_sweep(const SweepConfig& c, const SweepOptions& opts);

// The run list and identity a sweep directory records (DIR/sweep.json).
struct SweepDirectory {
  std::string name;
  std::string config_sha256;
  uint64_t steps = 0;
  std::vector<SweepRun> runs;
};
// Reads and checks DIR/sweep.json (fpsim sweep before writing into a
// directory, fpsim report before reading one): ConfigError "DIR/sweep.json:
// not a sweep directory of this fpsim (...)" when it is missing, not JSON,
// or of another format or version; "DIR/sweep.json: runs[i]: ..." naming a
// field that is missing, of the wrong type or out of range, an id that is not
// one directory name or is listed twice, a role other than recipe and
// noise_floor, indices out of order.
SweepDirectory read_sweep_directory(const std::filesystem::path& dir);

constexpr int kSweepFormatVersion = 1;

}  // namespace fpsim::experiments
