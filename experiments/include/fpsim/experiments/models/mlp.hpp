// The `mlp` model (docs/training.md, "Models"): Linear(64,128)-ReLU-
// Linear(128,128)-ReLU-Linear(128,10) and softmax cross-entropy, the PyTorch
// module
//
//   class Mlp(nn.Module):
//       fc1 = nn.Linear(64, 128); fc2 = nn.Linear(128, 128); head = nn.Linear(128, 10)
//       forward(x) = head(relu(fc2(relu(fc1(x)))))
//
// with state_dict keys fc1.weight, fc1.bias, ..., head.weight, head.bias.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fpsim/experiments/gemm.hpp"
#include "fpsim/experiments/layers/cross_entropy.hpp"
#include "fpsim/experiments/layers/linear.hpp"
#include "fpsim/experiments/models/parameter.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/train_config.hpp"

namespace fpsim::experiments {

template <class T>
class Mlp {
 public:
  // The layers' GEMM policies and op formats come from the recipe (a
  // default Recipe is plain fp32).
  Mlp(const MlpConfig& config, const Recipe& recipe);

  // PyTorch's nn.Linear default: weight and bias ~ U(-1/sqrt(fan_in),
  // 1/sqrt(fan_in)), from the model seed, then rounded to the master format.
  void init(uint32_t seed);

  std::vector<Parameter<T>>& parameters() { return params_; }
  const std::vector<Parameter<T>>& parameters() const { return params_; }

  // Mean cross-entropy of a batch: x [B, inputs] row-major, labels [B].
  // Keeps what backward needs.
  T forward(GemmRuntime& rt, std::span<const T> x, std::span<const int32_t> labels);
  // Gradient of dloss * loss (dloss: the loss scale) into every parameter's
  // grad, in the parameter's format.
  void backward(GemmRuntime& rt, T dloss);
  // The argmax of each row of the last forward's logits (first maximum).
  std::vector<int32_t> predictions() const;

 private:
  MlpConfig config_;
  Format fp32_ops_format_;
  Format master_format_;
  std::vector<std::string> layer_names_;  // fc1, fc2, ..., head
  std::vector<LinearSites> sites_;
  std::vector<Parameter<T>> params_;      // weight, bias per layer in order
  // Activations of the last forward: inputs_[l] is layer l's input.
  std::vector<BasicTensor<T>> inputs_;
  std::vector<BasicTensor<T>> pre_;       // layer outputs before ReLU
  BasicTensor<T> logits_;
  std::vector<int32_t> labels_;
  CrossEntropyCache<T> ce_;
  // Gradient buffers reused step to step.
  BasicTensor<T> dlogits_, dpost_, dpre_;
};

}  // namespace fpsim::experiments
