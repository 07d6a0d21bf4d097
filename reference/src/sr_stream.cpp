// The stochastic-rounding random stream (docs/conversion-semantics.md, "sr"),
// transcribed from the documentation and decided with MPFR, independently of
// sim's chunk-by-chunk comparison: U is built up in MPFR from the stream's
// blocks and compared with f as an interval [U_lo, U_lo + 2^-bits) until the
// interval lies entirely on one side of f.
#include <mpfr.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "fpsim_ref/quantize.hpp"
#include "fpsim_ref/reference.hpp"
#include "internal.hpp"

namespace fpsim_ref {
namespace detail {
namespace {

// Element i's first 32 random bits: word (i mod 4) of the block of group
// i div 4, counter (g lo, g hi, step, 0), key (seed, stream).
uint32_t first_word(const RefSrKey& k) {
  const uint64_t g = k.index / 4;
  const auto block =
      ref_philox4x32_10({static_cast<uint32_t>(g), static_cast<uint32_t>(g >> 32), k.step, 0}, {k.seed, k.stream});
  return block[k.index % 4];
}

// Element i's continuation block j >= 1: counter (i lo, i hi, step, j).
std::array<uint32_t, 4> continuation(const RefSrKey& k, uint32_t j) {
  return ref_philox4x32_10({static_cast<uint32_t>(k.index), static_cast<uint32_t>(k.index >> 32), k.step, j},
                           {k.seed, k.stream});
}

// Holds an MPFR variable for the length of one call.
struct Var {
  mpfr_t v;
  explicit Var(mpfr_prec_t p) { mpfr_init2(v, p); }
  ~Var() { mpfr_clear(v); }
  Var(const Var&) = delete;
  Var& operator=(const Var&) = delete;
};

}  // namespace

bool draw_rounds_away(mpfr_srcptr f, int sr_bits, const RefSrKey& key) {
  if (mpfr_sgn(f) <= 0) return false;  // nothing discarded
  if (sr_bits > 0) {
    // sr<R>: t = floor(f * 2^R), r = R random bits; away iff t + r >= 2^R.
    uint64_t r = 0;
    if (sr_bits <= 32) {
      r = first_word(key);
    } else {
      const auto b = continuation(key, 1);
      r = (static_cast<uint64_t>(b[1]) << 32) | b[0];
    }
    if (sr_bits < 64) r &= (uint64_t{1} << sr_bits) - 1;
    Var s(std::max<mpfr_prec_t>(mpfr_get_prec(f), 64) + 2);
    mpfr_mul_2si(s.v, f, sr_bits, MPFR_RNDN);  // exact: only the exponent changes
    mpfr_floor(s.v, s.v);                      // exact: an integer below 2^64
    static_assert(sizeof(unsigned long) >= sizeof(uint64_t));
    mpfr_add_ui(s.v, s.v, static_cast<unsigned long>(r), MPFR_RNDN);  // exact: a sum below 2^65
    return mpfr_cmp_ui_2exp(s.v, 1, sr_bits) >= 0;
  }
  // Exact: U = w 2^-32 + C_1 2^-160 + C_2 2^-288 + ...; away iff U < f.
  const mpfr_prec_t max_bits = 32 + 128 * 64;
  Var lo(max_bits), hi(max_bits), part(64);
  mpfr_set_ui_2exp(lo.v, first_word(key), -32, MPFR_RNDN);
  long bits = 32;
  for (uint32_t j = 1;; ++j) {
    if (mpfr_cmp(f, lo.v) <= 0) return false;  // U >= U_lo >= f
    mpfr_set_ui_2exp(part.v, 1, -bits, MPFR_RNDN);
    mpfr_add(hi.v, lo.v, part.v, MPFR_RNDN);  // exact at max_bits
    if (mpfr_cmp(f, hi.v) >= 0) return true;  // U < U_lo + 2^-bits <= f
    if (bits + 128 > max_bits) throw std::logic_error("sr stream: f has more bits than the reference supports");
    const auto b = continuation(key, j);  // the next 128 bits of U, w3 first
    for (int k = 0; k < 4; ++k) {
      mpfr_set_ui_2exp(part.v, b[3 - k], -(bits + 32 * (k + 1)), MPFR_RNDN);
      mpfr_add(lo.v, lo.v, part.v, MPFR_RNDN);  // exact at max_bits
    }
    bits += 128;
  }
}

}  // namespace detail

bool ref_sr_rounds_away(std::span<const uint32_t> f_words, int sr_bits, const RefSrKey& key) {
  if (sr_bits < 0 || sr_bits > 64)
    throw std::invalid_argument("sr_bits must be 0 (exact) or 1..64, got " + std::to_string(sr_bits));
  const mpfr_prec_t prec = 32 * static_cast<mpfr_prec_t>(f_words.size() + 1);
  mpfr_t f, part;
  mpfr_inits2(prec, f, part, static_cast<mpfr_ptr>(nullptr));
  mpfr_set_zero(f, 1);
  for (size_t k = 0; k < f_words.size(); ++k) {
    mpfr_set_ui_2exp(part, f_words[k], -32 * static_cast<long>(k + 1), MPFR_RNDN);
    mpfr_add(f, f, part, MPFR_RNDN);  // exact
  }
  const bool away = detail::draw_rounds_away(f, sr_bits, key);
  mpfr_clears(f, part, static_cast<mpfr_ptr>(nullptr));
  return away;
}

}  // namespace fpsim_ref
