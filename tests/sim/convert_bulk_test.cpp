// The bulk SIMD conversions against the scalar core, bit for bit: codes for
// every element, the OR of the flags per call and the flags of single
// elements, for every built-in format of <= 16 bits (plus user formats that
// stress the generic parameters), every rounding mode, both overflow
// policies, ftz/daz and both tininess rules.
#include "fpsim/bulk/convert_bulk.hpp"

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/philox.hpp"

namespace fpsim {
namespace {

std::vector<Format> test_formats() {
  std::vector<Format> out;
  for (const Format& f : builtin_formats())
    if (f.bits <= 16) out.push_back(f);
  // User formats: huge and negative biases, M = 0 fn/fnuz, the widest M,
  // subnormal quanta below f32's (exact results for f32 subnormals), values
  // beyond f32's range.
  for (const char* name : {"e5m10b100", "e8m7b200", "e3m0fn", "e4m0fnuz", "e2m13", "e6m9fn", "e11m4", "e5m2b1",
                           "e4m3b0", "e7m8fnuz"})
    out.push_back(parse_format(name));
  // Negative biases (emin far above 1) are no longer accepted by the name
  // grammar, but a Format is data and the kernel must not care.
  out.push_back(Format{"e5m2b(-100)", 8, 5, 2, -100, Specials::ieee, true, 0});
  out.push_back(Format{"e4m3fn b(-3)", 8, 4, 3, -3, Specials::fn, true, 0});
  return out;
}

const char* kModes[] = {"rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr1", "sr8", "sr16", "sr23"};

float from_bits(uint32_t b) { return std::bit_cast<float>(b); }
uint32_t to_bits(float x) { return std::bit_cast<uint32_t>(x); }

// Values that sit on the target's decision points, plus f32's own specials.
std::vector<float> boundary_values(const Format& f, std::mt19937_64& rng) {
  std::vector<uint32_t> bits = {0x00000000, 0x00000001, 0x00000002, 0x00000003, 0x003FFFFF, 0x00400000, 0x00400001,
                                0x007FFFFF, 0x00800000, 0x00800001, 0x7F7FFFFF, 0x7F800000, 0x7F800001, 0x7FBFFFFF,
                                0x7FC00000, 0x7FC00001, 0x7FFFFFFF, 0x7FA00000, 0x3F800000, 0x3F800001, 0x3F7FFFFF};
  for (int i = 0; i < 16; ++i) bits.push_back(uint32_t(rng()) & 0x007FFFFF);  // subnormals
  for (uint32_t e = 1; e < 255; ++e) {                                       // powers of two and neighbours
    bits.push_back(e << 23);
    bits.push_back((e << 23) + 1);
    bits.push_back((e << 23) - 1);
  }
  std::vector<float> vals;
  for (uint32_t b : bits) vals.push_back(from_bits(b));
  auto add_around = [&](double v) {
    const float x = float(v);
    vals.push_back(x);
    vals.push_back(std::nextafter(x, std::numeric_limits<float>::infinity()));
    vals.push_back(std::nextafter(x, -std::numeric_limits<float>::infinity()));
  };
  const uint64_t max_code = f.max_code();
  const uint64_t stride = max_code > 600 ? max_code / 500 + 1 : 1;
  for (uint64_t c = 0; c <= max_code; c += (c < 64 || c + 64 > max_code) ? 1 : stride) {
    const double v = to_double(c, f);
    add_around(v);
    if (c < max_code) {
      const double next = to_double(c + 1, f);
      add_around((v + next) / 2);  // ties
    } else if (!f.is_integer()) {
      // just above max finite: the overflow tie and beyond
      const double ulp = f.is_scale() ? v : std::ldexp(1.0, std::ilogb(v) - f.man_bits);
      add_around(v + ulp / 2);
      add_around(v + ulp);
    }
  }
  const size_t n = vals.size();
  for (size_t i = 0; i < n; ++i) vals.push_back(-vals[i]);
  return vals;
}

// Random bit patterns, and random values near the target's range.
std::vector<float> random_values(const Format& f, size_t n, std::mt19937_64& rng) {
  std::vector<float> vals(n);
  const int lo = f.is_integer() ? -4 : f.emin() - f.man_bits - 4;
  const int hi = f.is_integer() ? 9 : int(std::ilogb(to_double(f.max_code(), f))) + 3;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng();
    if (i % 2 == 0) {
      vals[i] = from_bits(uint32_t(r));
    } else {
      const int e = std::clamp(lo + int((r >> 32) % uint64_t(hi - lo + 1)), -149, 127);
      const float m = 1.0f + float(uint32_t(r) & 0x7FFFFF) / float(1 << 23);
      vals[i] = std::ldexp(m, e) * ((r >> 31) & 1 ? -1.0f : 1.0f);
      // sometimes cut the mantissa short, so exact values and exact ties occur
      if ((r >> 40) % 4 == 0) vals[i] = from_bits(to_bits(vals[i]) & ~((1u << ((r >> 48) % 24)) - 1));
    }
  }
  return vals;
}

struct Case {
  Format format;
  RoundingSpec spec;
  std::string name;
};

std::string describe(const Case& c) { return c.name; }

std::vector<uint64_t> scalar_codes(const std::vector<float>& in, const Case& c, uint64_t first, uint32_t& flags_or) {
  std::vector<uint64_t> out(in.size());
  flags_or = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    Flags f;
    out[i] = from_float(in[i], c.format, c.spec, f, first + i);
    flags_or |= f.bits;
  }
  return out;
}

template <typename T>
std::vector<uint64_t> bulk_codes(const std::vector<float>& in, const Case& c, uint64_t first, Flags* flags) {
  std::vector<T> out(in.size(), T(0xAB));
  bulk::convert_from_f32(in, c.format, c.spec, std::span<T>(out), first, flags);
  return std::vector<uint64_t>(out.begin(), out.end());
}

std::vector<uint64_t> bulk_any(const std::vector<float>& in, const Case& c, uint64_t first, Flags* flags) {
  return c.format.bits <= 8 ? bulk_codes<uint8_t>(in, c, first, flags) : bulk_codes<uint16_t>(in, c, first, flags);
}

// Codes, OR of flags, and flags element by element on a prefix.
void check_case(const Case& c, const std::vector<float>& in, uint64_t first, size_t per_element_flags) {
  uint32_t want_flags = 0;
  const std::vector<uint64_t> want = scalar_codes(in, c, first, want_flags);
  Flags got_flags;
  const std::vector<uint64_t> got = bulk_any(in, c, first, &got_flags);
  for (size_t i = 0; i < in.size(); ++i) {
    if (got[i] != want[i]) {
      ADD_FAILURE() << describe(c) << ": input 0x" << std::hex << to_bits(in[i]) << " (" << in[i] << ") index 0x"
                    << first + i << ": bulk 0x" << got[i] << ", scalar 0x" << want[i];
      return;
    }
  }
  EXPECT_EQ(got_flags.bits, want_flags) << describe(c) << ": OR of flags";
  // Without flags requested the codes are the same.
  EXPECT_EQ(bulk_any(in, c, first, nullptr), want) << describe(c) << ": codes without flags";
  for (size_t i = 0; i < std::min(per_element_flags, in.size()); ++i) {
    Flags f;
    from_float(in[i], c.format, c.spec, f, first + i);
    Flags g;
    const std::vector<float> one = {in[i]};
    bulk_any(one, c, first + i, &g);
    if (g.bits != f.bits) {
      ADD_FAILURE() << describe(c) << ": flags of input 0x" << std::hex << to_bits(in[i]) << " index 0x"
                    << first + i << ": bulk 0x" << g.bits << ", scalar 0x" << f.bits;
      return;
    }
  }
}

std::vector<Case> all_cases(bool with_before) {
  std::vector<Case> cases;
  for (const Format& f : test_formats()) {
    for (const char* mode : kModes) {
      for (Overflow ovf : {Overflow::ieee, Overflow::saturate}) {
        for (int fd = 0; fd < 4; ++fd) {
          for (int tb = 0; tb < (with_before ? 2 : 1); ++tb) {
            Case c{f, RoundingSpec{}, ""};
            parse_rounding(mode, c.spec);
            c.spec.overflow = ovf;
            c.spec.ftz = fd & 1;
            c.spec.daz = fd & 2;
            c.spec.tininess = tb ? Tininess::before : Tininess::after;
            c.spec.seed = 0x9E3779B9u ^ uint32_t(cases.size());
            c.spec.stream = 7;
            c.spec.step = 3 + uint32_t(cases.size() % 5);
            c.name = std::string(f.name) + " " + mode + " " + std::string(overflow_name(ovf)) +
                     (c.spec.ftz ? " ftz" : "") + (c.spec.daz ? " daz" : "") + (tb ? " tininess-before" : "");
            cases.push_back(c);
          }
        }
      }
    }
  }
  return cases;
}

TEST(ConvertBulk, MatchesScalarEveryFormatModePolicy) {
  std::mt19937_64 rng(12345);
  for (const Case& c : all_cases(true)) {
    std::vector<float> in = boundary_values(c.format, rng);
    const std::vector<float> rnd = random_values(c.format, 3001, rng);
    in.insert(in.end(), rnd.begin(), rnd.end());
    if (in.size() % 2 == 0) in.pop_back();  // odd length: a partial last vector
    std::shuffle(in.begin(), in.end(), rng);
    // first_index above 2^32 exercises the counter's high word
    check_case(c, in, 0x123456789Aull + rng() % 1000, 200);
    if (HasFailure()) return;
  }
}

// Every pattern of Code's width through convert_to_f32 equals the scalar
// decode (patterns above an 8-bit format's width too: the bulk path reads
// them as the scalar core does). Returns the decoded floats.
template <typename Code>
std::vector<float> expect_every_code_decodes_as_scalar(const Format& f) {
  constexpr uint32_t count = uint32_t{1} << (8 * sizeof(Code));
  std::vector<Code> codes(count);
  for (uint32_t i = 0; i < count; ++i) codes[i] = Code(i);
  std::vector<float> out(count);
  bulk::convert_to_f32(codes, f, out);
  for (uint32_t i = 0; i < count; ++i) {
    Flags ignored;
    EXPECT_EQ(to_bits(out[i]), to_bits(to_float(i, f, RoundingSpec{}, ignored))) << f.name << " code 0x" << std::hex << i;
    if (testing::Test::HasFailure()) break;
  }
  return out;
}

// Every instruction set compiled in and supported by this CPU (the dispatcher
// picks only the best one; CI machines may pick another).
TEST(ConvertBulk, EveryCompiledTarget) {
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  ASSERT_FALSE(targets.empty());
  std::mt19937_64 rng(4242);
  for (int64_t target : targets) {
    hwy::SetSupportedTargetsForTest(target);
    ASSERT_EQ(std::string(bulk::simd_target_name()), hwy::TargetName(target));
    SCOPED_TRACE(hwy::TargetName(target));
    std::printf("  checking SIMD target %s\n", hwy::TargetName(target));
    for (const Case& c : all_cases(false)) {
      std::vector<float> in = boundary_values(c.format, rng);
      const std::vector<float> rnd = random_values(c.format, 301, rng);
      in.insert(in.end(), rnd.begin(), rnd.end());
      if (in.size() % 2 == 0) in.pop_back();
      std::shuffle(in.begin(), in.end(), rng);
      check_case(c, in, 0xFFFFFF00ull + rng() % 1000, 20);
      if (HasFailure()) break;
    }
    for (const Format& f : test_formats()) expect_every_code_decodes_as_scalar<uint16_t>(f);
    if (HasFailure()) break;
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(ConvertBulk, LargeRandomArrays) {
  std::mt19937_64 rng(777);
  for (const char* fname : {"bf16", "fp16", "e4m3", "e5m2", "e2m1", "e8m0", "ue4m3", "e4m3fnuz"}) {
    for (const char* mode : {"rne", "rtz", "sr", "sr16"}) {
      Case c{parse_format(fname), RoundingSpec{}, std::string(fname) + " " + mode};
      parse_rounding(mode, c.spec);
      c.spec.seed = 42;
      // the low counter word wraps inside the array
      const std::vector<float> in = random_values(c.format, (1 << 18) + 13, rng);
      check_case(c, in, 0xFFFFFFFFull - 1000, 0);
      if (HasFailure()) return;
    }
  }
}

TEST(ConvertBulk, ChunkingIndependence) {
  std::mt19937_64 rng(99);
  for (const char* fname : {"bf16", "e4m3", "e2m1", "e8m0"}) {
    for (const char* mode : {"rne", "sr", "sr8"}) {
      Case c{parse_format(fname), RoundingSpec{}, std::string(fname) + " " + mode};
      parse_rounding(mode, c.spec);
      c.spec.seed = 5;
      c.spec.stream = 6;
      std::vector<float> in = boundary_values(c.format, rng);
      const std::vector<float> rnd = random_values(c.format, 5000, rng);
      in.insert(in.end(), rnd.begin(), rnd.end());
      const uint64_t first = 1000;
      Flags whole_flags;
      const std::vector<uint64_t> whole = bulk_any(in, c, first, &whole_flags);
      for (int trial = 0; trial < 20; ++trial) {
        std::vector<uint64_t> pieces;
        Flags piece_flags;
        size_t pos = 0;
        while (pos < in.size()) {
          const size_t len = std::min(in.size() - pos, size_t(rng() % (trial < 5 ? 3 : 70)));
          const std::vector<float> part(in.begin() + long(pos), in.begin() + long(pos + len));
          const std::vector<uint64_t> got = bulk_any(part, c, first + pos, &piece_flags);
          pieces.insert(pieces.end(), got.begin(), got.end());
          pos += len;
        }
        ASSERT_EQ(pieces, whole) << c.name << " trial " << trial;
        ASSERT_EQ(piece_flags.bits, whole_flags.bits) << c.name << " trial " << trial;
      }
    }
  }
}

// Exact SR is decided by the element's first random word w (word i mod 4 of
// its group's block) unless w equals the top 32 bits of the discarded
// fraction while more of it lies below (d > 32): build such inputs on
// purpose so the scalar fallback is exercised.
TEST(ConvertBulk, ExactSrUndecidedByFirstWord) {
  const Format f = formats::e4m3;  // emin -6, M 3: quantum 2^-9 for tiny inputs
  RoundingSpec rs;
  rs.rounding = Rounding::sr;
  rs.seed = 2024;
  rs.stream = 1;
  rs.step = 0;
  std::vector<float> in;
  std::vector<uint64_t> idx;
  const uint64_t first = 0;
  for (uint64_t i = 0; idx.size() < 400 && i < 2000000; ++i) {
    const uint32_t w = sr_first_word(first + i, rs.step, rs.seed, rs.stream);
    if (w == 0 || w >= (1u << 23)) continue;
    // sig = w << k | low, normalized into [2^23, 2^24); d = 32 + k.
    const int len = std::bit_width(w);
    const int k = 24 - len;
    const uint32_t low = (i & 1) ? (1u << k) - 1 : (i & 2 ? 0 : (1u << k) >> 1);
    const uint32_t sig = (w << k) | low;
    const int d = 32 + k;
    // d = q - qi with q = -9 and qi = e - 23  =>  e = 14 - d
    const int e = 14 - d;
    const float x = std::ldexp(float(sig), e - 23);
    while (in.size() < i) in.push_back(0.5f);  // filler, at its own index
    in.push_back((i & 4) ? -x : x);
    idx.push_back(i);
  }
  ASSERT_GE(idx.size(), 50u);
  Case c{f, rs, "e4m3 sr (undecided first word)"};
  check_case(c, in, first, 0);
  // and with the same lanes in the tail
  for (size_t t = 0; t < 20; ++t) {
    const size_t i = idx[t];
    const std::vector<float> one = {in[i]};
    check_case(c, one, first + i, 1);
  }
}

TEST(ConvertBulk, ToF32EveryCode) {
  for (const Format& f : test_formats()) {
    expect_every_code_decodes_as_scalar<uint16_t>(f);
    if (f.bits <= 8) {
      const std::vector<float> o8 = expect_every_code_decodes_as_scalar<uint8_t>(f);
      std::vector<uint8_t> c8(256);
      for (uint32_t i = 0; i < 256; ++i) c8[i] = uint8_t(i);
      // odd lengths and offsets
      std::vector<float> o7(7);
      bulk::convert_to_f32(std::span<const uint8_t>(c8).subspan(101, 7), f, o7);
      for (uint32_t i = 0; i < 7; ++i) ASSERT_EQ(to_bits(o7[i]), to_bits(o8[101 + i]));
    }
  }
}

TEST(ConvertBulk, RoundTripThroughBulk) {
  // every finite code of e4m3 and bf16 survives code -> f32 -> code
  for (const Format& f : {formats::e4m3, formats::bf16, formats::e2m1, formats::e8m0}) {
    std::vector<uint16_t> codes;
    for (uint64_t c = 0; c < f.code_count(); ++c)
      if (!f.is_nan_code(c)) codes.push_back(uint16_t(c));
    std::vector<float> vals(codes.size());
    bulk::convert_to_f32(codes, f, vals);
    std::vector<uint16_t> back(codes.size());
    Flags fl;
    bulk::convert_from_f32(vals, f, RoundingSpec{}, std::span<uint16_t>(back), 0, &fl);
    EXPECT_EQ(back, codes) << f.name;
    EXPECT_EQ(fl.bits, 0u) << f.name;
  }
}

TEST(ConvertBulk, ErrorsAndEdges) {
  std::vector<float> in(10, 1.0f);
  std::vector<uint8_t> out8(9);
  std::vector<uint16_t> out16(10);
  const RoundingSpec rs;
  EXPECT_THROW(bulk::convert_from_f32(in, formats::e4m3, rs, std::span<uint8_t>(out8)), OptionError);
  std::vector<uint8_t> ok8(10);
  EXPECT_THROW(bulk::convert_from_f32(in, formats::fp16, rs, std::span<uint8_t>(ok8)), OptionError);
  EXPECT_THROW(bulk::convert_from_f32(in, formats::tf32, rs, std::span<uint16_t>(out16)), OptionError);
  EXPECT_NO_THROW(bulk::convert_from_f32(in, formats::e4m3, rs, std::span<uint16_t>(out16)));
  EXPECT_EQ(out16[0], 0x38);
  std::vector<float> fout(3);
  std::vector<uint16_t> codes(4);
  EXPECT_THROW(bulk::convert_to_f32(codes, formats::bf16, fout), OptionError);
  std::vector<uint8_t> c8(3);
  EXPECT_THROW(bulk::convert_to_f32(c8, formats::fp16, fout), OptionError);
  // empty spans are fine, flags untouched
  Flags fl;
  fl.raise(Flags::invalid);
  bulk::convert_from_f32({}, formats::e4m3, rs, std::span<uint8_t>(), 0, &fl);
  EXPECT_EQ(fl.bits, Flags::invalid);
  // flags are OR-ed into the caller's
  const std::vector<float> big = {1e6f};
  std::vector<uint8_t> o1(1);
  bulk::convert_from_f32(big, formats::e4m3, rs, std::span<uint8_t>(o1), 0, &fl);
  EXPECT_EQ(fl.bits, Flags::invalid | Flags::overflow | Flags::inexact);
  EXPECT_EQ(o1[0], 0x7F);
  EXPECT_NE(std::string(bulk::simd_target_name()), "");
}

}  // namespace
}  // namespace fpsim
