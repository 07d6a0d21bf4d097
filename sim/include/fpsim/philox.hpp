// Philox4x32-10 counter-based generator (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011). Stateless: the same (key, counter)
// gives the same block on any thread, so rounding never depends on order
// (docs/formats.md §2, RNG decision).
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

// ---- the stochastic-rounding stream (docs/conversion-semantics.md, "sr") ----
// Key (seed, stream). Elements come in groups of four: element i's first
// random word is word (i mod 4) of its group's block, counter
// (g lo, g hi, step, 0) with g = i div 4. Exact sr that needs more bits draws
// element i's own continuation blocks, counter (i lo, i hi, step, j) for
// j = 1, 2, ...; sr<R> with R > 32 takes its bits from continuation block 1.
// The fourth counter word (0 for a group, j >= 1 for a continuation) keeps
// the two kinds of counter apart, so no block serves two purposes.

// The block of group g (elements 4g .. 4g + 3).
FPSIM_HD constexpr PhiloxBlock sr_group_block(uint64_t group, uint32_t step, uint32_t seed, uint32_t stream) {
  const uint32_t counter[4] = {uint32_t(group), uint32_t(group >> 32), step, 0};
  return philox4x32_10(counter, seed, stream);
}

// Element i's first 32 random bits.
FPSIM_HD constexpr uint32_t sr_first_word(uint64_t index, uint32_t step, uint32_t seed, uint32_t stream) {
  return sr_group_block(index >> 2, step, seed, stream).w[index & 3];
}

// Element i's continuation block j >= 1.
FPSIM_HD constexpr PhiloxBlock sr_continuation_block(uint64_t index, uint32_t j, uint32_t step, uint32_t seed,
                                                     uint32_t stream) {
  const uint32_t counter[4] = {uint32_t(index), uint32_t(index >> 32), step, j};
  return philox4x32_10(counter, seed, stream);
}

// The block as one 128-bit integer, w3 most significant, w0 least.
FPSIM_HD constexpr u128 block_as_u128(const PhiloxBlock& b) {
  return (u128(b.w[3]) << 96) | (u128(b.w[2]) << 64) | (u128(b.w[1]) << 32) | u128(b.w[0]);
}

}  // namespace fpsim
