// docs/formats.md §9: every conversion pitfall as a named regression test.
// Expected values are the spec's literal numbers (origins in the spec's
// "Origins" line); rne and ieee unless the name says otherwise.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "../e4m3_top_binade.hpp"

namespace fpsim {
namespace {

using namespace formats;

struct Out {
  uint64_t code;
  uint32_t flags;
};

Out conv(double x, const Format& f, Rounding mode = Rounding::rne, Overflow ov = Overflow::ieee) {
  RoundingSpec rs;
  rs.rounding = mode;
  rs.overflow = ov;
  Flags fl;
  const uint64_t c = from_double(x, f, rs, fl);
  return {c, fl.bits};
}

double value(double x, const Format& f, Rounding mode = Rounding::rne, Overflow ov = Overflow::ieee) {
  return to_double(conv(x, f, mode, ov).code, f);
}

constexpr double kInf = std::numeric_limits<double>::infinity();

// §9.1 (universal#1302): overflow is decided after rounding, not by a
// pre-clamp of the input.
TEST(Pitfall1PreClamp, E4m3And5m2OverflowIsDecidedAfterRounding) {
  EXPECT_EQ(value(464, e4m3), 448);
  EXPECT_EQ(conv(465, e4m3).code, 0x7Fu);
  EXPECT_EQ(value(465, e4m3, Rounding::rne, Overflow::saturate), 448);
  EXPECT_EQ(value(58000, e5m2), 57344);
  EXPECT_EQ(value(61439, e5m2), 57344);
  EXPECT_EQ(conv(61440, e5m2).code, 0x7Cu);
  EXPECT_EQ(value(61440, e5m2), kInf);
}

// §9.2 (CPFloat E4M3 preset): OCP E4M3 is not IEEE-like; 480 does not exist.
// Every input of [400, 600) in steps of 1/2, in every direction and policy,
// gets the value an independent expectation gives (tests/e4m3_top_binade.hpp),
// so 480 never appears and each mode's overflow is the documented one.
TEST(Pitfall2E4m3NotIeeeLike, NoInputInAnyModeYields480) {
  using fpsim_test::E4m3Mode;
  const std::pair<Rounding, E4m3Mode> modes[] = {{Rounding::rne, E4m3Mode::rne}, {Rounding::rna, E4m3Mode::rna},
                                                 {Rounding::rtz, E4m3Mode::rtz}, {Rounding::rup, E4m3Mode::rup},
                                                 {Rounding::rdn, E4m3Mode::rdn}, {Rounding::rto, E4m3Mode::rto}};
  for (const auto& [mode, expected_mode] : modes)
    for (const Overflow ov : {Overflow::ieee, Overflow::saturate})
      for (double x = 400; x < 600; x += 0.5) {
        const double v = value(x, e4m3, mode, ov);
        const double want = fpsim_test::expected_e4m3_top_binade(x, expected_mode, ov == Overflow::saturate);
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(v)) << x << " mode " << int(mode) << " ov " << int(ov) << ": got " << v;
        else
          EXPECT_EQ(v, want) << x << " mode " << int(mode) << " ov " << int(ov);
      }
  for (const double x : {470.0, 1e6, kInf}) EXPECT_EQ(value(x, e4m3, Rounding::rne, Overflow::saturate), 448) << x;
  EXPECT_EQ(to_double(0x7E, e4m3), 448);
}

// §9.3 (onnx#6220): infinities into formats without inf.
TEST(Pitfall3NoInfTargets, InfinityGoesToNanOrMax) {
  EXPECT_EQ(conv(kInf, e4m3).code, 0x7Fu);
  EXPECT_EQ(conv(-kInf, e4m3).code, 0xFFu);
  EXPECT_EQ(value(kInf, e4m3, Rounding::rne, Overflow::saturate), 448);
  EXPECT_EQ(value(-kInf, e4m3, Rounding::rne, Overflow::saturate), -448);
  EXPECT_EQ(conv(kInf, e4m3fnuz).code, 0x80u);
  EXPECT_EQ(conv(-kInf, e4m3fnuz).code, 0x80u);
  EXPECT_EQ(value(kInf, e2m1), 6);
  EXPECT_EQ(value(-kInf, e2m1), -6);
}

// §9.4 (ml_dtypes#401, triton#2583): no double rounding through an
// intermediate format.
TEST(Pitfall4DoubleRounding, Fp64RoundsOnceIntoTheTarget) {
  EXPECT_EQ(value(-431.99999999999994, e4m3), -416);
  EXPECT_EQ(value(1 + std::ldexp(1, -8) + std::ldexp(1, -40), bf16), 1.0078125);
}

// §9.5 (QPyTorch, microxcaling): rne and rna are different modes.
TEST(Pitfall5ModeNames, TiesEvenAndTiesAwayDiffer) {
  EXPECT_EQ(value(2.5, e2m1, Rounding::rne), 2);
  EXPECT_EQ(value(2.5, e2m1, Rounding::rna), 3);
  EXPECT_EQ(value(5, e2m1, Rounding::rne), 4);
  EXPECT_EQ(value(5, e2m1, Rounding::rna), 6);
  RoundingSpec s;
  EXPECT_THROW(parse_rounding("nearest", s), OptionError);
}

// §9.6 (tt-metal#51975): subnormals of e4m3.
TEST(Pitfall6Subnormals, E4m3SubnormalCodes) {
  EXPECT_EQ(to_double(0x01, e4m3), std::ldexp(1, -9));
  EXPECT_EQ(to_double(0x08, e4m3), std::ldexp(1, -6));
  EXPECT_EQ(conv(3 * std::ldexp(1, -10), e4m3).code, 0x02u);
}

// §9.7 (tilelang-metax#140, glslang#3981): the top binade of e4m3.
TEST(Pitfall7TopBinade, E4m3TopBinadeRoundsCorrectly) {
  EXPECT_EQ(conv(300, e4m3).code, 0x79u);
  EXPECT_EQ(value(300, e4m3), 288);
  EXPECT_EQ(conv(448, e4m3).code, 0x7Eu);
  EXPECT_EQ(value(272, e4m3), 256);  // a tie, to even
  for (double x = std::nextafter(272.0, 1e9); x <= 448; x += 0.25) EXPECT_NE(value(x, e4m3), 256) << x;
}

// §9.8 (rocm-libraries#5792, #7439): NaN predicates and zeros.
TEST(Pitfall8NanPredicates, NegativeZeroAndNanCodes) {
  EXPECT_EQ(to_double(0x80, e4m3), 0.0);
  EXPECT_TRUE(std::signbit(to_double(0x80, e4m3)));
  EXPECT_TRUE(std::isnan(to_double(0x80, e4m3fnuz)));
  EXPECT_EQ(conv(-0.0, e4m3fnuz).code, 0x00u);
  EXPECT_EQ(to_double(0x7C, e5m2), kInf);
  for (uint64_t c : {0x7D, 0x7E, 0x7F}) EXPECT_TRUE(std::isnan(to_double(c, e5m2))) << c;
}

// §9.9 (ml_dtypes#398, vllm#43557, mase#321, mlx#3762): E8M0 conversions.
TEST(Pitfall9E8m0, TiesGoToTheEvenCodeAndTinyValuesToCodeZero) {
  EXPECT_EQ(value(3.0, e8m0, Rounding::rne), 2.0);
  EXPECT_EQ(value(6.0, e8m0, Rounding::rne), 8.0);
  EXPECT_EQ(value(3.0, e8m0, Rounding::rup), 4.0);
  EXPECT_EQ(value(4.0, e8m0, Rounding::rup), 4.0);
  EXPECT_EQ(conv(std::ldexp(1, -140), e8m0).code, 0x00u);
  EXPECT_EQ(to_double(127, e8m0), 1.0);
}

// §9.12 (riscv-isa-sim#2284): directed-rounding overflow follows IEEE 754.
TEST(Pitfall12DirectedOverflow, DirectedModesOverflowToMaxOrNan) {
  EXPECT_EQ(conv(1000, e4m3, Rounding::rtz).code, 0x7Eu);
  EXPECT_EQ(conv(1000, e4m3, Rounding::rtz).flags, 0x05u);
  EXPECT_EQ(conv(1000, e4m3, Rounding::rup).code, 0x7Fu);
  EXPECT_EQ(value(-1000, e4m3, Rounding::rup), -448);
  EXPECT_EQ(conv(-1000, e4m3, Rounding::rdn).code, 0xFFu);
  EXPECT_EQ(value(1e6, fp16, Rounding::rtz), 65504);
  EXPECT_EQ(value(1e6, fp16, Rounding::rup), kInf);
}

// §9.13 (ml_dtypes 0.5.1): signs of zero and NaN.
TEST(Pitfall13Signs, NegativeZeroTinyAndNanKeepTheirSign) {
  EXPECT_EQ(conv(-0.0, e4m3).code, 0x80u);
  EXPECT_EQ(conv(-0.0, e2m1).code, 0x8u);
  EXPECT_EQ(conv(-0.0, e4m3fnuz).code, 0x00u);
  const Out tiny = conv(-1e-30, e4m3);
  EXPECT_EQ(tiny.code, 0x80u);
  EXPECT_EQ(tiny.flags, Flags::underflow | Flags::inexact);
  Flags fl;
  EXPECT_EQ(convert(0xFFC00000u, fp32, e4m3, RoundingSpec{}, fl), 0xFFu);
}

// §9.14: extreme shift counts (run under UBSan in CI): the smallest fp64
// subnormal and fp64 max into narrow formats, and shifts of 0, 63, 64, >64.
TEST(Pitfall14Shifts, ExtremeShiftCountsAreDefined) {
  EXPECT_EQ(conv(std::ldexp(1, -1074), e4m3).code, 0x00u);
  EXPECT_EQ(conv(std::ldexp(1, -1074), e4m3, Rounding::rup).code, 0x01u);
  EXPECT_EQ(value(std::numeric_limits<double>::max(), e2m1), 6);
  EXPECT_EQ(value(std::numeric_limits<double>::max(), fp32), kInf);
  EXPECT_EQ(value(std::numeric_limits<double>::max(), fp32, Rounding::rtz), std::numeric_limits<float>::max());
  const Format m23 = parse_format("e8m23");
  const Format m52 = parse_format("e11m52");
  EXPECT_EQ(value(1 + std::ldexp(1, -23), m23), 1 + std::ldexp(1, -23));
  EXPECT_EQ(value(1 + std::ldexp(1, -52), m52), 1 + std::ldexp(1, -52));
  // 1.5 * 2^-k into fp16 with rtz: exact down to k = 23 (subnormal quantum
  // 2^-24), 2^-24 at k = 24, zero beyond.
  for (const int k : {0, 1, 14, 15, 23}) EXPECT_EQ(value(std::ldexp(1.5, -k), fp16, Rounding::rtz), std::ldexp(1.5, -k)) << k;
  EXPECT_EQ(value(std::ldexp(1.5, -24), fp16, Rounding::rtz), std::ldexp(1, -24));
  for (const int k : {25, 62, 63, 64, 65, 127, 128, 129, 200, 1000})
    EXPECT_EQ(value(std::ldexp(1.5, -k), fp16, Rounding::rtz), 0.0) << k;
  EXPECT_EQ(value(100, int8, Rounding::rtz), 100);
  EXPECT_EQ(value(std::ldexp(1, 63), int8), 127);
  EXPECT_EQ(value(std::ldexp(1, 64), int8), 127);
  EXPECT_EQ(value(-std::ldexp(1, 70), int8), -128);
}

// §9.15: two threads with different modes do not interfere (no global
// rounding state).
TEST(Pitfall15NoGlobalState, ThreadsWithDifferentModesDoNotInterfere) {
  std::vector<double> inputs;
  for (int i = 0; i < 20000; ++i) inputs.push_back(std::ldexp(1.0 + i / 20000.0, (i % 40) - 20));
  auto run = [&](Rounding mode) {
    std::vector<uint64_t> out;
    for (double x : inputs) out.push_back(conv(x, e4m3, mode).code);
    return out;
  };
  const auto expect_up = run(Rounding::rup);
  const auto expect_down = run(Rounding::rdn);
  std::vector<uint64_t> got_up, got_down;
  std::thread a([&] { got_up = run(Rounding::rup); });
  std::thread b([&] { got_down = run(Rounding::rdn); });
  a.join();
  b.join();
  EXPECT_EQ(got_up, expect_up);
  EXPECT_EQ(got_down, expect_down);
  EXPECT_NE(expect_up, expect_down);
}

}  // namespace
}  // namespace fpsim
