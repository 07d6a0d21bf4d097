// A thread's four accumulator elements of an m16n8 (mma.sync) or m64n8
// (wgmma) tile as the instructions hold them in registers (PTX ISA, "Matrix
// Fragments for mma.m16n8k*" C/D and wgmma "Register Fragments"): an fp32
// accumulator is four .f32 registers, one element each; an fp16 one is two
// .f16x2 registers, elements (0, 1) and (2, 3), the lower index in the low
// half. Codes go in as the accumulator format's bits and come out the same.
#pragma once

#include <cstdint>

namespace fpsim::gpu::detail {

struct AccumulatorRegisters {
  float f32[4];
  uint32_t f16x2[2];
};

template <bool kF32>
__device__ inline AccumulatorRegisters accumulator_from_codes(const uint32_t (&codes)[4]) {
  AccumulatorRegisters r{};
  if constexpr (kF32) {
    for (int i = 0; i < 4; ++i) r.f32[i] = __uint_as_float(codes[i]);
  } else {
    r.f16x2[0] = (codes[0] & 0xffffu) | (codes[1] << 16);
    r.f16x2[1] = (codes[2] & 0xffffu) | (codes[3] << 16);
  }
  return r;
}

template <bool kF32>
__device__ inline void accumulator_to_codes(const AccumulatorRegisters& r, uint32_t (&codes)[4]) {
  if constexpr (kF32) {
    for (int i = 0; i < 4; ++i) codes[i] = __float_as_uint(r.f32[i]);
  } else {
    codes[0] = r.f16x2[0] & 0xffffu;
    codes[1] = r.f16x2[0] >> 16;
    codes[2] = r.f16x2[1] & 0xffffu;
    codes[3] = r.f16x2[1] >> 16;
  }
}

}  // namespace fpsim::gpu::detail
