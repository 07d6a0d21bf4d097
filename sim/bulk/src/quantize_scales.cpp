// Pass 2 of bulk quantization: block scales and multipliers (see
// quantize_scales.hpp), calling the scalar core's scale rules.
#include "quantize_scales.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "fpsim/convert.hpp"
#include "fpsim/flags.hpp"
#include "quantize_blocks.hpp"

namespace fpsim::bulk::qdetail {

Scales::Scales(const QuantScheme& q, const float* given, size_t nblocks, QuantizedTensor& out,
               std::vector<float>& vals, ConvertU8Fn convert)
    : q_(q), given_(given), out_(out), fmt_max_(element_max(q)), vals_(vals), convert_u8_(convert) {
  vals_.resize(nblocks);
  out.scales.resize(nblocks);
  if (q.kind == ScaleKind::mx || q.kind == ScaleKind::nvfp4) out.multipliers.clear();
  switch (q.kind) {
    case ScaleKind::per_tensor:
    case ScaleKind::fp32_block:
      out.scale_format = formats::fp32;
      out.multipliers.resize(nblocks);
      break;
    case ScaleKind::mx:
      out.scale_format = formats::e8m0;
      if (q.e8m0_rule == E8m0Rule::floor) {
        // The floor rule reads only the exponent field of a normal amax.
        for (uint32_t f = 1; f < 255; ++f) floor_code_[f] = e8m0_scale_code(float_of(f << 23), q.e8m0_rule, q);
      } else {
        conv_spec_ = e8m0_scale_rounding(q.e8m0_rule);
        conv_format_ = formats::e8m0;
        mx_max_elem_ = float(element_max(q));
      }
      break;
    case ScaleKind::nvfp4:
      out.scale_format = formats::ue4m3;
      conv_spec_ = kNvfp4ScaleRounding;
      conv_format_ = formats::ue4m3;
      break;
  }
  if (q.kind == ScaleKind::nvfp4 || (q.kind == ScaleKind::mx && q.e8m0_rule != E8m0Rule::floor)) {
    vector_conv_ = detail::from_vectorizable(conv_format_, conv_spec_);
    if (vector_conv_) conv_params_ = detail::from_params(conv_format_, conv_spec_);
  }
  if (q.kind == ScaleKind::nvfp4 && q.four_over_six != FourOverSix::off) {
    vals4_.resize(nblocks);
    codes4_.resize(nblocks);
  }
}

float Scales::global_e4m3_max() const {
  return q_.four_over_six == FourOverSix::off ? kNvfp4ScaleMax : kNvfp4FourOverSixGlobalScaleMax;
}

void Scales::set_tensor_amax(float amax_t) {
  s_enc_ = nvfp4_encode_scale(amax_t, global_e4m3_max());
  out_.tensor_scale = decode_scale(s_enc_);
  // The 128 possible block encode scales (0 for the zero scale: patched).
  const std::array<float, 256>& value = fpsim::detail::ue4m3_values();
  for (uint32_t c = 0; c < 128; ++c) enc_of_code_[c] = nvfp4_block_encode_scale(s_enc_, value[c], q_.arith);
}

void Scales::set_row_amax(const float* row_amax, size_t rows, size_t grid_cols) {
  grid_cols_ = grid_cols;
  row_s_enc_.resize(rows);
  out_.tensor_scale = 1.0f;
  out_.row_tensor_scales.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    row_s_enc_[r] = nvfp4_encode_scale(row_amax[r], global_e4m3_max());
    out_.row_tensor_scales[r] = decode_scale(row_s_enc_[r]);
  }
}

// 4over6 (docs/quantization.md §3 "nvfp4 4over6", as sim/src/quantize.cpp):
// base = fp32(fp32(amax_b / 6) * S_enc), the map-to-6 scale ue4m3(min(base,
// 448)), the map-to-4 one ue4m3(min(fp32(1.5 base), 448)), multipliers in the
// fp32 order. A NaN block takes plain NVFP4's NaN scale.
void Scales::compute_4over6(const uint32_t* amax, size_t b0, size_t b1) {
  const size_t n = b1 - b0;
  const std::array<float, 256>& value = fpsim::detail::ue4m3_values();
  for (int cand = 0; cand < 2; ++cand) {
    quot_.resize(n);
    for (size_t k = 0; k < n; ++k) {
      const float a = float_of(amax[b0 + k]);
      const float se = s_enc_of(b0 + k);
      const float base = (a / kNvfp4ElementMax) * se;
      quot_[k] = amax[b0 + k] > kInfBits ? nvfp4_block_scale_fp32(a, se, q_.arith)
                                         : std::fmin(cand == 0 ? base : base * 1.5f, kNvfp4ScaleMax);
    }
    const uint8_t* codes = convert_quotients(n);
    for (size_t b = b0; b < b1; ++b) {
      const uint8_t sb = codes[b - b0];
      const float sv = value[sb];
      const float m = sv == 0.0f ? 1.0f : nvfp4_block_encode_scale(s_enc_of(b), sv, ScaleArith::fp32);
      if (cand == 1) {
        codes4_[b] = sb;
        vals4_[b] = m;
      } else if (formats::ue4m3.is_nan_code(sb)) {
        out_.scales[b] = sb;
        ++out_.stats.nan_scale_blocks;
        nan_blocks_.push_back(b);
        vals_[b] = std::numeric_limits<float>::quiet_NaN();
      } else {
        out_.scales[b] = sb;
        vals_[b] = m;
      }
    }
  }
}

void Scales::compute(const uint32_t* amax, size_t b0, size_t b1) {
  constexpr size_t kChunk = 4096;  // bounds the conversion buffers
  if (b1 - b0 > kChunk) {
    for (size_t b = b0; b < b1; b += kChunk) compute(amax, b, std::min(b1, b + kChunk));
    return;
  }
  switch (q_.kind) {
    case ScaleKind::per_tensor:
    case ScaleKind::fp32_block:
      for (size_t b = b0; b < b1; ++b) {
        const float s =
            given_ ? *given_ : multiplier_from_amax(float_of(amax[b]), fmt_max_, q_.pow2_scales, q_.amax_epsilon);
        out_.multipliers[b] = bits_of(s);
        out_.scales[b] = bits_of(decode_scale(s));
        vals_[b] = s;
      }
      break;
    case ScaleKind::mx: {
      const uint8_t* codes = convert(amax, b0, b1);
      for (size_t b = b0; b < b1; ++b) {
        uint8_t code;
        if (codes) {
          code = codes[b - b0];
        } else {
          const uint32_t field = amax[b] >> 23;
          code = field != 0 && field != 255 ? floor_code_[field] : e8m0_scale_code(float_of(amax[b]), q_.e8m0_rule, q_);
        }
        out_.scales[b] = code;
        if (code == 0xFF) {
          ++out_.stats.nan_scale_blocks;
          special_.push_back(b);
          nan_blocks_.push_back(b);
          vals_[b] = std::numeric_limits<float>::quiet_NaN();
        } else {
          vals_[b] = exp2_float(127 - int(code));  // 2^-k, k in [-127, 127]
        }
      }
      break;
    }
    case ScaleKind::nvfp4: {
      if (q_.four_over_six != FourOverSix::off) {
        compute_4over6(amax, b0, b1);
        break;
      }
      const uint8_t* codes = convert(amax, b0, b1);
      const std::array<float, 256>& value = fpsim::detail::ue4m3_values();
      for (size_t b = b0; b < b1; ++b) {
        const uint8_t sb = codes[b - b0];
        out_.scales[b] = sb;
        const float sbv = value[sb];
        vals_[b] = sb < 128 && row_s_enc_.empty() ? enc_of_code_[sb]
                                                  : nvfp4_block_encode_scale(s_enc_of(b), sbv, q_.arith);
        if (formats::ue4m3.is_nan_code(sb)) {  // a NaN in the block (NaN-propagating amax)
          ++out_.stats.nan_scale_blocks;
          special_.push_back(b);
          nan_blocks_.push_back(b);
          vals_[b] = std::numeric_limits<float>::quiet_NaN();
        } else if (sbv == 0.0f) {
          special_.push_back(b);
          vals_[b] = 1.0f;
        }
      }
      break;
    }
  }
}

bool Scales::nan_block(size_t b) const { return std::binary_search(nan_blocks_.begin(), nan_blocks_.end(), b); }

// MX ceil / rne and NVFP4: the codes of the FP32 quotients the scalar rules
// convert into the scale format, or nullptr for the MX floor rule.
uint8_t* Scales::convert(const uint32_t* amax, size_t b0, size_t b1) {
  if (q_.kind == ScaleKind::mx && q_.e8m0_rule == E8m0Rule::floor) return nullptr;
  const size_t n = b1 - b0;
  quot_.resize(n);
  codes_.resize(n);
  if (q_.kind == ScaleKind::nvfp4) {
    for (size_t k = 0; k < n; ++k)
      quot_[k] = nvfp4_block_scale_fp32(float_of(amax[b0 + k]), s_enc_of(b0 + k), q_.arith);
  } else {
    for (size_t k = 0; k < n; ++k) quot_[k] = e8m0_scale_quotient(float_of(amax[b0 + k]), mx_max_elem_);
  }
  return convert_quotients(n);
}

// quot_[0, n) converted into the scale format's codes.
uint8_t* Scales::convert_quotients(size_t n) {
  codes_.resize(n);
  if (vector_conv_) {
    convert_u8_(conv_params_, quot_.data(), n, codes_.data());
  } else {
    for (size_t k = 0; k < n; ++k) {
      Flags fl;
      codes_[k] = uint8_t(from_float(quot_[k], conv_format_, conv_spec_, fl));
    }
  }
  return codes_.data();
}

}  // namespace fpsim::bulk::qdetail
