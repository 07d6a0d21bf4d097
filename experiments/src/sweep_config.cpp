// Sweep files: parsing, the canonical form, the run list and each run's
// configuration (docs/training.md, "Sweep files"). Running a sweep:
// sweep.cpp.
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "fpsim/error.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/sweep.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/quoted_text.hpp"
#include "toml_text.hpp"

namespace fpsim::experiments {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTopKeys =
    "name, models, recipes, seeds, data_seed, noise_data_seeds, steps, eval_interval, stats_interval, "
    "checkpoint_every, model";

// Keys a sweep sets itself, never per model.
bool owned_by_sweep(std::string_view key) { return key == "model" || key == "seed" || key == "data_seed"; }


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
      } else if (key == "checkpoint_every") {
        c.checkpoint_every = uint64_t(integer(v, key, 0, int64_t{1} << 40));
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
  // The key is escaped: a quoted TOML key may hold any byte (the reasons
  // quote what they echo themselves).
  [[noreturn]] void fail(const toml::node& v, const std::string& key, const std::string& what) const {
    throw ConfigError(at(v.source()) + ": " + escaped_text(key) + ": " + what);
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
    read_settings(*v.as_table(), where, "", probe, settings);
    // Key order, whatever the file's nesting (`gpt.layers = 1` is a table
    // `gpt` in TOML, "gpt.layers" = 1 a key with a dot): the canonical form.
    std::sort(settings.begin(), settings.end());
    for (size_t i = 1; i < settings.size(); ++i)
      if (settings[i].first == settings[i - 1].first)
        fail(v, where + "." + settings[i].first, "is set twice");
  }

  // The settings of one table; a nested table's keys are dotted keys
  // ("gpt" = {layers = 1} is "gpt.layers").
  void read_settings(const toml::table& t, const std::string& where, const std::string& prefix, TrainConfig& probe,
                     std::vector<std::pair<std::string, std::string>>& settings) {
    for (auto&& [k, value] : t) {
      const std::string key = prefix + std::string(k.str()), full = where + "." + key;
      if (owned_by_sweep(key))
        fail(value, full, "is set by the sweep itself (models, seeds, data_seed), not per model");
      std::string text_value;
      if (value.is_table()) {
        read_settings(*value.as_table(), where, key + ".", probe, settings);
        continue;
      } else if (value.is_string()) {
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
        for (const std::string& p : {"--set " + key + ": ", std::string("--set: ")})
          if (why.rfind(p, 0) == 0) why.erase(0, p.size());
        fail(value, full, why);
      }
      settings.emplace_back(key, text_value);
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
    // Each key is checked as it is read; the whole of each model's run
    // configuration is checked here, so that settings which are each valid
    // but clash (min_lr above lr, gpt.width not a multiple of gpt.heads)
    // refuse the file rather than every run of the model later. The seeds
    // do not enter the checks: one run per model stands for all of them.
    for (const std::string& m : c.models) {
      SweepRun run;
      run.model = m;
      run.seed = c.seeds.front();
      run.data_seed = c.data_seed;
      try {
        (void)sweep_run_config(c, run);
      } catch (const ConfigError& e) {
        const toml::node* table = doc.get("model");
        const toml::node* n = table && table->is_table() ? table->as_table()->get(m) : nullptr;
        throw ConfigError((n ? at(n->source()) : at(node_of("models").source())) + ": model." + m + ": " + e.what());
      }
    }
  }

  std::string_view source_;
};


// A key as TOML writes it: bare when it may be ([A-Za-z0-9_-]+), else
// quoted ("gpt.layers" would otherwise be a dotted key, a nested table).
std::string toml_key(std::string_view k) {
  const bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
  });
  return bare ? std::string(k) : toml_string(k);
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

}  // namespace

// Every setting of a configuration as (key, canonical value): how two
// configurations are compared and the first difference named.
// checkpoint_every is not one: it changes how a sweep runs, not its results.
std::vector<std::pair<std::string, std::string>> sweep_config_entries(const SweepConfig& c) {
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

SweepConfig parse_sweep_config(std::string_view text, std::string_view source) {
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(escaped_text(source) + ":" + std::to_string(e.source().begin.line) + ":" +
                      std::to_string(e.source().begin.column) + ": TOML syntax error: " + parser_message(e.description()));
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
  for (const auto& [key, value] : sweep_config_entries(c)) {
    if (key.rfind("model.", 0) == 0) {
      const size_t dot = key.find('.', 6);
      const std::string model = key.substr(6, dot - 6);
      if (section != model) {
        out += "\n[model." + model + "]\n";
        section = model;
      }
      out += toml_key(key.substr(dot + 1)) + " = " + value + "\n";
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

}  // namespace fpsim::experiments
