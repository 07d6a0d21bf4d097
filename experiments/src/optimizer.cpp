// SGD and AdamW op by op as PyTorch's single-tensor implementations, and
// clip_grad_norm_ (docs/training.md, "Optimizers").
//
// Each PyTorch tensor op is one loop over the elements computing exactly
// what ATen's CPU kernel computes in FP32 (x86 AVX2 build; checked bit for
// bit against torch on CPU, tests/experiments/optimizer_test.cpp):
//   t.mul_(s)               t * fp32(s)
//   t.add_(x, alpha=a)      fma(x, fp32(a), t)       (ufunc/add.h: vec::fmadd)
//   t.lerp_(e, w), |w|<0.5  fma(fp32(w), e - t, t)   (cpu/LerpKernel.cpp: lerp_vec)
//                  else     fma(fp32(w) - 1, e - t, e)
//   t.addcmul_(a, b, value=s)  fma(fp32(s) * a, b, t)
//   t.addcdiv_(a, b, value=s)  t + (fp32(s) * a) / b
//   t.sqrt(), t / x, t.add_(x) correctly rounded
// A Python-float scalar reaches the kernel as fp32(x) (Scalar::to<float>),
// and C++'s double -> float conversion is that rounding (round to nearest).
// Plain `a * b + c` below must not be contracted to an fma: the project
// builds in ISO C++ mode, where GCC does not contract.
#include "fpsim/experiments/optimizer.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::experiments {

OptimizerNumerics optimizer_numerics(const Recipe& recipe, uint32_t run_seed) {
  return {.state_format = recipe.optimizer_state_format, .update_rounding = recipe.update_rounding, .seed = run_seed};
}

namespace {

float f32(double x) { return static_cast<float>(x); }

bool is_fp32(const Format& f) { return same_format(f, formats::fp32); }

// PyTorch's ops on a tensor of a narrower dtype compute in FP32 and round
// the result to the tensor's dtype once per op.
void round_state(std::span<float> x, const Format& f) {
  if (!is_fp32(f)) round_to_format(x, f);
}

RoundingSpec nearest(const Format& f) {
  return {.rounding = Rounding::rne, .overflow = f.has_inf() ? Overflow::ieee : Overflow::saturate};
}

// x + y rounded once to f. The double sum is exact when TwoSum's error term
// is zero (then one rounding of it is the correct one); otherwise the exact
// soft-float add rounds.
float add_once(float x, float y, const Format& f, const RoundingSpec& rs) {
  const double s = double(x) + double(y);
  const double yy = s - double(x);
  const double err = (double(x) - (s - yy)) + (double(y) - yy);
  Flags fl;
  uint64_t code;
  if (std::isfinite(s) && err == 0.0) {
    code = from_double(s, f, rs, fl);
  } else {
    code = add(std::bit_cast<uint32_t>(x), formats::fp32, std::bit_cast<uint32_t>(y), formats::fp32, f, rs, fl);
  }
  return float(to_double(code, f));
}

// out[j] = round(a[j] + sign * b[j]) to f, each exact sum rounded once, for
// whole arrays: the sum rounded to odd in FP32 (add_rounded_to_odd), then the
// bulk rounding to f with rs, which keeps every rounding decision of a
// format of at most 22 significant bits; FP32 overflows and wider formats go
// through add_once.
void add_arrays_once(std::span<const float> a, std::span<const float> b, float sign, std::span<float> out,
                     const Format& f, const RoundingSpec& rs, std::vector<size_t>& slow) {
  if (f.man_bits + 3 > 24) {
    for (size_t j = 0; j < out.size(); ++j) out[j] = add_once(a[j], sign * b[j], f, rs);
    return;
  }
  add_rounded_to_odd(a, b, sign, out, slow);
  round_to_format(out, f, rs);
  for (const size_t j : slow) out[j] = add_once(a[j], sign * b[j], f, rs);
}

bool uses_kahan(const OptimizerNumerics& num, const Param& p) {
  return num.update_rounding == UpdateRounding::kahan && !is_fp32(p.value->format);
}

// Writes the update into the master tensor. `x` holds, per element, w_new
// (the FP32 result of PyTorch's op sequence) or, when Kahan applies, delta
// (the FP32 increment). fp32 master: w = w_new for every rounding mode.
void write_master(const Param& p, std::span<float> x, Tensor& kahan, const OptimizerNumerics& num,
                  uint32_t train_step) {
  const Format& master = p.value->format;
  std::span<float> w = p.value->span();
  if (uses_kahan(num, p)) {
    // Compensated summation (arXiv 2010.06192 §4), every op rounded once
    // to the master format: y = delta - c; t = w + y; c = (t - w) - y; w = t.
    // Array by array (same results as element by element, faster).
    const RoundingSpec rs = nearest(master);
    const std::span<float> c = kahan.span();
    thread_local std::vector<float> y, t, d;
    thread_local std::vector<size_t> slow;
    y.resize(w.size());
    t.resize(w.size());
    d.resize(w.size());
    add_arrays_once(x, c, -1.0f, y, master, rs, slow);  // y = delta - c
    add_arrays_once(w, y, 1.0f, t, master, rs, slow);   // t = w + y
    add_arrays_once(t, w, -1.0f, d, master, rs, slow);  // t - w
    add_arrays_once(d, y, -1.0f, c, master, rs, slow);  // c = (t - w) - y
    std::copy(t.begin(), t.end(), w.begin());
    return;
  }
  if (!is_fp32(master)) {
    RoundingSpec rs = nearest(master);
    if (num.update_rounding == UpdateRounding::sr) {
      // Exact SR (torchao's bf16 stochastic round draws 16 bits, which is
      // exact for fp32 -> bf16), keyed (run seed, param id, step) with the
      // element index as counter (spec: recipes §1).
      rs.rounding = Rounding::sr;
      rs.seed = num.seed;
      rs.stream = p.id;
      rs.step = train_step;
    }
    round_to_format(x, master, rs, 0);
  }
  std::memcpy(w.data(), x.data(), w.size() * sizeof(float));
}

void check_params(const std::vector<Param>& params, const char* who) {
  for (const Param& p : params) {
    if (p.value == nullptr || p.grad == nullptr) {
      throw ConfigError(std::string(who) + ": parameter '" + p.name + "' has no value or no grad tensor");
    }
    if (p.grad->size() != p.value->size()) {
      throw ConfigError(std::string(who) + ": parameter '" + p.name + "' has " + std::to_string(p.value->size()) +
                        " values but its grad has " + std::to_string(p.grad->size()));
    }
  }
}

void check_nonnegative(double x, const char* who, const char* what) {
  if (!(x >= 0.0) || !std::isfinite(x)) {
    throw ConfigError(std::string(who) + ": " + what + " must be a finite value >= 0, got " + std::to_string(x));
  }
}

Tensor state_like(const Param& p, const Format& f) { return Tensor(p.value->shape, f); }

// ---- checkpoints ---------------------------------------------------------------

constexpr std::string_view kStatePrefix = "optimizer/";
constexpr std::string_view kStepsKey = "optimizer/steps";

std::string state_key(std::string_view state, const Param& p) {
  return std::string(kStatePrefix).append(state).append("/").append(p.name);
}

void save_tensor(SafetensorsFile& out, std::string_view state, const Param& p, const Tensor& t) {
  out.tensors[state_key(state, p)] = stored_tensor(std::vector<uint64_t>(t.shape.begin(), t.shape.end()), t.span());
}

void save_steps(SafetensorsFile& out, uint64_t steps) { out.metadata[std::string(kStepsKey)] = std::to_string(steps); }

uint64_t load_steps(const SafetensorsFile& in) {
  const auto it = in.metadata.find(std::string(kStepsKey));
  if (it == in.metadata.end()) throw DataError("checkpoint: no optimizer step count");
  const std::string& text = it->second;
  uint64_t steps = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), steps);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || text.empty())
    throw DataError("checkpoint: optimizer step count " + quoted_text(text, 40) + " is not a non-negative integer");
  return steps;
}

// `t` becomes the stored tensor, in format f; it must have p's shape.
void load_tensor(const SafetensorsFile& in, std::string_view state, const Param& p, const Format& f, Tensor& t,
                 std::set<std::string>& used) {
  const std::string key = state_key(state, p);
  const auto it = in.tensors.find(key);
  if (it == in.tensors.end()) throw DataError("checkpoint: no optimizer state tensor " + key);
  if (!std::equal(it->second.shape.begin(), it->second.shape.end(), p.value->shape.begin(), p.value->shape.end()))
    throw DataError("checkpoint: optimizer state tensor " + key + " does not have its parameter's shape");
  t = Tensor(p.value->shape, f);
  t.data = values_f32(it->second);
  used.insert(key);
}

// Every "optimizer/..." tensor of the file must have been restored.
void check_all_used(const SafetensorsFile& in, const std::set<std::string>& used, std::string_view optimizer) {
  for (const auto& [key, tensor] : in.tensors)
    if (key.rfind(kStatePrefix, 0) == 0 && !used.count(key))
      throw DataError("checkpoint: optimizer state tensor " + quoted_text(key) + " has no place in this " +
                      std::string(optimizer));
}

}  // namespace

// ---- SGD ---------------------------------------------------------------------

Sgd::Sgd(std::vector<Param> params, const SgdConfig& config, const OptimizerNumerics& numerics)
    : params_(std::move(params)), cfg_(config), num_(numerics) {
  check_params(params_, "SGD");
  check_nonnegative(cfg_.momentum, "SGD", "momentum");
  check_nonnegative(cfg_.dampening, "SGD", "dampening");
  check_nonnegative(cfg_.weight_decay, "SGD", "weight_decay");
  if (cfg_.nesterov && (cfg_.momentum <= 0.0 || cfg_.dampening != 0.0)) {
    throw ConfigError("SGD: nesterov needs momentum > 0 and dampening == 0 (torch.optim.SGD's rule)");
  }
  buf_.resize(params_.size());
  kahan_.resize(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) {
    if (uses_kahan(num_, params_[i])) kahan_[i] = state_like(params_[i], params_[i].value->format);
  }
}

// torch/optim/sgd.py, _single_tensor_sgd:
//   d_p = grad.add(param, alpha=weight_decay)            if weight_decay != 0
//   buf = clone(d_p) at the first step, else buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
//   d_p = d_p.add(buf, alpha=momentum) if nesterov else buf
//   param.add_(d_p, alpha=-lr)
void Sgd::step(double lr, uint32_t train_step) {
  const bool first = steps_ == 0;
  ++steps_;
  const float wd = f32(cfg_.weight_decay), mom = f32(cfg_.momentum), keep = f32(1.0 - cfg_.dampening);
  const float neg_lr = f32(-lr);
  const Format& state = num_.state_format;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    const size_t n = p.value->size();
    const float* w = p.value->ptr();
    std::vector<float> d(p.grad->data);
    if (cfg_.weight_decay != 0.0 && p.weight_decay) {
      for (size_t j = 0; j < n; ++j) d[j] = std::fma(w[j], wd, d[j]);
      round_state(d, p.grad->format);  // a new tensor of the grad's dtype
    }
    if (cfg_.momentum != 0.0) {
      Tensor& buf = buf_[i];
      if (first) {
        buf = state_like(p, state);
        std::memcpy(buf.ptr(), d.data(), n * sizeof(float));
        round_state(buf.span(), state);
      } else {
        float* b = buf.ptr();
        for (size_t j = 0; j < n; ++j) b[j] = b[j] * mom;
        round_state(buf.span(), state);
        for (size_t j = 0; j < n; ++j) b[j] = std::fma(d[j], keep, b[j]);
        round_state(buf.span(), state);
      }
      const float* b = buf.ptr();
      if (cfg_.nesterov) {
        for (size_t j = 0; j < n; ++j) d[j] = std::fma(b[j], mom, d[j]);
        round_state(d, binary_result_format(p.grad->format, state));
      } else {
        std::memcpy(d.data(), b, n * sizeof(float));
      }
    }
    // The update: w_new = fma(d, -lr, w); Kahan's delta = d * fp32(-lr).
    if (uses_kahan(num_, p)) {
      for (size_t j = 0; j < n; ++j) d[j] = d[j] * neg_lr;
    } else {
      for (size_t j = 0; j < n; ++j) d[j] = std::fma(d[j], neg_lr, w[j]);
    }
    write_master(p, d, kahan_[i], num_, train_step);
  }
}

void Sgd::save_state(SafetensorsFile& out) const {
  save_steps(out, steps_);
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!buf_[i].data.empty()) save_tensor(out, "momentum_buffer", params_[i], buf_[i]);
    if (!kahan_[i].data.empty()) save_tensor(out, "kahan", params_[i], kahan_[i]);
  }
}

void Sgd::load_state(const SafetensorsFile& in) {
  const uint64_t steps = load_steps(in);
  std::set<std::string> used;
  for (size_t i = 0; i < params_.size(); ++i) {
    // The momentum buffer exists from the first update on (PyTorch's clone of d_p).
    if (cfg_.momentum != 0.0 && steps > 0) {
      load_tensor(in, "momentum_buffer", params_[i], num_.state_format, buf_[i], used);
    } else {
      buf_[i] = Tensor();
    }
    if (uses_kahan(num_, params_[i])) load_tensor(in, "kahan", params_[i], params_[i].value->format, kahan_[i], used);
  }
  check_all_used(in, used, "SGD");
  steps_ = steps;
}

// ---- AdamW -------------------------------------------------------------------

AdamW::AdamW(std::vector<Param> params, const AdamWConfig& config, const OptimizerNumerics& numerics)
    : params_(std::move(params)), cfg_(config), num_(numerics) {
  check_params(params_, "AdamW");
  if (!(cfg_.beta1 >= 0.0 && cfg_.beta1 < 1.0) || !(cfg_.beta2 >= 0.0 && cfg_.beta2 < 1.0)) {
    throw ConfigError("AdamW: betas must lie in [0, 1), got (" + std::to_string(cfg_.beta1) + ", " +
                      std::to_string(cfg_.beta2) + ")");
  }
  check_nonnegative(cfg_.eps, "AdamW", "eps");
  check_nonnegative(cfg_.weight_decay, "AdamW", "weight_decay");
  for (const Param& p : params_) {
    m_.push_back(state_like(p, num_.state_format));
    v_.push_back(state_like(p, num_.state_format));
    kahan_.push_back(uses_kahan(num_, p) ? state_like(p, p.value->format) : Tensor());
  }
}

// torch/optim/adamw.py, _single_tensor_adamw (PyTorch 2.x, capturable off):
//   step += 1
//   param.mul_(1 - lr * weight_decay)
//   exp_avg.lerp_(grad, 1 - beta1)
//   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
//   bias_correction1 = 1 - beta1 ** step;  bias_correction2 = 1 - beta2 ** step   (Python floats)
//   step_size = lr / bias_correction1;      bias_correction2_sqrt = math.sqrt(bias_correction2)
//   denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
//   param.addcdiv_(exp_avg, denom, value=-step_size)
void AdamW::save_state(SafetensorsFile& out) const {
  save_steps(out, steps_);
  for (size_t i = 0; i < params_.size(); ++i) {
    save_tensor(out, "exp_avg", params_[i], m_[i]);
    save_tensor(out, "exp_avg_sq", params_[i], v_[i]);
    if (!kahan_[i].data.empty()) save_tensor(out, "kahan", params_[i], kahan_[i]);
  }
}

void AdamW::load_state(const SafetensorsFile& in) {
  const uint64_t steps = load_steps(in);
  std::set<std::string> used;
  for (size_t i = 0; i < params_.size(); ++i) {
    load_tensor(in, "exp_avg", params_[i], num_.state_format, m_[i], used);
    load_tensor(in, "exp_avg_sq", params_[i], num_.state_format, v_[i], used);
    if (uses_kahan(num_, params_[i])) load_tensor(in, "kahan", params_[i], params_[i].value->format, kahan_[i], used);
  }
  check_all_used(in, used, "AdamW");
  steps_ = steps;
}

void AdamW::step(double lr, uint32_t train_step) {
  ++steps_;
  const double t = double(steps_);
  const double bias_correction1 = 1.0 - std::pow(cfg_.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(cfg_.beta2, t);
  const double step_size = lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);

  const float lerp_w = f32(1.0 - cfg_.beta1);
  const bool lerp_small = std::fabs(lerp_w) < 0.5f;
  const float lerp_coeff = lerp_small ? lerp_w : lerp_w - 1.0f;
  const float beta2 = f32(cfg_.beta2), one_minus_beta2 = f32(1.0 - cfg_.beta2);
  const float bc2_sqrt = f32(bias_correction2_sqrt), eps = f32(cfg_.eps), neg_step = f32(-step_size);
  const float decay = f32(1.0 - lr * cfg_.weight_decay), neg_decay = f32(-lr * cfg_.weight_decay);
  const Format& state = num_.state_format;

  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    const size_t n = p.value->size();
    const float* w = p.value->ptr();
    const float* g = p.grad->ptr();
    float* m = m_[i].ptr();
    float* v = v_[i].ptr();
    for (size_t j = 0; j < n; ++j) {
      const float diff = g[j] - m[j];
      m[j] = std::fma(lerp_coeff, diff, lerp_small ? m[j] : g[j]);
    }
    round_state(m_[i].span(), state);
    for (size_t j = 0; j < n; ++j) v[j] = v[j] * beta2;
    round_state(v_[i].span(), state);
    for (size_t j = 0; j < n; ++j) v[j] = std::fma(one_minus_beta2 * g[j], g[j], v[j]);
    round_state(v_[i].span(), state);

    std::vector<float> denom(n);
    for (size_t j = 0; j < n; ++j) denom[j] = std::sqrt(v[j]);
    round_state(denom, state);
    for (size_t j = 0; j < n; ++j) denom[j] = denom[j] / bc2_sqrt;
    round_state(denom, state);
    for (size_t j = 0; j < n; ++j) denom[j] = denom[j] + eps;
    round_state(denom, state);

    // u = (fp32(-step_size) * m) / denom, addcdiv's increment. w_new =
    // fp32(w * fp32(1 - lr*wd)) + u; Kahan's delta = fp32(w * fp32(-lr*wd)) + u.
    const bool decays = cfg_.weight_decay != 0.0 && p.weight_decay;
    const bool kahan = uses_kahan(num_, p);
    std::vector<float>& x = denom;  // reused: denom[j] is read before x[j] is written
    for (size_t j = 0; j < n; ++j) {
      const float u = (neg_step * m[j]) / denom[j];
      if (kahan) {
        x[j] = decays ? w[j] * neg_decay + u : u;
      } else {
        x[j] = decays ? w[j] * decay + u : w[j] + u;
      }
    }
    write_master(p, x, kahan_[i], num_, train_step);
  }
}

// ---- clipping ----------------------------------------------------------------

float global_grad_norm(std::span<const Param> params) {
  double total_sq = 0.0;
  for (const Param& p : params) {
    double sq = 0.0;
    for (float g : p.grad->data) sq += double(g) * double(g);
    const double norm = double(float(std::sqrt(sq)));
    total_sq += norm * norm;
  }
  return float(std::sqrt(total_sq));
}

// torch/nn/utils/clip_grad.py: clip_coef = max_norm / (total_norm + 1e-6)
// is a Python float over an FP32 tensor, which Tensor.__rtruediv__ evaluates
// as total.reciprocal() * max_norm; clamp(max=1.0); every grad .mul_(coef).
float clip_grad_norm(std::span<const Param> params, double max_norm) {
  if (!(max_norm > 0.0) || !std::isfinite(max_norm)) {
    throw ConfigError("clip_grad_norm: max_norm must be a finite value > 0, got " + std::to_string(max_norm));
  }
  const float total = global_grad_norm(params);
  const float denom = total + f32(1e-6);
  const float coef = (1.0f / denom) * f32(max_norm);
  const float clamped = std::isnan(coef) ? coef : std::fmin(coef, 1.0f);
  for (const Param& p : params) {
    for (float& g : p.grad->data) g = g * clamped;
    round_state(p.grad->span(), p.grad->format);
  }
  return total;
}

}  // namespace fpsim::experiments
