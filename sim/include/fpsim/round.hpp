// The one rounding core (docs/architecture.md; docs/formats.md §3): every conversion,
// arithmetic operation, quantizer and MMA output step ends here. An exact
// Unpacked value is rounded once, at the target's precision and exponent
// range (subnormal positions included); overflow is decided on the rounded
// value; then overflow policy, flush-to-zero and packing. The decisions this
// file implements are written out in docs/conversion-semantics.md.
#pragma once

#include <cstdint>

#include "fpsim/config.hpp"
#include "fpsim/flags.hpp"
#include "fpsim/format.hpp"
#include "fpsim/philox.hpp"
#include "fpsim/rounding_spec.hpp"
#include "fpsim/unpacked.hpp"

namespace fpsim {

namespace detail {

// Where the discarded low part of a significand lies, relative to half a
// unit of the last kept place: its first bit (the round bit, worth half a
// unit) and whether anything below that bit is non-zero. Every mode's
// decision is a function of these two bits and the kept code's parity
// (rounds_away), as in hardware; the two words cost a shift and a mask.
struct Discarded {
  bool round_bit;  // the discarded part is >= half a unit
  bool below;      // some discarded bit below the round bit (or the sticky tail) is non-zero
  FPSIM_HD constexpr bool exact() const { return !round_bit & !below; }
};

// The core rounds significands of two widths with one definition: u128, the
// Unpacked form (leading bit at 127), and uint64_t, the arithmetic fast path's
// exact results (leading bit at 63; arith_fast.hpp, docs/arithmetic-semantics.md).
template <class Sig>
FPSIM_HD constexpr int sig_width() {
  return int(sizeof(Sig)) * 8;
}

// sig's bits below position `shift` (shift >= 1) are discarded; `sticky`
// stands for non-zero bits below sig.
// Written with & and | rather than && and ||: whether a value rounds up is
// as random as the data, and a branch on it would be mispredicted half the
// time (the fast path's speed, docs/arithmetic-semantics.md).
template <class Sig>
FPSIM_HD constexpr Discarded classify_discarded(Sig sig, int shift, bool sticky) {
  constexpr int width = sig_width<Sig>();
  if (shift > width) return {false, bool((sig != 0) | sticky)};  // all of sig lies below the round bit
  const bool round_bit = ((sig >> (shift - 1)) & 1) != 0;
  const Sig below_mask = shift == 1 ? Sig{0} : Sig(~Sig{0}) >> (width + 1 - shift);  // bits 0 .. shift - 2
  return {round_bit, bool(((sig & below_mask) != 0) | sticky)};
}

template <class Sig>
FPSIM_HD constexpr Sig kept_bits(Sig sig, int shift) {
  return shift >= sig_width<Sig>() ? Sig{0} : sig >> shift;
}

// Stochastic rounding (docs/formats.md §2; the stream in
// docs/conversion-semantics.md, "sr"): true when the value rounds away from
// zero. f, the exact discarded fraction of an ulp, is sig's bits below
// `shift` read as a binary fraction.
FPSIM_HD constexpr bool stochastic_rounds_away(u128 sig, int shift, const RoundingSpec& rs, uint64_t index) {
  if (rs.sr_bits != 0) {
    // sr<R>: the top R discarded bits plus R random bits, carry decides.
    const int r_bits = rs.sr_bits;
    const int low = shift - r_bits;  // >= 1: shift > 64 for every format
    const u128 r_mask = (u128{1} << r_bits) - 1;
    const u128 top = (low >= 128 ? u128{0} : sig >> low) & r_mask;
    u128 random = 0;
    if (r_bits <= 32) {
      random = sr_first_word(index, rs.step, rs.seed, rs.stream) & r_mask;
    } else {
      const PhiloxBlock b = sr_continuation_block(index, 1, rs.step, rs.seed, rs.stream);
      random = ((u128{b.w[1]} << 32) | b.w[0]) & r_mask;
    }
    return top + random > r_mask;
  }
  // Exact: U = w * 2^-32 + C1 * 2^-160 + C2 * 2^-288 + ..., compared with f
  // from the most significant bit down, drawing the next continuation block
  // only while they agree. First f's top 32 bits against the word.
  {
    const int low = shift - 32;  // sig bit at the word's last place
    uint32_t chunk = 0;
    if (low >= 0 && low < 128) chunk = uint32_t(sig >> low);
    if (low < 0) chunk = uint32_t(sig << (-low));  // shift >= 1, so -low < 32
    const uint32_t u = sr_first_word(index, rs.step, rs.seed, rs.stream);
    if (u != chunk) return u < chunk;
    if (low <= 0) return false;  // f exhausted and U >= f (a sticky tail counts as below any draw)
  }
  for (uint32_t j = 1;; ++j) {
    const int64_t low = int64_t{shift} - 32 - 128 * int64_t{j};  // sig bit at the block's last place
    u128 chunk = 0;
    if (low >= 0 && low < 128) chunk = sig >> low;
    if (low < 0 && low > -128) chunk = sig << (-low);
    const u128 u = block_as_u128(sr_continuation_block(index, j, rs.step, rs.seed, rs.stream));
    if (u != chunk) return u < chunk;
    if (low <= 0) return false;
  }
}

// Whether to take the neighbour away from zero, given how the discarded part
// compares with half an ulp and whether the nearer-to-zero code is odd.
FPSIM_HD constexpr bool rounds_away(Rounding mode, bool negative, Discarded d, bool down_code_odd,
                                    bool drawn_away) {
  switch (mode) {
    case Rounding::rne:  // above half, or exactly half and the code odd
      return d.round_bit & (d.below | down_code_odd);
    case Rounding::rna:
      return d.round_bit;
    case Rounding::rtz:
      return false;
    case Rounding::rup:
      return !d.exact() & !negative;
    case Rounding::rdn:
      return !d.exact() & negative;
    case Rounding::rto:
      return !d.exact() & !down_code_odd;
    case Rounding::sr:
      return !d.exact() & drawn_away;
  }
  return false;
}

FPSIM_HD constexpr uint64_t signed_code(const Format& f, bool negative, uint64_t magnitude_code) {
  return (negative ? f.sign_mask() : 0) | magnitude_code;
}

// The result of a finite overflow (docs/formats.md §4).
FPSIM_HD constexpr uint64_t overflow_result(const Format& f, const RoundingSpec& rs, bool negative, Flags& fl) {
  fl.raise(Flags::overflow | Flags::inexact);
  bool mode_gives_max = false;
  switch (rs.rounding) {
    case Rounding::rtz:
    case Rounding::rto:
      mode_gives_max = true;
      break;
    case Rounding::rup:
      mode_gives_max = negative;
      break;
    case Rounding::rdn:
      mode_gives_max = !negative;
      break;
    case Rounding::rne:
    case Rounding::rna:
    case Rounding::sr:
      break;
  }
  if (mode_gives_max) return signed_code(f, negative, f.max_code());
  if (rs.overflow == Overflow::saturate || !f.has_nan()) {
    fl.raise(Flags::saturated);
    return signed_code(f, negative, f.max_code());
  }
  return f.has_inf() ? f.inf_code(negative) : f.nan_code(negative);
}

// Parity of the code with magnitude kept * 2^quantum_exp. With M = 0 the
// last code bit is the exponent's (e8m0: rne 3.0 -> 2.0).
template <class Sig>
FPSIM_HD constexpr bool code_is_odd(const Format& f, Sig kept, int quantum_exp) {
  if (f.man_bits > 0) return (kept & 1) != 0;
  return kept != 0 && ((quantum_exp + f.bias) & 1) != 0;
}

FPSIM_HD constexpr uint64_t round_finite_to_integer(const Unpacked& x, const Format& f, const RoundingSpec& rs,
                                                    Flags& fl, uint64_t index) {
  const uint64_t most_negative = f.sign_mask();  // -2^(bits-1) as a magnitude
  const uint64_t most_positive = f.magnitude_mask();
  if (x.exp >= f.bits) {
    fl.raise(Flags::invalid | Flags::saturated);
    return x.sign ? f.sign_mask() : most_positive;
  }
  const int shift = 127 - x.exp;
  const Discarded d = classify_discarded(x.sig, shift, x.sticky);
  u128 kept = kept_bits(x.sig, shift);
  const bool drawn_away = rs.rounding == Rounding::sr && !d.exact() && stochastic_rounds_away(x.sig, shift, rs, index);
  if (rounds_away(rs.rounding, x.sign, d, (kept & 1) != 0, drawn_away)) ++kept;
  if (kept > (x.sign ? most_negative : most_positive)) {
    fl.raise(Flags::invalid | Flags::saturated);
    return x.sign ? f.sign_mask() : most_positive;
  }
  if (!d.exact()) fl.raise(Flags::inexact);
  const uint64_t all = (f.sign_mask() << 1) - 1;
  return x.sign ? (uint64_t(0) - uint64_t(kept)) & all : uint64_t(kept);
}

// sr's draw on a fast-path significand: the same value in the u128 form
// (leading bit at 127), so the draw is the definition's. The fast path only
// rounds with sr when its uint64_t result is exact (no sticky), which makes
// the widened significand identical to the general path's.
// Out of line: the draw (Philox rounds, the exact-sr loop) is large and only
// sr reaches it.
FPSIM_NOINLINE FPSIM_HD constexpr bool stochastic_rounds_away_sig(u128 sig, int shift, const RoundingSpec& rs,
                                                                  uint64_t index) {
  return stochastic_rounds_away(sig, shift, rs, index);
}
FPSIM_NOINLINE FPSIM_HD constexpr bool stochastic_rounds_away_sig(uint64_t sig, int shift, const RoundingSpec& rs,
                                                                  uint64_t index) {
  return stochastic_rounds_away(u128{sig} << 64, shift + 64, rs, index);
}

// (-1)^negative * (sig + sticky tail) * 2^(e - top), sig's leading bit at
// top = sig_width - 1 (set), rounded into the float format f.
template <class Sig>
FPSIM_HD constexpr uint64_t round_finite_to_float(bool negative, int32_t e, Sig sig, bool sticky, const Format& f,
                                                  const RoundingSpec& rs, Flags& fl, uint64_t index) {
  constexpr int top = sig_width<Sig>() - 1;
  if (!f.has_sign && negative) {  // the format first: the sign is random, the format is not
    fl.raise(Flags::invalid);
    if (!f.is_scale()) return f.nan_code(false);  // ue4m3: negative -> NaN
    negative = false;                             // e8m0: read by magnitude
  }
  const int man = f.man_bits;
  const int emin = f.emin();
  const int quantum = (e > emin ? e : emin) - man;
  const int shift = quantum - e + top;
  const Discarded d = classify_discarded(sig, shift, sticky);
  Sig kept = kept_bits(sig, shift);
  const bool drawn_away =
      rs.rounding == Rounding::sr && !d.exact() && stochastic_rounds_away_sig(sig, shift, rs, index);
  // Rounding away may carry into a new binade (kept becomes 2^(man+1)).
  // The carry needs no normalising step: a float's code below adds kept to
  // the exponent field shifted by man, where 2^(man+1) at quantum q is the
  // same code as 2^man at q + 1; e8m0's code counts the carry itself.
  kept += Sig{rounds_away(rs.rounding, negative, d, code_is_odd(f, kept, quantum), drawn_away)};

  // Tininess (docs/formats.md §6): before rounding, or after rounding to
  // precision M+1 with unbounded exponent, in the same mode (for sr: in the
  // direction drawn).
  bool tiny = e < emin;
  if (tiny && rs.tininess == Tininess::after && e == emin - 1) {
    const int shift_unbounded = top - man;
    const Discarded du = classify_discarded(sig, shift_unbounded, sticky);
    const Sig kept_unbounded = sig >> shift_unbounded;
    const bool away = rounds_away(rs.rounding, negative, du, code_is_odd(f, kept_unbounded, e - man), drawn_away);
    tiny = !(away && kept_unbounded == (Sig{1} << (man + 1)) - 1);
  }
  // ftz replaces a tiny result that would otherwise be a non-zero subnormal.
  if (tiny && rs.ftz && f.has_zero() && kept != 0) {
    fl.raise(Flags::underflow | Flags::inexact | Flags::flushed);
    return f.zero_code(negative);
  }
  if (tiny) {
    if (!d.exact()) fl.raise(Flags::inexact | Flags::underflow);
  } else {
    // A product, not a choice: GCC made the choice a branch on the round
    // bit and another on the bits below it (half of them mispredicted),
    // which halved an fp16 add's speed.
    fl.raise(uint32_t{!d.exact()} * Flags::inexact);
  }
  if (kept == 0) return f.has_zero() ? f.zero_code(negative) : 0;  // e8m0 has no zero: its least code

  // Far beyond the top binade: overflow before the code arithmetic could wrap.
  // (At the limit itself a carry still gives a code above max_code: below.)
  if (int64_t{quantum} + man - emin > int64_t(f.exp_field_max()) + 1) return overflow_result(f, rs, negative, fl);
  // The code of kept * 2^quantum: for a float the exponent field counts from
  // emin with the hidden bit of kept adding its 1 (a subnormal's kept has
  // none), so a carried kept = 2^(man+1) lands on the next binade's code.
  const uint64_t magnitude_code = f.is_scale() ? uint64_t(quantum + int(kept >> 1) - emin)  // M = 0: kept is 1 or 2
                                               : (uint64_t(quantum + man - emin) << man) + uint64_t(kept);
  if (magnitude_code > f.max_code()) return overflow_result(f, rs, negative, fl);
  return signed_code(f, negative, magnitude_code);
}

FPSIM_HD constexpr uint64_t round_finite_to_float(const Unpacked& x, const Format& f, const RoundingSpec& rs,
                                                  Flags& fl, uint64_t index) {
  return round_finite_to_float(x.sign, x.exp, x.sig, x.sticky, f, rs, fl, index);
}

}  // namespace detail

// Rounds an exact value into format f. `index` is the element's linear index,
// which selects its random bits for stochastic rounding (philox.hpp).
FPSIM_HD constexpr uint64_t round(const Unpacked& x, const Format& f, const RoundingSpec& rs, Flags& fl,
                                  uint64_t index = 0) {
  if (f.is_integer()) {
    switch (x.cls) {
      case ValueClass::signaling_nan:
      case ValueClass::quiet_nan:
        fl.raise(Flags::invalid);
        return 0;
      case ValueClass::inf:
        fl.raise(Flags::invalid | Flags::saturated);
        return x.sign ? f.sign_mask() : f.magnitude_mask();
      case ValueClass::zero:
        return 0;
      case ValueClass::finite:
        break;
    }
    return detail::round_finite_to_integer(x, f, rs, fl, index);
  }
  switch (x.cls) {
    case ValueClass::signaling_nan:
      fl.raise(Flags::invalid);
      [[fallthrough]];
    case ValueClass::quiet_nan:
      if (f.has_nan()) return f.nan_code(x.sign);
      // No NaN encoding: +max with the sign dropped, as CUDA 13.0's
      // cuda_fp4.hpp / cuda_fp6.hpp do (docs/formats.md §4).
      fl.raise(Flags::invalid);
      return f.max_code();
    case ValueClass::inf: {
      bool negative = x.sign;
      if (negative && !f.has_sign) {
        fl.raise(Flags::invalid);
        if (!f.is_scale()) return f.nan_code(false);
        negative = false;
      }
      if (rs.overflow == Overflow::saturate) {
        fl.raise(Flags::saturated);
        return detail::signed_code(f, negative, f.max_code());
      }
      if (f.has_inf()) return f.inf_code(negative);
      fl.raise(Flags::invalid);
      if (f.has_nan()) return f.nan_code(negative);
      fl.raise(Flags::saturated);
      return detail::signed_code(f, negative, f.max_code());
    }
    case ValueClass::zero:
      if (!f.has_zero()) {
        fl.raise(Flags::inexact | Flags::underflow);
        return 0;
      }
      return f.zero_code(x.sign);
    case ValueClass::finite:
      break;
  }
  return detail::round_finite_to_float(x, f, rs, fl, index);
}

}  // namespace fpsim
