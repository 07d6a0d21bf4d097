// What one training run is, apart from its recipe (docs/training.md,
// "Run configuration"): the model and its sizes, the optimizer and its
// hyper-parameters, the schedule, steps, batch, evaluation and statistics
// intervals, and the two seeds. Every field has a key that `fpsim train
// --set key=value` and the sweep files set.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fpsim::experiments {

struct MlpConfig {
  size_t inputs = 64;  // UCI digits: 8 x 8 pixels
  size_t hidden = 128;
  size_t hidden_layers = 2;  // Linear(64,128)-ReLU-Linear(128,128)-ReLU-Linear(128,10)
  size_t classes = 10;
};

struct GptConfig {
  size_t vocab = 0;  // from the data set
  size_t layers = 2;
  size_t width = 64;
  size_t heads = 4;
  size_t context = 64;
};

enum class OptimizerKind : uint8_t { adamw, sgd };

struct TrainConfig {
  std::string model = "mlp";  // mlp | gpt
  std::string data = "real";  // real | synthetic (tests: no files needed)
  MlpConfig mlp;
  GptConfig gpt;
  uint64_t steps = 1000;
  size_t batch = 32;
  uint32_t seed = 0;       // model initialisation and the run's SR key
  uint32_t data_seed = 0;  // data order
  OptimizerKind optimizer = OptimizerKind::adamw;
  double lr = 1e-3;
  double min_lr = 1e-4;  // floor of the cosine decay
  uint64_t warmup_steps = 50;
  double weight_decay = 0.01;  // AdamW: decoupled; SGD: coupled (PyTorch)
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double momentum = 0.9;          // SGD
  double clip = 1.0;              // global-norm clipping; 0 disables
  uint64_t eval_interval = 100;   // and at the last step
  uint64_t stats_interval = 100;  // quant_stats.csv rows every N steps (0: never)
  size_t eval_batches = 8;        // gpt: validation windows = eval_batches x batch
};

// The defaults of a model ("mlp": lr 1e-3, batch 32; "gpt": lr 3e-3, batch
// 16, warm-up 100). Throws ConfigError for an unknown model, listing the
// known ones.
TrainConfig default_train_config(std::string_view model);

// Applies one "key=value" (keys as in train_config_keys()). Throws
// ConfigError naming the key (and listing the known keys) or the value and
// the expected type.
void set_train_option(TrainConfig& c, std::string_view assignment);

// Every key with its current value, in a fixed order ("steps", "batch",
// "lr", ..., "gpt.layers", ...): what summary.json records and what
// --set accepts.
std::vector<std::pair<std::string, std::string>> train_config_entries(const TrainConfig& c);
std::vector<std::string> train_config_keys();

// Checks ranges (steps >= 1, batch >= 1, width divisible by heads, ...).
// Throws ConfigError.
void validate_train_config(const TrainConfig& c);

}  // namespace fpsim::experiments
