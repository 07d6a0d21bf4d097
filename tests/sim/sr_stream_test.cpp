// The stochastic-rounding stream (docs/conversion-semantics.md, "sr": one
// Philox4x32-10 block per group of four elements, continuation blocks per
// element) against the reference's own transcription (reference/src/
// sr_stream.cpp: the stream rebuilt from ref_philox4x32_10 and U compared
// with f as an MPFR interval). Inputs are biased to the boundaries where the
// decision needs every bit: f's top 32 bits equal to, one above or one below
// the element's first word, then agreeing with its continuation block too;
// for sr<R>, t at 2^R - r and one below. Keys include indices above 2^32
// (the counter's high word) and every position in a group.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/philox.hpp"
#include "fpsim/round.hpp"
#include "fpsim_ref/quantize.hpp"
#include "fpsim_ref/reference.hpp"
#include "test_random.hpp"

namespace fpsim {
namespace {

using test::mix64;

struct Key {
  uint32_t seed, stream, step;
  uint64_t index;
  fpsim_ref::RefSrKey ref() const { return {seed, stream, step, index}; }
  RoundingSpec spec(int sr_bits) const {
    RoundingSpec rs;
    rs.rounding = Rounding::sr;
    rs.sr_bits = uint8_t(sr_bits);
    rs.seed = seed;
    rs.stream = stream;
    rs.step = step;
    return rs;
  }
};

// Keys spread over small and huge indices (all four positions in a group).
Key key_of(uint64_t n) {
  const uint64_t h = mix64(n);
  uint64_t index = mix64(h) % 4096;
  if (n % 3 == 1) index = (uint64_t{1} << 32) - 2 + (n % 8);  // across the counter's high word
  if (n % 3 == 2) index = mix64(h ^ 1);
  return {uint32_t(h), uint32_t(h >> 32), uint32_t(n % 5 == 0 ? 0 : mix64(h ^ 2)), index};
}

// Exponents from just below the smallest normal to just above the largest.
uint64_t exp_field_max_of(const Format& f) { return f.exp_field_max(); }

// The reference's view of the stream, for building boundary inputs.
uint32_t ref_first_word(const Key& k) {
  const uint64_t g = k.index / 4;
  return fpsim_ref::ref_philox4x32_10({uint32_t(g), uint32_t(g >> 32), k.step, 0}, {k.seed, k.stream})[k.index % 4];
}
std::array<uint32_t, 4> ref_continuation(const Key& k, uint32_t j) {
  return fpsim_ref::ref_philox4x32_10({uint32_t(k.index), uint32_t(k.index >> 32), k.step, j}, {k.seed, k.stream});
}

// f = (sig mod 2^shift) / 2^shift as 32-bit words, most significant first,
// bit by bit (no shortcut shared with the code under test).
std::vector<uint32_t> fraction_words(u128 sig, int shift) {
  std::vector<uint32_t> words(size_t((shift + 31) / 32), 0);
  for (int b = 1; b <= shift; ++b) {  // fraction bit b has weight 2^-b: sig bit shift - b
    const int pos = shift - b;
    if (pos < 128 && ((sig >> pos) & 1) != 0) words[size_t((b - 1) / 32)] |= 1u << (31 - (b - 1) % 32);
  }
  return words;
}

std::string describe(u128 sig, int shift, int sr_bits, const Key& k) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "sig %016llx%016llx shift %d sr_bits %d seed %u stream %u step %u index %llu",
                (unsigned long long)(sig >> 64), (unsigned long long)sig, shift, sr_bits, k.seed, k.stream, k.step,
                (unsigned long long)k.index);
  return buf;
}

void expect_same_decision(u128 sig, int shift, int sr_bits, const Key& k, int& aways, int& total) {
  const bool got = detail::stochastic_rounds_away(sig, shift, k.spec(sr_bits), k.index);
  const bool want = fpsim_ref::ref_sr_rounds_away(fraction_words(sig, shift), sr_bits, k.ref());
  ASSERT_EQ(got, want) << describe(sig, shift, sr_bits, k);
  aways += want;
  ++total;
}

TEST(SrStream, FirstWordAndContinuationBlocksFollowTheDocumentedCounters) {
  for (uint64_t n = 0; n < 3000; ++n) {
    const Key k = key_of(n);
    ASSERT_EQ(sr_first_word(k.index, k.step, k.seed, k.stream), ref_first_word(k)) << n;
    for (uint32_t j = 1; j <= 2; ++j) {
      const PhiloxBlock b = sr_continuation_block(k.index, j, k.step, k.seed, k.stream);
      const auto want = ref_continuation(k, j);
      for (int w = 0; w < 4; ++w) ASSERT_EQ(b.w[w], want[size_t(w)]) << n << " j " << j;
    }
  }
  // Four consecutive elements share one block: their words are its w0..w3.
  const PhiloxBlock g = sr_group_block(5, 7, 11, 13);
  for (uint64_t i = 20; i < 24; ++i) EXPECT_EQ(sr_first_word(i, 7, 11, 13), g.w[i - 20]);
}

// Exact sr: f's leading bits built from U's own bits (w, then C_1), so the
// comparison must reach the continuation block, then perturbed by one unit
// in the last place or in a random place.
TEST(SrStream, ExactDecisionMatchesReferenceWhereFAgreesWithTheDraw) {
  int aways = 0, total = 0, deep = 0;
  for (uint64_t n = 0; n < 6000; ++n) {
    const Key k = key_of(n + 100000);
    const uint32_t w = ref_first_word(k);
    if (w == 0) continue;
    const auto c = ref_continuation(k, 1);
    const u128 c1 = (u128(c[3]) << 96) | (u128(c[2]) << 64) | (u128(c[1]) << 32) | c[0];
    const uint64_t h = mix64(n ^ 0x5eed);
    const int variant = int(h % 6);
    // (a) f spans all of sig: its leading 1 is w's, f = U's bits p .. p + 127.
    const int p = std::countl_zero(w) + 1;
    const int skip = p - 1;  // U's leading zeros
    u128 sig = (u128(w) << (96 + skip)) | (c1 >> (32 - skip));
    int shift = p + 127;
    // (b) kept bits above f: f = U's top `len` bits, len <= 127.
    if (n % 2 == 1) {
      const int len = 1 + int((h >> 8) % 127);
      const u128 prefix = len <= 32 ? u128(w >> (32 - len)) : (u128(w) << (len - 32)) | (c1 >> (128 - (len - 32)));
      const u128 kept = (u128(mix64(h)) << 64 | mix64(h + 1)) | (u128{1} << 127);
      const u128 kept_mask = len == 0 ? ~u128{0} : ~((u128{1} << len) - 1);
      sig = (kept & kept_mask) | prefix;
      shift = len;
    }
    switch (variant) {
      case 0:
        break;  // f = U's prefix: U >= f
      case 1:
        sig += 1;
        break;  // one unit above
      case 2:
        sig -= 1;
        break;  // one unit below
      case 3:
        sig ^= u128{1} << (h >> 16) % std::min(shift, 127);
        break;  // a random bit of f flipped
      case 4:
        sig ^= u128{1} << std::max(0, std::min(shift, 127) - 32);
        break;  // the word's last bit
      default:
        break;
    }
    if ((sig >> 127) == 0) continue;                               // the core's significands are normalized
    if (shift > 32 && fraction_words(sig, shift)[0] == w) ++deep;  // decided past the first word
    expect_same_decision(sig, shift, 0, k, aways, total);
  }
  // Leading zero fractions (shift > 128): f below 2^-32, decided by w alone
  // unless w is 0.
  for (uint64_t n = 0; n < 2000; ++n) {
    const Key k = key_of(n + 200000);
    const uint64_t h = mix64(n ^ 0xabc);
    const u128 sig = (u128(h | (uint64_t{1} << 63)) << 64) | mix64(h);
    expect_same_decision(sig, 129 + int(h % 300), 0, k, aways, total);
  }
  EXPECT_GT(deep, 500);
  EXPECT_GT(aways, total / 10);
  EXPECT_LT(aways, total - total / 10);
}

// sr<R>: t = floor(f 2^R) at the threshold 2^R - r (rounds away) and one
// below (does not), r from the first word (R <= 32) or continuation block 1.
TEST(SrStream, RBitDecisionMatchesReferenceAtTheThreshold) {
  int aways = 0, total = 0;
  for (int r_bits = 1; r_bits <= 64; ++r_bits) {
    for (uint64_t n = 0; n < 60; ++n) {
      const Key k = key_of(uint64_t(r_bits) * 1000 + n);
      uint64_t r = 0;
      if (r_bits <= 32) {
        r = ref_first_word(k);
      } else {
        const auto c = ref_continuation(k, 1);
        r = (uint64_t(c[1]) << 32) | c[0];
      }
      const u128 one_r = u128{1} << r_bits;
      r = uint64_t(u128(r) & (one_r - 1));
      const uint64_t h = mix64(n * 977 + uint64_t(r_bits));
      u128 t = one_r - r - (n % 2);  // n odd: one below the threshold
      if (t >= one_r) t = one_r - 1;
      const int tail = 1 + int(h % std::min<uint64_t>(62, uint64_t(126 - r_bits)));
      const u128 tail_bits = (u128(mix64(h)) << 64 | mix64(h + 7)) & ((u128{1} << tail) - 1);
      const int shift = r_bits + tail;
      const u128 kept = (u128{1} << 127) & ~((u128{1} << shift) - 1);
      const u128 sig = kept | (t << tail) | tail_bits;
      expect_same_decision(sig, shift, r_bits, k, aways, total);
    }
  }
  EXPECT_GT(aways, total / 4);
  EXPECT_LT(aways, total - total / 4);
}

// Whole conversions: double -> every SR-capable float format through
// from_double against the reference's drawn candidate (code and flags),
// with f's top bits set to the element's first word.
TEST(SrStream, ConversionsMatchReferenceOnBoundaryInputs) {
  const char* names[] = {"bf16", "fp16", "e4m3", "e5m2", "e2m1", "e3m2", "tf32", "fp32", "e8m0", "int8"};
  const int sr_choices[] = {0, 0, 1, 8, 13, 16, 23, 32, 33, 48, 64};
  int checked = 0, differ = 0;
  for (const char* name : names) {
    const Format f = parse_format(name);
    const auto& rf = fpsim_ref::ref_format(name);
    for (uint64_t n = 0; n < 1500; ++n) {
      const Key k = key_of(n * 31 + 7);
      const uint64_t h = mix64(n ^ 0xfeed);
      const int sr_bits = sr_choices[h % 11];
      const uint32_t w = ref_first_word(k);
      // x = (K + f) * 2^e with K a random (M+1)-bit significand and f's
      // top bits the first word (or random); e from the format's range down
      // into its subnormals.
      const int man = f.is_integer() ? 0 : f.man_bits;
      const int d = 52 - man;  // discarded bits of a normal result
      const uint64_t big_k = (uint64_t{1} << man) | (mix64(h) & ((uint64_t{1} << man) - 1));
      uint64_t frac = mix64(h + 3) & ((uint64_t{1} << d) - 1);
      if (h % 4 != 0) {
        const uint64_t top = d >= 32 ? uint64_t(w) << (d - 32) : uint64_t(w) >> (32 - d);
        frac = top | (frac & ((d >= 32 ? uint64_t{1} << (d - 32) : 1) - 1));
        if (h % 4 == 2) frac += 1;
        if (h % 4 == 3 && frac > 0) frac -= 1;
      }
      const double sig = std::ldexp(double(big_k), d) + double(frac);  // exact: < 2^53
      int exponent = f.is_integer() ? int((h >> 20) % 8) : f.emin() - 3 + int((h >> 20) % (exp_field_max_of(f) + 5));
      const double x = std::ldexp(sig, exponent - man - d) * ((h >> 40) & 1 ? -1.0 : 1.0);
      RoundingSpec rs = k.spec(sr_bits);
      rs.overflow = (h >> 41) & 1 ? Overflow::saturate : Overflow::ieee;
      fpsim_ref::RefSpec ref_spec;
      ref_spec.saturate = rs.overflow == Overflow::saturate;
      Flags fl;
      const uint64_t got = from_double(x, f, rs, fl, k.index);
      const auto want = fpsim_ref::ref_stochastic_drawn_double(x, rf, ref_spec, sr_bits, k.ref());
      ASSERT_EQ(got, want.drawn.code) << name << " x " << x << " sr_bits " << sr_bits << " index " << k.index;
      ASSERT_EQ(fl.bits, want.drawn.flags) << name << " x " << x;
      ++checked;
      differ += !(want.toward_zero == want.away);
    }
  }
  EXPECT_GT(differ, checked / 2);  // most cases had two candidates to choose from
}

// Arithmetic results (exact sums, products, fma; div and sqrt with their
// extra bits) rounded with the stream, against the reference's draw.
TEST(SrStream, ArithmeticMatchesReference) {
  const char* names[] = {"fp16", "bf16", "fp32", "e4m3"};
  const int sr_choices[] = {0, 0, 8, 16, 40};
  int checked = 0;
  for (const char* name : names) {
    const Format f = parse_format(name);
    const auto& rf = fpsim_ref::ref_format(name);
    for (int op = 0; op < 6; ++op) {
      for (uint64_t n = 0; n < 400; ++n) {
        const uint64_t h = mix64(n * 6 + uint64_t(op) + 0x1234);
        const Key k = key_of(h);
        const int sr_bits = sr_choices[h % 5];
        uint64_t v[3];
        for (int j = 0; j < 3; ++j) {
          uint64_t c = mix64(h + uint64_t(j)) & (f.code_count() - 1);
          while (f.is_nan_code(c) || f.is_inf_code(c)) c = (c * 7 + 1) & (f.code_count() - 1);
          v[j] = c;
        }
        if (ArithOp(op) == ArithOp::sqrt) v[0] &= f.magnitude_mask();
        Flags fl;
        const uint64_t got = arith(ArithOp(op), v[0], v[1], v[2], f, f, k.spec(sr_bits), fl, k.index);
        const fpsim_ref::RefOperand ops[3] = {{v[0], &rf}, {v[1], &rf}, {v[2], &rf}};
        const auto want = fpsim_ref::ref_arith_stochastic_drawn(
            fpsim_ref::RefOp(op), std::span(ops, size_t(arity(ArithOp(op)))), rf, {}, sr_bits, k.ref());
        ASSERT_EQ(got, want.drawn.code) << name << " op " << op << " n " << n;
        ASSERT_EQ(fl.bits, want.drawn.flags) << name << " op " << op << " n " << n;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 4 * 6 * 400);
}

}  // namespace
}  // namespace fpsim
