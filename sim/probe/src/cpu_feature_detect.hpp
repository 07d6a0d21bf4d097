// Shared by the CPU matrix-unit targets (amx_bf16_target.cpp,
// avx512_bf16_target.cpp): CPUID and XCR0 reads, and the factory that builds
// a target only where its unit is available.
#pragma once

#include <memory>
#include <string>

#include "fpsim/error.hpp"
#include "fpsim/probe/mma_target.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace fpsim::probe::detail {

#if defined(__x86_64__)
struct Cpuid {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

inline bool cpuid(unsigned leaf, unsigned subleaf, Cpuid& r) {
  return __get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx) != 0;
}

// XCR0 (the OS-enabled XSAVE state components); only valid when
// CPUID.1:ECX.OSXSAVE[bit 27] is set.
inline uint64_t xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
#endif

// A Target when `available` says the unit is there; else fpsim::Error
// "<name> is not available: <reason>".
template <typename Target>
std::unique_ptr<MmaTarget> make_if_available(const char* name, bool (*available)(std::string*)) {
  std::string why;
  if (!available(&why)) {
    std::string msg = name;
    msg.append(" is not available: ").append(why);
    throw Error(msg);
  }
  return std::make_unique<Target>();
}

}  // namespace fpsim::probe::detail
