// Exception flags in Berkeley TestFloat's encoding (docs/formats.md §6),
// plus fpsim's two informational flags.
#pragma once

#include <cstdint>

#include "fpsim/config.hpp"

namespace fpsim {

struct Flags {
  static constexpr uint32_t inexact = 0x01;
  static constexpr uint32_t underflow = 0x02;
  static constexpr uint32_t overflow = 0x04;
  static constexpr uint32_t infinite = 0x08;  // divide by zero
  static constexpr uint32_t invalid = 0x10;
  static constexpr uint32_t saturated = 0x20;  // an inf/NaN outcome replaced by +-max
  static constexpr uint32_t flushed = 0x40;    // ftz output or daz input
  static constexpr uint32_t ieee_mask = 0x1F;  // what TestFloat compares

  uint32_t bits = 0;

  FPSIM_HD constexpr void raise(uint32_t f) { bits |= f; }
  FPSIM_HD constexpr bool test(uint32_t f) const { return (bits & f) != 0; }
};

}  // namespace fpsim
