// Named arithmetic cases whose expected values follow from IEEE 754 and the
// spec by hand (spec/formats.md §9.15 among them), and the properties the
// one-rounding design promises: fused means one rounding, modes are per call
// (threads with different modes do not interfere), stochastic rounding never
// moves an exact result.
#include <gtest/gtest.h>

#include <bit>
#include <thread>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/format_table.hpp"

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

// spec/formats.md §9.15: (1 + 2^-23)(1 - 2^-23) = 1 - 2^-46 exactly, so the
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

}  // namespace
}  // namespace fpsim
