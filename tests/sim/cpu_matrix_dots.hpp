// Shared by the CPU matrix-unit tests: the Intel SDM's pseudo-code for
// TDPBF16PS and VDPBF16PS transcribed with host arithmetic (an oracle
// independent of fpsim), and the random bf16 dot products that were run on a
// real Xeon and recorded in tests/data/cpu-golden (their README gives the
// machine). Changing the generator invalidates the recorded files.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "test_random.hpp"

namespace fpsim::probe {

// ---- The SDM pseudo-code, transcribed (an oracle independent of fpsim) ----
//
// Both instructions are specified as FP32 FMAs "with DAZ=FTZ=1, RNE
// rounding" (SDM, TDPBF16PS and VDPBF16PS operation sections). Here an FMA
// is std::fmaf (correctly rounded, RNE) with subnormal operands (the
// accumulator included) read as signed zero and a subnormal result flushed
// to signed zero. The tininess rule of that flush (before or after
// rounding) is not probed by these tests.

inline bool is_subnormal(float x) { return x != 0.0f && std::fabs(x) < std::ldexp(1.0f, -126); }
inline float flush(float x) { return is_subnormal(x) ? std::copysign(0.0f, x) : x; }
inline float sdm_fma(float a, float b, float c) { return flush(std::fmaf(flush(a), flush(b), flush(c))); }
inline float sdm_add(float a, float b) { return flush(flush(a) + flush(b)); }

// Operand k of a dot product padded as the targets pad (+0 · −0).
inline float pad_a(std::span<const float> a, std::size_t k) { return k < a.size() ? a[k] : 0.0f; }
inline float pad_b(std::span<const float> b, std::size_t k) { return k < b.size() ? b[k] : -0.0f; }

// TDPBF16PS for one row and column: per instruction (32 elements of K), two
// FMA chains from +0, one over the even elements (bf16[2k] of each dword)
// and one over the odd ones; their sum is then added to C:
//   temp1.fp32[2n+j] += A.bf16[2k+j] * B.bf16[2n+j] for k = 0..15
//   C.fp32[n] += temp1.fp32[2n] + temp1.fp32[2n+1]
inline float sdm_amx_dot(std::span<const float> a, std::span<const float> b, float c) {
  const std::size_t chunks = a.empty() ? 1 : (a.size() + 31) / 32;
  for (std::size_t i = 0; i < chunks; ++i) {
    float even = 0.0f, odd = 0.0f;
    for (std::size_t k = 32 * i; k < 32 * i + 32; k += 2) {
      even = sdm_fma(pad_a(a, k), pad_b(b, k), even);
      odd = sdm_fma(pad_a(a, k + 1), pad_b(b, k + 1), odd);
    }
    c = sdm_add(c, sdm_add(even, odd));
  }
  return c;
}

// VDPBF16PS lane 0 chained over K in pairs: the high bf16 of each dword
// first, then the low one; with the targets' layout that is k = 0, 1, 2, ...
inline float sdm_avx512_dot(std::span<const float> a, std::span<const float> b, float c) {
  const std::size_t steps = a.empty() ? 1 : (a.size() + 1) / 2;
  for (std::size_t k = 0; k < 2 * steps; ++k) c = sdm_fma(pad_a(a, k), pad_b(b, k), c);
  return c;
}

// ---- Random operands: mixed magnitudes, subnormals, zeros ----

// A bf16 value from 64 random bits: 10 % signed zeros, 10 % subnormals,
// 10 % tiny normals (2^-126..2^-100, products in FP32's subnormal range),
// 10 % wide (2^-50..2^50), 60 % near one (2^-8..2^8); never inf or NaN
// (|sum| < 100 · 2^102 < 2^128).
inline float random_bf16(uint64_t r) {
  const uint32_t sign = static_cast<uint32_t>(r & 1), cls = static_cast<uint32_t>((r >> 1) % 100);
  uint32_t mant = static_cast<uint32_t>((r >> 8) & 0x7f), field = 0;
  if (cls < 10) return std::bit_cast<float>(sign << 31);
  if (cls < 20) {
    field = 0;
    mant |= mant == 0 ? 1 : 0;
  } else if (cls < 30) {
    field = 1 + static_cast<uint32_t>((r >> 16) % 27);
  } else if (cls < 40) {
    field = 127 - 50 + static_cast<uint32_t>((r >> 16) % 101);
  } else {
    field = 127 - 8 + static_cast<uint32_t>((r >> 16) % 17);
  }
  return std::bit_cast<float>((sign << 31) | (field << 23) | (mant << 16));
}

// An FP32 C: 40 % +0, 5 % −0, 5 % subnormal, 50 % near one with a full
// 23-bit fraction.
inline float random_c(uint64_t r) {
  const uint32_t sign = static_cast<uint32_t>(r & 1), cls = static_cast<uint32_t>((r >> 1) % 100);
  const uint32_t mant = static_cast<uint32_t>((r >> 8) & 0x7fffff);
  if (cls < 40) return 0.0f;
  if (cls < 45) return -0.0f;
  if (cls < 50) return std::bit_cast<float>((sign << 31) | (mant | 1));
  const uint32_t field = 127 - 8 + static_cast<uint32_t>((r >> 40) % 17);
  return std::bit_cast<float>((sign << 31) | (field << 23) | mant);
}

struct RandomDot {
  std::vector<float> a, b;
  float c = 0.0f;
};

inline RandomDot random_dot(int K, uint64_t i) {
  RandomDot d;
  const uint64_t s = test::mix64((static_cast<uint64_t>(K) << 40) ^ i);
  for (int k = 0; k < K; ++k) {
    d.a.push_back(random_bf16(test::mix64(s + 2 * k)));
    d.b.push_back(random_bf16(test::mix64(s + 2 * k + 1)));
  }
  d.c = random_c(test::mix64(s ^ 0x5555));
  return d;
}

// The recorded files hold, for each K below in this order, dot products
// i = 0 .. kRecordedPerK - 1 of random_dot(K, i).
inline constexpr int kRecordedK[] = {0, 1, 2, 3, 4, 8, 16, 31, 32, 33, 64, 100};
inline constexpr uint64_t kRecordedPerK = 20000;

}  // namespace fpsim::probe
