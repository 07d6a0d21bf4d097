// Philox4x32-10 counter-based generator (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011). Stateless: the same (key, counter)
// gives the same block on any thread, so rounding never depends on order
// (spec/formats.md §2, RNG decision).
#pragma once

#include <array>
#include <cstdint>

#include "fpsim/config.hpp"

namespace fpsim {

struct PhiloxBlock {
  uint32_t w[4];
};

FPSIM_HD constexpr PhiloxBlock philox4x32_10(const uint32_t counter[4], uint32_t key0, uint32_t key1) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  uint32_t k0 = key0, k1 = key1;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kMul0} * c0;
    const uint64_t p1 = uint64_t{kMul1} * c2;
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n1 = uint32_t(p1);
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    const uint32_t n3 = uint32_t(p0);
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return PhiloxBlock{{c0, c1, c2, c3}};
}

// Block j of the stream for one element: counter = (index lo, index hi, step, j).
FPSIM_HD constexpr PhiloxBlock rounding_block(uint64_t index, uint32_t step, uint32_t j, uint32_t seed,
                                              uint32_t stream) {
  const uint32_t counter[4] = {uint32_t(index), uint32_t(index >> 32), step, j};
  return philox4x32_10(counter, seed, stream);
}

// The block as one 128-bit integer, w0 least significant.
FPSIM_HD constexpr u128 block_as_u128(const PhiloxBlock& b) {
  return (u128(b.w[3]) << 96) | (u128(b.w[2]) << 64) | (u128(b.w[1]) << 32) | u128(b.w[0]);
}

}  // namespace fpsim
