// SIMD bulk quantization (see quantize_bulk.hpp), bit-identical to the scalar
// definitions in sim/src/quantize.cpp (docs/quantization.md). This file is
// the orchestration: which configurations the SIMD path takes, the passes
// over the tensor and the patch-up of special blocks. The pieces it calls
// live apart:
//   quantize_kernels-inl.h  the per-target element and amax kernels;
//   quantize_scales.cpp     pass 2, the block scales (every scale rule is the
//                           scalar core's, fpsim/quantize.hpp);
//   dequantize_bulk.cpp     dequantization (here: for mse / sqnr);
//   quantize_blocks.hpp     the block grid and the tiles they all walk.
//
// Passes:
//  1. amax: per block, max of |x| as f32 bits in integer lanes (for non-NaN
//     values the order of the bits is the order of the magnitudes; a NaN's
//     bits exceed inf's). MX propagates NaN (the max simply keeps it),
//     everything else zeroes NaN lanes first (fmaxf). Row-wise blocks whose
//     width is a multiple of the vector length reduce each block's vectors;
//     other shapes keep a running max per column over the block's rows.
//  2. scales, per block, with the scalar core's rules: multiplier_from_amax;
//     e8m0_scale_code (floor rule: once per exponent field, the only part
//     of amax it reads; ceil / rne: e8m0_scale_quotient converted by the
//     shared kernel with e8m0_scale_rounding); NVFP4: nvfp4_block_scale_fp32
//     converted to ue4m3 by the kernel, then nvfp4_block_encode_scale.
//  3. elements, tile by tile (a strip of block rows x a run of whole blocks
//     of columns): each block's multiplier (MX: 2^-k; NVFP4: its encode
//     scale fp32(S_enc / s_block), TE's order) is broadcast per block (or
//     spread over a per-column array when the block is not a whole number of
//     vectors wide), then each row segment runs t = x * m in FP32 and the
//     shared rounding kernel (round_kernel-inl.h, bit-identical to
//     fpsim::from_float), counting nan / inf inputs, saturations and
//     underflows in the same pass.
//
// Why t can be rounded in place of the scalar definition:
//  - fp32 arithmetic (per-tensor, fp32 blocks, nvfp4): t = fp32(x * s) IS
//    the definition; the scalar code computes the same IEEE binary32
//    operation, NaN propagation included.
//  - MX and exact arithmetic with a power-of-two multiplier: the element is
//    the exact product rounded once. fp32(x * 2^j) equals it whenever the
//    result is a normal f32; the lanes where it is not (a finite non-zero x
//    whose t is zero, subnormal or infinite) are recomputed by the scalar
//    core from the exact product (exact_lane below).
//  - exact arithmetic with multipliers that need not be powers of two
//    (pow2_scales off, or a given multiplier that is not 2^k; with
//    pow2_scales every multiplier_from_amax result is a normal 2^k),
//    MXINT8 (whose multiplier 2^(6-k) may exceed f32 and whose int8 rounding
//    the kernel does not cover) and NVFP4 with exact arithmetic (an exact
//    quotient): the whole call runs fpsim::quantize. The round-to-odd trick
//    (hi = x*s, lo = fma(x, s, -hi)) would vectorize the deterministic modes
//    of the first case but not exact stochastic rounding, and Highway's SSE4
//    target has no fused multiply-add, so it is not used.
//  - Blocks whose scale is special (MX NaN scale, NVFP4 zero block scale)
//    are patched afterwards by the scalar definition, subtracting what the
//    vector pass had counted for them.
// NVFP4 variants on the vector path (docs/quantization.md §3):
//  - row-scaled: each row's amax from its blocks' amaxes (blocks are one row
//    high), an encode scale S_enc per row (Scales::set_row_amax), the block
//    scales and multipliers from their row's S_enc.
//  - 4over6: pass 2 gives both candidate scales per block, pass 3 runs the
//    element kernel once per candidate over the tensor, then choose_4over6
//    sums each block's two errors in scalar code, in the scalar definition's
//    order, and keeps one (ties: map-to-6).
// Configurations that run fpsim::quantize itself (identical by
// construction): the three above, empty tensors, daz (the scalar code
// applies it to x for MX / exact and to t for fp32 arithmetic), integer or
// unsigned elements, user formats the rounding kernel does not cover (or sr
// with more than 32 bits), element formats whose max is not an f32 normal or
// whose zero codes are not {z} or {+0, -0} (elem_info()). Errors are the
// scalar code's (detail::check_quantize_args, or the scalar call itself).
//
// Statistics, as sim/src/quantize.cpp counts them: `saturated` is a finite
// x whose scaled value is above the element max (t = inf included);
// `underflows` is a finite non-zero x whose element value is 0 (none in
// an MX NaN-scale block; every non-zero x in a zero NVFP4 block scale);
// mse / sqnr come from fpsim::detail::error_stats on the bulk
// dequantization, which is bit-identical to fpsim::dequantize.
//
// Performance notes: MX and FP32 blocks run amax, scales and elements tile
// by tile (the tile stays in cache: one pass over memory); per-tensor and
// NVFP4 need the tensor's amax first (two passes). Blocks a whole number of
// vectors wide take their multiplier as a broadcast per block; the common
// path counts saturations and underflows with a few compares and leaves
// non-finite values, inexact products and undecided exact-sr lanes to a
// rarely taken branch (RareLanes).

#include "fpsim/bulk/quantize_bulk.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/quantize.hpp"
#include "fpsim/round.hpp"
#include "kernel_params.hpp"
#include "quantize_blocks.hpp"
#include "quantize_lane.hpp"
#include "quantize_scales.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/quantize_bulk.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "quantize_kernels-inl.h"
#include "round_kernel-inl.h"

HWY_BEFORE_NAMESPACE();
namespace fpsim::bulk {
namespace HWY_NAMESPACE {

// The shared conversion kernel (convert_from_f32 without its per-call
// set-up): block scale codes from a parameter block made once per call.
void ConvertU8(const detail::FromParams& p, const float* in, size_t n, uint8_t* out) {
  FromF32Impl(p, in, n, out, 0, nullptr);
}

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::bulk
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace fpsim::bulk {

HWY_EXPORT(QuantSegment);
HWY_EXPORT(AmaxStrip);
HWY_EXPORT(AmaxFlat);
HWY_EXPORT(ConvertU8);
HWY_EXPORT(VectorLanes);

namespace {

using qdetail::bits_of;
using qdetail::ceil_div;
using qdetail::float_of;
using qdetail::kInfBits;
using qdetail::kTileCols;

constexpr Format kF32 = formats::fp32;

bool is_pow2(float s) {
  const uint32_t b = bits_of(s);
  const uint32_t e = (b >> 23) & 0xFFu;
  return (b & 0x7FFFFFu) == 0 && e != 0 && e != 0xFFu;
}

// x * m exactly, rounded once (MX: m = 2^-k; exact arithmetic: m = s), as
// the scalar definition rounds it. x is finite and non-zero, or NaN.
qdetail::LaneResult exact_lane(const void* ctx, float x, float m, uint64_t index) {
  const QuantScheme& q = *static_cast<const QuantScheme*>(ctx);
  Flags fl;
  if (std::isnan(x)) return {uint8_t(from_float(x, q.element, q.rounding, fl, index)), false};  // as itself (§3)
  const Unpacked v = fpsim::detail::exact_product(unpack(bits_of(x), kF32), unpack(bits_of(m), kF32), fl);
  const fpsim::detail::ElementResult r = fpsim::detail::round_element(v, q, index);
  return {r.code, r.saturated};
}

// --- element format facts the vector pass relies on -------------------------

struct ElemInfo {
  bool ok = false;
  int32_t fmax_bits = 0;
  int32_t zero_mask = 0, zero_value = 1;  // no zero code: never equal
};

ElemInfo elem_info_uncached(const QuantScheme& q) {
  ElemInfo e;
  const double fmax = element_max(q);
  const float fmax_f = float(fmax);
  if (!(double(fmax_f) == fmax) || !std::isfinite(fmax_f) || !(fmax_f >= 0x1p-126f)) return e;
  e.fmax_bits = int32_t(bits_of(fmax_f));
  // The zero codes as (code & mask) == value: none, one, or two codes that
  // differ in one bit (+0 and -0).
  std::vector<int32_t> zeros;
  for (uint32_t c = 0; c < (1u << q.element.bits); ++c)
    if (element_value(q, uint8_t(c)) == 0.0) zeros.push_back(int32_t(c));
  if (zeros.size() == 1) {
    e.zero_mask = -1;
    e.zero_value = zeros[0];
  } else if (zeros.size() == 2) {
    const int32_t diff = zeros[0] ^ zeros[1];
    if ((diff & (diff - 1)) != 0) return e;
    e.zero_mask = ~diff;
    e.zero_value = zeros[0] & ~diff;
  } else if (!zeros.empty()) {
    return e;
  }
  e.ok = true;
  return e;
}

// elem_info depends on the element format alone (its zero codes and, through
// element_max, its largest value) and costs 256 scalar decodes; a training
// step quantizes dozens of tensors of a handful of formats, so it is kept per
// thread for each format seen.
ElemInfo elem_info(const QuantScheme& q) {
  struct Seen {
    Format element;
    double fmax;
    ElemInfo info;
  };
  thread_local std::vector<Seen> seen;
  const double fmax = element_max(q);
  const Format& f = q.element;
  for (const Seen& s : seen)
    if (s.fmax == fmax && s.element.same_encoding(f)) return s.info;
  const ElemInfo info = elem_info_uncached(q);
  if (seen.size() < 64) seen.push_back(Seen{f, fmax, info});
  return info;
}

}  // namespace

bool quantize_supported(const QuantScheme& q, TensorShape shape) {
  if (shape.size() == 0 || q.rounding.daz) return false;
  const Format& f = q.element;
  if (f.is_integer()) return false;  // MXINT8 (2^(6-k) may exceed f32): the scalar definition
  if (!f.has_sign || f.is_scale()) return false;
  if (q.kind == ScaleKind::nvfp4 && q.arith == ScaleArith::exact) return false;
  if (!detail::from_vectorizable(f, q.rounding)) return false;
  return elem_info(q).ok;
}

namespace {

QuantizedTensor delegate(std::span<const float> input, TensorShape shape, const QuantScheme& q, const float* given) {
  return given ? fpsim::quantize_with_multiplier(input, shape, q, *given) : fpsim::quantize(input, shape, q);
}

// Per-thread scratch reused across calls: a training step quantizes tensors
// of the same shapes again and again, and fresh multi-megabyte buffers cost
// a page fault per 4 KiB on every call.
struct Workspace {
  std::vector<float> rotated;
  std::vector<uint32_t> amax;
  std::vector<float> vals;
  std::vector<float> dequantized;
  std::vector<uint8_t> elements4;  // 4over6: the map-to-4 candidate's elements
  std::vector<float> row_amax;     // row-scaled NVFP4
};
Workspace& workspace() {
  thread_local Workspace w;
  return w;
}

// The element pass's arguments: the element conversion, the scalar
// definition for lanes whose t is not the exact product (MX and exact
// arithmetic), and the element format facts the counts rely on.
qdetail::QuantArgs quant_args(const QuantScheme& sq, const detail::FromParams& params, const ElemInfo& ei) {
  qdetail::QuantArgs args{};
  args.p = &params;
  args.exact_first = sq.kind == ScaleKind::mx || sq.arith == ScaleArith::exact;
  args.ctx = &sq;
  args.exact = exact_lane;
  args.fmax_bits = ei.fmax_bits;
  args.zero_mask = ei.zero_mask;
  args.zero_value = ei.zero_value;
  return args;
}

// The non-NaN amax of block row gi (as |x| bits) from the block amaxes; a
// block holding a NaN (MX, NVFP4: its amax is NaN) is read again for its
// other values.
uint32_t block_row_amax(std::span<const float> x, const qdetail::Tiling& tl, const std::vector<uint32_t>& amax,
                        size_t gi) {
  uint32_t m = 0;
  for (size_t b = gi * tl.gc; b < (gi + 1) * tl.gc; ++b) {
    if (amax[b] <= kInfBits) {
      m = std::max(m, amax[b]);
      continue;
    }
    const size_t gi = b / tl.gc, gj = b % tl.gc;
    for (size_t r = gi * tl.br; r < std::min(tl.rows, (gi + 1) * tl.br); ++r)
      for (size_t c = gj * tl.bc; c < std::min(tl.cols, (gj + 1) * tl.bc); ++c) {
        const uint32_t a = bits_of(x[r * tl.cols + c]) & 0x7FFFFFFFu;
        if (a <= kInfBits) m = std::max(m, a);
      }
  }
  return m;
}

// The tensor's non-NaN amax from the block amaxes.
float tensor_amax(std::span<const float> x, const qdetail::Tiling& tl, const std::vector<uint32_t>& amax) {
  uint32_t m = 0;
  for (size_t gi = 0; gi < tl.gr; ++gi) m = std::max(m, block_row_amax(x, tl, amax, gi));
  return float_of(m);
}

// NVFP4 4over6 (docs/quantization.md §3 "nvfp4 4over6"): the element pass
// has rounded every block with both candidate multipliers (map-to-6 into
// out.elements, map-to-4 into codes4); per block, each candidate's error is
// summed in the scalar definition's order (sim/src/quantize.cpp: per row,
// |d| or fp32(d * d) in column order, d = fp32(fp32(fp32(fp32(q * s_k) *
// amax_t) / 1536) - x); a 16-row block's rows reduced r_i + r_(i+8), then
// + 4, + 2, + 1 apart) and map-to-4 kept when its error is smaller. A
// candidate with a zero scale has +-0 elements; a NaN block takes the NaN
// code throughout. Counts saturations and underflows of the kept candidate
// (the element pass's nan / inf counts hold for both).
void choose_4over6(std::span<const float> x, const qdetail::Tiling& tl, const qdetail::Scales& scales,
                   const std::vector<uint8_t>& elements4, const float* row_amax, const ElemInfo& ei,
                   const QuantScheme& q, QuantizedTensor& out, qdetail::SegStats& st) {
  constexpr float kErrDenominator = kNvfp4ElementMax * kNvfp4FourOverSixGlobalScaleMax;  // 1536, exact
  const std::array<float, 256>& scale_value = fpsim::detail::ue4m3_values();
  float elem_value[256] = {};
  for (uint32_t c = 0; c < (1u << q.element.bits); ++c) elem_value[c] = float(element_value(q, uint8_t(c)));
  const bool mse = q.four_over_six == FourOverSix::mse;
  // A zero-scale candidate's element: +-0 (the scalar definition's rounding
  // of the signed zero; x is finite in a block whose amax is not NaN or inf).
  auto zero_code = [&](float xi, size_t i) {
    Unpacked v = unpack(bits_of(xi), kF32);
    if (v.cls == ValueClass::finite) v.cls = ValueClass::zero;
    Flags fl;
    return uint8_t(round(v, q.element, q.rounding, fl, i));
  };
  st.sat = st.under = 0;
  for (size_t b = 0; b < tl.gr * tl.gc; ++b) {
    const size_t gi = b / tl.gc, gj = b % tl.gc;
    const size_t r0 = gi * tl.br, r1 = std::min(tl.rows, r0 + tl.br);
    const size_t c0 = gj * tl.bc, c1 = std::min(tl.cols, c0 + tl.bc);
    if (formats::ue4m3.is_nan_code(out.scales[b])) {
      for (size_t r = r0; r < r1; ++r)
        for (size_t c = c0; c < c1; ++c) {
          Flags fl;
          Unpacked v;
          v.cls = ValueClass::quiet_nan;
          out.elements[r * tl.cols + c] = uint8_t(round(v, q.element, q.rounding, fl, r * tl.cols + c));
        }
      continue;
    }
    const float amax_t = row_amax ? row_amax[r0] : out.stats.amax;
    const uint8_t code_k[2] = {uint8_t(out.scales[b]), scales.codes4()[b]};
    const float inv_k[2] = {scales.vals()[b], scales.vals4()[b]};
    const uint8_t* elems_k[2] = {out.elements.data(), elements4.data()};
    float error[2];
    for (int k = 0; k < 2; ++k) {
      const float sv = scale_value[code_k[k]];
      float row_error[16] = {};
      for (size_t r = r0; r < r1; ++r) {
        float err = 0.0f;
        for (size_t c = c0; c < c1; ++c) {
          const size_t i = r * tl.cols + c;
          const float xi = x[i];
          const uint8_t code = sv == 0.0f ? zero_code(xi, i) : elems_k[k][i];
          const float d = ((elem_value[code] * sv) * amax_t) / kErrDenominator - xi;
          err += mse ? d * d : std::fabs(d);
        }
        row_error[(r - r0) % 16] = err;
      }
      if (r1 - r0 > 1)
        for (size_t step = 8; step >= 1; step /= 2)
          for (size_t l = 0; l < step; ++l) row_error[l] += row_error[l + step];
      error[k] = row_error[0];
    }
    const int kept = error[1] < error[0] ? 1 : 0;
    const float sv = scale_value[code_k[kept]];
    out.scales[b] = code_k[kept];
    for (size_t r = r0; r < r1; ++r)
      for (size_t c = c0; c < c1; ++c) {
        const size_t i = r * tl.cols + c;
        const float xi = x[i];
        const uint8_t code = sv == 0.0f ? zero_code(xi, i) : elems_k[kept][i];
        out.elements[i] = code;
        const uint32_t ax = bits_of(xi) & 0x7FFFFFFFu;
        const uint32_t at = bits_of(xi * inv_k[kept]) & 0x7FFFFFFFu;
        const bool x_fin = ax < kInfBits;
        st.sat += sv != 0.0f && x_fin && at <= kInfBits && at > uint32_t(ei.fmax_bits);
        st.under += x_fin && ax != 0 && (int32_t(code) & ei.zero_mask) == ei.zero_value;
      }
  }
}

// Special blocks: take back what the vector pass counted, then apply the
// scalar definition (MX NaN scale: round(+NaN), no underflows or
// saturations (MX and NVFP4); zero NVFP4 block scale: +-0 for finite x,
// round(x) otherwise, non-zero inputs underflow).
void redo_special_blocks(std::span<const float> x, const qdetail::Tiling& tl, const qdetail::Scales& scales,
                         const qdetail::QuantArgs& args, const ElemInfo& ei, const QuantScheme& q,
                         QuantizedTensor& out, qdetail::SegStats& st) {
  const std::vector<float>& vals = scales.vals();
  for (size_t b : scales.special()) {
    const bool nan_scale = scales.nan_block(b);
    const size_t gi = b / tl.gc, gj = b % tl.gc;
    for (size_t r = gi * tl.br; r < std::min(tl.rows, (gi + 1) * tl.br); ++r)
      for (size_t c = gj * tl.bc; c < std::min(tl.cols, (gj + 1) * tl.bc); ++c) {
        const size_t i = r * tl.cols + c;
        const float xi = x[i];
        qdetail::SegStats vec;  // what the vector pass counted for this element
        (void)qdetail::scalar_lane(args, xi, vals[b], i, vec);
        const uint8_t old = out.elements[i];
        const uint32_t ax = bits_of(xi) & 0x7FFFFFFFu;
        const bool x_nz = ax < kInfBits && ax != 0;
        st.sat -= vec.sat;
        st.under -= x_nz && (int32_t(old) & ei.zero_mask) == ei.zero_value;
        Flags fl;
        Unpacked v;
        if (nan_scale) {
          v.cls = ValueClass::quiet_nan;
        } else {
          v = unpack(bits_of(xi), kF32);
          if (v.cls == ValueClass::finite) v.cls = ValueClass::zero;
        }
        const uint8_t code = uint8_t(round(v, q.element, q.rounding, fl, i));
        out.elements[i] = code;
        if (!nan_scale) st.under += x_nz && element_value(q, code) == 0.0;
      }
  }
}

void quantize_impl(std::span<const float> input, TensorShape shape, const QuantScheme& q, const float* given,
                   QuantizedTensor& out) {
  const TensorShape grid = fpsim::detail::check_quantize_args(input.size(), shape, q);
  if (!quantize_supported(q, shape)) {
    out = delegate(input, shape, q, given);
    return;
  }
  const bool multiplier_kind = q.kind == ScaleKind::per_tensor || q.kind == ScaleKind::fp32_block;
  // Exact products with multipliers that need not be powers of two: the
  // scalar definition for the whole call.
  if (multiplier_kind && q.arith == ScaleArith::exact && !(given ? is_pow2(*given) : q.pow2_scales)) {
    out = delegate(input, shape, q, given);
    return;
  }

  // Reset every field, keeping the vectors' storage.
  out.scale_grid = grid;
  out.shape = shape;
  out.scheme = q;
  out.stats = QuantStats{};
  out.tensor_scale = 1.0f;
  out.row_tensor_scales.clear();
  // scales / multipliers: resized by Scales and overwritten block by block.
  const QuantScheme& sq = out.scheme;  // outlives the kernels' pointers into it
  Workspace& ws = workspace();
  std::span<const float> x = input;
  if (q.hadamard) {
    ws.rotated.assign(input.begin(), input.end());
    bulk::hadamard_transform(ws.rotated, shape, fpsim::hadamard_axis(q), q.hadamard_seed);
    x = ws.rotated;
  }
  const size_t n = x.size();
  out.elements.resize(n);
  out.stats.elements = n;

  const bool per_tensor = q.kind == ScaleKind::per_tensor;
  // MX and NVFP4 block amaxes propagate NaN (the block's scale becomes NaN).
  const bool nan_prop = q.kind == ScaleKind::mx || q.kind == ScaleKind::nvfp4;
  const BlockShape blk = per_tensor ? BlockShape{shape.rows, shape.cols} : q.block;
  const qdetail::Tiling tl = qdetail::tiling_of(shape, blk, grid);
  const size_t nblocks = grid.rows * grid.cols;
  std::vector<uint32_t>& amax = ws.amax;
  amax.assign(nblocks, 0u);
  qdetail::Scales scales(sq, given, nblocks, out, ws.vals, HWY_DYNAMIC_DISPATCH(ConvertU8));

  const detail::FromParams params = detail::from_params(sq.element, sq.rounding);
  const ElemInfo ei = elem_info(q);
  const qdetail::QuantArgs args = quant_args(sq, params, ei);
  qdetail::SegStats st;
  auto seg = HWY_DYNAMIC_DISPATCH(QuantSegment);
  auto amax_strip = HWY_DYNAMIC_DISPATCH(AmaxStrip);
  std::vector<uint32_t> scratch(std::min(tl.tile, tl.cols));
  std::vector<float> col(per_tensor ? 0 : std::min(tl.tile, tl.cols));
  auto tile_amax = [&](size_t gi, size_t r0, size_t r1, size_t c0, size_t c1) {
    amax_strip(x.data(), tl.cols, r0, r1, c0, c1, tl.bc, nan_prop, amax.data() + gi * tl.gc, scratch.data());
  };
  auto tile_blocks = [&](size_t gi, size_t c0, size_t c1) {
    return std::pair<size_t, size_t>{gi * tl.gc + c0 / tl.bc, gi * tl.gc + ceil_div(c1, tl.bc)};
  };
  // Blocks a whole number of vectors wide take their multiplier per block;
  // others get it spread over a per-column array.
  const size_t lanes = HWY_DYNAMIC_DISPATCH(VectorLanes)();
  const bool per_block = tl.bc % lanes == 0;
  auto round_with = [&](const float* vals, uint8_t* dst, qdetail::SegStats& s, size_t gi, size_t r0, size_t r1,
                        size_t c0, size_t c1) {
    const float* m = vals + gi * tl.gc + c0 / tl.bc;
    if (!per_block) {
      qdetail::spread(tl, vals, gi, c0, c1, col.data());
      m = col.data();
    }
    for (size_t r = r0; r < r1; ++r) {
      const size_t off = r * tl.cols + c0;
      seg(args, x.data() + off, m, per_block ? tl.bc : 0, c1 - c0, dst + off, off, s);
    }
  };
  auto tile_round = [&](size_t gi, size_t r0, size_t r1, size_t c0, size_t c1) {
    round_with(scales.vals().data(), out.elements.data(), st, gi, r0, r1, c0, c1);
  };
  if (per_tensor) {
    amax[0] = HWY_DYNAMIC_DISPATCH(AmaxFlat)(x.data(), n);
    out.stats.amax = float_of(amax[0]);
    scales.compute(amax.data(), 0, 1);
    for (size_t off = 0; off < n; off += kTileCols)  // one block per chunk (kTileCols % lanes == 0)
      seg(args, x.data() + off, scales.vals().data(), kTileCols, std::min(kTileCols, n - off),
          out.elements.data() + off, off, st);
  } else if (q.kind == ScaleKind::nvfp4) {
    // The block scales depend on the tensor's amax: two passes.
    qdetail::for_each_tile(tl, tile_amax);
    out.stats.amax = tensor_amax(x, tl, amax);
    const float* row_amax = nullptr;
    if (q.nvfp4_row_scaled) {  // blocks one row high: block row gi is row gi
      ws.row_amax.resize(tl.gr);
      for (size_t gi = 0; gi < tl.gr; ++gi) ws.row_amax[gi] = float_of(block_row_amax(x, tl, amax, gi));
      row_amax = ws.row_amax.data();
      scales.set_row_amax(row_amax, tl.gr, tl.gc);
    } else {
      scales.set_tensor_amax(out.stats.amax);
    }
    scales.compute(amax.data(), 0, nblocks);
    qdetail::for_each_tile(tl, tile_round);
    if (q.four_over_six != FourOverSix::off) {
      ws.elements4.resize(n);
      qdetail::SegStats unused;  // choose_4over6 counts the kept candidate's
      qdetail::for_each_tile(tl, [&](size_t gi, size_t r0, size_t r1, size_t c0, size_t c1) {
        round_with(scales.vals4().data(), ws.elements4.data(), unused, gi, r0, r1, c0, c1);
      });
      choose_4over6(x, tl, scales, ws.elements4, row_amax, ei, q, out, st);
    }
  } else {
    // MX, FP32 blocks: amax, scales and elements tile by tile, in cache.
    qdetail::for_each_tile(tl, [&](size_t gi, size_t r0, size_t r1, size_t c0, size_t c1) {
      tile_amax(gi, r0, r1, c0, c1);
      const auto [b0, b1] = tile_blocks(gi, c0, c1);
      scales.compute(amax.data(), b0, b1);
      tile_round(gi, r0, r1, c0, c1);
    });
    out.stats.amax = tensor_amax(x, tl, amax);
  }
  redo_special_blocks(x, tl, scales, args, ei, q, out, st);
  out.stats.nan_inputs = st.nan;
  out.stats.inf_inputs = st.inf;
  out.stats.saturated = st.sat;
  out.stats.underflows = st.under;
  if (q.error_stats) {
    ws.dequantized.resize(n);
    fpsim::bulk::dequantize_into(out, ws.dequantized);
    fpsim::detail::error_stats(x, ws.dequantized, out.stats);
  }
}

}  // namespace

void quantize_into(std::span<const float> x, TensorShape shape, const QuantScheme& scheme, QuantizedTensor& out) {
  quantize_impl(x, shape, scheme, nullptr, out);
}

QuantizedTensor quantize(std::span<const float> x, TensorShape shape, const QuantScheme& scheme) {
  QuantizedTensor out;
  quantize_impl(x, shape, scheme, nullptr, out);
  return out;
}

QuantizedTensor quantize_with_multiplier(std::span<const float> x, TensorShape shape, const QuantScheme& scheme,
                                         float multiplier) {
  if (scheme.kind != ScaleKind::per_tensor || !(multiplier > 0.0f) || !std::isfinite(multiplier))
    return fpsim::quantize_with_multiplier(x, shape, scheme, multiplier);  // throws the scalar code's error
  QuantizedTensor out;
  quantize_impl(x, shape, scheme, &multiplier, out);
  return out;
}

}  // namespace fpsim::bulk
#endif  // HWY_ONCE
