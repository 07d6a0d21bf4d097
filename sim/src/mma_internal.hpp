// What the three parts of the MMA model share (private to sim/src): the
// definition (mma_dot.cpp), the scalar GEMM fast path (mma_gemm.cpp) and the
// presets (mma_presets.cpp). docs/mma.md writes the semantics out.
#pragma once

#include <bit>
#include <cstdint>
#include <span>

#include "fpsim/format.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/rounding_spec.hpp"
#include "fpsim/unpacked.hpp"

namespace fpsim::mma_internal {

__extension__ typedef __int128 i128;

// The exponent a zero operand gets in the fast path: far below any real
// term, so it never sets the block's alignment exponent and always shifts
// out (docs/mma.md, "The block-FMA model": "zero pairs contribute no exponent").
inline constexpr int32_t kZeroExp = -(1 << 20);
// NVIDIA's canonical NaN (PTX ISA, "Floating-point data types": NaN results
// are the canonical NaN 0x7FFFFFFF for .f32); fp16 results are widened.
inline constexpr float kCanonicalNan = std::bit_cast<float>(uint32_t{0x7FFFFFFF});

// An operand of the block FMA: |x| = sig * 2^(exp - frac_bits), with
// exp = max(floor_log2|x|, emin_in), so sig < 2^frac_bits for subnormals
// (docs/mma.md, "The block-FMA model": "Ma < 1 if subnormal").
struct Operand {
  int32_t exp = kZeroExp;
  uint32_t sig = 0;  // 0 for a zero (or a flushed subnormal)
  bool sign = false;
};

// True when x (finite) is a value of format f.
bool is_value_of(float x, const Format& f);
Operand decode(float x, const Format& f, bool subnormal_inputs);
// C through its FP32 encoding: Ec = max(floor_log2|c|, -126), 23 fraction
// bits (docs/mma.md, "The block-FMA model").
Operand decode_c(float c);

// The format the block result is rounded into: the output's exponent range
// with acc_frac_bits fraction bits (e8m13 for Hopper FP8, docs/mma.md, "The block-FMA model").
Format accumulator_format(const MmaModel& m);
// The largest exponent of a finite output value (127 fp32, 15 fp16).
int output_emax(const MmaModel& m);
// (-1)^negative * magnitude * 2^scale_exp into the output, through the one
// rounding core.
float round_block_sum(const MmaModel& m, const Format& acc, bool negative, u128 magnitude, int scale_exp);
// FP16 output: C is first rounded to FP16 with RNE (docs/mma.md, "The block-FMA model").
float c_in_output(const MmaModel& m, float c);
// x + y in FP32 through the core (RNE by default): promotion's accumulator.
float add32(float x, float y, const RoundingSpec& rs = RoundingSpec{});
// The definition of one dot product, inputs already checked.
float dot_unchecked(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b, float c);

}  // namespace fpsim::mma_internal
