// Invariants of the MMA model (issue 5; docs/mma.md, "The block-FMA model"), as RapidCheck
// properties. Each oracle is independent of the model: the host's own FP32
// fma, exact double products, and the model's own symmetry.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/mma.hpp"

namespace fpsim {
namespace {

// A random finite value of format f (any code, NaN and inf excluded).
rc::Gen<float> finite_value(const Format& f) {
  return rc::gen::map(rc::gen::inRange<uint64_t>(0, f.code_count()), [f](uint64_t code) {
    const double v = to_double(code, f);
    return std::isfinite(v) ? float(v) : 0.0f;
  });
}

// A random fp32 value with exponent in [lo, hi] (or zero).
rc::Gen<float> fp32_in_range(int lo, int hi) {
  return rc::gen::map(rc::gen::tuple(rc::gen::inRange(lo, hi + 1), rc::gen::inRange<uint32_t>(0, 1u << 23),
                                     rc::gen::arbitrary<bool>(), rc::gen::inRange(0, 20)),
                      [](const std::tuple<int, uint32_t, bool, int>& t) {
                        if (std::get<3>(t) == 0) return 0.0f;
                        const float mag = std::ldexp(1.0f + float(std::get<1>(t)) * 0x1p-23f, std::get<0>(t));
                        return std::get<2>(t) ? -mag : mag;
                      });
}

std::vector<const MmaModel*> block_presets() {
  std::vector<const MmaModel*> out;
  // The AMD parameters (docs/mma.md, "AMD matrix cores") have their own tests: their alignment toward
  // -inf is not sign-symmetric, so they are not drawn here.
  for (const MmaModel& m : mma_presets())
    if (m.kind == MmaKind::block_fma && !mma_uses_amd_parameters(m)) out.push_back(&m);
  return out;
}

// With n = 1, extra bits wide enough that no aligned term loses a bit, and
// RNE, each block is one correctly rounded fma: the model equals the host's
// FP32 fma chain d = fmaf(a_k, b_k, d) (issue 5, "Model invariants").
// Inputs are fp16 and C has exponent in [-24, 40], so every partial sum is a
// multiple of 2^-48 below 2^46: the spread of any block is < 96 bits.
RC_GTEST_PROP(MmaProperty, OneProductBlocksWithWideAlignmentAndRneEqualFmaChain, ()) {
  MmaModel m;
  m.input_a = m.input_b = formats::fp16;
  m.output = formats::fp32;
  m.block_size = 1;
  m.extra_bits = 96;
  m.final_rounding = Rounding::rne;
  m.min_exp = -1024;
  m.acc_frac_bits = 23;
  const int k = *rc::gen::inRange(1, 40);
  auto a = *rc::gen::container<std::vector<float>>(size_t(k), finite_value(formats::fp16));
  auto b = *rc::gen::container<std::vector<float>>(size_t(k), finite_value(formats::fp16));
  const float c = *fp32_in_range(-24, 40);
  if (*rc::gen::arbitrary<bool>()) {
    // Random codes rarely meet a rounding boundary: put the first product
    // next to half an ulp of c (2^(ec-24+delta) with 11-bit significands), so
    // its lowest bits decide the rounding and a narrow alignment would fail.
    int ec = 0;
    std::frexp(c, &ec);
    const int pe = (ec - 1) - 24 + *rc::gen::inRange(-2, 3);
    const int ea = std::clamp(pe / 2, -14, 15), eb = std::clamp(pe - ea, -14, 15);
    auto sig = [] { return 1.0f + float(*rc::gen::inRange(0, 1024)) * 0x1p-10f; };
    a[0] = std::ldexp(sig(), ea) * (*rc::gen::arbitrary<bool>() ? -1.0f : 1.0f);
    b[0] = std::ldexp(sig(), eb);
  }
  float want = c;
  for (int i = 0; i < k; ++i) want = std::fmaf(a[size_t(i)], b[size_t(i)], want);
  const float got = mma_dot(m, a, b, c);
  if (want == 0.0f) {
    RC_ASSERT(got == 0.0f);  // the model's exact zero is +0 (docs/mma.md, "The block-FMA model", Q6); fmaf may give -0
  } else {
    RC_ASSERT(std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(want));
  }
}

// Products are exact and a lone block is rounded once (docs/mma.md, "The
// block-FMA model"): one product with C = 0, in every block-FMA preset (FP32
// and FP16 output), comes back as its exact value rounded once to
// acc_frac_bits + 1 significant bits in the preset's final rounding. The
// expectation is worked out here in double (the product has at most 22
// significant bits, so it is exact there). The product is kept inside the
// output's normal range (and in [2^-100, 2^100]) so that neither the
// min_exp clamp nor subnormal or overflow handling can touch it. For FP32
// output most products fit and come back unchanged; FP16 output rounds most
// of them, so a model that rounded a product twice, in the wrong direction
// or to the wrong width fails.
RC_GTEST_PROP(MmaProperty, SingleProductsAreRoundedOnce, ()) {
  const auto presets = block_presets();
  const MmaModel& m = *presets[*rc::gen::inRange<size_t>(0, presets.size())];
  const float a = *finite_value(m.input_a);
  const float b = *finite_value(m.input_b);
  const double p = double(a) * double(b);  // exact: at most 22 significant bits
  const double out_max = to_double(m.output.max_code(), m.output);
  RC_PRE(p != 0.0 && std::fabs(p) >= std::max(0x1p-100, std::ldexp(1.0, m.output.emin())) &&
         std::fabs(p) <= std::min(0x1p100, out_max / 2));
  int e = 0;
  std::frexp(p, &e);  // |p| in [2^(e-1), 2^e)
  const double q = std::ldexp(p, m.acc_frac_bits + 1 - e);  // acc_frac_bits + 1 bits before the point
  double r = q;
  switch (m.final_rounding) {
    case Rounding::rtz: r = std::trunc(q); break;
    case Rounding::rne: r = std::nearbyint(q); break;  // the default environment: ties to even
    case Rounding::rup: r = std::ceil(q); break;
    case Rounding::rdn: r = std::floor(q); break;
    default: RC_FAIL("unexpected final rounding");
  }
  const double want = std::ldexp(r, e - m.acc_frac_bits - 1);
  RC_PRE(std::fabs(want) <= out_max);
  const std::vector<float> va{a}, vb{b};
  RC_ASSERT(mma_dot(m, va, vb, 0.0f) == float(want));
}

// Negating every input negates the result under RZ and RNE (both are
// symmetric); an exact zero sum is +0 either way (docs/mma.md, "The block-FMA model").
RC_GTEST_PROP(MmaProperty, NegatingAllInputsNegatesTheResult, ()) {
  const auto presets = block_presets();
  const MmaModel& m = *presets[*rc::gen::inRange<size_t>(0, presets.size())];
  const int k = *rc::gen::inRange(1, 3 * m.block_size + 2);
  auto a = *rc::gen::container<std::vector<float>>(size_t(k), finite_value(m.input_a));
  const auto b = *rc::gen::container<std::vector<float>>(size_t(k), finite_value(m.input_b));
  const float c = *fp32_in_range(-40, 20);  // for FP16 output it is rounded with RNE, also symmetric
  const float d = mma_dot(m, a, b, c);
  for (float& x : a) x = -x;
  const float nd = mma_dot(m, a, b, -c);
  if (d == 0.0f) {
    // An exact zero sum is +0 both ways; a non-zero sum that rounds to zero
    // keeps its sign, so it flips. Never -0 both ways.
    RC_ASSERT(nd == 0.0f);
    RC_ASSERT(!(std::signbit(d) && std::signbit(nd)));
  } else {
    RC_ASSERT(std::bit_cast<uint32_t>(nd) == (std::bit_cast<uint32_t>(d) ^ 0x80000000u));
  }
}

// Special values (docs/mma.md, "The block-FMA model"), over random block-FMA presets and K:
// inputs with a few NaN / ±inf sprinkled in (and zeros, so 0·inf occurs);
// the expected class is worked out here from the rule itself: any NaN or
// 0·inf is NaN; +inf and -inf together (products and C) are NaN; otherwise
// the one infinity; a NaN result is the canonical 0x7FFFFFFF.
RC_GTEST_PROP(MmaProperty, SpecialValuesFollowTheSpecRule, ()) {
  const auto presets = block_presets();
  const MmaModel& m = *presets[*rc::gen::inRange<size_t>(0, presets.size())];
  const int k = *rc::gen::inRange(1, 3 * m.block_size + 2);
  auto pick = [&](const Format& f) {
    const int r = *rc::gen::inRange(0, 12);
    if (r == 0) return std::numeric_limits<float>::quiet_NaN();
    if (r == 1) return std::numeric_limits<float>::infinity();
    if (r == 2) return -std::numeric_limits<float>::infinity();
    if (r == 3) return 0.0f;
    return *finite_value(f);
  };
  std::vector<float> a(static_cast<size_t>(k)), b(static_cast<size_t>(k));
  for (float& x : a) x = pick(m.input_a);
  for (float& x : b) x = pick(m.input_b);
  const float c = *rc::gen::element(0.0f, 1.5f, std::numeric_limits<float>::infinity(),
                                    -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN());
  bool nan = std::isnan(c), pos = c > 0 && std::isinf(c), neg = c < 0 && std::isinf(c);
  for (size_t i = 0; i < a.size(); ++i) {
    const bool inf_a = std::isinf(a[i]), inf_b = std::isinf(b[i]);
    if (std::isnan(a[i]) || std::isnan(b[i]) || (inf_a && b[i] == 0) || (inf_b && a[i] == 0)) nan = true;
    else if (inf_a || inf_b) ((std::signbit(a[i]) != std::signbit(b[i])) ? neg : pos) = true;
  }
  const float d = mma_dot(m, a, b, c);
  if (nan || (pos && neg)) {
    RC_ASSERT(std::bit_cast<uint32_t>(d) == 0x7FFFFFFFu);
  } else if (pos) {
    RC_ASSERT(d == std::numeric_limits<float>::infinity());
  } else if (neg) {
    RC_ASSERT(d == -std::numeric_limits<float>::infinity());
  } else {
    // No special input: finite, or ±inf where a block sum overflowed (bf16
    // and tf32 products reach 2^255); never NaN, since the one infinity a
    // chain can reach then absorbs every later finite block.
    RC_ASSERT(!std::isnan(d));
  }
}

// The GEMM fast path equals mma_dot element by element, for every preset,
// with promotion, C present or absent, and NaN / inf sprinkled in.
RC_GTEST_PROP(MmaProperty, GemmEqualsDotElementByElement, ()) {
  const auto all = mma_presets();
  MmaModel m = all[*rc::gen::inRange<size_t>(0, all.size())];
  if (m.kind == MmaKind::block_fma && m.output.man_bits == 23 && *rc::gen::inRange(0, 3) == 0)
    m.promotion_interval = *rc::gen::element(1, 16, 32, 64);
  const int M = *rc::gen::inRange(1, 4), N = *rc::gen::inRange(1, 4), K = *rc::gen::inRange(0, 100);
  const bool specials = *rc::gen::inRange(0, 4) == 0;
  auto value = [&](const Format& f) {
    if (specials && *rc::gen::inRange(0, 20) == 0)
      return *rc::gen::element(std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN());
    return *finite_value(f);
  };
  std::vector<float> A(size_t(M * K)), B(size_t(K * N)), C;
  for (float& x : A) x = value(m.input_a);
  for (float& x : B) x = value(m.input_b);
  if (*rc::gen::arbitrary<bool>()) {
    C.resize(size_t(M * N));
    for (float& x : C) x = *fp32_in_range(-30, 30);
  }
  std::vector<float> D(size_t(M * N));
  mma_gemm(m, M, N, K, A, B, C, D);
  std::vector<float> row(static_cast<size_t>(K)), col(static_cast<size_t>(K));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      for (int k = 0; k < K; ++k) {
        row[size_t(k)] = A[size_t(i * K + k)];
        col[size_t(k)] = B[size_t(k * N + j)];
      }
      const float want = mma_dot(m, row, col, C.empty() ? 0.0f : C[size_t(i * N + j)]);
      const float got = D[size_t(i * N + j)];
      RC_ASSERT(std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(want));
    }
}

}  // namespace
}  // namespace fpsim
