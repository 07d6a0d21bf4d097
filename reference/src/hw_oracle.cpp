// HwOracle: one hardware instruction per result (see hw_oracle.hpp).
//
// How a result is obtained. The operands' bit patterns are moved into XMM
// registers with movd (a bit copy: no arithmetic, no flags). One asm statement
// then saves MXCSR, loads our own MXCSR (all exceptions masked, flags clear,
// FTZ and DAZ off, the requested rounding control), executes the single
// arithmetic instruction, stores MXCSR (the sticky flags that instruction
// raised) and restores the caller's MXCSR. Because all of this is one asm
// statement, the compiler can neither fold the operation at compile time nor
// move it outside the window where our rounding mode is in force, whatever
// the optimisation level; the file is compiled with -frounding-math
// -fno-fast-math anyway (reference/CMakeLists.txt). The x87 unit is never
// used, so its control word does not matter.
//
// The instructions are written in asm text, so this file needs no target
// attributes or -m flags: the assembler (binutils >= 2.38 for the
// AVX512-FP16 mnemonics) encodes them, and they only run after the CPU
// feature checks (__builtin_cpu_supports, which also checks that the OS saves
// the AVX-512 state) said yes.
#include "fpsim_ref/hw_oracle.hpp"

#include <bit>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FPSIM_HW_X86 1
#else
#define FPSIM_HW_X86 0
#endif

namespace fpsim_ref {
namespace {

using S = RefFormat::Specials;

bool is_fp32(const RefFormat& f) {
  return f.bits == 32 && f.exp_bits == 8 && f.man_bits == 23 && f.bias == 127 && f.specials == S::ieee;
}
bool is_fp16(const RefFormat& f) {
  return f.bits == 16 && f.exp_bits == 5 && f.man_bits == 10 && f.bias == 15 && f.specials == S::ieee;
}

// MXCSR fields.
constexpr uint32_t kIE = 0x01, kZE = 0x04, kOE = 0x08, kUE = 0x10, kPE = 0x20;
constexpr uint32_t kAllMasked = 0x1F80;
constexpr uint32_t kRN = 0u << 13, kRD = 1u << 13, kRU = 2u << 13, kRZ = 3u << 13;

uint32_t mxcsr_flags(uint32_t csr) {
  uint32_t fl = 0;
  if (csr & kPE) fl |= flag::inexact;
  if (csr & kUE) fl |= flag::underflow;
  if (csr & kOE) fl |= flag::overflow;
  if (csr & kZE) fl |= flag::infinite;
  if (csr & kIE) fl |= flag::invalid;
  return fl;  // DE (denormal operand) has no fpsim flag
}

bool set(std::string* why, const std::string& s) {
  if (why) *why = s;
  return false;
}

#if FPSIM_HW_X86
// One instruction between our ldmxcsr and the stmxcsr that reads its flags.
#define FPSIM_HW_RUN(insn)                                \
  asm volatile(                                           \
      "stmxcsr %[saved]\n\t"                              \
      "ldmxcsr %[in]\n\t" insn                            \
      "\n\t"                                              \
      "stmxcsr %[out]\n\t"                                \
      "ldmxcsr %[saved]"                                  \
      : [x] "+x"(x), [saved] "+m"(saved), [out] "=m"(out) \
      : [y] "x"(y), [z] "x"(z), [in] "m"(in))

__m128i bits_to_xmm(uint32_t v) { return _mm_cvtsi32_si128(static_cast<int>(v)); }
uint32_t xmm_to_bits(__m128i v) { return static_cast<uint32_t>(_mm_cvtsi128_si32(v)); }

// x = a, y = b for the binary ops; fma: x = c (the accumulator), y = a, z = b.
uint32_t run_fp32(RefOp op, uint32_t a, uint32_t b, uint32_t c, uint32_t in, uint32_t& out) {
  __m128i x = bits_to_xmm(op == RefOp::fma ? c : a);
  const __m128i y = bits_to_xmm(op == RefOp::fma ? a : b);
  const __m128i z = bits_to_xmm(b);
  uint32_t saved = 0;
  switch (op) {
    case RefOp::add:
      FPSIM_HW_RUN("addss %[y], %[x]");
      break;
    case RefOp::sub:
      FPSIM_HW_RUN("subss %[y], %[x]");  // x = x - y
      break;
    case RefOp::mul:
      FPSIM_HW_RUN("mulss %[y], %[x]");
      break;
    case RefOp::div:
      FPSIM_HW_RUN("divss %[y], %[x]");  // x = x / y
      break;
    case RefOp::sqrt:
      FPSIM_HW_RUN("sqrtss %[x], %[x]");
      break;
    case RefOp::fma:
      FPSIM_HW_RUN("vfmadd231ss %[z], %[y], %[x]");  // x = y * z + x
      break;
  }
  return xmm_to_bits(x);
}

uint32_t run_fp16(RefOp op, uint32_t a, uint32_t b, uint32_t c, uint32_t in, uint32_t& out) {
  __m128i x = bits_to_xmm(op == RefOp::fma ? c : a);
  const __m128i y = bits_to_xmm(op == RefOp::fma ? a : b);
  const __m128i z = bits_to_xmm(b);
  uint32_t saved = 0;
  switch (op) {
    case RefOp::add:
      FPSIM_HW_RUN("vaddsh %[y], %[x], %[x]");
      break;
    case RefOp::sub:
      FPSIM_HW_RUN("vsubsh %[y], %[x], %[x]");  // x = x - y
      break;
    case RefOp::mul:
      FPSIM_HW_RUN("vmulsh %[y], %[x], %[x]");
      break;
    case RefOp::div:
      FPSIM_HW_RUN("vdivsh %[y], %[x], %[x]");  // x = x / y
      break;
    case RefOp::sqrt:
      FPSIM_HW_RUN("vsqrtsh %[x], %[x], %[x]");
      break;
    case RefOp::fma:
      FPSIM_HW_RUN("vfmadd231sh %[z], %[y], %[x]");  // x = y * z + x
      break;
  }
  return xmm_to_bits(x) & 0xFFFF;
}
#undef FPSIM_HW_RUN

// comiss / ucomiss of x with y: ZF, PF, CF as the predicates need them.
struct CmpFlags {
  bool zf, pf, cf;
  uint32_t csr;
};

#define FPSIM_HW_CMP(pre, insn)                                                                               \
  asm volatile(                                                                                               \
      "stmxcsr %[saved]\n\t"                                                                                  \
      "ldmxcsr %[in]\n\t" pre insn                                                                            \
      " %[y], %[x]\n\t"                                                                                       \
      "stmxcsr %[out]\n\t"                                                                                    \
      "ldmxcsr %[saved]"                                                                                      \
      : "=@ccz"(zf), "=@ccp"(pf), "=@ccc"(cf), [x] "+x"(x), [y] "+x"(y), [saved] "+m"(saved), [out] "=m"(out) \
      : [in] "m"(in))

CmpFlags run_compare(bool half, bool signaling, uint32_t a, uint32_t b) {
  __m128i x = bits_to_xmm(a), y = bits_to_xmm(b);
  const uint32_t in = kAllMasked | kRN;
  uint32_t saved = 0, out = 0;
  bool zf = false, pf = false, cf = false;
  // vcvtph2ps widens the low four halves (lanes 1-3 are +0: no flags) exactly.
  if (half) {
    if (signaling)
      FPSIM_HW_CMP("vcvtph2ps %[x], %[x]\n\tvcvtph2ps %[y], %[y]\n\t", "comiss");
    else
      FPSIM_HW_CMP("vcvtph2ps %[x], %[x]\n\tvcvtph2ps %[y], %[y]\n\t", "ucomiss");
  } else {
    if (signaling)
      FPSIM_HW_CMP("", "comiss");
    else
      FPSIM_HW_CMP("", "ucomiss");
  }
  return {zf, pf, cf, out};
}
#undef FPSIM_HW_CMP
#endif  // FPSIM_HW_X86

}  // namespace

bool HwOracle::cpu_has_fma() {
#if FPSIM_HW_X86
  return __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool HwOracle::cpu_has_f16c() {
#if FPSIM_HW_X86
  return __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

bool HwOracle::cpu_has_avx512fp16() {
#if FPSIM_HW_X86
  return __builtin_cpu_supports("avx512fp16");
#else
  return false;
#endif
}

bool HwOracle::available(RefOp op, const RefFormat& f, const RefSpec& spec, std::string* why) {
  if (!FPSIM_HW_X86) return set(why, "the hardware oracle exists only on x86 hosts (it runs SSE / AVX512-FP16 code)");
  const bool half = is_fp16(f);
  if (!half && !is_fp32(f))
    return set(why, "the hardware oracle computes fp32 and fp16 only; the host CPU has no " + f.name + " arithmetic");
  if (spec.mode == RefMode::rna)
    return set(why, "the host FPU has no round-to-nearest-away mode (x86 MXCSR offers rne, rtz, rup and rdn)");
  if (spec.mode == RefMode::rto)
    return set(why, "the host FPU has no round-to-odd mode (x86 MXCSR offers rne, rtz, rup and rdn)");
  if (spec.saturate)
    return set(why,
               "the host FPU has no saturating overflow policy (overflow gives ±inf or ±max by the rounding mode)");
  if (spec.ftz || spec.daz)
    return set(why, "the host FPU's FTZ / DAZ cannot raise fpsim's flushed flag, so ftz and daz are not offered");
  if (spec.tininess_before)
    return set(why, "x86 detects tininess after rounding only; tininess before rounding is not available");
  if (half && !cpu_has_avx512fp16())
    return set(why,
               "this CPU has no AVX512-FP16 (fp16 arithmetic needs vaddsh, vsubsh, vmulsh, vdivsh, vsqrtsh and "
               "vfmadd231sh)");
  if (!half && op == RefOp::fma && !cpu_has_fma()) return set(why, "this CPU has no FMA3 (fp32 fma needs vfmadd231ss)");
  return true;
}

HwOracle::HwOracle(RefOp op, const RefFormat& f, const RefSpec& spec) : op_(op), f_(f), spec_(spec) {
  std::string why;
  if (!available(op, f, spec, &why)) throw std::invalid_argument(why);
  half_ = is_fp16(f);
  uint32_t rc = kRN;
  switch (spec.mode) {
    case RefMode::rtz:
      rc = kRZ;
      break;
    case RefMode::rup:
      rc = kRU;
      break;
    case RefMode::rdn:
      rc = kRD;
      break;
    default:
      rc = kRN;
      break;
  }
  mxcsr_ = kAllMasked | rc;
}

RefResult HwOracle::operator()(uint64_t a, uint64_t b, uint64_t c) const {
  const uint64_t limit = half_ ? 0x10000 : 0x100000000;
  const int n = op_ == RefOp::sqrt ? 1 : op_ == RefOp::fma ? 3 : 2;
  for (int i = 0; i < n; ++i) {
    const uint64_t code = i == 0 ? a : i == 1 ? b : c;
    if (code >= limit)
      throw std::invalid_argument("code " + std::to_string(code) + " is not a valid " + f_.name + " code");
  }
#if FPSIM_HW_X86
  uint32_t out = 0;
  const auto a32 = static_cast<uint32_t>(a), b32 = static_cast<uint32_t>(b), c32 = static_cast<uint32_t>(c);
  uint32_t r = half_ ? run_fp16(op_, a32, b32, c32, mxcsr_, out) : run_fp32(op_, a32, b32, c32, mxcsr_, out);
  const uint32_t exp_ones = half_ ? 0x7C00 : 0x7F800000, man = half_ ? 0x03FF : 0x007FFFFF;
  if ((r & exp_ones) == exp_ones && (r & man) != 0) r = static_cast<uint32_t>(f_.nan_code);  // default NaN
  return {r, mxcsr_flags(out)};
#else
  (void)a, (void)b, (void)c;
  throw std::logic_error("HwOracle on a non-x86 host");
#endif
}

bool HwOracle::compare_available(const RefFormat& f, const RefSpec& spec, std::string* why) {
  if (!FPSIM_HW_X86) return set(why, "the hardware oracle exists only on x86 hosts (it runs comiss / ucomiss)");
  const bool half = is_fp16(f);
  if (!half && !is_fp32(f))
    return set(why, "the hardware oracle compares fp32 and fp16 only; the host CPU has no " + f.name + " compare");
  if (spec.daz) return set(why, "the host FPU's DAZ cannot raise fpsim's flushed flag, so daz is not offered");
  if (half && !cpu_has_f16c())
    return set(why, "this CPU has no F16C (fp16 compares first widen to fp32 with vcvtph2ps)");
  return true;
}

RefCompareResult HwOracle::compare(RefPredicate p, bool signaling, uint64_t a, uint64_t b, const RefFormat& f) {
  std::string why;
  if (!compare_available(f, RefSpec{}, &why)) throw std::invalid_argument(why);
  const bool half = is_fp16(f);
  const uint64_t limit = half ? 0x10000 : 0x100000000;
  if (a >= limit || b >= limit)
    throw std::invalid_argument("code " + std::to_string(a >= limit ? a : b) + " is not a valid " + f.name + " code");
#if FPSIM_HW_X86
  const CmpFlags c = run_compare(half, signaling, static_cast<uint32_t>(a), static_cast<uint32_t>(b));
  bool v = false;
  switch (p) {
    case RefPredicate::eq:
      v = c.zf && !c.pf;
      break;
    case RefPredicate::lt:
      v = c.cf && !c.pf;
      break;
    case RefPredicate::le:
      v = (c.cf || c.zf) && !c.pf;
      break;
    case RefPredicate::unordered:
      v = c.pf;
      break;
  }
  return {v, mxcsr_flags(c.csr)};
#else
  (void)p, (void)signaling;
  throw std::logic_error("HwOracle on a non-x86 host");
#endif
}

}  // namespace fpsim_ref
