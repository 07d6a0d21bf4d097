// Test helper: a stateless hash for drawing reproducible pseudo-random
// operands from a counter (splitmix64's output function).
#pragma once

#include <cstdint>

namespace fpsim::test {

// splitmix64: a bijection of 64-bit words whose outputs for consecutive
// inputs look independent.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace fpsim::test
