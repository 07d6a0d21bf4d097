// Dynamic loss scaling as PyTorch's GradScaler (torch/amp/grad_scaler.py and
// its kernels _amp_foreach_non_finite_check_and_unscale_ and
// _amp_update_scale_; docs/training.md, "Loss scaling").
//
// One step, driven by the runner:
//   1. seed the backward pass with dloss * scale() (loss_s = fp32(loss * S));
//   2. found_inf = unscale_and_check(params);
//   3. if found_inf, skip the optimizer step (parameters and state untouched)
//      but still advance the LR schedule;
//   4. update(found_inf).
// A disabled scaler has scale() == 1 and steps 2 and 4 do nothing.
#pragma once

#include <cstdint>
#include <span>

#include "fpsim/experiments/optimizer.hpp"
#include "fpsim/experiments/recipe.hpp"

namespace fpsim::experiments {

class GradScaler {
 public:
  // Throws ConfigError (when enabled) unless init_scale is finite and > 0,
  // growth_factor > 1, 0 < backoff_factor < 1 (PyTorch's asserts) and
  // growth_interval > 0.
  explicit GradScaler(const LossScaling& config);

  bool enabled() const { return cfg_.enabled; }
  // S, the FP32 scale (the loss_scale column); 1 when disabled.
  float scale() const { return scale_; }
  // Consecutive unskipped steps since the last growth or backoff (int32).
  int32_t growth_tracker() const { return tracker_; }

  // inv = fp32(1 / fp64(S)); every grad element g becomes fp32(g * inv)
  // rounded to the grad's format (skipped when inv == 1, as the kernel does).
  // Returns whether any grad element was inf or NaN; the kernel checks the
  // scaled value, before the multiply. Disabled: returns false, no change.
  bool unscale_and_check(std::span<const Param> params) const;

  // found_inf: S = fp32(S * backoff), tracker = 0. Else tracker + 1; on
  // reaching growth_interval S = fp32(S * growth) unless that is inf, and
  // tracker = 0. S is never clamped below (it may fall under 1).
  void update(bool found_inf);

  // Sets the state a checkpoint saved (scale(), growth_tracker()). Throws
  // DataError, when enabled, unless the scale is finite and > 0 and the
  // tracker lies in [0, growth_interval); disabled, unless they are 1 and 0.
  void restore(float scale, int32_t growth_tracker);

 private:
  LossScaling cfg_;
  float scale_ = 1.0f;
  int32_t tracker_ = 0;
};

}  // namespace fpsim::experiments
