// Elementwise layers (docs/training.md, "Activations and residual add"):
// ReLU, GELU (tanh form) and the residual add, each in FP32 (T) with one
// rounding of the result to its format.
#include "fpsim/experiments/layers/activations.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "layer_util.hpp"

namespace fpsim::experiments {

namespace {

template <class T>
void expect_same_shape(const BasicTensor<T>& a, const BasicTensor<T>& b, const char* what) {
  layer_util::expect_shape(b, a.shape, what);
}

// The constants of PyTorch's tanh GELU (ActivationGeluKernel.cu): kBeta =
// M_SQRT2 · M_2_SQRTPI · 0.5 = sqrt(2/pi), computed in double and stored in
// T; kKappa = 0.044715.
template <class T>
constexpr T gelu_beta = T(std::numbers::sqrt2*(2 * std::numbers::inv_sqrtpi) * 0.5);
template <class T>
constexpr T gelu_kappa = T(0.044715);

}  // namespace

template <class T>
void relu_forward(const BasicTensor<T>& x, BasicTensor<T>& y) {
  layer_util::reshape(y, x.shape, x.format);
  for (size_t i = 0; i < x.size(); ++i) {
    const T v = x.data[i];
    y.data[i] = (v > 0 || std::isnan(v)) ? v : T(0);
  }
}

template <class T>
void relu_backward(const BasicTensor<T>& x, const BasicTensor<T>& dy, BasicTensor<T>& dx) {
  expect_same_shape(x, dy, "relu gradient dy");
  layer_util::reshape(dx, x.shape, x.format);
  // PyTorch: threshold_backward(grad, result, 0) = result <= 0 ? 0 : grad.
  for (size_t i = 0; i < x.size(); ++i) dx.data[i] = x.data[i] <= 0 ? T(0) : dy.data[i];
  round_to_format(dx.span(), x.format);
}

template <class T>
void gelu_forward(const BasicTensor<T>& x, BasicTensor<T>& y) {
  layer_util::reshape(y, x.shape, x.format);
  for (size_t i = 0; i < x.size(); ++i) {
    const T v = x.data[i];
    const T cube = v * v * v;
    const T inner = gelu_beta<T> * (v + gelu_kappa<T> * cube);
    y.data[i] = T(0.5) * v * (T(1) + std::tanh(inner));
  }
  round_to_format(y.span(), x.format);
}

template <class T>
void gelu_backward(const BasicTensor<T>& x, const BasicTensor<T>& dy, BasicTensor<T>& dx) {
  expect_same_shape(x, dy, "gelu gradient dy");
  layer_util::reshape(dx, x.shape, x.format);
  for (size_t i = 0; i < x.size(); ++i) {
    const T v = x.data[i];
    const T sq = v * v;
    const T cube = sq * v;
    const T inner = gelu_beta<T> * (v + gelu_kappa<T> * cube);
    const T t = std::tanh(inner);
    const T left = T(0.5) * v;
    const T right = T(1) + t;
    const T left_derivative = T(0.5) * right;
    const T tanh_derivative = T(1) - t * t;
    const T inner_derivative = gelu_beta<T> * (T(1) + T(3) * gelu_kappa<T> * sq);
    const T right_derivative = left * tanh_derivative * inner_derivative;
    dx.data[i] = dy.data[i] * (left_derivative + right_derivative);
  }
  round_to_format(dx.span(), x.format);
}

template <class T>
void residual_forward(const BasicTensor<T>& a, const BasicTensor<T>& b, BasicTensor<T>& y) {
  expect_same_shape(a, b, "residual add operand b (a's shape)");
  const Format f = binary_result_format(a.format, b.format);
  layer_util::reshape(y, a.shape, f);
  for (size_t i = 0; i < a.size(); ++i) y.data[i] = a.data[i] + b.data[i];
  round_to_format(y.span(), f);
}

template <class T>
void residual_backward(const BasicTensor<T>& a, const BasicTensor<T>& b, const BasicTensor<T>& dy, BasicTensor<T>& da,
                       BasicTensor<T>& db) {
  expect_same_shape(a, b, "residual add operand b (a's shape)");
  expect_same_shape(a, dy, "residual add gradient dy");
  layer_util::reshape(da, a.shape, a.format);
  layer_util::reshape(db, b.shape, b.format);
  da.data = dy.data;
  db.data = dy.data;
  round_to_format(da.span(), a.format);
  round_to_format(db.span(), b.format);
}

template void relu_forward<float>(const Tensor&, Tensor&);
template void relu_forward<double>(const Tensor64&, Tensor64&);
template void relu_backward<float>(const Tensor&, const Tensor&, Tensor&);
template void relu_backward<double>(const Tensor64&, const Tensor64&, Tensor64&);
template void gelu_forward<float>(const Tensor&, Tensor&);
template void gelu_forward<double>(const Tensor64&, Tensor64&);
template void gelu_backward<float>(const Tensor&, const Tensor&, Tensor&);
template void gelu_backward<double>(const Tensor64&, const Tensor64&, Tensor64&);
template void residual_forward<float>(const Tensor&, const Tensor&, Tensor&);
template void residual_forward<double>(const Tensor64&, const Tensor64&, Tensor64&);
template void residual_backward<float>(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&);
template void residual_backward<double>(const Tensor64&, const Tensor64&, const Tensor64&, Tensor64&, Tensor64&);

}  // namespace fpsim::experiments
