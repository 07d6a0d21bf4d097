// The block grid of a quantized tensor as the bulk passes walk it (tiles of
// whole blocks, per-block values spread over columns) and the FP32 bit
// helpers they share: used by quantize_bulk.cpp, quantize_scales.cpp and
// dequantize_bulk.cpp, so each walks the grid the same way. Private to
// sim/bulk; no Highway here.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "fpsim/quantize.hpp"

namespace fpsim::bulk::qdetail {

constexpr uint32_t kInfBits = 0x7F800000u;
// Columns per tile (rounded to whole blocks) and elements per flat chunk.
constexpr size_t kTileCols = 8192;

inline uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }
inline float float_of(uint32_t b) { return std::bit_cast<float>(b); }
// Never overflows: a block wider than the tensor (up to SIZE_MAX) is one block.
inline size_t ceil_div(size_t a, size_t b) { return a / b + (a % b != 0); }

// 2^e as a float, e in [-149, 127].
inline float exp2_float(int e) {
  return e >= -126 ? float_of(uint32_t(e + 127) << 23) : float_of(uint32_t{1} << (e + 149));
}

struct Tiling {
  size_t rows, cols, br, bc, gr, gc, tile;  // tensor, block, grid, columns per tile (whole blocks)
};

inline Tiling tiling_of(TensorShape shape, BlockShape b, TensorShape grid) {
  Tiling t{shape.rows, shape.cols, b.rows, b.cols, grid.rows, grid.cols, 0};
  t.tile = b.cols >= kTileCols ? b.cols : (kTileCols / b.cols) * b.cols;
  return t;
}

// Calls f(gi, r0, r1, c0, c1) for every tile: block row gi's rows [r0, r1),
// columns [c0, c1) (whole blocks, the last one possibly partial).
template <typename F>
void for_each_tile(const Tiling& t, F&& f) {
  for (size_t gi = 0; gi < t.gr; ++gi) {
    const size_t r0 = gi * t.br, r1 = std::min(t.rows, r0 + t.br);
    for (size_t c0 = 0; c0 < t.cols; c0 += t.tile) f(gi, r0, r1, c0, std::min(t.cols, c0 + t.tile));
  }
}

// Spreads the per-block values of block row gi over columns [c0, c1).
inline void spread(const Tiling& t, const float* block_vals, size_t gi, size_t c0, size_t c1, float* col) {
  const float* row = block_vals + gi * t.gc;
  for (size_t c = c0; c < c1;) {
    const size_t j = c / t.bc, end = std::min(c1, (j + 1) * t.bc);
    std::fill(col + (c - c0), col + (end - c0), row[j]);
    c = end;
  }
}

}  // namespace fpsim::bulk::qdetail
