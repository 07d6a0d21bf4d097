// Plain tensors for the training runner (docs/training.md, "Tensors"): a
// shape and contiguous row-major storage, and the format the values live in.
// A value that lives in format F is stored already rounded to F, so reading a
// tensor never rounds; `format` says which set of values the storage holds.
//
// Everything in experiments/ is written for float (what training runs) and
// double (the FP64 gradient checks: rounding to a format is then the
// identity and GEMMs are plain FP64 sums).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim::experiments {

template <class T>
struct BasicTensor {
  std::vector<size_t> shape;
  std::vector<T> data;
  Format format = formats::fp32;

  BasicTensor() = default;
  explicit BasicTensor(std::vector<size_t> dims, const Format& f = formats::fp32) : shape(std::move(dims)), format(f) {
    size_t n = 1;
    for (size_t d : shape) n *= d;
    data.assign(n, T(0));
  }
  size_t size() const { return data.size(); }
  size_t dim(size_t i) const { return shape.at(i); }
  std::span<T> span() { return data; }
  std::span<const T> span() const { return data; }
  T* ptr() { return data.data(); }
  const T* ptr() const { return data.data(); }
  // Same shape and format, all zeros (gradient buffers).
  BasicTensor zeros_like() const {
    BasicTensor t;
    t.shape = shape;
    t.format = format;
    t.data.assign(data.size(), T(0));
    return t;
  }
};

using Tensor = BasicTensor<float>;
using Tensor64 = BasicTensor<double>;

// FNV-1a, 32 bits (offset basis 2166136261, prime 16777619) of the bytes
// of `text`: the Philox stream of a named tensor or parameter, a fixed
// function of its name so it is the same on every machine
// (docs/training.md, "Randomness").
uint32_t fnv1a_32(std::string_view text);

// Formats are rows of data: two are the same when every field is.
bool same_format(const Format& a, const Format& b);

// The format of a binary elementwise op's result under autocast's "mixed
// inputs -> fp32" rule (docs/training.md, "Which format each op writes"): the
// common format when both agree, else fp32.
Format binary_result_format(const Format& a, const Format& b);

// Rounds every value of x to format f with `spec` (rne unless the caller says
// otherwise; FP8/FP4 saturate, docs/training.md) and leaves the rounded values
// in x. fp32 is the identity. SR uses spec's seed/stream/step and the element
// index (first_index + i) as the Philox counter. The double overload is the
// identity for every format (FP64 gradient checks).
void round_to_format(std::span<float> x, const Format& f, const RoundingSpec& spec = {Rounding::rne, Overflow::ieee},
                     uint64_t first_index = 0);
inline void round_to_format(std::span<double>, const Format&, const RoundingSpec& = {}, uint64_t = 0) {}

// out[i] = a[i] + sign * b[i] (sign ±1), the exact sum rounded to FP32 with
// round-to-odd: TwoSum gives the FP32 rne sum s and its exact error e; if
// e != 0 the result is the FP32 neighbour of the exact sum toward zero with
// its last bit set. One later rne rounding of it to a format of at most 22
// significant bits (round_to_format) is the exact sum rounded once (Boldo
// and Melquiond, "Emulation of FMA and correctly rounded sums: proved
// algorithms using rounding to odd", IEEE TC 2008). Where s is not finite
// (non-finite inputs, or FP32 overflow) out[i] = a[i] and i is appended to
// `not_finite` (cleared first): the caller decides those. out may be a.
// SIMD (Highway, dynamic dispatch; experiments/src/sum_to_odd.cpp).
void add_rounded_to_odd(std::span<const float> a, std::span<const float> b, float sign, std::span<float> out,
                        std::vector<size_t>& not_finite);

// The same, and sets t.format = f.
template <class T>
void store_as(BasicTensor<T>& t, const Format& f) {
  round_to_format(t.span(), f);
  t.format = f;
}

}  // namespace fpsim::experiments
