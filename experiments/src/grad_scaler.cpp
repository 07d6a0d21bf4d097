// PyTorch's GradScaler (torch/amp/grad_scaler.py; the CPU kernels in
// aten/src/ATen/native/cpu/AmpGradScalerKernels.cpp, which follow the CUDA
// ones in AmpKernels.cu).
#include "fpsim/experiments/grad_scaler.hpp"

#include <cmath>
#include <string>

#include "fpsim/experiments/errors.hpp"

namespace fpsim::experiments {

GradScaler::GradScaler(const LossScaling& config) : cfg_(config) {
  if (!cfg_.enabled) return;
  if (!std::isfinite(cfg_.init_scale) || !(cfg_.init_scale > 0.0f)) {
    throw ConfigError("loss scaling: init_scale must be a finite value > 0, got " + std::to_string(cfg_.init_scale));
  }
  if (!std::isfinite(cfg_.growth_factor) || !(cfg_.growth_factor > 1.0f)) {
    throw ConfigError("loss scaling: growth_factor must be > 1, got " + std::to_string(cfg_.growth_factor));
  }
  if (!(cfg_.backoff_factor > 0.0f && cfg_.backoff_factor < 1.0f)) {
    throw ConfigError("loss scaling: backoff_factor must lie in (0, 1), got " + std::to_string(cfg_.backoff_factor));
  }
  if (cfg_.growth_interval <= 0) {
    throw ConfigError("loss scaling: growth_interval must be > 0, got " + std::to_string(cfg_.growth_interval));
  }
  scale_ = cfg_.init_scale;
}

// GradScaler.unscale_: inv_scale = self._scale.double().reciprocal().float(),
// then _amp_foreach_non_finite_check_and_unscale_: found_inf if the element
// read (the scaled value) is not finite; result inv == 1 ? val : val * inv,
// stored back in the grad's dtype.
bool GradScaler::unscale_and_check(std::span<const Param> params) const {
  if (!cfg_.enabled) return false;
  const float inv = float(1.0 / double(scale_));
  bool found_inf = false;
  for (const Param& p : params) {
    for (float& g : p.grad->data) {
      if (!std::isfinite(g)) found_inf = true;
      if (inv != 1.0f) g = g * inv;
    }
    if (inv != 1.0f && !same_format(p.grad->format, formats::fp32)) round_to_format(p.grad->span(), p.grad->format);
  }
  return found_inf;
}

// _amp_update_scale_: the products are float * double (the factors are
// Python floats) stored back as float.
void GradScaler::update(bool found_inf) {
  if (!cfg_.enabled) return;
  if (found_inf) {
    scale_ = float(double(scale_) * double(cfg_.backoff_factor));
    tracker_ = 0;
    return;
  }
  const int32_t successful = tracker_ + 1;
  if (successful == cfg_.growth_interval) {
    const float grown = float(double(scale_) * double(cfg_.growth_factor));
    if (std::isfinite(grown)) scale_ = grown;  // "Do not grow the scale past fp32 bounds to inf."
    tracker_ = 0;
  } else {
    tracker_ = successful;
  }
}

void GradScaler::restore(float scale, int32_t growth_tracker) {
  const bool valid = cfg_.enabled ? std::isfinite(scale) && scale > 0.0f && growth_tracker >= 0 &&
                                        int64_t(growth_tracker) < int64_t(cfg_.growth_interval)
                                  : scale == 1.0f && growth_tracker == 0;
  if (!valid)
    throw DataError("checkpoint: loss scale " + std::to_string(scale) + " with growth tracker " +
                    std::to_string(growth_tracker) + " is not a state of this run's loss scaler");
  scale_ = scale;
  tracker_ = growth_tracker;
}

}  // namespace fpsim::experiments
