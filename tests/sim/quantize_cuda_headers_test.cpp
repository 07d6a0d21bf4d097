// The quantizers' scale and element conversions against NVIDIA's host
// conversion code in the CUDA toolkit headers (cuda_fp8.h, cuda_fp6.h,
// cuda_fp4.h; no GPU, no nvcc: their host branches compiled by g++).
//
// - MX ceil: e8m0_scale_code(amax, ceil) == __nv_cvt_float_to_e8m0(
//   fp32(amax / max_elem), __NV_SATFINITE, cudaRoundPosInf) — the
//   cvt.rp.satfinite.ue8m0x2.f32 route TE's MXFP8 kernels take.
// - MX floor: the OCP code is the truncated (cudaRoundZero) E8M0 code of amax
//   minus emax_elem, clamped at code 0 (docs/formats.md §8).
// - Elements: MX elements == __nv_cvt_float_to_fp8/fp6/fp4 of x * 2^-k (exact
//   in FP32 for the inputs used), NVFP4 block scales == __nv_cvt_float_to_fp8
//   (t, __NV_SATFINITE, __NV_E4M3) and NVFP4 elements ==
//   __nv_cvt_float_to_fp4(fp32(x * e), __NV_E2M1, cudaRoundNearest), in
//   both of TE's FP32 orders (docs/quantization.md §3): fp32, t =
//   min(amax * fp32(S_enc * fp32(1/6)), FLT_MAX), e = min(1 / fp32(s_block *
//   fp32(1 / S_enc)), FLT_MAX); fp32-te-legacy, t = fp32(amax / 6) * S_enc,
//   e = S_enc / s_block.
// Without the headers every case skips with a message.
#include <gtest/gtest.h>

#if defined(FPSIM_HAVE_CUDA_HEADERS) && FPSIM_HAVE_CUDA_HEADERS

#include <cuda_fp4.h>
#include <cuda_fp6.h>
#include <cuda_fp8.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/quantize.hpp"

namespace fpsim {
namespace {

// Positive amax candidates: every FP32 binade with its edges (pred/succ of
// each power of two, the binade's middle), subnormals, 0, inf, NaN, and
// random bit patterns.
std::vector<float> amax_inputs() {
  std::vector<float> v = {0.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min()};
  for (int e = -149; e <= 127; ++e) {
    const float p = std::ldexp(1.0f, e);
    v.push_back(p);
    v.push_back(std::nextafter(p, 0.0f));
    v.push_back(std::nextafter(p, std::numeric_limits<float>::infinity()));
    v.push_back(p * 1.5f);
    v.push_back(p * 1.75f);
  }
  std::mt19937 gen(2026);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t b = gen() & 0x7FFFFFFFu;
    if ((b >> 23) != 0xFF) v.push_back(std::bit_cast<float>(b));
  }
  return v;
}

struct MxElement {
  const char* scheme;
  int emax;
};
constexpr MxElement kMx[] = {{"mxfp8-e4m3", 8}, {"mxfp8-e5m2", 15}, {"mxfp6-e2m3", 2},
                             {"mxfp6-e3m2", 4}, {"mxfp4", 2},       {"mxint8", 0}};

TEST(QuantizeVsCudaHeaders, MxCeilScaleIsCvtRpSatfiniteUe8m0) {
  const std::vector<float> in = amax_inputs();
  for (const MxElement& m : kMx) {
    const QuantScheme s = parse_quant_scheme(m.scheme);
    const float max_elem = float(element_max(s));
    size_t checked = 0;
    for (float a : in) {
      const float q = a / max_elem;
      const uint8_t nv = __nv_cvt_float_to_e8m0(q, __NV_SATFINITE, cudaRoundPosInf);
      ASSERT_EQ(e8m0_scale_code(a, E8m0Rule::ceil, s), nv) << m.scheme << " amax " << std::hexfloat << a;
      ++checked;
    }
    EXPECT_GT(checked, 200000u);
  }
}

TEST(QuantizeVsCudaHeaders, MxFloorScaleIsTheTruncatedExponentMinusEmax) {
  const std::vector<float> in = amax_inputs();
  for (const MxElement& m : kMx) {
    const QuantScheme s = parse_quant_scheme(m.scheme);
    ASSERT_EQ(element_emax(s), m.emax) << m.scheme;
    for (float a : in) {
      if (!std::isfinite(a)) continue;
      const int rz = __nv_cvt_float_to_e8m0(a, __NV_NOSAT, cudaRoundZero);
      const int expect = a == 0.0f ? 0 : std::max(rz - m.emax, 0);
      ASSERT_EQ(e8m0_scale_code(a, E8m0Rule::floor, s), expect) << m.scheme << " amax " << std::hexfloat << a;
    }
  }
}

// x * 2^-k for MX elements, converted by NVIDIA's code (saturating).
uint8_t nvidia_element(const QuantScheme& s, float t) {
  if (s.element.name == std::string_view("e4m3")) return __nv_cvt_float_to_fp8(t, __NV_SATFINITE, __NV_E4M3);
  if (s.element.name == std::string_view("e5m2")) return __nv_cvt_float_to_fp8(t, __NV_SATFINITE, __NV_E5M2);
  if (s.element.name == std::string_view("e2m3")) return __nv_cvt_float_to_fp6(t, __NV_E2M3, cudaRoundNearest);
  if (s.element.name == std::string_view("e3m2")) return __nv_cvt_float_to_fp6(t, __NV_E3M2, cudaRoundNearest);
  return __nv_cvt_float_to_fp4(t, __NV_E2M1, cudaRoundNearest);
}

TEST(QuantizeVsCudaHeaders, MxElementsAreNvidiaConversionsOfTheScaledValue) {
  std::mt19937 gen(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> decade(-20, 20);
  for (const MxElement& m : kMx) {
    if (std::string_view(m.scheme) == "mxint8") continue;  // no NVIDIA int8-with-scale conversion
    for (E8m0Rule rule : {E8m0Rule::floor, E8m0Rule::ceil, E8m0Rule::rne}) {
      QuantScheme s = parse_quant_scheme(m.scheme);
      s.e8m0_rule = rule;
      s.error_stats = false;
      for (int t = 0; t < 200; ++t) {
        std::vector<float> x(64);
        const int d = decade(gen);
        for (float& v : x) v = std::ldexp(normal(gen), d);
        const QuantizedTensor q = quantize(x, {1, 64}, s);
        for (size_t i = 0; i < x.size(); ++i) {
          const int k = int(q.scales[i / 32]) - 127;
          const float scaled = std::ldexp(x[i], -k);  // exact: |x| >= 2^-130 here, no FP32 underflow
          ASSERT_EQ(q.elements[i], nvidia_element(s, scaled))
              << m.scheme << " rule " << e8m0_rule_name(rule) << " x " << std::hexfloat << x[i];
        }
      }
    }
  }
}

TEST(QuantizeVsCudaHeaders, Nvfp4BlockScalesAndElementsAreNvidiaConversions) {
  std::mt19937 gen(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> decade(-30, 30);
  for (ScaleArith arith : {ScaleArith::fp32, ScaleArith::fp32_te_legacy})
  for (int t = 0; t < 500; ++t) {
    QuantScheme s = parse_quant_scheme("nvfp4");
    s.error_stats = false;
    s.arith = arith;
    const bool legacy = arith == ScaleArith::fp32_te_legacy;
    std::vector<float> x(256);
    for (size_t b = 0; b < x.size(); b += 16) {
      const int d = decade(gen);  // blocks of very different magnitudes
      for (size_t i = b; i < b + 16; ++i) x[i] = std::ldexp(normal(gen), d);
    }
    const QuantizedTensor q = quantize(x, {1, 256}, s);
    float amax_t = 0.0f;
    for (float v : x) amax_t = std::max(amax_t, std::fabs(v));
    const float s_enc = nvfp4_encode_scale(amax_t);
    ASSERT_EQ(q.tensor_scale, 1.0f / s_enc);
    for (size_t b = 0; b < 16; ++b) {
      float amax = 0.0f;
      for (size_t i = b * 16; i < b * 16 + 16; ++i) amax = std::max(amax, std::fabs(x[i]));
      // TE's orders, written out again here (the header comment).
      const float t_now = std::fmin(amax * (s_enc * (1.0f / 6.0f)), std::numeric_limits<float>::max());
      const float t_scale = legacy ? (amax / 6.0f) * s_enc : t_now;
      const uint8_t nv_scale = __nv_cvt_float_to_fp8(t_scale, __NV_SATFINITE, __NV_E4M3);
      ASSERT_EQ(q.scales[b], nv_scale) << "block " << b;
      const float sbv = float(to_double(nv_scale, formats::ue4m3));
      if (sbv == 0.0f) continue;
      const float enc_b =
          legacy ? s_enc / sbv : std::fmin(1.0f / (sbv * (1.0f / s_enc)), std::numeric_limits<float>::max());
      for (size_t i = b * 16; i < b * 16 + 16; ++i)
        ASSERT_EQ(q.elements[i], __nv_cvt_float_to_fp4(x[i] * enc_b, __NV_E2M1, cudaRoundNearest))
            << "x " << std::hexfloat << x[i];
    }
  }
}

}  // namespace
}  // namespace fpsim

#else

TEST(QuantizeVsCudaHeaders, Skipped) {
  GTEST_SKIP() << "CUDA toolkit headers not found at configure time (FPSIM_CUDA_INCLUDE_DIR); "
                  "the NVIDIA cross-check of the quantizers' scale conversions did not run";
}

#endif
