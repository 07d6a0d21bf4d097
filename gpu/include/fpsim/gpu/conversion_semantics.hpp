// What sim says each Hopper `cvt` returns (docs/gpu.md, "Conversions on the
// device"): one function per question, FPSIM_HD, used by the exhaustive
// kernels (conversion_kernels.cu) and by the CPU dry run against NVIDIA's host
// conversion code (tests/gpu/conversion_cases_test.cpp), so the device and
// the test judge with the same code.
//
// Hardware facts, all from the PTX ISA, "Data Movement and Conversion
// Instructions: cvt" (and ptxas 13.0 refusing the rest for sm_90a):
// - packing: for .e4m3x2/.e5m2x2 destinations d[15:8] = convert(a),
//   d[7:0] = convert(b); from .f16x2 the upper 16 bits of a go to d[15:8];
//   to .f16x2 the upper byte of a goes to d[31:16].
// - .satfinite: a NaN input gives NaN; |input| > MAX_NORM (inf included)
//   gives the sign-preserved MAX_NORM. sim: Overflow::saturate (inf -> ±max).
// - .relu: "clamps the result to 0 if negative. NaN results are converted to
//   canonical NaN." Modelled as: NaN -> the canonical pattern below; sign bit
//   set (so -0 too) -> +0. The canonical patterns: f32 0x7FFFFFFF, f16 and
//   bf16 0x7FFF (PTX ISA, half-precision instructions, ".relu"); e4m3/e5m2
//   0x7F (what cuda_fp8.hpp's host code, which mimics the instruction,
//   returns for every NaN); tf32 as f32.
// - fp8 destinations exist only with .rn.satfinite; f16/bf16 from f32 take
//   .rn/.rz with .relu/.satfinite, and .rm/.rp in the plain form (bf16 with
//   .rm/.rp needs sm_90); tf32 takes .rna{.satfinite} and, on sm_90,
//   .rn/.rz{.relu} (.rn.satfinite tf32 needs sm_100, so it is not here).
//
// A result is judged lane by lane (judge_lanes): equal bits match; both NaN
// with different bits is `nan_pattern_differs` (counted, never hidden); a
// difference only in bits the destination leaves undefined (tf32's low 13
// bits) is `ignored_bits_differ`; anything else is a mismatch.
#pragma once

#include <cstdint>

#include "fpsim/config.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/flags.hpp"
#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim::gpu {

// Every conversion checked; the order is the report's order.
enum class ConversionId : uint8_t {
  f32_e4m3x2_rn_satfinite,
  f32_e4m3x2_rn_satfinite_relu,
  f32_e5m2x2_rn_satfinite,
  f32_e5m2x2_rn_satfinite_relu,
  f16x2_e4m3x2_rn_satfinite,
  f16x2_e4m3x2_rn_satfinite_relu,
  f16x2_e5m2x2_rn_satfinite,
  f16x2_e5m2x2_rn_satfinite_relu,
  e4m3x2_f16x2_rn,
  e4m3x2_f16x2_rn_relu,
  e5m2x2_f16x2_rn,
  e5m2x2_f16x2_rn_relu,
  f32_f16_rn,
  f32_f16_rn_relu,
  f32_f16_rz,
  f32_f16_rz_relu,
  f32_f16_rn_satfinite,
  f32_f16_rn_relu_satfinite,
  f32_f16_rz_satfinite,
  f32_f16_rz_relu_satfinite,
  f32_f16_rm,
  f32_f16_rp,
  f32_bf16_rn,
  f32_bf16_rn_relu,
  f32_bf16_rz,
  f32_bf16_rz_relu,
  f32_bf16_rn_satfinite,
  f32_bf16_rn_relu_satfinite,
  f32_bf16_rz_satfinite,
  f32_bf16_rz_relu_satfinite,
  f32_bf16_rm,
  f32_bf16_rp,
  f32_tf32_rna,
  f32_tf32_rna_satfinite,
  f32_tf32_rn,
  f32_tf32_rn_relu,
  f32_tf32_rz,
  f32_tf32_rz_relu,
  f16_f32,
  bf16_f32,
  count_,
};
inline constexpr int kConversionCount = int(ConversionId::count_);

// The formats a lane is read or written in. tf32's lane is the 32-bit
// register (code << 13), read as fp32 bits for NaN and sign.
enum class LaneFormat : uint8_t { f32, tf32, f16, bf16, e4m3, e5m2 };

// How the 32-bit (or 16-bit) input word feeds the lanes.
enum class InputShape : uint8_t {
  scalar,      // one lane: the input is the source value
  duplicated,  // f32 -> fp8x2: the input x goes to both a and b (cvt d, x, x)
  packed,      // the input word is the packed pair (f16x2, e4m3x2, e5m2x2)
};

struct ConversionSpec {
  ConversionId id;
  const char* name;    // the CLI / report name
  const char* ptx;     // the instruction, as issued by the kernel
  uint8_t input_bits;  // 32: all 2^32 inputs; 16: all 2^16
  InputShape shape;
  uint8_t lanes;          // 1 or 2
  uint8_t in_lane_bits;   // 32, 16 or 8
  uint8_t out_lane_bits;  // 32, 16 or 8
  LaneFormat from;
  LaneFormat to;
  Rounding rounding;
  Overflow overflow;
  bool relu;
  ConversionId base;       // the same conversion without .relu (itself when relu is false)
  uint32_t canonical_nan;  // per output lane, PTX's canonical NaN
  uint32_t compare_mask;   // per output lane, the bits the hardware defines
};

// The format of a lane; a local constexpr copy each, since device code may
// not odr-use host constants (tests/sim/device_compile_check.cu).
FPSIM_HD constexpr Format lane_format(LaneFormat f) {
  switch (f) {
    case LaneFormat::f32: {
      constexpr Format x = formats::fp32;
      return x;
    }
    case LaneFormat::tf32: {
      constexpr Format x = formats::tf32;
      return x;
    }
    case LaneFormat::f16: {
      constexpr Format x = formats::fp16;
      return x;
    }
    case LaneFormat::bf16: {
      constexpr Format x = formats::bf16;
      return x;
    }
    case LaneFormat::e4m3: {
      constexpr Format x = formats::e4m3;
      return x;
    }
    case LaneFormat::e5m2: {
      constexpr Format x = formats::e5m2;
      return x;
    }
  }
  constexpr Format x = formats::fp32;
  return x;
}

namespace detail {

FPSIM_HD constexpr ConversionSpec spec(ConversionId id, const char* name, const char* ptx, uint8_t input_bits,
                                       InputShape shape, LaneFormat from, LaneFormat to, Rounding rounding,
                                       Overflow overflow, bool relu, ConversionId base) {
  const uint8_t lanes = shape == InputShape::scalar ? 1 : 2;
  const auto width = [](LaneFormat f) -> uint8_t {
    switch (f) {
      case LaneFormat::f32:
      case LaneFormat::tf32:
        return 32;
      case LaneFormat::f16:
      case LaneFormat::bf16:
        return 16;
      case LaneFormat::e4m3:
      case LaneFormat::e5m2:
        return 8;
    }
    return 32;
  };
  const auto canonical = [](LaneFormat f) -> uint32_t {
    switch (f) {
      case LaneFormat::f32:
      case LaneFormat::tf32:
        return 0x7FFFFFFFu;
      case LaneFormat::f16:
      case LaneFormat::bf16:
        return 0x7FFFu;
      case LaneFormat::e4m3:
      case LaneFormat::e5m2:
        return 0x7Fu;
    }
    return 0;
  };
  const uint8_t out_bits = width(to);
  const uint32_t full = out_bits == 32 ? 0xFFFFFFFFu : (1u << out_bits) - 1u;
  // tf32 in a .b32 register: sim writes the low 13 bits as zero; PTX gives
  // them no meaning, so a difference there is counted apart.
  const uint32_t mask = to == LaneFormat::tf32 ? 0xFFFFE000u : full;
  return ConversionSpec{id,   name, ptx,      input_bits, shape, lanes, width(from),   out_bits,
                        from, to,   rounding, overflow,   relu,  base,  canonical(to), mask};
}

}  // namespace detail

// The table, as data: one row per conversion.
FPSIM_HD constexpr ConversionSpec conversion_spec(ConversionId id) {
  using C = ConversionId;
  using L = LaneFormat;
  using S = InputShape;
  constexpr Rounding rne = Rounding::rne, rtz = Rounding::rtz, rdn = Rounding::rdn, rup = Rounding::rup,
                     rna = Rounding::rna;
  constexpr Overflow ieee = Overflow::ieee, sat = Overflow::saturate;
  switch (id) {
    case C::f32_e4m3x2_rn_satfinite:
      return detail::spec(id, "f32-e4m3x2-rn-satfinite", "cvt.rn.satfinite.e4m3x2.f32 d, x, x", 32, S::duplicated,
                          L::f32, L::e4m3, rne, sat, false, id);
    case C::f32_e4m3x2_rn_satfinite_relu:
      return detail::spec(id, "f32-e4m3x2-rn-satfinite-relu", "cvt.rn.satfinite.relu.e4m3x2.f32 d, x, x", 32,
                          S::duplicated, L::f32, L::e4m3, rne, sat, true, C::f32_e4m3x2_rn_satfinite);
    case C::f32_e5m2x2_rn_satfinite:
      return detail::spec(id, "f32-e5m2x2-rn-satfinite", "cvt.rn.satfinite.e5m2x2.f32 d, x, x", 32, S::duplicated,
                          L::f32, L::e5m2, rne, sat, false, id);
    case C::f32_e5m2x2_rn_satfinite_relu:
      return detail::spec(id, "f32-e5m2x2-rn-satfinite-relu", "cvt.rn.satfinite.relu.e5m2x2.f32 d, x, x", 32,
                          S::duplicated, L::f32, L::e5m2, rne, sat, true, C::f32_e5m2x2_rn_satfinite);
    case C::f16x2_e4m3x2_rn_satfinite:
      return detail::spec(id, "f16x2-e4m3x2-rn-satfinite", "cvt.rn.satfinite.e4m3x2.f16x2 d, x", 32, S::packed, L::f16,
                          L::e4m3, rne, sat, false, id);
    case C::f16x2_e4m3x2_rn_satfinite_relu:
      return detail::spec(id, "f16x2-e4m3x2-rn-satfinite-relu", "cvt.rn.satfinite.relu.e4m3x2.f16x2 d, x", 32,
                          S::packed, L::f16, L::e4m3, rne, sat, true, C::f16x2_e4m3x2_rn_satfinite);
    case C::f16x2_e5m2x2_rn_satfinite:
      return detail::spec(id, "f16x2-e5m2x2-rn-satfinite", "cvt.rn.satfinite.e5m2x2.f16x2 d, x", 32, S::packed, L::f16,
                          L::e5m2, rne, sat, false, id);
    case C::f16x2_e5m2x2_rn_satfinite_relu:
      return detail::spec(id, "f16x2-e5m2x2-rn-satfinite-relu", "cvt.rn.satfinite.relu.e5m2x2.f16x2 d, x", 32,
                          S::packed, L::f16, L::e5m2, rne, sat, true, C::f16x2_e5m2x2_rn_satfinite);
    case C::e4m3x2_f16x2_rn:
      return detail::spec(id, "e4m3x2-f16x2-rn", "cvt.rn.f16x2.e4m3x2 d, x", 16, S::packed, L::e4m3, L::f16, rne, ieee,
                          false, id);
    case C::e4m3x2_f16x2_rn_relu:
      return detail::spec(id, "e4m3x2-f16x2-rn-relu", "cvt.rn.relu.f16x2.e4m3x2 d, x", 16, S::packed, L::e4m3, L::f16,
                          rne, ieee, true, C::e4m3x2_f16x2_rn);
    case C::e5m2x2_f16x2_rn:
      return detail::spec(id, "e5m2x2-f16x2-rn", "cvt.rn.f16x2.e5m2x2 d, x", 16, S::packed, L::e5m2, L::f16, rne, ieee,
                          false, id);
    case C::e5m2x2_f16x2_rn_relu:
      return detail::spec(id, "e5m2x2-f16x2-rn-relu", "cvt.rn.relu.f16x2.e5m2x2 d, x", 16, S::packed, L::e5m2, L::f16,
                          rne, ieee, true, C::e5m2x2_f16x2_rn);
    case C::f32_f16_rn:
      return detail::spec(id, "f32-f16-rn", "cvt.rn.f16.f32 d, x", 32, S::scalar, L::f32, L::f16, rne, ieee, false, id);
    case C::f32_f16_rn_relu:
      return detail::spec(id, "f32-f16-rn-relu", "cvt.rn.relu.f16.f32 d, x", 32, S::scalar, L::f32, L::f16, rne, ieee,
                          true, C::f32_f16_rn);
    case C::f32_f16_rz:
      return detail::spec(id, "f32-f16-rz", "cvt.rz.f16.f32 d, x", 32, S::scalar, L::f32, L::f16, rtz, ieee, false, id);
    case C::f32_f16_rz_relu:
      return detail::spec(id, "f32-f16-rz-relu", "cvt.rz.relu.f16.f32 d, x", 32, S::scalar, L::f32, L::f16, rtz, ieee,
                          true, C::f32_f16_rz);
    case C::f32_f16_rn_satfinite:
      return detail::spec(id, "f32-f16-rn-satfinite", "cvt.rn.satfinite.f16.f32 d, x", 32, S::scalar, L::f32, L::f16,
                          rne, sat, false, id);
    case C::f32_f16_rn_relu_satfinite:
      return detail::spec(id, "f32-f16-rn-relu-satfinite", "cvt.rn.relu.satfinite.f16.f32 d, x", 32, S::scalar, L::f32,
                          L::f16, rne, sat, true, C::f32_f16_rn_satfinite);
    case C::f32_f16_rz_satfinite:
      return detail::spec(id, "f32-f16-rz-satfinite", "cvt.rz.satfinite.f16.f32 d, x", 32, S::scalar, L::f32, L::f16,
                          rtz, sat, false, id);
    case C::f32_f16_rz_relu_satfinite:
      return detail::spec(id, "f32-f16-rz-relu-satfinite", "cvt.rz.relu.satfinite.f16.f32 d, x", 32, S::scalar, L::f32,
                          L::f16, rtz, sat, true, C::f32_f16_rz_satfinite);
    case C::f32_f16_rm:
      return detail::spec(id, "f32-f16-rm", "cvt.rm.f16.f32 d, x", 32, S::scalar, L::f32, L::f16, rdn, ieee, false, id);
    case C::f32_f16_rp:
      return detail::spec(id, "f32-f16-rp", "cvt.rp.f16.f32 d, x", 32, S::scalar, L::f32, L::f16, rup, ieee, false, id);
    case C::f32_bf16_rn:
      return detail::spec(id, "f32-bf16-rn", "cvt.rn.bf16.f32 d, x", 32, S::scalar, L::f32, L::bf16, rne, ieee, false,
                          id);
    case C::f32_bf16_rn_relu:
      return detail::spec(id, "f32-bf16-rn-relu", "cvt.rn.relu.bf16.f32 d, x", 32, S::scalar, L::f32, L::bf16, rne,
                          ieee, true, C::f32_bf16_rn);
    case C::f32_bf16_rz:
      return detail::spec(id, "f32-bf16-rz", "cvt.rz.bf16.f32 d, x", 32, S::scalar, L::f32, L::bf16, rtz, ieee, false,
                          id);
    case C::f32_bf16_rz_relu:
      return detail::spec(id, "f32-bf16-rz-relu", "cvt.rz.relu.bf16.f32 d, x", 32, S::scalar, L::f32, L::bf16, rtz,
                          ieee, true, C::f32_bf16_rz);
    case C::f32_bf16_rn_satfinite:
      return detail::spec(id, "f32-bf16-rn-satfinite", "cvt.rn.satfinite.bf16.f32 d, x", 32, S::scalar, L::f32, L::bf16,
                          rne, sat, false, id);
    case C::f32_bf16_rn_relu_satfinite:
      return detail::spec(id, "f32-bf16-rn-relu-satfinite", "cvt.rn.relu.satfinite.bf16.f32 d, x", 32, S::scalar,
                          L::f32, L::bf16, rne, sat, true, C::f32_bf16_rn_satfinite);
    case C::f32_bf16_rz_satfinite:
      return detail::spec(id, "f32-bf16-rz-satfinite", "cvt.rz.satfinite.bf16.f32 d, x", 32, S::scalar, L::f32, L::bf16,
                          rtz, sat, false, id);
    case C::f32_bf16_rz_relu_satfinite:
      return detail::spec(id, "f32-bf16-rz-relu-satfinite", "cvt.rz.relu.satfinite.bf16.f32 d, x", 32, S::scalar,
                          L::f32, L::bf16, rtz, sat, true, C::f32_bf16_rz_satfinite);
    case C::f32_bf16_rm:
      return detail::spec(id, "f32-bf16-rm", "cvt.rm.bf16.f32 d, x", 32, S::scalar, L::f32, L::bf16, rdn, ieee, false,
                          id);
    case C::f32_bf16_rp:
      return detail::spec(id, "f32-bf16-rp", "cvt.rp.bf16.f32 d, x", 32, S::scalar, L::f32, L::bf16, rup, ieee, false,
                          id);
    case C::f32_tf32_rna:
      return detail::spec(id, "f32-tf32-rna", "cvt.rna.tf32.f32 d, x", 32, S::scalar, L::f32, L::tf32, rna, ieee, false,
                          id);
    case C::f32_tf32_rna_satfinite:
      return detail::spec(id, "f32-tf32-rna-satfinite", "cvt.rna.satfinite.tf32.f32 d, x", 32, S::scalar, L::f32,
                          L::tf32, rna, sat, false, id);
    case C::f32_tf32_rn:
      return detail::spec(id, "f32-tf32-rn", "cvt.rn.tf32.f32 d, x", 32, S::scalar, L::f32, L::tf32, rne, ieee, false,
                          id);
    case C::f32_tf32_rn_relu:
      return detail::spec(id, "f32-tf32-rn-relu", "cvt.rn.relu.tf32.f32 d, x", 32, S::scalar, L::f32, L::tf32, rne,
                          ieee, true, C::f32_tf32_rn);
    case C::f32_tf32_rz:
      return detail::spec(id, "f32-tf32-rz", "cvt.rz.tf32.f32 d, x", 32, S::scalar, L::f32, L::tf32, rtz, ieee, false,
                          id);
    case C::f32_tf32_rz_relu:
      return detail::spec(id, "f32-tf32-rz-relu", "cvt.rz.relu.tf32.f32 d, x", 32, S::scalar, L::f32, L::tf32, rtz,
                          ieee, true, C::f32_tf32_rz);
    case C::f16_f32:
      return detail::spec(id, "f16-f32", "cvt.f32.f16 d, x", 16, S::scalar, L::f16, L::f32, rne, ieee, false, id);
    case C::bf16_f32:
      return detail::spec(id, "bf16-f32", "cvt.f32.bf16 d, x", 16, S::scalar, L::bf16, L::f32, rne, ieee, false, id);
    case C::count_:
      break;
  }
  return detail::spec(id, "?", "?", 16, S::scalar, L::f32, L::f32, rne, ieee, false, id);
}

// sim's code for one input lane, in the destination register's terms (tf32:
// code << 13), before .relu.
FPSIM_HD inline uint32_t sim_lane(const ConversionSpec& c, uint32_t lane_input) {
  const Format from = lane_format(c.from);
  const Format to = lane_format(c.to);
  RoundingSpec rs;
  rs.rounding = c.rounding;
  rs.overflow = c.overflow;
  Flags flags;
  const uint64_t code = convert(lane_input, from, to, rs, flags);
  return uint32_t(code << to.container_shift);
}

// PTX's .relu on one output lane (register terms): NaN -> canonical NaN,
// sign bit set -> +0.
FPSIM_HD constexpr uint32_t relu_lane(const ConversionSpec& c, uint32_t lane) {
  const Format f = lane_format(c.to == LaneFormat::tf32 ? LaneFormat::f32 : c.to);
  if (f.is_nan_code(lane)) return c.canonical_nan;
  if (lane & uint32_t(f.sign_mask())) return 0;
  return lane;
}

// The input lane i (0 = low) of the input word.
FPSIM_HD constexpr uint32_t input_lane(const ConversionSpec& c, uint32_t x, int i) {
  if (c.shape == InputShape::duplicated) return x;
  if (c.shape == InputShape::scalar) return c.in_lane_bits == 32 ? x : x & ((1u << c.in_lane_bits) - 1u);
  return (x >> (i * c.in_lane_bits)) & ((1u << c.in_lane_bits) - 1u);
}

// The whole result word sim says the instruction returns without .relu
// (the conversion's `base`).
FPSIM_HD inline uint32_t sim_result_without_relu(const ConversionSpec& c, uint32_t x) {
  if (c.shape == InputShape::duplicated) {  // one evaluation serves both lanes
    const uint32_t lane = sim_lane(c, x);
    return lane << c.out_lane_bits | lane;
  }
  uint32_t r = 0;
  for (int i = 0; i < c.lanes; ++i) r |= sim_lane(c, input_lane(c, x, i)) << (i * c.out_lane_bits);
  return r;
}

// .relu applied lane by lane to a result word (a no-op when c.relu is false).
FPSIM_HD constexpr uint32_t apply_relu(const ConversionSpec& c, uint32_t word) {
  if (!c.relu) return word;
  const uint32_t lane_mask = c.out_lane_bits == 32 ? 0xFFFFFFFFu : (1u << c.out_lane_bits) - 1u;
  uint32_t r = 0;
  for (int i = 0; i < c.lanes; ++i) {
    const int shift = i * c.out_lane_bits;
    r |= relu_lane(c, (word >> shift) & lane_mask) << shift;
  }
  return r;
}

// "What sim says the hardware conversion c returns for input bits x."
FPSIM_HD inline uint32_t sim_result(const ConversionSpec& c, uint32_t x) {
  return apply_relu(c, sim_result_without_relu(c, x));
}

enum class Verdict : uint8_t { match, ignored_bits_differ, nan_pattern_differs, mismatch };

struct Judgement {
  Verdict verdict = Verdict::match;
  bool hardware_nan_noncanonical = false;  // a hardware NaN lane other than canonical_nan
};

// Compares the hardware's word with sim's, lane by lane; the worst lane
// decides (mismatch > nan_pattern_differs > ignored_bits_differ > match).
FPSIM_HD constexpr Judgement judge(const ConversionSpec& c, uint32_t hardware, uint32_t sim) {
  const Format f = lane_format(c.to == LaneFormat::tf32 ? LaneFormat::f32 : c.to);
  const uint32_t lane_mask = c.out_lane_bits == 32 ? 0xFFFFFFFFu : (1u << c.out_lane_bits) - 1u;
  Judgement j;
  for (int i = 0; i < c.lanes; ++i) {
    const int shift = i * c.out_lane_bits;
    const uint32_t h = (hardware >> shift) & lane_mask;
    const uint32_t s = (sim >> shift) & lane_mask;
    const bool h_nan = f.is_nan_code(h);
    if (h_nan && h != c.canonical_nan) j.hardware_nan_noncanonical = true;
    Verdict v = Verdict::match;
    if (h == s) {
      v = Verdict::match;
    } else if (h_nan && f.is_nan_code(s)) {
      v = Verdict::nan_pattern_differs;
    } else if ((h & c.compare_mask) == (s & c.compare_mask)) {
      v = Verdict::ignored_bits_differ;
    } else {
      v = Verdict::mismatch;
    }
    if (uint8_t(v) > uint8_t(j.verdict)) j.verdict = v;
  }
  return j;
}

}  // namespace fpsim::gpu
