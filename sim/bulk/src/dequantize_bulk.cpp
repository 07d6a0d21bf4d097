// SIMD dequantization (fpsim::bulk::dequantize, dequantize_into), bit-identical
// to fpsim::dequantize (docs/quantization.md): per block, the scale code's
// value as an FP32 factor; per element, fp32(value(code) * factor [* the NVFP4
// tensor scale]) with the shared decoding kernel (round_kernel-inl.h). The
// product is one rounding of the exact value wherever dequantize_supported
// admits the tensor (each factor exact, element x block scale exact in FP32
// for NVFP4); every other tensor runs fpsim::dequantize. Separate from
// quantize_bulk.cpp: it reads a finished QuantizedTensor and shares nothing
// with the quantization passes but the block grid (quantize_blocks.hpp).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "fpsim/bulk/quantize_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/quantize.hpp"
#include "kernel_params.hpp"
#include "quantize_blocks.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/dequantize_bulk.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "round_kernel-inl.h"

HWY_BEFORE_NAMESPACE();
namespace fpsim::bulk {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR

void DequantSegment(const detail::ToParams&, const Format& from, const uint8_t* in, const float* s, float ts,
                    bool two, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    Flags ignored;
    float v = fpsim::to_float(in[i], from, RoundingSpec{}, ignored) * s[i];
    if (two) v *= ts;
    out[i] = std::isnan(v) ? std::numeric_limits<float>::quiet_NaN() : v;
  }
}

#else

template <bool kTwo>
HWY_NOINLINE void DequantLoop(const detail::ToParams& p, const uint8_t* HWY_RESTRICT in,
                              const float* HWY_RESTRICT s, float ts, size_t n, float* HWY_RESTRICT out) {
  const DI di;
  const DF df;
  const hn::Rebind<uint8_t, DI> d8;
  const size_t N = hn::Lanes(di);
  const hn::Vec<DF> tsv = hn::Set(df, ts);
  const hn::Vec<DF> qnan = hn::BitCast(df, hn::Set(di, 0x7FC00000));
  auto step = [&](VI code, hn::Vec<DF> sv) {
    hn::Vec<DF> v = hn::Mul(hn::BitCast(df, DecodeBlock(p, code)), sv);
    if (kTwo) v = hn::Mul(v, tsv);
    return hn::IfThenElse(hn::IsNaN(v), qnan, v);
  };
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const VI code = hn::BitCast(di, hn::PromoteTo(DU(), hn::LoadU(d8, in + i)));
    hn::StoreU(step(code, hn::LoadU(df, s + i)), df, out + i);
  }
  if (i < n) {
    const size_t rest = n - i;
    HWY_ALIGN uint8_t src[hn::MaxLanes(di)] = {};
    HWY_ALIGN float ss[hn::MaxLanes(di)] = {};
    HWY_ALIGN float dst[hn::MaxLanes(di)];
    std::memcpy(src, in + i, rest);
    std::memcpy(ss, s + i, rest * sizeof(float));
    const VI code = hn::BitCast(di, hn::PromoteTo(DU(), hn::LoadU(d8, src)));
    hn::Store(step(code, hn::Load(df, ss)), df, dst);
    std::memcpy(out + i, dst, rest * sizeof(float));
  }
}

// out[i] = fp32(value(in[i]) * s[i] [* ts]) with NaN as the default NaN.
void DequantSegment(const detail::ToParams& p, const Format&, const uint8_t* in, const float* s, float ts, bool two,
                    size_t n, float* out) {
  if (two)
    DequantLoop<true>(p, in, s, ts, n, out);
  else
    DequantLoop<false>(p, in, s, ts, n, out);
}


#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::bulk
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace fpsim::bulk {

HWY_EXPORT(DequantSegment);

namespace {

using qdetail::ceil_div;

bool dequantize_supported(const QuantizedTensor& q) {
  const QuantScheme& s = q.scheme;
  const size_t n = q.shape.size();
  if (n == 0 || q.elements.size() != n) return false;
  if (s.kind == ScaleKind::per_tensor) {
    if (q.scale_grid != TensorShape{1, 1}) return false;
  } else {
    if (s.block.rows == 0 || s.block.cols == 0) return false;
    if (q.scale_grid != TensorShape{ceil_div(q.shape.rows, s.block.rows), ceil_div(q.shape.cols, s.block.cols)})
      return false;
  }
  if (q.scales.size() != q.scale_grid.size()) return false;
  switch (s.kind) {
    case ScaleKind::per_tensor:
    case ScaleKind::fp32_block:
      if (!is_binary32(q.scale_format)) return false;
      break;
    case ScaleKind::mx:
      if (!q.scale_format.same_encoding(formats::e8m0)) return false;
      break;
    case ScaleKind::nvfp4:
      if (!q.scale_format.same_encoding(formats::ue4m3)) return false;
      break;
  }
  const Format& f = s.element;
  if (f.bits > 8) return false;
  if (f.is_integer()) return is_mx_int(s) && f.bits == 8;
  if (!detail::to_vectorizable(f)) return false;
  if (s.kind == ScaleKind::nvfp4) {
    // element * block scale must be exact in f32 (then one rounding by the
    // tensor scale): precision M+1 + 4 <= 24, values within the normal range
    // (block scales from ue4m3's smallest subnormal to kNvfp4ScaleMax).
    const Format& sf = formats::ue4m3;
    const double top = to_double(f.max_code(), f) * double(kNvfp4ScaleMax);
    const double low = std::ldexp(1.0, f.emin() - f.man_bits) * std::ldexp(1.0, sf.emin() - sf.man_bits);
    if (f.man_bits + 1 + sf.man_bits + 1 > 24 || !(top < 0x1p127) || !(low >= 0x1p-126)) return false;
  }
  return true;
}

// The FP32 factor of each block: the scale code's value (MXINT8: times
// 2^-6, the elements' fixed point), in a per-thread buffer that keeps its
// capacity (quantize_into's contract).
const std::vector<float>& block_factors(const QuantizedTensor& q) {
  thread_local std::vector<float> vals;
  const QuantScheme& s = q.scheme;
  const size_t nblocks = q.scales.size();
  vals.resize(nblocks);
  const float* ue4m3_table = fpsim::detail::ue4m3_values().data();
  for (size_t b = 0; b < nblocks; ++b) {
    switch (s.kind) {
      case ScaleKind::per_tensor:
      case ScaleKind::fp32_block:
        vals[b] = qdetail::float_of(q.scales[b]);
        break;
      case ScaleKind::mx:
        vals[b] = q.scales[b] == 0xFF ? std::numeric_limits<float>::quiet_NaN()
                                      : qdetail::exp2_float(int(q.scales[b]) - 127 - element_fraction_bits(s));
        break;
      case ScaleKind::nvfp4:
        vals[b] = q.scales[b] < 256 ? ue4m3_table[q.scales[b]] : float(to_double(q.scales[b], formats::ue4m3));
        break;
    }
  }
  return vals;
}

}  // namespace

std::vector<float> dequantize(const QuantizedTensor& q) {
  std::vector<float> out(q.elements.size());
  dequantize_into(q, out);
  return out;
}

void dequantize_into(const QuantizedTensor& q, std::span<float> out) {
  if (out.size() != q.elements.size()) {
    std::string msg = "dequantize_into: the output has ";
    msg.append(std::to_string(out.size())).append(" values, the tensor ").append(std::to_string(q.elements.size()));
    throw OptionError(msg);
  }
  if (!dequantize_supported(q)) {
    const std::vector<float> v = fpsim::dequantize(q);
    std::copy(v.begin(), v.end(), out.begin());
    return;
  }
  const QuantScheme& s = q.scheme;
  const size_t n = q.elements.size();
  const bool per_tensor = s.kind == ScaleKind::per_tensor;
  const BlockShape blk = per_tensor ? BlockShape{q.shape.rows, q.shape.cols} : s.block;
  const qdetail::Tiling tl = qdetail::tiling_of(q.shape, blk, q.scale_grid);
  const std::vector<float>& vals = block_factors(q);
  if (is_mx_int(s)) {  // code * 2^-6 * 2^k as one f32 product of exact factors
    for (size_t i = 0; i < n; ++i) {
      const size_t r = i / tl.cols, c = i % tl.cols;
      const float v = float(int8_t(q.elements[i])) * vals[(r / tl.br) * tl.gc + c / tl.bc];
      out[i] = std::isnan(v) ? std::numeric_limits<float>::quiet_NaN() : v;
    }
    return;
  }
  const detail::ToParams tp = detail::to_params(s.element);
  const bool two = s.kind == ScaleKind::nvfp4;
  const float ts = q.tensor_scale;
  auto seg = HWY_DYNAMIC_DISPATCH(DequantSegment);
  constexpr size_t kTileCols = qdetail::kTileCols;
  if (per_tensor) {
    std::vector<float> col(std::min(n, kTileCols), vals[0]);
    for (size_t off = 0; off < n; off += kTileCols)
      seg(tp, s.element, q.elements.data() + off, col.data(), ts, two, std::min(kTileCols, n - off), out.data() + off);
    return;
  }
  std::vector<float> col(std::min(tl.tile, tl.cols));
  qdetail::for_each_tile(tl, [&](size_t gi, size_t r0, size_t r1, size_t c0, size_t c1) {
    qdetail::spread(tl, vals.data(), gi, c0, c1, col.data());
    for (size_t r = r0; r < r1; ++r) {
      const size_t off = r * tl.cols + c0;
      const float row_ts = q.row_tensor_scales.empty() ? ts : q.row_tensor_scales[r];  // row-scaled NVFP4
      seg(tp, s.element, q.elements.data() + off, col.data(), row_ts, two, c1 - c0, out.data() + off);
    }
  });
}

}  // namespace fpsim::bulk
#endif  // HWY_ONCE
