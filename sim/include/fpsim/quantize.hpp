// Scaled quantization of whole tensors: per-tensor (current and delayed
// scaling), MX blocks with E8M0 scales, NVFP4 (ue4m3 block scale x FP32 tensor
// scale), FP32 block scales (DeepSeek 1x128 / 128x128) and the random
// Hadamard transform. The normative contract, operation by operation, is
// docs/quantization.md (docs/formats.md §8, docs/training.md, "Recipe definitions and their sources").
//
// These are the scalar definitions: every rounding goes through the one
// rounding core (fpsim/arith.hpp, fpsim/convert.hpp). sim/bulk's
// fpsim::bulk::quantize is the SIMD path, bit-identical to them
// (tests/sim/quantize_bulk_test.cpp); reference/'s ref_quantize is the
// independent MPFR oracle (tests/sim/quantize_vs_reference_test.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"
#include "fpsim/unpacked.hpp"

namespace fpsim {

// A row-major 2-D shape; a 1-D tensor is one row.
struct TensorShape {
  size_t rows = 1;
  size_t cols = 0;
  constexpr size_t size() const { return rows * cols; }
  friend constexpr bool operator==(const TensorShape&, const TensorShape&) = default;
};

// The elements that share one scale: block_rows x block_cols consecutive
// elements of the 2-D tensor (1x32: row-wise MX; 32x1: column-wise MX;
// 16x16: NVFP4 2-D; 1x128 / 128x128: DeepSeek). Blocks never straddle rows
// or columns; at the edges a block is partial unless the scheme requires full
// blocks.
struct BlockShape {
  size_t rows = 1;
  size_t cols = 32;
  friend constexpr bool operator==(const BlockShape&, const BlockShape&) = default;
};

enum class ScaleKind : uint8_t {
  per_tensor,  // one FP32 multiplier s = fmt_max / amax (TE Float8CurrentScaling), or a given s (delayed)
  mx,          // E8M0 block scales, OCP MX v1.0 §6
  nvfp4,       // ue4m3 block scales x one FP32 tensor scale (docs/training.md, "Recipe definitions and their sources" nvfp4)
  fp32_block,  // FP32 block multipliers s = fmt_max / amax_block (DeepSeek-V3 §3.3, TE Float8BlockScaling)
};

// How an MX block's E8M0 scale is chosen (docs/formats.md §8).
enum class E8m0Rule : uint8_t {
  floor,  // 2^(floor(log2 amax) - emax_elem): OCP MX §6.3, microxcaling
  ceil,   // e8m0 rup of fp32(amax / max_elem): CUDA cvt.rp.satfinite.ue8m0x2.f32, TE MXFP8
  rne,    // e8m0 rne of fp32(amax / max_elem): PyTorch / ml_dtypes style
};

// How x is divided by its scale (docs/quantization.md §3).
// NVFP4's two FP32 orders are TE's (docs/quantization.md §3, "NVFP4's FP32
// orders and the TE commits they follow"); for every other scheme kind
// fp32_te_legacy computes as fp32 (TE changed the order for NVFP4 only).
enum class ScaleArith : uint8_t {
  fp32,   // as the GPU kernels do: t = fp32_rne(x * s), then round t (nvfp4: TE's order since c74e5aa37)
  exact,  // the exact quotient rounded once to the element format
  fp32_te_legacy,  // nvfp4: the order of TE's test reference before c74e5aa37 (fpsim's fp32 until 2026-12)
};

// NVFP4's 4over6 (TE commit dc9af4abc, docs/quantization.md §3 "nvfp4
// 4over6"): per block, a map-to-6 and a map-to-4 candidate scale; the one
// whose dequantized block has the smaller FP32-accumulated error is kept
// (ties: map-to-6). off: plain NVFP4; mae / mse: the error metric.
enum class FourOverSix : uint8_t { off, mae, mse };

struct QuantScheme {
  ScaleKind kind = ScaleKind::per_tensor;
  Format element = formats::e4m3;  // element format, at most 8 bits
  BlockShape block{1, 32};         // mx, nvfp4, fp32_block (ignored for per_tensor)
  E8m0Rule e8m0_rule = E8m0Rule::floor;
  bool pow2_scales = false;        // per_tensor, fp32_block: multiplier rounded down to 2^k (TE's mantissa mask)
  float amax_epsilon = 0.0f;       // per_tensor, fp32_block: amax = max(amax, epsilon) first
  ScaleArith arith = ScaleArith::fp32;
  bool require_full_blocks = false;  // throw instead of making partial edge blocks
  // Element rounding: mode (sr allowed: seed, stream and step key Philox, the
  // row-major element index is the counter) and overflow policy (saturate by
  // default: TE and OCP MX clip). ftz / daz / tininess apply as in the core.
  RoundingSpec rounding{Rounding::rne, Overflow::saturate};
  // Random Hadamard transform (NVFP4, docs/training.md, "Recipe definitions and their sources"): applied to the
  // input along the block's long axis before the scales are computed.
  bool hadamard = false;
  uint32_t hadamard_seed = 0;
  // nvfp4 only: 4over6 block scales (needs fp32 arith; S_enc from E4M3 max
  // 256, TE's default for 4over6 tensors).
  FourOverSix four_over_six = FourOverSix::off;
  // nvfp4 with 1xN blocks only: one encode scale per row, from the row's
  // amax, in place of the tensor's (TE's row-scaled NVFP4, commit c74e5aa37;
  // docs/quantization.md §3 "nvfp4 row-scaled").
  bool nvfp4_row_scaled = false;
  // Compute mse and sqnr_db (costs a dequantization pass).
  bool error_stats = true;
};

// What quantization did to a tensor (docs/training.md, "Runner metrics" item 6).
struct QuantStats {
  float amax = 0.0f;           // max |x| over the non-NaN inputs (after the Hadamard transform)
  uint64_t elements = 0;
  uint64_t nan_inputs = 0;
  uint64_t inf_inputs = 0;
  uint64_t underflows = 0;     // finite non-zero inputs whose element is +-0
  uint64_t saturated = 0;      // finite inputs whose scaled value exceeds the element format's max finite
  uint64_t nan_scale_blocks = 0;  // blocks whose scale is NaN (MX: a NaN in the block, or amax too large)
  double mse = 0.0;            // over finite inputs whose dequantized value is finite
  double sqnr_db = 0.0;        // 10 log10(sum x^2 / sum (x - Q(x))^2); +inf when there is no error
};

struct QuantizedTensor {
  TensorShape shape;
  QuantScheme scheme;
  std::vector<uint8_t> elements;  // one code of scheme.element per input element, row-major
  TensorShape scale_grid;         // blocks per column and per row (per_tensor: 1 x 1)
  Format scale_format = formats::fp32;  // e8m0 (mx), ue4m3 (nvfp4), fp32 (per_tensor, fp32_block)
  // Per block, row-major over scale_grid: the dequantization factor as a code
  // of scale_format (MX: 2^k; nvfp4: s_block; fp32 schemes: scale_inv =
  // fp32(1 / s), TE's stored scale_inv).
  std::vector<uint32_t> scales;
  // fp32 schemes: the multiplier s each block was quantized with (FP32 bits).
  std::vector<uint32_t> multipliers;
  float tensor_scale = 1.0f;      // nvfp4: fp32(1 / S_enc), the decode-side tensor scale; 1 otherwise
  // Row-scaled nvfp4: per row, fp32(1 / S_enc(row amax)), which dequantization
  // uses in place of tensor_scale (then 1); empty otherwise.
  std::vector<float> row_tensor_scales;
  QuantStats stats;
};

// The largest finite element value the scale rules aim at: the format's max
// finite, except MX int8 (MXINT8, 127/64: code * 2^-6).
double element_max(const QuantScheme& s);
// emax_elem of docs/formats.md §8 (floor(log2 element_max)).
int element_emax(const QuantScheme& s);
// The value of one element code (MX int8: code * 2^-6), exact.
double element_value(const QuantScheme& s, uint8_t code);

// Quantizes x (shape.size() values, row-major). Throws OptionError for a bad
// scheme (element wider than 8 bits, block of 0, partial blocks when
// require_full_blocks, Hadamard axis not a multiple of 16) and when
// x.size() != shape.size().
QuantizedTensor quantize(std::span<const float> x, TensorShape shape, const QuantScheme& scheme);

// Per-tensor quantization with a given FP32 multiplier s (delayed scaling).
// s must be finite and > 0.
QuantizedTensor quantize_with_multiplier(std::span<const float> x, TensorShape shape, const QuantScheme& scheme,
                                         float multiplier);

// The FP32 value of every element: fp32_rne(element * scale [* tensor_scale]),
// the exact product rounded once.
std::vector<float> dequantize(const QuantizedTensor& q);

// ---- The scale rules (docs/quantization.md §3), defined here once: the
// scalar definitions in sim/src/quantize.cpp and sim/bulk's SIMD path both
// call them.

// MXINT8 (an MX scheme with an integer element) has fixed-point elements:
// the value of a code is the integer * 2^-kMxIntFractionBits (OCP MX v1.0's
// int8 with an implicit scale of 2^-6), so element_max is 127 / 64.
inline constexpr int kMxIntFractionBits = 6;
bool is_mx_int(const QuantScheme& s);
// kMxIntFractionBits for MXINT8, else 0: element value = code value * 2^-this.
int element_fraction_bits(const QuantScheme& s);

// The decode-side scale stored for a multiplier s: fp32(1 / s), one FP32
// division (TE's scale_inv; NVFP4's tensor_scale from S_enc).
inline float decode_scale(float s) { return 1.0f / s; }

// TE's compute_scale_from_amax (transformer_engine/common/recipe/recipe_common.cuh):
// amax < eps -> eps; amax inf or 0 -> 1; s = fp32_rne(fmt_max / amax); s inf
// -> FLT_MAX; s NaN -> 1; pow2: keep sign and exponent bits only.
float multiplier_from_amax(float amax, double fmt_max, bool pow2, float epsilon);

// The E8M0 code of an MX block scale for block amax `amax` (docs/formats.md §8).
uint8_t e8m0_scale_code(float amax, E8m0Rule rule, const QuantScheme& s);
// The ceil and rne rules: the code is e8m0_scale_quotient(amax, float(element_max(s)))
// converted into E8M0 with e8m0_scale_rounding(rule). The divisor is an
// argument so that a caller can compute it once per scheme.
inline float e8m0_scale_quotient(float amax, float element_max_f32) { return amax / element_max_f32; }
RoundingSpec e8m0_scale_rounding(E8m0Rule rule);

// NVFP4, TE's order: the two constants TE hard-codes (e2m1's and ue4m3's
// largest values). The reference quantizer (reference/src/quantize.cpp)
// writes its own 6 and 2688 = 448 * 6 on purpose: it is the independent
// oracle, a second transcription of docs/quantization.md.
inline constexpr float kNvfp4ElementMax = 6.0f;
inline constexpr float kNvfp4ScaleMax = 448.0f;
// 4over6 tensors' global E4M3 bound (TE's nvfp4_4over6_e4m3_use_256 default),
// which leaves map-to-4's 1.5x scale room below 448.
inline constexpr float kNvfp4FourOverSixGlobalScaleMax = 256.0f;
// The tensor encode scale S_enc (TE's compute_global_encode_scaling_factor_FP4):
// fp32((448 * 6) / amax_t), at most FLT_MAX; 1 when amax_t is 0 or the quotient is 0.
// e4m3_max: kNvfp4ScaleMax, or kNvfp4FourOverSixGlobalScaleMax for 4over6.
float nvfp4_encode_scale(float amax_t, float e4m3_max = kNvfp4ScaleMax);
// FP32 arithmetic (a = fp32 or fp32_te_legacy; docs/quantization.md §3):
// a block's scale before its conversion to ue4m3 with kNvfp4ScaleRounding.
//   fp32:           fp32(amax_b * fp32(S_enc * fp32(1/6))), at most FLT_MAX (TE's fminf; NaN stays NaN)
//   fp32_te_legacy: fp32(fp32(amax_b / 6) * S_enc)
float nvfp4_block_scale_fp32(float amax_b, float s_enc, ScaleArith a);
inline constexpr RoundingSpec kNvfp4ScaleRounding{Rounding::rne, Overflow::saturate};
// A block's encode scale, the multiplier of its elements (0 for a zero block
// scale, whose elements are +-0):
//   fp32:           min(fp32(1 / fp32(s_block * fp32(1 / S_enc))), FLT_MAX)
//   fp32_te_legacy: fp32(S_enc / s_block)
float nvfp4_block_encode_scale(float s_enc, float s_block, ScaleArith a);

// The random Hadamard transform on 16-element vectors (docs/training.md, "Recipe definitions and their sources"
// nvfp4): each 16-element tile t along `axis` becomes t * (1/4) S H16
// (inverse: t * (1/4) H16 S), S = diag of signs drawn from `seed`, evaluated
// in FP32 in the fixed order of docs/quantization.md §6.
enum class Axis : uint8_t { rows, cols };  // cols: along a row (consecutive elements)
void hadamard_transform(std::span<float> x, TensorShape shape, Axis axis, uint32_t seed, bool inverse = false);
// The 16 signs (+1 / -1) of S for a seed.
std::vector<int> hadamard_signs(uint32_t seed);

// Delayed scaling (TE DelayedScaling, docs/training.md, "Recipe definitions and their sources" fp8-delayed): the
// multiplier for step t comes from the amax history of steps < t.
enum class AmaxAlgo : uint8_t { max, most_recent };
class DelayedScaling {
 public:
  DelayedScaling(QuantScheme scheme, size_t history_len = 1024, AmaxAlgo algo = AmaxAlgo::max, int margin = 0);
  // Quantizes with the current multiplier, then records this tensor's amax
  // and updates the multiplier for the next step.
  QuantizedTensor quantize(std::span<const float> x, TensorShape shape);
  // The second half of quantize(): records a tensor's amax (its QuantStats
  // amax, however it was quantized) and updates the multiplier.
  void record_amax(float amax);
  float multiplier() const { return multiplier_; }
  const std::deque<float>& history() const { return history_; }
  // Sets the state a checkpoint saved (multiplier() and history(), oldest
  // amax first), so that the next steps continue as if never interrupted.
  // Throws OptionError when the history is longer than the history length
  // or the multiplier is not finite and positive.
  void restore_state(float multiplier, std::span<const float> history);

 private:
  QuantScheme scheme_;
  size_t history_len_;
  AmaxAlgo algo_;
  int margin_;
  float multiplier_ = 1.0f;
  std::deque<float> history_;
};

// Named schemes (docs/quantization.md): per-tensor-e4m3, mxfp8-e4m3, mxfp4,
// nvfp4, block-1x128-e4m3, ... Throws OptionError naming the known schemes.
QuantScheme parse_quant_scheme(std::string_view name);
std::vector<std::string> quant_scheme_names();
std::string_view scale_kind_name(ScaleKind k);
std::string_view e8m0_rule_name(E8m0Rule r);
E8m0Rule parse_e8m0_rule(std::string_view name);
FourOverSix parse_four_over_six(std::string_view name);  // off, mae, mse
std::string_view four_over_six_name(FourOverSix f);
ScaleArith parse_scale_arith(std::string_view name);
std::string_view scale_arith_name(ScaleArith a);

// The axis the scheme's Hadamard transform runs along: the block's long axis
// (down the columns for a block taller than wide), else along the rows'
// consecutive elements (square blocks, per-tensor); docs/quantization.md §6.
Axis hadamard_axis(const QuantScheme& scheme);

namespace detail {
// Checks a scheme and shape against the data (the errors listed at
// quantize()) and returns the scale grid. Shared by the scalar and bulk paths.
TensorShape check_quantize_args(size_t values, TensorShape shape, const QuantScheme& scheme);
// mse and sqnr_db of docs/quantization.md §4 from the inputs and their
// dequantized values, in row-major order (shared so both paths agree bitwise).
void error_stats(std::span<const float> x, std::span<const float> dequantized, QuantStats& stats);
// The FP32 value of every ue4m3 code (NVFP4's block scales), made once.
const std::array<float, 256>& ue4m3_values();
// One element from its scaled value v (exact, or the FP32 product): the code,
// v rounded once, and whether |v| exceeds the element max (docs/quantization.md
// §4 `saturated`). sim/bulk rounds the lanes it hands back to the definition
// with it.
struct ElementResult {
  uint8_t code;
  bool saturated;
};
ElementResult round_element(const Unpacked& v, const QuantScheme& s, uint64_t index);
}  // namespace detail

}  // namespace fpsim
