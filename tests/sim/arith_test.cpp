// Named arithmetic cases whose expected values follow from IEEE 754 and the
// spec by hand (docs/formats.md §9.15 among them), and the properties the
// one-rounding design promises: fused means one rounding, modes are per call
// (threads with different modes do not interfere), stochastic rounding never
// moves an exact result.
#include "fpsim/arith.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cfenv>
#include <cstdio>
#include <functional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/format_table.hpp"
#include "test_random.hpp"

#if defined(__x86_64__)
#include <xmmintrin.h>  // _mm_getcsr / _mm_setcsr: MXCSR's FTZ and DAZ
#endif

namespace fpsim {
namespace {

constexpr Format kF32 = formats::fp32;
constexpr Format kF16 = formats::fp16;
constexpr Format kE4M3 = formats::e4m3;

uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }

RoundingSpec mode(Rounding r) {
  RoundingSpec rs;
  rs.rounding = r;
  return rs;
}

// docs/formats.md §9.15: (1 + 2^-23)(1 - 2^-23) = 1 - 2^-46 exactly, so the
// fused result is -2^-46; rounding the product first gives 1 and then 0.
TEST(Arith, FusedMultiplyAddRoundsOnce) {
  const uint32_t a = 0x3F800001;  // 1 + 2^-23
  const uint32_t b = 0x3F7FFFFF;  // 1 - 2^-24 ... (the float just below 1)
  // 0x3F7FFFFF is 1 - 2^-24; the spec's 1 - 2^-23 is 0x3F7FFFFE.
  const uint32_t b_spec = 0x3F7FFFFE;
  const uint32_t minus_one = 0xBF800000;
  Flags fl;
  EXPECT_EQ(fma(a, b_spec, minus_one, kF32, {}, fl), bits(-0x1p-46f));
  EXPECT_EQ(fl.bits, 0u);  // exact
  Flags f2;
  const uint64_t product = mul(a, b_spec, kF32, {}, f2);
  EXPECT_EQ(product, 0x3F800000u);  // 1 - 2^-46 rounds to 1
  EXPECT_EQ(add(product, minus_one, kF32, {}, f2), 0u);
  // And with b = 1 - 2^-24: (1 + 2^-23)(1 - 2^-24) - 1 = 2^-24 - 2^-47.
  Flags f3;
  EXPECT_EQ(fma(a, b, minus_one, kF32, {}, f3), bits(0x1p-24f - 0x1p-47f));
  EXPECT_EQ(f3.bits, 0u);  // 2^-24 - 2^-47 has 24 significant bits: exact
}

TEST(Arith, MixedFormatFmaIsTheTensorCoreStep) {
  // fp16 factors (1 + 2^-10)^2 = 1 + 2^-9 + 2^-20, fp32 addend -1: exact in fp32.
  Flags fl;
  const uint64_t got = fma(0x3C01, kF16, 0x3C01, kF16, 0xBF800000, kF32, kF32, {}, fl);
  EXPECT_EQ(got, bits(0x1p-9f + 0x1p-20f));
  EXPECT_EQ(fl.bits, 0u);
  // The same into fp16: 2^-9 + 2^-20 needs 12 bits; rne drops 2^-20 (below half an ulp).
  Flags f2;
  EXPECT_EQ(fma(0x3C01, kF16, 0x3C01, kF16, 0xBF800000, kF32, kF16, {}, f2), 0x1800u);  // 2^-9
  EXPECT_EQ(f2.bits, Flags::inexact);
}

TEST(Arith, KnownCorrectlyRoundedValues) {
  Flags fl;
  EXPECT_EQ(sqrt(0x40000000, kF32, {}, fl), 0x3FB504F3u);  // sqrt(2), rne
  EXPECT_EQ(sqrt(0x40000000, kF32, mode(Rounding::rup), fl), 0x3FB504F4u);
  EXPECT_EQ(div(0x3C00, 0x4200, kF16, {}, fl), 0x3555u);  // 1/3 in fp16
  EXPECT_EQ(div(0x3C00, 0x4200, kF16, mode(Rounding::rup), fl), 0x3556u);
  // e4m3: 448 + 32 = 480 overflows (OCP: NaN 0x7F), saturate gives 448.
  Flags f2;
  EXPECT_EQ(add(0x7E, 0x60 /*32*/, kE4M3, {}, f2), 0x7Fu);
  EXPECT_EQ(f2.bits, Flags::overflow | Flags::inexact);
  RoundingSpec sat;
  sat.overflow = Overflow::saturate;
  Flags f3;
  EXPECT_EQ(add(0x7E, 0x60, kE4M3, sat, f3), 0x7Eu);
  EXPECT_EQ(f3.bits, Flags::overflow | Flags::inexact | Flags::saturated);
  // 448 + 8 = 456 is below the 464 tie: 448, inexact only.
  Flags f4;
  EXPECT_EQ(add(0x7E, 0x50 /*8*/, kE4M3, {}, f4), 0x7Eu);
  EXPECT_EQ(f4.bits, Flags::inexact);
}

TEST(Arith, DivisionByZeroIntoFormatsWithoutInfinity) {
  Flags fl;
  EXPECT_EQ(div(0x38 /*1*/, 0x00, kE4M3, {}, fl), 0x7Fu);
  EXPECT_EQ(fl.bits, Flags::infinite | Flags::invalid);
  RoundingSpec sat;
  sat.overflow = Overflow::saturate;
  Flags f2;
  EXPECT_EQ(div(0xB8 /*-1*/, 0x00, kE4M3, sat, f2), 0xFEu);  // -448
  EXPECT_EQ(f2.bits, Flags::infinite | Flags::saturated);
  Flags f3;
  EXPECT_EQ(div(0x3C00, 0x8000, kF16, {}, f3), 0xFC00u);  // 1 / -0 = -inf
  EXPECT_EQ(f3.bits, Flags::infinite);
}

TEST(Arith, SignsOfZero) {
  Flags fl;
  EXPECT_EQ(sub(0x3C00, 0x3C00, kF16, {}, fl), 0x0000u);
  EXPECT_EQ(sub(0x3C00, 0x3C00, kF16, mode(Rounding::rdn), fl), 0x8000u);
  EXPECT_EQ(add(0x8000, 0x8000, kF16, {}, fl), 0x8000u);
  EXPECT_EQ(add(0x0000, 0x8000, kF16, {}, fl), 0x0000u);
  EXPECT_EQ(add(0x0000, 0x8000, kF16, mode(Rounding::rdn), fl), 0x8000u);
  EXPECT_EQ(mul(0x8000, 0x3C00, kF16, {}, fl), 0x8000u);
  EXPECT_EQ(sqrt(0x8000, kF16, {}, fl), 0x8000u);
  EXPECT_EQ(fl.bits, 0u);
  // A tiny negative product that rounds to zero keeps its sign.
  Flags f2;
  EXPECT_EQ(mul(0x8001, 0x0001, kF16, {}, f2), 0x8000u);
  EXPECT_EQ(f2.bits, Flags::underflow | Flags::inexact);
}

TEST(Arith, InvalidOperationsGiveTheDefaultNaN) {
  Flags fl;
  EXPECT_EQ(sub(0x7C00, 0x7C00, kF16, {}, fl), 0x7E00u);
  EXPECT_EQ(fl.bits, Flags::invalid);
  Flags f2;
  EXPECT_EQ(sqrt(0xBC00, kF16, {}, f2), 0x7E00u);
  EXPECT_EQ(f2.bits, Flags::invalid);
  Flags f3;  // 0 * inf + qNaN: invalid all the same (SoftFloat / TestFloat)
  EXPECT_EQ(fma(0x0000, 0x7C00, 0x7E00, kF16, {}, f3), 0x7E00u);
  EXPECT_EQ(f3.bits, Flags::invalid);
  Flags f4;  // a quiet NaN operand: no flag; a negative NaN gives the positive default
  EXPECT_EQ(add(0xFE00, 0x3C00, kF16, {}, f4), 0x7E00u);
  EXPECT_EQ(f4.bits, 0u);
  Flags f5;  // signaling
  EXPECT_EQ(mul(0x7C01, 0x3C00, kF16, {}, f5), 0x7E00u);
  EXPECT_EQ(f5.bits, Flags::invalid);
  Flags f6;  // e2m1 has no NaN: +max (6.0 = 0x7) and invalid
  EXPECT_EQ(div(0x0, 0x0, formats::e2m1, {}, f6), 0x7u);
  EXPECT_EQ(f6.bits, Flags::invalid);
}

TEST(Arith, ComparisonsAndMinMax) {
  Flags fl;
  EXPECT_TRUE(compare(Comparison::eq, false, 0x0000, kF16, 0x8000, kF16, {}, fl));
  EXPECT_FALSE(compare(Comparison::lt, false, 0x8000, kF16, 0x0000, kF16, {}, fl));
  EXPECT_EQ(fl.bits, 0u);
  EXPECT_FALSE(compare(Comparison::eq, false, 0x7E00, kF16, 0x7E00, kF16, {}, fl));
  EXPECT_EQ(fl.bits, 0u);  // quiet
  EXPECT_FALSE(compare(Comparison::lt, true, 0x7E00, kF16, 0x3C00, kF16, {}, fl));
  EXPECT_EQ(fl.bits, Flags::invalid);  // signaling
  Flags f2;
  EXPECT_TRUE(compare(Comparison::unordered, false, 0x7C01, kF16, 0x3C00, kF16, {}, f2));
  EXPECT_EQ(f2.bits, Flags::invalid);  // a signaling NaN, even for a quiet predicate
  // Exact comparison across formats: fp32 1 + 2^-23 > fp16 1.
  Flags f3;
  EXPECT_TRUE(compare(Comparison::lt, false, 0x3C00, kF16, 0x3F800001, kF32, {}, f3));
  Flags f4;
  EXPECT_EQ(min_max(MinMax::minimum, 0x0000, kF16, 0x8000, kF16, kF16, {}, f4), 0x8000u);
  EXPECT_EQ(min_max(MinMax::maximum, 0x8000, kF16, 0x0000, kF16, kF16, {}, f4), 0x0000u);
  EXPECT_EQ(min_max(MinMax::minimum, 0x7E00, kF16, 0x3C00, kF16, kF16, {}, f4), 0x7E00u);
  EXPECT_EQ(min_max(MinMax::minimum_number, 0x7E00, kF16, 0x3C00, kF16, kF16, {}, f4), 0x3C00u);
  EXPECT_EQ(f4.bits, 0u);
  Flags f5;
  EXPECT_EQ(min_max(MinMax::maximum_number, 0x7C01, kF16, 0x3C00, kF16, kF16, {}, f5), 0x3C00u);
  EXPECT_EQ(f5.bits, Flags::invalid);
}

TEST(Arith, StochasticRoundingNeverMovesExactResults) {
  RoundingSpec sr = mode(Rounding::sr);
  for (uint64_t i = 0; i < 1000; ++i) {
    sr.seed = uint32_t(i);
    Flags fl;
    EXPECT_EQ(add(0x3C00, 0x3C00, kF16, sr, fl, i), 0x4000u);  // 1 + 1 = 2
    EXPECT_EQ(mul(0x4000, 0x3800, kF16, sr, fl, i), 0x3C00u);  // 2 * 0.5 = 1
    EXPECT_EQ(sub(0x3C00, 0x3C00, kF16, sr, fl, i), 0x0000u);  // +0, never -0
    EXPECT_EQ(fl.bits, 0u);
  }
}

// Modes live in the call, not in the thread: two threads running the same
// operations in different modes get what each gets alone (§9.15).
TEST(Arith, ThreadsWithDifferentModesDoNotInterfere) {
  const auto run = [](Rounding r, std::vector<uint64_t>& out) {
    const RoundingSpec rs = mode(r);
    for (uint64_t i = 0; i < 200000; ++i) {
      Flags fl;
      const uint64_t a = (i * 2654435761u) & 0xFFFF, b = (i * 40503u + 12345u) & 0xFFFF;
      out.push_back(div(a, b, kF16, rs, fl) ^ (uint64_t{fl.bits} << 16));
    }
  };
  std::vector<uint64_t> up_alone, down_alone, up, down;
  run(Rounding::rup, up_alone);
  run(Rounding::rdn, down_alone);
  std::thread t1([&] { run(Rounding::rup, up); });
  std::thread t2([&] { run(Rounding::rdn, down); });
  t1.join();
  t2.join();
  EXPECT_EQ(up, up_alone);
  EXPECT_EQ(down, down_alone);
  EXPECT_NE(up, down);
}

// ---- the fast path against the definition -----------------------------------
// arith_fast.hpp forms common results on 64-bit integers; wherever it answers
// it must give the definition's code and flags (all flag bits, saturated and
// flushed included), and where it declines it must not have raised anything
// (docs/arithmetic-semantics.md, "The fast path"). Operands are biased to
// where the 64-bit windows could go wrong: subnormal operands and results,
// overflow, exact and near cancellation, ties, carries out of the top
// mantissa bit, exponent gaps around the window widths and beyond.

// A code of f biased to the delicate places.
uint64_t biased_code(const Format& f, uint64_t r) {
  const uint64_t sign = (r & 1) != 0 ? f.sign_mask() : 0;
  const uint64_t man = f.man_bits, man_mask = f.man_mask();
  const uint64_t top_field = f.max_code() >> man;  // the largest finite exponent field
  const uint64_t field = (r >> 8) % (top_field + 1), frac = (r >> 24) & man_mask;
  uint64_t mag = 0;
  switch ((r >> 1) % 8) {
    case 0:  // anything: zeros, infinities and NaNs included
      mag = (r >> 8) & f.magnitude_mask();
      break;
    case 1:  // subnormal (or zero)
      mag = frac;
      break;
    case 2:  // the lowest normal binades
      mag = ((1 + (r >> 8) % 3) << man) | frac;
      break;
    case 3:  // the top of the range
      mag = f.max_code() - ((r >> 8) % (2 * man_mask + 2));
      break;
    case 4:  // near one
      mag = ((uint64_t(f.bias) + (r >> 8) % 5 - 2) << man) | frac;
      break;
    case 5:  // mantissa all ones, or nearly: carries on rounding
      mag = (field << man) | (man_mask - ((r >> 24) % 3 & man_mask));
      break;
    case 6:  // one or two mantissa bits: exact products, ties
      mag = (field << man) | (frac & (uint64_t{3} << (man > 2 ? man - 2 : 0)));
      break;
    default:
      mag = (field << man) | frac;
      break;
  }
  if (mag > f.magnitude_mask()) mag = f.max_code();
  return sign | mag;
}

// A code of g near the value of code a of f, with a perturbation of a few
// units, a random sign and sometimes a shifted exponent (gaps around 0..60
// and beyond): cancellation, quotients near one, alignment edges.
uint64_t partner_code(uint64_t a, const Format& f, const Format& g, uint64_t r) {
  Flags ignored;
  uint64_t c = convert(a, f, g, RoundingSpec{}, ignored) & g.magnitude_mask();
  const int64_t delta = int64_t((r >> 8) % 7) - 3;
  c = uint64_t(int64_t(c) + delta);
  if ((r >> 12) % 3 == 0) c += ((r >> 16) % 64) << g.man_bits;  // a larger exponent
  if ((r >> 12) % 3 == 1) c -= ((r >> 16) % 64) << g.man_bits;  // a smaller one (may wrap)
  if (c > g.max_code()) c = (r >> 24) & g.magnitude_mask();
  return ((r & 1) != 0 ? g.sign_mask() : 0) | c;
}

// The specs: every mode with both overflow policies, ftz, daz and tininess
// before, and stochastic rounding exact and sr<R> for several R and seeds.
std::vector<RoundingSpec> fast_path_specs() {
  std::vector<RoundingSpec> out;
  const Rounding modes[] = {Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::rup, Rounding::rdn, Rounding::rto};
  for (Rounding m : modes)
    for (int v = 0; v < 8; ++v) {
      RoundingSpec rs;
      rs.rounding = m;
      rs.overflow = (v & 1) != 0 ? Overflow::saturate : Overflow::ieee;
      rs.ftz = (v & 2) != 0;
      rs.daz = (v & 4) != 0;
      rs.tininess = v == 3 || v == 6 ? Tininess::before : Tininess::after;
      out.push_back(rs);
    }
  for (uint8_t bits : {0, 1, 3, 8, 13, 23, 32, 33, 64})
    for (uint32_t seed : {1u, 77u, 123456789u}) {
      RoundingSpec rs;
      rs.rounding = Rounding::sr;
      rs.sr_bits = bits;
      rs.seed = seed;
      rs.stream = seed * 3;
      rs.step = bits;
      rs.ftz = seed == 77;
      rs.tininess = seed == 123456789u ? Tininess::before : Tininess::after;
      out.push_back(rs);
    }
  return out;
}

struct FastCase {
  std::string name;
  ArithOp op;
  Format fa, fb, fc, out;
};

void PrintTo(const FastCase& c, std::ostream* os) { *os << c.name; }

class ArithFastPath : public testing::TestWithParam<FastCase> {};

TEST_P(ArithFastPath, GivesTheDefinitionsCodesAndFlags) {
  const FastCase& fc = GetParam();
  const std::vector<RoundingSpec> specs = fast_path_specs();
  constexpr uint64_t kSamples = 60000;
  uint64_t checked = 0, answered = 0, deterministic = 0, answered_deterministic = 0, failures = 0;
  for (uint64_t i = 0; i < kSamples; ++i) {
    const uint64_t seed = test::mix64(i ^ (uint64_t(fc.op) << 56) ^ std::hash<std::string>{}(fc.name));
    const RoundingSpec& rs = specs[test::mix64(seed) % specs.size()];
    const uint64_t r1 = test::mix64(seed + 1), r2 = test::mix64(seed + 2), r3 = test::mix64(seed + 3);
    uint64_t a = biased_code(fc.fa, r1);
    if (fc.op == ArithOp::sqrt && (r2 & 3) != 0) a &= ~fc.fa.sign_mask();  // mostly x >= 0
    uint64_t b = (r2 >> 60) < 6 ? partner_code(a, fc.fa, fc.fb, r2) : biased_code(fc.fb, r2);
    uint64_t c = biased_code(fc.fc, r3);
    if (fc.op == ArithOp::fma && (r3 >> 60) < 10) {
      // c near -(a * b): cancellation of the product, to every depth.
      Flags ignored;
      const uint64_t p = detail::general_mul(a, fc.fa, b, fc.fb, fc.fc, RoundingSpec{}, ignored);
      c = partner_code(p, fc.fc, fc.fc, r3) ^ ((r3 >> 59) % 3 == 0 ? 0 : fc.fc.sign_mask());
    }
    const uint64_t index = r1 >> 40;
    Flags fast_fl, def_fl, pub_fl;
    uint64_t fast = ~uint64_t{0}, def = 0, pub = 0;
    bool took = false;
    switch (fc.op) {
      case ArithOp::add:
        took = detail::fast_add(a, fc.fa, b, fc.fb, false, fc.out, rs, fast_fl, index, fast);
        def = detail::general_add(a, fc.fa, b, fc.fb, fc.out, rs, def_fl, index);
        pub = add(a, fc.fa, b, fc.fb, fc.out, rs, pub_fl, index);
        break;
      case ArithOp::sub:
        took = detail::fast_add(a, fc.fa, b, fc.fb, true, fc.out, rs, fast_fl, index, fast);
        def = detail::general_sub(a, fc.fa, b, fc.fb, fc.out, rs, def_fl, index);
        pub = sub(a, fc.fa, b, fc.fb, fc.out, rs, pub_fl, index);
        break;
      case ArithOp::mul:
        took = detail::fast_mul(a, fc.fa, b, fc.fb, fc.out, rs, fast_fl, index, fast);
        def = detail::general_mul(a, fc.fa, b, fc.fb, fc.out, rs, def_fl, index);
        pub = mul(a, fc.fa, b, fc.fb, fc.out, rs, pub_fl, index);
        break;
      case ArithOp::div:
        took = detail::fast_div(a, fc.fa, b, fc.fb, fc.out, rs, fast_fl, index, fast);
        def = detail::general_div(a, fc.fa, b, fc.fb, fc.out, rs, def_fl, index);
        pub = div(a, fc.fa, b, fc.fb, fc.out, rs, pub_fl, index);
        break;
      case ArithOp::fma:
        took = detail::fast_fma(a, fc.fa, b, fc.fb, c, fc.fc, fc.out, rs, fast_fl, index, fast);
        def = detail::general_fma(a, fc.fa, b, fc.fb, c, fc.fc, fc.out, rs, def_fl, index);
        pub = fma(a, fc.fa, b, fc.fb, c, fc.fc, fc.out, rs, pub_fl, index);
        break;
      case ArithOp::sqrt:
        took = detail::fast_sqrt(a, fc.fa, fc.out, rs, fast_fl, index, fast);
        def = detail::general_sqrt(a, fc.fa, fc.out, rs, def_fl, index);
        pub = sqrt(a, fc.fa, fc.out, rs, pub_fl, index);
        break;
    }
    ++checked;
    answered += took ? 1 : 0;
    if (rs.rounding != Rounding::sr) {
      ++deterministic;
      answered_deterministic += took ? 1 : 0;
    }
    // The public entry runs the compile-time layout instance where every
    // operand has out's layout (fp16, bf16, fp32, e4m3, e5m2 here), the
    // generic fast path above otherwise: pub checks whichever it took.
    const bool bad = (took && (fast != def || fast_fl.bits != def_fl.bits)) || (!took && fast_fl.bits != 0) ||
                     pub != def || pub_fl.bits != def_fl.bits;
    if (bad && failures++ < 10)
      ADD_FAILURE() << fc.name << " a=0x" << std::hex << a << " b=0x" << b << " c=0x" << c << " mode "
                    << int(rs.rounding) << " sr_bits " << std::dec << int(rs.sr_bits) << " ov " << int(rs.overflow)
                    << " ftz " << rs.ftz << " daz " << rs.daz << " tininess " << int(rs.tininess) << " index " << index
                    << std::hex << ": fast " << (took ? "0x" : "declined ") << fast << " flags 0x" << fast_fl.bits
                    << ", public 0x" << pub << " flags 0x" << pub_fl.bits << ", definition 0x" << def << " flags 0x"
                    << def_fl.bits;
  }
  EXPECT_EQ(failures, 0u) << "of " << checked;
  // Which cases the instances serve: the five layouts, same format throughout.
  const bool instance_layout = fc.name.find("_to_") == std::string::npos &&
                               (fc.name.ends_with("_fp16") || fc.name.ends_with("_bf16") ||
                                fc.name.ends_with("_fp32") || fc.name.ends_with("_e4m3") || fc.name.ends_with("_e5m2"));
  EXPECT_EQ(detail::fast_instance(fc.out, fc.fa, fc.fb, fc.op == ArithOp::fma ? fc.fc : fc.out) != 0, instance_layout)
      << fc.name;
  // The comparison means something only if the fast path answers most
  // deterministic cases (the rest: specials, zeros, daz'd subnormals).
  EXPECT_GT(answered_deterministic * 2, deterministic) << fc.name;
  std::printf("[ fast path ] %s: %llu cases, fast path answered %llu (%llu of %llu deterministic)\n", fc.name.c_str(),
              (unsigned long long)checked, (unsigned long long)answered, (unsigned long long)answered_deterministic,
              (unsigned long long)deterministic);
}

std::vector<FastCase> fast_cases() {
  using namespace formats;
  const Format e6m9 = parse_format("e6m9"), e11m4 = parse_format("e11m4");
  std::vector<FastCase> out;
  const ArithOp ops[] = {ArithOp::add, ArithOp::sub, ArithOp::mul, ArithOp::div, ArithOp::fma, ArithOp::sqrt};
  const char* const names[] = {"add", "sub", "mul", "div", "fma", "sqrt"};
  struct Same {
    const char* name;
    Format f;
  };
  const Same same[] = {{"fp16", fp16}, {"bf16", bf16},   {"fp32", fp32},         {"tf32", tf32},
                       {"e4m3", e4m3}, {"e5m2", e5m2},   {"e4m3fnuz", e4m3fnuz}, {"e2m1", e2m1},
                       {"e3m2", e3m2}, {"ue4m3", ue4m3}, {"e6m9", e6m9},         {"e11m4", e11m4}};
  for (int k = 0; k < 6; ++k) {
    const std::string op = names[k];
    for (const Same& s : same) out.push_back({op + "_" + s.name, ops[k], s.f, s.f, s.f, s.f});
    // Mixed formats: the tensor-core step and narrowing results.
    out.push_back({op + "_fp16_fp16_fp32_to_bf16", ops[k], fp16, fp16, fp32, bf16});
    out.push_back({op + "_bf16_fp32_e4m3_to_fp16", ops[k], bf16, fp32, e4m3, fp16});
    out.push_back({op + "_fp32_fp32_fp32_to_e5m2", ops[k], fp32, fp32, fp32, e5m2});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Arith, ArithFastPath, testing::ValuesIn(fast_cases()),
                         [](const testing::TestParamInfo<FastCase>& info) { return info.param.name; });

// ---- the compile-time layout instances (arith_fast.hpp) -------------------

#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kSanitizerDivisor = 32;  // the same coverage shape, fewer cases
#else
constexpr uint64_t kSanitizerDivisor = 1;
#endif

// The instance is chosen by the layout's data, not by a name or a width.
TEST(ArithFastInstances, AreChosenByLayoutData) {
  using namespace formats;
  const int k32 = detail::fast_instance(fp32), k16 = detail::fast_instance(fp16), kbf = detail::fast_instance(bf16);
  const int k43 = detail::fast_instance(e4m3), k52 = detail::fast_instance(e5m2);
  for (int k : {k32, k16, kbf, k43, k52}) EXPECT_NE(k, 0);
  EXPECT_EQ((std::vector<int>{k32, k16, kbf, k43, k52}), (std::vector<int>{1, 2, 3, 4, 5}));
  Format half = fp16;  // the same fields under another name: the same instance
  std::snprintf(half.name, sizeof half.name, "%s", "my_half");
  EXPECT_EQ(detail::fast_instance(half), k16);
  EXPECT_EQ(detail::fast_instance(half, fp16, fp16, fp16), k16);  // distinct objects, one layout
  for (const Format& f : {tf32, e4m3fnuz, e5m2fnuz, e3m4, ue4m3, e2m1, e8m0, int8, fp64})
    EXPECT_EQ(detail::fast_instance(f), 0) << f.name;
  Format biased = fp16;
  biased.bias = 14;
  EXPECT_EQ(detail::fast_instance(biased), 0);
  EXPECT_EQ(detail::fast_instance(fp32, fp16, fp16, fp32), 0);  // mixed operands: the generic path
}

// One operation through the public entry (the instance for these formats),
// through the generic fast path on a runtime copy of the format, and through
// the definition; codes and flags must agree. Returns whether they did;
// `answered` counts the generic fast path's answers.
bool instance_agrees(ArithOp op, uint64_t a, uint64_t b, uint64_t c, const Format& f, const Format& runtime_f,
                     const RoundingSpec& rs, uint64_t index, bool with_definition, uint64_t& answered,
                     std::string& why) {
  Flags pub_fl, gen_fl, def_fl;
  uint64_t pub = 0, gen = ~uint64_t{0}, def = 0;
  bool took = false;
  const Format& g = runtime_f;
  switch (op) {
    case ArithOp::add:
      pub = add(a, b, f, rs, pub_fl, index);
      took = detail::fast_add(a, g, b, g, false, g, rs, gen_fl, index, gen);
      if (with_definition) def = detail::general_add(a, g, b, g, g, rs, def_fl, index);
      break;
    case ArithOp::sub:
      pub = sub(a, b, f, rs, pub_fl, index);
      took = detail::fast_add(a, g, b, g, true, g, rs, gen_fl, index, gen);
      if (with_definition) def = detail::general_sub(a, g, b, g, g, rs, def_fl, index);
      break;
    case ArithOp::mul:
      pub = mul(a, b, f, rs, pub_fl, index);
      took = detail::fast_mul(a, g, b, g, g, rs, gen_fl, index, gen);
      if (with_definition) def = detail::general_mul(a, g, b, g, g, rs, def_fl, index);
      break;
    case ArithOp::div:
      pub = div(a, b, f, rs, pub_fl, index);
      took = detail::fast_div(a, g, b, g, g, rs, gen_fl, index, gen);
      if (with_definition) def = detail::general_div(a, g, b, g, g, rs, def_fl, index);
      break;
    case ArithOp::fma:
      pub = fma(a, b, c, f, rs, pub_fl, index);
      took = detail::fast_fma(a, g, b, g, c, g, g, rs, gen_fl, index, gen);
      if (with_definition) def = detail::general_fma(a, g, b, g, c, g, g, rs, def_fl, index);
      break;
    case ArithOp::sqrt:
      pub = sqrt(a, f, rs, pub_fl, index);
      took = detail::fast_sqrt(a, g, g, rs, gen_fl, index, gen);
      if (with_definition) def = detail::general_sqrt(a, g, g, rs, def_fl, index);
      break;
  }
  answered += took ? 1 : 0;
  bool ok = !took || (gen == pub && gen_fl.bits == pub_fl.bits);
  if (with_definition) ok = ok && pub == def && pub_fl.bits == def_fl.bits;
  if (!ok) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%s op %d a=0x%llx b=0x%llx c=0x%llx mode %d ov %d ftz %d daz %d tin %d: instance 0x%llx/0x%x, "
                  "generic %s0x%llx/0x%x, definition 0x%llx/0x%x",
                  f.name, int(op), (unsigned long long)a, (unsigned long long)b, (unsigned long long)c,
                  int(rs.rounding), int(rs.overflow), rs.ftz, rs.daz, int(rs.tininess), (unsigned long long)pub,
                  pub_fl.bits, took ? "" : "declined ", (unsigned long long)gen, gen_fl.bits, (unsigned long long)def,
                  def_fl.bits);
    why = buf;
  }
  return ok;
}

// Every pair of the 8-bit layouts with an instance, in every deterministic
// spec of fast_path_specs() (6 modes x overflow x ftz x daz x tininess), and
// every sqrt operand; fma on random triples (all 2^24 per spec would be too
// many), all against the definition.
TEST(ArithFastInstances, EveryEightBitPairGivesTheDefinitionsCodesAndFlags) {
  std::vector<RoundingSpec> specs;
  for (const RoundingSpec& rs : fast_path_specs())
    if (rs.rounding != Rounding::sr) specs.push_back(rs);
  const std::vector<Format> runtime = {formats::e4m3, formats::e5m2};
  uint64_t failures = 0, checked = 0, answered = 0;
  std::string why;
  for (const Format& g : runtime) {
    ASSERT_NE(detail::fast_instance(g), 0) << g.name;
    for (size_t s = 0; s < specs.size(); s += kSanitizerDivisor == 1 ? 1 : 7) {
      const RoundingSpec& rs = specs[s];
      for (ArithOp op : {ArithOp::add, ArithOp::sub, ArithOp::mul, ArithOp::div})
        for (uint64_t a = 0; a < 256; ++a)
          for (uint64_t b = 0; b < 256; ++b) {
            ++checked;
            if (!instance_agrees(op, a, b, 0, g, g, rs, 0, true, answered, why) && failures++ < 10)
              ADD_FAILURE() << why;
          }
      for (uint64_t a = 0; a < 256; ++a) {
        ++checked;
        if (!instance_agrees(ArithOp::sqrt, a, 0, 0, g, g, rs, 0, true, answered, why) && failures++ < 10)
          ADD_FAILURE() << why;
      }
      for (uint64_t i = 0; i < 65536 / kSanitizerDivisor; ++i) {
        const uint64_t r = test::mix64(i + (uint64_t(s) << 32));
        ++checked;
        if (!instance_agrees(ArithOp::fma, r & 255, (r >> 8) & 255, (r >> 16) & 255, g, g, rs, 0, true, answered,
                             why) &&
            failures++ < 10)
          ADD_FAILURE() << why;
      }
    }
  }
  EXPECT_EQ(failures, 0u) << "of " << checked;
  EXPECT_GT(answered * 2, checked);  // most cases reach the fast path (the rest: NaN, zero, inf)
}

// 10^7 random pairs per operation for fp16 and bf16 (boundary-biased and
// uniform codes, modes cycling through every deterministic spec): the
// instance against the generic fast path on every case and against the
// definition on every 16th.
TEST(ArithFastInstances, RandomSixteenBitOperandsGiveTheSameCodesAndFlags) {
  std::vector<RoundingSpec> specs;
  for (const RoundingSpec& rs : fast_path_specs())
    if (rs.rounding != Rounding::sr) specs.push_back(rs);
  const std::vector<Format> runtime = {formats::fp16, formats::bf16};
  constexpr uint64_t kPairs = 10'000'000 / kSanitizerDivisor;
  for (const Format& g : runtime) {
    ASSERT_NE(detail::fast_instance(g), 0) << g.name;
    for (ArithOp op : {ArithOp::add, ArithOp::sub, ArithOp::mul, ArithOp::div, ArithOp::fma, ArithOp::sqrt}) {
      uint64_t failures = 0, answered = 0;
      std::string why;
      for (uint64_t i = 0; i < kPairs; ++i) {
        const uint64_t r = test::mix64(i ^ (uint64_t(op) << 40) ^ (uint64_t(g.exp_bits) << 48));
        const bool biased = (r & 1) != 0;
        const uint64_t r2 = test::mix64(r), r3 = test::mix64(r2);
        uint64_t a = biased ? biased_code(g, r) : (r >> 16) & 0xFFFF;
        if (op == ArithOp::sqrt && (r & 6) != 0) a &= ~g.sign_mask();  // mostly x >= 0
        const uint64_t b = biased ? biased_code(g, r2) : (r >> 32) & 0xFFFF;
        const uint64_t c = biased ? biased_code(g, r3) : (r >> 48) & 0xFFFF;
        const RoundingSpec& rs = specs[(r >> 8) % specs.size()];
        if (!instance_agrees(op, a, b, c, g, g, rs, 0, i % 16 == 0, answered, why) && failures++ < 10)
          ADD_FAILURE() << why;
      }
      EXPECT_EQ(failures, 0u) << g.name << " op " << int(op);
      EXPECT_GT(answered * 2, kPairs) << g.name << " op " << int(op);
    }
  }
}

// fp32's add, sub and fma instances (the aligned window of normal operands,
// arith_fast.hpp) against the generic fast path on a runtime copy of the
// format, every 16th also against the definition, in every spec including
// sr: biased and raw codes, b near +-a with exponent gaps around the window
// widths (cancellation at every depth, sticky edges), c near -(a * b).
TEST(ArithFastInstances, RandomFp32AddAndFmaGiveTheSameCodesAndFlags) {
  const std::vector<RoundingSpec> specs = fast_path_specs();
  const Format& g = formats::fp32;
  ASSERT_NE(detail::fast_instance(g), 0);
  constexpr uint64_t kTriples = 2'000'000 / kSanitizerDivisor;
  for (ArithOp op : {ArithOp::add, ArithOp::sub, ArithOp::fma}) {
    uint64_t failures = 0, answered = 0;
    std::string why;
    for (uint64_t i = 0; i < kTriples; ++i) {
      const uint64_t r = test::mix64(i ^ (uint64_t(op) << 40) ^ (uint64_t{32} << 48));
      const uint64_t r2 = test::mix64(r), r3 = test::mix64(r2);
      const uint64_t a = (r & 1) != 0 ? biased_code(g, r) : r >> 32;
      uint64_t b = (r2 & 3) != 0 ? partner_code(a, g, g, r2) : biased_code(g, r2);
      uint64_t c = (r3 & 1) != 0 ? biased_code(g, r3) : r3 >> 32;
      if (op == ArithOp::fma) {
        b = (r2 & 1) != 0 ? biased_code(g, r2) : r2 >> 32;
        if ((r3 & 6) != 0) {  // c near -(a * b): cancellation of the product
          Flags ignored;
          const uint64_t p = detail::general_mul(a, g, b, g, g, RoundingSpec{}, ignored);
          c = partner_code(p, g, g, r3) ^ ((r3 & 8) != 0 ? g.sign_mask() : 0);
        }
      }
      const RoundingSpec& rs = specs[(r >> 8) % specs.size()];
      if (!instance_agrees(op, a, b, c, g, g, rs, r3 >> 40, i % 16 == 0, answered, why) && failures++ < 10)
        ADD_FAILURE() << why;
    }
    EXPECT_EQ(failures, 0u) << "op " << int(op);
    EXPECT_GT(answered * 2, kTriples) << "op " << int(op);
  }
}

// fp32 and bf16 add and sub form their sum in the host's double where the
// exponents are at most 51 - M apart (arith_fast.hpp, "the sum in the host's
// double"); the sum is exact, so no host state may move a code or a flag.
// Here the host rounds upward or downward with flush-to-zero and
// denormals-are-zero set (what -ffast-math's start-up code sets), and
// random pairs with gaps around the double's limit and cancellation of
// every depth meet the definition (integer arithmetic only) in each mode.
TEST(ArithFastInstances, FloatLayoutAddsIgnoreTheHostRoundingModeAndFtzDaz) {
  const int old_rounding = std::fegetround();
#if defined(__x86_64__)
  const unsigned old_csr = _mm_getcsr();
#endif
  const Rounding modes[] = {Rounding::rne, Rounding::rtz, Rounding::rup, Rounding::rdn, Rounding::sr};
  uint64_t failures = 0, cases = 0;
  for (int host = 0; host < 2; ++host) {
    std::fesetround(host == 0 ? FE_UPWARD : FE_DOWNWARD);
#if defined(__x86_64__)
    _mm_setcsr(old_csr | 0x8040u);  // FTZ (bit 15) and DAZ (bit 6)
#endif
    for (const Format* f : {&formats::fp32, &formats::bf16}) {
      const int max_gap = detail::double_sum_max_gap(*f);
      for (uint64_t i = 0; i < 200'000 / kSanitizerDivisor; ++i) {
        const uint64_t r = test::mix64(i ^ (uint64_t(host) << 40) ^ (uint64_t(f->man_bits) << 48));
        const uint64_t r2 = test::mix64(r);
        // a normal; b's exponent field max_gap - 3 .. max_gap + 3 below or
        // 0 .. 3 from a's, its fraction near a's (cancellation).
        const uint64_t field_a = 60 + (r >> 8) % 130;
        const int64_t gap = (r2 & 1) != 0 ? int64_t((r2 >> 8) % 4) : int64_t(max_gap - 3 + (r2 >> 8) % 7);
        const uint64_t field_b = uint64_t(int64_t(field_a) - ((r2 & 2) != 0 ? gap : -gap));
        const uint64_t frac_a = (r >> 24) & f->man_mask();
        const uint64_t frac_b = (r2 & 4) != 0 ? (frac_a + (r2 >> 24) % 5 - 2) & f->man_mask() : (r2 >> 24) & f->man_mask();
        const uint64_t a = ((r >> 20) & 1 ? f->sign_mask() : 0) | (field_a << f->man_bits) | frac_a;
        const uint64_t b = ((r2 >> 20) & 1 ? f->sign_mask() : 0) | (field_b << f->man_bits) | frac_b;
        RoundingSpec rs;
        rs.rounding = modes[(r >> 32) % 5];
        const bool subtract = ((r2 >> 33) & 1) != 0;
        Flags got_fl, want_fl;
        const uint64_t got = subtract ? sub(a, b, *f, rs, got_fl, i) : add(a, b, *f, rs, got_fl, i);
        const uint64_t want = subtract ? detail::general_sub(a, *f, b, *f, *f, rs, want_fl, i)
                                       : detail::general_add(a, *f, b, *f, *f, rs, want_fl, i);
        ++cases;
        if ((got != want || got_fl.bits != want_fl.bits) && failures++ < 10)
          ADD_FAILURE() << f->name << (subtract ? " sub " : " add ") << std::hex << a << ", " << b << " mode "
                        << int(rs.rounding) << ": got " << got << " flags " << got_fl.bits << ", want " << want
                        << " flags " << want_fl.bits;
      }
    }
#if defined(__x86_64__)
    _mm_setcsr(old_csr);
#endif
    std::fesetround(old_rounding);
  }
  EXPECT_EQ(failures, 0u) << "of " << cases;
}

}  // namespace
}  // namespace fpsim
