// The operand planes and parameters of one bulk::mma_gemm call, shared by
// the per-target kernels and the target-independent driver in
// mma_gemm_bulk.cpp (see there for what each field means).
#pragma once

#include <cstddef>
#include <cstdint>

#include "fpsim/mma.hpp"

namespace fpsim::bulk::detail {

// The exponent of a zero operand or carry: far below any real term, so it
// never sets a block's alignment exponent (docs/mma.md, "The block-FMA model": zero pairs
// contribute no exponent), and ea + eb stays exact in double.
constexpr double kZeroExpD = -1048576.0;

struct MmaPlan {
  const MmaModel* model = nullptr;
  int M = 0, N = 0, K = 0;
  size_t Np = 0;                  // N padded to the kernel's column group
  int block = 0;                  // n
  int chunk = 0;                  // promotion interval, or K (one chain)
  bool promote = false;
  bool rne = false;               // final rounding rne (else rtz)
  int neab = 0;                   // extra alignment bits
  int drop = 0;                   // low fraction bits of a double cleared by the final rounding: 52 - acc_frac_bits
  double min_exp = 0;             // clamp on the alignment exponent
  double emin_out = 0, emax_out = 0;  // the output's normal exponent range
  const float* A = nullptr;       // the caller's operands, for the scalar definition
  const float* B = nullptr;
  const double* a_val = nullptr;  // M×K: values (DAZ applied), exponents max(floor_log2|a|, emin_a)
  const double* a_exp = nullptr;
  const double* b_val = nullptr;  // K×Np, the same for B
  const double* b_exp = nullptr;
  const double* c_init = nullptr; // M×Np: C in the output format (nullptr: zero)
  double* out = nullptr;          // M×Np: the results (output-format values)
  uint8_t* slow = nullptr;        // M×Np: 1 = the element is computed by fpsim::mma_dot
};

// The definition's block step for element (i, j), block [b0, b0 + len) with
// carry `carry_in`; sets slow[i][j] and returns 0 when the block's result
// is not finite.
double block_by_definition(const MmaPlan& p, int i, size_t j, int b0, int len, double carry_in);

}  // namespace fpsim::bulk::detail
