// Exhaustive check of the bulk SIMD conversion: all 2^32 f32 bit patterns,
// rne, to e4m3 and to bf16, bulk against the scalar core. Codes are compared
// for every input, flags as the OR over each block of kBlock inputs (one
// bulk call per block).
//
// Usage: bulk_exhaustive_check [threads] [format ...]   (default: all cores, e4m3 bf16)
// Exit status 0 when everything matches. Registered in CTest with LABELS long.
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/format_table.hpp"

namespace {

constexpr uint64_t kBlock = 4096;
constexpr uint64_t kTotal = uint64_t{1} << 32;

template <typename T>
uint64_t check_range(const fpsim::Format& f, const fpsim::RoundingSpec& rs, uint64_t begin, uint64_t end) {
  std::vector<float> in(kBlock);
  std::vector<T> out(kBlock);
  uint64_t mismatches = 0;
  for (uint64_t base = begin; base < end; base += kBlock) {
    for (uint64_t i = 0; i < kBlock; ++i) in[i] = std::bit_cast<float>(uint32_t(base + i));
    fpsim::Flags bulk_flags;
    fpsim::bulk::convert_from_f32(in, f, rs, std::span<T>(out), base, &bulk_flags);
    uint32_t scalar_flags = 0;
    for (uint64_t i = 0; i < kBlock; ++i) {
      fpsim::Flags fl;
      const uint64_t want = fpsim::from_float(in[i], f, rs, fl, base + i);
      scalar_flags |= fl.bits;
      if (want != out[i] && ++mismatches <= 10)
        std::printf("MISMATCH %s input 0x%08llx: bulk 0x%llx scalar 0x%llx\n", f.name,
                    static_cast<unsigned long long>(base + i), static_cast<unsigned long long>(out[i]),
                    static_cast<unsigned long long>(want));
    }
    if (scalar_flags != bulk_flags.bits && ++mismatches <= 10)
      std::printf("FLAGS MISMATCH %s block 0x%08llx: bulk 0x%x scalar 0x%x\n", f.name,
                  static_cast<unsigned long long>(base), bulk_flags.bits, scalar_flags);
  }
  return mismatches;
}

uint64_t check_format(const fpsim::Format& f, unsigned threads) {
  const fpsim::RoundingSpec rs;  // rne, ieee overflow, no ftz/daz
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> mismatches{0};
  constexpr uint64_t kChunk = uint64_t{1} << 22;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (;;) {
        const uint64_t begin = next.fetch_add(kChunk);
        if (begin >= kTotal) return;
        const uint64_t m = f.bits <= 8 ? check_range<uint8_t>(f, rs, begin, begin + kChunk)
                                       : check_range<uint16_t>(f, rs, begin, begin + kChunk);
        mismatches += m;
      }
    });
  }
  for (auto& th : pool) th.join();
  return mismatches;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned threads = std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  std::vector<std::string> names;
  if (argc > 1) threads = unsigned(std::max(1, std::atoi(argv[1])));
  for (int i = 2; i < argc; ++i) names.emplace_back(argv[i]);
  if (names.empty()) names = {"e4m3", "bf16"};
  std::printf("bulk_exhaustive_check: SIMD target %s, %u threads\n", fpsim::bulk::simd_target_name(), threads);
  uint64_t total = 0;
  for (const std::string& name : names) {
    const fpsim::Format f = fpsim::parse_format(name);
    const auto t0 = std::chrono::steady_clock::now();
    const uint64_t m = check_format(f, threads);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s rne: all 2^32 f32 inputs, %llu mismatches, %.1f s\n", f.name,
                static_cast<unsigned long long>(m), secs);
    std::fflush(stdout);
    total += m;
  }
  std::printf(total == 0 ? "PASS\n" : "FAIL\n");
  return total == 0 ? 0 : 1;
}
