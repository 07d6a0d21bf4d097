// LayerNorm over the last dimension (Ba et al. 2016; PyTorch
// torch.nn.LayerNorm with eps = 1e-5 and biased variance), forward and
// backward as in llm.c train_gpt2.c, with the FP32 operation order of
// docs/training.md "LayerNorm". layer_norm is on autocast's fp32 list, so its
// output is written in the recipe's fp32_ops_format (fp32 under AMP).
#pragma once

#include <vector>

#include "fpsim/experiments/tensor.hpp"
#include "fpsim/format.hpp"

namespace fpsim::experiments {

// PyTorch's default eps (torch.nn.LayerNorm).
inline constexpr double layernorm_eps = 1e-5;

// What backward needs from forward, per row: the mean and 1/sqrt(var + eps)
// in FP32 (T). Owned by the caller, (re)sized by forward.
template <class T>
struct LayerNormCache {
  std::vector<T> mean;
  std::vector<T> rstd;
};

// x [..., C], gamma [C], beta [C]. Writes y (x's shape) rounded to and
// tagged out_format, and fills cache. Throws ConfigError on shape mismatch.
template <class T>
void layernorm_forward(const BasicTensor<T>& x, const BasicTensor<T>& gamma, const BasicTensor<T>& beta,
                       const Format& out_format, BasicTensor<T>& y, LayerNormCache<T>& cache);

// dy (x's shape). Writes (overwrites) dx in x.format, and dgamma and dbeta
// in gamma.format (gamma and beta are parameters of one module and share
// their master format).
template <class T>
void layernorm_backward(const BasicTensor<T>& x, const BasicTensor<T>& gamma, const LayerNormCache<T>& cache,
                        const BasicTensor<T>& dy, BasicTensor<T>& dx, BasicTensor<T>& dgamma, BasicTensor<T>& dbeta);

}  // namespace fpsim::experiments
