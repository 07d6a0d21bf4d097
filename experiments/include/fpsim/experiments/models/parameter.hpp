// A model's parameters: value and gradient tensors under the PyTorch
// state_dict key of the documented equivalent module (docs/training.md,
// "Models"), and their initialisation from the model seed with Philox.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/experiments/tensor.hpp"

namespace fpsim::experiments {

template <class T>
struct Parameter {
  std::string name;  // state_dict key, e.g. "fc1.weight"
  BasicTensor<T> value;
  BasicTensor<T> grad;
  bool weight_decay = true;  // matrices decay; biases, LayerNorm and nothing else (docs/training.md)
};

// The Philox stream of a parameter: fnv1a_32 of its name (tensor.hpp).
uint32_t parameter_stream_id(std::string_view name);

// value[i] = fp32(bound * (2u - 1)), u = (w0 >> 8) * 2^-24 from Philox4x32-10
// keyed (seed, stream), counter (i, 0, 0, 0): U(-bound, bound) as PyTorch's
// nn.Linear default (kaiming_uniform_(a = sqrt(5)) gives bound 1/sqrt(fan_in)).
void init_uniform(std::span<float> value, double bound, uint32_t seed, uint32_t stream);
void init_uniform(std::span<double> value, double bound, uint32_t seed, uint32_t stream);
// value[i] = fp32(std * z), z by Box-Muller from the same block: u1 = ((w0 >> 8)
// + 1) * 2^-24, u2 = (w1 >> 8) * 2^-24, z = sqrt(-2 ln u1) cos(2 pi u2), in double.
void init_normal(std::span<float> value, double std, uint32_t seed, uint32_t stream);
void init_normal(std::span<double> value, double std, uint32_t seed, uint32_t stream);

}  // namespace fpsim::experiments
