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

namespace {

// Reads sweep.json; every failure names the file and what is wrong.
class SweepJsonReader {
 public:
  explicit SweepJsonReader(const fs::path& path) : where_(escaped_text(path.string())) {}

  [[noreturn]] void fail(const std::string& what) const { throw ConfigError(where_ + ": " + what); }

  const nlohmann::json& member(const nlohmann::json& object, const char* key, const std::string& in) const {
    const auto it = object.find(key);
    if (it == object.end()) fail(in + "no \"" + key + "\"");
    return *it;
  }
  std::string text(const nlohmann::json& object, const char* key, const std::string& in = "") const {
    const nlohmann::json& v = member(object, key, in);
    if (!v.is_string()) fail(in + "\"" + key + "\" is " + escaped_text(v.dump()) + ", expected a string");
    return v.get<std::string>();
  }
  uint64_t number(const nlohmann::json& object, const char* key, uint64_t max, const std::string& in = "") const {
    const nlohmann::json& v = member(object, key, in);
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
      fail(in + "\"" + key + "\" is " + escaped_text(v.dump()) + ", expected an integer from 0 to " +
           std::to_string(max));
    return v.get<uint64_t>();
  }

 private:
  std::string where_;
};

// The run id names a directory under runs/: one path component.
bool is_run_id(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && id.find_first_of(std::string_view("/\0", 2)) == std::string::npos;
}

}  // namespace

SweepDirectory read_sweep_directory(const fs::path& dir) {
  const fs::path path = dir / "sweep.json";
  const SweepJsonReader r(path);
  std::error_code ec;
  if (!fs::exists(path, ec)) r.fail("not a sweep directory of this fpsim (no such file)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_input_file(path.string()));
  } catch (const nlohmann::json::exception& e) {
    r.fail("not a sweep directory of this fpsim (not JSON: " + escaped_text(e.what()) + ")");
  }
  const auto shown = [&](const char* key) -> std::string {
    if (!j.is_object() || !j.contains(key)) return "none";
    return escaped_text(j.at(key).dump(), 60);
  };
  const bool format_ok = j.is_object() && j.contains("format") && j.at("format") == "fpsim-sweep";
  const bool version_ok = j.is_object() && j.contains("format_version") && j.at("format_version").is_number_integer() &&
                          j.at("format_version").get<int64_t>() == kSweepFormatVersion;
  if (!format_ok || !version_ok)
    r.fail("not a sweep directory of this fpsim (format " + shown("format") + ", version " + shown("format_version") +
           "; expected format \"fpsim-sweep\", version " + std::to_string(kSweepFormatVersion) + ")");

  SweepDirectory d;
  d.name = r.text(j, "name");
  d.config_sha256 = r.text(j, "config_sha256");
  d.steps = r.number(j, "steps", UINT64_MAX);
  if (d.steps == 0) r.fail("\"steps\" is 0, expected at least 1");
  const nlohmann::json& runs = r.member(j, "runs", "");
  if (!runs.is_array()) r.fail("\"runs\" is not an array");
  std::set<std::string> ids;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string in = "runs[" + std::to_string(i) + "]: ";
    const nlohmann::json& e = runs[i];
    if (!e.is_object()) r.fail(in + "not an object");
    if (r.number(e, "index", UINT64_MAX, in) != i) r.fail(in + "\"index\" is not " + std::to_string(i));
    SweepRun run;
    run.index = i;
    run.id = r.text(e, "id", in);
    run.model = r.text(e, "model", in);
    run.recipe = r.text(e, "recipe", in);
    run.role = r.text(e, "role", in);
    run.seed = uint32_t(r.number(e, "seed", UINT32_MAX, in));
    run.data_seed = uint32_t(r.number(e, "data_seed", UINT32_MAX, in));
    if (!is_run_id(run.id)) r.fail(in + "\"id\" " + quoted_text(run.id) + " is not a directory name");
    if (!ids.insert(run.id).second) r.fail(in + "\"id\" " + quoted_text(run.id) + " listed twice");
    if (run.role != "recipe" && run.role != "noise_floor")
      r.fail(in + "\"role\" " + quoted_text(run.role) + ", expected \"recipe\" or \"noise_floor\"");
    d.runs.push_back(std::move(run));
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
