#include "fpsim/experiments/train_config.hpp"

#include <charconv>
#include <functional>
#include <limits>
#include <string>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::experiments {

namespace {

std::string number_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

template <class U>
U parse_unsigned(std::string_view key, std::string_view text, U min_value) {
  uint64_t v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v > std::numeric_limits<U>::max() ||
      v < uint64_t(min_value)) {
    throw ConfigError("--set " + std::string(key) + ": expected a whole number >= " + std::to_string(min_value) +
                      ", got " + quoted_text(text));
  }
  return U(v);
}

double parse_real(std::string_view key, std::string_view text, double min_value) {
  double v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !(v >= min_value) ||
      v == std::numeric_limits<double>::infinity()) {
    throw ConfigError("--set " + std::string(key) + ": expected a finite number >= " + number_text(min_value) +
                      ", got " + quoted_text(text));
  }
  return v;
}

struct Entry {
  const char* key;
  std::function<std::string(const TrainConfig&)> get;
  std::function<void(TrainConfig&, std::string_view key, std::string_view value)> set;
};

template <class U>
Entry unsigned_entry(const char* key, U TrainConfig::*field, U min_value) {
  return {key, [field](const TrainConfig& c) { return std::to_string(c.*field); },
          [field, min_value](TrainConfig& c, std::string_view k, std::string_view v) {
            c.*field = parse_unsigned<U>(k, v, min_value);
          }};
}

template <class Sub, class U>
Entry nested_entry(const char* key, Sub TrainConfig::*sub, U Sub::*field, U min_value) {
  return {key, [sub, field](const TrainConfig& c) { return std::to_string(c.*sub.*field); },
          [sub, field, min_value](TrainConfig& c, std::string_view k, std::string_view v) {
            c.*sub.*field = parse_unsigned<U>(k, v, min_value);
          }};
}

Entry real_entry(const char* key, double TrainConfig::*field, double min_value) {
  return {key, [field](const TrainConfig& c) { return number_text(c.*field); },
          [field, min_value](TrainConfig& c, std::string_view k, std::string_view v) {
            c.*field = parse_real(k, v, min_value);
          }};
}

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {"model", [](const TrainConfig& c) { return c.model; },
       [](TrainConfig& c, std::string_view, std::string_view v) {
         if (v != "mlp" && v != "gpt") {
           throw ConfigError("--set model: unknown model " + quoted_text(v) + "; known models: mlp, gpt");
         }
         c.model = std::string(v);
       }},
      {"data", [](const TrainConfig& c) { return c.data; },
       [](TrainConfig& c, std::string_view, std::string_view v) {
         if (v != "real" && v != "synthetic") {
           throw ConfigError("--set data: expected real or synthetic, got " + quoted_text(v));
         }
         c.data = std::string(v);
       }},
      unsigned_entry<uint64_t>("steps", &TrainConfig::steps, 1),
      unsigned_entry<size_t>("batch", &TrainConfig::batch, 1),
      unsigned_entry<uint32_t>("seed", &TrainConfig::seed, 0),
      unsigned_entry<uint32_t>("data_seed", &TrainConfig::data_seed, 0),
      {"optimizer",
       [](const TrainConfig& c) { return std::string(c.optimizer == OptimizerKind::adamw ? "adamw" : "sgd"); },
       [](TrainConfig& c, std::string_view, std::string_view v) {
         if (v == "adamw") {
           c.optimizer = OptimizerKind::adamw;
         } else if (v == "sgd") {
           c.optimizer = OptimizerKind::sgd;
         } else {
           throw ConfigError("--set optimizer: unknown optimizer " + quoted_text(v) + "; known: adamw, sgd");
         }
       }},
      real_entry("lr", &TrainConfig::lr, 0.0),
      real_entry("min_lr", &TrainConfig::min_lr, 0.0),
      unsigned_entry<uint64_t>("warmup_steps", &TrainConfig::warmup_steps, 0),
      real_entry("weight_decay", &TrainConfig::weight_decay, 0.0),
      real_entry("beta1", &TrainConfig::beta1, 0.0),
      real_entry("beta2", &TrainConfig::beta2, 0.0),
      real_entry("eps", &TrainConfig::eps, 0.0),
      real_entry("momentum", &TrainConfig::momentum, 0.0),
      real_entry("clip", &TrainConfig::clip, 0.0),
      unsigned_entry<uint64_t>("eval_interval", &TrainConfig::eval_interval, 1),
      unsigned_entry<uint64_t>("stats_interval", &TrainConfig::stats_interval, 0),
      unsigned_entry<size_t>("eval_batches", &TrainConfig::eval_batches, 1),
      nested_entry<MlpConfig, size_t>("mlp.hidden", &TrainConfig::mlp, &MlpConfig::hidden, 1),
      nested_entry<MlpConfig, size_t>("mlp.hidden_layers", &TrainConfig::mlp, &MlpConfig::hidden_layers, 1),
      nested_entry<GptConfig, size_t>("gpt.layers", &TrainConfig::gpt, &GptConfig::layers, 1),
      nested_entry<GptConfig, size_t>("gpt.width", &TrainConfig::gpt, &GptConfig::width, 1),
      nested_entry<GptConfig, size_t>("gpt.heads", &TrainConfig::gpt, &GptConfig::heads, 1),
      nested_entry<GptConfig, size_t>("gpt.context", &TrainConfig::gpt, &GptConfig::context, 1),
  };
  return table;
}

}  // namespace

TrainConfig default_train_config(std::string_view model) {
  TrainConfig c;
  if (model == "mlp") {
    return c;
  }
  if (model == "gpt") {
    c.model = "gpt";
    c.batch = 16;
    c.lr = 3e-3;
    c.min_lr = 3e-4;
    c.warmup_steps = 100;
    c.weight_decay = 0.1;
    c.beta2 = 0.99;
    return c;
  }
  throw ConfigError("unknown model " + quoted_text(model) + "; known models: mlp, gpt");
}

std::vector<std::string> train_config_keys() {
  std::vector<std::string> keys;
  for (const Entry& e : entries()) keys.emplace_back(e.key);
  return keys;
}

void set_train_option(TrainConfig& c, std::string_view assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw ConfigError("--set expects key=value, got " + quoted_text(assignment));
  }
  const std::string_view key = assignment.substr(0, eq);
  const std::string_view value = assignment.substr(eq + 1);
  for (const Entry& e : entries()) {
    if (key == e.key) {
      e.set(c, key, value);
      return;
    }
  }
  std::string known;
  for (const Entry& e : entries()) known += (known.empty() ? "" : ", ") + std::string(e.key);
  throw ConfigError("--set: unknown key " + quoted_text(key) + "; known keys: " + known);
}

std::vector<std::pair<std::string, std::string>> train_config_entries(const TrainConfig& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Entry& e : entries()) out.emplace_back(e.key, e.get(c));
  return out;
}

void validate_train_config(const TrainConfig& c) {
  if (c.model != "mlp" && c.model != "gpt") {
    throw ConfigError("unknown model " + quoted_text(c.model) + "; known models: mlp, gpt");
  }
  if (c.beta1 >= 1.0 || c.beta2 >= 1.0) throw ConfigError("beta1 and beta2 must be below 1");
  if (c.min_lr > c.lr)
    throw ConfigError("min_lr (" + number_text(c.min_lr) + ") must not exceed lr (" + number_text(c.lr) + ")");
  if (c.model == "gpt") {
    if (c.gpt.width % c.gpt.heads != 0) {
      throw ConfigError("gpt.width (" + std::to_string(c.gpt.width) + ") must be a multiple of gpt.heads (" +
                        std::to_string(c.gpt.heads) + ")");
    }
  }
}

}  // namespace fpsim::experiments
