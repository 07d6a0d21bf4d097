// Softmax cross-entropy (docs/training.md, "Cross-entropy"), after llm.c's
// crossentropy_forward / crossentropy_softmax_backward, with the softmax
// folded in and a max-subtracted log-sum-exp. FP32 (T) throughout; sums run
// in index order from +0.
#include "fpsim/experiments/layers/cross_entropy.hpp"

#include <cmath>
#include <string>

#include "layer_util.hpp"

namespace fpsim::experiments {

namespace {

template <class T>
size_t checked_rows(const BasicTensor<T>& logits, std::span<const int32_t> targets, size_t vocab) {
  const size_t rows = logits.size() / vocab;
  if (targets.size() != rows) {
    throw ConfigError("cross_entropy: " + std::to_string(targets.size()) + " targets for " + std::to_string(rows) +
                      " rows of logits " + layer_util::shape_text(logits.shape));
  }
  for (size_t n = 0; n < rows; ++n) {
    if (targets[n] < 0 || size_t(targets[n]) >= vocab) {
      throw DataError("cross_entropy: target " + std::to_string(targets[n]) + " at row " + std::to_string(n) +
                      " is outside [0, " + std::to_string(vocab) + ")");
    }
  }
  return rows;
}

}  // namespace

template <class T>
T cross_entropy_forward(const BasicTensor<T>& logits, std::span<const int32_t> targets, const Format& out_format,
                        CrossEntropyCache<T>& cache) {
  const size_t vocab = layer_util::last_dim(logits, "cross_entropy logits");
  const size_t rows = checked_rows(logits, targets, vocab);
  cache.row_max.resize(rows);
  cache.row_sum.resize(rows);
  T total = 0;
  for (size_t n = 0; n < rows; ++n) {
    const T* l = logits.ptr() + n * vocab;
    T row_max = l[0];
    for (size_t j = 1; j < vocab; ++j) {
      if (l[j] > row_max) row_max = l[j];
    }
    T sum = 0;
    for (size_t j = 0; j < vocab; ++j) sum += std::exp(l[j] - row_max);
    // −log softmax[t] = log(Σ exp(l − max)) − (l[t] − max).
    total += std::log(sum) - (l[targets[n]] - row_max);
    cache.row_max[n] = row_max;
    cache.row_sum[n] = sum;
  }
  T mean = total / T(rows);
  round_to_format(std::span<T>(&mean, 1), out_format);
  return mean;
}

template <class T>
void cross_entropy_backward(const BasicTensor<T>& logits, std::span<const int32_t> targets,
                            const CrossEntropyCache<T>& cache, T dloss, BasicTensor<T>& dlogits) {
  const size_t vocab = layer_util::last_dim(logits, "cross_entropy logits");
  const size_t rows = checked_rows(logits, targets, vocab);
  if (cache.row_max.size() != rows || cache.row_sum.size() != rows) {
    throw ConfigError("cross_entropy backward: the cache holds " + std::to_string(cache.row_max.size()) +
                      " rows, the logits have " + std::to_string(rows) + " (run cross_entropy_forward first)");
  }
  layer_util::reshape(dlogits, logits.shape, logits.format);
  // d mean / d loss_n = 1/N, times the incoming gradient (the loss scale).
  const T g = dloss / T(rows);
  for (size_t n = 0; n < rows; ++n) {
    const T* l = logits.ptr() + n * vocab;
    T* dl = dlogits.ptr() + n * vocab;
    for (size_t j = 0; j < vocab; ++j) {
      const T p = std::exp(l[j] - cache.row_max[n]) / cache.row_sum[n];
      const T indicator = size_t(targets[n]) == j ? T(1) : T(0);
      dl[j] = (p - indicator) * g;
    }
  }
  round_to_format(dlogits.span(), logits.format);
}

template float cross_entropy_forward<float>(const Tensor&, std::span<const int32_t>, const Format&,
                                            CrossEntropyCache<float>&);
template double cross_entropy_forward<double>(const Tensor64&, std::span<const int32_t>, const Format&,
                                              CrossEntropyCache<double>&);
template void cross_entropy_backward<float>(const Tensor&, std::span<const int32_t>, const CrossEntropyCache<float>&,
                                            float, Tensor&);
template void cross_entropy_backward<double>(const Tensor64&, std::span<const int32_t>,
                                             const CrossEntropyCache<double>&, double, Tensor64&);

}  // namespace fpsim::experiments
