// Linear warm-up (lr * (step + 1) / warmup, as llm.c's train_gpt2 does, so
// step 0 trains with a non-zero lr) then cosine decay to min_lr (Loshchilov &
// Hutter, arXiv 1608.03983, without restarts; nanoGPT's get_lr form).
#include "fpsim/experiments/lr_schedule.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "fpsim/experiments/errors.hpp"

namespace fpsim::experiments {

void validate(const LrSchedule& s) {
  if (!std::isfinite(s.lr) || !std::isfinite(s.min_lr) || !(s.min_lr >= 0.0) || !(s.min_lr <= s.lr)) {
    throw ConfigError("lr schedule: expected 0 <= min_lr <= lr (finite), got lr = " + std::to_string(s.lr) +
                      ", min_lr = " + std::to_string(s.min_lr));
  }
  if (s.decay_steps != 0 && s.decay_steps < s.warmup_steps) {
    throw ConfigError("lr schedule: decay_steps (" + std::to_string(s.decay_steps) +
                      ") must be 0 (no decay) or >= warmup_steps (" + std::to_string(s.warmup_steps) + ")");
  }
}

double learning_rate(const LrSchedule& s, uint64_t step) {
  if (step < s.warmup_steps) return s.lr * double(step + 1) / double(s.warmup_steps);
  if (s.decay_steps == 0) return s.lr;
  if (step >= s.decay_steps) return s.min_lr;
  const double r = double(step - s.warmup_steps) / double(s.decay_steps - s.warmup_steps);
  const double coeff = 0.5 * (1.0 + std::cos(std::numbers::pi * r));
  return s.min_lr + coeff * (s.lr - s.min_lr);
}

}  // namespace fpsim::experiments
