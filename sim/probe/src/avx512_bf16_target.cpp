// AVX512-BF16 (VDPBF16PS) behind the probe interface: detection, the lane-0
// pair layout and one dot product per call, and the bf16 operand check that
// both CPU targets share.
//
// Only avx512_dot_lane0() executes AVX-512 instructions; it carries a
// function target attribute instead of the whole file being compiled with
// -mavx512f -mavx512bf16, so that no inline function of a standard header
// instantiated here can be compiled for AVX-512 and then picked by the
// linker for the rest of the program (this file must load on any x86-64 CPU).
//
// Unverified here: the development machine (AMD Zen 3) has no AVX512-BF16,
// so this code was compiled and its layout unit-tested, but it has not
// executed VDPBF16PS there (docs/mma.md "CPU matrix units").
#include <bit>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <string>

#include "fpsim/error.hpp"
#include "fpsim/format.hpp"
#include "fpsim/probe/cpu_matrix_targets.hpp"
#include "cpu_feature_detect.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace fpsim::probe {

uint16_t bf16_bits_of(float x, std::string_view operand, std::size_t index) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0xffffu) != 0) {
    std::ostringstream msg;
    msg << operand << "[" << index << "] = " << std::setprecision(9) << x << " (0x" << std::hex << std::setw(8)
        << std::setfill('0') << bits << ") is not a bf16 value";
    throw OptionError(msg.str());
  }
  return static_cast<uint16_t>(bits >> 16);
}

std::vector<uint32_t> pack_avx512_lane_pairs(std::span<const float> x, uint16_t pad, std::string_view operand) {
  const std::size_t K = x.size();
  const std::size_t steps = K == 0 ? 1 : (K + 1) / 2;
  std::vector<uint32_t> out(steps);
  for (std::size_t j = 0; j < steps; ++j) {
    // VDPBF16PS (SDM pseudo-code): srcdest.fp32[i] += src1.bf16[2i+1] * src2.bf16[2i+1] first,
    // then += src1.bf16[2i] * src2.bf16[2i]; bf16[2i+1] is the high half of dword i.
    const uint16_t first = 2 * j < K ? bf16_bits_of(x[2 * j], operand, 2 * j) : pad;
    const uint16_t second = 2 * j + 1 < K ? bf16_bits_of(x[2 * j + 1], operand, 2 * j + 1) : pad;
    out[j] = (static_cast<uint32_t>(first) << 16) | second;
  }
  return out;
}

#if defined(__x86_64__)

namespace {

using detail::Cpuid;
using detail::cpuid;
using detail::xcr0;

std::string avx512_bf16_missing() {
  Cpuid leaf7;
  if (!cpuid(7, 0, leaf7)) return "this CPU has no CPUID leaf 7, so no AVX-512";
  // CPUID.(EAX=7,ECX=0):EBX[16] AVX512F; CPUID.(EAX=7,ECX=1):EAX[5]
  // AVX512_BF16, present when leaf 7 reports subleaf 1 (EAX of subleaf 0 is
  // the highest subleaf) (SDM vol. 2, CPUID).
  const bool f = (leaf7.ebx >> 16) & 1;
  Cpuid leaf7s1;
  const bool bf16 = leaf7.eax >= 1 && cpuid(7, 1, leaf7s1) && ((leaf7s1.eax >> 5) & 1);
  if (!f || !bf16) {
    std::string m = "this CPU lacks ";
    m += !f && !bf16 ? "AVX512F and AVX512_BF16" : (!f ? "AVX512F" : "AVX512_BF16");
    m += " (CPUID.(EAX=7,ECX=0):EBX bit 16, CPUID.(EAX=7,ECX=1):EAX bit 5; /proc/cpuinfo flags avx512f, avx512_bf16)";
    return m;
  }
  Cpuid leaf1;
  if (!cpuid(1, 0, leaf1) || !((leaf1.ecx >> 27) & 1)) return "the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE = 0)";
  // XCR0 bits 1 SSE, 2 AVX, 5 opmask, 6 ZMM_Hi256, 7 Hi16_ZMM: the OS saves
  // the full AVX-512 register state.
  if ((xcr0() & 0xe6) != 0xe6) return "the OS has not enabled the AVX-512 register state in XCR0 (bits 1, 2, 5-7)";
  return {};
}

// d = c; then one VDPBF16PS per dword pair, lane 0 carrying the chain and
// every other lane zero.
__attribute__((target("avx512f,avx512bf16"))) float avx512_dot_lane0(const uint32_t* a, const uint32_t* b,
                                                                     std::size_t steps, float c) {
  __m512 acc = _mm512_maskz_mov_ps(1, _mm512_set1_ps(c));
  for (std::size_t j = 0; j < steps; ++j) {
    const __m512i va = _mm512_maskz_set1_epi32(1, static_cast<int>(a[j]));
    const __m512i vb = _mm512_maskz_set1_epi32(1, static_cast<int>(b[j]));
    // __m512bh is a 64-byte vector of 16-bit elements (GCC 12: short; GCC 13
    // and Clang: __bf16); a vector cast reinterprets the bits.
    acc = _mm512_dpbf16_ps(acc, (__m512bh)va, (__m512bh)vb);
  }
  return _mm512_cvtss_f32(acc);
}

class Avx512Bf16Target final : public MmaTarget {
 public:
  std::string name() const override { return "avx512-bf16"; }
  Format input_format_a() const override { return formats::bf16; }
  Format input_format_b() const override { return formats::bf16; }
  Format output_format() const override { return formats::fp32; }
  float dot(std::span<const float> a, std::span<const float> b, float c) override {
    if (a.size() != b.size()) {
      std::ostringstream msg;
      msg << "avx512-bf16 dot: a has " << a.size() << " elements, b has " << b.size();
      throw OptionError(msg.str());
    }
    const std::vector<uint32_t> pa = pack_avx512_lane_pairs(a, kPadA, "a");
    const std::vector<uint32_t> pb = pack_avx512_lane_pairs(b, kPadB, "b");
    return avx512_dot_lane0(pa.data(), pb.data(), pa.size(), c);
  }
};

}  // namespace

bool avx512_bf16_available(std::string* why_not) {
  static const std::string missing = avx512_bf16_missing();
  if (why_not != nullptr) *why_not = missing;
  return missing.empty();
}

std::unique_ptr<MmaTarget> make_avx512_bf16_target() {
  return detail::make_if_available<Avx512Bf16Target>("avx512-bf16", avx512_bf16_available);
}

#else  // not x86-64

bool avx512_bf16_available(std::string* why_not) {
  if (why_not != nullptr) *why_not = "AVX512-BF16 is an x86-64 unit and this is not an x86-64 build";
  return false;
}

std::unique_ptr<MmaTarget> make_avx512_bf16_target() {
  throw Error("avx512-bf16 is not available: AVX512-BF16 is an x86-64 unit and this is not an x86-64 build");
}

#endif

}  // namespace fpsim::probe
