// The format table: decoding and re-encoding every code, special-value
// classification, the spec table's properties, names and the Philox
// known-answer vectors. Expected values are literal facts from
// docs/formats.md §1 and §9.6/§9.8, never computed by the code under test.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"

namespace fpsim {
namespace {

// Every code of every format of 16 bits or fewer decodes and re-encodes to
// itself; NaNs re-encode to the default NaN of their sign (§9.6).
TEST(FormatTable, DecodeEncodeRoundTripsEveryCodeOfSmallFormats) {
  for (const Format& f : builtin_formats()) {
    if (f.bits > 16) continue;
    for (uint64_t code = 0; code < f.code_count(); ++code) {
      Flags fl;
      const uint64_t back = convert(code, f, f, RoundingSpec{}, fl);
      if (f.is_nan_code(code)) {
        EXPECT_TRUE(f.is_nan_code(back)) << f.name << " code " << code;
        EXPECT_EQ(back, f.nan_code((code & f.sign_mask()) != 0)) << f.name << " code " << code;
        EXPECT_EQ(fl.bits, f.is_signaling_nan_code(code) ? Flags::invalid : 0u) << f.name << " code " << code;
      } else {
        EXPECT_EQ(back, code) << f.name << " code " << code;
        EXPECT_EQ(fl.bits, 0u) << f.name << " code " << code;
      }
    }
  }
}

// The same round trip through the exact double value, and the value is
// strictly increasing over the positive finite codes.
TEST(FormatTable, PositiveCodesAreStrictlyIncreasingAndExactInDouble) {
  for (const Format& f : builtin_formats()) {
    if (f.bits > 16 || f.is_integer()) continue;
    double previous = -1;
    for (uint64_t code = 0; code <= f.max_code(); ++code) {
      if (f.is_nan_code(code) || f.is_inf_code(code)) continue;
      const double v = to_double(code, f);
      EXPECT_GT(v, previous) << f.name << " code " << code;
      previous = v;
      Flags fl;
      EXPECT_EQ(from_double(v, f, RoundingSpec{}, fl), code) << f.name;
      EXPECT_EQ(fl.bits, 0u);
    }
  }
}

struct TableRow {
  const char* name;
  double max_finite, min_normal, min_subnormal;
};

// docs/formats.md §1, the table, transcribed.
TEST(FormatTable, PropertiesMatchTheSpecTable) {
  const TableRow rows[] = {
      {"fp32", (2 - std::ldexp(1, -23)) * std::ldexp(1, 127), std::ldexp(1, -126), std::ldexp(1, -149)},
      {"tf32", (2 - std::ldexp(1, -10)) * std::ldexp(1, 127), std::ldexp(1, -126), std::ldexp(1, -136)},
      {"bf16", (2 - std::ldexp(1, -7)) * std::ldexp(1, 127), std::ldexp(1, -126), std::ldexp(1, -133)},
      {"fp16", 65504, std::ldexp(1, -14), std::ldexp(1, -24)},
      {"e4m3", 448, std::ldexp(1, -6), std::ldexp(1, -9)},
      {"e4m3fnuz", 240, std::ldexp(1, -7), std::ldexp(1, -10)},
      {"e5m2", 57344, std::ldexp(1, -14), std::ldexp(1, -16)},
      {"e5m2fnuz", 57344, std::ldexp(1, -15), std::ldexp(1, -17)},
      {"e3m4", 15.5, 0.25, std::ldexp(1, -6)},
      {"e2m3", 7.5, 1, 0.125},
      {"e3m2", 28, 0.25, 0.0625},
      {"e2m1", 6, 1, 0.5},
      {"e8m0", std::ldexp(1, 127), std::ldexp(1, -127), 0},
      {"ue4m3", 448, std::ldexp(1, -6), std::ldexp(1, -9)},
      {"int8", 127, 1, 0},
  };
  for (const TableRow& row : rows) {
    const FormatProperties p = describe(parse_format(row.name));
    EXPECT_EQ(p.max_finite, row.max_finite) << row.name;
    EXPECT_EQ(p.min_normal, row.min_normal) << row.name;
    EXPECT_EQ(p.min_subnormal, row.min_subnormal) << row.name;
  }
}

// §9.6 and §9.8: named codes.
TEST(FormatTable, SpecialsAreClassifiedAsTheSpecSays) {
  using namespace formats;
  EXPECT_EQ(to_double(0x01, e4m3), std::ldexp(1, -9));
  EXPECT_EQ(to_double(0x08, e4m3), std::ldexp(1, -6));
  EXPECT_EQ(to_double(0x7E, e4m3), 448);
  EXPECT_TRUE(std::signbit(to_double(0x80, e4m3)));
  EXPECT_EQ(to_double(0x80, e4m3), 0.0);
  EXPECT_TRUE(e4m3.is_nan_code(0x7F) && e4m3.is_nan_code(0xFF));
  EXPECT_FALSE(e4m3.is_nan_code(0x7E));
  EXPECT_TRUE(e4m3fnuz.is_nan_code(0x80));
  EXPECT_TRUE(e5m2fnuz.is_nan_code(0x80));
  EXPECT_TRUE(e5m2.is_inf_code(0x7C) && e5m2.is_inf_code(0xFC));
  for (uint64_t c : {0x7D, 0x7E, 0x7F}) EXPECT_TRUE(e5m2.is_nan_code(c)) << c;
  EXPECT_TRUE(e5m2.is_signaling_nan_code(0x7D));
  EXPECT_FALSE(e5m2.is_signaling_nan_code(0x7E));
  EXPECT_TRUE(e3m4.is_inf_code(0x70));
  EXPECT_TRUE(e8m0.is_nan_code(0xFF));
  EXPECT_EQ(to_double(0x7F, e8m0), 1.0);  // §9.9: code 127 decodes to 1.0
  EXPECT_EQ(to_double(0x00, e8m0), std::ldexp(1, -127));
  EXPECT_TRUE(ue4m3.is_nan_code(0x7F));
  EXPECT_FALSE(ue4m3.valid_code(0x80));
  EXPECT_EQ(to_double(0x80, int8), -128);
  EXPECT_EQ(to_double(0xFF, int8), -1);
  for (const Format& f : {e2m1, e2m3, e3m2})
    for (uint64_t c = 0; c < f.code_count(); ++c) EXPECT_FALSE(f.is_nan_code(c) || f.is_inf_code(c));
}

// Format identity: the built-in formats are pairwise different encodings,
// and a user format with fp32's fields under another name is binary32.
TEST(FormatIdentity, SameEncodingIgnoresOnlyNameAndContainer) {
  for (const Format& f : builtin_formats())
    for (const Format& g : builtin_formats()) EXPECT_EQ(f.same_encoding(g), &f == &g) << f.name << " vs " << g.name;
  const Format renamed = {"my_float", 32, 8, 23, 127, Specials::ieee, true, 7};
  EXPECT_TRUE(is_binary32(renamed));
  EXPECT_TRUE(is_binary32(parse_format("e8m23")));
  EXPECT_FALSE(is_binary32(formats::tf32));
  Format other_bias = formats::fp32;
  other_bias.bias = 126;
  EXPECT_FALSE(is_binary32(other_bias));
  Format fn = formats::fp32;
  fn.specials = Specials::fn;
  EXPECT_FALSE(is_binary32(fn));
}

TEST(FormatNames, AliasesAndCaseResolveToTheBuiltins) {
  EXPECT_STREQ(parse_format("E4M3FN").name, "e4m3");
  EXPECT_STREQ(parse_format("float8_e4m3fn").name, "e4m3");
  EXPECT_STREQ(parse_format("bfloat16").name, "bf16");
  EXPECT_STREQ(parse_format("half").name, "fp16");
  EXPECT_STREQ(parse_format("e8m10").name, "tf32");
  EXPECT_STREQ(parse_format("fp4").name, "e2m1");
  EXPECT_STREQ(parse_format("float8_e8m0fnu").name, "e8m0");
  EXPECT_STREQ(parse_format("s8").name, "int8");
  EXPECT_STREQ(parse_format("double").name, "fp64");
}

// §1.1: built-ins win; e4m3b7 is IEEE-like with max 240.
TEST(FormatNames, UserFormatsFollowTheGrammar) {
  const Format ieee_like = parse_format("e4m3b7");
  EXPECT_EQ(ieee_like.specials, Specials::ieee);
  EXPECT_EQ(describe(ieee_like).max_finite, 240);
  const Format e6m9 = parse_format("e6m9");
  EXPECT_EQ(e6m9.bias, 31);
  EXPECT_EQ(describe(e6m9).max_finite, (2 - std::ldexp(1, -9)) * std::ldexp(1, 31));
  const Format fnuz = parse_format("e5m2fnuzb20");
  EXPECT_EQ(fnuz.bias, 20);
  EXPECT_EQ(fnuz.specials, Specials::fnuz);
  EXPECT_EQ(describe(parse_format("e3m0fn")).max_finite, 8);  // codes 1..6: 2^-2..2^3; 7 is NaN
  EXPECT_EQ(describe(parse_format("e11m52")).max_finite, describe(formats::fp64).max_finite);
}

TEST(FormatNames, BadNamesAreRejectedNamingTheInput) {
  for (const char* bad : {"e4m", "x4m3", "e1m3", "e12m3", "e4m53", "e4m0", "e4m3xy", "", "e4m3b", "fp8", "e8m3b-2000"}) {
    try {
      parse_format(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(RoundingNames, ModesParseAndNearestIsRejected) {
  RoundingSpec s;
  parse_rounding("RNA", s);
  EXPECT_EQ(s.rounding, Rounding::rna);
  parse_rounding("sr8", s);
  EXPECT_EQ(s.rounding, Rounding::sr);
  EXPECT_EQ(s.sr_bits, 8);
  EXPECT_EQ(rounding_name(s), "sr8");
  parse_rounding("sr", s);
  EXPECT_EQ(s.sr_bits, 0);
  for (const char* bad : {"nearest", "sr0", "sr65", "srx", "round"}) EXPECT_THROW(parse_rounding(bad, s), OptionError) << bad;
  EXPECT_THROW(parse_overflow("clamp"), OptionError);
}

// Random123's published known-answer vectors for Philox4x32-10.
TEST(Philox, MatchesTheRandom123KnownAnswers) {
  const uint32_t zero[4] = {0, 0, 0, 0};
  const PhiloxBlock a = philox4x32_10(zero, 0, 0);
  EXPECT_EQ(a.w[0], 0x6627e8d5u);
  EXPECT_EQ(a.w[1], 0xe169c58du);
  EXPECT_EQ(a.w[2], 0xbc57ac4cu);
  EXPECT_EQ(a.w[3], 0x9b00dbd8u);
  const uint32_t ones[4] = {~0u, ~0u, ~0u, ~0u};
  const PhiloxBlock b = philox4x32_10(ones, ~0u, ~0u);
  EXPECT_EQ(b.w[0], 0x408f276du);
  EXPECT_EQ(b.w[1], 0x41c83b0eu);
  EXPECT_EQ(b.w[2], 0xa20bc7c6u);
  EXPECT_EQ(b.w[3], 0x6d5451fdu);
  const uint32_t pi[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
  const PhiloxBlock c = philox4x32_10(pi, 0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(c.w[0], 0xd16cfe09u);
  EXPECT_EQ(c.w[1], 0x94fdccebu);
  EXPECT_EQ(c.w[2], 0x5001e420u);
  EXPECT_EQ(c.w[3], 0x24126ea1u);
}

}  // namespace
}  // namespace fpsim
