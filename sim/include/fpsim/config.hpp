// Portability macros for the scalar core: the same headers compile for the
// host and, through FPSIM_HD, for CUDA device code (docs/architecture.md, "The parts").
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

// The arithmetic fast path (arith_fast.hpp; docs/arithmetic-semantics.md,
// "The fast path"): FPSIM_FORCEINLINE puts a small step (the dispatch on the
// format) into its caller whatever the compiler's unit-growth budget says.
// FPSIM_FLATTEN makes one function of an operation: everything it calls is
// inlined into it (the rounding core included; not what is FPSIM_NOINLINE),
// so that constant format fields fold through all of it, and the function
// itself stays a call (flatten is only honoured in a body that is not itself
// inlined). Device compilers inline such code on their own.
// (Not __forceinline__: it includes `inline`, which the non-constexpr
// declarations here already say.)
#define FPSIM_FORCEINLINE __attribute__((always_inline))
#if defined(__CUDACC__)
#define FPSIM_FLATTEN
#else
#define FPSIM_FLATTEN __attribute__((noinline, flatten))
#endif

// A fact the code has just established (a normalised significand's top
// bit, an exponent's bound) told to the compiler, so that the inlined
// rounding core drops the branches that cannot be taken. Reaching it with
// the fact false would be undefined behaviour: only facts the surrounding
// lines prove go here (UBSan's -fsanitize=unreachable checks them in the
// sanitizer build).
#define FPSIM_ASSUME(cond)                \
  do {                                    \
    if (!(cond)) __builtin_unreachable(); \
  } while (false)

#include <cstdint>

namespace fpsim {

// 128-bit unsigned integer: the wide significand of Unpacked (docs/formats.md
// §3: >= 64 bits, 128 for fma). GCC, Clang and NVCC all provide it on 64-bit
// targets.
__extension__ typedef unsigned __int128 u128;

}  // namespace fpsim
