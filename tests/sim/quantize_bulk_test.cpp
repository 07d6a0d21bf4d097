// fpsim::bulk::quantize / quantize_with_multiplier / dequantize (sim/bulk,
// SIMD) against the scalar definitions fpsim::quantize & co., bit for bit:
// every field of the QuantizedTensor (elements, scales, multipliers,
// tensor_scale, scale grid and format, every QuantStats field including
// mse and sqnr as bits) and every dequantized value, for every named scheme
// and option (block shapes row- and column-wise, partial edge blocks, E8M0
// rules, pow2 / epsilon, fp32 and exact arithmetic, Hadamard, every rounding
// mode, saturate and ieee overflow, ftz, daz) on random tensors built to hit
// the corner cases: magnitudes over many decades, zeros and -0, subnormals,
// NaN (both signs, signaling), inf, outliers, blocks whose amax sits at or
// just below a power of two, blocks of subnormals only (MX lanes whose f32
// product is not exact), all-NaN and all-zero blocks.
#include "fpsim/bulk/quantize_bulk.hpp"

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/quantize.hpp"

namespace fpsim {
namespace {

uint32_t fbits(float f) { return std::bit_cast<uint32_t>(f); }
uint64_t dbits(double d) { return std::bit_cast<uint64_t>(d); }
float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

std::string describe(const QuantScheme& q, TensorShape shape, int profile, uint64_t seed) {
  std::ostringstream o;
  o << scale_kind_name(q.kind) << " elem=" << q.element.name << " block=" << q.block.rows << "x" << q.block.cols
    << " rule=" << e8m0_rule_name(q.e8m0_rule) << " pow2=" << q.pow2_scales << " eps=" << q.amax_epsilon
    << " arith=" << scale_arith_name(q.arith) << " rnd=" << int(q.rounding.rounding)
    << " sr_bits=" << int(q.rounding.sr_bits) << " ovf=" << int(q.rounding.overflow) << " ftz=" << q.rounding.ftz
    << " daz=" << q.rounding.daz << " had=" << q.hadamard << " err=" << q.error_stats << " shape=" << shape.rows
    << "x" << shape.cols << " profile=" << profile << " seed=" << seed;
  return o.str();
}

// Every field, bit for bit; returns "" or the first difference.
std::string diff(const QuantizedTensor& a, const QuantizedTensor& b) {
  std::ostringstream o;
  if (!(a.shape == b.shape)) return "shape";
  if (!(a.scale_grid == b.scale_grid)) return "scale_grid";
  if (std::string(a.scale_format.name) != b.scale_format.name) return "scale_format";
  if (a.elements.size() != b.elements.size()) return "elements.size";
  for (size_t i = 0; i < a.elements.size(); ++i)
    if (a.elements[i] != b.elements[i]) {
      o << "elements[" << i << "]: bulk " << int(a.elements[i]) << " scalar " << int(b.elements[i]);
      return o.str();
    }
  if (a.scales != b.scales) {
    for (size_t i = 0; i < std::min(a.scales.size(), b.scales.size()); ++i)
      if (a.scales[i] != b.scales[i]) {
        o << "scales[" << i << "]: bulk " << a.scales[i] << " scalar " << b.scales[i];
        return o.str();
      }
    return "scales.size";
  }
  if (a.multipliers != b.multipliers) return "multipliers";
  if (fbits(a.tensor_scale) != fbits(b.tensor_scale)) return "tensor_scale";
  if (a.row_tensor_scales.size() != b.row_tensor_scales.size()) return "row_tensor_scales.size";
  for (size_t r = 0; r < a.row_tensor_scales.size(); ++r)
    if (fbits(a.row_tensor_scales[r]) != fbits(b.row_tensor_scales[r])) {
      o << "row_tensor_scales[" << r << "]: bulk " << a.row_tensor_scales[r] << " scalar " << b.row_tensor_scales[r];
      return o.str();
    }
  const QuantStats &s = a.stats, &t = b.stats;
  auto num = [&](const char* what, uint64_t x, uint64_t y) {
    if (x != y && o.str().empty()) o << what << ": bulk " << x << " scalar " << y;
  };
  num("amax bits", fbits(s.amax), fbits(t.amax));
  num("elements", s.elements, t.elements);
  num("nan_inputs", s.nan_inputs, t.nan_inputs);
  num("inf_inputs", s.inf_inputs, t.inf_inputs);
  num("underflows", s.underflows, t.underflows);
  num("saturated", s.saturated, t.saturated);
  num("nan_scale_blocks", s.nan_scale_blocks, t.nan_scale_blocks);
  num("mse bits", dbits(s.mse), dbits(t.mse));
  num("sqnr bits", dbits(s.sqnr_db), dbits(t.sqnr_db));
  return o.str();
}

std::string diff_floats(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return "size";
  for (size_t i = 0; i < a.size(); ++i)
    if (fbits(a[i]) != fbits(b[i])) {
      std::ostringstream o;
      o << "[" << i << "]: bulk 0x" << std::hex << fbits(a[i]) << " scalar 0x" << fbits(b[i]);
      return o.str();
    }
  return "";
}

// --- inputs -------------------------------------------------------------------

// Profiles:
//  0 mixed magnitudes N(0,1) * 2^u, u in [-24, 24]
//  1 specials: zeros, -0, subnormals, NaN (signs, signaling), inf, outliers
//  2 block-structured: each run of `run` values gets its own scale, with the
//    run's amax forced to 2^k, just below 2^k, 1.5 * 2^k, a subnormal, or the
//    run all zero / all NaN / holding an inf
//  3 any finite bit pattern (every exponent), a few specials
//  4 tiny tensor-wide (subnormals and small normals only)
//  5 values on the element grid (and ties) of a random power-of-two scale
std::vector<float> make_input(int profile, size_t n, size_t run, std::mt19937_64& rng) {
  std::vector<float> v(n);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uni(0.0f, 1.0f);
  auto special = [&]() -> float {
    switch (rng() % 12) {
      case 0: return 0.0f;
      case 1: return -0.0f;
      case 2: return from_bits(uint32_t(rng() % 0x7FFFFF + 1) | (rng() % 2 ? 0x80000000u : 0u));
      case 3: return std::numeric_limits<float>::quiet_NaN();
      case 4: return -std::numeric_limits<float>::quiet_NaN();
      case 5: return from_bits(0x7FA00001u);  // signaling
      case 6: return std::numeric_limits<float>::infinity();
      case 7: return -std::numeric_limits<float>::infinity();
      case 8: return 1e30f * (rng() % 2 ? 1.0f : -1.0f);
      case 9: return FLT_MAX;
      case 10: return from_bits(0x00800000u);  // FLT_MIN
      default: return normal(rng) * 1e-3f;
    }
  };
  switch (profile) {
    case 0:
      for (float& x : v) x = normal(rng) * std::exp2(std::floor(uni(rng) * 48.0f) - 24.0f);
      break;
    case 1:
      for (float& x : v) x = uni(rng) < 0.3f ? special() : normal(rng) * std::exp2(float(int(rng() % 40) - 20));
      break;
    case 2:
      for (size_t i0 = 0; i0 < n; i0 += run) {
        const size_t i1 = std::min(n, i0 + run);
        const int k = int(rng() % 60) - 30;
        const int mode = int(rng() % 10);
        for (size_t i = i0; i < i1; ++i) v[i] = std::ldexp(uni(rng) * 2.0f - 1.0f, k) * 0.5f;
        const size_t at = i0 + rng() % (i1 - i0);
        switch (mode) {
          case 0: v[at] = std::ldexp(1.0f, k); break;
          case 1: v[at] = -std::nextafter(std::ldexp(1.0f, k), 0.0f); break;
          case 2: v[at] = std::ldexp(1.5f, k); break;
          case 3:
            for (size_t i = i0; i < i1; ++i) v[i] = from_bits(uint32_t(rng() % 0x7FFFFF) | (rng() % 2 ? 0x80000000u : 0u));
            break;
          case 4:
            for (size_t i = i0; i < i1; ++i) v[i] = (rng() % 2) ? 0.0f : -0.0f;
            break;
          case 5:
            for (size_t i = i0; i < i1; ++i) v[i] = std::numeric_limits<float>::quiet_NaN();
            break;
          case 6: v[at] = (rng() % 2) ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN(); break;
          case 7: v[at] = std::ldexp(1.0f, k + 3) * 0.9375f; break;  // e.g. amax 957-like patterns
          case 8: v[at] = std::ldexp(1.0f, 120 + int(rng() % 8)); break;  // huge block
          default: break;
        }
      }
      break;
    case 3:
      for (float& x : v) {
        const uint32_t b = uint32_t(rng());
        x = ((b >> 23) & 0xFF) == 0xFF ? (rng() % 4 ? from_bits(b & 0xBF7FFFFFu) : from_bits(b)) : from_bits(b);
      }
      break;
    case 4:
      for (float& x : v)
        x = uni(rng) < 0.7f ? from_bits(uint32_t(rng() % 0x7FFFFF) | (rng() % 2 ? 0x80000000u : 0u))
                            : normal(rng) * 1e-37f;
      break;
    default: {
      const float scale = std::ldexp(1.0f, int(rng() % 40) - 20);
      for (float& x : v) {
        // a multiple of 2^-4 (and half-way points), times the scale
        const float g = float(int(rng() % 2048) - 1024) / 16.0f + ((rng() % 3 == 0) ? 1.0f / 32.0f : 0.0f);
        x = g * scale;
      }
      break;
    }
  }
  return v;
}

// --- schemes --------------------------------------------------------------------

QuantScheme named(const char* name) { return parse_quant_scheme(name); }

// The NVFP4 options of issue 20 the SIMD path takes (row-scaled, 4over6, and
// both together, as the library fields allow).
std::vector<QuantScheme> row_scaled_and_4over6_schemes() {
  std::vector<QuantScheme> out;
  for (const char* n : {"nvfp4-4over6", "nvfp4-4over6-mse", "nvfp4-2d-4over6", "nvfp4-row-scaled"})
    out.push_back(named(n));
  QuantScheme q = named("nvfp4-row-scaled");
  q.arith = ScaleArith::fp32_te_legacy;
  out.push_back(q);
  q = named("nvfp4-row-scaled");
  q.four_over_six = FourOverSix::mae;
  out.push_back(q);
  q.four_over_six = FourOverSix::mse;
  out.push_back(q);
  return out;
}

std::vector<QuantScheme> all_schemes() {
  std::vector<QuantScheme> out;
  for (const char* n : {"per-tensor-e4m3", "per-tensor-e5m2", "mxfp8-e4m3", "mxfp8-e5m2", "mxfp6-e2m3", "mxfp6-e3m2",
                        "mxfp4", "mxint8", "nvfp4", "nvfp4-2d", "block-1x128-e4m3", "block-128x128-e4m3",
                        "block-128x1-e4m3"})
    out.push_back(named(n));
  // options
  QuantScheme q = named("per-tensor-e4m3");
  q.pow2_scales = true;
  out.push_back(q);
  q = named("per-tensor-e5m2");
  q.amax_epsilon = 1e-3f;
  out.push_back(q);
  q = named("per-tensor-e4m3");
  q.arith = ScaleArith::exact;
  out.push_back(q);
  q.pow2_scales = true;
  out.push_back(q);
  for (E8m0Rule r : {E8m0Rule::ceil, E8m0Rule::rne}) {
    for (const char* n : {"mxfp8-e4m3", "mxfp8-e5m2", "mxfp4", "mxint8"}) {
      q = named(n);
      q.e8m0_rule = r;
      out.push_back(q);
    }
  }
  q = named("mxfp8-e4m3");
  q.block = {32, 1};  // column-wise
  out.push_back(q);
  q = named("mxfp4");
  q.block = {32, 1};
  out.push_back(q);
  q = named("mxint8");
  q.block = {32, 1};
  out.push_back(q);
  for (const char* n : {"block-1x128-e4m3", "block-128x128-e4m3", "block-128x1-e4m3"}) {
    q = named(n);
    q.pow2_scales = false;
    out.push_back(q);
    q.arith = ScaleArith::exact;
    out.push_back(q);  // exact, non-pow2: scalar elements
    q.pow2_scales = true;
    out.push_back(q);  // exact, pow2: vector with exact-product lanes
  }
  q = named("block-1x128-e4m3");
  q.element = formats::e5m2;
  q.amax_epsilon = 1e-20f;
  out.push_back(q);
  q = named("nvfp4");
  q.arith = ScaleArith::exact;  // the scalar definition (delegated)
  out.push_back(q);
  q = named("nvfp4");
  q.block = {16, 1};
  out.push_back(q);
  for (const QuantScheme& r : row_scaled_and_4over6_schemes()) out.push_back(r);
  for (const char* n : {"nvfp4", "nvfp4-2d"}) {  // the FP32 order of TE before c74e5aa37
    q = named(n);
    q.arith = ScaleArith::fp32_te_legacy;
    out.push_back(q);
  }
  // odd block shapes: not a multiple of the vector length
  q = named("mxfp8-e4m3");
  q.block = {3, 7};
  out.push_back(q);
  q = named("block-1x128-e4m3");
  q.block = {1, 24};
  out.push_back(q);
  q = named("per-tensor-e3m4");
  out.push_back(q);
  q = named("per-tensor-e4m3fnuz");
  out.push_back(q);
  q = named("mx-e5m2fnuz");
  out.push_back(q);
  return out;
}

struct Mode {
  Rounding r;
  uint8_t sr_bits;
};
const Mode kModes[] = {{Rounding::rne, 0}, {Rounding::rtz, 0}, {Rounding::rup, 0}, {Rounding::rdn, 0},
                       {Rounding::rna, 0}, {Rounding::rto, 0}, {Rounding::sr, 0},  {Rounding::sr, 8},
                       {Rounding::sr, 23}};

const TensorShape kShapes[] = {{1, 1},   {1, 37},  {3, 45},  {7, 64},  {16, 48}, {33, 70},
                               {5, 300}, {40, 33}, {130, 20}, {2, 129}, {64, 64}};

std::vector<TensorShape> shapes_for(const QuantScheme& q) {
  std::vector<TensorShape> out(std::begin(kShapes), std::end(kShapes));
  if (q.kind == ScaleKind::fp32_block && (q.block.rows == 128 || q.block.cols == 128)) {
    out.push_back({130, 131});
    out.push_back({256, 128});
  }
  return out;
}

// Runs one configuration; returns "" or a description of the difference.
std::string check_one(const QuantScheme& q, TensorShape shape, int profile, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t run = q.kind == ScaleKind::per_tensor ? 37 : std::max<size_t>(1, q.block.cols);
  const std::vector<float> x = make_input(profile, shape.size(), run, rng);
  QuantizedTensor s, b;
  std::string serr, berr;
  try {
    s = quantize(x, shape, q);
  } catch (const OptionError& e) {
    serr = e.what();
  }
  try {
    b = bulk::quantize(x, shape, q);
  } catch (const OptionError& e) {
    berr = e.what();
  }
  if (serr != berr) return "error: bulk '" + berr + "' scalar '" + serr + "' " + describe(q, shape, profile, seed);
  if (!serr.empty()) return "";
  std::string d = diff(b, s);
  if (!d.empty()) return "quantize " + d + " " + describe(q, shape, profile, seed);
  d = diff_floats(bulk::dequantize(b), dequantize(s));
  if (!d.empty()) return "dequantize " + d + " " + describe(q, shape, profile, seed);
  return "";
}

class QuantizeBulk : public ::testing::Test {
 protected:
  void SetUp() override { std::printf("SIMD target: %s\n", bulk::simd_target_name()); }
};

// Every scheme x every shape x every profile, rne saturate (the defaults),
// with error_stats.
TEST_F(QuantizeBulk, EverySchemeShapeAndProfile) {
  uint64_t seed = 1;
  int failures = 0;
  for (const QuantScheme& q : all_schemes())
    for (TensorShape shape : shapes_for(q))
      for (int profile = 0; profile < 6; ++profile) {
        const std::string d = check_one(q, shape, profile, ++seed);
        if (!d.empty() && ++failures <= 10) ADD_FAILURE() << d;
      }
  EXPECT_EQ(failures, 0);
}

// Every rounding mode and both overflow policies on every scheme (fewer shapes).
TEST_F(QuantizeBulk, EveryRoundingModeAndOverflowPolicy) {
  uint64_t seed = 100000;
  int failures = 0;
  const TensorShape shapes[] = {{9, 70}, {33, 35}, {130, 3}};
  for (QuantScheme q : all_schemes())
    for (const Mode& m : kModes)
      for (Overflow ovf : {Overflow::saturate, Overflow::ieee}) {
        q.rounding = RoundingSpec{m.r, ovf};
        q.rounding.sr_bits = m.sr_bits;
        q.rounding.seed = 77;
        q.rounding.stream = 3;
        q.rounding.step = 5;
        q.error_stats = (seed % 3) != 0;
        for (TensorShape shape : shapes) {
          const int profile = int(seed % 6);
          const std::string d = check_one(q, shape, profile, ++seed);
          if (!d.empty() && ++failures <= 10) ADD_FAILURE() << d;
        }
      }
  EXPECT_EQ(failures, 0);
}

// ftz, daz and tininess-before go through the same paths (daz: the scalar
// definition), and the Hadamard transform.
TEST_F(QuantizeBulk, FtzDazAndHadamard) {
  uint64_t seed = 200000;
  int failures = 0;
  for (QuantScheme q : all_schemes()) {
    for (int variant = 0; variant < 4; ++variant) {
      QuantScheme v = q;
      v.rounding.ftz = variant == 0 || variant == 2;
      v.rounding.daz = variant == 1;
      v.rounding.tininess = variant == 2 ? Tininess::before : Tininess::after;
      if (variant == 3) {
        v.hadamard = true;
        v.hadamard_seed = uint32_t(seed);
      }
      for (TensorShape shape : {TensorShape{32, 48}, TensorShape{16, 160}, TensorShape{48, 16}}) {
        ++seed;
        const std::string d = check_one(v, shape, int(seed % 6), seed);
        if (!d.empty() && ++failures <= 10) ADD_FAILURE() << d;
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

// Row-scaled NVFP4 and 4over6 run the SIMD passes (not the scalar fallback)
// and match the scalar definition on rows of very different amax: each row
// scaled by its own 2^k (k in [-120, 120]), with zero rows, rows holding a
// NaN or an inf, all-NaN rows, and partial blocks (widths not a multiple of
// 16, heights not of 16).
TEST_F(QuantizeBulk, RowScaledAndFourOverSixOnTheSimdPath) {
  uint64_t seed = 250000;
  int failures = 0;
  const TensorShape shapes[] = {{1, 16}, {3, 37}, {17, 70}, {33, 300}, {40, 16}, {16, 48}, {64, 1024}};
  for (const QuantScheme& base : row_scaled_and_4over6_schemes())
    for (Rounding r : {Rounding::rne, Rounding::sr})
      for (TensorShape shape : shapes) {
        QuantScheme q = base;
        q.rounding.rounding = r;
        q.error_stats = true;
        ASSERT_TRUE(bulk::quantize_supported(q, shape)) << describe(q, shape, 0, seed);
        for (int kind = 0; kind < 3; ++kind) {
          std::mt19937_64 rng(++seed);
          std::vector<float> x = make_input(kind == 0 ? 0 : kind == 1 ? 2 : 5, shape.size(), 16, rng);
          for (size_t row = 0; row < shape.rows; ++row) {
            float* xr = x.data() + row * shape.cols;
            const int k = int(rng() % 241) - 120;
            for (size_t c = 0; c < shape.cols; ++c) xr[c] = std::ldexp(xr[c], k);
            switch (rng() % 8) {
              case 0: std::fill(xr, xr + shape.cols, 0.0f); break;
              case 1: xr[rng() % shape.cols] = std::numeric_limits<float>::quiet_NaN(); break;
              case 2: xr[rng() % shape.cols] = -std::numeric_limits<float>::infinity(); break;
              case 3: std::fill(xr, xr + shape.cols, std::numeric_limits<float>::quiet_NaN()); break;
              default: break;
            }
          }
          QuantizedTensor s = quantize(x, shape, q), b = bulk::quantize(x, shape, q);
          std::string d = diff(b, s);
          if (d.empty()) d = diff_floats(bulk::dequantize(b), dequantize(s));
          if (!d.empty() && ++failures <= 10) ADD_FAILURE() << d << " " << describe(q, shape, kind, seed);
        }
      }
  EXPECT_EQ(failures, 0);
}

// A larger tensor: long segments, several tiles per row, both rounding passes.
TEST_F(QuantizeBulk, LargeTensors) {
  int failures = 0;
  uint64_t seed = 300000;
  for (const char* n : {"per-tensor-e4m3", "mxfp8-e4m3", "mxfp4", "nvfp4", "nvfp4-2d", "block-128x128-e4m3",
                        "block-128x1-e4m3", "mxint8", "nvfp4-4over6", "nvfp4-2d-4over6", "nvfp4-row-scaled"}) {
    QuantScheme q = named(n);
    for (TensorShape shape : {TensorShape{1, 40000}, TensorShape{160, 9000}}) {
      for (Rounding r : {Rounding::rne, Rounding::sr}) {
        q.rounding.rounding = r;
        ++seed;
        const std::string d = check_one(q, shape, int(seed % 3), seed);
        if (!d.empty() && ++failures <= 10) ADD_FAILURE() << d;
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST_F(QuantizeBulk, GivenMultiplier) {
  int failures = 0;
  uint64_t seed = 400000;
  const float mults[] = {1.0f, 0.5f, 3.0f, 448.0f / 3.7f, 0x1p-126f, 1e-45f, 0x1p100f, FLT_MAX, 1e-30f, 7.0e20f};
  for (const char* n : {"per-tensor-e4m3", "per-tensor-e5m2", "per-tensor-e2m1"})
    for (ScaleArith arith : {ScaleArith::fp32, ScaleArith::exact})
      for (float m : mults)
        for (int profile = 0; profile < 6; ++profile) {
          QuantScheme q = named(n);
          q.arith = arith;
          q.rounding.rounding = (seed % 2) ? Rounding::rne : Rounding::sr;
          const TensorShape shape{11, 53};
          std::mt19937_64 rng(++seed);
          const std::vector<float> x = make_input(profile, shape.size(), 37, rng);
          const QuantizedTensor s = quantize_with_multiplier(x, shape, q, m);
          const QuantizedTensor b = bulk::quantize_with_multiplier(x, shape, q, m);
          std::string d = diff(b, s);
          if (d.empty()) d = diff_floats(bulk::dequantize(b), dequantize(s));
          if (!d.empty() && ++failures <= 10)
            ADD_FAILURE() << d << " multiplier " << m << " " << describe(q, shape, profile, seed);
        }
  EXPECT_EQ(failures, 0);
}

// The scalar code's errors, message for message.
TEST_F(QuantizeBulk, SameErrors) {
  const std::vector<float> x(64 * 3, 1.0f);
  auto expect_same = [&](auto&& scalar, auto&& bulk_call, const char* what) {
    std::string se, be;
    try {
      scalar();
    } catch (const OptionError& e) {
      se = e.what();
    }
    try {
      bulk_call();
    } catch (const OptionError& e) {
      be = e.what();
    }
    EXPECT_FALSE(se.empty()) << what;
    EXPECT_EQ(be, se) << what;
  };
  QuantScheme q = named("mxfp8-e4m3");
  expect_same([&] { quantize(x, {5, 5}, q); }, [&] { bulk::quantize(x, {5, 5}, q); }, "size mismatch");
  QuantScheme r = named("mxfp8-e4m3");
  r.require_full_blocks = true;
  expect_same([&] { quantize(x, {4, 48}, r); }, [&] { bulk::quantize(x, {4, 48}, r); }, "partial blocks");
  r = named("mxfp8-e4m3");
  r.block = {0, 32};
  expect_same([&] { quantize(x, {3, 64}, r); }, [&] { bulk::quantize(x, {3, 64}, r); }, "zero block");
  r = named("mxfp8-e4m3");
  r.element = formats::fp16;
  expect_same([&] { quantize(x, {3, 64}, r); }, [&] { bulk::quantize(x, {3, 64}, r); }, "wide element");
  r = named("nvfp4");
  r.hadamard = true;
  expect_same([&] { quantize(x, {8, 24}, r); }, [&] { bulk::quantize(x, {8, 24}, r); }, "hadamard axis");
  r = named("mxfp8-e4m3");
  expect_same([&] { quantize_with_multiplier(x, {3, 64}, r, 1.0f); },
              [&] { bulk::quantize_with_multiplier(x, {3, 64}, r, 1.0f); }, "multiplier needs per-tensor");
  r = named("per-tensor-e4m3");
  for (float m : {0.0f, -1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()})
    expect_same([&] { quantize_with_multiplier(x, {3, 64}, r, m); },
                [&] { bulk::quantize_with_multiplier(x, {3, 64}, r, m); }, "bad multiplier");
}

// Dequantization of tensors made up by hand: every code of the element
// format under scales that push products into f32's subnormals and overflow,
// NaN scales, zero block scales.
TEST_F(QuantizeBulk, DequantizeEveryCodeAndScale) {
  int failures = 0;
  for (const char* n : {"per-tensor-e4m3", "per-tensor-e5m2", "mxfp8-e4m3", "mxfp8-e5m2", "mxfp6-e2m3", "mxfp4",
                        "mxint8", "nvfp4", "block-1x128-e4m3"}) {
    const QuantScheme q = named(n);
    const size_t codes = size_t{1} << q.element.bits;
    std::mt19937_64 rng(std::hash<std::string>()(n));
    for (int trial = 0; trial < 40; ++trial) {
      const TensorShape shape{3, q.kind == ScaleKind::per_tensor ? codes : std::max<size_t>(codes, 64)};
      QuantizedTensor t = quantize(std::vector<float>(shape.size(), 1.0f), shape, q);
      for (size_t i = 0; i < t.elements.size(); ++i) t.elements[i] = uint8_t(i % codes);
      for (uint32_t& s : t.scales) {
        switch (q.kind) {
          case ScaleKind::mx: s = uint32_t(rng() % 256); break;
          case ScaleKind::nvfp4: s = uint32_t(rng() % 128); break;
          default: s = fbits(trial % 4 == 0 ? from_bits(uint32_t(rng())) : std::ldexp(1.0f, int(rng() % 300) - 150)); break;
        }
      }
      if (q.kind == ScaleKind::nvfp4)
        t.tensor_scale = trial % 3 == 0 ? from_bits(uint32_t(rng()) & 0x7FFFFFFFu) : std::ldexp(1.3f, int(rng() % 280) - 140);
      const std::string d = diff_floats(bulk::dequantize(t), dequantize(t));
      if (!d.empty() && ++failures <= 10) ADD_FAILURE() << n << " trial " << trial << ": " << d;
    }
  }
  EXPECT_EQ(failures, 0);
}

// The short rne + saturate path (FastRneSaturate) against the scalar
// definition on a sweep of the whole f32 bit space: every 1021st pattern
// (4.2 M values: every exponent, both signs, subnormals, inf, NaN), through
// per-tensor quantization with the given multiplier 1 (t = x exactly), for
// every <= 8-bit float element type the path admits.
TEST(QuantizeBulkSweep, RneSaturatePathOnAllF32PatternsStride1021) {
  std::vector<float> x;
  x.reserve((uint64_t{1} << 32) / 1021 + 1);
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 1021) x.push_back(from_bits(uint32_t(b)));
  const TensorShape shape{1, x.size()};
  for (const char* f : {"e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m4", "e2m3", "e3m2", "e2m1"}) {
    QuantScheme q = parse_quant_scheme(std::string("per-tensor-").append(f));
    q.error_stats = false;
    const QuantizedTensor s = quantize_with_multiplier(x, shape, q, 1.0f);
    const QuantizedTensor b = bulk::quantize_with_multiplier(x, shape, q, 1.0f);
    EXPECT_EQ(diff(b, s), "") << f;
  }
}


// Regression (issue 11): blocks longer than the tensor, up to SIZE_MAX, are
// one block in both engines (the grid size no longer wraps to 0).
TEST_F(QuantizeBulk, BlocksLongerThanTheTensor) {
  for (const std::string name : {"mxfp4", "mxfp8-e4m3", "nvfp4", "block-1x128-e4m3"}) {
    for (const BlockShape huge : {BlockShape{1, SIZE_MAX}, BlockShape{SIZE_MAX, 1}, BlockShape{SIZE_MAX, SIZE_MAX}}) {
      QuantScheme q = parse_quant_scheme(name);
      q.block = huge;
      for (const TensorShape shape : {TensorShape{2, 2}, TensorShape{3, 40}}) {
        const std::string d = check_one(q, shape, 0, 11);
        EXPECT_EQ(d, "") << name;
        EXPECT_EQ(bulk::quantize(std::vector<float>(shape.size(), 1.0f), shape, q).scale_grid.size(),
                  huge.rows == 1 ? shape.rows : huge.cols == 1 ? shape.cols : 1u)
            << name;
      }
    }
  }
}

// bulk::hadamard_transform against the definition, every bit (NaN payloads
// included): random shapes (lines along rows wider and narrower than a
// vector, so the scalar tail runs), both axes, forward and inverse, values
// from any bit pattern (NaN, inf, subnormals), ordinary magnitudes, sums
// that overflow and signed zeros; on every Highway target this CPU has.
TEST(HadamardBulk, EqualsTheDefinitionOnEveryTarget) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    std::printf("  checking SIMD target %s\n", hwy::TargetName(target));
    std::mt19937_64 rng(16);
    for (int trial = 0; trial < 400; ++trial) {
      const size_t rows = 16 * (1 + rng() % 2) + (rng() % 2 ? 0 : 16 * (rng() % 2)),
                   cols = rng() % 3 ? 16 * (1 + rng() % 3) : 1 + rng() % 40;
      const Axis axis = cols % 16 ? Axis::rows : (rng() & 1 ? Axis::cols : Axis::rows);
      std::vector<float> x(rows * cols);
      const int style = trial % 4;
      for (float& v : x) {
        if (style == 0) v = std::bit_cast<float>(uint32_t(rng()));
        else if (style == 1) v = std::ldexp(float(int(rng() % 2001) - 1000), int(rng() % 40) - 20);
        else if (style == 2) v = rng() % 3 == 0 ? (rng() & 1 ? -0.0f : 0.0f) : std::ldexp(1.5f, 125 + int(rng() % 3)) * (rng() & 1 ? -1.0f : 1.0f);
        else v = std::ldexp(float(int(rng() % 3) - 1), -149 + int(rng() % 4));
      }
      const uint32_t seed = uint32_t(rng());
      const bool inverse = rng() & 1;
      std::vector<float> want = x, got = x;
      hadamard_transform(want, {rows, cols}, axis, seed, inverse);
      bulk::hadamard_transform(got, {rows, cols}, axis, seed, inverse);
      ASSERT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0)
          << hwy::TargetName(target) << " trial " << trial << " shape " << rows << "x" << cols;
    }
  }
  hwy::SetSupportedTargetsForTest(0);
  std::vector<float> bad(20);
  EXPECT_THROW(bulk::hadamard_transform(bad, {1, 20}, Axis::cols, 1), OptionError);
}

}  // namespace
}  // namespace fpsim
