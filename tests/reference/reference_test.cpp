// Pins the MPFR reference to facts it does not compute itself: the literal
// numbers of docs/formats.md (§1 table, §9 regressions), the contract
// docs/conversion-semantics.md, and Berkeley TestFloat vectors.
#include "fpsim_ref/reference.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../e4m3_top_binade.hpp"

namespace {

using fpsim_ref::ref_convert;
using fpsim_ref::ref_decode_to_double;
using fpsim_ref::ref_format;
using fpsim_ref::ref_from_decimal;
using fpsim_ref::ref_from_double;
using fpsim_ref::ref_stochastic;
using fpsim_ref::ref_stochastic_double;
using fpsim_ref::RefFormat;
using fpsim_ref::RefMode;
using fpsim_ref::RefResult;
using fpsim_ref::RefSpec;
namespace flag = fpsim_ref::flag;

double p2(int e) { return std::ldexp(1.0, e); }

RefSpec mode(RefMode m) {
  RefSpec s;
  s.mode = m;
  return s;
}
RefSpec sat(RefMode m = RefMode::rne) {
  RefSpec s;
  s.mode = m;
  s.saturate = true;
  return s;
}

RefResult cvt(double x, const char* to, RefSpec spec = {}) { return ref_from_double(x, ref_format(to), spec); }
uint64_t code(double x, const char* to, RefSpec spec = {}) { return cvt(x, to, spec).code; }

// ---------------------------------------------------------------- §1 table

struct TableRow {
  const char* name;
  int bits, E, M, bias;
  double max_finite, min_normal, min_subnormal;  // 0: none
};

// The literal numbers of docs/formats.md §1.
const TableRow kTable[] = {
    {"fp64", 64, 11, 52, 1023, std::ldexp(2 - p2(-52), 1023), p2(-1022), p2(-1074)},
    {"fp32", 32, 8, 23, 127, std::ldexp(2 - p2(-23), 127), p2(-126), p2(-149)},
    {"tf32", 19, 8, 10, 127, std::ldexp(2 - p2(-10), 127), p2(-126), p2(-136)},
    {"bf16", 16, 8, 7, 127, std::ldexp(2 - p2(-7), 127), p2(-126), p2(-133)},
    {"fp16", 16, 5, 10, 15, 65504, p2(-14), p2(-24)},
    {"e4m3", 8, 4, 3, 7, 448, p2(-6), p2(-9)},
    {"e4m3fnuz", 8, 4, 3, 8, 240, p2(-7), p2(-10)},
    {"e5m2", 8, 5, 2, 15, 57344, p2(-14), p2(-16)},
    {"e5m2fnuz", 8, 5, 2, 16, 57344, p2(-15), p2(-17)},
    {"e3m4", 8, 3, 4, 3, 15.5, p2(-2), p2(-6)},
    {"e2m3", 6, 2, 3, 1, 7.5, 1, 0.125},
    {"e3m2", 6, 3, 2, 3, 28, 0.25, 0.0625},
    {"e2m1", 4, 2, 1, 1, 6, 1, 0.5},
    {"e8m0", 8, 8, 0, 127, p2(127), p2(-127), 0},
    {"ue4m3", 8, 4, 3, 7, 448, p2(-6), p2(-9)},
};

TEST(RefFormatTable, MatchesSpecRowByRow) {
  for (const TableRow& r : kTable) {
    SCOPED_TRACE(r.name);
    const RefFormat& f = ref_format(r.name);
    EXPECT_EQ(f.name, r.name);
    EXPECT_EQ(f.bits, r.bits);
    EXPECT_EQ(f.exp_bits, r.E);
    EXPECT_EQ(f.man_bits, r.M);
    EXPECT_EQ(f.bias, r.bias);
    EXPECT_EQ(f.max_finite, r.max_finite);
    EXPECT_EQ(f.min_normal, r.min_normal);
    EXPECT_EQ(f.min_subnormal, r.min_subnormal);
    // The codes decode to the same literal numbers.
    EXPECT_EQ(ref_decode_to_double(f.max_code, f), r.max_finite);
    EXPECT_EQ(ref_decode_to_double(f.max_code + 1, f) == r.max_finite, false);
    if (r.min_subnormal != 0) {
      EXPECT_EQ(ref_decode_to_double(1, f), r.min_subnormal);
    }
  }
  const RefFormat& i8 = ref_format("int8");
  EXPECT_EQ(ref_decode_to_double(0x7F, i8), 127);
  EXPECT_EQ(ref_decode_to_double(0x80, i8), -128);
  EXPECT_EQ(ref_decode_to_double(0xFE, ref_format("e8m0")), p2(127));
  EXPECT_EQ(ref_decode_to_double(0x00, ref_format("e8m0")), p2(-127));
  EXPECT_EQ(ref_decode_to_double(127, ref_format("e8m0")), 1.0);  // §9.9
}

TEST(RefFormatTable, BuiltinNamesInTableOrder) {
  const std::vector<std::string> expected = {"fp64",     "fp32", "tf32", "bf16", "fp16", "e4m3", "e4m3fnuz", "e5m2",
                                             "e5m2fnuz", "e3m4", "e2m3", "e3m2", "e2m1", "e8m0", "ue4m3",    "int8"};
  EXPECT_EQ(fpsim_ref::ref_builtin_names(), expected);
}

TEST(RefFormatTable, AliasesAreCaseInsensitive) {
  const std::pair<const char*, const char*> aliases[] = {
      {"f64", "fp64"},
      {"float64", "fp64"},
      {"DOUBLE", "fp64"},
      {"f32", "fp32"},
      {"float32", "fp32"},
      {"Float", "fp32"},
      {"e8m10", "tf32"},
      {"bfloat16", "bf16"},
      {"e8m7", "bf16"},
      {"f16", "fp16"},
      {"half", "fp16"},
      {"float16", "fp16"},
      {"e5m10", "fp16"},
      {"e4m3fn", "e4m3"},
      {"float8_e4m3fn", "e4m3"},
      {"float8_e4m3fnuz", "e4m3fnuz"},
      {"float8_e5m2", "e5m2"},
      {"float8_e5m2fnuz", "e5m2fnuz"},
      {"float8_e3m4", "e3m4"},
      {"e2m3fn", "e2m3"},
      {"float6_e2m3fn", "e2m3"},
      {"e3m2fn", "e3m2"},
      {"float6_e3m2fn", "e3m2"},
      {"e2m1fn", "e2m1"},
      {"fp4", "e2m1"},
      {"float4_e2m1fn", "e2m1"},
      {"ue8m0", "e8m0"},
      {"e8m0fnu", "e8m0"},
      {"FLOAT8_E8M0FNU", "e8m0"},
      {"s8", "int8"},
      {"BF16", "bf16"},
  };
  for (auto [alias, name] : aliases) EXPECT_EQ(&ref_format(alias), &ref_format(name)) << alias;
}

TEST(RefFormatTable, UserFormatGrammar) {
  // §1.1: built-ins win; e4m3b7 is IEEE-like with max 240.
  const RefFormat& f = ref_format("e4m3b7");
  EXPECT_EQ(f.specials, RefFormat::Specials::ieee);
  EXPECT_EQ(f.max_finite, 240);
  EXPECT_EQ(ref_format("e4m3fnuz").max_finite, 240);
  const RefFormat& g = ref_format("e5m3fnuz");
  EXPECT_EQ(g.bias, 16);
  EXPECT_EQ(g.specials, RefFormat::Specials::fnuz);
  const RefFormat& h = ref_format("e3m0fn");
  EXPECT_EQ(h.bias, 3);
  EXPECT_EQ(h.max_finite, 8);  // field 6 (7 with M=0 is the NaN)
  EXPECT_EQ(ref_format("e11m52").max_finite, std::numeric_limits<double>::max());
  EXPECT_EQ(ref_format("e6m5b20").bias, 20);
  for (const char* bad : {"nearest", "e1m2", "e12m2", "e4m53", "e4m0", "e4m0b3", "e5m2x", "e5m2fnb", "m3", "e",
                          "e11m52b2000", "e11m52b0", "", "e4m3fn fn"})
    EXPECT_THROW(ref_format(bad), std::invalid_argument) << bad;
}

// ------------------------------------------------------- §9 regressions

TEST(RefRegression, Item1PreClamp) {
  EXPECT_EQ(cvt(464, "e4m3"), (RefResult{0x7E, flag::inexact}));
  EXPECT_EQ(code(465, "e4m3"), 0x7Fu);
  EXPECT_EQ(code(465, "e4m3", sat()), 0x7Eu);
  EXPECT_EQ(code(58000, "e5m2"), 0x7Bu);
  EXPECT_EQ(code(61439, "e5m2"), 0x7Bu);
  EXPECT_EQ(cvt(61440, "e5m2"), (RefResult{0x7C, flag::overflow | flag::inexact}));
  EXPECT_EQ(code(61440, "e5m2", sat()), 0x7Bu);
}

fpsim_test::E4m3Mode top_binade_mode(RefMode m) {
  switch (m) {
    case RefMode::rna: return fpsim_test::E4m3Mode::rna;
    case RefMode::rtz: return fpsim_test::E4m3Mode::rtz;
    case RefMode::rup: return fpsim_test::E4m3Mode::rup;
    case RefMode::rdn: return fpsim_test::E4m3Mode::rdn;
    case RefMode::rto: return fpsim_test::E4m3Mode::rto;
    default: return fpsim_test::E4m3Mode::rne;
  }
}

TEST(RefRegression, Item2E4m3NeverGives480) {
  EXPECT_EQ(code(470, "e4m3", sat()), 0x7Eu);
  EXPECT_EQ(code(1e6, "e4m3", sat()), 0x7Eu);
  EXPECT_EQ(code(INFINITY, "e4m3", sat()), 0x7Eu);
  EXPECT_EQ(ref_decode_to_double(0x7E, ref_format("e4m3")), 448);
  const RefFormat& fp16 = ref_format("fp16");
  const RefFormat& e4m3 = ref_format("e4m3");
  for (RefMode m : {RefMode::rne, RefMode::rna, RefMode::rtz, RefMode::rup, RefMode::rdn, RefMode::rto})
    for (bool s : {false, true})
      for (uint64_t c = 0; c < 0x10000; ++c) {
        RefSpec spec = mode(m);
        spec.saturate = s;
        const double v = ref_decode_to_double(ref_convert(c, fp16, e4m3, spec).code, e4m3);
        ASSERT_NE(std::fabs(v), 480) << c;
        // Positive inputs of the top binade and above get the independent
        // expectation of tests/e4m3_top_binade.hpp.
        const double x = ref_decode_to_double(c, fp16);
        if (x >= 256 && x < 1024) {
          const double want = fpsim_test::expected_e4m3_top_binade(x, top_binade_mode(m), s);
          if (std::isnan(want))
            ASSERT_TRUE(std::isnan(v)) << x << " got " << v;
          else
            ASSERT_EQ(v, want) << x << " mode " << int(m) << " saturate " << s;
        }
      }
}

TEST(RefRegression, Item3NoInfTargets) {
  EXPECT_EQ(cvt(INFINITY, "e4m3"), (RefResult{0x7F, flag::invalid}));
  EXPECT_EQ(cvt(-INFINITY, "e4m3"), (RefResult{0xFF, flag::invalid}));
  EXPECT_EQ(cvt(INFINITY, "e4m3", sat()), (RefResult{0x7E, flag::saturated}));
  EXPECT_EQ(cvt(-INFINITY, "e4m3", sat()), (RefResult{0xFE, flag::saturated}));
  EXPECT_EQ(code(INFINITY, "e4m3fnuz"), 0x80u);
  EXPECT_EQ(code(-INFINITY, "e4m3fnuz"), 0x80u);
  EXPECT_EQ(cvt(INFINITY, "e2m1"), (RefResult{0x7, flag::invalid | flag::saturated}));
  EXPECT_EQ(cvt(-INFINITY, "e2m1"), (RefResult{0xF, flag::invalid | flag::saturated}));
}

TEST(RefRegression, Item4NoDoubleRounding) {
  EXPECT_EQ(ref_decode_to_double(code(-431.99999999999994, "e4m3"), ref_format("e4m3")), -416);
  EXPECT_EQ(ref_decode_to_double(code(1 + p2(-8) + p2(-40), "bf16"), ref_format("bf16")), 1.0078125);
}

TEST(RefRegression, Item5ModeNames) {
  const RefFormat& e2m1 = ref_format("e2m1");
  EXPECT_EQ(ref_decode_to_double(code(2.5, "e2m1", mode(RefMode::rne)), e2m1), 2);
  EXPECT_EQ(ref_decode_to_double(code(2.5, "e2m1", mode(RefMode::rna)), e2m1), 3);
  EXPECT_EQ(ref_decode_to_double(code(5, "e2m1", mode(RefMode::rne)), e2m1), 4);
  EXPECT_EQ(ref_decode_to_double(code(5, "e2m1", mode(RefMode::rna)), e2m1), 6);
}

// §7 default NaNs, positive.
uint64_t default_nan(const std::string& name) {
  if (name == "fp16") return 0x7E00;
  if (name == "bf16") return 0x7FC0;
  if (name == "e5m2") return 0x7E;
  if (name == "e3m4") return 0x78;
  if (name == "e4m3fnuz" || name == "e5m2fnuz") return 0x80;
  if (name == "e8m0") return 0xFF;
  return 0x7F;  // e4m3, ue4m3
}

TEST(RefRegression, Item6EveryCodeRoundTrips) {
  for (const char* name : {"fp16", "bf16", "e4m3", "e4m3fnuz", "e5m2", "e5m2fnuz", "e3m4", "e2m3", "e3m2", "e2m1",
                           "e8m0", "ue4m3", "int8"}) {
    const RefFormat& f = ref_format(name);
    for (uint64_t c = 0; c < f.code_count; ++c) {
      const RefResult r = ref_convert(c, f, f, {});
      if (fpsim_ref::ref_is_nan(c, f)) {
        const bool neg_nan = (f.specials == RefFormat::Specials::ieee || f.specials == RefFormat::Specials::fn) &&
                             f.has_sign && (c >> (f.bits - 1)) != 0;
        const uint64_t want = default_nan(name) | (neg_nan ? uint64_t{1} << (f.bits - 1) : 0);
        ASSERT_EQ(r.code, want) << name << " " << c;
      } else {
        ASSERT_EQ(r, (RefResult{c, 0})) << name << " " << c;
      }
    }
  }
  EXPECT_EQ(ref_decode_to_double(0x01, ref_format("e4m3")), p2(-9));
  EXPECT_EQ(ref_decode_to_double(0x08, ref_format("e4m3")), p2(-6));
  EXPECT_EQ(code(3 * p2(-10), "e4m3"), 0x02u);
  EXPECT_EQ(cvt(p2(-10), "e4m3"), (RefResult{0x00, flag::underflow | flag::inexact}));  // half min subnormal
  EXPECT_EQ(code(-p2(-17), "e5m2"), 0x80u);
}

TEST(RefRegression, Item7TopBinade) {
  EXPECT_EQ(code(300, "e4m3"), 0x79u);
  EXPECT_EQ(ref_decode_to_double(0x79, ref_format("e4m3")), 288);
  EXPECT_EQ(cvt(448, "e4m3"), (RefResult{0x7E, 0}));
  EXPECT_EQ(code(272, "e4m3"), 0x78u);  // tie -> 256 (even)
  EXPECT_EQ(code(std::nextafter(272.0, 1000.0), "e4m3"), 0x79u);
  const RefFormat& fp32 = ref_format("fp32");
  // Every 97th fp32 in (272, 448] and its first 4096, in the modes that do not truncate.
  const uint32_t first = std::bit_cast<uint32_t>(272.0f) + 1, last = std::bit_cast<uint32_t>(448.0f);
  for (RefMode m : {RefMode::rne, RefMode::rna, RefMode::rup, RefMode::rto})
    for (uint32_t c = first; c <= last; c += (c - first < 4096 ? 1 : 97))
      ASSERT_NE(ref_convert(c, fp32, ref_format("e4m3"), mode(m)).code, 0x78u) << std::bit_cast<float>(c);
}

TEST(RefRegression, Item8NanPredicates) {
  EXPECT_TRUE(std::signbit(ref_decode_to_double(0x80, ref_format("e4m3"))));
  EXPECT_EQ(ref_decode_to_double(0x80, ref_format("e4m3")), 0.0);
  EXPECT_TRUE(std::isnan(ref_decode_to_double(0x80, ref_format("e4m3fnuz"))));
  EXPECT_EQ(code(-0.0, "e4m3fnuz"), 0x00u);
  EXPECT_TRUE(std::isinf(ref_decode_to_double(0x7C, ref_format("e5m2"))));
  for (uint64_t c : {0x7D, 0x7E, 0x7F}) EXPECT_TRUE(std::isnan(ref_decode_to_double(c, ref_format("e5m2"))));
}

TEST(RefRegression, Item9E8m0Conversions) {
  EXPECT_EQ(code(3.0, "e8m0"), 128u);  // 2.0: ties to the even code
  EXPECT_EQ(code(6.0, "e8m0"), 130u);  // 8.0
  EXPECT_EQ(code(3.0, "e8m0", mode(RefMode::rup)), 129u);
  EXPECT_EQ(cvt(4.0, "e8m0", mode(RefMode::rup)), (RefResult{129, 0}));
  EXPECT_EQ(cvt(p2(-140), "e8m0"), (RefResult{0, flag::underflow | flag::inexact}));
  EXPECT_EQ(cvt(0.0, "e8m0"), (RefResult{0, flag::underflow | flag::inexact}));
  EXPECT_EQ(cvt(-3.0, "e8m0"), (RefResult{128, flag::invalid | flag::inexact}));  // read by magnitude
  EXPECT_EQ(cvt(1.5 * p2(127), "e8m0"), (RefResult{0xFE, flag::inexact}));        // tie: 0xFE even
  EXPECT_EQ(cvt(1.75 * p2(127), "e8m0"), (RefResult{0xFF, flag::overflow | flag::inexact}));
  EXPECT_EQ(cvt(1.75 * p2(127), "e8m0", sat()), (RefResult{0xFE, flag::overflow | flag::inexact | flag::saturated}));
  EXPECT_EQ(code(3.0, "e8m0", mode(RefMode::rto)), 129u);  // odd code of {2, 4}
  EXPECT_EQ(code(5.0, "e8m0", mode(RefMode::rto)), 129u);  // {4, 8}: 4 is code 129
}

TEST(RefRegression, Item11StochasticProbabilities) {
  const RefFormat& bf16 = ref_format("bf16");
  const RefFormat& fp32 = ref_format("fp32");
  const auto from_f32 = [&](float x, const RefFormat& to, int bits = 0) {
    return ref_stochastic(std::bit_cast<uint32_t>(x), fp32, to, {}, bits);
  };
  auto s = from_f32(1.0f + std::ldexp(1.0f, -9), bf16);
  EXPECT_EQ(s.p_away_exact, "1/4");
  EXPECT_EQ(s.p_away, 0.25);
  EXPECT_EQ(s.toward_zero, (RefResult{0x3F80, flag::inexact}));
  EXPECT_EQ(s.away, (RefResult{0x3F81, flag::inexact}));
  s = from_f32(2.0f - std::ldexp(1.0f, -9), bf16);
  EXPECT_EQ(s.p_away_exact, "3/4");
  EXPECT_EQ(s.away.code, 0x4000u);
  s = from_f32(2.0f, bf16);
  EXPECT_EQ(s.p_away_exact, "0");
  EXPECT_EQ(s.toward_zero, (RefResult{0x4000, 0}));
  EXPECT_EQ(s.away, (RefResult{0x4000, 0}));
  const RefFormat& e4m3 = ref_format("e4m3");
  s = ref_stochastic_double(p2(-11), e4m3, {}, 0);
  EXPECT_EQ(s.p_away_exact, "1/4");
  // Both draws are tiny (2^-11 is below 2^-6 at any exponent range) and inexact.
  EXPECT_EQ(s.away, (RefResult{0x01, flag::inexact | flag::underflow}));
  EXPECT_EQ(s.toward_zero, (RefResult{0x00, flag::inexact | flag::underflow}));
  s = ref_stochastic_double(456, e4m3, {}, 0);
  EXPECT_EQ(s.p_away_exact, "1/4");
  EXPECT_EQ(s.toward_zero, (RefResult{0x7E, flag::inexact}));
  EXPECT_EQ(s.away, (RefResult{0x7F, flag::overflow | flag::inexact}));
  s = ref_stochastic_double(456, e4m3, sat(), 0);
  EXPECT_EQ(s.away, (RefResult{0x7E, flag::overflow | flag::inexact | flag::saturated}));
  // sr4 never rounds up when f < 2^-4; sr<R> truncates f to R bits.
  s = from_f32(1.0f + std::ldexp(1.0f, -12), bf16, 4);  // f = 2^-5
  EXPECT_EQ(s.p_away_exact, "0");
  s = from_f32(1.0f + std::ldexp(1.0f, -12), bf16, 0);
  EXPECT_EQ(s.p_away_exact, "1/32");
  s = ref_stochastic_double(1 + p2(-7) * (1 - p2(-30)), bf16, {}, 0);  // f = 1 - 2^-30
  EXPECT_EQ(s.p_away_exact, "1073741823/2^30");
  s = ref_stochastic_double(1 + p2(-7) * (1 - p2(-30)), bf16, {}, 8);
  EXPECT_EQ(s.p_away_exact, "255/256");
  for (double z : {0.0, -0.0}) {
    s = ref_stochastic_double(z, bf16, {}, 0);
    EXPECT_EQ(s.toward_zero.code, std::signbit(z) ? 0x8000u : 0u);
    EXPECT_EQ(s.away, s.toward_zero);
  }
  // Negative values: away = rdn's result, toward = rtz's.
  s = ref_stochastic_double(-(1 + p2(-9)), bf16, {}, 0);
  EXPECT_EQ(s.away, (RefResult{0xBF81, flag::inexact}));
  EXPECT_EQ(s.toward_zero, (RefResult{0xBF80, flag::inexact}));
}

// fp32 -> bf16 drops exactly the low 16 bits of the code, subnormals included,
// so rtz keeps the top 16 bits and the exact SR probability is low16 / 2^16.
TEST(RefStochasticLaw, Fp32ToBf16IsBitTruncation) {
  const RefFormat& fp32 = ref_format("fp32");
  const RefFormat& bf16 = ref_format("bf16");
  uint32_t state = 12345;
  for (int i = 0; i < 100000; ++i) {
    state = state * 1664525u + 1013904223u;
    const uint32_t c = i < 70000 ? state : (state & 0x807FFFFFu);  // the last 30000: subnormals and zeros
    if (((c >> 23) & 0xFF) == 0xFF) continue;
    const auto s = ref_stochastic(c, fp32, bf16, {}, 0);
    const uint32_t low = c & 0xFFFF;
    ASSERT_EQ(s.toward_zero.code, c >> 16) << std::hex << c;
    ASSERT_EQ(s.away.code, (c >> 16) + (low != 0 ? 1 : 0)) << std::hex << c;  // max + 1 is inf's code
    ASSERT_EQ(s.p_away, low / 65536.0) << std::hex << c;
    const auto s8 = ref_stochastic(c, fp32, bf16, {}, 8);
    ASSERT_EQ(s8.p_away, (low >> 8) / 256.0) << std::hex << c;
  }
}

TEST(RefRegression, Item12DirectedOverflow) {
  EXPECT_EQ(cvt(1000, "e4m3", mode(RefMode::rtz)), (RefResult{0x7E, 0x05}));
  EXPECT_EQ(cvt(1000, "e4m3", mode(RefMode::rup)), (RefResult{0x7F, flag::overflow | flag::inexact}));
  EXPECT_EQ(cvt(-1000, "e4m3", mode(RefMode::rup)), (RefResult{0xFE, flag::overflow | flag::inexact}));
  EXPECT_EQ(cvt(-1000, "e4m3", mode(RefMode::rdn)), (RefResult{0xFF, flag::overflow | flag::inexact}));
  EXPECT_EQ(cvt(1e6, "fp16", mode(RefMode::rtz)), (RefResult{0x7BFF, flag::overflow | flag::inexact}));
  EXPECT_EQ(cvt(1e6, "fp16", mode(RefMode::rup)), (RefResult{0x7C00, flag::overflow | flag::inexact}));
  // Contract table: rup x > 0 under saturate raises saturated; x < 0 does not.
  EXPECT_EQ(cvt(1000, "e4m3", sat(RefMode::rup)), (RefResult{0x7E, 0x25}));
  EXPECT_EQ(cvt(-1000, "e4m3", sat(RefMode::rup)), (RefResult{0xFE, 0x05}));
  EXPECT_EQ(cvt(1000, "e4m3", mode(RefMode::rto)), (RefResult{0x7E, 0x05}));
  EXPECT_EQ(cvt(450, "e4m3", mode(RefMode::rto)), (RefResult{0x7E, 0x05}));  // odd neighbour is the phantom 480
}

TEST(RefRegression, Item13Signs) {
  EXPECT_EQ(cvt(-0.0, "e4m3"), (RefResult{0x80, 0}));
  EXPECT_EQ(cvt(-0.0, "e2m1"), (RefResult{0x8, 0}));
  EXPECT_EQ(cvt(-0.0, "e4m3fnuz"), (RefResult{0x00, 0}));
  EXPECT_EQ(cvt(-1e-30, "e4m3"), (RefResult{0x80, flag::underflow | flag::inexact}));
  EXPECT_EQ(cvt(-1e-30, "e4m3fnuz"), (RefResult{0x00, flag::underflow | flag::inexact}));
  EXPECT_EQ(ref_convert(0xFFC00000u, ref_format("fp32"), ref_format("e4m3"), {}), (RefResult{0xFF, 0}));
}

TEST(RefRegression, Item14ShiftExtremes) {
  const double tiny = p2(-1074), huge = std::numeric_limits<double>::max();
  EXPECT_EQ(cvt(tiny, "e4m3"), (RefResult{0x00, flag::underflow | flag::inexact}));
  EXPECT_EQ(cvt(tiny, "e4m3", mode(RefMode::rup)), (RefResult{0x01, flag::underflow | flag::inexact}));
  EXPECT_EQ(cvt(tiny, "e4m3", mode(RefMode::rto)), (RefResult{0x01, flag::underflow | flag::inexact}));
  EXPECT_EQ(cvt(huge, "e2m1"), (RefResult{0x7, flag::overflow | flag::inexact | flag::saturated}));
  EXPECT_EQ(cvt(-huge, "e2m1", mode(RefMode::rtz)), (RefResult{0xF, flag::overflow | flag::inexact}));
  EXPECT_EQ(cvt(huge, "fp32"), (RefResult{0x7F800000, flag::overflow | flag::inexact}));
  EXPECT_EQ(cvt(tiny, "fp32", mode(RefMode::rup)), (RefResult{0x1, flag::underflow | flag::inexact}));
  EXPECT_EQ(cvt(tiny, "fp64"), (RefResult{0x1, 0}));
  EXPECT_EQ(cvt(huge, "fp64"), (RefResult{std::bit_cast<uint64_t>(huge), 0}));
}

// ------------------------------------------------ contract special inputs

TEST(RefContract, SpecialInputs) {
  EXPECT_EQ(cvt(INFINITY, "fp16"), (RefResult{0x7C00, 0}));
  EXPECT_EQ(cvt(-INFINITY, "e5m2"), (RefResult{0xFC, 0}));
  EXPECT_EQ(cvt(NAN, "e2m1"), (RefResult{0x7, flag::invalid}));
  EXPECT_EQ(cvt(-NAN, "e3m2"), (RefResult{0x1F, flag::invalid}));
  EXPECT_EQ(cvt(-NAN, "e2m3", sat()), (RefResult{0x1F, flag::invalid}));
  EXPECT_EQ(ref_convert(0x7D, ref_format("e5m2"), ref_format("fp16"), {}), (RefResult{0x7E00, flag::invalid}));
  EXPECT_EQ(ref_convert(0x7E, ref_format("e5m2"), ref_format("fp16"), {}), (RefResult{0x7E00, 0}));
  EXPECT_EQ(ref_convert(0x7FA00000u, ref_format("fp32"), ref_format("e4m3"), {}), (RefResult{0x7F, flag::invalid}));
  EXPECT_EQ(cvt(-1.0, "ue4m3"), (RefResult{0x7F, flag::invalid}));
  EXPECT_EQ(cvt(-INFINITY, "ue4m3"), (RefResult{0x7F, flag::invalid}));
  EXPECT_EQ(cvt(-0.0, "ue4m3"), (RefResult{0x00, 0}));
  EXPECT_EQ(cvt(500, "ue4m3"), (RefResult{0x7F, flag::overflow | flag::inexact}));
  EXPECT_EQ(cvt(INFINITY, "e8m0"), (RefResult{0xFF, flag::invalid}));
  EXPECT_EQ(cvt(NAN, "e8m0"), (RefResult{0xFF, 0}));
  EXPECT_THROW(ref_convert(0x80, ref_format("ue4m3"), ref_format("fp32"), {}), std::invalid_argument);
  EXPECT_THROW(ref_convert(0x10, ref_format("e2m1"), ref_format("fp32"), {}), std::invalid_argument);
}

TEST(RefContract, Int8) {
  EXPECT_EQ(cvt(2.5, "int8"), (RefResult{2, flag::inexact}));
  EXPECT_EQ(cvt(3.5, "int8"), (RefResult{4, flag::inexact}));
  EXPECT_EQ(cvt(2.5, "int8", mode(RefMode::rna)), (RefResult{3, flag::inexact}));
  EXPECT_EQ(cvt(-2.5, "int8", mode(RefMode::rdn)), (RefResult{0xFD, flag::inexact}));
  EXPECT_EQ(cvt(2.5, "int8", mode(RefMode::rto)), (RefResult{3, flag::inexact}));
  EXPECT_EQ(cvt(127.4, "int8"), (RefResult{127, flag::inexact}));
  EXPECT_EQ(cvt(127.5, "int8"), (RefResult{127, flag::invalid | flag::saturated}));
  EXPECT_EQ(cvt(-128.5, "int8"), (RefResult{0x80, flag::inexact}));
  EXPECT_EQ(cvt(-129, "int8"), (RefResult{0x80, flag::invalid | flag::saturated}));
  EXPECT_EQ(cvt(1e300, "int8"), (RefResult{0x7F, flag::invalid | flag::saturated}));
  EXPECT_EQ(cvt(-INFINITY, "int8"), (RefResult{0x80, flag::invalid | flag::saturated}));
  EXPECT_EQ(cvt(NAN, "int8"), (RefResult{0, flag::invalid}));
  EXPECT_EQ(cvt(-0.0, "int8"), (RefResult{0, 0}));
  EXPECT_EQ(cvt(-0.3, "int8"), (RefResult{0, flag::inexact}));
  EXPECT_EQ(ref_convert(0x80, ref_format("int8"), ref_format("fp32"), {}), (RefResult{0xC3000000u, 0}));
}

TEST(RefContract, TininessFtzDaz) {
  const double below = p2(-14) * (1 - p2(-12));  // rounds up to fp16's min normal
  EXPECT_EQ(cvt(below, "fp16"), (RefResult{0x0400, flag::inexact}));
  RefSpec before;
  before.tininess_before = true;
  EXPECT_EQ(cvt(below, "fp16", before), (RefResult{0x0400, flag::inexact | flag::underflow}));
  RefSpec ftz;
  ftz.ftz = true;
  EXPECT_EQ(cvt(p2(-20), "fp16", ftz), (RefResult{0x0000, flag::inexact | flag::underflow | flag::flushed}));
  EXPECT_EQ(cvt(-p2(-20), "fp16", ftz), (RefResult{0x8000, flag::inexact | flag::underflow | flag::flushed}));
  EXPECT_EQ(cvt(below, "fp16", ftz), (RefResult{0x0400, flag::inexact}));
  EXPECT_EQ(cvt(p2(-140), "e8m0", ftz), (RefResult{0, flag::inexact | flag::underflow}));
  RefSpec daz;
  daz.daz = true;
  EXPECT_EQ(ref_convert(0x0001, ref_format("fp16"), ref_format("fp32"), daz), (RefResult{0, flag::flushed}));
  EXPECT_EQ(ref_convert(0x8001, ref_format("fp16"), ref_format("fp32"), daz), (RefResult{0x80000000u, flag::flushed}));
  EXPECT_EQ(ref_convert(0x00, ref_format("e8m0"), ref_format("fp32"), daz), (RefResult{0x00800000u >> 1, 0}));
}

TEST(RefContract, DecimalIsRoundedOnce) {
  const RefFormat& e4m3 = ref_format("e4m3");
  EXPECT_EQ(ref_from_decimal("464", e4m3, {}), (RefResult{0x7E, flag::inexact}));
  EXPECT_EQ(ref_from_decimal("464.000000000000000000000000000000000000000000000000001", e4m3, {}).code, 0x7Fu);
  EXPECT_EQ(ref_from_decimal("463.999999999999999999999999999999999999999999999999999", e4m3, {}),
            (RefResult{0x7E, flag::inexact}));
  EXPECT_EQ(ref_from_decimal("272.00000000000000000000000000000000000000000000000000001", e4m3, {}).code, 0x79u);
  EXPECT_EQ(ref_from_decimal("0.1", ref_format("fp32"), {}).code, 0x3DCCCCCDu);
  EXPECT_EQ(ref_from_decimal("-0", e4m3, {}), (RefResult{0x80, 0}));
  EXPECT_EQ(ref_from_decimal("-inf", ref_format("fp16"), {}), (RefResult{0xFC00, 0}));
  EXPECT_EQ(ref_from_decimal("nan", e4m3, {}), (RefResult{0x7F, 0}));
  EXPECT_EQ(ref_from_decimal("1e-100000", ref_format("fp32"), {}), (RefResult{0, 0x03}));
  EXPECT_EQ(ref_from_decimal("1e100000", ref_format("fp32"), {}), (RefResult{0x7F800000u, 0x05}));
  EXPECT_EQ(ref_from_decimal("0x1.8p1", ref_format("e8m0"), {}).code, 128u);
  for (const char* bad : {"", "abc", "1.5x", "nearest", "1e", "--1"})
    EXPECT_THROW(ref_from_decimal(bad, e4m3, {}), std::invalid_argument) << bad;
}

// ------------------------------------------- brute force on small targets

// Rounding by enumeration: the nearest/neighbouring target values are found by
// searching the sorted list of every finite value (ties to the even code,
// round-to-odd to the odd code), independent of the reference's MPFR path.
TEST(RefBruteForce, SmallTargetsMatchEnumeration) {
  size_t checked = 0;
  for (const char* to_name : {"e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m4", "e2m3", "e3m2", "e2m1", "e8m0", "ue4m3",
                              "e3m0fn", "e2m2fnuz"}) {
    const RefFormat& to = ref_format(to_name);
    std::vector<std::pair<double, uint64_t>> grid;  // non-negative finite values and their codes
    const uint64_t positive_codes = to.has_sign ? to.code_count / 2 : to.code_count;
    for (uint64_t c = 0; c < positive_codes; ++c) {
      const double v = ref_decode_to_double(c, to);
      if (std::isfinite(v)) grid.emplace_back(v, c);
    }
    std::sort(grid.begin(), grid.end());
    for (const char* from_name : {"fp16", "bf16"}) {
      const RefFormat& from = ref_format(from_name);
      for (uint64_t c = 0; c < 0x10000; ++c) {
        const double x = ref_decode_to_double(c, from);
        const double ax = std::fabs(x);
        if (!std::isfinite(x) || x == 0 || ax > to.max_finite) continue;
        if (to.specials == RefFormat::Specials::e8m0 && (x < 0 || ax < to.min_normal)) continue;
        if (!to.has_sign && x < 0) continue;
        const auto hi_it = std::lower_bound(grid.begin(), grid.end(), std::make_pair(ax, uint64_t{0}));
        const auto [hi, hi_code] = *hi_it;
        const auto [lo, lo_code] = hi == ax ? *hi_it : *(hi_it - 1);
        const bool neg = x < 0;
        for (RefMode m : {RefMode::rne, RefMode::rna, RefMode::rtz, RefMode::rup, RefMode::rdn, RefMode::rto}) {
          uint64_t want = lo_code;
          if (lo != hi) {
            const double dlo = ax - lo, dhi = hi - ax;  // exact: both are small-format values near ax
            switch (m) {
              case RefMode::rne:
                want = dlo < dhi ? lo_code : dhi < dlo ? hi_code : (lo_code % 2 == 0 ? lo_code : hi_code);
                break;
              case RefMode::rna:
                want = dlo < dhi ? lo_code : hi_code;
                break;
              case RefMode::rtz:
                want = lo_code;
                break;
              case RefMode::rup:
                want = neg ? lo_code : hi_code;
                break;
              case RefMode::rdn:
                want = neg ? hi_code : lo_code;
                break;
              case RefMode::rto:
                want = lo_code % 2 == 1 ? lo_code : hi_code;
                break;
            }
          }
          if (neg && (want != 0 || to.has_neg_zero)) want |= uint64_t{1} << (to.bits - 1);
          const RefResult r = ref_convert(c, from, to, mode(m));
          ASSERT_EQ(r.code, want) << from_name << "->" << to_name << " x=" << x << " mode " << static_cast<int>(m);
          ASSERT_EQ((r.flags & flag::inexact) != 0, lo != hi) << to_name << " x=" << x;
          ++checked;
        }
      }
    }
  }
  std::printf("brute-force conversions checked: %zu\n", checked);
}

// ------------------------------------------------ TestFloat spot checks

struct Vector {
  uint64_t in, out;
  uint32_t flags;
};

std::vector<Vector> read_vectors(const std::string& file, size_t limit) {
  std::vector<Vector> v;
  const std::string cmd = "gzip -dc '" + std::string(FPSIM_TESTFLOAT_DIR) + "/" + file + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return v;
  unsigned long long a = 0, b = 0;
  unsigned f = 0;
  while (v.size() < limit && std::fscanf(p, "%llx %llx %x", &a, &b, &f) == 3) v.push_back({a, b, f});
  pclose(p);
  return v;
}

struct ModeName {
  RefMode mode;
  const char* suffix;
};
const ModeName kModes[] = {{RefMode::rne, "rnear_even"}, {RefMode::rna, "rnear_maxMag"}, {RefMode::rtz, "rminMag"},
                           {RefMode::rup, "rmax"},       {RefMode::rdn, "rmin"},         {RefMode::rto, "rodd"}};

size_t check_file(const char* fn, const char* from, const char* to, const ModeName& m) {
  const std::string file = std::string(fn) + "." + m.suffix + ".txt.gz";
  const std::vector<Vector> vectors = read_vectors(file, 30000);
  EXPECT_GE(vectors.size(), 3000u) << file;
  const RefFormat& f = ref_format(from);
  const RefFormat& t = ref_format(to);
  for (const Vector& v : vectors) {
    const RefResult r = ref_convert(v.in, f, t, mode(m.mode));
    if (fpsim_ref::ref_is_nan(v.out, t)) {
      EXPECT_TRUE(fpsim_ref::ref_is_nan(r.code, t)) << file << " " << std::hex << v.in;
    } else {
      EXPECT_EQ(r.code, v.out) << file << " " << std::hex << v.in;
    }
    EXPECT_EQ(r.flags & 0x1F, v.flags) << file << " " << std::hex << v.in;
    if (::testing::Test::HasFailure()) break;
  }
  return vectors.size();
}

TEST(RefTestFloat, ConversionsMatchEveryMode) {
  size_t n = 0;
  for (const ModeName& m : kModes) {
    n += check_file("f32_to_f16", "fp32", "fp16", m);
    n += check_file("f64_to_f32", "fp64", "fp32", m);
    n += check_file("f32_to_bf16", "fp32", "bf16", m);
    n += check_file("f64_to_f16", "fp64", "fp16", m);
  }
  RecordProperty("vectors", static_cast<int>(n));
  std::printf("TestFloat vectors checked: %zu\n", n);
}

TEST(RefTestFloat, TwoThreadsDoNotInterfere) {
  const std::vector<Vector> a = read_vectors("f32_to_f16.rmax.txt.gz", 30000);
  const std::vector<Vector> b = read_vectors("f64_to_f32.rminMag.txt.gz", 30000);
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  int bad_a = 0, bad_b = 0;
  const auto run = [](const std::vector<Vector>& vs, const char* from, const char* to, RefMode m, int* bad) {
    for (int rep = 0; rep < 3; ++rep)
      for (const Vector& v : vs) {
        const RefResult r = ref_convert(v.in, ref_format(from), ref_format(to), mode(m));
        if ((r.flags & 0x1F) != v.flags || (!fpsim_ref::ref_is_nan(v.out, ref_format(to)) && r.code != v.out)) ++*bad;
      }
  };
  std::thread t1(run, std::cref(a), "fp32", "fp16", RefMode::rup, &bad_a);
  std::thread t2(run, std::cref(b), "fp64", "fp32", RefMode::rtz, &bad_b);
  t1.join();
  t2.join();
  EXPECT_EQ(bad_a, 0);
  EXPECT_EQ(bad_b, 0);
}

}  // namespace
