// fpsim::parse_number against oracles that do not share its code: MPFR's
// mpfr_strtofr (correctly rounded in every mode, exponent range and
// subnormals emulated with mpfr_subnormalize) and glibc's strtod/strtof
// (correctly rounded, ties to even).
#include "fpsim/decimal.hpp"

#include <gmp.h>
#include <gtest/gtest.h>
#include <mpfr.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/round.hpp"

namespace {

using fpsim::Flags;
using fpsim::Format;
using fpsim::Rounding;
using fpsim::RoundingSpec;

// s for a failure message, long strings elided in the middle.
std::string shown(const std::string& s) {
  if (s.size() <= 240) return s;
  return s.substr(0, 120) + "...(" + std::to_string(s.size()) + " chars)..." + s.substr(s.size() - 100);
}

// An IEEE format as MPFR sees it: precision and the exponent range of
// mantissas in [1/2, 1) (smallest subnormal 2^(emin-1), largest < 2^emax).
struct Target {
  Format f;
  int prec;
  mpfr_exp_t emin;
  mpfr_exp_t emax;
};

const Target kFp64{fpsim::formats::fp64, 53, -1073, 1024};
const Target kFp32{fpsim::formats::fp32, 24, -148, 128};
const Target kFp16{fpsim::formats::fp16, 11, -23, 16};
const Target kBf16{fpsim::formats::bf16, 8, -132, 128};

struct Mode {
  Rounding fpsim;
  mpfr_rnd_t mpfr;
  const char* name;
};
const Mode kModes[] = {{Rounding::rne, MPFR_RNDN, "rne"},
                       {Rounding::rtz, MPFR_RNDZ, "rtz"},
                       {Rounding::rup, MPFR_RNDU, "rup"},
                       {Rounding::rdn, MPFR_RNDD, "rdn"}};

struct Result {
  uint64_t code;
  bool inexact;
};

// The IEEE code of d, a value of t (zero, infinity or exactly
// representable), encoded here from the format's layout (1 sign bit, an
// exponent field of bits - prec bits with bias 2^(E-1) - 1, prec - 1
// fraction bits) with no code of sim: the oracle's side stays independent.
uint64_t ieee_code_of_exact(double d, const Target& t) {
  const int bits = t.f.bits, p = t.prec, E = bits - p;
  const int bias = (1 << (E - 1)) - 1, emin = 1 - bias;
  const uint64_t sign = std::signbit(d) ? uint64_t{1} << (bits - 1) : 0;
  const double a = std::fabs(d);
  if (a == 0) return sign;
  const uint64_t exp_all_ones = (uint64_t{1} << E) - 1;
  if (std::isinf(a)) return sign | exp_all_ones << (p - 1);
  const int e = std::ilogb(a);
  if (e >= emin) {
    const uint64_t frac = uint64_t(std::ldexp(a, p - 1 - e)) - (uint64_t{1} << (p - 1));
    return sign | uint64_t(e + bias) << (p - 1) | frac;
  }
  return sign | uint64_t(std::ldexp(a, p - 1 - emin));  // subnormal: exponent field 0
}

// The oracle: s rounded once by MPFR into t (base 10, or 16 with "0x").
Result oracle_round(const std::string& s, const Target& t, mpfr_rnd_t rnd) {
  const mpfr_exp_t old_emin = mpfr_get_emin(), old_emax = mpfr_get_emax();
  mpfr_set_emin(t.emin);
  mpfr_set_emax(t.emax);
  mpfr_t x;
  mpfr_init2(x, t.prec);
  char* end = nullptr;
  int ternary = mpfr_strtofr(x, s.c_str(), &end, 0, rnd);
  EXPECT_EQ(*end, '\0') << "MPFR did not read all of " << shown(s);
  ternary = mpfr_subnormalize(x, ternary, rnd);
  const double d = mpfr_get_d(x, MPFR_RNDN);  // exact: every value of t is a double
  mpfr_clear(x);
  mpfr_set_emin(old_emin);
  mpfr_set_emax(old_emax);
  return {ieee_code_of_exact(d, t), ternary != 0};
}

Result fpsim_round(const fpsim::Unpacked& u, const Format& f, Rounding mode) {
  RoundingSpec spec;
  spec.rounding = mode;
  Flags fl;
  const uint64_t code = fpsim::round(u, f, spec, fl);
  return {code, fl.test(Flags::inexact)};
}

// s against MPFR in all four modes, and against strtod / strtof for rne.
void check(const std::string& s, const Target& t) {
  const fpsim::Unpacked u = fpsim::parse_number(s);
  for (const Mode& m : kModes) {
    const Result want = oracle_round(s, t, m.mpfr);
    const Result got = fpsim_round(u, t.f, m.fpsim);
    ASSERT_EQ(got.code, want.code) << t.f.name << " " << m.name << " of " << shown(s);
    ASSERT_EQ(got.inexact, want.inexact) << t.f.name << " " << m.name << " inexact flag of " << shown(s);
  }
  if (t.f.bits == 64) {
    const uint64_t want = std::bit_cast<uint64_t>(std::strtod(s.c_str(), nullptr));
    ASSERT_EQ(fpsim_round(u, t.f, Rounding::rne).code, want) << "strtod of " << shown(s);
  } else if (t.f.bits == 32) {
    const uint32_t want = std::bit_cast<uint32_t>(std::strtof(s.c_str(), nullptr));
    ASSERT_EQ(fpsim_round(u, t.f, Rounding::rne).code, want) << "strtof of " << shown(s);
  }
}

std::string random_digits(std::mt19937_64& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(char('0' + rng() % 10));
  return s;
}

// digits * 10^exp10 written in one of several equivalent spellings.
std::string spell(const std::string& digits, int64_t exp10, bool negative, unsigned style) {
  std::string s = negative ? "-" : (style & 8 ? "+" : "");
  const char* e = style & 16 ? "E" : "e";
  switch (style % 4) {
    case 0:  // D e exp
      return s + digits + e + std::to_string(exp10);
    case 1: {  // d.ddd e exp'
      std::string out = s + digits.substr(0, 1);
      if (digits.size() > 1) out += "." + digits.substr(1);
      const int64_t shown = exp10 + int64_t(digits.size()) - 1;
      return out + e + (style & 32 && shown >= 0 ? "+" : "") + std::to_string(shown);
    }
    case 2: {  // 0.000ddd (only for moderate exponents), else like case 0
      if (exp10 >= 0 || exp10 < -400) return s + digits + e + std::to_string(exp10);
      const int64_t frac = -exp10;
      if (frac >= int64_t(digits.size()))
        return s + std::string("0.") + std::string(size_t(frac) - digits.size(), '0') + digits;
      return s + digits.substr(0, digits.size() - size_t(frac)) + "." + digits.substr(digits.size() - size_t(frac));
    }
    default:  // .ddd with a shifted exponent and leading zeros in front
      return s + "00." + digits + e + std::to_string(exp10 + int64_t(digits.size()));
  }
}

// The exact decimal digits and power of ten of odd * 2^e2.
void exact_decimal(fpsim::u128 odd, int64_t e2, std::string& digits, int64_t& exp10) {
  mpz_t z;
  mpz_init_set_ui(z, static_cast<unsigned long>(uint64_t(odd >> 64)));
  mpz_mul_2exp(z, z, 64);
  mpz_add_ui(z, z, static_cast<unsigned long>(uint64_t(odd)));
  if (e2 >= 0) {
    mpz_mul_2exp(z, z, mp_bitcnt_t(e2));
    exp10 = 0;
  } else {
    mpz_t five;
    mpz_init(five);
    mpz_ui_pow_ui(five, 5, (unsigned long)(-e2));
    mpz_mul(z, z, five);
    mpz_clear(five);
    exp10 = e2;
  }
  std::vector<char> buf(mpz_sizeinbase(z, 10) + 2);
  mpz_get_str(buf.data(), 10, z);
  mpz_clear(z);
  digits = buf.data();
}

// The digit string plus or minus one in the last place (digits > 1).
std::string add_last(std::string digits, int delta) {
  int i = int(digits.size()) - 1;
  if (delta > 0) {
    while (i >= 0 && digits[size_t(i)] == '9') digits[size_t(i--)] = '0';
    if (i < 0) return std::string("1") + digits;
    ++digits[size_t(i)];
  } else {
    while (digits[size_t(i)] == '0') digits[size_t(i--)] = '9';
    --digits[size_t(i)];
    if (digits[0] == '0' && digits.size() > 1) digits.erase(0, 1);
  }
  return digits;
}

// Midpoints between neighbours of t (precision p), and the decimals one
// unit of the last written digit on either side.
void check_halfway(const Target& t, uint64_t significand, int64_t e2, std::mt19937_64& rng, bool negative) {
  // significand * 2^e2 is a value of t; significand has at most p bits.
  const uint64_t odd = 2 * significand + 1;
  std::string digits;
  int64_t exp10 = 0;
  exact_decimal(odd, e2 - 1, digits, exp10);
  const auto style = unsigned(rng());
  check(spell(digits, exp10, negative, style), t);
  check(spell(add_last(digits, +1), exp10, negative, style), t);
  check(spell(add_last(digits, -1), exp10, negative, style), t);
  // The midpoint with a tail of zeros and then a 1: just above half.
  const size_t zeros = size_t(rng() % 50);
  check(spell(digits + std::string(zeros, '0') + "1", exp10 - int64_t(zeros) - 1, negative, style), t);
}

TEST(ParseNumber, ExactSmallValues) {
  const fpsim::Unpacked one = fpsim::parse_number("1");
  EXPECT_EQ(one.cls, fpsim::ValueClass::finite);
  EXPECT_EQ(one.exp, 0);
  EXPECT_EQ(one.sig, fpsim::u128{1} << 127);
  EXPECT_FALSE(one.sticky);
  EXPECT_FALSE(one.sign);

  const fpsim::Unpacked x = fpsim::parse_number("-0.375e1");  // -3.75 = -1.111b * 2^1
  EXPECT_TRUE(x.sign);
  EXPECT_EQ(x.exp, 1);
  EXPECT_EQ(x.sig, fpsim::u128{15} << 124);
  EXPECT_FALSE(x.sticky);

  const fpsim::Unpacked tenth = fpsim::parse_number("0.1");
  EXPECT_EQ(tenth.exp, -4);
  EXPECT_TRUE(tenth.sticky);
  // 0.1 = 0x1.999...p-4: the 128 bits are 1100 1100 ... 1100.
  fpsim::u128 pattern = 0;
  for (int i = 0; i < 32; ++i) pattern = (pattern << 4) | 0xC;
  EXPECT_EQ(tenth.sig, pattern);

  const fpsim::Unpacked h = fpsim::parse_number("0X1.8P-1");  // 0.75
  EXPECT_EQ(h.exp, -1);
  EXPECT_EQ(h.sig, fpsim::u128{3} << 126);
  EXPECT_FALSE(h.sticky);

  // 2^128 + 1 needs 129 bits: the 1 is sticky.
  const fpsim::Unpacked big = fpsim::parse_number("340282366920938463463374607431768211457");
  EXPECT_EQ(big.exp, 128);
  EXPECT_EQ(big.sig, fpsim::u128{1} << 127);
  EXPECT_TRUE(big.sticky);
  const fpsim::Unpacked big_hex = fpsim::parse_number("0x100000000000000000000000000000001");
  EXPECT_EQ(big_hex.exp, 128);
  EXPECT_TRUE(big_hex.sticky);
}

// Exactness of the Unpacked itself, not only of its fp64 rounding: random
// 128-bit significands across the whole uncapped range 2^-2000 .. 2^2000,
// written out exactly (up to ~2130 significant digits), and one unit of the
// last written digit above and below.
TEST(ParseNumber, Exact128BitSignificands) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 600; ++i) {
    fpsim::u128 sig = (fpsim::u128{rng()} << 64) | rng() | 1;  // odd: the decimal is as long as it gets
    sig |= fpsim::u128{1} << 127;
    int32_t exp = int32_t(rng() % 4001) - 2000;
    if (i < 20) exp = -2000 + i;
    if (i >= 20 && i < 40) exp = 2000 - (i - 20);
    std::string digits;
    int64_t exp10 = 0;
    exact_decimal(sig, int64_t(exp) - 127, digits, exp10);
    const std::string text = spell(digits, exp10, i & 1, unsigned(rng()));
    const fpsim::Unpacked u = fpsim::parse_number(text);
    ASSERT_EQ(u.cls, fpsim::ValueClass::finite) << shown(text);
    EXPECT_EQ(u.exp, exp) << shown(text);
    EXPECT_TRUE(u.sig == sig) << shown(text);
    EXPECT_FALSE(u.sticky) << shown(text);
    EXPECT_EQ(u.sign, (i & 1) != 0);

    const fpsim::Unpacked above = fpsim::parse_number(spell(add_last(digits, +1), exp10, false, 0));
    EXPECT_EQ(above.exp, exp);
    EXPECT_TRUE(above.sig == sig) << "exp " << exp;
    EXPECT_TRUE(above.sticky) << "exp " << exp;

    const fpsim::Unpacked below = fpsim::parse_number(spell(add_last(digits, -1), exp10, false, 0));
    EXPECT_EQ(below.exp, exp);
    EXPECT_TRUE(below.sig == sig - 1) << "exp " << exp;
    EXPECT_TRUE(below.sticky) << "exp " << exp;
  }
}

TEST(ParseNumber, ZerosAndSpecials) {
  for (const char* s : {"0", "0.0", "+0", "000", "0e999999999999", "0x0", "0x0.000p-99999", ".0", "0.", "0e-5"}) {
    const fpsim::Unpacked u = fpsim::parse_number(s);
    EXPECT_EQ(u.cls, fpsim::ValueClass::zero) << s;
    EXPECT_FALSE(u.sign) << s;
  }
  for (const char* s : {"-0", "-0e5", "-0.000", "-0x0p3", "-.0e-99999999999999999999"}) {
    const fpsim::Unpacked u = fpsim::parse_number(s);
    EXPECT_EQ(u.cls, fpsim::ValueClass::zero) << s;
    EXPECT_TRUE(u.sign) << s;
  }
  for (const char* s : {"inf", "INF", "Infinity", "+infinity", "-inf", "-InFiNiTy"}) {
    const fpsim::Unpacked u = fpsim::parse_number(s);
    EXPECT_EQ(u.cls, fpsim::ValueClass::inf) << s;
    EXPECT_EQ(u.sign, s[0] == '-') << s;
  }
  for (const char* s : {"nan", "NaN", "-nan", "+NAN"}) {
    const fpsim::Unpacked u = fpsim::parse_number(s);
    EXPECT_EQ(u.cls, fpsim::ValueClass::quiet_nan) << s;
    EXPECT_EQ(u.sign, s[0] == '-') << s;
  }
}

TEST(ParseNumber, RandomDecimalsAgainstMpfr) {
  std::mt19937_64 rng(20240611);
  for (int i = 0; i < 4000; ++i) {
    const int n = 1 + int(rng() % 40);
    const int64_t exp10 = int64_t(rng() % 801) - 400;
    check(spell(random_digits(rng, n), exp10, rng() & 1, unsigned(rng())), kFp64);
  }
  // Exponents around the fp32 / fp16 / bf16 ranges.
  for (int i = 0; i < 2000; ++i) {
    const int n = 1 + int(rng() % 40);
    const int64_t exp10 = int64_t(rng() % 121) - 80;
    const std::string s = spell(random_digits(rng, n), exp10 - n, rng() & 1, unsigned(rng()));
    check(s, kFp32);
    check(s, kBf16);
    check(s, kFp16);
  }
}

TEST(ParseNumber, HalfwayFp64) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1500; ++i) {
    uint64_t bits = rng() & 0x7FFFFFFFFFFFFFFFull;
    if (i % 5 == 0) bits &= 0x000FFFFFFFFFFFFFull;                                            // subnormals
    if (i % 7 == 0) bits = (bits & 0x800FFFFFFFFFFFFFull) | (uint64_t(1 + rng() % 4) << 52);  // smallest normals
    if ((bits >> 52) == 0x7FF) continue;
    const uint64_t field = bits >> 52, frac = bits & ((uint64_t{1} << 52) - 1);
    const uint64_t significand = field ? frac | (uint64_t{1} << 52) : frac;
    const int64_t e2 = field ? int64_t(field) - 1075 : -1074;
    check_halfway(kFp64, significand, e2, rng, rng() & 1);
  }
}

TEST(ParseNumber, HalfwayFp32) {
  std::mt19937_64 rng(8);
  for (int i = 0; i < 1500; ++i) {
    uint32_t bits = uint32_t(rng()) & 0x7FFFFFFFu;
    if (i % 5 == 0) bits &= 0x007FFFFFu;
    if ((bits >> 23) == 0xFF) continue;
    const uint32_t field = bits >> 23, frac = bits & 0x7FFFFFu;
    const uint64_t significand = field ? frac | (1u << 23) : frac;
    const int64_t e2 = field ? int64_t(field) - 150 : -149;
    check_halfway(kFp32, significand, e2, rng, rng() & 1);
    // The same decimal strings through the other formats' ranges too.
    if (i % 3 == 0) {
      std::string digits;
      int64_t exp10 = 0;
      exact_decimal(2 * significand + 1, e2 - 1, digits, exp10);
      check(spell(digits, exp10, false, 0), kFp64);
      check(spell(digits, exp10, false, 0), kBf16);
    }
  }
  // fp16 and bf16 midpoints, every one of them.
  for (uint32_t bits = 0; bits < 0x7C00; ++bits) {
    const uint32_t field = bits >> 10, frac = bits & 0x3FF;
    check_halfway(kFp16, field ? frac | 0x400 : frac, field ? int64_t(field) - 25 : -24, rng, bits & 1);
  }
  for (uint32_t bits = 0; bits < 0x7F80; bits += 3) {
    const uint32_t field = bits >> 7, frac = bits & 0x7F;
    check_halfway(kBf16, field ? frac | 0x80 : frac, field ? int64_t(field) - 134 : -133, rng, bits & 1);
  }
}

TEST(ParseNumber, Fp64Boundaries) {
  const char* cases[] = {
      "4.9406564584124654e-324",  // 2^-1074
      "2.4703282292062327e-324",  // just below 2^-1075
      "2.4703282292062328e-324",  // just above
      "2.47032822920623272088284396434110686182529901307162382212792841250337753635104375932649918180817996189"
      "8982823477228588654633283551779698981993873980053909390631503565951557022644e-324",
      "7.4109846876186981626485318930233205854758970392148714663837852375101326090531312779794975454245398856"
      "9694468432685765963899850655339096945981621940161728171894510697854671067917687257517734731555330779540"
      "8549809608457500958111373034747658096871009590975442271004757307809711118935784838675653998783503015228"
      "0556306568734651049e-324",  // 3 * 2^-1076: halfway between 1 and 2 subnormal ulps
      "2.2250738585072014e-308",   // 2^-1022
      "2.2250738585072011e-308",   // largest subnormal, rounded
      "2.225073858507201136057409796709131975934819546351645648023426109724822222021076945516529523908135087914"
      "149158913039621106870086438694594645527657207407820621743379988141063267329253552286881372149012981122451"
      "451889849057222307285255133155755015914397476397983411801999323962548289017107081850690630666655994938275"
      "7725720157630626906633326475653000092458883164330377797918696120494973903778297049050510806099407302629371"
      "2895010e-308",  // (2^-1022 + largest subnormal) / 2
      "1.7976931348623157e308",
      "1.7976931348623158e308",
      "1.797693134862315807937289714053e308",  // just above the overflow midpoint
      "1.797693134862315708145274237317043567980705675258449965989174768031572607800285387605895586327668781715"
      "404589535143824642343213268894641827684675467035375169860499105765512820762454900903893289440758685084551"
      "339423045832369032229481658085593321233482747978262041447231687381771809192998812504040261841248583680e308",
      "0x1p-1074",
      "0x1p-1075",
      "0x1.0000000000001p-1075",
      "0x0.fffffffffffff8p-1022",
      "0x1.fffffffffffff8p1023",
      "0x1.fffffffffffff7ffffffffffffp1023",
      "1e-400",
      "1e400",
      "-1e-400",
      "-1e400",
      "0.5e-323",
      "1e-323",
  };
  for (const char* s : cases) {
    check(s, kFp64);
    check(s, kFp32);
  }
}

TEST(ParseNumber, HexAgainstMpfr) {
  std::mt19937_64 rng(99);
  const char* hex = "0123456789abcdefABCDEF";
  for (int i = 0; i < 3000; ++i) {
    std::string s = rng() & 1 ? "-" : "";
    s += rng() & 1 ? "0x" : "0X";
    const int before = int(rng() % 4), after = int(rng() % 24);
    for (int j = 0; j < before; ++j) s.push_back(hex[rng() % 22]);
    if (after || before == 0) {
      s.push_back('.');
      for (int j = 0; j < (before == 0 ? after + 1 : after); ++j) s.push_back(hex[rng() % 22]);
    }
    s += rng() & 1 ? "p" : "P";
    s += std::to_string(int64_t(rng() % 2301) - 1150);
    check(s, kFp64);
    if (i % 4 == 0) check(s, kFp32);
  }
  for (const char* s : {"0x1", "0xA", "0x.8", "0x1.", "0x1p+3", "0x0.0000000000000000000000000000000001p0",
                        "0x1.00000000000000000000000000000000000000000001p0",
                        "0x1.000000000000080000000000000000000000000001p0", "0x1.00000000000008p0"}) {
    check(s, kFp64);
  }
}

TEST(ParseNumber, LongStrings) {
  std::mt19937_64 rng(5);
  // 10,000-digit numbers at several scales.
  for (int i = 0; i < 40; ++i) {
    std::string digits = "1";
    digits += random_digits(rng, 9999);
    const int64_t exp10 = int64_t(rng() % 700) - 350 - 9999;
    check(spell(digits, exp10, rng() & 1, unsigned(rng())), kFp64);
    check(spell(digits, exp10 + 9999 - 20, false, 0), kFp32);
  }
  // A midpoint written with thousands of extra zeros, then a final 1 far down.
  const std::string mid = "9007199254740993";  // 2^53 + 1
  check(mid, kFp64);
  check(mid + std::string(".") + std::string(5000, '0'), kFp64);
  check(mid + std::string(".") + std::string(5000, '0') + "1", kFp64);
  check(mid + std::string(5000, '0') + "1e-5001", kFp64);
  check(std::string("0.") + std::string(3000, '0') + "1e3001", kFp64);  // 1, with the digits far below 10^-2200
  check(std::string("0.") + std::string(3000, '0') + "9007199254740993e3016", kFp64);
  check(std::string("0.") + std::string(3000, '0') + "90071992547409930000000000000000000001e3016", kFp64);
  // Many digits far below the value's last fp64 place.
  check(std::string("1.") + std::string(4000, '0') + "1", kFp64);
  check(std::string("0.99999999999999994448884876874217297882") + std::string(4000, '9'), kFp64);
  // A subnormal midpoint padded far out (its exact expansion reaches 10^-1075).
  std::string digits;
  int64_t exp10 = 0;
  exact_decimal(3, -1076, digits, exp10);
  check(spell(digits + std::string(3000, '0') + "1", exp10 - 3001, false, 0), kFp64);
  check(spell(add_last(digits + std::string(3000, '0'), -1), exp10 - 3000, false, 0), kFp64);
}

TEST(ParseNumber, HugeExponentsAreCappedAndFast) {
  // Beyond every format: the capped value rounds like any certain overflow /
  // underflow, in every built-in format, mode and overflow policy.
  const std::pair<const char*, const char*> same[] = {
      {"1e999999999", "0x1p1500"},
      {"-1e999999999", "-0x1p1500"},
      {"1e99999999999999999999999", "0x1p1500"},
      {"0x1p99999999999999", "0x1p1500"},
      {"1e-999999999", "0x1p-1500"},
      {"-1e-999999999", "-0x1p-1500"},
      {"1e-99999999999999999999", "0x1p-1500"},
      {"0x1p-99999999999", "0x1p-1500"},
      {"1e700", "0x1p1500"},
      {"1e-700", "0x1p-1500"},
      {"0x1p2001", "0x1p1500"},
      {"0x1p-2001", "0x1p-1500"},
  };
  for (const auto& [s, like] : same) {
    const fpsim::Unpacked u = fpsim::parse_number(s);
    EXPECT_TRUE(u.sticky) << s;
    for (const Format& f : fpsim::builtin_formats()) {
      for (const Mode& m : kModes) {
        for (const auto overflow : {fpsim::Overflow::ieee, fpsim::Overflow::saturate}) {
          for (const bool ftz : {false, true}) {
            RoundingSpec spec;
            spec.rounding = m.fpsim;
            spec.overflow = overflow;
            spec.ftz = ftz;
            Flags a, b;
            const uint64_t ca = fpsim::round(u, f, spec, a);
            const uint64_t cb = fpsim::round(fpsim::parse_number(like), f, spec, b);
            EXPECT_EQ(ca, cb) << s << " " << f.name << " " << m.name;
            EXPECT_EQ(a.bits, b.bits) << s << " " << f.name << " " << m.name;
          }
        }
      }
    }
    check(s, kFp64);
    check(s, kFp32);
  }
  // Time and memory do not grow with the exponent or the digit count.
  std::mt19937_64 rng(3);
  const std::string long_inputs[] = {
      "1e999999999",
      "-1e-999999999",
      std::string("1") + random_digits(rng, 9999) + "e-10000",
      std::string("0.") + random_digits(rng, 10000),
      random_digits(rng, 10000) + "e-10300",
      std::string("1") + random_digits(rng, 100000) + "e-100000",
      std::string("0.") + std::string(100000, '0') + "1e100000",
      std::string("0x") + std::string(10000, 'f') + "p-40000",
      std::string("1") + std::string(100000, '0'),
  };
  for (const std::string& s : long_inputs) {
    const auto start = std::chrono::steady_clock::now();
    (void)fpsim::parse_number(s);
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(ms, 50.0) << s.substr(0, 40) << "... (" << s.size() << " chars)";
  }
  check(std::string("0.") + std::string(100000, '0') + "1e100000", kFp64);
  check(std::string("1") + std::string(100000, '0') + "e-100000", kFp64);
}

TEST(ParseNumber, MalformedInputsThrow) {
  const std::string bad[] = {"",      "+",     "-",    ".",     "1e",    "1e+",   "1E-",    "--1",    "+-1",
                             "0x",    "0x.",   "0xp1", "0x1p",  "0x1p-", "1.2.3", "1..2",   "e5",     ".e5",
                             "1 ",    " 1",    "1x",   "abc",   "inf1",  "infin", "nana",   "nan(1)", "0x1.8p1.5",
                             "1e5e5", "1e5.0", "0x1g", "0xx1",  "1_000", "1,5",   "٣",      "1\n",    "0x-1",
                             "- 1",   "1e 5",  "++1",  "+inf+", "0b101", "1p5",   "0x1e+5", "i",      "--inf"};
  for (const std::string& s : bad) {
    try {
      (void)fpsim::parse_number(s);
      ADD_FAILURE() << "no error for '" << s << "'";
    } catch (const fpsim::ParseError& e) {
      const std::string what = e.what();
      // The text is echoed quoted, control characters escaped (fpsim/quoted_text.hpp).
      const std::string shown = s == "1\n" ? std::string("1\\n") : s;
      EXPECT_EQ(what.rfind("'" + shown + "' is not a number: ", 0), 0u) << what;
      EXPECT_GT(what.size(), s.size() + 19) << "no reason given: " << what;
    }
  }
  // A string with a NUL inside is not a number either.
  EXPECT_THROW((void)fpsim::parse_number(std::string_view("1\0"
                                                          "2",
                                                          3)),
               fpsim::ParseError);
}

}  // namespace
