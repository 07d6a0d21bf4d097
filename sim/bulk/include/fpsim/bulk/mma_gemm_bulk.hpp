// The tensor-core model's GEMM in SIMD: the Highway path (dynamic dispatch)
// of fpsim::mma_gemm. Bit-identical to fpsim::mma_dot element by element for
// every model (tests/sim/mma_gemm_bulk_test.cpp: a property test over random
// parameter sets and shapes, every preset, every golden file, each Highway
// target this CPU has).
//
// What runs in SIMD (mma_gemm_is_vectorized): block-FMA models with
// truncating alignment and rtz or rne final rounding whose block sums fit a
// double exactly (25 + max(neab, 0) + bit_width(n + 1) <= 53 bits: every
// preset), lanes across output columns. Everything else, and inside the
// SIMD path every block whose result is zero-free but not a normal output
// value (subnormal, overflow), every element whose row or column holds NaN
// or inf, goes to the scalar definition. How one block is computed lane-wise
// is written out in sim/bulk/src/mma_gemm_bulk.cpp and docs/mma.md.
//
// Layering (docs/architecture.md): only sim/bulk includes Highway; this header does not.
#pragma once

#include <span>

#include "fpsim/mma.hpp"

namespace fpsim::bulk {

// Same contract, errors and results as fpsim::mma_gemm: D[M×N] = A[M×K]·B[K×N] + C
// (row-major; C empty means zero), each element bit for bit mma_dot of its
// row and column. Single-threaded.
void mma_gemm(const MmaModel& m, int M, int N, int K, std::span<const float> A, std::span<const float> B,
              std::span<const float> C, std::span<float> D);

// True when bulk::mma_gemm evaluates this model in SIMD (otherwise it calls
// fpsim::mma_gemm). For tests and benchmark reports.
bool mma_gemm_is_vectorized(const MmaModel& m);

}  // namespace fpsim::bulk
