// Sweeps: the sweep file, the run list, shards, and running a sweep into one
// directory with resume (docs/training.md, "Sweeps").
#include "fpsim/experiments/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <thread>

#include "fpsim/error.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/sha256.hpp"
#include "fpsim/experiments/train.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/io/output_file.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::experiments {
namespace {

namespace fs = std::filesystem;

nlohmann::json run_json(const SweepRun& r) {
  return nlohmann::json{{"data_seed", r.data_seed}, {"id", r.id},     {"index", r.index}, {"model", r.model},
                        {"recipe", r.recipe},       {"role", r.role}, {"seed", r.seed}};
}

// The status of the run's directory: "missing", or summary.json's status
// (run_training refuses a directory of another configuration when it runs).
std::string run_dir_status(const fs::path& dir) {
  std::error_code ec;
  const fs::path summary = dir / "summary.json";
  if (!fs::exists(summary, ec)) return "missing";
  try {
    const nlohmann::json j = nlohmann::json::parse(io::read_input_file(summary.string()));
    const auto it = j.find("status");
    return it != j.end() && it->is_string() ? it->get<std::string>() : "unknown";
  } catch (const nlohmann::json::exception&) {
    return "unreadable";
  }
}

// The first setting in which two configurations differ, as "key: A there,
// B here" (empty when they are the same).
std::string first_difference(const SweepConfig& there, const SweepConfig& here) {
  const auto a = sweep_config_entries(there), b = sweep_config_entries(here);
  const std::map<std::string, std::string> am(a.begin(), a.end()), bm(b.begin(), b.end());
  for (const auto& [k, v] : b)  // in this configuration's order, then the keys only the other has
    if (const auto it = am.find(k); it == am.end() || it->second != v)
      return k + ": " + (it == am.end() ? std::string("absent") : it->second) + " there, " + v + " here";
  for (const auto& [k, v] : a)
    if (bm.count(k) == 0) return k + ": " + v + " there, absent here";
  return "";
}

// Whether a directory entry is one a sweep (or a shard creating the same
// sweep at this moment) writes: runs/, sweep.toml, sweep.json, or the
// writer's hidden temporary files.
bool sweep_entry(const fs::path& name) {
  const std::string n = name.string();
  return n == "runs" || n == "sweep.toml" || n == "sweep.json" || (n.size() > 1 && n[0] == '.');
}

// Prepares opts.out. Shards of one sweep may start at the same moment in one
// directory: each writes the same bytes, atomically, sweep.toml before
// sweep.json, so a shard may find either, both or neither. Refused: another
// configuration (naming the first difference), another format version, a
// directory holding anything else.
void prepare_directory(const SweepConfig& c, const std::vector<SweepRun>& runs, const fs::path& dir) {
  std::error_code ec;
  const std::string toml_text = sweep_config_to_toml(c);
  const fs::path toml_path = dir / "sweep.toml", json_path = dir / "sweep.json";
  nlohmann::json j;
  j["format"] = "fpsim-sweep";
  j["format_version"] = kSweepFormatVersion;
  j["name"] = c.name;
  j["config_sha256"] = sha256_hex(toml_text);
  j["steps"] = c.steps;
  j["runs"] = nlohmann::json::array();
  for (const SweepRun& r : runs) j["runs"].push_back(run_json(r));
  const std::string json_text = j.dump(2) + "\n";

  bool have_toml = false, have_json = false;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw ConfigError(quoted_text(dir.string()) + " exists and is not a directory");
    have_json = fs::exists(json_path, ec);
    have_toml = fs::exists(toml_path, ec);
    if (have_json) (void)read_sweep_directory(dir);  // refuses another format version
    if (!have_json && !have_toml)
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (!sweep_entry(e.path().filename()))
          throw ConfigError(quoted_text(dir.string()) +
                            " is not empty and is not a sweep directory (no sweep.json): not writing into it");
    if (have_toml) {
      const std::string there = io::read_input_file(toml_path.string());
      if (there != toml_text) {
        SweepConfig old;
        try {
          old = parse_sweep_config(there, toml_path.string());
        } catch (const ConfigError& e) {
          throw ConfigError(quoted_text(dir.string()) + " holds a sweep whose sweep.toml does not parse (" + e.what() +
                            "): not writing into it");
        }
        std::string diff = first_difference(old, c);
        if (diff.empty()) diff = "sweep.toml written by another fpsim version";
        throw ConfigError(quoted_text(dir.string()) + " holds a sweep of another configuration (" + diff +
                          "); choose another --out or remove it");
      }
    }
    if (have_json && io::read_input_file(json_path.string()) != json_text)
      throw ConfigError(quoted_text(json_path.string()) +
                        " does not match this configuration's run list (written by another fpsim version?): "
                        "not writing into it");
  }
  fs::create_directories(dir / "runs", ec);
  if (ec) throw IoError("cannot create " + quoted_text((dir / "runs").string()) + ": " + ec.message());
  if (!have_toml) io::write_output_file(toml_path.string(), toml_text);
  if (!have_json) io::write_output_file(json_path.string(), json_text);
}

}  // namespace

SweepDirectory read_sweep_directory(const fs::path& dir) {
  const fs::path path = dir / "sweep.json";
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw ConfigError(quoted_text(dir.string()) + " is not a sweep directory (no sweep.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_input_file(path.string()));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(quoted_text(path.string()) + " is not JSON (" + e.what() + "): not a sweep directory");
  }
  if (!j.is_object() || j.value("format", "") != "fpsim-sweep")
    throw ConfigError(quoted_text(path.string()) + ": not a sweep directory (format is not \"fpsim-sweep\")");
  const auto version = j.find("format_version");
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() != kSweepFormatVersion)
    throw ConfigError(quoted_text(path.string()) + ": a sweep directory of format version " +
                      (version == j.end() ? std::string("(none)") : version->dump()) + "; this fpsim reads version " +
                      std::to_string(kSweepFormatVersion));
  SweepDirectory d;
  try {
    d.name = j.at("name").get<std::string>();
    d.config_sha256 = j.at("config_sha256").get<std::string>();
    d.steps = j.at("steps").get<uint64_t>();
    for (const nlohmann::json& r : j.at("runs")) {
      SweepRun run;
      run.index = r.at("index").get<size_t>();
      run.id = r.at("id").get<std::string>();
      run.model = r.at("model").get<std::string>();
      run.recipe = r.at("recipe").get<std::string>();
      run.seed = r.at("seed").get<uint32_t>();
      run.data_seed = r.at("data_seed").get<uint32_t>();
      run.role = r.at("role").get<std::string>();
      if (run.index != d.runs.size()) throw ConfigError("run indices out of order");
      d.runs.push_back(std::move(run));
    }
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(quoted_text(path.string()) + ": malformed sweep.json (" + e.what() + ")");
  } catch (const ConfigError& e) {
    throw ConfigError(quoted_text(path.string()) + ": malformed sweep.json (" + e.what() + ")");
  }
  return d;
}

SweepOutcome run_sweep(const SweepConfig& c, const SweepOptions& opts) {
  const std::vector<SweepRun> runs = sweep_runs(c);
  // Every run's configuration and recipe first: bad input stops the sweep
  // before anything is written.
  std::vector<TrainConfig> configs;
  std::map<std::string, Recipe> recipes;
  for (const SweepRun& r : runs) {
    configs.push_back(sweep_run_config(c, r));
    if (!recipes.count(r.recipe)) recipes.emplace(r.recipe, load_recipe(r.recipe));
    if (run_id(configs.back(), recipes.at(r.recipe)) != r.id)
      throw ConfigError("recipe " + quoted_text(r.recipe) + " gives run directory " +
                        quoted_text(run_id(configs.back(), recipes.at(r.recipe))) + ", the run list says " +
                        quoted_text(r.id));
  }
  {
    std::set<std::string> ids;
    for (const SweepRun& r : runs)
      if (!ids.insert(r.id).second)
        throw ConfigError("two runs of the sweep share the directory " + quoted_text(r.id) +
                          " (two recipe files of one name?)");
  }
  prepare_directory(c, runs, opts.out);

  std::vector<size_t> mine;
  for (const SweepRun& r : runs)
    if (in_shard(r, opts.shard)) mine.push_back(r.index);
  SweepOutcome out;
  out.total = runs.size();
  out.in_shard = mine.size();

  std::mutex lock;
  auto report = [&](SweepEvent e) {
    if (!opts.progress) return;
    std::lock_guard<std::mutex> g(lock);
    opts.progress(e);
  };
  std::atomic<size_t> next{0};
  std::atomic<bool> abort{false};
  const fs::path runs_dir = opts.out / "runs";
  auto worker = [&] {
    for (;;) {
      if (abort.load()) return;
      const size_t k = next.fetch_add(1);
      if (k >= mine.size()) return;
      const SweepRun& run = runs[mine[k]];
      const std::string status = run_dir_status(runs_dir / run.id);
      if (status == "done" || status == "stopped") {
        {
          std::lock_guard<std::mutex> g(lock);
          ++out.skipped;
        }
        report(SweepEvent{SweepEvent::Kind::skipped, &run, 0, 0, 0.0, status});
        continue;
      }
      report(SweepEvent{SweepEvent::Kind::started, &run, 0, configs[run.index].steps, 0.0, ""});
      try {
        RunOptions run_options;
        run_options.checkpoint_every = c.checkpoint_every;
        run_options.resumed = [&](uint64_t step) {
          report(SweepEvent{SweepEvent::Kind::started, &run, step, configs[run.index].steps, 0.0, ""});
        };
        run_options.progress = [&](uint64_t step, uint64_t steps, double loss, double) {
          report(SweepEvent{SweepEvent::Kind::step, &run, step, steps, loss, ""});
        };
        const RunOutcome r = run_training(configs[run.index], recipes.at(run.recipe), runs_dir, run_options);
        {
          std::lock_guard<std::mutex> g(lock);
          ++out.ran;
          if (r.stopped) ++out.stopped;
        }
        report(SweepEvent{SweepEvent::Kind::finished, &run, r.steps_done, configs[run.index].steps, r.final_loss,
                          r.stopped ? "stopped" : "done"});
      } catch (const std::exception& e) {
        // Whatever failed one run (data missing, a directory that holds
        // another configuration, a full disk) would fail the rest: stop
        // taking new runs; those already running finish.
        abort = true;
        {
          std::lock_guard<std::mutex> g(lock);
          ++out.failed;
          out.failures.push_back(run.id + ": " + e.what());
          if (!out.first_failure) out.first_failure = std::current_exception();
        }
        report(SweepEvent{SweepEvent::Kind::failed, &run, 0, 0, 0.0, e.what()});
      }
    }
  };
  const unsigned jobs = std::max(1u, std::min<unsigned>(opts.jobs, unsigned(std::max<size_t>(mine.size(), 1))));
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < jobs; ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return out;
}

}  // namespace fpsim::experiments
