// Host fp16 hardware for the benchmarks: run-time detection (cpuid plus the
// OS's saved-state mask, so it works with compilers whose
// __builtin_cpu_supports lacks the feature names) and the F16C
// widen-add-narrow fp16 add shared by arith_bench and f16c_add_check.
#pragma once

#include <cstdint>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace fpsim_bench {

struct HostFp16 {
  bool f16c = false;        // vcvtph2ps / vcvtps2ph
  bool avx512fp16 = false;  // vaddsh and friends (with AVX512F and AVX512VL)
};

#if defined(__x86_64__)

inline HostFp16 detect_host_fp16() {
  HostFp16 h;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return h;
  if ((c & (1u << 27)) == 0) return h;  // no OSXSAVE: no AVX state
  uint32_t xcr0_lo = 0, xcr0_hi = 0;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool ymm_state = (xcr0_lo & 0x06) == 0x06;  // SSE + AVX
  const bool zmm_state = (xcr0_lo & 0xE6) == 0xE6;  // + opmask, ZMM0-15 high, ZMM16-31
  const bool avx = (c & (1u << 28)) != 0;
  h.f16c = ymm_state && avx && (c & (1u << 29)) != 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    const bool avx512f = (b & (1u << 16)) != 0, avx512vl = (b & (1u << 31)) != 0;
    h.avx512fp16 = zmm_state && avx512f && avx512vl && (d & (1u << 23)) != 0;
  }
  return h;
}

// fp16 a + b: widen both to float, add in float, narrow with rne. Call only
// when detect_host_fp16().f16c.
__attribute__((target("f16c"))) inline uint16_t f16c_add(uint16_t a, uint16_t b) {
  const __m128 x = _mm_cvtph_ps(_mm_cvtsi32_si128(a)), y = _mm_cvtph_ps(_mm_cvtsi32_si128(b));
  return uint16_t(_mm_cvtsi128_si32(_mm_cvtps_ph(_mm_add_ss(x, y), _MM_FROUND_TO_NEAREST_INT)));
}

#else

inline HostFp16 detect_host_fp16() { return {}; }
inline uint16_t f16c_add(uint16_t, uint16_t) { return 0; }

#endif

}  // namespace fpsim_bench
