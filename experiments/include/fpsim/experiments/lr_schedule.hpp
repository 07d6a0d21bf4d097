// The learning-rate schedule (docs/training.md, "Learning rate"): linear
// warm-up, cosine decay to a floor, constant after. Computed in double: the
// optimizer receives it as PyTorch receives its Python-float lr.
#pragma once

#include <cstdint>

namespace fpsim::experiments {

struct LrSchedule {
  double lr = 1e-3;           // the peak (PyTorch's optimizer default)
  uint64_t warmup_steps = 0;  // 0: no warm-up
  uint64_t decay_steps = 0;   // step at which the cosine reaches min_lr; 0: no decay
  double min_lr = 0.0;
};

// Throws ConfigError unless 0 <= min_lr <= lr (both finite) and decay_steps
// is 0 or >= warmup_steps.
void validate(const LrSchedule& s);

// The lr of 0-based training step `step` (skipped steps count: the schedule
// advances on every step):
//   step < warmup_steps:           lr * (step + 1) / warmup_steps
//   decay_steps == 0:              lr
//   step >= decay_steps:           min_lr
//   else, r = (step - warmup_steps) / (decay_steps - warmup_steps):
//                                  min_lr + 0.5 * (1 + cos(pi * r)) * (lr - min_lr)
// each expression evaluated in double left to right as written.
double learning_rate(const LrSchedule& s, uint64_t step);

}  // namespace fpsim::experiments
