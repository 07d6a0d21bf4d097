// Host-side pieces shared by the mma.sync and wgmma dot-product runners
// (device_mma.hpp): operand encoding, the CUDA error check, the self-test
// inputs. Compiled by nvcc's host compiler inside the .cu files.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/gpu/mma_config.hpp"

namespace fpsim::gpu::detail {

// Throws fpsim::Error "<what>: <CUDA error text>" unless e is cudaSuccess.
void check_cuda(cudaError_t e, const char* what);

// The operand code the instruction reads for the FP32 value `bits` of format
// f: the fp16/bf16/fp8 encoding, or for tf32 the FP32 pattern itself (the
// instruction ignores the low 13 bits; PTX ISA, "Alternate floating point
// data formats"). Throws OptionError when the value is not one of f.
uint32_t operand_code(uint32_t bits, const Format& f, const char* operand, size_t index);
// The FP32 pattern of an accumulator code (fp32: itself; fp16: widened).
uint32_t accumulator_value(uint32_t code, const MmaConfig& c);

// The operands of `count` dot products of length k as codes padded with
// zeros to chunks · instruction_k(c) per row (zero code = +0 in every
// input format), and C as accumulator codes. Checks the sizes.
struct EncodedBatch {
  int count = 0;
  int chunks = 0;
  std::vector<uint32_t> a, b, c;
};
EncodedBatch encode_batch(const MmaConfig& c, int k, std::span<const uint32_t> a, std::span<const uint32_t> b,
                          std::span<const uint32_t> c_in);

// The exact value v_j = (1 + (j mod 4)/4) · 2^(j div 4) (j < 32): distinct,
// and exact in e5m2, e4m3, fp16, bf16 and tf32.
float distinct_value(int j);

// The dot-product half of every layout self-test: with a = e_j, b = v
// (and a = v, b = e_j) D must be v_j for each j < instruction_k. `run` is the
// runner under test. Returns "" or what failed.
using DotRunner = std::vector<uint32_t> (*)(const MmaConfig&, int, std::span<const uint32_t>,
                                            std::span<const uint32_t>, std::span<const uint32_t>);
std::string unit_vector_self_test(const MmaConfig& c, DotRunner run);

}  // namespace fpsim::gpu::detail
