// Embedding lookup out[n] = table[ids[n]] (docs/training.md, "Layers").
// A row copy: the output lives in the table's format and nothing rounds.
#pragma once

#include <cstdint>
#include <span>

#include "fpsim/experiments/tensor.hpp"

namespace fpsim::experiments {

// table [V, C], ids N indices. Writes out [N, C] in table.format. Throws
// DataError naming the position when an id is outside [0, V).
template <class T>
void embedding_forward(const BasicTensor<T>& table, std::span<const int32_t> ids, BasicTensor<T>& out);

// dout [N, C] (any leading shape with N·C elements). Writes (overwrites)
// dtable [V, C]: dtable[ids[n]] += dout[n] in FP32 (T), n = 0..N-1 in order,
// from +0; then every element is rounded once to table.format.
template <class T>
void embedding_backward(const BasicTensor<T>& table, std::span<const int32_t> ids, const BasicTensor<T>& dout,
                        BasicTensor<T>& dtable);

}  // namespace fpsim::experiments
