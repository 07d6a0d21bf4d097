// Pass 2 of bulk quantization (quantize_bulk.cpp): each block's scale code
// and the FP32 multiplier its elements are scaled by, block range by block
// range, from the block amaxes of pass 1. Every scale rule is the scalar
// core's (fpsim/quantize.hpp: multiplier_from_amax, e8m0_scale_code and its
// quotient and rounding, the NVFP4 scale functions and constants, the ue4m3
// table); this class only batches them, converting the quotients into scale
// codes with the shared conversion kernel. Separate from quantize_bulk.cpp
// because it is scalar code, compiled once, not per SIMD target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fpsim/format.hpp"
#include "fpsim/quantize.hpp"
#include "fpsim/rounding_spec.hpp"
#include "kernel_params.hpp"

namespace fpsim::bulk::qdetail {

// The conversion kernel for scale codes (quantize_bulk.cpp's ConvertU8,
// dispatched to the best SIMD target): n FP32 values into 8-bit codes.
using ConvertU8Fn = void (*)(const detail::FromParams& p, const float* in, size_t n, uint8_t* out);

// Per-call state of the scale computation, filled block range by block range.
class Scales {
 public:
  // Sets out's scale_format and sizes its scales (and multipliers, for the
  // FP32 schemes); vals (the caller's workspace) receives one multiplier per
  // block. given: the per-tensor multiplier of quantize_with_multiplier, or
  // nullptr.
  Scales(const QuantScheme& q, const float* given, size_t nblocks, QuantizedTensor& out, std::vector<float>& vals,
         ConvertU8Fn convert);
  Scales(const Scales&) = delete;  // conv_params_ points at conv_format_ and conv_spec_
  Scales& operator=(const Scales&) = delete;

  // NVFP4: the tensor's encode scale S_enc from its amax (before any block),
  // TE's order (docs/quantization.md §3); 4over6 tensors use the E4M3 bound
  // 256 (§3 "nvfp4 4over6").
  void set_tensor_amax(float amax_t);
  // Row-scaled NVFP4 (blocks one row high): row r's encode scale from
  // row_amax[r], for the blocks [r * grid_cols, (r + 1) * grid_cols); fills
  // out's row_tensor_scales and sets its tensor_scale to 1, as the scalar
  // definition does (docs/quantization.md §3 "nvfp4-row-scaled").
  void set_row_amax(const float* row_amax, size_t rows, size_t grid_cols);

  // Scales of blocks [b0, b1) from their amaxes (|x| bits).
  void compute(const uint32_t* amax, size_t b0, size_t b1);

  // Per block: the multiplier of its elements (MX: 2^-k; NVFP4: its encode
  // scale fp32(S_enc / s_block); FP32 schemes: s). A special block's value
  // is a placeholder (NaN, or 1 for a zero NVFP4 scale) whose elements the
  // caller redoes by the scalar definition.
  const std::vector<float>& vals() const { return vals_; }
  // Blocks whose scale is special (a NaN scale, or a zero NVFP4 scale).
  const std::vector<size_t>& special() const { return special_; }
  bool nan_block(size_t b) const;
  // NVFP4 4over6: vals() and out's scales hold the map-to-6 candidate, these
  // the map-to-4 one (multiplier, ue4m3 code); a candidate whose scale is 0
  // has the placeholder multiplier 1. NaN blocks are not in special(): the
  // caller chooses between the candidates block by block and does them too.
  const std::vector<float>& vals4() const { return vals4_; }
  const std::vector<uint8_t>& codes4() const { return codes4_; }
  // The encode scale S_enc of block b (its row's, when row-scaled).
  float s_enc_of(size_t b) const { return row_s_enc_.empty() ? s_enc_ : row_s_enc_[b / grid_cols_]; }

 private:
  uint8_t* convert(const uint32_t* amax, size_t b0, size_t b1);
  uint8_t* convert_quotients(size_t n);
  float global_e4m3_max() const;
  void compute_4over6(const uint32_t* amax, size_t b0, size_t b1);

  const QuantScheme& q_;
  const float* given_;
  QuantizedTensor& out_;
  double fmt_max_;
  std::vector<float>& vals_;  // the workspace's
  std::vector<size_t> special_;
  std::vector<size_t> nan_blocks_;  // ascending
  float s_enc_ = 1.0f;
  std::vector<float> row_s_enc_;  // row-scaled NVFP4: one per row, else empty
  size_t grid_cols_ = 1;
  std::vector<float> vals4_;
  std::vector<uint8_t> codes4_;
  float mx_max_elem_ = 1.0f;  // float(element_max), the MX ceil / rne rules' divisor
  uint8_t floor_code_[256] = {};
  float enc_of_code_[128] = {};  // nvfp4_block_encode_scale(S_enc, value of ue4m3 code c)
  Format conv_format_ = formats::e8m0;
  RoundingSpec conv_spec_;
  ConvertU8Fn convert_u8_;
  bool vector_conv_ = false;
  detail::FromParams conv_params_{};
  std::vector<float> quot_;
  std::vector<uint8_t> codes_;
};

}  // namespace fpsim::bulk::qdetail
