// The 16-point random Hadamard transform in SIMD (see quantize_bulk.hpp),
// bit-identical to fpsim::hadamard_transform (sim/src/quantize.cpp), the
// definition: output j of a tile is acc = c_0j·t_0, then acc += c_ij·t_i for
// i = 1..15 in FP32, times ±0.25, a NaN result made the default NaN. Every
// c_ij is ±1, so c_ij·t_i is exact and a fused multiply-add rounds exactly as
// the definition's add does; the order of the adds per output is kept.
// Along columns (a tile is 16 consecutive values of a row) the lanes are the
// 16 outputs of one tile; along rows (a tile is 16 values down a column)
// they are neighbouring columns, each its own tile, with a scalar tail.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <sstream>
#include <vector>

#include "fpsim/bulk/quantize_bulk.hpp"
#include "fpsim/error.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/hadamard_bulk.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

namespace fpsim::bulk::detail {
#ifndef FPSIM_HADAMARD_TABLES_DEFINED
#define FPSIM_HADAMARD_TABLES_DEFINED
// coef[i][j] = ±1 (H[i][j], times S_i when forward), out[j] = ±0.25 (times
// S_j when inverse), as the definition forms them.
struct HadamardTables {
  alignas(64) float coef[16][16];
  alignas(64) float out[16];
};
#endif
}  // namespace fpsim::bulk::detail

HWY_BEFORE_NAMESPACE();
namespace fpsim::bulk {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void HadamardCols(const detail::HadamardTables& h, float* x, size_t rows, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);  // divides 16 on every target
  const auto nan = hn::Set(d, std::numeric_limits<float>::quiet_NaN());
  for (size_t r = 0; r < rows; ++r)
    for (size_t c0 = 0; c0 < cols; c0 += 16) {
      float* tile = x + r * cols + c0;
      float t[16];
      for (int i = 0; i < 16; ++i) t[i] = tile[i];
      for (size_t j0 = 0; j0 < 16; j0 += L) {
        auto acc = hn::Mul(hn::Load(d, &h.coef[0][j0]), hn::Set(d, t[0]));
        for (int i = 1; i < 16; ++i) acc = hn::MulAdd(hn::Load(d, &h.coef[i][j0]), hn::Set(d, t[i]), acc);
        const auto v = hn::Mul(hn::Load(d, &h.out[j0]), acc);
        hn::StoreU(hn::IfThenElse(hn::IsNaN(v), nan, v), d, tile + j0);
      }
    }
}

void HadamardRows(const detail::HadamardTables& h, float* x, size_t rows, size_t cols) {
  const hn::ScalableTag<float> d;
  const size_t L = hn::Lanes(d);
  const auto nan = hn::Set(d, std::numeric_limits<float>::quiet_NaN());
  for (size_t r0 = 0; r0 < rows; r0 += 16) {
    size_t c = 0;
    for (; c + L <= cols; c += L) {
      hn::Vec<decltype(d)> t[16];
      for (int i = 0; i < 16; ++i) t[i] = hn::LoadU(d, x + (r0 + size_t(i)) * cols + c);
      for (int j = 0; j < 16; ++j) {
        auto acc = hn::Mul(hn::Set(d, h.coef[0][j]), t[0]);
        for (int i = 1; i < 16; ++i) acc = hn::MulAdd(hn::Set(d, h.coef[i][j]), t[i], acc);
        const auto v = hn::Mul(hn::Set(d, h.out[j]), acc);
        hn::StoreU(hn::IfThenElse(hn::IsNaN(v), nan, v), d, x + (r0 + size_t(j)) * cols + c);
      }
    }
    for (; c < cols; ++c) {  // the columns left over: the definition's loop
      float t[16], y[16];
      for (int i = 0; i < 16; ++i) t[i] = x[(r0 + size_t(i)) * cols + c];
      for (int j = 0; j < 16; ++j) {
        float acc = h.coef[0][j] * t[0];
        for (int i = 1; i < 16; ++i) acc += h.coef[i][j] * t[i];
        const float v = h.out[j] * acc;
        y[j] = v != v ? std::numeric_limits<float>::quiet_NaN() : v;
      }
      for (int j = 0; j < 16; ++j) x[(r0 + size_t(j)) * cols + c] = y[j];
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::bulk
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace fpsim::bulk {

HWY_EXPORT(HadamardCols);
HWY_EXPORT(HadamardRows);

void hadamard_transform(std::span<float> x, TensorShape shape, Axis axis, uint32_t seed, bool inverse) {
  const size_t len = axis == Axis::cols ? shape.cols : shape.rows;
  if (x.size() != shape.size() || len % 16 != 0) {
    fpsim::hadamard_transform(x, shape, axis, seed, inverse);  // throws the definition's error
    return;
  }
  const std::vector<int> sign = hadamard_signs(seed);
  detail::HadamardTables h;
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      const bool h_negative = std::popcount(unsigned(i & j)) & 1;
      h.coef[i][j] = h_negative != (!inverse && sign[size_t(i)] < 0) ? -1.0f : 1.0f;
    }
  for (int j = 0; j < 16; ++j) h.out[j] = inverse && sign[size_t(j)] < 0 ? -0.25f : 0.25f;
  if (axis == Axis::cols)
    HWY_DYNAMIC_DISPATCH(HadamardCols)(h, x.data(), shape.rows, shape.cols);
  else
    HWY_DYNAMIC_DISPATCH(HadamardRows)(h, x.data(), shape.rows, shape.cols);
}

}  // namespace fpsim::bulk
#endif  // HWY_ONCE
