// Embedding lookup (docs/training.md, "Embedding"): a row gather forward,
// an ordered FP32 scatter-add backward.
#include "fpsim/experiments/layers/embedding.hpp"

#include <algorithm>
#include <string>

#include "layer_util.hpp"

namespace fpsim::experiments {

namespace {

template <class T>
size_t checked_row(const BasicTensor<T>& table, std::span<const int32_t> ids, size_t n) {
  const size_t vocab = table.shape[0];
  if (ids[n] < 0 || size_t(ids[n]) >= vocab) {
    throw DataError("embedding: id " + std::to_string(ids[n]) + " at position " + std::to_string(n) +
                    " is outside [0, " + std::to_string(vocab) + ")");
  }
  return size_t(ids[n]);
}

template <class T>
size_t table_width(const BasicTensor<T>& table) {
  if (table.shape.size() != 2) {
    throw ConfigError("embedding: table must be [V, C], got " + layer_util::shape_text(table.shape));
  }
  return layer_util::last_dim(table, "embedding table");
}

}  // namespace

template <class T>
void embedding_forward(const BasicTensor<T>& table, std::span<const int32_t> ids, BasicTensor<T>& out) {
  const size_t c = table_width(table);
  layer_util::reshape(out, {ids.size(), c}, table.format);
  for (size_t n = 0; n < ids.size(); ++n) {
    const T* row = table.ptr() + checked_row(table, ids, n) * c;
    std::copy(row, row + c, out.ptr() + n * c);
  }
}

template <class T>
void embedding_backward(const BasicTensor<T>& table, std::span<const int32_t> ids, const BasicTensor<T>& dout,
                        BasicTensor<T>& dtable) {
  const size_t c = table_width(table);
  if (dout.size() != ids.size() * c) {
    throw ConfigError("embedding: gradient dout has " + std::to_string(dout.size()) + " values, expected " +
                      std::to_string(ids.size()) + " x " + std::to_string(c));
  }
  // PyTorch's CUDA embedding backward sums in its accumulation type (FP32
  // for 16-bit tables, aten/src/ATen/native/cuda/EmbeddingBackwardKernel.cu);
  // here one FP32 sum per element, n = 0..N-1 in order from +0, and a single
  // rounding to the table's format at the end.
  layer_util::reshape(dtable, table.shape, table.format);
  std::fill(dtable.data.begin(), dtable.data.end(), T(0));
  for (size_t n = 0; n < ids.size(); ++n) {
    T* acc = dtable.ptr() + checked_row(table, ids, n) * c;
    const T* g = dout.ptr() + n * c;
    for (size_t j = 0; j < c; ++j) acc[j] += g[j];
  }
  round_to_format(dtable.span(), table.format);
}

template void embedding_forward<float>(const Tensor&, std::span<const int32_t>, Tensor&);
template void embedding_forward<double>(const Tensor64&, std::span<const int32_t>, Tensor64&);
template void embedding_backward<float>(const Tensor&, std::span<const int32_t>, const Tensor&, Tensor&);
template void embedding_backward<double>(const Tensor64&, std::span<const int32_t>, const Tensor64&, Tensor64&);

}  // namespace fpsim::experiments
