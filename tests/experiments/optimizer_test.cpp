// Optimizers, LR schedule, gradient clipping and GradScaler
// (docs/training.md, "Optimizers", "Learning rate", "Loss scaling").
//
// Oracles: (1) each update written out again here per element in the op
// order of PyTorch's tensor ops (torch/optim/adamw.py, sgd.py), FP32, bit
// exact; (2) the same formulas in FP64 with a stated tolerance; (3) values
// torch itself produced (torch 1.13.1, CPU), hard-coded with the snippet
// that printed them; (4) bf16 rounding done here with integer bit
// arithmetic, sharing nothing with fpsim's rounding core.
#include "fpsim/experiments/optimizer.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/grad_scaler.hpp"
#include "fpsim/experiments/lr_schedule.hpp"

namespace fpsim::experiments {
namespace {

uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }

// fp32 -> bf16, round to nearest even, by integer arithmetic on the bits
// (finite inputs below bf16's overflow threshold).
float bf16_rne(float x) {
  uint32_t b = bits(x);
  b += 0x7FFFu + ((b >> 16) & 1u);
  return std::bit_cast<float>(b & 0xFFFF0000u);
}

bool is_bf16_value(float x) { return (bits(x) & 0xFFFFu) == 0; }

struct Slot {
  Tensor value, grad;
  Slot(std::vector<float> w, const Format& f = formats::fp32) : value({w.size()}, f), grad({w.size()}, f) {
    value.data = std::move(w);
  }
};

Param param_of(Slot& s, uint32_t id, bool decay = true) {
  std::string name = "w";
  name += std::to_string(id);
  return {name, &s.value, &s.grad, decay, id};
}

// ---- AdamW ---------------------------------------------------------------

// One AdamW step on one element in PyTorch's FP32 op order (see
// optimizer.hpp): C++ float arithmetic rounds every operation once.
void adamw_fp32(float& w, float& m, float& v, float g, int t, double lr, double wd) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  w = w * float(1.0 - lr * wd);             // param.mul_(1 - lr*wd)
  m = std::fma(float(1.0 - b1), g - m, m);  // exp_avg.lerp_(g, 0.1): weight < 0.5 branch, fused
  v = v * float(b2);                        // exp_avg_sq.mul_(beta2)
  v = std::fma(float(1.0 - b2) * g, g, v);  // .addcmul_(g, g, value=1-beta2)
  const double bc1 = 1.0 - std::pow(b1, double(t));
  const double bc2 = 1.0 - std::pow(b2, double(t));
  const float denom = std::sqrt(v) / float(std::sqrt(bc2)) + float(eps);
  w = w + (float(-(lr / bc1)) * m) / denom;  // param.addcdiv_(m, denom, value=-step_size)
}

void adamw_fp64(double& w, double& m, double& v, double g, int t, double lr, double wd) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  w *= 1.0 - lr * wd;
  m = b1 * m + (1.0 - b1) * g;
  v = b2 * v + (1.0 - b2) * g * g;
  const double bc1 = 1.0 - std::pow(b1, double(t)), bc2 = 1.0 - std::pow(b2, double(t));
  w -= lr / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + eps);
}

float grad_at(size_t j, int t) { return float(std::sin(0.7 * double(j) + 1.3 * t) * 0.4 + 0.05 * t); }

TEST(AdamW, Fp32FollowsPyTorchOpOrderBitExact) {
  const std::vector<float> w0 = {0.5f, -1.25f, 2.0f, 0.1f, -0.3f, 3.5f, -0.007f, 1e-3f, 40.0f};
  Slot a(w0), b(w0);
  AdamW opt({param_of(a, 1), param_of(b, 2, /*decay=*/false)});
  std::vector<float> wa = w0, wb = w0, ma(w0.size()), va(w0.size()), mb(w0.size()), vb(w0.size());
  for (int t = 1; t <= 6; ++t) {
    const double lr = 1e-2 * t;  // a changing lr, as a schedule passes
    for (size_t j = 0; j < w0.size(); ++j) a.grad.data[j] = b.grad.data[j] = grad_at(j, t);
    opt.step(lr, uint32_t(t));
    for (size_t j = 0; j < w0.size(); ++j) {
      adamw_fp32(wa[j], ma[j], va[j], grad_at(j, t), t, lr, 1e-2);
      adamw_fp32(wb[j], mb[j], vb[j], grad_at(j, t), t, lr, 0.0);
      ASSERT_EQ(bits(a.value.data[j]), bits(wa[j])) << "step " << t << " element " << j;
      ASSERT_EQ(bits(opt.exp_avg(0).data[j]), bits(ma[j]));
      ASSERT_EQ(bits(opt.exp_avg_sq(0).data[j]), bits(va[j]));
      ASSERT_EQ(bits(b.value.data[j]), bits(wb[j])) << "no-decay parameter, step " << t << " element " << j;
    }
  }
  EXPECT_EQ(opt.step_count(), 6u);
}

// Tolerance: per step, w is rounded twice (<= ulp(w) together) and the
// increment lr*m_hat/(sqrt(v_hat)+eps) carries a relative error of a few
// dozen FP32 ulps; |m_hat/sqrt(v_hat)| <= 3 for these grads, so 64 * 2^-24 *
// 3 * lr bounds it. Errors add over steps.
TEST(AdamW, Fp32WithinStatedBoundOfFp64) {
  const size_t n = 33;
  std::vector<float> w0(n);
  for (size_t j = 0; j < n; ++j) w0[j] = float(std::cos(double(j)) * 2.0);
  Slot a(w0);
  AdamW opt({param_of(a, 1)});
  std::vector<double> w(w0.begin(), w0.end()), m(n), v(n);
  const double lr = 1e-2;
  const int steps = 20;
  for (int t = 1; t <= steps; ++t) {
    for (size_t j = 0; j < n; ++j) a.grad.data[j] = grad_at(j, t);
    opt.step(lr, uint32_t(t));
    for (size_t j = 0; j < n; ++j) adamw_fp64(w[j], m[j], v[j], grad_at(j, t), t, lr, 1e-2);
  }
  for (size_t j = 0; j < n; ++j) {
    const double ulp = std::nextafter(std::fabs(float(w[j])) * 1.01f, INFINITY) - std::fabs(float(w[j])) * 1.01f;
    const double tol = steps * (ulp + 64.0 * 0x1p-24 * 3.0 * lr);
    EXPECT_NEAR(a.value.data[j], w[j], tol) << "element " << j;
  }
}

// Produced by torch 1.13.1 (CPU, AVX2), running the op sequence of PyTorch
// 2.x's _single_tensor_adamw with torch ops (1.13's own AdamW still used
// exp_avg.mul_(beta1).add_(grad, alpha=1-beta1) instead of lerp_), and by
// torch.optim.SGD itself:
//   import math, torch
//   n = 20
//   p0 = [(j - 9.5) * 0.173 for j in range(n)]
//   gs = [[((j * 7 + t * 3) % 11 - 5) * 0.0731 + 0.001 * t for j in range(n)] for t in range(1, 4)]
//   hx = lambda t: ", ".join(float(x).hex() for x in t.tolist())
//   for kw in [dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
//              dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)]:
//       p = torch.tensor(p0, dtype=torch.float32, requires_grad=True)
//       opt = torch.optim.SGD([p], **kw)
//       for g in gs:
//           p.grad = torch.tensor(g, dtype=torch.float32); opt.step()
//       print(hx(p.detach()))
//   lr, b1, b2, eps, wd = 1e-2, 0.9, 0.999, 1e-8, 1e-2
//   p = torch.tensor(p0, dtype=torch.float32); m = torch.zeros(n); v = torch.zeros(n)
//   for t, g in enumerate(gs, 1):
//       g = torch.tensor(g, dtype=torch.float32)
//       p.mul_(1 - lr * wd)
//       m.lerp_(g, 1 - b1)
//       v.mul_(b2).addcmul_(g, g, value=1 - b2)
//       bc1 = 1 - b1 ** float(t); bc2 = 1 - b2 ** float(t)
//       step_size = lr / bc1
//       denom = (v.sqrt() / math.sqrt(bc2)).add_(eps)
//       p.addcdiv_(m, denom, value=-step_size)
//   print(hx(p)); print(hx(m)); print(hx(v))
constexpr size_t kTorchN = 20;
constexpr float kTorchSgdDampened[kTorchN] = {-0x1.a287e2p+0f, -0x1.8666f8p+0f, -0x1.55be0ap+0f, -0x1.146ce6p+0f,
                                              -0x1.f097f2p-1f, -0x1.8f461cp-1f, -0x1.0ca3ccp-1f, -0x1.a8c3eap-2f,
                                              -0x1.303b54p-2f, 0x1.f24602p-6f,  0x1.76064ap-9f,  0x1.0830a6p-2f,
                                              0x1.78b458p-2f,  0x1.1dac02p-1f,  0x1.a04e52p-1f,  0x1.d89028p-1f,
                                              0x1.1cf1p+0f,    0x1.5e4228p+0f,  0x1.7a6314p+0f,  0x1.988536p+0f};
constexpr float kTorchSgdNesterov[kTorchN] = {-0x1.a82e9p+0f,  -0x1.86aeeep+0f, -0x1.5650dcp+0f, -0x1.155952p+0f,
                                              -0x1.e7b36p-1f,  -0x1.86f73cp-1f, -0x1.050824p-1f, -0x1.8411c4p-2f,
                                              -0x1.5f0b94p-2f, 0x1.0512cap-4f,  -0x1.794c62p-6f, 0x1.d892dp-3f,
                                              0x1.7247eep-2f,  0x1.19e01ap-1f,  0x1.9bcf32p-1f,  0x1.dece74p-1f,
                                              0x1.1fc54ap+0f,  0x1.60bcd8p+0f,  0x1.823c7ap+0f,  0x1.8b7e04p+0f};
constexpr float kTorchAdamWParam[kTorchN] = {-0x1.a2975ap+0f, -0x1.7bcc6ap+0f, -0x1.510638p+0f, -0x1.1bc6dcp+0f,
                                             -0x1.eb2a16p-1f, -0x1.962a28p-1f, -0x1.2b182ap-1f, -0x1.bdc35cp-2f,
                                             -0x1.0a7308p-2f, -0x1.fb4172p-5f, 0x1.053158p-4f,  0x1.11b8f2p-2f,
                                             0x1.ace4acp-2f,  0x1.2bfebep-1f,  0x1.967d7cp-1f,  0x1.e2e118p-1f,
                                             0x1.1bf086p+0f,  0x1.517982p+0f,  0x1.7794cp+0f,   0x1.a468d4p+0f};
constexpr float kTorchAdamWExpAvg[kTorchN] = {0x1.9206fep-6f,  0x1.55c0f8p-7f,  0x1.d25e1cp-9f,  0x1.35d5ap-8f,
                                              -0x1.33623p-7f,  -0x1.0a45d8p-6f, -0x1.ee3852p-7f, -0x1.de42a8p-6f,
                                              0x1.6b4c4ap-5f,  -0x1.1dd6ep-5f,  0x1.7edd5ap-6f,  0x1.9206fep-6f,
                                              0x1.55c0f8p-7f,  0x1.d25e1cp-9f,  0x1.35d5ap-8f,   -0x1.33623p-7f,
                                              -0x1.0a45d8p-6f, -0x1.ee3852p-7f, -0x1.de42a8p-6f, 0x1.6b4c4ap-5f};
constexpr float kTorchAdamWExpAvgSq[kTorchN] = {0x1.dde24ep-14f, 0x1.7c13b2p-13f, 0x1.70b6fap-13f, 0x1.96c478p-14f,
                                                0x1.6f27c4p-13f, 0x1.7a2efep-13f, 0x1.d5fe2ap-14f, 0x1.a5679cp-13f,
                                                0x1.55abd8p-13f, 0x1.4dc7bp-13f,  0x1.aa6abcp-13f, 0x1.dde24ep-14f,
                                                0x1.7c13b2p-13f, 0x1.70b6fap-13f, 0x1.96c478p-14f, 0x1.6f27c4p-13f,
                                                0x1.7a2efep-13f, 0x1.d5fe2ap-14f, 0x1.a5679cp-13f, 0x1.55abd8p-13f};

// The oracle's inputs, rounded to float as torch.tensor rounds a Python float.
float torch_p0(size_t j) { return float((double(j) - 9.5) * 0.173); }
float torch_grad(size_t j, int t) { return float(double(int((j * 7 + t * 3) % 11) - 5) * 0.0731 + 0.001 * t); }

TEST(AdamW, Fp32MatchesTorchBitExact) {
  std::vector<float> w0(kTorchN);
  for (size_t j = 0; j < kTorchN; ++j) w0[j] = torch_p0(j);
  Slot a(w0);
  AdamW opt({param_of(a, 1)});
  for (int t = 1; t <= 3; ++t) {
    for (size_t j = 0; j < kTorchN; ++j) a.grad.data[j] = torch_grad(j, t);
    opt.step(1e-2, uint32_t(t));
  }
  for (size_t j = 0; j < kTorchN; ++j) {
    EXPECT_EQ(bits(a.value.data[j]), bits(kTorchAdamWParam[j])) << "element " << j;
    EXPECT_EQ(bits(opt.exp_avg(0).data[j]), bits(kTorchAdamWExpAvg[j])) << "element " << j;
    EXPECT_EQ(bits(opt.exp_avg_sq(0).data[j]), bits(kTorchAdamWExpAvgSq[j])) << "element " << j;
  }
}

// ---- SGD -------------------------------------------------------------------

TEST(Sgd, MatchesTorchBitExact) {
  const SgdConfig dampened{.momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01};
  const SgdConfig nesterov{.momentum = 0.9, .weight_decay = 0.01, .nesterov = true};
  const float* expected[] = {kTorchSgdDampened, kTorchSgdNesterov};
  int k = 0;
  for (const SgdConfig& cfg : {dampened, nesterov}) {
    std::vector<float> w0(kTorchN);
    for (size_t j = 0; j < kTorchN; ++j) w0[j] = torch_p0(j);
    Slot a(w0);
    Sgd opt({param_of(a, 1)}, cfg);
    for (int t = 1; t <= 3; ++t) {
      for (size_t j = 0; j < kTorchN; ++j) a.grad.data[j] = torch_grad(j, t);
      opt.step(0.1, uint32_t(t));
    }
    for (size_t j = 0; j < kTorchN; ++j) EXPECT_EQ(bits(a.value.data[j]), bits(expected[k][j])) << k << " " << j;
    ++k;
  }
}

// torch/optim/sgd.py per element: d = fma(p, wd, g); buf = d (first step)
// else buf = fma(d, 1 - dampening, buf * momentum); nesterov: d = fma(buf,
// momentum, d) else d = buf; p = fma(d, -lr, p) (add with alpha is an fma
// in ATen's vectorised kernel).
TEST(Sgd, MomentumFollowsPyTorchOpOrderBitExact) {
  for (const bool nest : {false, true}) {
    const double mom = 0.9, damp = nest ? 0.0 : 0.25, wd = 0.05, lr = 0.03;
    const std::vector<float> w0 = {0.5f, -1.25f, 2.0f, 0.1f, -0.3f, 3.5f, -0.007f};
    Slot a(w0);
    Sgd opt({param_of(a, 1)}, {.momentum = mom, .dampening = damp, .weight_decay = wd, .nesterov = nest});
    std::vector<float> w = w0, buf(w0.size());
    for (int t = 1; t <= 5; ++t) {
      for (size_t j = 0; j < w0.size(); ++j) a.grad.data[j] = grad_at(j, t);
      opt.step(lr, uint32_t(t));
      for (size_t j = 0; j < w0.size(); ++j) {
        float d = std::fma(w[j], float(wd), grad_at(j, t));
        buf[j] = t == 1 ? d : std::fma(d, float(1.0 - damp), buf[j] * float(mom));
        d = nest ? std::fma(buf[j], float(mom), d) : buf[j];
        w[j] = std::fma(d, float(-lr), w[j]);
        ASSERT_EQ(bits(a.value.data[j]), bits(w[j])) << "nesterov " << nest << " step " << t << " element " << j;
        ASSERT_EQ(bits(opt.momentum_buffer(0).data[j]), bits(buf[j]));
      }
    }
  }
}

// Tolerance: per step w rounds once (1/2 ulp(w)) and lr*buf carries a
// relative error of at most ~16 ulps (d, buf * momentum, the fma: each a
// rounding, compounded over <= 10 steps with momentum 0.9 < 1).
TEST(Sgd, Fp32WithinStatedBoundOfFp64) {
  const size_t n = 25;
  std::vector<float> w0(n);
  for (size_t j = 0; j < n; ++j) w0[j] = float(std::cos(double(j)) * 2.0);
  Slot a(w0);
  Sgd opt({param_of(a, 1)}, {.momentum = 0.9, .weight_decay = 1e-3});
  std::vector<double> w(w0.begin(), w0.end()), buf(n);
  const double lr = 0.05;
  const int steps = 10;
  double max_buf = 0;
  for (int t = 1; t <= steps; ++t) {
    for (size_t j = 0; j < n; ++j) a.grad.data[j] = grad_at(j, t);
    opt.step(lr, uint32_t(t));
    for (size_t j = 0; j < n; ++j) {
      const double d = grad_at(j, t) + 1e-3 * w[j];
      buf[j] = t == 1 ? d : 0.9 * buf[j] + d;
      w[j] -= lr * buf[j];
      max_buf = std::max(max_buf, std::fabs(buf[j]));
    }
  }
  for (size_t j = 0; j < n; ++j) {
    const double ulp = 0x1p-23 * std::max(1.0, std::fabs(w[j]) * 2.0);
    EXPECT_NEAR(a.value.data[j], w[j], steps * (0.5 * ulp + 16 * 0x1p-24 * lr * max_buf)) << "element " << j;
  }
}

TEST(Sgd, DefaultsArePlainGradientStep) {
  Slot a({1.0f, -2.0f});
  a.grad.data = {0.5f, 0.25f};
  Sgd opt({param_of(a, 1)});
  opt.step(0.1, 0);
  EXPECT_EQ(bits(a.value.data[0]), bits(std::fma(0.5f, -0.1f, 1.0f)));
  EXPECT_EQ(bits(a.value.data[1]), bits(std::fma(0.25f, -0.1f, -2.0f)));
  EXPECT_EQ(opt.momentum_buffer(0).size(), 0u);
}

TEST(Optimizer, RejectsMalformedParametersAndConfigs) {
  Slot a({1.0f, 2.0f});
  Tensor short_grad({1});
  Param bad = param_of(a, 1);
  bad.grad = &short_grad;
  EXPECT_THROW(AdamW({bad}), ConfigError);
  EXPECT_THROW(Sgd({bad}), ConfigError);
  Param none = param_of(a, 1);
  none.grad = nullptr;
  EXPECT_THROW(AdamW({none}), ConfigError);
  EXPECT_THROW(AdamW({param_of(a, 1)}, {.beta1 = 1.0}), ConfigError);
  EXPECT_THROW(Sgd({param_of(a, 1)}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}), ConfigError);
  EXPECT_THROW(Sgd({param_of(a, 1)}, {.momentum = -1.0}), ConfigError);
}

// ---- formats and update rounding --------------------------------------------

// With an fp32 master, rne, sr and kahan are all PyTorch's FP32 update.
TEST(UpdateRounding, Fp32MasterReducesToFp32Update) {
  std::vector<std::vector<float>> results;
  for (UpdateRounding u : {UpdateRounding::rne, UpdateRounding::sr, UpdateRounding::kahan}) {
    Slot a({0.5f, -1.25f, 2.0f, 0.1f});
    AdamW opt({param_of(a, 3)}, {}, {.update_rounding = u, .seed = 7});
    for (int t = 1; t <= 4; ++t) {
      for (size_t j = 0; j < 4; ++j) a.grad.data[j] = grad_at(j, t);
      opt.step(1e-2, uint32_t(t));
    }
    results.push_back(a.value.data);
  }
  for (size_t j = 0; j < 4; ++j) {
    EXPECT_EQ(bits(results[1][j]), bits(results[0][j]));
    EXPECT_EQ(bits(results[2][j]), bits(results[0][j]));
  }
}

// AdamW's state update with bf16 state (each op's FP32 result rounded to
// bf16, denom's ops too), written out in the stated op order; returns the
// update direction u = fp32(-(lr / bc1)) * m / denom (docs/training.md, "FP32
// op order").
float bf16_state_adamw_update(float g, float& m, float& v, int t, double lr) {
  m = bf16_rne(std::fma(0.1f, g - m, m));
  v = bf16_rne(v * 0.999f);
  v = bf16_rne(std::fma(float(1.0 - 0.999) * g, g, v));
  const double bc1 = 1.0 - std::pow(0.9, double(t)), bc2 = 1.0 - std::pow(0.999, double(t));
  float denom = bf16_rne(std::sqrt(v));
  denom = bf16_rne(denom / float(std::sqrt(bc2)));
  denom = bf16_rne(denom + 1e-8f);
  return (float(-(lr / bc1)) * m) / denom;
}

// fp8-block's numerics: fp32 master, bf16 moments. Every state op's FP32
// result is rounded to bf16 (as PyTorch ops on bf16 tensors compute in FP32
// and round once per op); denom's ops too, as they act on a bf16 tensor.
TEST(UpdateRounding, Bf16StateHoldsBf16ValuesAfterEachStep) {
  const std::vector<float> w0 = {0.5f, -1.25f, 2.0f, 0.1f, -0.3f};
  Slot a(w0);
  AdamW opt({param_of(a, 1)}, {}, {.state_format = formats::bf16});
  std::vector<float> w = w0, m(w0.size()), v(w0.size());
  const double lr = 1e-2, wd = 1e-2;
  for (int t = 1; t <= 5; ++t) {
    opt.step(lr, uint32_t(t));  // grads set below apply from the next step; the first sees zeros
    for (size_t j = 0; j < w0.size(); ++j) {
      const float g = t == 1 ? 0.0f : grad_at(j, t - 1);
      w[j] = w[j] * float(1.0 - lr * wd);
      w[j] = w[j] + bf16_state_adamw_update(g, m[j], v[j], t, lr);
      const float mo = opt.exp_avg(0).data[j], vo = opt.exp_avg_sq(0).data[j];
      ASSERT_TRUE(is_bf16_value(mo) && is_bf16_value(vo)) << "step " << t << " element " << j;
      ASSERT_EQ(bits(mo), bits(m[j])) << "step " << t << " element " << j;
      ASSERT_EQ(bits(vo), bits(v[j])) << "step " << t << " element " << j;
      ASSERT_EQ(bits(a.value.data[j]), bits(w[j])) << "step " << t << " element " << j;
    }
    for (size_t j = 0; j < w0.size(); ++j) a.grad.data[j] = grad_at(j, t);
  }
}

// bf16-pure with rne: w = bf16_rne(w_new), w_new the FP32 result of
// PyTorch's update ops (mul_ then addcdiv_), rounded once.
TEST(UpdateRounding, Bf16MasterRneRoundsFp32UpdateOnce) {
  const std::vector<float> w0 = {0.5f, -1.25f, 2.0f, 0.1f, -0.3f};
  Slot a(w0, formats::bf16);
  AdamW opt({param_of(a, 1)}, {}, {.state_format = formats::bf16});
  std::vector<float> w = w0, m(w0.size()), v(w0.size());
  const double lr = 0.05, wd = 1e-2;
  for (int t = 1; t <= 6; ++t) {
    for (size_t j = 0; j < w0.size(); ++j) a.grad.data[j] = bf16_rne(grad_at(j, t));
    opt.step(lr, uint32_t(t));
    for (size_t j = 0; j < w0.size(); ++j) {
      const float g = bf16_rne(grad_at(j, t));
      w[j] = bf16_rne(w[j] * float(1.0 - lr * wd) + bf16_state_adamw_update(g, m[j], v[j], t, lr));
      ASSERT_EQ(bits(a.value.data[j]), bits(w[j])) << "step " << t << " element " << j;
    }
  }
  EXPECT_NE(bits(a.value.data[0]), bits(0.5f));  // lr 0.05: updates of several bf16 ulps, the weights move
}

// The bf16 stagnation phenomenon (docs/training.md, "Updates in low
// precision"; Zamirai et al., arXiv 2010.06192): AdamW with a constant grad
// takes steps of ~lr = 1e-3 from w = 1, below half the bf16 spacing below 1
// (2^-9 ~ 1.95e-3). bf16 state everywhere and weight decay 0, so the state
// and the increments do not depend on w: the same optimizer with an fp32
// master is the FP32 trajectory of the very same increments.
struct StagnationRun {
  static constexpr size_t kN = 4096;  // independent SR streams (element index)
  static constexpr int kSteps = 200;
  std::vector<std::vector<float>> w;  // per step, all elements
  explicit StagnationRun(const Format& master, UpdateRounding u) {
    Slot a(std::vector<float>(kN, 1.0f), master);
    AdamW opt({param_of(a, 5)}, {.weight_decay = 0.0},
              {.state_format = formats::bf16, .update_rounding = u, .seed = 42});
    for (int t = 1; t <= kSteps; ++t) {
      std::fill(a.grad.data.begin(), a.grad.data.end(), 0.5f);
      opt.step(1e-3, uint32_t(t));
      w.push_back(a.value.data);
    }
  }
};

TEST(UpdateRounding, Bf16RneStallsBelowHalfUlp) {
  const StagnationRun fp32(formats::fp32, UpdateRounding::rne);
  const StagnationRun rne(formats::bf16, UpdateRounding::rne);
  for (int t = 0; t < StagnationRun::kSteps; ++t) {
    for (float x : rne.w[size_t(t)]) ASSERT_EQ(bits(x), bits(1.0f)) << "step " << t + 1;
  }
  EXPECT_LT(fp32.w.back()[0], 0.85f);  // the FP32 trajectory moved by ~0.2
}

// SR is unbiased: E[w_T] = the FP32 trajectory. Each step's SR error is zero
// mean given the past with variance <= spacing^2 / 4, spacing = 2^-8 on
// [0.5, 1]; over T steps and N independent elements the mean's standard
// deviation is <= sqrt(T) * 2^-9 / sqrt(N) (~4.3e-4); bound 6 sigma, plus
// T * 2^-24 for the FP32 rounding of w_new.
TEST(UpdateRounding, Bf16SrProgressesInExpectation) {
  const StagnationRun fp32(formats::fp32, UpdateRounding::rne);
  const StagnationRun sr(formats::bf16, UpdateRounding::sr);
  const double n = StagnationRun::kN, steps = StagnationRun::kSteps;
  const double sigma = std::sqrt(steps) * 0x1p-9 / std::sqrt(n);
  for (int t : {49, 99, 199}) {
    double mean = 0;
    for (float x : sr.w[size_t(t)]) {
      ASSERT_TRUE(is_bf16_value(x));
      mean += x;
    }
    mean /= n;
    EXPECT_NEAR(mean, fp32.w[size_t(t)][0], 6 * sigma + steps * 0x1p-24) << "step " << t + 1;
  }
}

// Kahan: w_T differs from the exact sum of the rounded increments by the
// final compensation (|c| <= the bf16 spacing 2^-8) plus the increments'
// own rounding y = bf16(delta - c), |y| < 2^-8, so <= 2^-17 per step.
TEST(UpdateRounding, Bf16KahanTracksFp32Trajectory) {
  const StagnationRun fp32(formats::fp32, UpdateRounding::rne);
  const StagnationRun kahan(formats::bf16, UpdateRounding::kahan);
  const double steps = StagnationRun::kSteps;
  for (int t : {49, 99, 199}) {
    for (float x : kahan.w[size_t(t)]) {
      ASSERT_TRUE(is_bf16_value(x));
      ASSERT_NEAR(x, fp32.w[size_t(t)][0], 0x1p-8 + steps * (0x1p-17 + 0x1p-24)) << "step " << t + 1;
    }
  }
}

// double -> bf16, round to nearest even, on the bits (normal range).
float bf16_rne(double x) {
  uint64_t b = std::bit_cast<uint64_t>(x);
  b += (uint64_t{1} << 44) - 1 + ((b >> 45) & 1);
  return float(std::bit_cast<double>(b & ~((uint64_t{1} << 45) - 1)));
}

// Kahan with a bf16 master, SGD without momentum so delta = fp32(g * -lr):
// y = bf16(delta - c); t = bf16(w + y); c = bf16(bf16(t - w) - y); w = t,
// each difference exact in double here (operands within 53 bits of each
// other), then rounded once.
TEST(UpdateRounding, Bf16KahanRoundsEachOpOnceBitExact) {
  const size_t n = 16;
  std::vector<float> w0(n);
  for (size_t j = 0; j < n; ++j) w0[j] = bf16_rne(0.3 + 0.41 * double(j));
  Slot a(w0, formats::bf16);
  Sgd opt({param_of(a, 4)}, {}, {.update_rounding = UpdateRounding::kahan});
  std::vector<float> w = w0, c(n);
  for (int t = 1; t <= 12; ++t) {
    for (size_t j = 0; j < n; ++j) a.grad.data[j] = bf16_rne(double(grad_at(j, t)));
    const double lr = 7e-3 * t;
    opt.step(lr, uint32_t(t));
    for (size_t j = 0; j < n; ++j) {
      const float delta = a.grad.data[j] * float(-lr);
      const float y = bf16_rne(double(delta) - double(c[j]));
      const float tw = bf16_rne(double(w[j]) + double(y));
      c[j] = bf16_rne(double(bf16_rne(double(tw) - double(w[j]))) - double(y));
      w[j] = tw;
      ASSERT_EQ(bits(a.value.data[j]), bits(w[j])) << "step " << t << " element " << j;
      ASSERT_EQ(bits(opt.kahan_buffer(0).data[j]), bits(c[j])) << "step " << t << " element " << j;
    }
  }
}

// SR is keyed by (seed, param id, step, element): the same key gives the
// same bits, another seed other bits.
TEST(UpdateRounding, SrIsReproducibleAndKeyedBySeed) {
  auto run = [](uint32_t seed) {
    Slot a(std::vector<float>(256, 1.0f), formats::bf16);
    Sgd opt({param_of(a, 9)}, {}, {.update_rounding = UpdateRounding::sr, .seed = seed});
    std::fill(a.grad.data.begin(), a.grad.data.end(), 0.5f);
    for (uint32_t t = 0; t < 3; ++t) opt.step(1e-3, t);
    return a.value.data;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

// ---- LR schedule -------------------------------------------------------------

TEST(LrSchedule, WarmupIsLinearFromFirstStep) {
  const LrSchedule s{.lr = 6e-4, .warmup_steps = 10, .decay_steps = 110, .min_lr = 6e-5};
  EXPECT_EQ(learning_rate(s, 0), 6e-4 * 1.0 / 10.0);
  EXPECT_EQ(learning_rate(s, 4), 6e-4 * 5.0 / 10.0);
  EXPECT_EQ(learning_rate(s, 9), 6e-4);  // (9+1)/10: the peak on the last warm-up step
}

TEST(LrSchedule, CosineFromPeakThroughMidpointToFloor) {
  const LrSchedule s{.lr = 6e-4, .warmup_steps = 10, .decay_steps = 110, .min_lr = 6e-5};
  EXPECT_EQ(learning_rate(s, 10), 6e-4);                        // cos(0) = 1
  EXPECT_NEAR(learning_rate(s, 60), (6e-4 + 6e-5) / 2, 1e-18);  // cos(pi/2) = 0 (6e-17 in double)
  EXPECT_NEAR(learning_rate(s, 35), 6e-5 + (6e-4 - 6e-5) * (1 + std::sqrt(0.5)) / 2, 1e-18);  // cos(pi/4)
  EXPECT_EQ(learning_rate(s, 110), 6e-5);
  EXPECT_EQ(learning_rate(s, 100000), 6e-5);
  const LrSchedule constant{.lr = 1e-3};
  EXPECT_EQ(learning_rate(constant, 0), 1e-3);
  EXPECT_EQ(learning_rate(constant, 12345), 1e-3);
}

TEST(LrSchedule, ValidateRejectsInconsistentSchedules) {
  EXPECT_THROW(validate(LrSchedule{.lr = 1e-3, .min_lr = 2e-3}), ConfigError);
  EXPECT_THROW(validate(LrSchedule{.lr = -1.0}), ConfigError);
  EXPECT_THROW(validate(LrSchedule{.lr = 1e-3, .warmup_steps = 10, .decay_steps = 5}), ConfigError);
  EXPECT_NO_THROW(validate(LrSchedule{.lr = 1e-3, .warmup_steps = 10, .decay_steps = 10}));
}

// ---- clipping ------------------------------------------------------------------

// Grads (3, 4) and (12): per-tensor norms 5 and 12, total 13 exactly.
// torch 1.13.1: a.grad, b.grad = [3., 4.], [12.];
// torch.nn.utils.clip_grad_norm_([a, b], 6.5) returned 13.0 and left
// a.grad = [0x1.7ffffep+0, 0x1.fffffep+0], b.grad = [0x1.7ffffep+2]
// (coef = (1 / fp32(13 + 1e-6)) * 6.5, just below 1/2).
TEST(ClipGradNorm, ScalesByMaxOverNormLikeTorch) {
  Slot a({0.0f, 0.0f}), b({0.0f});
  a.grad.data = {3.0f, 4.0f};
  b.grad.data = {12.0f};
  const std::vector<Param> ps = {param_of(a, 1), param_of(b, 2)};
  EXPECT_EQ(global_grad_norm(ps), 13.0f);
  EXPECT_EQ(clip_grad_norm(ps, 6.5), 13.0f);
  EXPECT_EQ(bits(a.grad.data[0]), bits(0x1.7ffffep+0f));
  EXPECT_EQ(bits(a.grad.data[1]), bits(0x1.fffffep+0f));
  EXPECT_EQ(bits(b.grad.data[0]), bits(0x1.7ffffep+2f));
}

TEST(ClipGradNorm, IsNoOpBelowMaxNorm) {
  Slot a({0.0f, 0.0f, 0.0f});
  a.grad.data = {0.1f, -0.7f, 1e-30f};
  const std::vector<float> before = a.grad.data;
  const std::vector<Param> ps = {param_of(a, 1)};
  const float norm = clip_grad_norm(ps, 1.0);
  EXPECT_NEAR(norm, std::sqrt(0.01 + 0.49), 1e-7);
  for (size_t j = 0; j < 3; ++j) EXPECT_EQ(bits(a.grad.data[j]), bits(before[j]));  // multiplied by exactly 1
}

TEST(ClipGradNorm, ReportsNonFiniteNormWithoutThrowing) {
  Slot a({0.0f, 0.0f});
  a.grad.data = {1.0f, std::numeric_limits<float>::infinity()};
  EXPECT_TRUE(std::isinf(clip_grad_norm(std::vector<Param>{param_of(a, 1)}, 1.0)));
  a.grad.data = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_TRUE(std::isnan(global_grad_norm(std::vector<Param>{param_of(a, 1)})));
  EXPECT_THROW(clip_grad_norm(std::vector<Param>{param_of(a, 1)}, 0.0), ConfigError);
}

// ---- GradScaler ------------------------------------------------------------------

TEST(GradScaler, OverflowSkipsHalvesScaleAndResetsTracker) {
  GradScaler s({.enabled = true, .growth_interval = 3});
  EXPECT_EQ(s.scale(), 65536.0f);
  s.update(false);
  s.update(false);
  EXPECT_EQ(s.growth_tracker(), 2);
  Slot a({0.0f, 0.0f});
  a.grad.data = {1.0f, std::numeric_limits<float>::infinity()};
  EXPECT_TRUE(s.unscale_and_check(std::vector<Param>{param_of(a, 1)}));
  s.update(true);
  EXPECT_EQ(s.scale(), 32768.0f);
  EXPECT_EQ(s.growth_tracker(), 0);
}

TEST(GradScaler, GrowsAfterExactlyGrowthIntervalCleanSteps) {
  GradScaler s({.enabled = true, .init_scale = 8.0f, .growth_interval = 4});
  for (int i = 0; i < 3; ++i) s.update(false);
  EXPECT_EQ(s.scale(), 8.0f);
  EXPECT_EQ(s.growth_tracker(), 3);
  s.update(false);
  EXPECT_EQ(s.scale(), 16.0f);
  EXPECT_EQ(s.growth_tracker(), 0);
  GradScaler big({.enabled = true, .init_scale = 0x1p127f, .growth_interval = 1});
  big.update(false);  // 2^128 is inf in fp32: the kernel keeps the scale
  EXPECT_EQ(big.scale(), 0x1p127f);
  EXPECT_EQ(big.growth_tracker(), 0);
}

TEST(GradScaler, ScaleMayFallBelowOne) {
  GradScaler s({.enabled = true, .init_scale = 2.0f});
  for (int i = 0; i < 3; ++i) s.update(true);
  EXPECT_EQ(s.scale(), 0.25f);
}

// inv = fp32(1 / fp64(S)): for S = 3, g = 0x1.047ae2p+2 gives
// fp32(g * fp32(1/3)) = 0x1.5b4e84p+0, whereas g / 3 would be 0x1.5b4e82p+0.
TEST(GradScaler, UnscaleMultipliesByFp32ReciprocalOfFp64Scale) {
  GradScaler s({.enabled = true, .init_scale = 3.0f});
  Slot a({0.0f, 0.0f});
  a.grad.data = {0x1.047ae2p+2f, 6.0f};
  EXPECT_FALSE(s.unscale_and_check(std::vector<Param>{param_of(a, 1)}));
  EXPECT_EQ(bits(a.grad.data[0]), bits(0x1.5b4e84p+0f));
  EXPECT_EQ(bits(a.grad.data[1]), bits(6.0f * float(1.0 / 3.0)));
}

TEST(GradScaler, NaNInScaledGradIsFound) {
  GradScaler s({.enabled = true});
  Slot a({0.0f});
  a.grad.data = {std::numeric_limits<float>::quiet_NaN()};
  EXPECT_TRUE(s.unscale_and_check(std::vector<Param>{param_of(a, 1)}));
}

TEST(GradScaler, DisabledScalerDoesNothing) {
  GradScaler s(LossScaling{});
  EXPECT_EQ(s.scale(), 1.0f);
  Slot a({0.0f});
  a.grad.data = {std::numeric_limits<float>::infinity()};
  EXPECT_FALSE(s.unscale_and_check(std::vector<Param>{param_of(a, 1)}));
  s.update(true);
  EXPECT_EQ(s.scale(), 1.0f);
  EXPECT_THROW(GradScaler({.enabled = true, .growth_factor = 1.0f}), ConfigError);
  EXPECT_THROW(GradScaler({.enabled = true, .init_scale = 0.0f}), ConfigError);
}

}  // namespace
}  // namespace fpsim::experiments
