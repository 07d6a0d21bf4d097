// Scalar definitions of the quantizers: docs/quantization.md, section by
// section, with the scale rules sim/bulk's SIMD path calls too (quantize.hpp
// declares them together). Every rounding into a narrow format goes through the one rounding
// core (fpsim::round / convert / detail::exact_product / exact_quotient);
// plain FP32 steps (TE's `__fdiv_rn(max, amax)`, `x * scale`) are single IEEE
// binary32 operations of the host, which round to nearest even.
#include "fpsim/quantize.hpp"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <cctype>
#include <sstream>
#include <utility>

#include "fpsim/arith.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/philox.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim {
namespace {

constexpr Format kF32 = formats::fp32;
constexpr Format kF64 = formats::fp64;

uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }
float float_of(uint32_t b) { return std::bit_cast<float>(b); }

Unpacked unpack_f32(float x) { return unpack(bits_of(x), kF32); }
Unpacked unpack_f64(double x) { return unpack(std::bit_cast<uint64_t>(x), kF64); }

// |v| > element max (docs/quantization.md §4 `saturated`): rounding |v| up
// into the element format overflows exactly when it exceeds the max finite.
bool exceeds_max(Unpacked v, const Format& f) {
  if (v.cls == ValueClass::inf) return true;  // a finite x whose FP32 x * s overflowed
  if (v.cls != ValueClass::finite) return false;
  v.sign = false;
  Flags fl;
  (void)round(v, f, RoundingSpec{Rounding::rup, Overflow::ieee}, fl);
  return fl.test(Flags::overflow) || (f.is_integer() && fl.test(Flags::invalid));
}

// max |x| over a block: NaN-propagating (MX) or NaN-ignoring (fmaxf).
struct BlockRange {
  size_t r0, r1, c0, c1;
};

float block_amax(std::span<const float> x, size_t cols, BlockRange b, bool nan_propagates) {
  float amax = 0.0f;
  for (size_t r = b.r0; r < b.r1; ++r)
    for (size_t c = b.c0; c < b.c1; ++c) {
      const float a = std::fabs(x[r * cols + c]);
      if (std::isnan(a)) {
        if (nan_propagates) return a;
        continue;
      }
      amax = std::max(amax, a);
    }
  return amax;
}

using detail::ElementResult;
using detail::round_element;

ElementResult round_fp32_value(float t, const QuantScheme& s, uint64_t index) {
  Flags fl;
  const uint8_t code = uint8_t(convert(bits_of(t), kF32, s.element, s.rounding, fl, index));
  return {code, exceeds_max(unpack_f32(t), s.element)};
}

// Counts one input (docs/quantization.md §4); a NaN-scale block's elements
// count neither underflows nor saturations.
void count_input(float x, uint8_t code, bool saturated, const QuantScheme& s, QuantStats& st,
                 bool nan_scale = false) {
  if (std::isnan(x)) {
    ++st.nan_inputs;
  } else if (std::isinf(x)) {
    ++st.inf_inputs;
  } else if (!nan_scale) {
    if (x != 0.0f && element_value(s, code) == 0.0) ++st.underflows;
    if (saturated) ++st.saturated;
  }
}

double tensor_max_abs(std::span<const float> x) {
  float m = 0.0f;
  for (float v : x)
    if (!std::isnan(v)) m = std::max(m, std::fabs(v));
  return m;
}

// A multiplier-scheme element (per_tensor, fp32_block) with multiplier s.
ElementResult multiplier_element(float x, float s, const QuantScheme& q, uint64_t index) {
  if (std::isnan(x)) return round_fp32_value(x, q, index);  // a NaN input converts as itself (§3)
  if (q.arith != ScaleArith::exact) return round_fp32_value(x * s, q, index);  // fp32, fp32_te_legacy
  Flags fl;
  const Unpacked v = detail::exact_product(unpack_input(bits_of(x), kF32, q.rounding, fl), unpack_f32(s), fl);
  return round_element(v, q, index);
}

void quantize_blocks_with_multiplier(std::span<const float> x, const QuantScheme& q, BlockRange b, size_t cols,
                                     float s, QuantizedTensor& out) {
  for (size_t r = b.r0; r < b.r1; ++r)
    for (size_t c = b.c0; c < b.c1; ++c) {
      const size_t i = r * cols + c;
      const ElementResult e = multiplier_element(x[i], s, q, i);
      out.elements[i] = e.code;
      count_input(x[i], e.code, e.saturated, q, out.stats);
    }
}

void store_multiplier(float s, QuantizedTensor& out) {
  out.multipliers.push_back(bits_of(s));
  out.scales.push_back(bits_of(decode_scale(s)));
}

void quantize_mx_block(std::span<const float> x, const QuantScheme& q, BlockRange b, size_t cols,
                       QuantizedTensor& out) {
  const float amax = block_amax(x, cols, b, /*nan_propagates=*/true);
  const uint8_t code = e8m0_scale_code(amax, q.e8m0_rule, q);
  out.scales.push_back(code);
  const bool nan_scale = code == 0xFF;
  if (nan_scale) ++out.stats.nan_scale_blocks;
  // element = x * 2^-k (MXINT8: x * 2^(6-k)), an exponent adjustment.
  const int32_t shift = 127 - int32_t(code) + element_fraction_bits(q);
  for (size_t r = b.r0; r < b.r1; ++r)
    for (size_t c = b.c0; c < b.c1; ++c) {
      const size_t i = r * cols + c;
      Flags fl;
      Unpacked v;
      if (nan_scale) {
        v.cls = ValueClass::quiet_nan;
      } else {
        v = unpack_input(bits_of(x[i]), kF32, q.rounding, fl);
        if (v.cls == ValueClass::finite) v.exp += shift;
      }
      const ElementResult e = round_element(v, q, i);
      out.elements[i] = e.code;
      count_input(x[i], e.code, e.saturated, q, out.stats, nan_scale);
    }
}

// NVFP4 in one of TE's FP32 orders or exactly (docs/quantization.md §3).
// s_enc is the tensor's encode scale S_enc.
void quantize_nvfp4_block(std::span<const float> x, const QuantScheme& q, BlockRange b, size_t cols, float s_enc,
                          QuantizedTensor& out) {
  // NaN-propagating, as MX: a NaN makes the block's ue4m3 scale NaN, since
  // e2m1 elements cannot hold one (docs/quantization.md §2).
  const float amax = block_amax(x, cols, b, /*nan_propagates=*/true);
  Flags fl;
  uint8_t sb = 0;
  if (q.arith != ScaleArith::exact) {
    const float t = nvfp4_block_scale_fp32(amax, s_enc, q.arith);
    sb = uint8_t(convert(bits_of(t), kF32, formats::ue4m3, kNvfp4ScaleRounding, fl));
  } else {
    const Unpacked num = detail::exact_product(unpack_f32(amax), unpack_f32(s_enc), fl);
    sb = uint8_t(round(detail::exact_quotient(num, unpack_f64(double(kNvfp4ElementMax)), false, fl), formats::ue4m3,
                       kNvfp4ScaleRounding, fl));
  }
  out.scales.push_back(sb);
  if (formats::ue4m3.is_nan_code(sb)) {
    ++out.stats.nan_scale_blocks;
    for (size_t r = b.r0; r < b.r1; ++r)
      for (size_t c = b.c0; c < b.c1; ++c) {
        const size_t i = r * cols + c;
        Unpacked nan;
        nan.cls = ValueClass::quiet_nan;
        out.elements[i] = round_element(nan, q, i).code;
        count_input(x[i], out.elements[i], false, q, out.stats, /*nan_scale=*/true);
      }
    return;
  }
  const float sbv = detail::ue4m3_values()[sb];
  const float enc_b = nvfp4_block_encode_scale(s_enc, sbv, q.arith);
  for (size_t r = b.r0; r < b.r1; ++r)
    for (size_t c = b.c0; c < b.c1; ++c) {
      const size_t i = r * cols + c;
      const float xi = x[i];
      ElementResult e{};
      if (sbv == 0.0f) {
        // A zero block scale: every finite element is +-0 (docs §3 nvfp4).
        Unpacked v = unpack_f32(xi);
        if (v.cls == ValueClass::finite) v.cls = ValueClass::zero;
        Flags f2;
        e = {uint8_t(round(v, q.element, q.rounding, f2, i)), false};
      } else if (std::isnan(xi)) {
        e = round_fp32_value(xi, q, i);  // a NaN input converts as itself (§3)
      } else if (q.arith != ScaleArith::exact) {
        e = round_fp32_value(xi * enc_b, q, i);
      } else {
        Flags f2;
        const Unpacked num =
            detail::exact_product(unpack_input(bits_of(xi), kF32, q.rounding, f2), unpack_f32(s_enc), f2);
        const Unpacked v = detail::exact_quotient(num, unpack_f32(sbv), q.rounding.rounding == Rounding::sr, f2);
        e = round_element(v, q, i);
      }
      out.elements[i] = e.code;
      count_input(xi, e.code, e.saturated, q, out.stats);
    }
}

// NVFP4 4over6 (docs/quantization.md §3 "nvfp4 4over6", TE's
// quantize_4over6_nvfp4.cuh at commit d0067d0da, non-fast-math error path):
// base = fp32(fp32(amax_b / 6) * S_enc); candidate k in {map-to-6: s6 =
// ue4m3(min(base, 448)), map-to-4: s4 = ue4m3(min(fp32(1.5 base), 448))};
// element codes round(fp32(x * inv_k)), inv_k = the fp32 order's
// nvfp4_block_encode_scale; error_k = FP32 sum, in the block's order, of
// |d| (mae) or fp32(d * d) (mse), d = fp32(fp32(fp32(fp32(q * s_k) * amax_t)
// / 1536) - x), q the element's value. map-to-4 is kept when error_4 <
// error_6. A 16x16 block sums its rows' errors (each row summed along it) as
// TE's warp reduction does: r_i + r_(i+8), then + 4, + 2, + 1 apart.
struct Nvfp4Candidate {
  uint8_t scale_code = 0;
  float error = 0.0f;
  std::vector<ElementResult> elements;  // in the block's row-major order
};

Nvfp4Candidate nvfp4_candidate(std::span<const float> x, const QuantScheme& q, BlockRange b, size_t cols,
                               float s_enc, float amax_t, float scale) {
  Nvfp4Candidate c;
  Flags fl;
  c.scale_code = uint8_t(convert(bits_of(scale), kF32, formats::ue4m3, kNvfp4ScaleRounding, fl));
  const float sv = detail::ue4m3_values()[c.scale_code];
  const float inv = nvfp4_block_encode_scale(s_enc, sv, ScaleArith::fp32);
  constexpr float kErrDenominator = kNvfp4ElementMax * kNvfp4FourOverSixGlobalScaleMax;  // 1536, exact
  float row_error[16] = {};
  for (size_t r = b.r0; r < b.r1; ++r) {
    float err = 0.0f;
    for (size_t cc = b.c0; cc < b.c1; ++cc) {
      const size_t i = r * cols + cc;
      const float xi = x[i];
      ElementResult e{};
      if (sv == 0.0f || std::isnan(xi)) {  // a zero block scale: +-0 elements (docs §3 nvfp4)
        Unpacked v = unpack_f32(xi);
        if (v.cls == ValueClass::finite) v.cls = ValueClass::zero;
        e = round_element(v, q, i);
        e.saturated = false;
      } else {
        e = round_fp32_value(xi * inv, q, i);
      }
      c.elements.push_back(e);
      const float qv = float(element_value(q, e.code));
      const float d = ((qv * sv) * amax_t) / kErrDenominator - xi;
      err += q.four_over_six == FourOverSix::mse ? d * d : std::fabs(d);
    }
    row_error[(r - b.r0) % 16] = err;
  }
  if (b.r1 - b.r0 == 1) {
    c.error = row_error[0];
  } else {
    for (size_t step = 8; step >= 1; step /= 2)
      for (size_t l = 0; l < step; ++l) row_error[l] += row_error[l + step];
    c.error = row_error[0];
  }
  return c;
}

void quantize_nvfp4_4over6_block(std::span<const float> x, const QuantScheme& q, BlockRange b, size_t cols,
                                 float s_enc, float amax_t, QuantizedTensor& out) {
  const float amax = block_amax(x, cols, b, /*nan_propagates=*/true);
  if (std::isnan(amax)) {  // a NaN scale, as plain NVFP4 (docs §2)
    quantize_nvfp4_block(x, q, b, cols, s_enc, out);
    return;
  }
  const float base = (amax / kNvfp4ElementMax) * s_enc;
  const Nvfp4Candidate map6 = nvfp4_candidate(x, q, b, cols, s_enc, amax_t, std::fmin(base, kNvfp4ScaleMax));
  const Nvfp4Candidate map4 =
      nvfp4_candidate(x, q, b, cols, s_enc, amax_t, std::fmin(base * 1.5f, kNvfp4ScaleMax));
  const Nvfp4Candidate& kept = map4.error < map6.error ? map4 : map6;
  out.scales.push_back(kept.scale_code);
  size_t k = 0;
  for (size_t r = b.r0; r < b.r1; ++r)
    for (size_t c = b.c0; c < b.c1; ++c, ++k) {
      const size_t i = r * cols + c;
      out.elements[i] = kept.elements[k].code;
      count_input(x[i], kept.elements[k].code, kept.elements[k].saturated, q, out.stats);
    }
}

std::string shape_text(TensorShape s) {
  std::ostringstream o;
  o << s.rows << "x" << s.cols;
  return o.str();
}

// Never overflows: a block wider than the tensor (up to SIZE_MAX) is one block.
size_t ceil_div(size_t a, size_t b) { return a / b + (a % b != 0); }

QuantizedTensor quantize_impl(std::span<const float> input, TensorShape shape, const QuantScheme& q,
                              const float* given_multiplier) {
  QuantizedTensor out;
  out.scale_grid = detail::check_quantize_args(input.size(), shape, q);
  out.shape = shape;
  out.scheme = q;
  std::vector<float> rotated;
  std::span<const float> x = input;
  if (q.hadamard) {
    rotated.assign(input.begin(), input.end());
    hadamard_transform(rotated, shape, hadamard_axis(q), q.hadamard_seed);
    x = rotated;
  }
  out.elements.assign(x.size(), 0);
  out.stats.elements = x.size();
  out.stats.amax = float(tensor_max_abs(x));
  const size_t cols = shape.cols;
  const BlockShape blk = q.kind == ScaleKind::per_tensor ? BlockShape{std::max<size_t>(shape.rows, 1),
                                                                      std::max<size_t>(shape.cols, 1)}
                                                         : q.block;
  const double fmt_max = element_max(q);
  float s_enc = 1.0f;
  // Row-scaled NVFP4: each row's amax (NaN-ignoring, as the tensor's) and
  // encode scale; a block (one row high) uses its row's.
  std::vector<float> row_amax, row_s_enc;
  const float global_e4m3_max =
      q.four_over_six == FourOverSix::off ? kNvfp4ScaleMax : kNvfp4FourOverSixGlobalScaleMax;
  if (q.kind == ScaleKind::nvfp4) {
    out.scale_format = formats::ue4m3;
    s_enc = nvfp4_encode_scale(out.stats.amax, global_e4m3_max);
    out.tensor_scale = decode_scale(s_enc);
    if (q.nvfp4_row_scaled) {
      out.tensor_scale = 1.0f;
      for (size_t r = 0; r < shape.rows; ++r) {
        row_amax.push_back(float(tensor_max_abs(x.subspan(r * cols, cols))));
        row_s_enc.push_back(nvfp4_encode_scale(row_amax.back(), global_e4m3_max));
        out.row_tensor_scales.push_back(decode_scale(row_s_enc.back()));
      }
    }
  } else if (q.kind == ScaleKind::mx) {
    out.scale_format = formats::e8m0;
  } else {
    out.scale_format = formats::fp32;
  }
  for (size_t bi = 0; bi < out.scale_grid.rows; ++bi)
    for (size_t bj = 0; bj < out.scale_grid.cols; ++bj) {
      const BlockRange b{bi * blk.rows, std::min(shape.rows, (bi + 1) * blk.rows), bj * blk.cols,
                         std::min(shape.cols, (bj + 1) * blk.cols)};
      switch (q.kind) {
        case ScaleKind::per_tensor:
        case ScaleKind::fp32_block: {
          const float s = given_multiplier ? *given_multiplier
                                           : multiplier_from_amax(block_amax(x, cols, b, false), fmt_max,
                                                                  q.pow2_scales, q.amax_epsilon);
          store_multiplier(s, out);
          quantize_blocks_with_multiplier(x, q, b, cols, s, out);
          break;
        }
        case ScaleKind::mx:
          quantize_mx_block(x, q, b, cols, out);
          break;
        case ScaleKind::nvfp4: {
          const float se = q.nvfp4_row_scaled ? row_s_enc[b.r0] : s_enc;
          if (q.four_over_six != FourOverSix::off)
            quantize_nvfp4_4over6_block(x, q, b, cols, se, q.nvfp4_row_scaled ? row_amax[b.r0] : out.stats.amax,
                                        out);
          else
            quantize_nvfp4_block(x, q, b, cols, se, out);
          break;
        }
      }
    }
  if (q.error_stats) detail::error_stats(x, dequantize(out), out.stats);
  return out;
}

}  // namespace

bool is_mx_int(const QuantScheme& s) { return s.kind == ScaleKind::mx && s.element.is_integer(); }

int element_fraction_bits(const QuantScheme& s) { return is_mx_int(s) ? kMxIntFractionBits : 0; }

double element_max(const QuantScheme& s) {
  if (is_mx_int(s)) return std::ldexp(127.0, -kMxIntFractionBits);
  return to_double(s.element.max_code(), s.element);
}

int element_emax(const QuantScheme& s) {
  int e = 0;
  (void)std::frexp(element_max(s), &e);  // max = m * 2^e, m in [0.5, 1)
  return e - 1;
}

double element_value(const QuantScheme& s, uint8_t code) {
  const double v = to_double(code, s.element);
  return is_mx_int(s) ? std::ldexp(v, -kMxIntFractionBits) : v;
}

float multiplier_from_amax(float amax, double fmt_max, bool pow2, float epsilon) {
  if (amax < epsilon) amax = epsilon;
  if (std::isinf(amax) || amax == 0.0f) return 1.0f;
  float s = float(fmt_max) / amax;  // __fdiv_rn(max_fp8, amax)
  if (std::isinf(s)) s = FLT_MAX;
  if (std::isnan(s)) s = 1.0f;
  if (pow2) {
    s = float_of(bits_of(s) & 0xFF800000u);
    if (s == 0.0f) s = 0x1p-126f;  // docs/quantization.md §3, decision
  }
  return s;
}

float nvfp4_encode_scale(float amax_t, float e4m3_max) {
  float e = (e4m3_max * kNvfp4ElementMax) / amax_t;  // 2688 (4over6: 1536) / amax: one FP32 division (inf for amax 0)
  e = std::fmin(e, FLT_MAX);
  if (amax_t == 0.0f || e == 0.0f) e = 1.0f;
  return e;
}

// TE's kernels and C++ test reference since c74e5aa37 multiply by the
// constant fp32(1/6) and form the element multiplier from the decode-side
// tensor scale fp32(1 / S_enc); before it the reference divided
// (docs/quantization.md §3, "NVFP4's FP32 orders and the TE commits they
// follow"). `t > FLT_MAX` rather than fminf keeps a NaN amax NaN (fpsim's
// NaN-propagating block amax, §2), where fminf would give FLT_MAX.
float nvfp4_block_scale_fp32(float amax_b, float s_enc, ScaleArith a) {
  if (a == ScaleArith::fp32_te_legacy) return (amax_b / kNvfp4ElementMax) * s_enc;
  constexpr float kRcp6 = 1.0f / kNvfp4ElementMax;  // fp32(1/6), rounded once at compile time
  const float t = amax_b * (s_enc * kRcp6);
  return t > FLT_MAX ? FLT_MAX : t;
}

float nvfp4_block_encode_scale(float s_enc, float s_block, ScaleArith a) {
  if (s_block == 0.0f) return 0.0f;
  if (a == ScaleArith::fp32_te_legacy) return s_enc / s_block;
  const float m = 1.0f / (s_block * decode_scale(s_enc));  // inf when the product underflows to 0
  return std::fmin(m, FLT_MAX);
}

uint8_t e8m0_scale_code(float amax, E8m0Rule rule, const QuantScheme& s) {
  if (rule == E8m0Rule::floor) {
    if (std::isnan(amax) || std::isinf(amax)) return 0xFF;
    if (amax == 0.0f) return 0x00;
    // floor(log2 amax) from the exponent bits (docs/formats.md §8, never log2f).
    const uint32_t b = bits_of(amax) & 0x7FFFFFFFu;
    const int field = int(b >> 23);
    const int e = field != 0 ? field - 127 : (31 - std::countl_zero(b & 0x7FFFFFu)) - 149;
    int k = e - element_emax(s);
    if (k > 127) return 0xFF;
    k = std::max(k, -127);
    return uint8_t(k + 127);
  }
  const float q = e8m0_scale_quotient(amax, float(element_max(s)));
  Flags fl;
  return uint8_t(convert(bits_of(q), kF32, formats::e8m0, e8m0_scale_rounding(rule), fl));
}

RoundingSpec e8m0_scale_rounding(E8m0Rule rule) {
  return rule == E8m0Rule::ceil ? RoundingSpec{Rounding::rup, Overflow::saturate}
                                : RoundingSpec{Rounding::rne, Overflow::ieee};
}

Axis hadamard_axis(const QuantScheme& s) {
  return s.kind != ScaleKind::per_tensor && s.block.rows > s.block.cols ? Axis::rows : Axis::cols;
}

QuantizedTensor quantize(std::span<const float> x, TensorShape shape, const QuantScheme& scheme) {
  return quantize_impl(x, shape, scheme, nullptr);
}

QuantizedTensor quantize_with_multiplier(std::span<const float> x, TensorShape shape, const QuantScheme& scheme,
                                         float multiplier) {
  if (scheme.kind != ScaleKind::per_tensor)
    throw OptionError("a given multiplier needs a per-tensor scheme");
  if (!(multiplier > 0.0f) || !std::isfinite(multiplier))
    throw OptionError("the multiplier must be finite and > 0");
  return quantize_impl(x, shape, scheme, &multiplier);
}

std::vector<float> dequantize(const QuantizedTensor& q) {
  std::vector<float> out(q.elements.size());
  const QuantScheme& s = q.scheme;
  const size_t cols = q.shape.cols;
  const BlockShape blk = s.kind == ScaleKind::per_tensor ? BlockShape{std::max<size_t>(q.shape.rows, 1),
                                                                      std::max<size_t>(q.shape.cols, 1)}
                                                         : s.block;
  const bool row_scaled = !q.row_tensor_scales.empty();
  const Unpacked tensor_scale = unpack_f32(q.tensor_scale);
  const int fraction_bits = element_fraction_bits(s);  // MXINT8's fixed point
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t r = i / cols, c = i % cols;
    const size_t b = (r / blk.rows) * q.scale_grid.cols + c / blk.cols;
    Flags fl;
    Unpacked e = unpack(q.elements[i], s.element);
    if (e.cls == ValueClass::finite) e.exp -= fraction_bits;
    Unpacked v = detail::exact_product(e, unpack(q.scales[b], q.scale_format), fl);
    if (s.kind == ScaleKind::nvfp4)
      v = detail::exact_product(v, row_scaled ? unpack_f32(q.row_tensor_scales[r]) : tensor_scale, fl);
    out[i] = float_of(uint32_t(round(v, kF32, RoundingSpec{}, fl)));
  }
  return out;
}

// The signs' Philox key and counter, and hadamard_transform's summation
// order, follow docs/quantization.md §6; the reference
// (reference/src/quantize.cpp, ref_hadamard_signs) transcribes the same rule
// again on purpose, as the independent oracle.
std::vector<int> hadamard_signs(uint32_t seed) {
  std::vector<int> s(16);
  for (uint32_t i = 0; i < 16; ++i) {
    const uint32_t counter[4] = {i, 0, 0, 0};
    s[i] = (philox4x32_10(counter, seed, 0x52485421u).w[0] & 1u) ? -1 : 1;
  }
  return s;
}

void hadamard_transform(std::span<float> x, TensorShape shape, Axis axis, uint32_t seed, bool inverse) {
  if (x.size() != shape.size()) {
    std::ostringstream o;
    o << x.size() << " values do not fill shape " << shape_text(shape);
    throw OptionError(o.str());
  }
  const size_t len = axis == Axis::cols ? shape.cols : shape.rows;
  if (len % 16 != 0) {
    std::ostringstream o;
    o << "the Hadamard transform needs the " << (axis == Axis::cols ? "row length" : "column length")
      << " to be a multiple of 16, got " << len;
    throw OptionError(o.str());
  }
  const std::vector<int> sign = hadamard_signs(seed);
  // Forward: y_j = 0.25 * sum_i S_i H[i][j] t_i; inverse: x_j = S_j * 0.25 * sum_i H[j][i] t_i,
  // H[i][j] = (-1)^popcount(i & j) (Sylvester). Every term is ±t_i, exact, so
  // the sum is defined by its order alone: acc = ±t_0, then acc += ±t_i for
  // i = 1..15 in FP32. The loops below keep that order per output j and run
  // the 16 outputs side by side (the compiler vectorizes across j); a
  // product with ±1 is exact, so contracting it into an FMA changes nothing.
  float coef[16][16], out_sign[16];
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      const bool h_negative = std::popcount(unsigned(i & j)) & 1;
      coef[i][j] = h_negative != (!inverse && sign[size_t(i)] < 0) ? -1.0f : 1.0f;
    }
  for (int j = 0; j < 16; ++j) out_sign[j] = inverse && sign[size_t(j)] < 0 ? -0.25f : 0.25f;
  const size_t lines = axis == Axis::cols ? shape.rows : shape.cols;
  const size_t stride = axis == Axis::cols ? 1 : shape.cols;  // between tile elements
  const float nan = std::numeric_limits<float>::quiet_NaN();
  float t[16], acc[16];
  for (size_t line = 0; line < lines; ++line)
    for (size_t tile = 0; tile < len / 16; ++tile) {
      const size_t base = axis == Axis::cols ? line * shape.cols + tile * 16 : tile * 16 * shape.cols + line;
      for (int i = 0; i < 16; ++i) t[i] = x[base + size_t(i) * stride];
      for (int j = 0; j < 16; ++j) acc[j] = coef[0][j] * t[0];
      for (int i = 1; i < 16; ++i)
        for (int j = 0; j < 16; ++j) acc[j] += coef[i][j] * t[i];
      for (int j = 0; j < 16; ++j) {
        // 0.25 and the sign are exact. A NaN result is the default NaN
        // (docs/formats.md §7), whatever sign the host's inf - inf or NaN
        // propagation gave it.
        const float v = out_sign[j] * acc[j];
        acc[j] = v != v ? nan : v;
      }
      for (int i = 0; i < 16; ++i) x[base + size_t(i) * stride] = acc[i];
    }
}

DelayedScaling::DelayedScaling(QuantScheme scheme, size_t history_len, AmaxAlgo algo, int margin)
    : scheme_(std::move(scheme)), history_len_(history_len), algo_(algo), margin_(margin) {
  if (scheme_.kind != ScaleKind::per_tensor) throw OptionError("delayed scaling needs a per-tensor scheme");
  if (history_len_ == 0) throw OptionError("the amax history length must be at least 1");
  if (margin_ < -126 || margin_ > 126) throw OptionError("the margin must be in [-126, 126]");
}

QuantizedTensor DelayedScaling::quantize(std::span<const float> x, TensorShape shape) {
  QuantizedTensor q = quantize_with_multiplier(x, shape, scheme_, multiplier_);
  record_amax(q.stats.amax);
  return q;
}

void DelayedScaling::restore_state(float multiplier, std::span<const float> history) {
  if (history.size() > history_len_)
    throw OptionError("delayed scaling state: " + std::to_string(history.size()) + " amax values, more than the history length " +
                      std::to_string(history_len_));
  if (!(multiplier > 0.0f) || !std::isfinite(multiplier))
    throw OptionError("delayed scaling state: the multiplier must be finite and positive");
  multiplier_ = multiplier;
  history_.assign(history.begin(), history.end());
}

void DelayedScaling::record_amax(float amax) {
  history_.push_back(amax);
  while (history_.size() > history_len_) history_.pop_front();
  const float a = algo_ == AmaxAlgo::max ? *std::max_element(history_.begin(), history_.end()) : history_.back();
  if (a > 0.0f && std::isfinite(a)) {
    float s = float(element_max(scheme_)) / a;
    s = s / std::ldexp(1.0f, margin_);
    if (std::isinf(s)) s = FLT_MAX;
    if (s > 0.0f) multiplier_ = s;
  }
}

// ---- names ------------------------------------------------------------------

namespace {

Format element_format(std::string_view name, std::string_view scheme) {
  const Format f = parse_format(name);
  if (f.bits > 8) {
    std::string msg = "scheme ";
    msg.append(quoted_text(scheme)).append(": element format '").append(f.name).append("' is wider than 8 bits");
    throw OptionError(msg);
  }
  return f;
}

bool parse_size(std::string_view t, size_t& v) {
  if (t.empty() || t.size() > 9) return false;
  v = 0;
  for (char ch : t) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + size_t(ch - '0');
  }
  return true;
}

}  // namespace

QuantScheme parse_quant_scheme(std::string_view name) {
  std::string lower(name);
  for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  const std::string_view n = lower;
  QuantScheme q;
  auto mx = [&](std::string_view elem) {
    q.kind = ScaleKind::mx;
    q.element = element_format(elem, n);
    q.block = {1, 32};
    q.e8m0_rule = E8m0Rule::floor;
    return q;
  };
  if (n == "mxfp8-e4m3") return mx("e4m3");
  if (n == "mxfp8-e5m2") return mx("e5m2");
  if (n == "mxfp6-e2m3") return mx("e2m3");
  if (n == "mxfp6-e3m2") return mx("e3m2");
  if (n == "mxfp4") return mx("e2m1");
  if (n == "mxint8") return mx("int8");
  if (n.starts_with("mx-")) return mx(n.substr(3));
  if (n == "nvfp4" || n == "nvfp4-2d" || n == "nvfp4-4over6" || n == "nvfp4-4over6-mse" || n == "nvfp4-2d-4over6" ||
      n == "nvfp4-row-scaled") {
    q.nvfp4_row_scaled = n == "nvfp4-row-scaled";
    q.kind = ScaleKind::nvfp4;
    q.element = formats::e2m1;
    q.block = n.starts_with("nvfp4-2d") ? BlockShape{16, 16} : BlockShape{1, 16};
    if (n.find("4over6") != std::string_view::npos)
      q.four_over_six = n.ends_with("-mse") ? FourOverSix::mse : FourOverSix::mae;  // TE's default metric: MAE
    return q;
  }
  if (n.starts_with("per-tensor-")) {
    q.kind = ScaleKind::per_tensor;
    q.element = element_format(n.substr(11), n);
    return q;
  }
  if (n.starts_with("block-")) {
    const std::string_view rest = n.substr(6);
    const size_t x = rest.find('x'), dash = rest.find('-');
    size_t r = 0, c = 0;
    if (x != std::string_view::npos && dash != std::string_view::npos && x < dash &&
        parse_size(rest.substr(0, x), r) && parse_size(rest.substr(x + 1, dash - x - 1), c) && r > 0 && c > 0) {
      q.kind = ScaleKind::fp32_block;
      q.element = element_format(rest.substr(dash + 1), n);
      q.block = {r, c};
      q.pow2_scales = true;
      return q;
    }
  }
  std::string msg = "unknown quantization scheme ";
  msg.append(quoted_text(name)).append("; known: ");
  const std::vector<std::string> known = quant_scheme_names();
  for (size_t i = 0; i < known.size(); ++i) msg.append(i ? ", " : "").append(known[i]);
  throw OptionError(msg);
}

std::vector<std::string> quant_scheme_names() {
  return {"per-tensor-<fmt> (per-tensor-e4m3, per-tensor-e5m2)",
          "mxfp8-e4m3",
          "mxfp8-e5m2",
          "mxfp6-e2m3",
          "mxfp6-e3m2",
          "mxfp4",
          "mxint8",
          "mx-<fmt>",
          "nvfp4",
          "nvfp4-2d",
          "nvfp4-4over6",
          "nvfp4-4over6-mse",
          "nvfp4-2d-4over6",
          "nvfp4-row-scaled",
          "block-<R>x<C>-<fmt> (block-1x128-e4m3, block-128x128-e4m3, block-128x1-e4m3)"};
}

std::string_view scale_kind_name(ScaleKind k) {
  switch (k) {
    case ScaleKind::per_tensor: return "per_tensor";
    case ScaleKind::mx: return "mx";
    case ScaleKind::nvfp4: return "nvfp4";
    case ScaleKind::fp32_block: return "fp32_block";
  }
  return "?";
}

std::string_view e8m0_rule_name(E8m0Rule r) {
  switch (r) {
    case E8m0Rule::floor: return "floor";
    case E8m0Rule::ceil: return "ceil";
    case E8m0Rule::rne: return "rne";
  }
  return "?";
}

E8m0Rule parse_e8m0_rule(std::string_view name) {
  if (name == "floor") return E8m0Rule::floor;
  if (name == "ceil") return E8m0Rule::ceil;
  if (name == "rne") return E8m0Rule::rne;
  std::string msg = "unknown E8M0 scale rule ";
  msg.append(quoted_text(name)).append("; known: floor, ceil, rne");
  throw OptionError(msg);
}

FourOverSix parse_four_over_six(std::string_view name) {
  if (name == "off") return FourOverSix::off;
  if (name == "mae") return FourOverSix::mae;
  if (name == "mse") return FourOverSix::mse;
  std::string msg = "unknown 4over6 error metric ";
  msg.append(quoted_text(name)).append("; known: off, mae, mse");
  throw OptionError(msg);
}

std::string_view four_over_six_name(FourOverSix f) {
  switch (f) {
    case FourOverSix::off: return "off";
    case FourOverSix::mae: return "mae";
    case FourOverSix::mse: return "mse";
  }
  return "?";
}

ScaleArith parse_scale_arith(std::string_view name) {
  if (name == "fp32") return ScaleArith::fp32;
  if (name == "exact") return ScaleArith::exact;
  if (name == "fp32-te-legacy") return ScaleArith::fp32_te_legacy;
  std::string msg = "unknown scale arithmetic ";
  msg.append(quoted_text(name)).append("; known: fp32, exact, fp32-te-legacy");
  throw OptionError(msg);
}

std::string_view scale_arith_name(ScaleArith a) {
  switch (a) {
    case ScaleArith::fp32: return "fp32";
    case ScaleArith::exact: return "exact";
    case ScaleArith::fp32_te_legacy: return "fp32-te-legacy";
  }
  return "?";
}

namespace detail {

ElementResult round_element(const Unpacked& v, const QuantScheme& s, uint64_t index) {
  Flags fl;
  const uint8_t code = uint8_t(round(v, s.element, s.rounding, fl, index));
  return {code, exceeds_max(v, s.element)};
}

const std::array<float, 256>& ue4m3_values() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (uint32_t c = 0; c < 256; ++c) t[c] = float(to_double(c, formats::ue4m3));
    return t;
  }();
  return table;
}

TensorShape check_quantize_args(size_t values, TensorShape shape, const QuantScheme& q) {
  if (values != shape.size()) {
    std::ostringstream o;
    o << "shape " << shape_text(shape) << " needs " << shape.size() << " values, got " << values;
    throw OptionError(o.str());
  }
  if (q.element.bits > 8) {
    std::string msg = "element format '";
    msg.append(q.element.name).append("' is wider than 8 bits");
    throw OptionError(msg);
  }
  if (q.four_over_six != FourOverSix::off &&
      (q.kind != ScaleKind::nvfp4 || q.arith != ScaleArith::fp32 || q.block.cols != 16 ||
       (q.block.rows != 1 && q.block.rows != 16)))
    throw OptionError("4over6 needs an NVFP4 scheme with 1x16 or 16x16 blocks and scale arithmetic 'fp32' (TE's)");
  if (q.nvfp4_row_scaled && (q.kind != ScaleKind::nvfp4 || q.block.rows != 1))
    throw OptionError("row-scaled NVFP4 needs an NVFP4 scheme with blocks one row high (1xN)");
  if (q.kind == ScaleKind::per_tensor) {
    if (q.hadamard && shape.cols % 16 != 0) {
      std::ostringstream o;
      o << "the Hadamard transform needs the row length to be a multiple of 16, got " << shape.cols;
      throw OptionError(o.str());
    }
    return {1, 1};
  }
  if (q.block.rows == 0 || q.block.cols == 0) {
    std::ostringstream o;
    o << "block " << q.block.rows << "x" << q.block.cols << ": block sizes must be at least 1";
    throw OptionError(o.str());
  }
  if (q.require_full_blocks && (shape.rows % q.block.rows != 0 || shape.cols % q.block.cols != 0)) {
    std::ostringstream o;
    o << "shape " << shape_text(shape) << " is not a whole number of " << q.block.rows << "x" << q.block.cols
      << " blocks (full blocks required)";
    throw OptionError(o.str());
  }
  if (q.hadamard) {
    const Axis a = hadamard_axis(q);
    const size_t len = a == Axis::cols ? shape.cols : shape.rows;
    if (len % 16 != 0) {
      std::ostringstream o;
      o << "the Hadamard transform needs the " << (a == Axis::cols ? "row length" : "column length")
        << " to be a multiple of 16, got " << len;
      throw OptionError(o.str());
    }
  }
  return {ceil_div(shape.rows, q.block.rows), ceil_div(shape.cols, q.block.cols)};
}

void error_stats(std::span<const float> x, std::span<const float> dq, QuantStats& st) {
  double sum_x2 = 0.0, sum_e2 = 0.0;
  uint64_t n = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(dq[i])) continue;
    const double xv = x[i], e = xv - double(dq[i]);
    sum_x2 += xv * xv;
    sum_e2 += e * e;
    ++n;
  }
  st.mse = n ? sum_e2 / double(n) : 0.0;
  st.sqnr_db = sum_e2 == 0.0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(sum_x2 / sum_e2);
}

}  // namespace detail
}  // namespace fpsim
