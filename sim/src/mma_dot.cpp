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

// An exact block result (finite, non-zero) into the output, through the one rounding core.
static float round_block_value(const MmaModel& m, const Format& acc, const Unpacked& u) {
  if (m.overflow_to_inf && u.exp > output_emax(m))  // |sum| >= 2^(emax+1): inf even under RZ (Q5)
    return u.sign ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  Flags ignored;
  const uint64_t code = round(u, acc, final_spec(m), ignored);
  const uint64_t wide = convert(code, acc, formats::fp32, RoundingSpec{}, ignored);
  return std::bit_cast<float>(uint32_t(wide));
}

// (-1)^negative * magnitude * 2^scale_exp into the output, through the one
// rounding core.
float round_block_sum(const MmaModel& m, const Format& acc, bool negative, u128 magnitude, int scale_exp) {
  if (magnitude == 0) return 0.0f;  // +0 (docs/mma.md, "The block-FMA model"; Q6)
  return round_block_value(m, acc, unpacked_from_integer(negative, magnitude, scale_exp));
}

// Aligned magnitude of a term with significand m at distance `shift` below
// the block's alignment point: m * 2^shift truncated (or rne) to an integer;
// floor rounds the signed term toward -inf, so a negative term with lost bits
// grows by one unit (docs/mma.md, "AMD matrix cores").
static u128 align_term(u128 m, int shift, AlignRounding rounding, bool negative) {
  if (shift >= 0) return m << shift;
  const int sh = -shift;
  if (sh >= 127) {
    if (rounding == AlignRounding::floor) return negative && m != 0 ? 1 : 0;
    return (rounding == AlignRounding::rne && sh == 127 && m > (u128{1} << 126)) ? 1 : 0;
  }
  const u128 q = m >> sh;
  if (rounding == AlignRounding::truncate) return q;
  const u128 rem = m - (q << sh);
  if (rounding == AlignRounding::floor) return negative && rem != 0 ? q + 1 : q;
  const u128 half = u128{1} << (sh - 1);
  return (rem > half || (rem == half && (q & 1))) ? q + 1 : q;
}

// A signed sum v (units 2^lsb) aligned to a coarser unit 2^(lsb + drop), drop >= 0, by `rounding`.
static i128 align_sum(i128 v, int drop, AlignRounding rounding) {
  const bool negative = v < 0;
  const u128 mag = align_term(u128(negative ? -v : v), -drop, rounding, negative);
  return negative ? -i128(mag) : i128(mag);
}

// One term of a block: |t| = sig * 2^(exp - 23).
struct Term {
  bool sign;
  int exp;
  u128 sig;
};

// The exact sum of the terms, rounded once (exact_sum, AMD CDNA1; docs/mma.md, "AMD matrix cores"):
// a fixed-point accumulator wide enough for every term (bits 2^-300 .. 2^339: products of two FP32-range
// values reach 2^-299 and 2^257, K <= kMaxBlockSize + 1 terms add 8 bits), then the top 128 bits and a
// sticky bit go to the rounding core.
static float exact_block_sum(const MmaModel& m, const Format& acc, const Term* terms, int count) {
  constexpr int kLimbs = 10, kOffset = 300;  // bit i of the accumulator has weight 2^(i - kOffset)
  uint64_t limb[kLimbs] = {};
  for (int t = 0; t < count; ++t) {
    // sig * 2^(exp - 23): add (or subtract) sig at bit position exp - 23 + kOffset.
    const int pos = terms[t].exp - 23 + kOffset;
    uint64_t add[kLimbs] = {};
    const int word = pos / 64, bit = pos % 64;
    const u128 v = terms[t].sig;  // at most 2^26
    add[word] = uint64_t(v << bit);
    if (word + 1 < kLimbs) add[word + 1] = uint64_t((v << bit) >> 64);
    if (terms[t].sign) {  // two's complement: limb - add
      uint64_t borrow = 0;
      for (int i = 0; i < kLimbs; ++i) {
        const u128 d = u128(limb[i]) - add[i] - borrow;
        limb[i] = uint64_t(d);
        borrow = uint64_t(d >> 64) ? 1 : 0;
      }
    } else {
      uint64_t carry = 0;
      for (int i = 0; i < kLimbs; ++i) {
        const u128 s = u128(limb[i]) + add[i] + carry;
        limb[i] = uint64_t(s);
        carry = uint64_t(s >> 64);
      }
    }
  }
  const bool negative = (limb[kLimbs - 1] >> 63) != 0;
  if (negative) {  // magnitude: two's complement negation
    uint64_t carry = 1;
    for (int i = 0; i < kLimbs; ++i) {
      const u128 s = u128(~limb[i]) + carry;
      limb[i] = uint64_t(s);
      carry = uint64_t(s >> 64);
    }
  }
  int top = kLimbs - 1;
  while (top >= 0 && limb[top] == 0) --top;
  if (top < 0) return 0.0f;  // an exact zero is +0, as in the other block sums
  const int msb = top * 64 + 63 - std::countl_zero(limb[top]);  // bit index of the leading one
  // The 128 bits from msb down, and whether anything below them is non-zero.
  auto bit_at = [&](int i) -> uint64_t { return i < 0 ? 0 : (limb[i / 64] >> (i % 64)) & 1; };
  u128 sig = 0;
  for (int i = 0; i < 128; ++i) sig = (sig << 1) | bit_at(msb - i);
  bool sticky = false;
  for (int i = msb - 128; i >= 0 && !sticky; --i) sticky = bit_at(i) != 0;
  Unpacked u;
  u.sign = negative;
  u.cls = ValueClass::finite;
  u.exp = msb - kOffset;
  u.sig = sig;
  u.sticky = sticky;
  return round_block_value(m, acc, u);
}

// True when a product term lies at or beyond 2^(emax_out + 1) (product_limit).
static bool beyond_output_range(const MmaModel& m, const Term& t) {
  const int floor_log2 = t.exp - 23 + std::bit_width(uint64_t(t.sig)) - 1;
  return floor_log2 > output_emax(m);
}

// c_after_products (AMD CDNA3; docs/mma.md, "AMD matrix cores"): the products, in one group or in
// even / odd groups, each aligned to its own largest exponent and summed; the groups joined; then C.
static float staged_block_sum(const MmaModel& m, const Format& acc, const Term* terms, const bool* odd, int count,
                              const Term* c_term) {
  struct Partial {
    i128 sum = 0;  // units 2^(exp - 23 - bits)
    int exp = 0;
    int bits = 0;
    bool any = false;
  };
  auto group_sum = [&](int which) {  // which: -1 all products, 0 even k, 1 odd k
    Partial p;
    for (int t = 0; t < count; ++t)
      if (which < 0 || int(odd[t]) == which) p.exp = p.any ? std::max(p.exp, terms[t].exp) : terms[t].exp, p.any = true;
    p.bits = m.extra_bits;
    for (int t = 0; t < count && p.any; ++t) {
      if (which >= 0 && int(odd[t]) != which) continue;
      const u128 v = align_term(terms[t].sig, m.extra_bits - (p.exp - terms[t].exp), m.align_rounding, terms[t].sign);
      p.sum += terms[t].sign ? -i128(v) : i128(v);
    }
    return p;
  };
  // Joins b into a at the larger exponent; the smaller side is aligned by c_stage_rounding, with
  // `extra` more bits kept when that side is a (the products).
  auto join = [&](Partial a, Partial b, int floor_exp, int extra) {
    if (!a.any && !b.any) return a;
    const int top = std::max({a.any ? a.exp : floor_exp, b.any ? b.exp : floor_exp, floor_exp});
    Partial r;
    r.any = true;
    r.exp = top;
    const bool a_smaller = !a.any || a.exp < top;
    r.bits = a.bits + (a_smaller ? extra : 0);
    // Both in units 2^(top - 23 - r.bits): shift left by the kept bits, then align down.
    auto place = [&](const Partial& p) -> i128 {
      if (!p.any || p.sum == 0) return 0;
      int distance = top - p.exp;
      // The published CDNA3 model shifts by the distance modulo 64 (its 64-bit shifts wrap), and not
      // at all beyond 532 (docs/mma.md, "AMD matrix cores": what the oracle data decided).
      if (m.c_stage_shift_wraps && distance >= 64) distance = distance > 532 ? 0 : distance % 64;
      const int shift = distance - (r.bits - p.bits);  // >= 0 drops bits
      if (shift <= 0) return p.sum * (i128(1) << -shift);
      return align_sum(p.sum, shift, m.c_stage_rounding);
    };
    r.sum = place(a) + place(b);
    return r;
  };
  Partial products;
  if (m.odd_even_groups) {
    products = join(group_sum(0), group_sum(1), kNoClamp - 1, 0);
  } else {
    products = group_sum(-1);
  }
  Partial c;
  if (c_term) {
    c.any = true;
    c.exp = c_term->exp;
    c.bits = products.any ? products.bits : m.extra_bits;
    c.sum = i128(c_term->sig << c.bits);
    if (c_term->sign) c.sum = -c.sum;
  }
  products.bits = products.any ? products.bits : m.extra_bits;
  const Partial d = join(products, c, m.min_exp, m.c_stage_extra_bits);
  if (!d.any || d.sum == 0) return 0.0f;
  const bool negative = d.sum < 0;
  return round_block_sum(m, acc, negative, u128(negative ? -d.sum : d.sum), d.exp - 23 - d.bits);
}

// The block FMA of docs/mma.md, "The block-FMA model" on finite inputs, with 128-bit sums
// (and the AMD variants of "AMD matrix cores").
static float block_fma_finite(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b,
                              float c) {
  Term terms[kMaxBlockSize + 1];  // a block's products and C (validate_mma_model bounds block_size)
  bool odd[kMaxBlockSize + 1];    // the product's k within the block is odd (odd_even_groups)
  int count = 0;
  const int frac = m.input_a.man_bits + m.input_b.man_bits;  // product fraction bits
  bool pos_beyond = false, neg_beyond = false;
  for (size_t k = 0; k < a.size(); ++k) {
    const Operand x = decode(a[k], m.input_a, m.subnormal_inputs);
    const Operand y = decode(b[k], m.input_b, m.subnormal_inputs);
    if (x.sig == 0 || y.sig == 0) continue;
    odd[count] = (k & 1) != 0;
    terms[count] = {x.sign != y.sign, x.exp + y.exp, u128(uint64_t(x.sig) * y.sig) << (23 - frac)};
    if (m.product_limit && beyond_output_range(m, terms[count])) (terms[count].sign ? neg_beyond : pos_beyond) = true;
    ++count;
  }
  if (pos_beyond && neg_beyond) return kCanonicalNan;
  if (pos_beyond || neg_beyond) return pos_beyond ? std::numeric_limits<float>::infinity()
                                                  : -std::numeric_limits<float>::infinity();
  const Operand z = decode_c(c);
  if (m.c_after_products) {
    const Term c_term{z.sign, z.exp, u128(z.sig)};
    return staged_block_sum(m, acc, terms, odd, count, z.sig != 0 ? &c_term : nullptr);
  }
  if (z.sig != 0) terms[count++] = {z.sign, z.exp, u128(z.sig)};
  if (count == 0) return 0.0f;
  if (m.exact_sum) return exact_block_sum(m, acc, terms, count);
  int emax = m.min_exp;
  for (int t = 0; t < count; ++t) emax = std::max(emax, terms[t].exp);
  i128 sum = 0;
  for (int t = 0; t < count; ++t) {
    const u128 v = align_term(terms[t].sig, m.extra_bits - (emax - terms[t].exp), m.align_rounding, terms[t].sign);
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
    case MmaKind::fp32_pairwise_blocked: {
      // AMD CDNA2 (docs/mma.md, "AMD matrix cores"): inputs below the input format's normal range
      // flushed (subnormal_inputs false), RN32 products (FTZ), a balanced tree over each block of
      // block_size products (a short last block padded with +0), then d = RN32(d + tree).
      const size_t n = size_t(m.block_size);
      auto flushed = [&](float x, const Format& f) {
        return !m.subnormal_inputs && x != 0.0f && std::isfinite(x) && std::fabs(x) < std::ldexp(1.0f, f.emin())
                   ? 0.0f
                   : x;
      };
      std::vector<float> p(n);
      float d = c;
      for (size_t k0 = 0; k0 < a.size(); k0 += n) {
        for (size_t i = 0; i < n; ++i) {
          const size_t k = k0 + i;
          p[i] = k < a.size() ? mul32(flushed(a[k], m.input_a), flushed(b[k], m.input_b), rs) : 0.0f;
        }
        d = add32(d, pairwise_sum(p, rs), rs);
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
