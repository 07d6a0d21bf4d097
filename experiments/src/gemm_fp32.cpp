// The plain FP32 GEMM of docs/training.md, "Summation order":
//
//   out[i][j] = fp32(chain + bias[j])   (out[i][j] = chain without a bias)
//   chain     = +0, then chain = fma(a[i][k], b[k][j], chain) for k = 0..K-1
//
// Each output element is one sequential FMA chain, so the result does not
// depend on the SIMD width, the instruction set or the tiling: vectors run
// across j (lane j of a vector is element j's own chain), never across k.
// A NaN result is written as the default NaN 0x7FC00000 (docs/arithmetic-semantics.md, "default NaN"):
// which NaN operand an x86 FMA passes on depends on the instruction form the
// compiler picks (vfmadd132/213/231), so the payload would not be portable.
//
// Kernel (Google Highway, dynamic dispatch as sim/bulk/src/convert_bulk.cpp):
// a tile of kRows rows of A x kVecs vectors of columns keeps kRows * kVecs
// accumulators in registers; each k loads kVecs vectors of B's row k once
// and broadcasts a[i][k] for each of the tile's rows. Remaining rows use
// one-row tiles, remaining whole vectors one-vector tiles, and the last
// N mod lanes columns scalar std::fma (a fused multiply-add: the same
// result). Targets without a fused vector multiply-add (Highway's SSE4,
// SSSE3 and EMU128/SCALAR emulate MulAdd as a multiply then an add, two
// roundings), and scalable-vector targets (SVE, RVV: Highway vectors cannot
// be held in arrays there), run the scalar std::fma loop for everything.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/gemm.hpp"

#ifndef FPSIM_EXPERIMENTS_GEMM_FP32_ARGS
#define FPSIM_EXPERIMENTS_GEMM_FP32_ARGS
namespace fpsim::experiments {
// op(A)[i][k] = a[i * a_row + k * a_k]; op(B) is row-major [K, N] (packed
// by gemm_fp32 when B is read transposed).
struct GemmArgs {
  const float* a;
  size_t a_row, a_k;
  const float* b;
  const float* bias;
  float* out;
  size_t m, n, k;
};
}  // namespace fpsim::experiments
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/gemm_fp32.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace fpsim::experiments {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The epilogue of one element: bias, then the default NaN.
HWY_INLINE float Finish(const GemmArgs& g, float chain, size_t j) {
  const float d = g.bias ? chain + g.bias[j] : chain;
  return std::isnan(d) ? std::numeric_limits<float>::quiet_NaN() : d;
}

// One output element's chain: the definition the vector tiles must equal.
HWY_INLINE void ScalarElement(const GemmArgs& g, size_t i, size_t j) {
  const float* a = g.a + i * g.a_row;
  float d = 0.0f;
  for (size_t k = 0; k < g.k; ++k) d = std::fma(a[k * g.a_k], g.b[k * g.n + j], d);
  g.out[i * g.n + j] = Finish(g, d, j);
}

#if HWY_NATIVE_FMA && !HWY_HAVE_SCALABLE

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// AVX-512 has 32 vector registers, AVX2 16: 6 x 4 and 4 x 2 accumulators
// leave room for the B vectors and the broadcast (6 rows measured fastest of
// 4, 6 and 8 on AVX-512, bench/training_gemm_bench.cpp).
constexpr size_t kRows = HWY_CAP_GE512 ? 6 : 4;
constexpr size_t kVecs = HWY_CAP_GE512 ? 4 : 2;

// K is walked in slices of kKc: one slice of a column panel of B (kKc x
// kVecs vectors, 32 KiB on AVX-512) stays in L1 while every row block reuses
// it. Between slices a tile's chains wait in `out` (an exact store and
// reload), so each chain is still the same sequence of FMAs.
constexpr size_t kKc = 128;

template <size_t R, size_t V>
HWY_INLINE void Tile(const GemmArgs& g, size_t i0, size_t j0, size_t k0, size_t k1) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  float* o = g.out + i0 * g.n + j0;
  VF acc[R][V];
  for (size_t r = 0; r < R; ++r)
    for (size_t v = 0; v < V; ++v) acc[r][v] = k0 == 0 ? hn::Zero(df) : hn::LoadU(df, o + r * g.n + v * lanes);
  const float* a = g.a + i0 * g.a_row;
  for (size_t k = k0; k < k1; ++k) {
    const float* b = g.b + k * g.n + j0;
    VF bv[V];
    for (size_t v = 0; v < V; ++v) bv[v] = hn::LoadU(df, b + v * lanes);
    for (size_t r = 0; r < R; ++r) {
      const VF av = hn::Set(df, a[r * g.a_row + k * g.a_k]);
      for (size_t v = 0; v < V; ++v) acc[r][v] = hn::MulAdd(av, bv[v], acc[r][v]);
    }
  }
  if (k1 < g.k) {
    for (size_t r = 0; r < R; ++r)
      for (size_t v = 0; v < V; ++v) hn::StoreU(acc[r][v], df, o + r * g.n + v * lanes);
    return;
  }
  const VF nan = hn::Set(df, std::numeric_limits<float>::quiet_NaN());
  for (size_t v = 0; v < V; ++v) {
    const VF bias = g.bias ? hn::LoadU(df, g.bias + j0 + v * lanes) : hn::Zero(df);
    for (size_t r = 0; r < R; ++r) {
      VF d = g.bias ? hn::Add(acc[r][v], bias) : acc[r][v];
      d = hn::IfThenElse(hn::IsNaN(d), nan, d);
      hn::StoreU(d, df, o + r * g.n + v * lanes);
    }
  }
}

// Columns [j0, j0 + V vectors): K slice by K slice, every row block (the
// last slice, possibly empty when K = 0, writes the epilogue).
template <size_t V>
HWY_INLINE void ColumnPanel(const GemmArgs& g, size_t j0) {
  for (size_t k0 = 0;; k0 += kKc) {
    const size_t k1 = std::min(g.k, k0 + kKc);
    size_t i = 0;
    for (; i + kRows <= g.m; i += kRows) Tile<kRows, V>(g, i, j0, k0, k1);
    for (; i < g.m; ++i) Tile<1, V>(g, i, j0, k0, k1);
    if (k1 == g.k) break;
  }
}

// Full panels across j, then single vectors, then the last N mod lanes
// columns one scalar chain each.
void GemmKernel(const GemmArgs& g) {
  const size_t lanes = hn::Lanes(DF());
  size_t j = 0;
  for (; j + kVecs * lanes <= g.n; j += kVecs * lanes) ColumnPanel<kVecs>(g, j);
  for (; j + lanes <= g.n; j += lanes) ColumnPanel<1>(g, j);
  for (; j < g.n; ++j)
    for (size_t i = 0; i < g.m; ++i) ScalarElement(g, i, j);
}

#else

// Row by row, k outer, so B is read along its rows; every element's chain
// still runs over k = 0..K-1 in order.
void GemmKernel(const GemmArgs& g) {
  for (size_t i = 0; i < g.m; ++i) {
    float* out = g.out + i * g.n;
    for (size_t j = 0; j < g.n; ++j) out[j] = 0.0f;
    for (size_t k = 0; k < g.k; ++k) {
      const float a = g.a[i * g.a_row + k * g.a_k];
      const float* b = g.b + k * g.n;
      for (size_t j = 0; j < g.n; ++j) out[j] = std::fma(a, b[j], out[j]);
    }
    for (size_t j = 0; j < g.n; ++j) out[j] = Finish(g, out[j], j);
  }
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::experiments
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace fpsim::experiments {

HWY_EXPORT(GemmKernel);

void gemm_fp32(MatrixView<float> a, MatrixView<float> b, const float* bias, std::span<float> out) {
  const size_t m = a.op_rows(), k = a.op_cols(), n = b.op_cols();
  if (b.op_rows() != k)
    throw ConfigError("gemm_fp32: op(a) is " + std::to_string(m) + " x " + std::to_string(k) + " but op(b) is " +
                      std::to_string(b.op_rows()) + " x " + std::to_string(n) + "; the inner dimensions must agree");
  if (out.size() != m * n)
    throw ConfigError("gemm_fp32: the output has " + std::to_string(out.size()) + " elements, expected " +
                      std::to_string(m) + " x " + std::to_string(n));
  if ((m * k != 0 && !a.data) || (k * n != 0 && !b.data))
    throw ConfigError("gemm_fp32: an operand with elements has no data");
  const float* bk = b.data;
  if (b.transposed && k * n != 0) {
    // Bᵀ stored [N, K] -> [K, N], so every target reads rows of op(B).
    thread_local std::vector<float> packed;
    packed.resize(k * n);
    // 16 x 16 tiles keep the 16 rows being written in L1.
    constexpr size_t kTile = 16;
    for (size_t j0 = 0; j0 < n; j0 += kTile)
      for (size_t k0 = 0; k0 < k; k0 += kTile)
        for (size_t j = j0; j < std::min(n, j0 + kTile); ++j)
          for (size_t kk = k0; kk < std::min(k, k0 + kTile); ++kk) packed[kk * n + j] = b.data[j * k + kk];
    bk = packed.data();
  }
  const GemmArgs g{a.data, a.transposed ? 1 : k, a.transposed ? m : 1, bk, bias, out.data(), m, n, k};
  HWY_DYNAMIC_DISPATCH(GemmKernel)(g);
}

}  // namespace fpsim::experiments
#endif
