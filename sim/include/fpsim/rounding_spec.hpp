// How one rounding is done: mode, overflow policy, subnormal handling,
// tininess and the stochastic-rounding key (docs/formats.md §2-§6). Passed
// explicitly to every call: there is no global rounding state (§3 rule 5).
#pragma once

#include <cstdint>

namespace fpsim {

enum class Rounding : uint8_t {
  rne,  // nearest, ties to even
  rna,  // nearest, ties away from zero
  rtz,  // toward zero
  rup,  // toward +inf
  rdn,  // toward -inf
  rto,  // round to odd
  sr,   // stochastic; exact when sr_bits == 0, else the R-bit hardware method
};

enum class Overflow : uint8_t { ieee, saturate };

enum class Tininess : uint8_t { after, before };

struct RoundingSpec {
  Rounding rounding = Rounding::rne;
  Overflow overflow = Overflow::ieee;
  bool ftz = false;  // flush tiny outputs to zero
  bool daz = false;  // read subnormal inputs as zero
  Tininess tininess = Tininess::after;
  uint8_t sr_bits = 0;   // 0: exact sr; 1..64: sr<R>
  uint32_t seed = 0;     // Philox key word 0
  uint32_t stream = 0;   // Philox key word 1
  uint32_t step = 0;     // Philox counter word 2 (e.g. the training step)
};

}  // namespace fpsim
