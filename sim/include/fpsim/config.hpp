// Portability macros for the scalar core: the same headers compile for the
// host and, through FPSIM_HD, for CUDA device code (design.md, "The parts").
#pragma once

#if defined(__CUDACC__)
#define FPSIM_HD __host__ __device__
#else
#define FPSIM_HD
#endif

// Keeps a rare, large step (a stochastic draw, the definition behind a fast
// path) out of line, so that the common path around it stays small.
#if defined(__CUDACC__)
#define FPSIM_NOINLINE __noinline__
#else
#define FPSIM_NOINLINE __attribute__((noinline))
#endif

#include <cstdint>

namespace fpsim {

// 128-bit unsigned integer: the wide significand of Unpacked (spec/formats.md
// §3: >= 64 bits, 128 for fma). GCC, Clang and NVCC all provide it on 64-bit
// targets.
__extension__ typedef unsigned __int128 u128;

}  // namespace fpsim
