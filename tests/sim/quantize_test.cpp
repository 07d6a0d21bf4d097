// The quantizers' named traps and hand-derived cases (docs/quantization.md;
// docs/formats.md §8, §9 items 9, 10, 13). Every expected value below is
// worked out by hand in the comment beside it, never taken from the code.
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/philox.hpp"
#include "fpsim/quantize.hpp"

namespace fpsim {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

QuantScheme mx(const char* name, E8m0Rule rule = E8m0Rule::floor) {
  QuantScheme s = parse_quant_scheme(name);
  s.e8m0_rule = rule;
  return s;
}

// Trap: floor(log2 amax) taken from a float log2. log2f(pred(2^k)) rounds to
// k, one too many; the exponent bits give k - 1 (docs/formats.md §9 item 9).
TEST(QuantizeTrap, FloorLog2JustBelowPowersOfTwoIsFromExponentBits) {
  const QuantScheme s = mx("mxfp8-e4m3");  // emax_elem = 8
  for (int k = -149; k <= 127; ++k) {
    const float p = std::ldexp(1.0f, k);
    const float below = std::nextafter(p, 0.0f);
    const int expect_at = std::max(k - 8, -127) + 127;
    ASSERT_EQ(e8m0_scale_code(p, E8m0Rule::floor, s), expect_at) << "amax 2^" << k;
    if (below > 0.0f) {
      const int expect_below = std::max(k - 1 - 8, -127) + 127;
      ASSERT_EQ(e8m0_scale_code(below, E8m0Rule::floor, s), expect_below) << "amax pred(2^" << k << ")";
    }
  }
  // The float-log2 route really is one off here, so the trap is live.
  EXPECT_EQ(std::floor(std::log2(std::nextafter(1024.0f, 0.0f))), 10.0f);
}

// Trap: storing the clamped scale (k = -127) but dividing by the unclamped
// one. amax = 2^-140 in e4m3: k = -140 - 8 = -148 < -127, so code 0 and the
// element is x * 2^127 = 2^-13, below half the min subnormal 2^-9: 0. The
// unclamped division would give x * 2^148 = 256 (code 0x78).
TEST(QuantizeTrap, ClampedScaleIsTheOneDividedBy) {
  const std::vector<float> x = {std::ldexp(1.0f, -140)};
  const QuantizedTensor q = quantize(x, {1, 1}, mx("mxfp8-e4m3"));
  ASSERT_EQ(q.scales.size(), 1u);
  EXPECT_EQ(q.scales[0], 0x00u);
  EXPECT_EQ(q.elements[0], 0x00);
  EXPECT_EQ(q.stats.underflows, 1u);
  // Same for a value that survives: 2^-125 * 2^127 = 4 -> e4m3 0x48 (4 = 2^2,
  // field 2 + 7 = 9: 0b0100.1000).
  const std::vector<float> y = {std::ldexp(1.0f, -125), std::ldexp(1.0f, -140)};
  const QuantizedTensor q2 = quantize(y, {1, 2}, mx("mxfp8-e4m3"));
  // amax 2^-125: k = -133 -> clamped -127.
  EXPECT_EQ(q2.scales[0], 0x00u);
  EXPECT_EQ(q2.elements[0], 0x48);
  EXPECT_EQ(dequantize(q2)[0], std::ldexp(1.0f, -125));
}

// Trap: OCP floor clips block maxima (docs/formats.md §9 item 10, microxcaling#4).
// Block max 957: floor(log2 957) = 9, k = 9 - 8 = 1: scale 2 (code 128),
// 957 / 2 = 478.5 saturates to 448 (0x7E), decodes 896. Ceil: fp32(957/448)
// = 2.136... rounds up to 4 (code 129): 957 / 4 = 239.25 -> 240 (0x77:
// field 14, mantissa 7), decodes 960.
TEST(QuantizeTrap, OcpFloorClipsTheBlockMaximum957) {
  const std::vector<float> x = {957.0f, 1.0f};
  const QuantizedTensor f = quantize(x, {1, 2}, mx("mxfp8-e4m3", E8m0Rule::floor));
  EXPECT_EQ(f.scales[0], 128u);
  EXPECT_EQ(f.elements[0], 0x7E);
  EXPECT_EQ(dequantize(f)[0], 896.0f);
  EXPECT_EQ(f.stats.saturated, 1u);
  const QuantizedTensor c = quantize(x, {1, 2}, mx("mxfp8-e4m3", E8m0Rule::ceil));
  EXPECT_EQ(c.scales[0], 129u);
  EXPECT_EQ(c.elements[0], 0x77);
  EXPECT_EQ(dequantize(c)[0], 960.0f);
  EXPECT_EQ(c.stats.saturated, 0u);
}

// E5M2 block max 127.9999: floor(log2) = 6, k = 6 - 15 = -9; 127.9999 * 2^9
// = 65535.9... > 61440 (the overflow tie) saturates to 57344 (0x7B).
TEST(QuantizeTrap, E5m2FloorSaturatesJustBelowAPowerOfTwo) {
  const std::vector<float> x = {127.9999f};
  const QuantizedTensor q = quantize(x, {1, 1}, mx("mxfp8-e5m2"));
  EXPECT_EQ(q.scales[0], uint32_t(127 - 9));
  EXPECT_EQ(q.elements[0], 0x7B);
}

// E8M0 ties (docs/formats.md §9 item 9): amax / 448 = 3.0 and 6.0 exactly.
// rne: 3.0 lies between 2 (code 128) and 4 (code 129): tie to the even code,
// 2.0; 6.0 between 4 (129) and 8 (130): 8.0. rup: 3.0 -> 4.0, 4.0 -> 4.0.
TEST(QuantizeTrap, E8m0TiesGoToTheEvenCode) {
  const QuantScheme s = mx("mxfp8-e4m3");
  EXPECT_EQ(e8m0_scale_code(3.0f * 448, E8m0Rule::rne, s), 128);
  EXPECT_EQ(e8m0_scale_code(6.0f * 448, E8m0Rule::rne, s), 130);
  EXPECT_EQ(e8m0_scale_code(3.0f * 448, E8m0Rule::ceil, s), 129);
  EXPECT_EQ(e8m0_scale_code(4.0f * 448, E8m0Rule::ceil, s), 129);
  // e2m1 floor uses floor(log2 amax) - 2: amax 6 -> 2 - 2 = 0 -> code 127.
  EXPECT_EQ(e8m0_scale_code(6.0f, E8m0Rule::floor, mx("mxfp4")), 127);
  // Specials: floor NaN/inf -> 0xFF, 0 -> 0x00; ceil inf -> 0xFE (satfinite).
  EXPECT_EQ(e8m0_scale_code(kNaN, E8m0Rule::floor, s), 0xFF);
  EXPECT_EQ(e8m0_scale_code(kInf, E8m0Rule::floor, s), 0xFF);
  EXPECT_EQ(e8m0_scale_code(kInf, E8m0Rule::rne, s), 0xFF);
  EXPECT_EQ(e8m0_scale_code(kInf, E8m0Rule::ceil, s), 0xFE);
  EXPECT_EQ(e8m0_scale_code(0.0f, E8m0Rule::floor, s), 0x00);
  EXPECT_EQ(e8m0_scale_code(0.0f, E8m0Rule::ceil, s), 0x00);
}

// Sign of zero (docs/formats.md §9 item 13): -0 stays -0 in every scheme; -1e-30 in a
// block whose max is 1 rounds to -0 (e4m3 0x80, e2m1 0x8) and counts as an
// underflow.
TEST(QuantizeTrap, SignOfZeroSurvives) {
  const std::vector<float> x = {-0.0f, -1e-30f, 1.0f, 0.0f};
  for (const char* name : {"mxfp8-e4m3", "per-tensor-e4m3", "block-1x128-e4m3"}) {
    const QuantizedTensor q = quantize(x, {1, 4}, parse_quant_scheme(name));
    EXPECT_EQ(q.elements[0], 0x80) << name;
    EXPECT_EQ(q.elements[1], 0x80) << name;
    EXPECT_EQ(q.elements[3], 0x00) << name;
    EXPECT_EQ(q.stats.underflows, 1u) << name;
    EXPECT_TRUE(std::signbit(dequantize(q)[0])) << name;
  }
  const QuantizedTensor f = quantize(x, {1, 4}, parse_quant_scheme("nvfp4"));
  EXPECT_EQ(f.elements[0], 0x8);
  EXPECT_EQ(f.elements[1], 0x8);
}

// NaN scale: a NaN in an MX block makes its scale 0xFF and every element the
// element format's NaN (e4m3 0x7F); other blocks are untouched.
TEST(QuantizeTrap, NanInsideAnMxBlockMakesTheScaleNan) {
  std::vector<float> x(64, 1.0f);
  x[5] = kNaN;
  const QuantizedTensor q = quantize(x, {1, 64}, mx("mxfp8-e4m3"));
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], 0xFFu);
  EXPECT_EQ(q.scales[1], uint32_t(127 - 8));  // amax 1: k = 0 - 8
  for (int i = 0; i < 32; ++i) EXPECT_EQ(q.elements[size_t(i)], 0x7F);
  EXPECT_EQ(q.stats.nan_scale_blocks, 1u);
  EXPECT_EQ(q.stats.nan_inputs, 1u);
  const std::vector<float> d = dequantize(q);
  EXPECT_TRUE(std::isnan(d[0]));
  EXPECT_EQ(d[40], 1.0f);
}

// NVFP4: e2m1 cannot hold a NaN, so a NaN makes the block's ue4m3 scale NaN
// (0x7F) and the block dequantizes to NaN; the other block is untouched
// (amax 6 there; the tensor amax ignores the NaN: S_enc = 2688 / 6 = 448).
TEST(QuantizeTrap, NanInsideAnNvfp4BlockMakesTheScaleNan) {
  std::vector<float> x(32, 1.0f);
  x[3] = kNaN;
  x[20] = 6.0f;
  const QuantizedTensor q = quantize(x, {1, 32}, parse_quant_scheme("nvfp4"));
  EXPECT_EQ(q.scales[0], 0x7Fu);
  EXPECT_EQ(q.scales[1], 0x7Eu);  // fp32(6 / 6) * 448 = 448
  for (int i = 0; i < 16; ++i) EXPECT_EQ(q.elements[size_t(i)], 0x7);
  EXPECT_EQ(q.stats.nan_scale_blocks, 1u);
  const std::vector<float> d = dequantize(q);
  for (int i = 0; i < 16; ++i) EXPECT_TRUE(std::isnan(d[size_t(i)])) << i;
  EXPECT_EQ(d[20], float(6.0 * 448.0 * double(1.0f / 448.0f)));  // exact product, rounded once
}

// TE's compute_scale_from_amax.
TEST(QuantizeScale, PerTensorMultiplierFollowsTransformerEngine) {
  EXPECT_EQ(multiplier_from_amax(0.0f, 448, false, 0.0f), 1.0f);
  EXPECT_EQ(multiplier_from_amax(kInf, 448, false, 0.0f), 1.0f);
  EXPECT_EQ(multiplier_from_amax(448.0f, 448, false, 0.0f), 1.0f);
  EXPECT_EQ(multiplier_from_amax(128.0f, 448, false, 0.0f), 3.5f);
  EXPECT_EQ(multiplier_from_amax(128.0f, 448, true, 0.0f), 2.0f);  // 3.5 -> 2^1
  EXPECT_EQ(multiplier_from_amax(1e-45f, 448, false, 0.0f), FLT_MAX);  // 448 / 2^-149 overflows
  EXPECT_EQ(multiplier_from_amax(1e-45f, 448, true, 0.0f), 0x1p127f);
  EXPECT_EQ(multiplier_from_amax(0.0f, 448, false, 448.0f), 1.0f);  // epsilon replaces amax
  EXPECT_EQ(multiplier_from_amax(kNaN, 448, false, 0.0f), 1.0f);
}

// per-tensor-e4m3 on {448, -224, 0, 5e-4}: amax 448, s = 1, scale_inv 1;
// 448 = 0x7E, -224 = 0xF6 (field 14, mantissa 6, sign), 5e-4 underflows
// (below 2^-10 = 9.8e-4, half the min subnormal).
TEST(QuantizeScheme, PerTensorE4m3) {
  const std::vector<float> x = {448.0f, -224.0f, 0.0f, 5e-4f};
  const QuantizedTensor q = quantize(x, {2, 2}, parse_quant_scheme("per-tensor-e4m3"));
  EXPECT_EQ(q.scale_grid, (TensorShape{1, 1}));
  EXPECT_EQ(std::bit_cast<float>(q.multipliers[0]), 1.0f);
  EXPECT_EQ(std::bit_cast<float>(q.scales[0]), 1.0f);
  EXPECT_EQ(q.elements, (std::vector<uint8_t>{0x7E, 0xF6, 0x00, 0x00}));
  EXPECT_EQ(q.stats.underflows, 1u);
  EXPECT_EQ(q.stats.amax, 448.0f);
}

// MXINT8: element = round(x * 2^(6 - k)); amax 1.5: floor(log2) = 0, k = 0;
// 1.5 * 64 = 96, -0.25 * 64 = -16 (0xF0), 1/128 * 64 = 0.5 -> 0 (rne tie).
TEST(QuantizeScheme, MxInt8IsFixedPointWithSixFractionBits) {
  const std::vector<float> x = {1.5f, -0.25f, 1.0f / 128};
  const QuantizedTensor q = quantize(x, {1, 3}, mx("mxint8"));
  EXPECT_EQ(q.scales[0], 127u);
  EXPECT_EQ(q.elements, (std::vector<uint8_t>{96, 0xF0, 0}));
  EXPECT_EQ(dequantize(q), (std::vector<float>{1.5f, -0.25f, 0.0f}));
}

// NVFP4 by hand (TE's order): x = {6, 3, -1.5, 0.25} (one partial 1x16
// block). amax_t = 6: S_enc = fp32(2688 / 6) = 448 exactly, tensor_scale =
// fp32(1/448). Block: fp32(6 / 6) * 448 = 448 -> ue4m3 0x7E; encode scale
// fp32(448 / 448) = 1: elements e2m1(6) = 0x7, 3 -> 0x5, -1.5 -> 0xB, 0.25 ->
// 0 (half the min subnormal 0.5: tie to even 0).
TEST(QuantizeScheme, Nvfp4SmallBlock) {
  const std::vector<float> x = {6.0f, 3.0f, -1.5f, 0.25f};
  const QuantizedTensor q = quantize(x, {1, 4}, parse_quant_scheme("nvfp4"));
  EXPECT_EQ(q.tensor_scale, 1.0f / 448.0f);
  EXPECT_EQ(q.scales[0], 0x7Eu);
  EXPECT_EQ(q.elements, (std::vector<uint8_t>{0x7, 0x5, 0xB, 0x0}));
  EXPECT_EQ(q.stats.underflows, 1u);
}

// Layout: column-wise MX blocks (32x1) run down columns; partial edge blocks;
// blocks never straddle rows.
TEST(QuantizeLayout, BlocksFollowTheGridAndNeverStraddleRows) {
  // 2 x 40, row-wise 1x32: grid 2 x 2; block (0,1) has 8 elements.
  std::vector<float> x(80, 1.0f);
  x[39] = 8.0f;  // row 0, block 1
  x[40] = 64.0f; // row 1, block 0: must not affect row 0's blocks
  QuantScheme s = mx("mxfp8-e4m3");
  QuantizedTensor q = quantize(x, {2, 40}, s);
  EXPECT_EQ(q.scale_grid, (TensorShape{2, 2}));
  EXPECT_EQ(q.scales, (std::vector<uint32_t>{127 - 8, 127 - 5, 127 - 2, 127 - 8}));
  // Column-wise 32x1 on a 40 x 2 tensor: grid 2 x 2.
  std::vector<float> y(80, 1.0f);
  y[2 * 35 + 1] = 4.0f;  // row 35, column 1 -> block (1, 1)
  s.block = {32, 1};
  q = quantize(y, {40, 2}, s);
  EXPECT_EQ(q.scale_grid, (TensorShape{2, 2}));
  EXPECT_EQ(q.scales, (std::vector<uint32_t>{127 - 8, 127 - 8, 127 - 8, 127 - 6}));
  s.require_full_blocks = true;
  EXPECT_THROW(quantize(y, {40, 2}, s), OptionError);
}

TEST(QuantizeBadInput, ClearErrors) {
  const std::vector<float> x(10, 1.0f);
  EXPECT_THROW(quantize(x, {3, 3}, parse_quant_scheme("mxfp4")), OptionError);
  QuantScheme s = parse_quant_scheme("mxfp4");
  s.block = {1, 0};
  EXPECT_THROW(quantize(x, {1, 10}, s), OptionError);
  s = parse_quant_scheme("per-tensor-e4m3");
  s.element = formats::bf16;
  EXPECT_THROW(quantize(x, {1, 10}, s), OptionError);
  EXPECT_THROW(parse_quant_scheme("mxfp9"), OptionError);
  EXPECT_THROW(parse_quant_scheme("per-tensor-fp16"), OptionError);
  EXPECT_THROW(parse_quant_scheme("block-0x128-e4m3"), OptionError);
  s = parse_quant_scheme("nvfp4");
  s.hadamard = true;
  EXPECT_THROW(quantize(x, {1, 10}, s), OptionError);
  try {
    parse_quant_scheme("mxfp9");
  } catch (const OptionError& e) {
    EXPECT_NE(std::string(e.what()).find("mxfp8-e4m3"), std::string::npos) << e.what();
  }
}

// NaN-only tensor: documented results (docs/quantization.md §2, §3).
TEST(QuantizeBadInput, NanOnlyTensor) {
  const std::vector<float> x(32, kNaN);
  const QuantizedTensor pt = quantize(x, {1, 32}, parse_quant_scheme("per-tensor-e4m3"));
  EXPECT_EQ(std::bit_cast<float>(pt.multipliers[0]), 1.0f);  // amax 0 over no values
  EXPECT_EQ(pt.elements[0], 0x7F);
  EXPECT_EQ(pt.stats.nan_inputs, 32u);
  const QuantizedTensor m = quantize(x, {1, 32}, parse_quant_scheme("mxfp4"));
  EXPECT_EQ(m.scales[0], 0xFFu);
  EXPECT_EQ(m.elements[0], 0x7);  // e2m1 has no NaN: +max, as CUDA
  EXPECT_TRUE(std::isnan(dequantize(m)[0]));
  // A NaN-scale MXINT8 block: NaN -> code 0, but nothing counts as an
  // underflow (docs/quantization.md §4).
  const std::vector<float> y = {kNaN, 1e-30f, 1.0f};
  const QuantizedTensor i8 = quantize(y, {1, 3}, parse_quant_scheme("mxint8"));
  EXPECT_EQ(i8.scales[0], 0xFFu);
  EXPECT_EQ(i8.elements, (std::vector<uint8_t>{0, 0, 0}));
  EXPECT_EQ(i8.stats.underflows, 0u);
}

// saturated counts a finite x whose FP32 x * s overflowed to inf (a given
// multiplier, as delayed scaling uses): 1e30 * 1e10 = inf -> 448, and 1e10
// itself (above 448); 1e-20 * 1e10 = 1e-10 underflows.
TEST(QuantizeStats, OverflowToInfCountsAsSaturated) {
  const std::vector<float> x = {1e30f, 1.0f, 1e-20f};
  const QuantizedTensor q = quantize_with_multiplier(x, {1, 3}, parse_quant_scheme("per-tensor-e4m3"), 1e10f);
  EXPECT_EQ(q.elements, (std::vector<uint8_t>{0x7E, 0x7E, 0x00}));
  EXPECT_EQ(q.stats.saturated, 2u);
  EXPECT_EQ(q.stats.underflows, 1u);
}

// Delayed scaling: step t uses the amax history of steps < t.
TEST(QuantizeDelayed, ScaleComesFromEarlierSteps) {
  DelayedScaling d(parse_quant_scheme("per-tensor-e4m3"), 2, AmaxAlgo::max, 0);
  const std::vector<float> a = {100.0f}, b = {50.0f}, z = {0.0f}, c = {10.0f};
  EXPECT_EQ(d.quantize(a, {1, 1}).multipliers[0], std::bit_cast<uint32_t>(1.0f));
  EXPECT_EQ(d.multiplier(), 4.48f);                  // fp32(448 / 100)
  EXPECT_EQ(std::bit_cast<float>(d.quantize(b, {1, 1}).multipliers[0]), 4.48f);
  EXPECT_EQ(d.multiplier(), 4.48f);                  // max(100, 50)
  d.quantize(z, {1, 1});                             // history {50, 0}: max 50
  EXPECT_EQ(d.multiplier(), 8.96f);
  d.quantize(z, {1, 1});                             // history {0, 0}: keep
  EXPECT_EQ(d.multiplier(), 8.96f);
  DelayedScaling m(parse_quant_scheme("per-tensor-e4m3"), 4, AmaxAlgo::most_recent, 1);
  m.quantize(a, {1, 1});
  m.quantize(c, {1, 1});
  EXPECT_EQ(m.multiplier(), 22.4f);                  // fp32(448 / 10) / 2
}

// A state restored from multiplier() and history() continues exactly as the
// original: same multipliers on the following steps, whatever the algorithm.
TEST(QuantizeDelayed, RestoredStateContinuesLikeTheOriginal) {
  for (const AmaxAlgo algo : {AmaxAlgo::max, AmaxAlgo::most_recent}) {
    DelayedScaling d(parse_quant_scheme("per-tensor-e4m3"), 3, algo, 0);
    for (const float a : {100.0f, 7.0f, 30.0f, 0.5f}) d.record_amax(a);
    DelayedScaling r(parse_quant_scheme("per-tensor-e4m3"), 3, algo, 0);
    const std::vector<float> h(d.history().begin(), d.history().end());
    r.restore_state(d.multiplier(), h);
    EXPECT_EQ(r.multiplier(), d.multiplier());
    for (const float a : {2.0f, 0.0f, 60.0f, 1.0f}) {
      d.record_amax(a);
      r.restore_state(r.multiplier(), std::vector<float>(r.history().begin(), r.history().end()));
      r.record_amax(a);
      EXPECT_EQ(r.multiplier(), d.multiplier()) << "algo " << int(algo) << " amax " << a;
      EXPECT_EQ(r.history(), d.history());
    }
  }
  DelayedScaling d(parse_quant_scheme("per-tensor-e4m3"), 2, AmaxAlgo::max, 0);
  const std::vector<float> three = {1.0f, 2.0f, 3.0f};
  EXPECT_THROW(d.restore_state(1.0f, three), OptionError);
  EXPECT_THROW(d.restore_state(0.0f, {}), OptionError);
  EXPECT_THROW(d.restore_state(INFINITY, {}), OptionError);
  EXPECT_THROW(d.restore_state(NAN, {}), OptionError);
}

// Hadamard: signs are reproducible, the transform is orthogonal up to FP32
// rounding (stated tolerance: 4 ulps of the tile's max), and 1/4 S H16
// applied to e_0 gives S_0 / 4 in every column.
TEST(QuantizeHadamard, TransformAndInverse) {
  // The signs are docs/quantization.md's definition: S_i = -1 where bit 0 of
  // Philox4x32-10 word 0, counter (i, 0, 0, 0), key (seed, 0x52485421) is set
  // (Philox itself is checked against the Random123 known answers in
  // format_test.cpp).
  for (const uint32_t seed : {0u, 7u, 0xFFFFFFFFu}) {
    const std::vector<int> s = hadamard_signs(seed);
    ASSERT_EQ(s.size(), 16u);
    for (uint32_t i = 0; i < 16; ++i) {
      const uint32_t counter[4] = {i, 0, 0, 0};
      EXPECT_EQ(s[i], (philox4x32_10(counter, seed, 0x52485421u).w[0] & 1u) ? -1 : 1) << "seed " << seed << " i " << i;
    }
  }
  EXPECT_NE(hadamard_signs(7), hadamard_signs(8));
  std::vector<float> e(16, 0.0f);
  e[0] = 1.0f;
  hadamard_transform(e, {1, 16}, Axis::cols, 7);
  const int s0 = hadamard_signs(7)[0];
  for (float v : e) EXPECT_EQ(v, 0.25f * float(s0));
  std::vector<float> x(64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i) * 1.7f) * float(i + 1);
  std::vector<float> y = x;
  hadamard_transform(y, {4, 16}, Axis::cols, 3);
  hadamard_transform(y, {4, 16}, Axis::cols, 3, /*inverse=*/true);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], x[i], 4 * 64 * FLT_EPSILON) << i;
  std::vector<float> w = x;
  EXPECT_THROW(hadamard_transform(w, {2, 32}, Axis::rows, 1), OptionError);
}


// Regression (issue 11): a block of 1 x (2^64 - 1) overflowed the scale-grid
// size (ceil(n / b) as (n + b - 1) / b wrapped to 0: a 0x2 grid, all-zero
// elements, or a crash). A block longer than the tensor is one block.
TEST(QuantizeTrap, BlocksLongerThanTheTensorAreOneBlockNotAnOverflow) {
  const std::vector<float> x = {1, 2, 3, 4};
  for (const std::string name : {"mxfp4", "nvfp4", "block-1x128-e4m3"}) {
    const QuantScheme base = parse_quant_scheme(name);
    for (const BlockShape huge : {BlockShape{1, SIZE_MAX}, BlockShape{1, SIZE_MAX - 1}, BlockShape{SIZE_MAX, 1}}) {
      QuantScheme s = base;
      s.block = huge;
      QuantScheme fitted = base;
      fitted.block = {std::min<size_t>(huge.rows, 2), std::min<size_t>(huge.cols, 2)};
      const QuantizedTensor q = quantize(x, {2, 2}, s), want = quantize(x, {2, 2}, fitted);
      EXPECT_EQ(q.scale_grid, want.scale_grid) << name;
      EXPECT_EQ(q.scale_grid.size(), 2u) << name;
      EXPECT_EQ(q.elements, want.elements) << name;
      EXPECT_EQ(q.scales, want.scales) << name;
    }
  }
}

// NVFP4 4over6, derived by hand (docs/quantization.md §3 "nvfp4 4over6").
// One 1x16 block whose amax 6 is the tensor's: S_enc = fp32(1536 / 6) = 256,
// base = fp32(fp32(6 / 6) * 256) = 256, so map-to-6 s6 = 256 (ue4m3 0x78) and
// map-to-4 s4 = ue4m3(384) = 384 (0x7C, 1.5 * 2^8); S_dec = 2^-8, inv6 =
// 1 / (256 * 2^-8) = 1, inv4 = fp32(1 / 1.5) = 0.666666686534881591796875.
// A candidate's term is |fp32(fp32(fp32(q * s) * 6) / 1536) - x| = |q - x|
// (map-to-6) or |1.5 q - x| (map-to-4), exactly here.
//   {6, 4.5, 3, 1.5}: map-to-6 q = 6, 4 (4.5 ties to the even 4), 3, 1.5:
//     error 0.5; map-to-4 t = 4.0000001, 3.0000001, 2, 1 -> q = 4, 3, 2, 1,
//     1.5 q = 6, 4.5, 3, 1.5: error 0 -> map-to-4 wins (codes 6 5 4 2).
//   {6, 1}: map-to-6 exact (error 0); map-to-4 1 * inv4 = 0.6666667 -> 0.5,
//     1.5 * 0.5 = 0.75: error 0.25 -> map-to-6 (codes 7 2).
//   {6, 0.25}: map-to-6 0.25 ties 0 / 0.5 -> 0 (even): error 0.25; map-to-4
//     0.1666667 -> 0: error 0.25. A tie (MAE and MSE): map-to-6 (codes 7 0).
TEST(QuantizeScheme, Nvfp4FourOverSixHandDerived) {
  auto run = [](std::vector<float> head, const char* scheme) {
    std::vector<float> x(16, 0.0f);
    std::copy(head.begin(), head.end(), x.begin());
    return quantize(x, {1, 16}, parse_quant_scheme(scheme));
  };
  for (const char* scheme : {"nvfp4-4over6", "nvfp4-4over6-mse"}) {
    const QuantizedTensor m4 = run({6, 4.5f, 3, 1.5f}, scheme);
    EXPECT_EQ(m4.tensor_scale, 0x1p-8f);
    EXPECT_EQ(m4.scales, std::vector<uint32_t>{0x7C}) << scheme;
    EXPECT_EQ(std::vector<uint8_t>(m4.elements.begin(), m4.elements.begin() + 5),
              (std::vector<uint8_t>{0x6, 0x5, 0x4, 0x2, 0x0}));
    EXPECT_EQ(dequantize(m4)[1], 4.5f);  // 3 * 384 * 2^-8
    const QuantizedTensor m6 = run({6, 1}, scheme);
    EXPECT_EQ(m6.scales, std::vector<uint32_t>{0x78}) << scheme;
    EXPECT_EQ(m6.elements[0], 0x7);
    EXPECT_EQ(m6.elements[1], 0x2);
    const QuantizedTensor tie = run({6, 0.25f}, scheme);
    EXPECT_EQ(tie.scales, std::vector<uint32_t>{0x78}) << scheme;
    EXPECT_EQ(tie.elements[0], 0x7);
    EXPECT_EQ(tie.elements[1], 0x0);
  }
}

// 2-D (16x16): the rows' errors add up before the comparison. Row 0 {6, 4.5}
// as above (map-to-6 0.5, map-to-4 0), then n rows {1} (map-to-6 0, map-to-4
// 0.25 each): n = 1 -> 0.5 vs 0.25, map-to-4; n = 3 -> 0.5 vs 0.75, map-to-6.
TEST(QuantizeScheme, Nvfp4FourOverSix2dSumsTheRows) {
  for (int n : {1, 3}) {
    std::vector<float> x(256, 0.0f);
    x[0] = 6;
    x[1] = 4.5f;
    for (int r = 1; r <= n; ++r) x[size_t(r) * 16] = 1;
    const QuantizedTensor q = quantize(x, {16, 16}, parse_quant_scheme("nvfp4-2d-4over6"));
    EXPECT_EQ(q.scales, std::vector<uint32_t>{n == 1 ? 0x7Cu : 0x78u}) << n;
    EXPECT_EQ(q.elements[1], n == 1 ? 0x5 : 0x6) << n;  // 4.5: 3 of map-to-4, or 4 of map-to-6
  }
}

// Row-scaled NVFP4 (docs/quantization.md §3 "nvfp4 row-scaled"), rows of
// different amax, derived by hand. Rows {6, 3}, {0.75, -0.375}, {2e-5}:
//   row-scaled: S_enc = fp32(2688 / 6) = 448, fp32(2688 / 0.75) = 3584 and
//   about 1.344e8. Each row's block amax is its row amax, so t = amax_b *
//   fp32(S_enc * fp32(1/6)) is 448 within an ulp or two (448.00003 for the
//   first two rows), which ue4m3 (max 448, next below 416) saturates or
//   rounds to 448 (0x7E): every block scale is 0x7E. e = 1 / fp32(448 *
//   fp32(1 / S_enc)): 1 (7 fp32(1/7) = 1.0000000447 -> 1) and 8 (-> 0.125),
//   so row 0 gives 6 0x7, 3 0x5; row 1 0.75 * 8 = 6 0x7, -3 0xD; row 2 x * e
//   within ulps of 6 -> 0x7.
//   plain nvfp4 (S_enc 448 for all): row 1 t = 0.75 * 74.666672 = 56.000004
//   -> 56 (0x66); row 2 t = 0.0014933 -> ue4m3 2^-9 (0x01, 0.76 of it), e =
//   about 448 * 512, x * e = 4.59 -> 4 (0x6): the row lost to the tensor
//   scale.
TEST(QuantizeScheme, Nvfp4RowScaledRowsOfDifferentAmax) {
  std::vector<float> x(48, 0.0f);
  x[0] = 6;
  x[1] = 3;
  x[16] = 0.75f;
  x[17] = -0.375f;
  x[32] = 2e-5f;
  const QuantizedTensor r = quantize(x, {3, 16}, parse_quant_scheme("nvfp4-row-scaled"));
  EXPECT_EQ(r.scales, (std::vector<uint32_t>{0x7E, 0x7E, 0x7E}));
  EXPECT_EQ(r.elements[0], 0x7);
  EXPECT_EQ(r.elements[1], 0x5);
  EXPECT_EQ(r.elements[16], 0x7);
  EXPECT_EQ(r.elements[17], 0xD);
  EXPECT_EQ(r.elements[32], 0x7);
  EXPECT_EQ(r.tensor_scale, 1.0f);
  ASSERT_EQ(r.row_tensor_scales.size(), 3u);
  EXPECT_EQ(r.row_tensor_scales[0], 1.0f / 448.0f);
  EXPECT_EQ(r.row_tensor_scales[1], 1.0f / 3584.0f);
  const QuantizedTensor p = quantize(x, {3, 16}, parse_quant_scheme("nvfp4"));
  EXPECT_EQ(p.scales, (std::vector<uint32_t>{0x7E, 0x66, 0x01}));
  EXPECT_EQ(p.elements[32], 0x6);
  EXPECT_TRUE(p.row_tensor_scales.empty());
  QuantScheme two_d = parse_quant_scheme("nvfp4-2d");
  two_d.nvfp4_row_scaled = true;
  EXPECT_THROW(quantize(std::vector<float>(256, 1.0f), {16, 16}, two_d), OptionError);
}

TEST(QuantizeBadInput, FourOverSixNeedsNvfp4AndFp32Arith) {
  QuantScheme s = parse_quant_scheme("nvfp4-4over6");
  s.arith = ScaleArith::exact;
  EXPECT_THROW(quantize(std::vector<float>(16, 1.0f), {1, 16}, s), OptionError);
  QuantScheme m = parse_quant_scheme("mxfp4");
  m.four_over_six = FourOverSix::mae;
  EXPECT_THROW(quantize(std::vector<float>(32, 1.0f), {1, 32}, m), OptionError);
  EXPECT_THROW(parse_four_over_six("max"), OptionError);
}

}  // namespace
}  // namespace fpsim
