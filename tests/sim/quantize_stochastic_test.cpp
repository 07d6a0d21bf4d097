// Stochastic rounding inside the quantizers (docs/training.md, "Common rules": seed = run
// seed, stream = tensor id, step = training step, index = element index):
// the element index is the Philox counter, so results are reproducible and
// do not depend on how the work is split; the probability of rounding up is
// the exact fraction of the scaled value (binomial test, alpha = 1e-7 per
// case: |ups - N f| <= 5.33 sqrt(N f (1 - f))).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/quantize.hpp"

namespace fpsim {
namespace {

QuantScheme with_sr(const char* name, uint32_t seed, uint32_t stream = 0, uint32_t step = 0) {
  QuantScheme s = parse_quant_scheme(name);
  s.rounding.rounding = Rounding::sr;
  s.rounding.seed = seed;
  s.rounding.stream = stream;
  s.rounding.step = step;
  s.error_stats = false;
  return s;
}

// Element i is the core's sr rounding of the scaled value with index i.
TEST(QuantizeStochastic, ElementIndexIsThePhiloxCounter) {
  std::vector<float> x(96);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.37f * float(i % 13) - 2.1f;
  x[0] = 6.0f;  // amax 6 in every 32-block? only the first: set all blocks' max
  x[32] = 6.0f;
  x[64] = 6.0f;
  const QuantScheme s = with_sr("mxfp4", 99, 3, 17);
  const QuantizedTensor q = quantize(x, {3, 32}, s);
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(q.scales[i / 32], 127u);  // floor(log2 6) - 2 = 0
    Flags fl;
    ASSERT_EQ(q.elements[i], from_float(x[i], formats::e2m1, s.rounding, fl, i)) << i;
  }
}

TEST(QuantizeStochastic, ReproducibleAndKeyed) {
  std::vector<float> x(4096);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i)) * 3.0f;
  const auto codes = [&](uint32_t seed, uint32_t stream, uint32_t step) {
    return quantize(x, {64, 64}, with_sr("nvfp4", seed, stream, step)).elements;
  };
  EXPECT_EQ(codes(1, 2, 3), codes(1, 2, 3));
  EXPECT_NE(codes(1, 2, 3), codes(2, 2, 3));
  EXPECT_NE(codes(1, 2, 3), codes(1, 3, 3));
  EXPECT_NE(codes(1, 2, 3), codes(1, 2, 4));
  // The same rows quantized as part of a bigger tensor keep their elements
  // when their flat indices are the same (first rows of the tensor).
  const std::vector<float> head(x.begin(), x.begin() + 16 * 64);
  QuantScheme s = with_sr("mxfp8-e4m3", 5);
  const QuantizedTensor whole = quantize(x, {64, 64}, s);
  const QuantizedTensor part = quantize(head, {16, 64}, s);
  for (size_t i = 0; i < head.size(); ++i) ASSERT_EQ(whole.elements[i], part.elements[i]) << i;
}

struct Case {
  const char* scheme;
  ScaleArith arith;
  float value;      // every element but the first
  float amax;       // the first element (fixes the scale)
  double lo, hi;    // the two neighbouring element values of value * m
  double scaled;    // value * m, exactly (or to double precision)
  uint8_t lo_code, hi_code;
};

void check_probability(const Case& c) {
  const size_t n = 200000;
  std::vector<float> x(n, c.value);
  x[0] = c.amax;
  QuantScheme s = with_sr(c.scheme, 2024, 1, 0);
  s.arith = c.arith;
  s.block = {1, n};
  const QuantizedTensor q = quantize(x, {1, n}, s);
  size_t up = 0, down = 0;
  for (size_t i = 1; i < n; ++i) {
    if (q.elements[i] == c.hi_code) ++up;
    else if (q.elements[i] == c.lo_code) ++down;
  }
  ASSERT_EQ(up + down, n - 1) << c.scheme << ": elements outside the two neighbours";
  const double f = (c.scaled - c.lo) / (c.hi - c.lo), m = double(n - 1);
  const double bound = 5.33 * std::sqrt(m * f * (1 - f));
  EXPECT_NEAR(double(up), m * f, bound) << c.scheme << " value " << c.value << " f " << f;
}

TEST(QuantizeStochastic, ProbabilityOfRoundingUpIsTheExactFraction) {
  // mxfp4, amax 6: k = 0; 2.25 lies between 2 (0x4) and 3 (0x5): f = 1/4.
  check_probability({"mxfp4", ScaleArith::fp32, 2.25f, 6.0f, 2.0, 3.0, 2.25, 0x4, 0x5});
  // mxfp8-e4m3, amax 448: k = 0; 1.0 + 2^-5 between 1 (0x38) and 1.125 (0x39): f = 1/4.
  check_probability({"mxfp8-e4m3", ScaleArith::fp32, 1.03125f, 448.0f, 1.0, 1.125, 1.03125, 0x38, 0x39});
  // per-tensor-e4m3, amax 100: s = fp32(4.48); 1.0 * s = 4.48 (fp32), between
  // 4 (0x48) and 4.5 (0x49): f = (4.48 - 4) / 0.5 = 0.96.
  const double s448 = double(448.0f / 100.0f);
  check_probability({"per-tensor-e4m3", ScaleArith::fp32, 1.0f, 100.0f, 4.0, 4.5, s448, 0x48, 0x49});
  check_probability({"per-tensor-e4m3", ScaleArith::exact, 1.0f, 100.0f, 4.0, 4.5, s448, 0x48, 0x49});
}

}  // namespace
}  // namespace fpsim
