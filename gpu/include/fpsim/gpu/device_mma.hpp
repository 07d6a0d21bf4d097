// Dot products on a real tensor core: D = sum_k a[k]·b[k] + C computed by
// mma.sync or wgmma (gpu/src/mma_sync_dot.cu, gpu/src/wgmma_dot.cu). Only in
// a CUDA-enabled build (FPSIM_HAVE_GPU).
//
// Each dot product is row 0 of A times column 0 of B of one instruction
// tile, the rest of the tile zero; a K longer than the instruction's k is
// zero-padded to a multiple of it and chained through the accumulator
// registers (D of one instruction is C of the next), as a GEMM main loop
// chains them. For an fp16 accumulator C enters as fp16 and D is widened.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fpsim/gpu/mma_config.hpp"

namespace fpsim::gpu {

// One batch of independent dot products of length k: a and b hold count·k
// FP32 bit patterns (row r at [r·k, r·k + k)), each a value of the input
// format (tf32: low 13 bits zero); c holds count FP32 bit patterns, values of
// the accumulator format. Returns count FP32 bit patterns of D.
// Throws fpsim::Error on a CUDA error (with its text) or bad sizes.
std::vector<uint32_t> run_dot_batch(const MmaConfig& config, int k, std::span<const uint32_t> a,
                                    std::span<const uint32_t> b, std::span<const uint32_t> c);

// The layout self-test of one configuration: with a = e_j (unit vector) and
// b_k distinct exact values, and the other way round, D must be b_j (a_j) for
// every j < instruction_k; a full random small-integer tile is also compared
// with its exact product. Returns "" when every check holds, else what failed.
std::string layout_self_test(const MmaConfig& config);

// How the operands were laid out for the instruction: for wgmma the shared-
// memory descriptor convention the self-test found to hold (wgmma_layout.hpp;
// "" before a self-test passed), for mma.sync "registers (PTX fragments)".
std::string operand_layout_name(const MmaConfig& config);

}  // namespace fpsim::gpu
