// LayerNorm (docs/training.md, "LayerNorm"), after llm.c's
// layernorm_forward / layernorm_backward, with every FP32 operation in a
// stated order: sums run over the index in order from +0, sums of products
// are FMA chains, everything else is one correctly rounded operation.
#include "fpsim/experiments/layers/layernorm.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "layer_util.hpp"

namespace fpsim::experiments {

namespace {

template <class T>
size_t checked_width(const BasicTensor<T>& x, const BasicTensor<T>& gamma) {
  const size_t c = layer_util::last_dim(x, "layernorm input x");
  layer_util::expect_shape(gamma, {c}, "layernorm gamma (x's last dimension)");
  return c;
}

}  // namespace

template <class T>
void layernorm_forward(const BasicTensor<T>& x, const BasicTensor<T>& gamma, const BasicTensor<T>& beta,
                       const Format& out_format, BasicTensor<T>& y, LayerNormCache<T>& cache) {
  const size_t c = checked_width(x, gamma);
  layer_util::expect_shape(beta, {c}, "layernorm beta (x's last dimension)");
  const size_t rows = x.size() / c;
  const T width = T(c);
  const T eps = T(layernorm_eps);
  layer_util::reshape(y, x.shape, out_format);
  cache.mean.resize(rows);
  cache.rstd.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    const T* xr = x.ptr() + r * c;
    T sum = 0;
    for (size_t i = 0; i < c; ++i) sum += xr[i];
    const T mean = sum / width;
    // Biased variance (PyTorch normalizes by C): an FMA chain of (x - mean)².
    T sq = 0;
    for (size_t i = 0; i < c; ++i) {
      const T d = xr[i] - mean;
      sq = std::fma(d, d, sq);
    }
    const T var = sq / width;
    // 1/sqrt as two rounded operations (PyTorch's CUDA kernel uses rsqrt,
    // whose last bit is not specified).
    const T rstd = T(1) / std::sqrt(var + eps);
    T* yr = y.ptr() + r * c;
    for (size_t i = 0; i < c; ++i) {
      const T xhat = (xr[i] - mean) * rstd;
      yr[i] = xhat * gamma.data[i] + beta.data[i];
    }
    cache.mean[r] = mean;
    cache.rstd[r] = rstd;
  }
  round_to_format(y.span(), out_format);
}

template <class T>
void layernorm_backward(const BasicTensor<T>& x, const BasicTensor<T>& gamma, const LayerNormCache<T>& cache,
                        const BasicTensor<T>& dy, BasicTensor<T>& dx, BasicTensor<T>& dgamma, BasicTensor<T>& dbeta) {
  const size_t c = checked_width(x, gamma);
  const size_t rows = x.size() / c;
  layer_util::expect_shape(dy, x.shape, "layernorm gradient dy");
  if (cache.mean.size() != rows || cache.rstd.size() != rows) {
    throw ConfigError("layernorm backward: the cache holds " + std::to_string(cache.mean.size()) + " rows, x has " +
                      std::to_string(rows) + " (run layernorm_forward on this x first)");
  }
  const T width = T(c);
  layer_util::reshape(dx, x.shape, x.format);
  layer_util::reshape(dgamma, gamma.shape, gamma.format);
  layer_util::reshape(dbeta, gamma.shape, gamma.format);
  std::fill(dgamma.data.begin(), dgamma.data.end(), T(0));
  std::fill(dbeta.data.begin(), dbeta.data.end(), T(0));
  for (size_t r = 0; r < rows; ++r) {
    const T* xr = x.ptr() + r * c;
    const T* dyr = dy.ptr() + r * c;
    T* dxr = dx.ptr() + r * c;
    const T mean = cache.mean[r];
    const T rstd = cache.rstd[r];
    // g = gamma·dy; mean_g = Σg / C; mean_gx = Σ g·xhat / C (llm.c's
    // dnorm_mean and dnorm_norm_mean).
    T sum_g = 0;
    T sum_gx = 0;
    for (size_t i = 0; i < c; ++i) {
      const T xhat = (xr[i] - mean) * rstd;
      const T g = gamma.data[i] * dyr[i];
      sum_g += g;
      sum_gx = std::fma(g, xhat, sum_gx);
    }
    const T mean_g = sum_g / width;
    const T mean_gx = sum_gx / width;
    for (size_t i = 0; i < c; ++i) {
      const T xhat = (xr[i] - mean) * rstd;
      const T g = gamma.data[i] * dyr[i];
      dxr[i] = ((g - mean_g) - xhat * mean_gx) * rstd;
      // Parameter gradients: sums over rows r = 0..N-1 in order from +0.
      dbeta.data[i] += dyr[i];
      dgamma.data[i] = std::fma(dyr[i], xhat, dgamma.data[i]);
    }
  }
  round_to_format(dx.span(), x.format);
  round_to_format(dgamma.span(), gamma.format);
  round_to_format(dbeta.span(), gamma.format);
}

template void layernorm_forward<float>(const Tensor&, const Tensor&, const Tensor&, const Format&, Tensor&,
                                       LayerNormCache<float>&);
template void layernorm_forward<double>(const Tensor64&, const Tensor64&, const Tensor64&, const Format&, Tensor64&,
                                        LayerNormCache<double>&);
template void layernorm_backward<float>(const Tensor&, const Tensor&, const LayerNormCache<float>&, const Tensor&,
                                        Tensor&, Tensor&, Tensor&);
template void layernorm_backward<double>(const Tensor64&, const Tensor64&, const LayerNormCache<double>&,
                                         const Tensor64&, Tensor64&, Tensor64&, Tensor64&);

}  // namespace fpsim::experiments
