// Sweeps: the sweep file, the run list, shards, and running a sweep into one
// directory with resume (docs/training.md, "Sweeps").
#include "fpsim/experiments/sweep.hpp"

#include <toml++/toml.h>

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

constexpr const char* kTopKeys =
    "name, models, recipes, seeds, data_seed, noise_data_seeds, steps, eval_interval, stats_interval, model";

// Keys a sweep sets itself, never per model.
bool owned_by_sweep(std::string_view key) { return key == "model" || key == "seed" || key == "data_seed"; }

std::string toml_type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date or time";
  }
}

std::string number_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

class SweepReader {
 public:
  explicit SweepReader(std::string_view source) : source_(source) {}

  SweepConfig read(const toml::table& doc) {
    SweepConfig c;
    bool have_models = false, have_recipes = false, have_seeds = false, have_steps = false, have_noise = false;
    for (auto&& [k, v] : doc) {
      const std::string key(k.str());
      if (key == "name") {
        c.name = text(v, key);
        if (c.name.empty()) fail(v, key, "must not be empty");
      } else if (key == "models") {
        c.models = strings(v, key);
        have_models = true;
      } else if (key == "recipes") {
        c.recipes = strings(v, key);
        have_recipes = true;
      } else if (key == "seeds") {
        c.seeds = seeds(v, key);
        have_seeds = true;
      } else if (key == "data_seed") {
        c.data_seed = uint32_t(integer(v, key, 0, UINT32_MAX));
      } else if (key == "noise_data_seeds") {
        c.noise_data_seeds = seeds(v, key);
        have_noise = true;
      } else if (key == "steps") {
        c.steps = uint64_t(integer(v, key, 1, int64_t{1} << 40));
        have_steps = true;
      } else if (key == "eval_interval") {
        c.eval_interval = uint64_t(integer(v, key, 1, int64_t{1} << 40));
      } else if (key == "stats_interval") {
        c.stats_interval = uint64_t(integer(v, key, 1, int64_t{1} << 40));
      } else if (key == "model") {
        if (!v.is_table()) fail(v, key, "expected a table of [model.<name>] sections, got " + toml_type_name(v.type()));
        for (auto&& [mk, mv] : *v.as_table()) read_model_settings(std::string(mk.str()), mv, c);
      } else {
        throw ConfigError(at(k.source()) + ": unknown key " + quoted_text(key) + "; known keys: " + kTopKeys);
      }
    }
    auto missing = [&](bool have, const char* key) {
      if (!have) throw ConfigError(escaped_text(source_) + ": missing key \"" + key + "\"");
    };
    missing(have_models, "models");
    missing(have_recipes, "recipes");
    missing(have_seeds, "seeds");
    missing(have_steps, "steps");
    if (!have_noise) c.noise_data_seeds = {c.data_seed + 1};
    check(doc, c);
    return c;
  }

 private:
  std::string at(const toml::source_region& where) const {
    return escaped_text(source_) + ":" + std::to_string(where.begin.line);
  }
  [[noreturn]] void fail(const toml::node& v, const std::string& key, const std::string& what) const {
    throw ConfigError(at(v.source()) + ": " + key + ": " + what);
  }
  std::string text(const toml::node& v, const std::string& key) const {
    if (!v.is_string()) fail(v, key, "expected a string, got " + toml_type_name(v.type()));
    return std::string(*v.value<std::string_view>());
  }
  int64_t integer(const toml::node& v, const std::string& key, int64_t lo, int64_t hi) const {
    if (!v.is_integer()) fail(v, key, "expected an integer, got " + toml_type_name(v.type()));
    const int64_t i = *v.value<int64_t>();
    if (i < lo || i > hi)
      fail(v, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + std::to_string(i));
    return i;
  }
  const toml::array& array(const toml::node& v, const std::string& key) const {
    if (!v.is_array()) fail(v, key, "expected an array, got " + toml_type_name(v.type()));
    if (v.as_array()->empty()) fail(v, key, "must not be empty");
    return *v.as_array();
  }
  std::vector<std::string> strings(const toml::node& v, const std::string& key) const {
    std::vector<std::string> out;
    for (const toml::node& e : array(v, key)) {
      std::string s = text(e, key);
      if (std::find(out.begin(), out.end(), s) != out.end()) fail(e, key, quoted_text(s) + " is listed twice");
      out.push_back(std::move(s));
    }
    return out;
  }
  std::vector<uint32_t> seeds(const toml::node& v, const std::string& key) const {
    std::vector<uint32_t> out;
    for (const toml::node& e : array(v, key)) {
      const uint32_t s = uint32_t(integer(e, key, 0, UINT32_MAX));
      if (std::find(out.begin(), out.end(), s) != out.end()) fail(e, key, std::to_string(s) + " is listed twice");
      out.push_back(s);
    }
    return out;
  }

  void read_model_settings(const std::string& model, const toml::node& v, SweepConfig& c) {
    const std::string where = "model." + model;
    if (!v.is_table()) fail(v, where, "expected a table, got " + toml_type_name(v.type()));
    TrainConfig probe;
    try {
      probe = default_train_config(model);
    } catch (const ConfigError& e) {
      fail(v, where, e.what());
    }
    auto& settings = c.model_settings[model];
    for (auto&& [k, value] : *v.as_table()) {
      const std::string key(k.str()), full = where + "." + key;
      if (owned_by_sweep(key))
        fail(value, full, "is set by the sweep itself (models, seeds, data_seed), not per model");
      std::string text_value;
      if (value.is_string()) {
        text_value = std::string(*value.value<std::string_view>());
      } else if (value.is_integer()) {
        text_value = std::to_string(*value.value<int64_t>());
      } else if (value.is_floating_point()) {
        text_value = number_text(*value.value<double>());
      } else if (value.is_boolean()) {
        text_value = *value.value<bool>() ? "true" : "false";
      } else {
        fail(value, full, "expected a string, number or boolean, got " + toml_type_name(value.type()));
      }
      try {
        set_train_option(probe, key + "=" + text_value);
      } catch (const ConfigError& e) {
        // set_train_option speaks of --set; here the key is already named.
        std::string why = e.what();
        for (const std::string& prefix : {"--set " + key + ": ", std::string("--set: ")})
          if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
        fail(value, full, why);
      }
      settings.emplace_back(key, text_value);
      lines_[full] = value.source().begin.line;
    }
  }

  // Checks of the whole: known models and recipes, fp32 present, noise seeds
  // apart from the data seed, settings only for listed models.
  void check(const toml::table& doc, const SweepConfig& c) const {
    auto node_of = [&](const char* key) -> const toml::node& { return *doc.get(key); };
    for (const std::string& m : c.models) {
      try {
        (void)default_train_config(m);
      } catch (const ConfigError& e) {
        fail(node_of("models"), "models", e.what());
      }
    }
    for (const std::string& r : c.recipes) {
      try {
        (void)load_recipe(r);
      } catch (const ConfigError& e) {
        fail(node_of("recipes"), "recipes", e.what());
      } catch (const IoError& e) {
        fail(node_of("recipes"), "recipes", e.what());
      }
    }
    if (std::find(c.recipes.begin(), c.recipes.end(), "fp32") == c.recipes.end())
      fail(node_of("recipes"), "recipes", "must include \"fp32\", the reference every recipe's gap is measured against");
    for (const uint32_t s : c.noise_data_seeds)
      if (s == c.data_seed) {
        const toml::node* n = doc.get("noise_data_seeds");
        throw ConfigError((n ? at(n->source()) : escaped_text(source_)) + ": noise_data_seeds: " + std::to_string(s) +
                          " is the data_seed itself; the noise floor needs another data order");
      }
    for (const auto& [model, settings] : c.model_settings)
      if (std::find(c.models.begin(), c.models.end(), model) == c.models.end()) {
        const toml::node* n = doc.get("model");
        throw ConfigError((n ? at(n->source()) : escaped_text(source_)) + ": model." + model + ": settings for \"" +
                          model + "\", which is not in models");
      }
  }

  std::string_view source_;
  std::map<std::string, int64_t> lines_;
};

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

template <class T, class F>
std::string toml_array(const std::vector<T>& v, F item) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += item(v[i]);
  }
  return out + "]";
}

// Every setting of a configuration as (key, canonical value): how two
// configurations are compared and the first difference named.
std::vector<std::pair<std::string, std::string>> entries(const SweepConfig& c) {
  std::vector<std::pair<std::string, std::string>> e;
  auto num = [](auto x) { return std::to_string(x); };
  e.emplace_back("name", toml_string(c.name));
  e.emplace_back("models", toml_array(c.models, toml_string));
  e.emplace_back("recipes", toml_array(c.recipes, toml_string));
  e.emplace_back("seeds", toml_array(c.seeds, num));
  e.emplace_back("data_seed", num(c.data_seed));
  e.emplace_back("noise_data_seeds", toml_array(c.noise_data_seeds, num));
  e.emplace_back("steps", num(c.steps));
  if (c.eval_interval) e.emplace_back("eval_interval", num(c.eval_interval));
  if (c.stats_interval) e.emplace_back("stats_interval", num(c.stats_interval));
  for (const auto& [model, settings] : c.model_settings)
    for (const auto& [key, value] : settings) e.emplace_back("model." + model + "." + key, toml_string(value));
  return e;
}

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
  const auto a = entries(there), b = entries(here);
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

SweepConfig parse_sweep_config(std::string_view text, std::string_view source) {
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(escaped_text(source) + ":" + std::to_string(e.source().begin.line) + ":" +
                      std::to_string(e.source().begin.column) + ": TOML syntax error: " + std::string(e.description()));
  }
  return SweepReader(source).read(doc);
}

SweepConfig load_sweep_config(const fs::path& path) {
  return parse_sweep_config(io::read_input_file(path.string()), path.string());
}

fs::path default_sweep_config_path() {
  if (const char* dir = std::getenv("FPSIM_CONFIGS_DIR"); dir != nullptr && *dir != '\0')
    return fs::path(dir) / "default.toml";
  return fs::path(FPSIM_BUILTIN_CONFIGS_DIR) / "default.toml";
}

SweepConfig default_sweep_config() { return load_sweep_config(default_sweep_config_path()); }

std::string sweep_config_to_toml(const SweepConfig& c) {
  std::string out = "# fpsim sweep configuration (canonical form; docs/training.md, \"Sweep files\")\n";
  std::string section;
  for (const auto& [key, value] : entries(c)) {
    if (key.rfind("model.", 0) == 0) {
      const size_t dot = key.find('.', 6);
      const std::string model = key.substr(6, dot - 6);
      if (section != model) {
        out += "\n[model." + model + "]\n";
        section = model;
      }
      out += key.substr(dot + 1) + " = " + value + "\n";
    } else {
      out += key + " = " + value + "\n";
    }
  }
  return out;
}

std::vector<SweepRun> sweep_runs(const SweepConfig& c) {
  std::vector<SweepRun> runs;
  auto add = [&](const std::string& model, const std::string& recipe, uint32_t seed, uint32_t data_seed,
                 const char* role) {
    SweepRun r;
    r.index = runs.size();
    r.model = model;
    r.recipe = recipe;
    r.seed = seed;
    r.data_seed = data_seed;
    r.role = role;
    // run_id() of the run: a recipe file's recipe is named after the file
    // (load_recipe: a name holding '/' or ending in .toml is a file).
    const bool file = recipe.find('/') != std::string::npos || recipe.ends_with(".toml");
    const std::string recipe_name = file ? fs::path(recipe).stem().string() : recipe;
    r.id = model + "-" + recipe_name + "-s" + std::to_string(seed) + "-d" + std::to_string(data_seed);
    runs.push_back(std::move(r));
  };
  for (const std::string& m : c.models)
    for (const uint32_t s : c.seeds)
      for (const std::string& r : c.recipes) add(m, r, s, c.data_seed, "recipe");
  for (const std::string& m : c.models)
    for (const uint32_t s : c.seeds)
      for (const uint32_t d : c.noise_data_seeds) add(m, "fp32", s, d, "noise_floor");
  return runs;
}

TrainConfig sweep_run_config(const SweepConfig& c, const SweepRun& run) {
  TrainConfig t = default_train_config(run.model);
  t.steps = c.steps;
  if (c.eval_interval) t.eval_interval = c.eval_interval;
  if (c.stats_interval) t.stats_interval = c.stats_interval;
  if (const auto it = c.model_settings.find(run.model); it != c.model_settings.end())
    for (const auto& [key, value] : it->second) set_train_option(t, key + "=" + value);
  t.seed = run.seed;
  t.data_seed = run.data_seed;
  validate_train_config(t);
  return t;
}

bool in_shard(const SweepRun& run, Shard shard) { return run.index % shard.count == shard.index; }

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
        const RunOutcome r = run_training(configs[run.index], recipes.at(run.recipe), runs_dir,
                                          [&](uint64_t step, uint64_t steps, double loss, double) {
                                            report(SweepEvent{SweepEvent::Kind::step, &run, step, steps, loss, ""});
                                          });
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
