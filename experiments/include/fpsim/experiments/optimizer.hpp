// Optimizers of the training runner (docs/training.md, "Optimizers"): SGD
// and AdamW as PyTorch's single-tensor implementations (torch/optim/sgd.py,
// torch/optim/adamw.py, foreach=False), with their defaults, run op by op in
// FP32 in the order of PyTorch's tensor ops; optimizer state that lives in a
// narrower format is rounded to it after every op, and the parameter is
// written back to its master format with the recipe's UpdateRounding.
// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_) lives here
// too: it acts on the same parameter list.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/safetensors.hpp"
#include "fpsim/experiments/tensor.hpp"
#include "fpsim/format.hpp"

namespace fpsim::experiments {

// One trainable tensor. `value` holds the master weights: value->format is
// the master format. `grad` has the same number of elements (a PyTorch .grad
// has its parameter's dtype, so it lives in the master format too).
struct Param {
  std::string name;  // the PyTorch state_dict key, given by the model
  Tensor* value = nullptr;
  Tensor* grad = nullptr;
  bool weight_decay = true;  // whether the optimizer's weight decay applies (PyTorch param groups)
  uint32_t id = 0;           // stable stream id: keys stochastic rounding of this tensor
};

// How an optimizer stores its state and writes parameters back
// (docs/training.md, "Updates in low precision").
struct OptimizerNumerics {
  Format state_format = formats::fp32;  // moments, momentum buffers
  UpdateRounding update_rounding = UpdateRounding::rne;
  uint32_t seed = 0;  // the run seed: Philox key word 0 of SR updates
};

// The recipe's optimizer_state_format and update_rounding with the run seed.
OptimizerNumerics optimizer_numerics(const Recipe& recipe, uint32_t run_seed);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every parameter from its grad with learning rate `lr` (the
  // schedule's value, a double as PyTorch's Python float lr). `train_step`
  // keys stochastic rounding (spec: step = training step).
  virtual void step(double lr, uint32_t train_step) = 0;
  // Updates applied so far (PyTorch's state["step"]; skipped steps excluded).
  virtual uint64_t step_count() const = 0;
  virtual std::span<const Param> params() const = 0;
  // Checkpoints (docs/training.md, "Checkpoints"): the update count (metadata
  // "optimizer/steps") and every state tensor as an F32 tensor
  // "optimizer/<state>/<parameter name>" (state: exp_avg, exp_avg_sq,
  // momentum_buffer, kahan) holding values of the state's format exactly.
  virtual void save_state(SafetensorsFile& out) const = 0;
  // Restores what save_state wrote, into an optimizer built with the same
  // parameters, configuration and numerics. Throws DataError naming a
  // missing tensor, one of another shape, or state this optimizer lacks.
  virtual void load_state(const SafetensorsFile& in) = 0;
};

// torch.optim.SGD's defaults except lr, which PyTorch >= 2.2 defaults to 1e-3.
struct SgdConfig {
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;  // coupled: added to the gradient
  bool nesterov = false;      // needs momentum > 0 and dampening == 0
};

// torch.optim.AdamW's defaults (lr is the step's argument, default 1e-3 in
// the schedule).
struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p *= 1 - lr * weight_decay first
};

class Sgd final : public Optimizer {
 public:
  // Throws ConfigError for a bad config (negative values, nesterov without
  // momentum or with dampening) or a parameter without value/grad or with a
  // grad of another size.
  Sgd(std::vector<Param> params, const SgdConfig& config = {}, const OptimizerNumerics& numerics = {});
  void step(double lr, uint32_t train_step) override;
  uint64_t step_count() const override { return steps_; }
  std::span<const Param> params() const override { return params_; }
  void save_state(SafetensorsFile& out) const override;
  void load_state(const SafetensorsFile& in) override;
  // PyTorch's state["momentum_buffer"] (in the state format); empty before
  // the first step or without momentum.
  const Tensor& momentum_buffer(size_t i) const { return buf_.at(i); }
  // The Kahan compensation (master format); empty unless kahan applies.
  const Tensor& kahan_buffer(size_t i) const { return kahan_.at(i); }

 private:
  std::vector<Param> params_;
  SgdConfig cfg_;
  OptimizerNumerics num_;
  std::vector<Tensor> buf_, kahan_;
  uint64_t steps_ = 0;
};

class AdamW final : public Optimizer {
 public:
  // Throws ConfigError for betas outside [0, 1), negative eps or weight
  // decay, or a parameter without value/grad or with a grad of another size.
  AdamW(std::vector<Param> params, const AdamWConfig& config = {}, const OptimizerNumerics& numerics = {});
  void step(double lr, uint32_t train_step) override;
  uint64_t step_count() const override { return steps_; }
  std::span<const Param> params() const override { return params_; }
  void save_state(SafetensorsFile& out) const override;
  void load_state(const SafetensorsFile& in) override;
  // PyTorch's state["exp_avg"] / state["exp_avg_sq"] (in the state format).
  const Tensor& exp_avg(size_t i) const { return m_.at(i); }
  const Tensor& exp_avg_sq(size_t i) const { return v_.at(i); }
  // The Kahan compensation (master format); empty unless kahan applies.
  const Tensor& kahan_buffer(size_t i) const { return kahan_.at(i); }

 private:
  std::vector<Param> params_;
  AdamWConfig cfg_;
  OptimizerNumerics num_;
  std::vector<Tensor> m_, v_, kahan_;
  uint64_t steps_ = 0;
};

// The global 2-norm of all grads (clip_grad_norm_'s total_norm, the metrics'
// grad_norm): per tensor n_i = fp32(sqrt(sum of g^2)), the sum taken in
// double in element order; total = fp32(sqrt(sum of n_i^2)) in double in
// parameter order. Inf or NaN grads give a non-finite norm (no throw).
float global_grad_norm(std::span<const Param> params);

// torch.nn.utils.clip_grad_norm_(params, max_norm) (norm_type 2): coef =
// fp32(fp32(1 / fp32(total + 1e-6)) * max_norm) clamped to 1, and every
// grad is multiplied by it (always, as PyTorch does since 1.13), the product
// rounded to the grad's format. Returns total (before clipping). Throws
// ConfigError unless max_norm > 0.
float clip_grad_norm(std::span<const Param> params, double max_norm);

}  // namespace fpsim::experiments
