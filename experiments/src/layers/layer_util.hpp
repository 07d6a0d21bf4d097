// Shape checks and output allocation shared by the layer files (private to
// experiments/src/layers). FP32 operation order is part of each layer's
// contract (docs/training.md, "Layers"), so no expression may be contracted
// into an FMA behind our back: GCC does not contract in ISO mode
// (-std=c++20, CMAKE_CXX_EXTENSIONS OFF), clang is told so here.
#pragma once

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/tensor.hpp"

namespace fpsim::experiments::layer_util {

inline std::string shape_text(const std::vector<size_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Sets shape and format and sizes the storage (values are then overwritten
// by the caller; the storage is reused when the size already matches).
template <class T>
void reshape(BasicTensor<T>& t, std::vector<size_t> shape, const Format& f) {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  t.shape = std::move(shape);
  t.format = f;
  t.data.resize(n);
}

// The size of the last dimension; throws ConfigError naming `what` when the
// tensor has no dimensions or its storage disagrees with its shape.
template <class T>
size_t last_dim(const BasicTensor<T>& t, std::string_view what) {
  size_t n = 1;
  for (size_t d : t.shape) n *= d;
  if (t.shape.empty() || n != t.data.size() || t.shape.back() == 0) {
    throw ConfigError(std::string(what) + ": expected a non-empty tensor whose storage matches its shape, got shape " +
                      shape_text(t.shape) + " with " + std::to_string(t.data.size()) + " values");
  }
  return t.shape.back();
}

template <class T>
void expect_shape(const BasicTensor<T>& t, const std::vector<size_t>& shape, std::string_view what) {
  if (t.shape != shape || t.data.size() != [&] {
        size_t n = 1;
        for (size_t d : shape) n *= d;
        return n;
      }()) {
    throw ConfigError(std::string(what) + ": expected shape " + shape_text(shape) + ", got " + shape_text(t.shape));
  }
}

}  // namespace fpsim::experiments::layer_util
