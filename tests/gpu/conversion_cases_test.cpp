// The CPU dry run of `fpsim gpu convert` (docs/gpu.md, "Conversions on the
// device"): the table, the semantics the kernels use (conversion_semantics.hpp)
// against NVIDIA's own host conversion code (cuda_fp8.h, cuda_fp16.h,
// cuda_bf16.h, included as in tests/sim/cuda_headers_crosscheck_test.cpp) on
// a large sample, the judgement, and the report writer on a made-up run.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/gpu/conversion_checks.hpp"
#include "fpsim/gpu/conversion_semantics.hpp"

#if defined(FPSIM_HAVE_CUDA_HEADERS) && FPSIM_HAVE_CUDA_HEADERS
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#endif

namespace fpsim::gpu {
namespace {

using C = ConversionId;

// f32 inputs: every 2^12-th, each with four low patterns (0, 1, the tf32 tie
// 0x1000 and 0xFFF: ties and sticky bits for every narrower target), every
// special, and the neighbourhoods of each target's overflow and underflow
// boundaries.
std::vector<uint32_t> f32_sample() {
  std::vector<uint32_t> v;
  for (uint64_t i = 0; i < (uint64_t{1} << 20); ++i)
    for (const uint32_t low : {0u, 1u, 0x1000u, 0xFFFu}) v.push_back(uint32_t(i << 12) | low);
  const float boundaries[] = {448.0f,    464.0f,        480.0f,   57344.0f,   61440.0f,   65504.0f,  65520.0f,
                              0x1p-9f,   0x1p-10f,      0x1p-16f, 0x1p-17f,   0x1p-24f,   0x1p-25f,  0x1p-126f,
                              0x1p-133f, 3.3895314e38f, 1.0f,     0x1.002p0f, 0x1.001p0f, 0x1.003p0f};
  for (const float b : boundaries)
    for (int d = -3; d <= 3; ++d)
      for (const uint32_t sign : {0u, 0x80000000u}) v.push_back((std::bit_cast<uint32_t>(b) + uint32_t(d)) | sign);
  for (const uint32_t s : {0x0u, 0x1u, 0x7F7FFFFFu, 0x7F800000u, 0x7F800001u, 0x7FBFFFFFu, 0x7FC00000u, 0x7FFFFFFFu,
                           0x00800000u, 0x007FFFFFu})
    for (const uint32_t sign : {0u, 0x80000000u}) v.push_back(s | sign);
  std::mt19937 rng(17);
  for (int i = 0; i < 65536; ++i) v.push_back(uint32_t(rng()));
  return v;
}

// f16x2 inputs: every pair of a spread of f16 codes (every 2^6-th plus the
// specials and boundaries of both halves) and random words.
std::vector<uint32_t> f16x2_sample() {
  std::vector<uint16_t> h;
  for (uint32_t i = 0; i < 65536; i += 61) h.push_back(uint16_t(i));
  for (const uint16_t s : {0x0000, 0x0001, 0x03FF, 0x0400, 0x5F00, 0x5F40, 0x5F80, 0x7AFF, 0x7B00, 0x7B7F,
                           0x7B80, 0x7BFF, 0x7C00, 0x7C01, 0x7DFF, 0x7E00, 0x7FFF, 0x1800, 0x1400, 0x0200})
    for (const uint16_t sign : {uint16_t(0), uint16_t(0x8000)}) h.push_back(uint16_t(s | sign));
  std::vector<uint32_t> v;
  for (const uint16_t hi : h)
    for (const uint16_t lo : h) v.push_back(uint32_t(hi) << 16 | lo);
  std::mt19937 rng(1717);
  for (int i = 0; i < 65536; ++i) v.push_back(uint32_t(rng()));
  return v;
}

std::vector<uint32_t> all16() {
  std::vector<uint32_t> v(65536);
  for (uint32_t i = 0; i < 65536; ++i) v[i] = i;
  return v;
}

// The rules PTX adds on top of a plain conversion, written out again here
// (not conversion_semantics.hpp's): .satfinite turns an infinite result of a
// non-NaN input into the signed largest finite value; .relu maps NaN to the
// canonical NaN and anything with the sign bit to +0.
uint32_t ptx_satfinite_lane(uint32_t lane, uint32_t inf_bits, uint32_t max_bits, uint32_t sign_bit) {
  if ((lane & ~sign_bit) == inf_bits) return (lane & sign_bit) | max_bits;
  return lane;
}
uint32_t ptx_relu_lane(uint32_t lane, bool is_nan, uint32_t canonical, uint32_t sign_bit) {
  if (is_nan) return canonical;
  return (lane & sign_bit) ? 0 : lane;
}

struct Tally {
  uint64_t checked = 0, matches = 0, nan_differs = 0, ignored = 0, mismatches = 0, noncanonical = 0;
};

// Judges sim (conversion_semantics.hpp) against `reference` for every input;
// the first few mismatches are printed. NaN-pattern differences are counted,
// not failed: the host code's NaN choices are docs/nvidia-differences.md's.
Tally judge_all(C id, const std::vector<uint32_t>& inputs, const std::function<uint32_t(uint32_t)>& reference) {
  const ConversionSpec c = conversion_spec(id);
  Tally t;
  for (const uint32_t x : inputs) {
    const uint32_t ref = reference(x);
    const uint32_t sim = sim_result(c, x);
    const Judgement j = judge(c, ref, sim);
    ++t.checked;
    t.noncanonical += j.hardware_nan_noncanonical ? 1 : 0;
    switch (j.verdict) {
      case Verdict::match:
        ++t.matches;
        break;
      case Verdict::nan_pattern_differs:
        ++t.nan_differs;
        break;
      case Verdict::ignored_bits_differ:
        ++t.ignored;
        break;
      case Verdict::mismatch:
        if (++t.mismatches <= 8)
          ADD_FAILURE() << c.name << ": input 0x" << std::hex << x << " reference 0x" << ref << " sim 0x" << sim;
        break;
    }
  }
  std::printf("%-32s %9llu inputs  %llu mismatches  %llu nan_pattern_differs  %llu ignored  %llu ref-noncanonical\n",
              c.name, (unsigned long long)t.checked, (unsigned long long)t.mismatches,
              (unsigned long long)t.nan_differs, (unsigned long long)t.ignored, (unsigned long long)t.noncanonical);
  return t;
}

bool f32_is_nan(uint32_t x) { return (x & 0x7FFFFFFFu) > 0x7F800000u; }

// ---------------------------------------------------------------------------
// The table

TEST(ConversionTable, NamesAreUniqueAndParse) {
  for (int i = 0; i < kConversionCount; ++i) {
    const ConversionSpec c = conversion_spec(ConversionId(i));
    EXPECT_EQ(int(c.id), i);
    ConversionId found{};
    ASSERT_TRUE(conversion_by_name(c.name, &found)) << c.name;
    EXPECT_EQ(found, c.id);
    for (int k = 0; k < i; ++k) EXPECT_STRNE(c.name, conversion_spec(ConversionId(k)).name);
  }
  EXPECT_EQ(all_conversions().size(), size_t(kConversionCount));
  const auto list = parse_conversion_list("f32-tf32-rna,f16-f32,f32-tf32-rna");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], C::f32_tf32_rna);
  EXPECT_EQ(list[1], C::f16_f32);
  EXPECT_THROW(parse_conversion_list("f32-tf32-rn-satfinite"), Error);  // sm_100 only: not on Hopper
  EXPECT_THROW(parse_conversion_list(","), Error);
}

TEST(ConversionTable, ReluTwinsAndInputSpaces) {
  for (int i = 0; i < kConversionCount; ++i) {
    const ConversionSpec c = conversion_spec(ConversionId(i));
    const ConversionSpec b = conversion_spec(c.base);
    EXPECT_FALSE(b.relu) << c.name;
    if (!c.relu) {
      EXPECT_EQ(c.base, c.id) << c.name;
      continue;
    }
    // The twin differs only by .relu: the kernel evaluates sim once for both.
    EXPECT_EQ(b.from, c.from);
    EXPECT_EQ(b.to, c.to);
    EXPECT_EQ(b.rounding, c.rounding);
    EXPECT_EQ(b.overflow, c.overflow);
    EXPECT_EQ(b.shape, c.shape);
    EXPECT_NE(std::string(c.ptx).find(".relu"), std::string::npos) << c.name;
  }
  EXPECT_EQ(conversion_input_count(C::f32_f16_rn, 0), uint64_t{1} << 32);
  EXPECT_EQ(conversion_input_count(C::f16_f32, 0), uint64_t{1} << 16);
  EXPECT_EQ(conversion_input_count(C::f32_f16_rn, 1000), 1000u);
  EXPECT_EQ(conversion_input_stride(C::f32_f16_rn, uint64_t{1} << 20), 4096u);
  EXPECT_EQ(conversion_input_count(C::e4m3x2_f16x2_rn, 1u << 20), 65536u);  // a limit above the space: all
  EXPECT_EQ(conversion_input_stride(C::e4m3x2_f16x2_rn, 1u << 20), 1u);
}

// ---------------------------------------------------------------------------
// The semantics, on hand-picked inputs

uint32_t f32(float x) { return std::bit_cast<uint32_t>(x); }

TEST(ConversionSemantics, PackingSatfiniteAndRelu) {
  const auto sim = [](C id, uint32_t x) { return sim_result(conversion_spec(id), x); };
  // x in both halves: d = cvt(x) << 8 | cvt(x).
  EXPECT_EQ(sim(C::f32_e4m3x2_rn_satfinite, f32(448.0f)), 0x7E7Eu);
  EXPECT_EQ(sim(C::f32_e4m3x2_rn_satfinite, f32(1e9f)), 0x7E7Eu);    // saturates
  EXPECT_EQ(sim(C::f32_e4m3x2_rn_satfinite, 0xFF800000u), 0xFEFEu);  // -inf -> -448
  EXPECT_EQ(sim(C::f32_e5m2x2_rn_satfinite, 0x7F800000u), 0x7B7Bu);  // +inf -> 57344
  EXPECT_EQ(sim(C::f32_e4m3x2_rn_satfinite_relu, f32(-1.0f)), 0x0000u);
  EXPECT_EQ(sim(C::f32_e4m3x2_rn_satfinite_relu, 0xFFC00000u), 0x7F7Fu);  // NaN -> canonical
  EXPECT_EQ(sim(C::f32_e5m2x2_rn_satfinite_relu, 0x7FC00000u), 0x7F7Fu);
  // The f16x2 word is the pair: upper half -> upper byte.
  EXPECT_EQ(sim(C::f16x2_e4m3x2_rn_satfinite, 0x3C00BC00u), 0x38B8u);  // (1.0, -1.0)
  EXPECT_EQ(sim(C::f16x2_e4m3x2_rn_satfinite_relu, 0x3C00BC00u), 0x3800u);
  EXPECT_EQ(sim(C::f16x2_e5m2x2_rn_satfinite, 0x7C00FC00u), 0x7BFBu);  // (+inf, -inf)
  // fp8x2 -> f16x2: upper byte -> upper half.
  EXPECT_EQ(sim(C::e4m3x2_f16x2_rn, 0x38B8u), 0x3C00BC00u);
  EXPECT_EQ(sim(C::e4m3x2_f16x2_rn_relu, 0x38B8u), 0x3C000000u);
  EXPECT_EQ(sim(C::e4m3x2_f16x2_rn_relu, 0x7FFFu), 0x7FFF7FFFu);  // NaN codes -> canonical f16 NaN
  // f16 modes and satfinite.
  EXPECT_EQ(sim(C::f32_f16_rn, f32(65520.0f)), 0x7C00u);
  EXPECT_EQ(sim(C::f32_f16_rn_satfinite, f32(65520.0f)), 0x7BFFu);
  EXPECT_EQ(sim(C::f32_f16_rz, 0x7F800000u), 0x7C00u);  // inf stays inf without .satfinite
  EXPECT_EQ(sim(C::f32_f16_rz_satfinite, 0xFF800000u), 0xFBFFu);
  EXPECT_EQ(sim(C::f32_f16_rm, f32(-1e6f)), 0xFC00u);
  EXPECT_EQ(sim(C::f32_f16_rp, f32(-1e6f)), 0xFBFFu);
  EXPECT_EQ(sim(C::f32_f16_rn_relu, 0x80000000u), 0x0000u);  // -0 -> +0 (the model's reading)
  EXPECT_EQ(sim(C::f32_bf16_rn_relu, 0x7F800001u), 0x7FFFu);
  // tf32: the 19-bit code in the top of a .b32 register.
  EXPECT_EQ(sim(C::f32_tf32_rna, 0x3F801000u), 0x3F802000u);  // tie away
  EXPECT_EQ(sim(C::f32_tf32_rn, 0x3F801000u), 0x3F800000u);   // tie to even
  EXPECT_EQ(sim(C::f32_tf32_rz, 0x3F801FFFu), 0x3F800000u);
  EXPECT_EQ(sim(C::f32_tf32_rna, 0x7F7FFFFFu), 0x7F800000u);  // overflows
  EXPECT_EQ(sim(C::f32_tf32_rna_satfinite, 0x7F7FFFFFu), 0x7F7FE000u);
  EXPECT_EQ(sim(C::f32_tf32_rn_relu, 0x7FC00000u), 0x7FFFFFFFu);
  // Widenings are exact.
  EXPECT_EQ(sim(C::f16_f32, 0x3C00u), f32(1.0f));
  EXPECT_EQ(sim(C::bf16_f32, 0xC000u), f32(-2.0f));
}

TEST(ConversionSemantics, JudgeCountsNanPatternsApart) {
  const ConversionSpec e4 = conversion_spec(C::f32_e4m3x2_rn_satfinite);
  EXPECT_EQ(judge(e4, 0x7E7E, 0x7E7E).verdict, Verdict::match);
  EXPECT_EQ(judge(e4, 0x7F7F, 0xFFFF).verdict, Verdict::nan_pattern_differs);  // sign of a NaN
  EXPECT_FALSE(judge(e4, 0x7F7F, 0xFFFF).hardware_nan_noncanonical);
  EXPECT_TRUE(judge(e4, 0xFF7F, 0xFFFF).hardware_nan_noncanonical);
  EXPECT_EQ(judge(e4, 0x7F00, 0x7E00).verdict, Verdict::mismatch);  // NaN against 448
  EXPECT_EQ(judge(e4, 0x0001, 0x0000).verdict, Verdict::mismatch);  // one lane decides
  const ConversionSpec f16 = conversion_spec(C::f32_f16_rn);
  EXPECT_EQ(judge(f16, 0x7FFF, 0x7E00).verdict, Verdict::nan_pattern_differs);
  EXPECT_EQ(judge(f16, 0x7C00, 0x7E00).verdict, Verdict::mismatch);  // inf is not a NaN
  const ConversionSpec tf = conversion_spec(C::f32_tf32_rna);
  EXPECT_EQ(judge(tf, 0x3F800001, 0x3F800000).verdict, Verdict::ignored_bits_differ);
  EXPECT_EQ(judge(tf, 0x3F802000, 0x3F800000).verdict, Verdict::mismatch);
  EXPECT_EQ(judge(tf, 0x7FFFFFFF, 0x7FC00000).verdict, Verdict::nan_pattern_differs);
}

// tf32 has no NVIDIA host conversion: an independent bit-level reference
// (round on bit 13 of the magnitude; a carry into the exponent is the
// correct next binade or inf) checks sim's three modes and .satfinite.
TEST(ConversionSemantics, Tf32AgainstABitReference) {
  const auto reference = [](int mode, bool satfinite) {
    return [mode, satfinite](uint32_t x) -> uint32_t {
      const uint32_t sign = x & 0x80000000u, mag = x & 0x7FFFFFFFu;
      if (mag > 0x7F800000u) return 0x7FFFFFFFu;  // any NaN: judged by NaN-ness
      if (mag == 0x7F800000u) return satfinite ? sign | 0x7F7FE000u : x;
      uint32_t r = mag;
      if (mode == 0) r = mag + 0x1000u;                      // rna
      if (mode == 1) r = mag + 0xFFFu + ((mag >> 13) & 1u);  // rne
      r &= 0xFFFFE000u;                                      // mode 2: rz
      if (satfinite && r >= 0x7F800000u) r = 0x7F7FE000u;
      return sign | r;
    };
  };
  const std::vector<uint32_t> in = f32_sample();
  EXPECT_EQ(judge_all(C::f32_tf32_rna, in, reference(0, false)).mismatches, 0u);
  EXPECT_EQ(judge_all(C::f32_tf32_rna_satfinite, in, reference(0, true)).mismatches, 0u);
  EXPECT_EQ(judge_all(C::f32_tf32_rn, in, reference(1, false)).mismatches, 0u);
  EXPECT_EQ(judge_all(C::f32_tf32_rz, in, reference(2, false)).mismatches, 0u);
  const auto relu = [&](int mode) {
    return
        [=](uint32_t x) { return ptx_relu_lane(reference(mode, false)(x), f32_is_nan(x), 0x7FFFFFFFu, 0x80000000u); };
  };
  EXPECT_EQ(judge_all(C::f32_tf32_rn_relu, in, relu(1)).mismatches, 0u);
  EXPECT_EQ(judge_all(C::f32_tf32_rz_relu, in, relu(2)).mismatches, 0u);
}

// ---------------------------------------------------------------------------
// Against NVIDIA's host conversion code

#if defined(FPSIM_HAVE_CUDA_HEADERS) && FPSIM_HAVE_CUDA_HEADERS

float as_float(uint32_t x) { return std::bit_cast<float>(x); }
uint32_t bits_of(__half h) { return static_cast<__half_raw>(h).x; }
uint32_t bits_of(__nv_bfloat16 h) { return static_cast<__nv_bfloat16_raw>(h).x; }
__half as_half(uint32_t b) {
  __half_raw r;
  r.x = static_cast<unsigned short>(b);
  return __half(r);
}
__nv_bfloat16 as_bf16(uint32_t b) {
  __nv_bfloat16_raw r;
  r.x = static_cast<unsigned short>(b);
  return __nv_bfloat16(r);
}

// NVIDIA's f32 -> fp8 (always satfinite here), one lane, with .relu derived.
uint32_t nv_f32_to_fp8(uint32_t x, __nv_fp8_interpretation_t k, bool relu) {
  const uint32_t lane = __nv_cvt_float_to_fp8(as_float(x), __NV_SATFINITE, k);
  return relu ? ptx_relu_lane(lane, (lane & 0x7F) == 0x7F || (k == __NV_E5M2 && (lane & 0x7F) > 0x7C), 0x7F, 0x80)
              : lane;
}

TEST(ConversionVsCudaHeaders, F32ToFp8x2) {
  const std::vector<uint32_t> in = f32_sample();
  for (const bool relu : {false, true}) {
    for (const auto k : {__NV_E4M3, __NV_E5M2}) {
      const C id = k == __NV_E4M3 ? (relu ? C::f32_e4m3x2_rn_satfinite_relu : C::f32_e4m3x2_rn_satfinite)
                                  : (relu ? C::f32_e5m2x2_rn_satfinite_relu : C::f32_e5m2x2_rn_satfinite);
      // __nv_cvt_float2_to_fp8x2 packs .x into the low byte: with a = b = x
      // the packing cannot hide a swap, so the pair is built from the scalar.
      const Tally t = judge_all(id, in, [&](uint32_t x) {
        const uint32_t lane = nv_f32_to_fp8(x, k, relu);
        return lane << 8 | lane;
      });
      EXPECT_EQ(t.mismatches, 0u);
      EXPECT_EQ(t.noncanonical, 0u);  // the host code's NaN is PTX's canonical 0x7F
    }
  }
}

TEST(ConversionVsCudaHeaders, F16x2ToFp8x2) {
  const std::vector<uint32_t> in = f16x2_sample();
  for (const bool relu : {false, true}) {
    for (const auto k : {__NV_E4M3, __NV_E5M2}) {
      const C id = k == __NV_E4M3 ? (relu ? C::f16x2_e4m3x2_rn_satfinite_relu : C::f16x2_e4m3x2_rn_satfinite)
                                  : (relu ? C::f16x2_e5m2x2_rn_satfinite_relu : C::f16x2_e5m2x2_rn_satfinite);
      const Tally t = judge_all(id, in, [&](uint32_t x) {
        __half2_raw pair;
        pair.x = static_cast<unsigned short>(x & 0xFFFF);  // .x: the low half, as in memory
        pair.y = static_cast<unsigned short>(x >> 16);
        uint32_t word = __nv_cvt_halfraw2_to_fp8x2(pair, __NV_SATFINITE, k);  // .x -> low byte
        if (relu) {
          uint32_t r = 0;
          for (int i = 0; i < 2; ++i) {
            const uint32_t lane = (word >> (8 * i)) & 0xFF;
            const bool nan = (lane & 0x7F) == 0x7F || (k == __NV_E5M2 && (lane & 0x7F) > 0x7C);
            r |= ptx_relu_lane(lane, nan, 0x7F, 0x80) << (8 * i);
          }
          word = r;
        }
        return word;
      });
      EXPECT_EQ(t.mismatches, 0u);
      EXPECT_EQ(t.noncanonical, 0u);
    }
  }
}

TEST(ConversionVsCudaHeaders, Fp8x2ToF16x2) {
  const std::vector<uint32_t> in = all16();
  for (const bool relu : {false, true}) {
    for (const auto k : {__NV_E4M3, __NV_E5M2}) {
      const C id = k == __NV_E4M3 ? (relu ? C::e4m3x2_f16x2_rn_relu : C::e4m3x2_f16x2_rn)
                                  : (relu ? C::e5m2x2_f16x2_rn_relu : C::e5m2x2_f16x2_rn);
      const Tally t = judge_all(id, in, [&](uint32_t x) {
        const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(x), k);
        uint32_t lanes[2] = {h.x, h.y};  // .x from the low byte
        for (uint32_t& lane : lanes)
          if (relu) lane = ptx_relu_lane(lane, (lane & 0x7FFF) > 0x7C00, 0x7FFF, 0x8000);
        return lanes[1] << 16 | lanes[0];
      });
      EXPECT_EQ(t.mismatches, 0u);
      EXPECT_EQ(t.noncanonical, 0u);  // NaN codes widen to 0x7FFF
      // sim's 0x7E00 / 0xFE00: counted, not hidden; .relu makes both canonical.
      if (relu) {
        EXPECT_EQ(t.nan_differs, 0u);
      } else {
        EXPECT_GT(t.nan_differs, 0u);
      }
    }
  }
}

template <typename Half>
void check_f32_to_16(const char* what, C rn, C rn_relu, C rz, C rz_relu, C rn_sat, C rn_relu_sat, C rz_sat,
                     C rz_relu_sat, C rm, C rp, Half (*f_rn)(float), Half (*f_rz)(float), Half (*f_rd)(float),
                     Half (*f_ru)(float), uint32_t inf, uint32_t max) {
  SCOPED_TRACE(what);
  const std::vector<uint32_t> in = f32_sample();
  const auto plain = [](Half (*f)(float)) { return [f](uint32_t x) { return bits_of(f(as_float(x))); }; };
  const auto derived = [&](Half (*f)(float), bool relu, bool sat) {
    return [=](uint32_t x) {
      uint32_t lane = bits_of(f(as_float(x)));
      if (sat && !f32_is_nan(x)) lane = ptx_satfinite_lane(lane, inf, max, 0x8000);
      if (relu) lane = ptx_relu_lane(lane, (lane & 0x7FFF) > inf, 0x7FFF, 0x8000);
      return lane;
    };
  };
  for (const auto& [id, ref] :
       std::vector<std::pair<C, std::function<uint32_t(uint32_t)>>>{{rn, plain(f_rn)},
                                                                    {rz, plain(f_rz)},
                                                                    {rm, plain(f_rd)},
                                                                    {rp, plain(f_ru)},
                                                                    {rn_relu, derived(f_rn, true, false)},
                                                                    {rz_relu, derived(f_rz, true, false)},
                                                                    {rn_sat, derived(f_rn, false, true)},
                                                                    {rz_sat, derived(f_rz, false, true)},
                                                                    {rn_relu_sat, derived(f_rn, true, true)},
                                                                    {rz_relu_sat, derived(f_rz, true, true)}}) {
    const Tally t = judge_all(id, in, ref);
    EXPECT_EQ(t.mismatches, 0u) << conversion_spec(id).name;
    EXPECT_EQ(t.noncanonical, 0u) << conversion_spec(id).name;  // 0x7FFF everywhere
  }
}

TEST(ConversionVsCudaHeaders, F32ToF16) {
  check_f32_to_16<__half>("f16", C::f32_f16_rn, C::f32_f16_rn_relu, C::f32_f16_rz, C::f32_f16_rz_relu,
                          C::f32_f16_rn_satfinite, C::f32_f16_rn_relu_satfinite, C::f32_f16_rz_satfinite,
                          C::f32_f16_rz_relu_satfinite, C::f32_f16_rm, C::f32_f16_rp, __float2half_rn, __float2half_rz,
                          __float2half_rd, __float2half_ru, 0x7C00, 0x7BFF);
}

TEST(ConversionVsCudaHeaders, F32ToBf16) {
  check_f32_to_16<__nv_bfloat16>("bf16", C::f32_bf16_rn, C::f32_bf16_rn_relu, C::f32_bf16_rz, C::f32_bf16_rz_relu,
                                 C::f32_bf16_rn_satfinite, C::f32_bf16_rn_relu_satfinite, C::f32_bf16_rz_satfinite,
                                 C::f32_bf16_rz_relu_satfinite, C::f32_bf16_rm, C::f32_bf16_rp, __float2bfloat16_rn,
                                 __float2bfloat16_rz, __float2bfloat16_rd, __float2bfloat16_ru, 0x7F80, 0x7F7F);
}

TEST(ConversionVsCudaHeaders, Widenings) {
  const std::vector<uint32_t> in = all16();
  const Tally h =
      judge_all(C::f16_f32, in, [](uint32_t x) { return std::bit_cast<uint32_t>(__half2float(as_half(x))); });
  EXPECT_EQ(h.mismatches, 0u);
  EXPECT_EQ(h.nan_differs, 2u * 1023u);  // every f16 NaN: 0x7FFFFFFF against sim's default NaN
  const Tally b =
      judge_all(C::bf16_f32, in, [](uint32_t x) { return std::bit_cast<uint32_t>(__bfloat162float(as_bf16(x))); });
  EXPECT_EQ(b.mismatches, 0u);
  EXPECT_EQ(b.nan_differs, 2u * 127u - 2u);  // the host keeps payloads; sim's 0x7FC0 / 0xFFC0 match themselves
}

#else

TEST(ConversionVsCudaHeaders, Skipped) {
  GTEST_SKIP() << "CUDA headers (cuda_fp8.h) not found at configure time: NVIDIA's host code is not compared";
}

#endif

// ---------------------------------------------------------------------------
// The report writer

TEST(ConversionReport, WritesAMadeUpRun) {
  ConversionRun run;
  run.device = "NVIDIA H100 \"test\", sm_90";
  run.seconds = 12.5;
  ConversionResult ok;
  ok.id = C::f32_f16_rn;
  ok.inputs_total = ok.inputs_checked = uint64_t{1} << 32;
  ok.matches = ok.inputs_total - 16777214;
  ok.nan_pattern_differs = 16777214;
  ok.hardware_nan_noncanonical = 0;
  ok.first_nan_differences = {{0x7F800001u, 0x7FFFu, 0x7E00u}};
  ConversionResult bad;
  bad.id = C::f32_e4m3x2_rn_satfinite;
  bad.inputs_total = uint64_t{1} << 32;
  bad.inputs_checked = uint64_t{1} << 31;
  bad.mismatches = 3;
  bad.first_mismatches = {{0x43E00000u, 0x7E7Eu, 0x7F7Fu}};
  run.results = {ok, bad};
  run.stopped_by_time_budget = true;
  EXPECT_FALSE(run.passed());

  const nlohmann::json j = nlohmann::json::parse(conversion_report_json(run));
  EXPECT_EQ(j["schema"], "fpsim-gpu-convert-1");
  EXPECT_EQ(j["device"], run.device);
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["stopped_by_time_budget"], true);
  ASSERT_EQ(j["conversions"].size(), 2u);
  const auto& a = j["conversions"][0];
  EXPECT_EQ(a["name"], "f32-f16-rn");
  EXPECT_EQ(a["ptx"], "cvt.rn.f16.f32 d, x");
  EXPECT_EQ(a["inputs_checked"], uint64_t{1} << 32);
  EXPECT_EQ(a["complete"], true);
  EXPECT_EQ(a["passed"], true);
  EXPECT_EQ(a["nan_pattern_differs"], 16777214u);
  EXPECT_EQ(a["canonical_nan"], "0x7FFF");
  EXPECT_EQ(a["first_nan_differences"][0]["input"], "0x7F800001");
  EXPECT_EQ(a["first_nan_differences"][0]["hardware"], "0x7FFF");
  EXPECT_EQ(a["first_nan_differences"][0]["sim"], "0x7E00");
  const auto& b = j["conversions"][1];
  EXPECT_EQ(b["complete"], false);
  EXPECT_EQ(b["passed"], false);
  EXPECT_EQ(b["mismatches"], 3u);
  EXPECT_EQ(b["input_shape"], "x in both halves (a = b = x)");
  EXPECT_EQ(b["first_mismatches"][0]["hardware"], "0x7E7E");

  run.error = "kernel run: cudaErrorIllegalInstruction (an illegal instruction was encountered)";
  EXPECT_EQ(nlohmann::json::parse(conversion_report_json(run))["error"], run.error);

  EXPECT_NE(conversion_summary_line(ok).find("PASS"), std::string::npos);
  EXPECT_NE(conversion_summary_line(bad).find("FAIL (incomplete: time budget)"), std::string::npos);
}

}  // namespace
}  // namespace fpsim::gpu
