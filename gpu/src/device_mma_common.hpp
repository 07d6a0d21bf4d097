// Host-side pieces shared by the mma.sync and wgmma dot-product runners
// (device_mma.hpp): operand encoding, the CUDA error check, the self-test
// inputs. Compiled by nvcc's host compiler inside the .cu files.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
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

// The dot-product half of every layout self-test, over K = k: with a = e_j
// and b_j = v_{j mod ki} · (1, −1, 1/2)[(j div ki) mod 3] (ki the
// instruction's k), and with the roles swapped, D must be b_j (a_j) for
// every j < k. With k = ki it checks one instruction's pairing of a_k with
// b_k; with k = 3·ki − 1, that each slice lands in its own chained
// instruction and the padding is zero. `run` is the runner under test.
// Returns "" or what failed (the first three, and the count).
using DotRunner = std::vector<uint32_t> (*)(const MmaConfig&, int, std::span<const uint32_t>,
                                            std::span<const uint32_t>, std::span<const uint32_t>);
std::string unit_vector_self_test(const MmaConfig& c, DotRunner run, int k);

// The tile half of every layout self-test: A (rows × k), B (k × 8) and C
// (rows × 8) of random integers in [-3, 3] (exact in every input format;
// each partial sum an integer small enough for fp16 and the 13-bit FP8
// accumulator) through `run` (operand codes in, accumulator codes of D out,
// row-major), compared element by element with the exact integer product:
// every fragment slot of A, B, C and D. Returns "" or what failed.
using TileRunner = std::function<std::vector<uint32_t>(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b,
                                                       const std::vector<uint32_t>& c)>;
std::string integer_tile_self_test(const MmaConfig& c, int rows, int k, uint32_t seed, const TileRunner& run);

// Device buffers, kept between calls and grown as needed: the probe suite
// asks for one dot product at a time, thousands of times, and a cudaMalloc
// per call would cost more than the instruction. Shared by the mma.sync and
// wgmma runners; not thread-safe: gpu/ drives the device from one thread.
struct DeviceBuffer {
  uint32_t* p = nullptr;
  size_t capacity = 0;
  void reserve(size_t n);
  void upload(const std::vector<uint32_t>& v);
  std::vector<uint32_t> download(size_t n) const;
};
// Buffer i (0 ≤ i < 4) of the process.
DeviceBuffer& device_buffer(int i);

}  // namespace fpsim::gpu::detail
