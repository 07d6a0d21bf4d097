// Elementwise ops (docs/training.md, "Layers"): ReLU, GELU (tanh form) and
// the residual add. ReLU, GELU and add are on none of autocast's lists:
// they run in FP32 and write their input's format; an add of two different
// formats writes fp32 (PyTorch type promotion under autocast).
#pragma once

#include "fpsim/experiments/tensor.hpp"

namespace fpsim::experiments {

// y = max(x, 0) in x.format: x when x > 0 or x is NaN (PyTorch propagates
// NaN), else +0.
template <class T>
void relu_forward(const BasicTensor<T>& x, BasicTensor<T>& y);

// dx = (x <= 0 ? 0 : dy), rounded to x.format. ReLU'(0) = 0 as PyTorch's
// threshold_backward; a NaN x passes dy through.
template <class T>
void relu_backward(const BasicTensor<T>& x, const BasicTensor<T>& dy, BasicTensor<T>& dx);

// y = 0.5·x·(1 + tanh(sqrt(2/pi)·(x + 0.044715·x³))) (Hendrycks & Gimpel
// 2016; PyTorch gelu(approximate='tanh')), evaluated in FP32 in the order of
// PyTorch's ActivationGeluKernel.cu and rounded to x.format.
template <class T>
void gelu_forward(const BasicTensor<T>& x, BasicTensor<T>& y);

// dx = dy·gelu'(x) in FP32 (the order of GeluBackwardCUDAKernelImpl),
// rounded to x.format.
template <class T>
void gelu_backward(const BasicTensor<T>& x, const BasicTensor<T>& dy, BasicTensor<T>& dx);

// y = a + b (same shape), one FP32 add per element, rounded to
// binary_result_format(a.format, b.format).
template <class T>
void residual_forward(const BasicTensor<T>& a, const BasicTensor<T>& b, BasicTensor<T>& y);

// da = dy rounded to a.format, db = dy rounded to b.format.
template <class T>
void residual_backward(const BasicTensor<T>& a, const BasicTensor<T>& b, const BasicTensor<T>& dy, BasicTensor<T>& da,
                       BasicTensor<T>& db);

}  // namespace fpsim::experiments
