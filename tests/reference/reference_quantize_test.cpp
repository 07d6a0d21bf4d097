// Pins the MPFR quantization oracle (fpsim_ref::ref_quantize and friends) to
// facts it does not compute itself: docs/formats.md §8 and §9 items 9, 10 and
// 13, TE's compute_scale_from_amax examples, worked examples derived by hand
// from docs/quantization.md (each derivation is in a comment next to its
// numbers), the Random123 Philox4x32-10 known-answer vectors and the
// algebra of the 16x16 Sylvester Hadamard matrix. No expected value here
// comes from running code.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "fpsim_ref/quantize.hpp"

namespace {

using fpsim_ref::RefAxis;
using fpsim_ref::RefMode;
using fpsim_ref::RefQuantized;
using fpsim_ref::RefQuantScheme;
using fpsim_ref::ref_dequantize;
using fpsim_ref::ref_e8m0_scale_code;
using fpsim_ref::ref_multiplier_from_amax;
using fpsim_ref::ref_quantize;
using fpsim_ref::ref_quantize_with_multiplier;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

uint32_t bits(float v) { return std::bit_cast<uint32_t>(v); }

RefQuantScheme mx(const char* element, const char* rule = "floor") {
  RefQuantScheme s;
  s.kind = "mx";
  s.element = element;
  s.block_rows = 1;
  s.block_cols = 32;
  s.e8m0_rule = rule;
  return s;
}

RefQuantScheme per_tensor(const char* element) {
  RefQuantScheme s;
  s.kind = "per_tensor";
  s.element = element;
  return s;
}

RefQuantScheme nvfp4(bool exact) {
  RefQuantScheme s;
  s.kind = "nvfp4";
  s.element = "e2m1";
  s.block_rows = 1;
  s.block_cols = 16;
  s.exact_arith = exact;
  return s;
}

// A 1x32 block: `first` values, then zeros.
std::vector<float> block32(std::vector<float> first) {
  first.resize(32, 0.0f);
  return first;
}

struct ElemEmax {
  const char* element;
  int emax;
};
// docs/formats.md §8: emax_elem = 8 e4m3, 15 e5m2, 2 e2m3, 4 e3m2, 2 e2m1, 0 MXINT8.
constexpr ElemEmax kMxElements[] = {{"e4m3", 8}, {"e5m2", 15}, {"e2m3", 2}, {"e3m2", 4}, {"e2m1", 2}, {"int8", 0}};

// ------------------------------------------------------------ element facts

TEST(RefQuantElements, EmaxAndMaxAsTheSpecTable) {
  for (const ElemEmax& e : kMxElements) {
    EXPECT_EQ(fpsim_ref::ref_element_emax(mx(e.element)), e.emax) << e.element;
  }
  EXPECT_EQ(fpsim_ref::ref_element_max(mx("int8")), 127.0 / 64.0);  // MXINT8: code * 2^-6
  EXPECT_EQ(fpsim_ref::ref_element_max(per_tensor("int8")), 127.0);
  EXPECT_EQ(fpsim_ref::ref_element_max(per_tensor("e4m3")), 448.0);
  EXPECT_EQ(fpsim_ref::ref_element_max(per_tensor("e5m2")), 57344.0);
  EXPECT_EQ(fpsim_ref::ref_element_max(nvfp4(false)), 6.0);
  EXPECT_EQ(fpsim_ref::ref_element_value(mx("int8"), 0x60), 1.5);   // 96 / 64
  EXPECT_EQ(fpsim_ref::ref_element_value(mx("int8"), 0x80), -2.0);  // -128 / 64
  EXPECT_EQ(fpsim_ref::ref_element_value(per_tensor("int8"), 0x80), -128.0);
}

// ------------------------------------------------------------ E8M0 (§9 item 9)

// For every k, amax = pred(2^k) (the FP32 number below 2^k) has floor(log2) =
// k - 1, so the floor rule's exponent is k - 1 - emax_elem, clamped below at
// -127 (code = exponent + 127). 2^k itself gives k - emax_elem. k runs over
// every FP32 binade: pred(2^-148) = 2^-149 (the smallest subnormal), pred(2^128)
// = FLT_MAX.
TEST(RefQuantE8m0, FloorOfEveryPredecessorOfAPowerOfTwo) {
  for (const ElemEmax& e : kMxElements) {
    for (int k = -148; k <= 128; ++k) {
      const float p2 = std::ldexp(1.0f, k);  // inf for k = 128
      const float pred = std::nextafter(p2, 0.0f);
      const int exp_pred = std::max(k - 1 - e.emax, -127);
      ASSERT_EQ(ref_e8m0_scale_code(pred, "floor", e.element), exp_pred + 127) << e.element << " k=" << k;
      if (k <= 127) {
        const int exp_p2 = std::max(k - e.emax, -127);
        ASSERT_EQ(ref_e8m0_scale_code(p2, "floor", e.element), exp_p2 + 127) << e.element << " k=" << k;
      }
    }
  }
}

// The same through ref_quantize: a 1x32 block whose max is pred(2^k).
TEST(RefQuantE8m0, FloorThroughTheQuantizer) {
  for (int k : {-140, -126, -20, -1, 0, 1, 9, 20, 100, 127, 128}) {
    const float pred = std::nextafter(std::ldexp(1.0f, k), 0.0f);
    const std::vector<float> x = block32({0.5f * pred, -pred, 0.25f * pred});
    const RefQuantized q = ref_quantize(x, 1, 32, mx("e4m3"));
    ASSERT_EQ(q.scales.size(), 1u);
    EXPECT_EQ(q.scales[0], static_cast<uint32_t>(std::max(k - 1 - 8, -127) + 127)) << k;
  }
}

// rne and ceil work on q = fp32(amax / 448) for e4m3: amax 1344 gives q = 3,
// amax 2688 gives q = 6, amax 1792 gives q = 4 (all exact).
// rne: 3.0 is the midpoint of 2 (code 128, even) and 4 (code 129): -> 2.0;
//      6.0 is the midpoint of 4 (129) and 8 (130, even): -> 8.0.
// ceil (rup): 3.0 -> 4.0; 4.0 -> 4.0; 6.0 -> 8.0.
TEST(RefQuantE8m0, RneAndCeilRules) {
  EXPECT_EQ(ref_e8m0_scale_code(1344.0f, "rne", "e4m3"), 128);
  EXPECT_EQ(ref_e8m0_scale_code(2688.0f, "rne", "e4m3"), 130);
  EXPECT_EQ(ref_e8m0_scale_code(1344.0f, "ceil", "e4m3"), 129);
  EXPECT_EQ(ref_e8m0_scale_code(1792.0f, "ceil", "e4m3"), 129);
  EXPECT_EQ(ref_e8m0_scale_code(1792.0f, "rne", "e4m3"), 129);
  EXPECT_EQ(ref_e8m0_scale_code(2688.0f, "ceil", "e4m3"), 130);
  // floor for comparison: floor(log2 1344) = 10 -> 10 - 8 = 2 -> code 129.
  EXPECT_EQ(ref_e8m0_scale_code(1344.0f, "floor", "e4m3"), 129);
  // e2m1 (max 6): amax 18 -> q = 3 -> rne 2.0 (128), ceil 4.0 (129).
  EXPECT_EQ(ref_e8m0_scale_code(18.0f, "rne", "e2m1"), 128);
  EXPECT_EQ(ref_e8m0_scale_code(18.0f, "ceil", "e2m1"), 129);
}

TEST(RefQuantE8m0, SpecialAmaxValues) {
  for (const char* rule : {"floor", "ceil", "rne"}) {
    EXPECT_EQ(ref_e8m0_scale_code(kNaN, rule, "e4m3"), 0xFF) << rule;
    EXPECT_EQ(ref_e8m0_scale_code(0.0f, rule, "e4m3"), 0x00) << rule;
    // amax = 2^-140: floor -140 - 8 < -127 -> code 0; q = 2^-140 / 448 is
    // below 2^-127 -> code 0 under ceil and rne.
    EXPECT_EQ(ref_e8m0_scale_code(std::ldexp(1.0f, -140), rule, "e4m3"), 0x00) << rule;
  }
  // inf: NaN block under floor and rne, 0xFE under ceil (satfinite).
  EXPECT_EQ(ref_e8m0_scale_code(kInf, "floor", "e4m3"), 0xFF);
  EXPECT_EQ(ref_e8m0_scale_code(kInf, "rne", "e4m3"), 0xFF);
  EXPECT_EQ(ref_e8m0_scale_code(kInf, "ceil", "e4m3"), 0xFE);
  // MXINT8 (emax 0): FLT_MAX has floor(log2) 127 -> k = 127 -> code 254.
  EXPECT_EQ(ref_e8m0_scale_code(FLT_MAX, "floor", "int8"), 254);
  EXPECT_THROW(ref_e8m0_scale_code(1.0f, "nearest", "e4m3"), std::invalid_argument);
}

// amax = 2^-140 stores code 0 and quantises with 2^-127: with e5m2 elements
// (emin -14), 2^-140 * 2^127 = 2^-13 is the normal e5m2 number with exponent
// field -13 + 15 = 2 (code 0x08); -2^-141 -> -2^-14, field 1 -> 0x84.
TEST(RefQuantE8m0, TinyAmaxQuantizesWithTwoToTheMinus127) {
  const std::vector<float> x = block32({std::ldexp(1.0f, -140), -std::ldexp(1.0f, -141)});
  const RefQuantized q = ref_quantize(x, 1, 32, mx("e5m2"));
  EXPECT_EQ(q.scales[0], 0u);
  EXPECT_EQ(q.elements[0], 0x08);
  EXPECT_EQ(q.elements[1], 0x84);
  EXPECT_EQ(q.underflows, 0u);
  const std::vector<float> d = ref_dequantize(q, mx("e5m2"));
  EXPECT_EQ(d[0], std::ldexp(1.0f, -140));
  EXPECT_EQ(d[1], -std::ldexp(1.0f, -141));
}

// e2m1 floor uses floor(log2 amax) - 2: amax 6, 5.99, 4 -> 0 (code 127);
// 8 -> 1 (128); 3.99 -> -1 (126). Code 127 decodes to 1.0: the block with
// amax 6 dequantizes to its own (representable) values.
TEST(RefQuantE8m0, E2m1FloorAndCode127IsOne) {
  EXPECT_EQ(ref_e8m0_scale_code(6.0f, "floor", "e2m1"), 127);
  EXPECT_EQ(ref_e8m0_scale_code(5.99f, "floor", "e2m1"), 127);
  EXPECT_EQ(ref_e8m0_scale_code(4.0f, "floor", "e2m1"), 127);
  EXPECT_EQ(ref_e8m0_scale_code(8.0f, "floor", "e2m1"), 128);
  EXPECT_EQ(ref_e8m0_scale_code(3.99f, "floor", "e2m1"), 126);

  // e2m1 codes: 0 0, 1 0.5, 2 1, 3 1.5, 4 2, 5 3, 6 4, 7 6 (sign 0x8).
  const std::vector<float> x = block32({6.0f, -0.5f, 1.5f, 3.0f, -4.0f});
  const RefQuantized q = ref_quantize(x, 1, 32, mx("e2m1"));
  EXPECT_EQ(q.scales[0], 127u);
  EXPECT_EQ(q.elements[0], 0x7);
  EXPECT_EQ(q.elements[1], 0x9);
  EXPECT_EQ(q.elements[2], 0x3);
  EXPECT_EQ(q.elements[3], 0x5);
  EXPECT_EQ(q.elements[4], 0xE);
  const std::vector<float> d = ref_dequantize(q, mx("e2m1"));
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(d[i], x[i]) << i;

  // 7.99: scale still 2^0, element saturates to 6 (0x7): one saturation.
  const RefQuantized s = ref_quantize(block32({7.99f}), 1, 32, mx("e2m1"));
  EXPECT_EQ(s.scales[0], 127u);
  EXPECT_EQ(s.elements[0], 0x7);
  EXPECT_EQ(s.saturated, 1u);
}

// Blocks never straddle rows. 2x40 tensor, 1x32 blocks -> grid 2x2:
//   row 0: cols 0..31 = 1.0 (floor 0 - 8 = -8, code 119), cols 32..39 = 0.5 (-9, 118);
//   row 1: cols 0..31 = 100 (floor 6 - 8 = -2, code 125), cols 32..39 = 2 (1 - 8 = -7, 120).
// Flat 32-element chunks would put row 1's 100s into row 0's second block.
// Elements: 1 * 2^8 = 256 = e4m3 0x78 (field 15); 0.5 * 2^9 = 256; 2 * 2^7 = 256;
// 100 * 2^2 = 400: tie between 384 (0x7C, mantissa 100, even) and 416 -> 0x7C.
TEST(RefQuantMx, BlocksNeverStraddleRows) {
  std::vector<float> x(80);
  for (size_t c = 0; c < 40; ++c) {
    x[c] = c < 32 ? 1.0f : 0.5f;
    x[40 + c] = c < 32 ? 100.0f : 2.0f;
  }
  const RefQuantized q = ref_quantize(x, 2, 40, mx("e4m3"));
  EXPECT_EQ(q.grid_rows, 2u);
  EXPECT_EQ(q.grid_cols, 2u);
  EXPECT_EQ(q.scales, (std::vector<uint32_t>{119, 118, 125, 120}));
  EXPECT_EQ(q.elements[0], 0x78);
  EXPECT_EQ(q.elements[32], 0x78);
  EXPECT_EQ(q.elements[40], 0x7C);
  EXPECT_EQ(q.elements[72], 0x78);

  // Column-wise (32x1) on the transpose: 40x2, grid 2x2 stored row-major.
  std::vector<float> t(80);
  for (size_t r = 0; r < 40; ++r) {
    t[r * 2 + 0] = x[r];
    t[r * 2 + 1] = x[40 + r];
  }
  RefQuantScheme col = mx("e4m3");
  col.block_rows = 32;
  col.block_cols = 1;
  const RefQuantized qc = ref_quantize(t, 40, 2, col);
  EXPECT_EQ(qc.grid_rows, 2u);
  EXPECT_EQ(qc.grid_cols, 2u);
  EXPECT_EQ(qc.scales, (std::vector<uint32_t>{119, 125, 118, 120}));
  EXPECT_EQ(qc.elements[1], 0x7C);
}

// §9 item 10. E4M3 block max 957: floor(log2 957) = 9 -> k = 1, scale 2 (code
// 128); 957 / 2 = 478.5 > 448 saturates to 0x7E, decoding to 896. ceil:
// fp32(957 / 448) = 2.136... -> rup 4 (129); 957 / 4 = 239.25 -> 240 (step 16
// in [128, 256)) = 0 1110 111 = 0x77, decoding to 960.
TEST(RefQuantMx, ScalePolicyE4m3BlockMax957) {
  const std::vector<float> x = block32({957.0f, 1.0f});
  const RefQuantized f = ref_quantize(x, 1, 32, mx("e4m3", "floor"));
  EXPECT_EQ(f.scales[0], 128u);
  EXPECT_EQ(f.elements[0], 0x7E);
  EXPECT_EQ(ref_dequantize(f, mx("e4m3", "floor"))[0], 896.0f);
  EXPECT_EQ(f.saturated, 1u);

  const RefQuantized c = ref_quantize(x, 1, 32, mx("e4m3", "ceil"));
  EXPECT_EQ(c.scales[0], 129u);
  EXPECT_EQ(c.elements[0], 0x77);
  EXPECT_EQ(ref_dequantize(c, mx("e4m3", "ceil"))[0], 960.0f);
  EXPECT_EQ(c.saturated, 0u);
}

// E5M2 block max 127.9999: floor(log2) = 6 -> k = 6 - 15 = -9 (code 118);
// 127.9999 * 2^9 = 65535.95 > 57344 saturates to 0x7B (0 11110 11). Under
// the ieee overflow policy it rounds to 65536 > max: +inf (0x7C).
TEST(RefQuantMx, ScalePolicyE5m2BlockMax127_9999) {
  const std::vector<float> x = block32({127.9999f});
  const RefQuantized q = ref_quantize(x, 1, 32, mx("e5m2"));
  EXPECT_EQ(q.scales[0], 118u);
  EXPECT_EQ(q.elements[0], 0x7B);
  EXPECT_EQ(q.saturated, 1u);
  RefQuantScheme ieee = mx("e5m2");
  ieee.rounding.saturate = false;
  EXPECT_EQ(ref_quantize(x, 1, 32, ieee).elements[0], 0x7C);
}

// §9 item 13: block quantisation keeps -0. -1e-30 under scale 2^-8 (amax 1,
// e4m3) is far below half the smallest subnormal: -0 (0x80), one underflow.
TEST(RefQuantMx, KeepsNegativeZero) {
  const std::vector<float> x = block32({-0.0f, 1.0f, -1e-30f});
  const RefQuantized q = ref_quantize(x, 1, 32, mx("e4m3"));
  EXPECT_EQ(q.scales[0], 119u);
  EXPECT_EQ(q.elements[0], 0x80);
  EXPECT_EQ(q.elements[2], 0x80);
  EXPECT_EQ(q.underflows, 1u);
  const std::vector<float> d = ref_dequantize(q, mx("e4m3"));
  EXPECT_EQ(d[0], 0.0f);
  EXPECT_TRUE(std::signbit(d[0]));
  EXPECT_EQ(ref_quantize(x, 1, 32, mx("e2m1")).elements[0], 0x8);
  EXPECT_EQ(ref_quantize(x, 1, 32, per_tensor("e4m3")).elements[0], 0x80);
  EXPECT_EQ(ref_quantize(x, 1, 32, nvfp4(false)).elements[0], 0x8);
}

// A NaN in an MX block makes its scale NaN (0xFF): every element of that
// block is round(NaN) (e4m3 0x7F, e5m2 0x7E, e2m1 +max 0x7, int8 0), no
// saturations are counted there (1000 would saturate), other blocks unaffected.
TEST(RefQuantMx, NanScaleBlocks) {
  std::vector<float> x(64, 0.25f);
  x[3] = kNaN;
  x[5] = 1000.0f;
  x[40] = 1.0f;
  struct Case {
    const char* element;
    uint8_t nan_element;
  };
  for (const Case& c : {Case{"e4m3", 0x7F}, Case{"e5m2", 0x7E}, Case{"e2m1", 0x7}, Case{"int8", 0x00}}) {
    const RefQuantized q = ref_quantize(x, 1, 64, mx(c.element));
    EXPECT_EQ(q.scales[0], 0xFFu) << c.element;
    EXPECT_NE(q.scales[1], 0xFFu) << c.element;
    for (size_t i = 0; i < 32; ++i) ASSERT_EQ(q.elements[i], c.nan_element) << c.element << " " << i;
    EXPECT_EQ(q.nan_scale_blocks, 1u);
    EXPECT_EQ(q.saturated, 0u);
    EXPECT_EQ(q.nan_inputs, 1u);
    EXPECT_EQ(q.amax, 1000.0f);  // NaN-ignoring over the whole tensor
    const std::vector<float> d = ref_dequantize(q, mx(c.element));
    for (size_t i = 0; i < 32; ++i) ASSERT_TRUE(std::isnan(d[i])) << c.element << " " << i;
    EXPECT_EQ(d[40], 1.0f);
  }
}

// An inf in an MX block: floor -> NaN scale; ceil -> 0xFE (k = 127): inf
// saturates to 448 (0x7E), 1.0 * 2^-127 underflows to +0.
TEST(RefQuantMx, InfAmax) {
  const std::vector<float> x = block32({kInf, 1.0f});
  const RefQuantized f = ref_quantize(x, 1, 32, mx("e4m3", "floor"));
  EXPECT_EQ(f.scales[0], 0xFFu);
  EXPECT_EQ(f.nan_scale_blocks, 1u);
  EXPECT_EQ(f.inf_inputs, 1u);
  const RefQuantized c = ref_quantize(x, 1, 32, mx("e4m3", "ceil"));
  EXPECT_EQ(c.scales[0], 0xFEu);
  EXPECT_EQ(c.elements[0], 0x7E);
  EXPECT_EQ(c.elements[1], 0x00);
  EXPECT_EQ(c.underflows, 1u);
  EXPECT_EQ(c.saturated, 0u);  // inf is not a finite input
  EXPECT_EQ(c.amax, kInf);
}

// MXINT8: amax 1.5 -> floor(log2) 0, emax 0 -> k = 0 (code 127); element =
// round(x * 2^6) to int8: 1.5 -> 96 (0x60), 1 -> 64, -1.5 -> -96 (0xA0),
// 0.01 -> 0.64 -> 1, 2^-7 -> 0.5 -> tie to even 0 (underflow), -1.5 * 2^-6 ->
// -1.5 -> tie to even -2 (0xFE). Second block: 1.999 -> 127.936 -> 128 clamps
// to 127 (0x7F); -1.999 -> -127.936 -> -128 (0x80). Both have |x * 2^-k| =
// 1.999 > 127/64: two saturations by §4's definition.
TEST(RefQuantMx, Mxint8FixedPoint) {
  std::vector<float> x = block32({1.5f, 1.0f, -1.5f, 0.01f, std::ldexp(1.0f, -7), -1.5f * std::ldexp(1.0f, -6)});
  const std::vector<float> b2 = block32({1.999f, -1.999f});
  x.insert(x.end(), b2.begin(), b2.end());
  const RefQuantized q = ref_quantize(x, 1, 64, mx("int8"));
  EXPECT_EQ(q.scales, (std::vector<uint32_t>{127, 127}));
  EXPECT_EQ(q.elements[0], 0x60);
  EXPECT_EQ(q.elements[1], 0x40);
  EXPECT_EQ(q.elements[2], 0xA0);
  EXPECT_EQ(q.elements[3], 0x01);
  EXPECT_EQ(q.elements[4], 0x00);
  EXPECT_EQ(q.elements[5], 0xFE);
  EXPECT_EQ(q.elements[32], 0x7F);
  EXPECT_EQ(q.elements[33], 0x80);
  EXPECT_EQ(q.underflows, 1u);
  EXPECT_EQ(q.saturated, 2u);
  const std::vector<float> d = ref_dequantize(q, mx("int8"));
  EXPECT_EQ(d[0], 1.5f);
  EXPECT_EQ(d[3], 1.0f / 64);
  EXPECT_EQ(d[5], -2.0f / 64);
  EXPECT_EQ(d[32], 127.0f / 64);
  EXPECT_EQ(d[33], -2.0f);
}

// Partial edge blocks: 1x40 with 1x32 blocks has a second block of 8; with
// require_full_blocks it is an error.
TEST(RefQuantMx, PartialEdgeBlocksAndRequireFull) {
  std::vector<float> x(40, 1.0f);
  x[39] = 4.0f;
  const RefQuantized q = ref_quantize(x, 1, 40, mx("e4m3"));
  EXPECT_EQ(q.scales, (std::vector<uint32_t>{119, 121}));  // 0 - 8, 2 - 8
  RefQuantScheme full = mx("e4m3");
  full.require_full_blocks = true;
  EXPECT_THROW(ref_quantize(x, 1, 40, full), std::invalid_argument);
  EXPECT_NO_THROW(ref_quantize(std::vector<float>(64, 1.0f), 1, 64, full));
}

// ------------------------------------------------------------ per tensor (TE)

// TE compute_scale_from_amax: amax 0 -> 1; 448 -> 1; 128 -> 448/128 = 3.5,
// pow2 -> 2; inf -> 1; NaN -> 1; 3 -> 448/3 = 149.333..., whose FP32 rounding
// (ulp 2^-16 in [128, 256)) is 149 + 21845 * 2^-16 = 9786709 * 2^-16.
TEST(RefQuantPerTensor, MultiplierFromAmax) {
  EXPECT_EQ(ref_multiplier_from_amax(0.0f, 448, false, 0.0f), 1.0f);
  EXPECT_EQ(ref_multiplier_from_amax(448.0f, 448, false, 0.0f), 1.0f);
  EXPECT_EQ(ref_multiplier_from_amax(128.0f, 448, false, 0.0f), 3.5f);
  EXPECT_EQ(ref_multiplier_from_amax(128.0f, 448, true, 0.0f), 2.0f);
  EXPECT_EQ(ref_multiplier_from_amax(kInf, 448, false, 0.0f), 1.0f);
  EXPECT_EQ(ref_multiplier_from_amax(kNaN, 448, false, 0.0f), 1.0f);
  EXPECT_EQ(ref_multiplier_from_amax(3.0f, 448, false, 0.0f), 9786709.0f / 65536.0f);
  EXPECT_EQ(ref_multiplier_from_amax(3.0f, 448, true, 0.0f), 128.0f);
  EXPECT_EQ(ref_multiplier_from_amax(7.0f, 57344, false, 0.0f), 8192.0f);
  // epsilon: amax 0 -> 2^-120; 448 * 2^120 = 1.75 * 2^128 overflows FP32 ->
  // FLT_MAX; pow2 of FLT_MAX is 2^127.
  EXPECT_EQ(ref_multiplier_from_amax(0.0f, 448, false, std::ldexp(1.0f, -120)), FLT_MAX);
  EXPECT_EQ(ref_multiplier_from_amax(0.0f, 448, true, std::ldexp(1.0f, -120)), std::ldexp(1.0f, 127));
  // amax above epsilon is kept: 1 / 2^-2 = 4.
  EXPECT_EQ(ref_multiplier_from_amax(0.25f, 1.0, false, 0.125f), 4.0f);
  // 1 / FLT_MAX = 2^-128 (1 + 2^-24 + ...): the subnormal quantum 2^-149
  // makes it exactly 2^-128; pow2 leaves 0 (exponent field 0) -> the
  // Decision's 2^-126.
  EXPECT_EQ(ref_multiplier_from_amax(FLT_MAX, 1.0, false, 0.0f), std::ldexp(1.0f, -128));
  EXPECT_EQ(ref_multiplier_from_amax(FLT_MAX, 1.0, true, 0.0f), std::ldexp(1.0f, -126));
}

// x = {1, -2, 7, NaN, -0, 0.001}: amax 7 (NaN ignored), s = 448/7 = 64,
// scale_inv 2^-6. Elements x * 64: 64 = 2^6 -> field 13 = 0x68; -128 -> 1 1110
// 000 = 0xF0; 448 = 0x7E; NaN -> default NaN 0x7F; -0 -> 0x80; 0.064 in
// [2^-4, 2^-3) with step 2^-7: 8.192 steps -> 8 -> 0.0625 = 0 0011 000 = 0x18.
// A NaN input converts as itself, sign kept (docs/quantization.md §3): +NaN
// -> 0x7F, -NaN -> 0xFF (e4m3); e2m1 has no NaN: +max 0x7 for both.
TEST(RefQuantPerTensor, WorkedExampleE4m3) {
  const std::vector<float> x{1.0f, -2.0f, 7.0f, kNaN, -0.0f, 0.001f};
  for (bool exact : {false, true}) {
    RefQuantScheme s = per_tensor("e4m3");
    s.exact_arith = exact;
    const RefQuantized q = ref_quantize(x, 1, 6, s);
    EXPECT_EQ(q.grid_rows, 1u);
    EXPECT_EQ(q.grid_cols, 1u);
    EXPECT_EQ(q.multipliers, (std::vector<uint32_t>{bits(64.0f)}));
    EXPECT_EQ(q.scales, (std::vector<uint32_t>{bits(1.0f / 64)}));
    EXPECT_EQ(q.elements, (std::vector<uint8_t>{0x68, 0xF0, 0x7E, 0x7F, 0x80, 0x18}));
    EXPECT_EQ(q.amax, 7.0f);
    EXPECT_EQ(q.nan_inputs, 1u);
    EXPECT_EQ(q.saturated, 0u);
    EXPECT_EQ(q.underflows, 0u);
    const std::vector<float> d = ref_dequantize(q, s);
    EXPECT_EQ(d[0], 1.0f);
    EXPECT_EQ(d[1], -2.0f);
    EXPECT_EQ(d[2], 7.0f);
    EXPECT_TRUE(std::isnan(d[3]));
    EXPECT_TRUE(d[4] == 0.0f && std::signbit(d[4]));
    EXPECT_EQ(d[5], std::ldexp(1.0f, -10));  // 0.0625 / 64
  }
  const std::vector<float> nans{kNaN, -kNaN, 1.0f};
  for (bool exact : {false, true}) {
    RefQuantScheme s = per_tensor("e4m3");
    s.exact_arith = exact;
    EXPECT_EQ(ref_quantize(nans, 1, 3, s).elements, (std::vector<uint8_t>{0x7F, 0xFF, 0x7E}));
    s.element = "e2m1";
    EXPECT_EQ(ref_quantize(nans, 1, 3, s).elements, (std::vector<uint8_t>{0x7, 0x7, 0x7}));
    s.kind = "fp32_block";
    s.element = "e4m3";
    s.block_cols = 2;
    EXPECT_EQ(ref_quantize(nans, 1, 3, s).elements, (std::vector<uint8_t>{0x7F, 0xFF, 0x7E}));
  }
}

// fp32 vs exact arithmetic, by hand. s = 1 + 2^-23, x = 1.0625 - 2^-23:
// x * s = 1.0625 + 2^-27 - 2^-46, just above the e4m3 midpoint 1.0625
// between 1.0 (0x38, even) and 1.125 (0x39). exact: 0x39. fp32: the offset is
// below half an FP32 ulp (2^-24), so t = 1.0625 exactly, a tie -> even -> 0x38.
TEST(RefQuantPerTensor, Fp32ArithRoundsTwiceExactOnce) {
  const float s = 1.0f + std::ldexp(1.0f, -23);
  const std::vector<float> x{1.0625f - std::ldexp(1.0f, -23)};
  RefQuantScheme f = per_tensor("e4m3");
  EXPECT_EQ(ref_quantize_with_multiplier(x, 1, 1, f, s).elements[0], 0x38);
  f.exact_arith = true;
  EXPECT_EQ(ref_quantize_with_multiplier(x, 1, 1, f, s).elements[0], 0x39);
}

TEST(RefQuantPerTensor, GivenMultiplierSaturation) {
  const std::vector<float> x{1000.0f, -1000.0f, 2.0f};
  RefQuantScheme s = per_tensor("e4m3");
  const RefQuantized q = ref_quantize_with_multiplier(x, 1, 3, s, 1.0f);
  EXPECT_EQ(q.elements, (std::vector<uint8_t>{0x7E, 0xFE, 0x40}));  // 2 = field 8 -> 0x40
  EXPECT_EQ(q.saturated, 2u);
  EXPECT_EQ(q.multipliers[0], bits(1.0f));
  s.rounding.saturate = false;  // ieee: rne overflow of e4m3 is NaN
  EXPECT_EQ(ref_quantize_with_multiplier(x, 1, 3, s, 1.0f).elements,
            (std::vector<uint8_t>{0x7F, 0xFF, 0x40}));
  EXPECT_THROW(ref_quantize_with_multiplier(x, 1, 3, s, 0.0f), std::invalid_argument);
  EXPECT_THROW(ref_quantize_with_multiplier(x, 1, 3, s, kNaN), std::invalid_argument);
  EXPECT_THROW(ref_quantize_with_multiplier(x, 1, 3, s, kInf), std::invalid_argument);
  EXPECT_THROW(ref_quantize_with_multiplier(x, 1, 3, mx("e4m3"), 1.0f), std::invalid_argument);
}

// The element rounding spec is honoured. e4m3 in [1, 2) has step 1/8:
// 1.95 lies between 1.875 (0x3F) and 2.0 (0x40), nearer 2.0. rne/rup -> 0x40,
// rtz/rdn -> 0x3F; -1.95 under rdn -> -2.0 (0xC0). ftz: 2^-8 is the e4m3
// subnormal 0x02 (2 * 2^-9), flushed to +0 with ftz (an underflow).
TEST(RefQuantPerTensor, RoundingSpecReachesTheElements) {
  RefQuantScheme s = per_tensor("e4m3");
  const std::vector<float> x{1.95f, -1.95f, std::ldexp(1.0f, -8)};
  const auto with = [&](RefMode m) {
    s.rounding.mode = m;
    return ref_quantize_with_multiplier(x, 1, 3, s, 1.0f).elements;
  };
  EXPECT_EQ(with(RefMode::rne), (std::vector<uint8_t>{0x40, 0xC0, 0x02}));
  EXPECT_EQ(with(RefMode::rup), (std::vector<uint8_t>{0x40, 0xBF, 0x02}));
  EXPECT_EQ(with(RefMode::rtz), (std::vector<uint8_t>{0x3F, 0xBF, 0x02}));
  EXPECT_EQ(with(RefMode::rdn), (std::vector<uint8_t>{0x3F, 0xC0, 0x02}));
  s.rounding.mode = RefMode::rne;
  s.rounding.ftz = true;
  const RefQuantized q = ref_quantize_with_multiplier(x, 1, 3, s, 1.0f);
  EXPECT_EQ(q.elements[2], 0x00);
  EXPECT_EQ(q.underflows, 1u);
}

// Delayed scaling update: a = 7 -> 448/7 = 64, margin 1 -> 32; a 0, inf or
// NaN keeps the previous; a tiny amax makes 448 / a overflow -> FLT_MAX.
TEST(RefQuantPerTensor, DelayedMultiplier) {
  EXPECT_EQ(fpsim_ref::ref_delayed_multiplier(7.0f, 448, 0, 1.0f), 64.0f);
  EXPECT_EQ(fpsim_ref::ref_delayed_multiplier(7.0f, 448, 1, 1.0f), 32.0f);
  EXPECT_EQ(fpsim_ref::ref_delayed_multiplier(0.0f, 448, 0, 5.0f), 5.0f);
  EXPECT_EQ(fpsim_ref::ref_delayed_multiplier(kInf, 448, 0, 5.0f), 5.0f);
  EXPECT_EQ(fpsim_ref::ref_delayed_multiplier(kNaN, 448, 0, 5.0f), 5.0f);
  EXPECT_EQ(fpsim_ref::ref_delayed_multiplier(1e-40f, 448, 0, 5.0f), FLT_MAX);
}

// ------------------------------------------------------------ fp32_block

// 2x8 tensor, 1x4 blocks, e4m3, pow2 multipliers:
//   (0,0) amax 7 -> 64; (0,1) amax 3 -> 149.33 -> 128; (1,0) amax 0 -> 1;
//   (1,1) amax 1000 -> 0.448 -> 0.25. scale_inv = 1/s.
// Elements: 3 * 128 = 384 = 0x7C; 1000 * 0.25 = 250 -> 256 (step 16) = 0x78.
// Without pow2, (0,1) uses s = 9786709 * 2^-16: 3 * s = 29360127 * 2^-16 is a
// tie between FP32 neighbours (ulp 2^-15) -> even -> 448 = 0x7E under fp32;
// exact 447.99998 -> 448 as well; neither saturates. Block (1,1) uses
// s = fp32(448 / 1000) = 15032386 * 2^-25 (0.448 * 2^25 = 15032385.536), so
// 1000 * s = 448 + 464 * 2^-25: above 448, an exact-arith saturation, but only
// 0.453 of an FP32 ulp (2^-15) above it, so fp32 arith has t = 448 exactly and
// counts none. Both give 448 (0x7E).
TEST(RefQuantFp32Block, Pow2BlockMultipliers) {
  const std::vector<float> x{7, 1, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1000, 0, 0, 0};
  RefQuantScheme s;
  s.kind = "fp32_block";
  s.element = "e4m3";
  s.block_rows = 1;
  s.block_cols = 4;
  s.pow2_scales = true;
  const RefQuantized q = ref_quantize(x, 2, 8, s);
  EXPECT_EQ(q.grid_rows, 2u);
  EXPECT_EQ(q.grid_cols, 2u);
  EXPECT_EQ(q.multipliers, (std::vector<uint32_t>{bits(64.0f), bits(128.0f), bits(1.0f), bits(0.25f)}));
  EXPECT_EQ(q.scales, (std::vector<uint32_t>{bits(1.0f / 64), bits(1.0f / 128), bits(1.0f), bits(4.0f)}));
  EXPECT_EQ(q.elements[0], 0x7E);
  EXPECT_EQ(q.elements[4], 0x7C);
  EXPECT_EQ(q.elements[12], 0x78);
  EXPECT_EQ(ref_dequantize(q, s)[12], 1024.0f);
  s.pow2_scales = false;
  for (bool exact : {false, true}) {
    s.exact_arith = exact;
    const RefQuantized n = ref_quantize(x, 2, 8, s);
    EXPECT_EQ(n.multipliers[1], bits(9786709.0f / 65536.0f));
    EXPECT_EQ(n.elements[4], 0x7E);
    EXPECT_EQ(n.multipliers[3], bits(15032386.0f * 0x1p-25f));
    EXPECT_EQ(n.elements[12], 0x7E);
    EXPECT_EQ(n.saturated, exact ? 1u : 0u);
  }
  s.block_cols = 3;
  s.require_full_blocks = true;
  EXPECT_THROW(ref_quantize(x, 2, 8, s), std::invalid_argument);
}

// ------------------------------------------------------------ nvfp4

// Worked example, 1x48 (three 1x16 blocks), e2m1 codes 0 0, 1 0.5, 2 1, 3 1.5,
// 4 2, 5 3, 6 4, 7 6 (sign 0x8). TE's order (docs/quantization.md §3 nvfp4):
//   amax_t = 21 -> S_enc = fp32(2688 / 21) = 128, tensor_scale = 2^-7.
//   block 0: amax 21 -> fp32(21 / 6) * 128 = 3.5 * 128 = 448 -> ue4m3 0x7E;
//     exact: x * 128 / 448 = x * 2/7:
//     21 -> 6 (0x7); 3.5 -> 1 (0x2); 7 -> 2 (0x4); -10.5 -> -3 (0xD);
//     1.75 -> 0.5 (0x1); 0.875 -> 0.25, tie 0 / 0.5 -> 0 (underflow);
//     8.75 -> 2.5, tie 2 / 3 -> 2 (0x4); 12.25 -> 3.5, tie 3 / 4 -> 4 (0x6);
//     17.5 -> 5, tie 4 / 6 -> 4 (0x6).
//     fp32: e = fp32(128 / 448) = 0.2857143 (above 2/7), so t = fp32(x * e):
//     21 -> 6.0000005 (above 6: saturates to 6, counted), 12.25 -> 3.5000002
//     (-> 4), -10.5 -> -3.0000002 (-> -3); the others land exactly on the
//     values above (numpy float32), so the codes agree and fp32 counts one
//     saturation more.
//   block 1: amax 1.5 -> 0.25 * 128 = 32 = 2^5 -> ue4m3 0 1100 000 = 0x60;
//     e = 128 / 32 = 4: 1.5 -> 6 (0x7); -0.375 -> -1.5 (0xB); 0.1f -> 0.4000000059... -> 0.5 (0x1).
//   block 2: amax 1e-6 -> fp32(1e-6 / 6) * 128 = 2.1e-5, below half of ue4m3's 2^-9 -> s_block 0:
//     -0 -> 0x8, 1e-6 -> +0 (0x0), -1e-6 -> -0 (0x8); two underflows.
TEST(RefQuantNvfp4, WorkedExample) {
  std::vector<float> x(48, 0.0f);
  const float b0[] = {21, 3.5f, 7, -10.5f, 1.75f, 0.875f, 8.75f, 12.25f, 17.5f};
  for (size_t i = 0; i < 9; ++i) x[i] = b0[i];
  x[16] = 1.5f;
  x[17] = -0.375f;
  x[18] = 0.1f;
  x[32] = -0.0f;
  x[33] = 1e-6f;
  x[34] = -1e-6f;
  for (bool exact : {false, true}) {
    const RefQuantized q = ref_quantize(x, 1, 48, nvfp4(exact));
    EXPECT_EQ(q.tensor_scale, std::ldexp(1.0f, -7));
    EXPECT_EQ(q.scales, (std::vector<uint32_t>{0x7E, 0x60, 0x00}));
    EXPECT_TRUE(q.multipliers.empty());
    const std::vector<uint8_t> e0{0x7, 0x2, 0x4, 0xD, 0x1, 0x0, 0x4, 0x6, 0x6};
    for (size_t i = 0; i < 9; ++i) EXPECT_EQ(q.elements[i], e0[i]) << i;
    EXPECT_EQ(q.elements[16], 0x7);
    EXPECT_EQ(q.elements[17], 0xB);
    EXPECT_EQ(q.elements[18], 0x1);
    EXPECT_EQ(q.elements[32], 0x8);
    EXPECT_EQ(q.elements[33], 0x0);
    EXPECT_EQ(q.elements[34], 0x8);
    EXPECT_EQ(q.underflows, 3u);
    EXPECT_EQ(q.saturated, exact ? 0u : 1u);
    EXPECT_EQ(q.amax, 21.0f);
    // Dequantize: element * s_block * s_global.
    const std::vector<float> d = ref_dequantize(q, nvfp4(exact));
    EXPECT_EQ(d[0], 21.0f);   // 6 * 448 * 2^-7
    EXPECT_EQ(d[3], -10.5f);  // -3 * 3.5
    EXPECT_EQ(d[7], 14.0f);   // 4 * 3.5
    EXPECT_EQ(d[17], -0.375f);
    EXPECT_EQ(d[18], 0.125f);  // 0.5 * 0.25
    EXPECT_TRUE(d[32] == 0.0f && std::signbit(d[32]));
  }
}

// s_global decisions: amax_t 0 -> 1 (every block scale 0); amax_t inf -> 1,
// the inf block's scale is fp32(inf / 6) -> saturated 448 (0x7E); ±inf -> ±6.
TEST(RefQuantNvfp4, GlobalScaleDecisions) {
  const RefQuantized z = ref_quantize(std::vector<float>(16, 0.0f), 1, 16, nvfp4(false));
  EXPECT_EQ(z.tensor_scale, 1.0f);
  EXPECT_EQ(z.scales[0], 0u);
  std::vector<float> x(16, 0.0f);
  x[0] = kInf;
  x[1] = -kInf;
  x[2] = 1.0f;  // 1 / 448 -> 0
  for (bool exact : {false, true}) {
    const RefQuantized q = ref_quantize(x, 1, 16, nvfp4(exact));
    EXPECT_EQ(q.tensor_scale, 1.0f);
    EXPECT_EQ(q.scales[0], 0x7Eu);
    EXPECT_EQ(q.elements[0], 0x7);
    EXPECT_EQ(q.elements[1], 0xF);
    EXPECT_EQ(q.elements[2], 0x0);
    EXPECT_EQ(q.nan_inputs, 0u);
    EXPECT_EQ(q.inf_inputs, 2u);
    EXPECT_EQ(q.underflows, 1u);
    EXPECT_EQ(q.saturated, 0u);
  }
  // A NaN in the block (either sign) makes its ue4m3 scale NaN (0x7F): every
  // element is round(+NaN) = +max (0x7), nothing counts as an underflow, and
  // the block dequantizes to NaN.
  x[3] = -kNaN;
  for (bool exact : {false, true}) {
    const RefQuantized q = ref_quantize(x, 1, 16, nvfp4(exact));
    EXPECT_EQ(q.scales[0], 0x7Fu);
    for (uint8_t e : q.elements) EXPECT_EQ(e, 0x7);
    EXPECT_EQ(q.nan_scale_blocks, 1u);
    EXPECT_EQ(q.nan_inputs, 1u);
    EXPECT_EQ(q.underflows, 0u);
    for (float v : ref_dequantize(q, nvfp4(exact))) EXPECT_TRUE(std::isnan(v));
  }
}

// 16x16 blocks (nvfp4-2d): a 16x32 tensor has a 1x2 grid.
TEST(RefQuantNvfp4, TwoDimensionalBlocks) {
  std::vector<float> x(16 * 32, 0.0f);
  x[15 * 32 + 3] = 21.0f;   // block (0, 0)
  x[7 * 32 + 20] = 1.5f;    // block (0, 1)
  RefQuantScheme s = nvfp4(false);
  s.block_rows = 16;
  const RefQuantized q = ref_quantize(x, 16, 32, s);
  EXPECT_EQ(q.grid_rows, 1u);
  EXPECT_EQ(q.grid_cols, 2u);
  EXPECT_EQ(q.scales, (std::vector<uint32_t>{0x7E, 0x60}));  // as in the worked example
}

// ------------------------------------------------------------ errors

TEST(RefQuantErrors, BadSchemesAndShapes) {
  const std::vector<float> x(32, 1.0f);
  EXPECT_THROW(ref_quantize(x, 1, 31, mx("e4m3")), std::invalid_argument);
  EXPECT_THROW(ref_quantize(x, 1, 32, mx("bf16")), std::invalid_argument);
  RefQuantScheme zero = mx("e4m3");
  zero.block_cols = 0;
  EXPECT_THROW(ref_quantize(x, 1, 32, zero), std::invalid_argument);
  RefQuantScheme kind = mx("e4m3");
  kind.kind = "mxfp8";
  EXPECT_THROW(ref_quantize(x, 1, 32, kind), std::invalid_argument);
  EXPECT_THROW(ref_quantize(x, 1, 32, mx("e4m3", "up")), std::invalid_argument);
  RefQuantScheme h = nvfp4(false);
  h.hadamard = true;
  EXPECT_THROW(ref_quantize(std::vector<float>(24, 1.0f), 1, 24, h), std::invalid_argument);
}

// ------------------------------------------------------------ Philox, Hadamard

// Random123 tests/kat_vectors, the three "philox4x32 10" lines.
TEST(RefHadamard, Philox4x32_10KnownAnswers) {
  using A4 = std::array<uint32_t, 4>;
  EXPECT_EQ(fpsim_ref::ref_philox4x32_10({0, 0, 0, 0}, {0, 0}), (A4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(fpsim_ref::ref_philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (A4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(fpsim_ref::ref_philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (A4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(RefHadamard, SignsAreDeterministic) {
  bool differ = false;
  const std::vector<int> s0 = fpsim_ref::ref_hadamard_signs(0);
  for (uint32_t seed : {0u, 1u, 7u, 0xDEADBEEFu}) {
    const std::vector<int> a = fpsim_ref::ref_hadamard_signs(seed);
    EXPECT_EQ(a, fpsim_ref::ref_hadamard_signs(seed));
    ASSERT_EQ(a.size(), 16u);
    for (size_t i = 0; i < 16; ++i) {
      EXPECT_TRUE(a[i] == 1 || a[i] == -1);
      // §6: -1 exactly when bit 0 of Philox word 0, counter (i,0,0,0), key (seed, 0x52485421) is set.
      const auto w = fpsim_ref::ref_philox4x32_10({static_cast<uint32_t>(i), 0, 0, 0}, {seed, 0x52485421u});
      EXPECT_EQ(a[i], (w[0] & 1u) ? -1 : 1);
    }
    differ |= a != s0;
  }
  EXPECT_TRUE(differ);
}

// H16[0][j] = 1, so the unit vector e_0 maps to y_j = 0.25 * S_0 for every j.
// t_i = S_i gives acc_j = sum_i H16[i][j] = 16 (j = 0) or 0: y = (4, 0, ..., 0),
// the zeros +0 (rne sums of opposite values). The inverse maps them back exactly.
TEST(RefHadamard, ExactCases) {
  const uint32_t seed = 12345;
  const std::vector<int> S = fpsim_ref::ref_hadamard_signs(seed);
  std::vector<float> e0(16, 0.0f);
  e0[0] = 1.0f;
  fpsim_ref::ref_hadamard_transform(e0, 1, 16, RefAxis::cols, seed);
  for (size_t j = 0; j < 16; ++j) EXPECT_EQ(e0[j], 0.25f * static_cast<float>(S[0])) << j;

  std::vector<float> sv(16);
  for (size_t i = 0; i < 16; ++i) sv[i] = static_cast<float>(S[i]);
  const std::vector<float> orig = sv;
  fpsim_ref::ref_hadamard_transform(sv, 1, 16, RefAxis::cols, seed);
  EXPECT_EQ(sv[0], 4.0f);
  for (size_t j = 1; j < 16; ++j) EXPECT_TRUE(sv[j] == 0.0f && !std::signbit(sv[j])) << j;
  fpsim_ref::ref_hadamard_transform(sv, 1, 16, RefAxis::cols, seed, /*inverse=*/true);
  EXPECT_EQ(sv, orig);

  // A NaN anywhere in a tile makes every output the default +NaN, forward
  // and inverse (the inverse's sign S_i does not flip it).
  for (bool inverse : {false, true}) {
    std::vector<float> n(16, 1.0f);
    n[5] = -kNaN;
    fpsim_ref::ref_hadamard_transform(n, 1, 16, RefAxis::cols, seed, inverse);
    for (size_t j = 0; j < 16; ++j) EXPECT_EQ(bits(n[j]), 0x7FC00000u) << j << " inverse " << inverse;
  }
  // t = (inf, -inf, 1, ..., 1): acc_j starts with S_0 inf and adds
  // S_1 H16[1][j] (-inf) = -S_1 (-1)^j inf: inf - inf (+NaN) when
  // S_0 S_1 = (-1)^j, else the sum stays S_0 inf (the 1s change nothing).
  std::vector<float> t(16, 1.0f);
  t[0] = kInf;
  t[1] = -kInf;
  fpsim_ref::ref_hadamard_transform(t, 1, 16, RefAxis::cols, seed);
  for (size_t j = 0; j < 16; ++j) {
    const int parity = (j & 1) != 0 ? -1 : 1;
    if (S[0] * S[1] == parity)
      EXPECT_EQ(bits(t[j]), 0x7FC00000u) << j;
    else
      EXPECT_EQ(t[j], static_cast<float>(S[0]) * kInf) << j;
  }
}

// (1/4) S H16 is orthogonal: forward then inverse returns the input within a
// few FP32 ulps of the tile's largest value, and the norm is preserved. Along
// a column (rows axis) it is the same as along a row of the transpose.
TEST(RefHadamard, OrthogonalAndAxisConsistent) {
  const size_t R = 2, C = 32;
  std::vector<float> x(R * C);
  uint32_t state = 2463534242u;  // xorshift32, a fixed input
  for (float& v : x) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    v = static_cast<float>(static_cast<int32_t>(state)) * 0x1p-28f;
  }
  std::vector<float> y = x;
  fpsim_ref::ref_hadamard_transform(y, R, C, RefAxis::cols, 99);
  for (size_t t = 0; t < R * C; t += 16) {
    double nx = 0, ny = 0, m = 0;
    for (size_t i = t; i < t + 16; ++i) {
      nx += double(x[i]) * x[i];
      ny += double(y[i]) * y[i];
      m = std::max(m, double(std::fabs(x[i])));
    }
    EXPECT_NEAR(nx, ny, 1e-5 * nx);
  }
  std::vector<float> back = y;
  fpsim_ref::ref_hadamard_transform(back, R, C, RefAxis::cols, 99, /*inverse=*/true);
  for (size_t t = 0; t < R * C; t += 16) {
    float m = 0;
    for (size_t i = t; i < t + 16; ++i) m = std::max(m, std::fabs(x[i]));
    for (size_t i = t; i < t + 16; ++i) EXPECT_NEAR(back[i], x[i], 8 * FLT_EPSILON * m) << i;
  }
  std::vector<float> tr(R * C);
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c) tr[c * R + r] = x[r * C + c];
  fpsim_ref::ref_hadamard_transform(tr, C, R, RefAxis::rows, 99);
  for (size_t r = 0; r < R; ++r)
    for (size_t c = 0; c < C; ++c) EXPECT_EQ(bits(tr[c * R + r]), bits(y[r * C + c]));
  EXPECT_THROW(fpsim_ref::ref_hadamard_transform(x, R, C, RefAxis::rows, 99), std::invalid_argument);
}

// In a scheme the transform runs first (1x16 blocks: along rows): the result
// equals quantizing the transformed tensor without it.
TEST(RefHadamard, SchemeTransformsBeforeQuantizing) {
  std::vector<float> x(32);
  for (size_t i = 0; i < 32; ++i) x[i] = static_cast<float>(i % 7) - 2.5f;
  RefQuantScheme h = nvfp4(false);
  h.hadamard = true;
  h.hadamard_seed = 5;
  std::vector<float> y = x;
  fpsim_ref::ref_hadamard_transform(y, 1, 32, RefAxis::cols, 5);
  const RefQuantized a = ref_quantize(x, 1, 32, h);
  const RefQuantized b = ref_quantize(y, 1, 32, nvfp4(false));
  EXPECT_EQ(a.elements, b.elements);
  EXPECT_EQ(a.scales, b.scales);
  EXPECT_EQ(a.tensor_scale, b.tensor_scale);
  EXPECT_EQ(a.amax, b.amax);
}

}  // namespace
