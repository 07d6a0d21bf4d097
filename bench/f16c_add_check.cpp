// Is the F16C stand-in of arith_bench ("widen both fp16 operands to float,
// add in float, narrow with rne") correctly rounded? Double rounding through
// float is innocuous for addition when float's precision is >= 2p + 1 (p =
// 11 for fp16; Figueroa 1995), so it should be. This checks every pair
// (a, b) with a of either sign handled by symmetry: a >= +0 as a code, b any
// code. The oracle is the exact sum in double (an fp16 sum needs <= 40
// significant bits) rounded once to fp16 by fpsim's conversion. NaN results
// only have to be NaN (F16C keeps payloads; fpsim delivers the default NaN);
// flags are not compared (F16C gives none).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/format.hpp"
#include "host_fp16.hpp"

int main() {
  if (!fpsim_bench::detect_host_fp16().f16c) {
    std::printf("no F16C on this CPU\n");
    return 0;
  }
  const fpsim::Format& f = fpsim::formats::fp16;
  std::atomic<uint64_t> checked{0}, mismatches{0};
  auto work = [&](uint32_t first_a, uint32_t step) {
    uint64_t n = 0, bad = 0;
    for (uint32_t a = first_a; a < 0x8000; a += step) {
      const double x = fpsim::to_double(a, f);
      for (uint32_t b = 0; b < 0x10000; ++b) {
        fpsim::Flags fl;
        const uint64_t want = fpsim::from_double(x + fpsim::to_double(b, f), f, fpsim::RoundingSpec{}, fl);
        const uint16_t got = fpsim_bench::f16c_add(uint16_t(a), uint16_t(b));
        const bool ok = f.is_nan_code(want) ? f.is_nan_code(got) : got == want;
        if (!ok && ++bad <= 5) std::printf("a=0x%04x b=0x%04x f16c 0x%04x fpsim 0x%04x\n", a, b, got, unsigned(want));
        ++n;
      }
    }
    checked += n;
    mismatches += bad;
  };
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work, t, threads);
  for (std::thread& t : pool) t.join();
  // (-a) + (-b) = -(a + b) under rne in both computations, so a >= +0 covers every pair.
  std::printf("fp16 add, rne: %llu pairs checked (a >= +0, b every code), %llu mismatches\n",
              (unsigned long long)checked.load(), (unsigned long long)mismatches.load());
  return mismatches == 0 ? 0 : 1;
}
