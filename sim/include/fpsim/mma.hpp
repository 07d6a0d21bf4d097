// The tensor-core (MMA) model: D = A·B + C as real matrix units compute it
// (docs/mma.md). A model is a parameter set, not code: block size, extra
// alignment bits, alignment rounding, final rounding, the alignment-exponent
// clamp, input and output formats, and the AMD matrix cores' stages (docs/mma.md, "AMD matrix
// cores"). Named presets reproduce real GPUs
// (docs/mma.md, "Per-GPU parameters and their evidence"); plain FP32 accumulation in stated fixed orders is a
// model too (CPU-style kernels). INT8 MMA is exact integer arithmetic
// (docs/mma.md, "INT8 MMA").
//
// mma_dot, the definition, ends every block in the one rounding core
// (fpsim/round.hpp). mma_gemm's fast path rounds normal-range rtz/rne block
// results itself and is tested bit-identical to mma_dot (docs/mma.md).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim {

// How a model accumulates (docs/mma.md, "The block-FMA model").
enum class MmaKind : uint8_t {
  block_fma,            // KM's block FMA: n exact products + C aligned to the largest exponent, one rounding
  fp32_sequential,      // d = c; d = RN32(d + RN32(a_k*b_k)) for k = 0, 1, ...
  fp32_fma_sequential,  // d = c; d = fma32(a_k, b_k, d) for k = 0, 1, ...
  fp32_pairwise,        // RN32 products summed by a balanced binary tree, then d = RN32(c + tree)
  fp32_fma_blocked,     // blocks of block_size, each split into `chains` interleaved fma chains from +0
                        // (element i of a block feeds chain i mod chains); the chains are summed in
                        // order, p = RN32(chain0 + chain1 + ...), then d = RN32(d + p), d starting at c
  fp32_pairwise_blocked,  // blocks of block_size: RN32 products summed by a balanced tree per block
                          // (AMD CDNA2), then d = RN32(d + tree), d starting at c (docs/mma.md,
                          // "AMD matrix cores")
};

// Alignment rounding of each shifted term inside a block (docs/mma.md, "The block-FMA model":
// truncation on every studied NVIDIA GPU; rne kept for probes and what-ifs; floor, toward -inf
// on the signed term, in AMD CDNA3's late additions, docs/mma.md, "AMD matrix cores").
enum class AlignRounding : uint8_t { truncate, rne, floor };

// The limits validate_mma_model enforces, which also size the definition's
// fixed arrays (one block's terms, fp32_fma_blocked's chains).
// min_exp of a model without an alignment clamp (FP32 output on V100, the
// fp32-* kinds; docs/mma.md, "Per-GPU parameters and their evidence"); a
// clamp must lie in [kNoClamp, -kNoClamp].
inline constexpr int kNoClamp = -1024;
inline constexpr int kMaxBlockSize = 128;  // block_size: 1..kMaxBlockSize
inline constexpr int kMaxChains = 16;      // chains: 1..kMaxChains

struct MmaModel {
  std::string name = "custom";
  MmaKind kind = MmaKind::block_fma;
  Format input_a = formats::fp16;  // operands enter already rounded to these formats
  Format input_b = formats::fp16;
  Format output = formats::fp32;   // fp32 or fp16 (D, and C for block_fma)
  // block_fma parameters (docs/mma.md, "Per-GPU parameters and their evidence" and "The block-FMA model"):
  int block_size = 4;          // n: products fused per block (also the block of fp32_fma_blocked)
  int chains = 1;              // fp32_fma_blocked: interleaved fma chains per block (AMX: 2)
  int extra_bits = 0;          // neab: extra alignment bits (negative: fewer than 23 kept)
  AlignRounding align_rounding = AlignRounding::truncate;
  Rounding final_rounding = Rounding::rtz;  // rtz, rne, rup or rdn
  int min_exp = kNoClamp;      // clamp on the alignment exponent (kNoClamp: none)
  int acc_frac_bits = 23;      // fraction bits of the block result: 23 fp32, 10 fp16, 13 Hopper FP8
  // false: subnormal a_i, b_i read as zero (fp32_* kinds: every operand of every step, C and the
  // running sum included: DAZ)
  bool subnormal_inputs = true;
  // false: results below the output's normal range flush to signed zero (fp32_* kinds: every
  // step's result: FTZ, IEEE tininess after rounding)
  bool subnormal_outputs = true;
  bool overflow_to_inf = true;    // a block sum >= 2^(emax+1) gives inf even under rtz (docs/mma.md, "Open questions" Q5)
  // Library-level FP8 promotion (docs/mma.md, "FP8 accumulation in libraries"): every promotion_interval
  // K elements the chain's partial sum is added into a true FP32 accumulator
  // with RNE; 0 is fast accumulation (one chain over all of K).
  int promotion_interval = 0;
  // AMD matrix-core parameters of block_fma (docs/mma.md, "AMD matrix cores"); the defaults are the
  // NVIDIA model above.
  // The block's products and C summed exactly, rounded once (CDNA1); extra_bits and align_rounding unused.
  bool exact_sum = false;
  // The products are aligned and summed among themselves (to their own largest exponent, extra_bits,
  // align_rounding); C is added to that sum afterwards (CDNA3). The smaller of the two is aligned to the
  // larger's exponent, and to min_exp, by c_stage_rounding; when the products' sum is the smaller,
  // c_stage_extra_bits more bits of it are kept.
  bool c_after_products = false;
  AlignRounding c_stage_rounding = AlignRounding::floor;
  int c_stage_extra_bits = 0;
  // The published CDNA3 model's alignment shift in these late additions wraps modulo 64 for distances
  // of 64..532 binades and is 0 beyond (an artefact of its 64-bit shifts, kept to reproduce its
  // outputs; docs/mma.md, "AMD matrix cores").
  bool c_stage_shift_wraps = false;
  // With c_after_products: the block's even-k and odd-k products are summed as two groups, each
  // aligned to its own largest exponent; the smaller group is aligned to the larger by c_stage_rounding
  // with no extra bits, then C is added (CDNA3 FP8).
  bool odd_even_groups = false;
  // A product with |a*b| >= 2^(emax_out + 1) makes the block +-inf (NaN when both signs occur).
  bool product_limit = false;
  bool verified = true;        // false: a fit the spec marks unverified (B200 FP8, FP8 -> FP16)
  std::string evidence;        // where the parameters come from (docs/mma.md, "Per-GPU parameters and their evidence")
};

// Every preset: <gpu>-<input>-<output> for v100, a100, ada, l40s, h100, h200
// and b200 (docs/mma.md, "Per-GPU parameters and their evidence"), a30, a2 and rtxpro6000 (as a100 / b200),
// the AMD units mi100, mi210, mi250, mi300a, mi300x (docs/mma.md, "AMD matrix cores"), the CPU matrix units amx-bf16-fp32 and
// avx512-bf16-fp32 (docs/mma.md, "CPU matrix units"), then the fp32-* CPU
// accumulation models.
std::span<const MmaModel> mma_presets();

// A preset by name (case-insensitive); an optional ":promoteN" suffix sets
// promotion_interval (e.g. "h100-e4m3-fp32:promote128"; ":promote" alone is
// 128, CUTLASS's default). Presets describe the instruction, so they all use
// fast accumulation (promotion_interval = 0): promotion is the library's
// choice (docs/mma.md, "FP8 accumulation in libraries"). Throws OptionError listing the known names.
MmaModel mma_preset(std::string_view name);

// True when the model uses an AMD matrix-core parameter: exact_sum, c_after_products,
// odd_even_groups, product_limit, floor alignment, fp32_pairwise_blocked. sim/bulk's SIMD mma_gemm
// hands such models to the scalar mma_gemm, which has fast paths for the AMD presets' parameter sets
// and hands the rest to the definition (docs/mma.md, "AMD matrix cores", Evaluation).
bool mma_uses_amd_parameters(const MmaModel& m);

// Throws OptionError when the parameter set cannot be evaluated (e.g. an
// output format other than fp32/fp16, block_size < 1).
void validate_mma_model(const MmaModel& m);

// One dot product d = sum_k a[k]*b[k] + c under the model, K = a.size().
// Inputs must be values of the model's input formats (NaN and ±inf always
// accepted); c must be an FP32 value (for FP16 output it is first rounded to
// FP16 with RNE, as the GPUs do, docs/mma.md, "The block-FMA model"). The result is the output
// format's value widened to float. Throws OptionError on size mismatch or
// an input that is not a value of its format (naming the index).
float mma_dot(const MmaModel& m, std::span<const float> a, std::span<const float> b, float c);

// D[M×N] = A[M×K]·B[K×N] + C, row-major; C may be empty (zero). Each element
// equals mma_dot of its row and column, bit for bit (the fast path is tested
// against it).
void mma_gemm(const MmaModel& m, int M, int N, int K, std::span<const float> A, std::span<const float> B,
              std::span<const float> C, std::span<float> D);

// One block-FMA step (docs/mma.md, "The definition, step by step"): at most block_size products plus
// c (an output-format value as float). Exposed for probes and tests.
float mma_block_fma(const MmaModel& m, std::span<const float> a, std::span<const float> b, float c);

// INT8 MMA (docs/mma.md, "INT8 MMA"): s8/u8 × s8/u8 -> s32, exact products and sums
// (C included), then wrap modulo 2^32 or clamp once (satfinite).
enum class IntOperand : uint8_t { s8, u8 };
enum class IntOverflow : uint8_t { wrap, saturate };
int32_t mma_dot_int8(std::span<const int16_t> a, IntOperand ta, std::span<const int16_t> b, IntOperand tb,
                     int32_t c, IntOverflow overflow);

// Text names used by the CLI and the probes.
std::string_view mma_kind_name(MmaKind k);
std::string_view align_rounding_name(AlignRounding r);
// A one-line description of every parameter ("n=16 neab=2 align=truncate ...").
std::string describe_mma_model(const MmaModel& m);

}  // namespace fpsim
