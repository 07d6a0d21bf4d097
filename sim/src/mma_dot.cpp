// The MMA model's definition (docs/mma.md, "The definition, step by step"):
// mma_dot and mma_block_fma follow docs/mma.md, "The block-FMA model" line by line
// with 128-bit integers; the FP32 accumulation kinds through the core's
// arithmetic; INT8 (§3). The fast paths (mma_gemm.cpp, sim/bulk's
// mma_gemm_bulk.cpp) are tested element by element against these.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/round.hpp"
#include "fpsim/unpacked.hpp"
#include "mma_internal.hpp"

namespace fpsim {
namespace mma_internal {

// --- operand decoding ------------------------------------------------------

// True when x (finite) is a value of format f.
bool is_value_of(float x, const Format& f) {
  if (!std::isfinite(x)) return true;
  if (is_binary32(f)) return true;
  Flags ignored;
  RoundingSpec rz;
  rz.rounding = Rounding::rtz;
  rz.overflow = Overflow::saturate;
  const uint64_t code = from_float(x, f, rz, ignored);
  return to_double(code, f) == double(x);
}

Operand decode(float x, const Format& f, bool subnormal_inputs) {
  Operand o;
  if (x == 0.0f) return o;
  const Unpacked u = unpack(std::bit_cast<uint32_t>(x), formats::fp32);
  o.sign = u.sign;
  const int emin = f.emin();
  if (u.exp < emin && !subnormal_inputs) return o;  // daz: reads as zero
  o.exp = std::max(u.exp, emin);
  // sig = |x| / 2^(exp - man_bits): the top bits of u.sig, exact because x
  // is a value of f.
  const int shift = 127 - f.man_bits + (o.exp - u.exp);
  o.sig = shift >= 128 ? 0 : uint32_t(u.sig >> shift);
  return o;
}

// C through its FP32 encoding: Ec = max(floor_log2|c|, -126), 23 fraction
// bits (docs/mma.md, "The block-FMA model").
Operand decode_c(float c) { return decode(c, formats::fp32, true); }

static void check_inputs(const MmaModel& m, std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) {
    std::ostringstream msg;
    msg << "mma: a has " << a.size() << " elements but b has " << b.size();
    throw OptionError(msg.str());
  }
  for (size_t k = 0; k < a.size(); ++k) {
    for (int which = 0; which < 2; ++which) {
      const float x = which ? b[k] : a[k];
      const Format& f = which ? m.input_b : m.input_a;
      if (!is_value_of(x, f)) {
        std::ostringstream msg;
        msg.precision(9);
        msg << "mma: " << (which ? "b[" : "a[") << k << "] = " << x << " is not a value of " << f.name
            << " (round inputs to the model's input format first)";
        throw OptionError(msg.str());
      }
    }
  }
}

// --- special values (docs/mma.md, "The block-FMA model") ----------------------------------------

// Resolves NaN / inf over the products and c; returns true with the result
// when any is present.
static bool resolve_specials(std::span<const float> a, std::span<const float> b, float c, float& out) {
  bool nan = std::isnan(c), pos_inf = c == std::numeric_limits<float>::infinity(),
       neg_inf = c == -std::numeric_limits<float>::infinity();
  for (size_t k = 0; k < a.size(); ++k) {
    const float x = a[k], y = b[k];
    if (std::isfinite(x) && std::isfinite(y)) continue;
    if (std::isnan(x) || std::isnan(y) || x == 0.0f || y == 0.0f) {  // 0·inf is NaN
      nan = true;
      continue;
    }
    (std::signbit(x) != std::signbit(y) ? neg_inf : pos_inf) = true;
  }
  if (nan || (pos_inf && neg_inf)) {
    out = kCanonicalNan;
    return true;
  }
  if (pos_inf || neg_inf) {
    out = pos_inf ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
    return true;
  }
  return false;
}

// --- the final step ----------------------------------------------------------

// The format the block result is rounded into: the output's exponent range
// with acc_frac_bits fraction bits (e8m13 for Hopper FP8, docs/mma.md, "The block-FMA model").
Format accumulator_format(const MmaModel& m) {
  Format f = m.output;
  f.man_bits = uint8_t(m.acc_frac_bits);
  f.bits = uint8_t(1 + f.exp_bits + f.man_bits);
  f.container_shift = 0;
  std::snprintf(f.name, sizeof f.name, "e%dm%d", int(f.exp_bits), int(f.man_bits));
  return f;
}

// The largest exponent of a finite output value (127 fp32, 15 fp16).
int output_emax(const MmaModel& m) { return int(m.output.exp_field_max()) - 1 - m.output.bias; }

static RoundingSpec final_spec(const MmaModel& m) {
  RoundingSpec rs;
  rs.rounding = m.final_rounding;
  rs.overflow = Overflow::ieee;
  rs.ftz = !m.subnormal_outputs;
  return rs;
}

// (-1)^negative * magnitude * 2^scale_exp into the output, through the one
// rounding core.
float round_block_sum(const MmaModel& m, const Format& acc, bool negative, u128 magnitude, int scale_exp) {
  if (magnitude == 0) return 0.0f;  // +0 (docs/mma.md, "The block-FMA model"; Q6)
  const Unpacked u = unpacked_from_integer(negative, magnitude, scale_exp);
  if (m.overflow_to_inf && u.exp > output_emax(m))  // |sum| >= 2^(emax+1): inf even under RZ (Q5)
    return negative ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  Flags ignored;
  const uint64_t code = round(u, acc, final_spec(m), ignored);
  const uint64_t wide = convert(code, acc, formats::fp32, RoundingSpec{}, ignored);
  return std::bit_cast<float>(uint32_t(wide));
}

// Aligned magnitude of a term with significand m at distance `shift` below
// the block's alignment point: m * 2^shift truncated (or rne) to an integer.
static u128 align_term(u128 m, int shift, AlignRounding rounding) {
  if (shift >= 0) return m << shift;
  const int sh = -shift;
  if (sh >= 127) return (rounding == AlignRounding::rne && sh == 127 && m > (u128{1} << 126)) ? 1 : 0;
  const u128 q = m >> sh;
  if (rounding == AlignRounding::truncate) return q;
  const u128 rem = m - (q << sh);
  const u128 half = u128{1} << (sh - 1);
  return (rem > half || (rem == half && (q & 1))) ? q + 1 : q;
}

// The block FMA of docs/mma.md, "The block-FMA model" on finite inputs, with 128-bit sums.
static float block_fma_finite(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b,
                              float c) {
  struct Term {
    bool sign;
    int exp;
    u128 sig;  // in units of 2^(exp - 23 - frac)
  };
  Term terms[kMaxBlockSize + 1];  // a block's products and C (validate_mma_model bounds block_size)
  int count = 0;
  const int frac = m.input_a.man_bits + m.input_b.man_bits;  // product fraction bits
  for (size_t k = 0; k < a.size(); ++k) {
    const Operand x = decode(a[k], m.input_a, m.subnormal_inputs);
    const Operand y = decode(b[k], m.input_b, m.subnormal_inputs);
    if (x.sig == 0 || y.sig == 0) continue;
    terms[count++] = {x.sign != y.sign, x.exp + y.exp, u128(uint64_t(x.sig) * y.sig) << (23 - frac)};
  }
  const Operand z = decode_c(c);
  if (z.sig != 0) terms[count++] = {z.sign, z.exp, u128(z.sig)};
  if (count == 0) return 0.0f;
  int emax = m.min_exp;
  for (int t = 0; t < count; ++t) emax = std::max(emax, terms[t].exp);
  i128 sum = 0;
  for (int t = 0; t < count; ++t) {
    const u128 v = align_term(terms[t].sig, m.extra_bits - (emax - terms[t].exp), m.align_rounding);
    sum += terms[t].sign ? -i128(v) : i128(v);
  }
  const bool negative = sum < 0;
  return round_block_sum(m, acc, negative, u128(negative ? -sum : sum), emax - 23 - m.extra_bits);
}

static float block_fma(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b,
                       float c) {
  float special = 0;
  if (resolve_specials(a, b, c, special)) return special;
  return block_fma_finite(m, acc, a, b, c);
}

// FP16 output: C is first rounded to FP16 with RNE (docs/mma.md, "The block-FMA model").
float c_in_output(const MmaModel& m, float c) {
  if (is_binary32(m.output)) return c;
  Flags ignored;
  const uint64_t code = from_float(c, m.output, RoundingSpec{}, ignored);
  return float(to_double(code, m.output));
}

// A chain of blocks along K starting from d (docs/mma.md, "The definition, step by step").
static float block_chain(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b,
                         float d) {
  const size_t n = size_t(m.block_size);
  for (size_t k0 = 0; k0 < a.size(); k0 += n) {
    const size_t len = std::min(n, a.size() - k0);
    d = block_fma(m, acc, a.subspan(k0, len), b.subspan(k0, len), d);
  }
  return d;
}

// --- FP32 accumulation models, through the core's arithmetic -----------------

static uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }
static float from_bits(uint64_t v) { return std::bit_cast<float>(uint32_t(v)); }

// FP32 RNE steps through the core. `rs` carries DAZ / FTZ for the fp32_*
// kinds (subnormal_inputs / subnormal_outputs false); the promotion add uses
// the default spec.
float add32(float x, float y, const RoundingSpec& rs) {
  Flags ignored;
  return from_bits(add(bits(x), bits(y), formats::fp32, rs, ignored));
}
static float mul32(float x, float y, const RoundingSpec& rs) {
  Flags ignored;
  return from_bits(mul(bits(x), bits(y), formats::fp32, rs, ignored));
}
static float fma32(float x, float y, float z, const RoundingSpec& rs) {
  Flags ignored;
  return from_bits(fma(bits(x), bits(y), bits(z), formats::fp32, rs, ignored));
}

static float pairwise_sum(std::span<const float> p, const RoundingSpec& rs) {
  if (p.size() == 1) return p[0];
  const size_t half = (p.size() + 1) / 2;
  return add32(pairwise_sum(p.first(half), rs), pairwise_sum(p.subspan(half), rs), rs);
}

static float fp32_dot(const MmaModel& m, std::span<const float> a, std::span<const float> b, float c) {
  RoundingSpec rs;
  rs.daz = !m.subnormal_inputs;
  rs.ftz = !m.subnormal_outputs;
  switch (m.kind) {
    case MmaKind::fp32_sequential: {
      float d = c;
      for (size_t k = 0; k < a.size(); ++k) d = add32(d, mul32(a[k], b[k], rs), rs);
      return d;
    }
    case MmaKind::fp32_fma_sequential: {
      float d = c;
      for (size_t k = 0; k < a.size(); ++k) d = fma32(a[k], b[k], d, rs);
      return d;
    }
    case MmaKind::fp32_pairwise: {
      if (a.empty()) return c;
      std::vector<float> p(a.size());
      for (size_t k = 0; k < a.size(); ++k) p[k] = mul32(a[k], b[k], rs);
      return add32(c, pairwise_sum(p, rs), rs);
    }
    case MmaKind::fp32_fma_blocked: {
      float d = c;
      const size_t n = size_t(m.block_size), chains = size_t(m.chains);
      float chain[kMaxChains];  // validate_mma_model bounds chains
      for (size_t k0 = 0; k0 < a.size(); k0 += n) {
        std::fill(chain, chain + chains, 0.0f);
        for (size_t k = k0; k < std::min(a.size(), k0 + n); ++k)
          chain[(k - k0) % chains] = fma32(a[k], b[k], chain[(k - k0) % chains], rs);
        float partial = chain[0];
        for (size_t j = 1; j < chains; ++j) partial = add32(partial, chain[j], rs);
        d = add32(d, partial, rs);
      }
      return d;
    }
    case MmaKind::block_fma:
      break;
  }
  return c;
}

float dot_unchecked(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b, float c) {
  if (m.kind != MmaKind::block_fma) return fp32_dot(m, a, b, c);
  // Special inputs are resolved over the whole dot product first (docs/mma.md
  // §2), so a block that overflows to +inf cannot meet a later -inf product.
  float special = 0;
  if (resolve_specials(a, b, c, special)) return special;
  if (m.promotion_interval <= 0) return block_chain(m, acc, a, b, c_in_output(m, c));
  // Promotion (docs/mma.md, "FP8 accumulation in libraries"): each chunk of promotion_interval elements
  // is a fresh chain from 0, added into a true FP32 accumulator with RNE.
  float acc32 = c;
  const size_t chunk = size_t(m.promotion_interval);
  for (size_t k0 = 0; k0 < a.size(); k0 += chunk) {
    const size_t len = std::min(chunk, a.size() - k0);
    acc32 = add32(acc32, block_chain(m, acc, a.subspan(k0, len), b.subspan(k0, len), 0.0f));
  }
  return std::isnan(acc32) ? kCanonicalNan : acc32;  // chunks that overflowed to +inf and -inf
}

}  // namespace mma_internal

using namespace mma_internal;

float mma_block_fma(const MmaModel& m, std::span<const float> a, std::span<const float> b, float c) {
  validate_mma_model(m);
  if (m.kind != MmaKind::block_fma) throw OptionError("mma_block_fma needs a block-FMA model");
  if (a.size() > size_t(m.block_size)) throw OptionError("mma_block_fma: more products than block_size");
  check_inputs(m, a, b);
  return block_fma(m, accumulator_format(m), a, b, c);
}

float mma_dot(const MmaModel& m, std::span<const float> a, std::span<const float> b, float c) {
  validate_mma_model(m);
  check_inputs(m, a, b);
  if (!is_value_of(c, formats::fp32)) throw OptionError("mma: c is not an fp32 value");
  return dot_unchecked(m, accumulator_format(m), a, b, c);
}

// --- INT8 (docs/mma.md, "INT8 MMA") -------------------------------------------------------

int32_t mma_dot_int8(std::span<const int16_t> a, IntOperand ta, std::span<const int16_t> b, IntOperand tb, int32_t c,
                     IntOverflow overflow) {
  if (a.size() != b.size()) throw OptionError("mma_dot_int8: a and b differ in length");
  auto check = [](std::span<const int16_t> v, IntOperand t, const char* which) {
    const int lo = t == IntOperand::s8 ? -128 : 0, hi = t == IntOperand::s8 ? 127 : 255;
    for (size_t k = 0; k < v.size(); ++k)
      if (v[k] < lo || v[k] > hi) {
        std::ostringstream msg;
        msg << "mma_dot_int8: " << which << "[" << k << "] = " << v[k] << " is not a "
            << (t == IntOperand::s8 ? "s8" : "u8") << " value";
        throw OptionError(msg.str());
      }
  };
  check(a, ta, "a");
  check(b, tb, "b");
  i128 sum = c;  // exact: |products| < 2^16 each
  for (size_t k = 0; k < a.size(); ++k) sum += int64_t(a[k]) * int64_t(b[k]);
  if (overflow == IntOverflow::saturate) {
    if (sum > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
    if (sum < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
    return int32_t(sum);
  }
  return int32_t(uint32_t(uint64_t(sum)));  // modulo 2^32
}

}  // namespace fpsim
