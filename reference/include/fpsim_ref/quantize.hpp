// fpsim_ref quantizers: the independent MPFR oracle for scaled quantization
// (docs/quantization.md; docs/formats.md §8, docs/training.md, "Recipe definitions and their sources").
//
// Plain types only: this header never names a sim/ type, and the
// implementation (src/quantize.cpp) never includes sim/. Every scale and every
// element is computed from exact values with MPFR and rounded once by the
// reference's conversion core (the same produce() that ref_convert and
// ref_arith use): fp32(e) is "e exact, rounded to FP32 with rne, subnormals
// and overflow included", round(v) is "v exact, rounded once to the element
// format with the scheme's RefSpec". Only the deterministic modes exist here
// (RefMode has no sr); tests handle stochastic rounding separately.
//
// Errors (a bad scheme, x.size() != rows * cols) throw std::invalid_argument.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim_ref/reference.hpp"

namespace fpsim_ref {

struct RefQuantScheme {
  // "per_tensor" | "mx" | "nvfp4" | "fp32_block"
  std::string kind = "per_tensor";
  // Element format name (ref_format), at most 8 bits. With kind "mx", "int8"
  // is MXINT8: the code read as fixed point, value = code * 2^-6.
  std::string element = "e4m3";
  // mx, nvfp4, fp32_block: block_rows x block_cols elements share a scale
  // (per_tensor ignores them).
  size_t block_rows = 1;
  size_t block_cols = 32;
  // mx: "floor" | "ceil" | "rne" (docs/formats.md §8).
  std::string e8m0_rule = "floor";
  // per_tensor, fp32_block: multiplier rounded down to a power of two.
  bool pow2_scales = false;
  // per_tensor, fp32_block: amax = max(amax, epsilon) first.
  float amax_epsilon = 0.0f;
  // false: "fp32" arith (the GPU kernels' FP32 operations); true: "exact"
  // (the exact quotient rounded once). MX ignores it (always exact).
  // nvfp4 uses the document's constants 6 and 2688 = 448 * 6 whatever the
  // element format (e2m1 in every named scheme).
  bool exact_arith = false;
  // nvfp4 with fp32 arith: true follows the order of TE's test reference
  // before TE commit c74e5aa37 (fp32(amax_b / 6) * S_enc, S_enc / s_block);
  // false today's (amax_b * fp32(S_enc * fp32(1/6)), 1 / fp32(s_block *
  // fp32(1 / S_enc))). docs/quantization.md §3.
  bool nvfp4_te_legacy_order = false;
  // nvfp4, 1xN blocks: S_enc per row from the row's amax (NaN-ignoring), in
  // place of the tensor's (docs/quantization.md §3 "nvfp4 row-scaled").
  bool nvfp4_row_scaled = false;
  // nvfp4 with fp32 arith: "off", or 4over6 block scales chosen by "mae" or
  // "mse" (docs/quantization.md §3 "nvfp4 4over6"; S_enc from E4M3 max 256).
  std::string four_over_six = "off";
  // Element rounding: mode, overflow (saturate by default), ftz, daz, tininess.
  RefSpec rounding{RefMode::rne, true, false, false, false};
  // A shape the block does not divide is an error instead of partial blocks.
  bool require_full_blocks = false;
  // Random Hadamard transform along the block's long axis before quantizing
  // (docs/quantization.md §6): along columns for a block taller than wide,
  // otherwise (square blocks, per_tensor) along rows' consecutive elements.
  bool hadamard = false;
  uint32_t hadamard_seed = 0;
};

struct RefQuantized {
  size_t rows = 0, cols = 0;
  std::vector<uint8_t> elements;  // one code per input element, row-major
  size_t grid_rows = 0, grid_cols = 0;  // scale grid (per_tensor: 1 x 1)
  // Per block, row-major: e8m0 code (mx), ue4m3 code (nvfp4), FP32 bits of
  // scale_inv = fp32(1 / s) (per_tensor, fp32_block).
  std::vector<uint32_t> scales;
  // per_tensor, fp32_block: FP32 bits of each block's multiplier s; empty otherwise.
  std::vector<uint32_t> multipliers;
  float tensor_scale = 1.0f;  // nvfp4: s_global; 1 otherwise (and row-scaled)
  std::vector<float> row_tensor_scales;  // row-scaled nvfp4: fp32(1 / S_enc(row)) per row
  // Statistics (docs/quantization.md §4; mse / sqnr are not modelled here).
  float amax = 0.0f;  // max |x| over the non-NaN inputs (after the Hadamard transform)
  uint64_t underflows = 0;
  uint64_t saturated = 0;
  uint64_t nan_inputs = 0;
  uint64_t inf_inputs = 0;
  uint64_t nan_scale_blocks = 0;
};

// Quantizes x (rows * cols FP32 values, row-major).
RefQuantized ref_quantize(std::span<const float> x, size_t rows, size_t cols, const RefQuantScheme& scheme);
// Per-tensor quantization with a given multiplier (delayed scaling); the
// scheme's kind must be "per_tensor" and the multiplier finite and > 0.
RefQuantized ref_quantize_with_multiplier(std::span<const float> x, size_t rows, size_t cols,
                                          const RefQuantScheme& scheme, float multiplier);
// fp32(element_value * scale_value * tensor_scale), the exact product rounded
// once; a NaN element or a NaN scale gives NaN.
std::vector<float> ref_dequantize(const RefQuantized& q, const RefQuantScheme& scheme);

// The element format's largest finite value the scale rules aim at (MXINT8: 127/64).
double ref_element_max(const RefQuantScheme& scheme);
// emax_elem = floor(log2 ref_element_max).
int ref_element_emax(const RefQuantScheme& scheme);
// The exact value of an element code (MXINT8: code * 2^-6; NaN / inf as such).
double ref_element_value(const RefQuantScheme& scheme, uint8_t code);

// The E8M0 code of an MX block scale for block amax `amax`; rule "floor",
// "ceil" or "rne"; element as in RefQuantScheme (with "int8" = MXINT8).
uint8_t ref_e8m0_scale_code(float amax, std::string_view rule, std::string_view element);
// TE's compute_scale_from_amax (docs/quantization.md §3).
float ref_multiplier_from_amax(float amax, double fmt_max, bool pow2, float epsilon);
// Delayed scaling's next multiplier (docs/quantization.md §7) from amax
// `a` (the history's max or newest entry): fp32(fp32(fmt_max / a) / 2^margin),
// inf -> FLT_MAX; `previous` when a is not finite or not > 0.
float ref_delayed_multiplier(float a, double fmt_max, int margin, float previous);

// Philox4x32-10 (Salmon et al., SC'11), the reference's own transcription.
std::array<uint32_t, 4> ref_philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);
// The 16 Hadamard signs S_i (+1 / -1) for a seed (docs/quantization.md §6).
std::vector<int> ref_hadamard_signs(uint32_t seed);
// rows: tiles of 16 along a column; cols: tiles of 16 consecutive elements of a row.
enum class RefAxis { rows, cols };
// The random Hadamard transform of docs/quantization.md §6, every FP32
// operation an MPFR correctly rounded (rne) one. The axis length must be a
// multiple of 16.
void ref_hadamard_transform(std::span<float> x, size_t rows, size_t cols, RefAxis axis, uint32_t seed,
                            bool inverse = false);

}  // namespace fpsim_ref
