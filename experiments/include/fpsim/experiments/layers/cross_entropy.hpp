// Softmax cross-entropy (mean over rows), forward and backward, in FP32
// with the operation order of docs/training.md "Cross-entropy". On
// autocast's fp32 list: the loss is written in the recipe's fp32_ops_format.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fpsim/experiments/tensor.hpp"
#include "fpsim/format.hpp"

namespace fpsim::experiments {

// Per row: the max logit and the sum of exp(l - max), in FP32 (T); backward
// recomputes p from them bit-identically to forward.
template <class T>
struct CrossEntropyCache {
  std::vector<T> row_max;
  std::vector<T> row_sum;
};

// logits [..., V] (N rows, any format), targets N values in [0, V).
// Returns mean_n(−log softmax(logits[n])[targets[n]]) rounded to out_format.
// Throws DataError naming the row when a target is out of range, and
// ConfigError when targets.size() != N.
template <class T>
T cross_entropy_forward(const BasicTensor<T>& logits, std::span<const int32_t> targets, const Format& out_format,
                        CrossEntropyCache<T>& cache);

// dloss: the gradient arriving at the loss (1, or the loss scale S under
// AMP). Writes (overwrites) dlogits[n][j] = fp32(fp32(p − onehot) ·
// fp32(dloss / N)) rounded to logits.format.
template <class T>
void cross_entropy_backward(const BasicTensor<T>& logits, std::span<const int32_t> targets,
                            const CrossEntropyCache<T>& cache, T dloss, BasicTensor<T>& dlogits);

}  // namespace fpsim::experiments
