// SIMD bulk conversions f32 <-> low-precision codes (see convert_bulk.hpp).
// The per-lane kernels (RoundBlock, DecodeBlock) live in round_kernel-inl.h,
// shared with bulk quantization (quantize_kernels-inl.h, dequantize_bulk.cpp);
// their parameter blocks in kernel_params.hpp.
//
// The kernels are generic over the format table: they read man_bits, emin,
// bias, max_code, the sign masks and the special-value results from a
// parameter block filled once per call, and never name a format. The scalar
// core (fpsim/convert.hpp) stays the definition: everything that does not
// depend on the element (the results for zero, inf and NaN inputs, the
// overflow result per sign) is computed by calling it, and the few lanes
// whose exact stochastic rounding cannot be decided from the first 32 random
// bits are recomputed by it.
//
// How one f32 lane is rounded (all in 32-bit integer lanes):
//   sig = 24-bit significand (hidden bit included; f32 subnormals: fraction),
//   qi  = exponent of sig's unit place, e = exponent of the leading bit,
//   q   = max(e, emin) - M, the target quantum at that exponent,
//   d   = q - qi, the number of discarded bits (d <= 0: exact; -d <= M).
//   kept = sig >> d (or << -d), rem = sig mod 2^d, half = 2^(d-1)  (d is
//   clamped to 30: sig < 2^24, so every d >= 25 discards everything and
//   keeps rem < half, as the clamped values do).
//   The mode decides `away` from rem vs half, the code's parity and the sign;
//   the code is (max(e - emin, 0) << M) + kept + away, which also covers the
//   carry into the next binade and out of the subnormals.
//   For emin >= -126 (every built-in but e8m0) a cheaper front end gets sig,
//   d and max(e - emin, 0) straight from the exponent field without
//   normalizing f32 subnormals; and the common case (M > 0, no flags, no
//   ftz) is compiled without the tininess and flag code ("lean").
//   Random bits (docs/conversion-semantics.md, "sr"): element i's first
//   random word w is word (i mod 4) of the Philox block of group i div 4, so
//   one Philox4x32-10 evaluation serves four lanes.
//   Exact SR: f = rem / 2^d; U < f is decided by w (U's top 32 bits)
//   against T = floor(f * 2^32): for d <= 32, T holds all of f and U < f
//   iff w < T; for d > 32, w < T means U < f, w > T means U > f, and
//   w == T (probability 2^-32) goes to the scalar core, which draws the
//   element's continuation blocks.
//   sr<R> (R <= 32): t = floor(f * 2^R), r = w mod 2^R; away iff r > 2^R-1-t.

#include "fpsim/bulk/convert_bulk.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/round.hpp"
#include "kernel_params.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/convert_bulk.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "round_kernel-inl.h"

HWY_BEFORE_NAMESPACE();
namespace fpsim::bulk {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

int64_t TargetId() { return HWY_TARGET; }

void FromF32U8(const detail::FromParams& p, const float* in, size_t n, uint8_t* out, uint64_t first,
               uint32_t* flags) {
  FromF32Impl(p, in, n, out, first, flags);
}
void FromF32U16(const detail::FromParams& p, const float* in, size_t n, uint16_t* out, uint64_t first,
                uint32_t* flags) {
  FromF32Impl(p, in, n, out, first, flags);
}
void ToF32U8(const detail::ToParams& p, const Format& from, const uint8_t* in, size_t n, float* out) {
  ToF32Impl(p, from, in, n, out);
}
void ToF32U16(const detail::ToParams& p, const Format& from, const uint16_t* in, size_t n, float* out) {
  ToF32Impl(p, from, in, n, out);
}

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::bulk
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace fpsim::bulk {

HWY_EXPORT(TargetId);
HWY_EXPORT(FromF32U8);
HWY_EXPORT(FromF32U16);
HWY_EXPORT(ToF32U8);
HWY_EXPORT(ToF32U16);

namespace detail {

// Whether the vector kernel covers this format and spec; everything else
// runs the scalar core element by element.
bool from_vectorizable(const Format& f, const RoundingSpec& rs) {
  if (f.is_integer() || f.bits > 16 || f.man_bits > 13) return false;
  // (127 - emin) << M must stay far inside int32.
  if ((int64_t{127} - f.emin() + 2) * (int64_t{1} << f.man_bits) >= (int64_t{1} << 30)) return false;
  if (f.emin() > (1 << 20) || f.emin() < -(1 << 20)) return false;
  if (rs.rounding == Rounding::sr && rs.sr_bits > 32) return false;
  return true;
}

FromParams from_params(const Format& f, const RoundingSpec& rs) {
  FromParams p{};
  p.format = &f;
  p.spec = &rs;
  switch (rs.rounding) {
    case Rounding::rne: p.kind = detail::kRne; break;
    case Rounding::rna: p.kind = detail::kRna; break;
    case Rounding::rtz: p.kind = detail::kRtz; break;
    case Rounding::rup: p.kind = detail::kRup; break;
    case Rounding::rdn: p.kind = detail::kRdn; break;
    case Rounding::rto: p.kind = detail::kRto; break;
    case Rounding::sr: p.kind = rs.sr_bits == 0 ? detail::kSrExact : detail::kSrBits; break;
  }
  p.man = f.man_bits;
  p.emin = f.emin();
  p.bias = f.bias;
  p.code_adj = f.is_scale() ? -1 : 0;
  p.max_code = int32_t(f.max_code());
  p.sign_mask = int32_t(f.sign_mask());
  p.zero_sign_mask = f.has_negative_zero() ? int32_t(f.sign_mask()) : 0;
  p.has_sign = f.has_sign;
  p.neg_finite_special = !f.has_sign && !f.is_scale();
  p.neg_invalid = !f.has_sign && f.is_scale();
  p.simple = f.emin() >= -126;
  p.e_lo = f.emin() + 127;
  p.d_max = 23 - f.man_bits + std::max(p.e_lo - 1, 0);
  p.ftz = rs.ftz && f.has_zero();
  p.daz = rs.daz;
  p.tininess_after = rs.tininess == Tininess::after;
  p.sr_bits = rs.sr_bits;
  p.seed = rs.seed;
  p.stream = rs.stream;
  p.step = rs.step;
  for (int r = 0; r < 10; ++r) {
    p.key0[r] = uint32_t(rs.seed + uint32_t(r) * 0x9E3779B9u);
    p.key1[r] = uint32_t(rs.stream + uint32_t(r) * 0xBB67AE85u);
  }
  p.step_product = uint64_t{0xCD9E8D57u} * rs.step;
  // Element-independent outcomes, from the scalar core itself.
  auto scalar = [&](uint32_t bits, int32_t& code, int32_t& flags) {
    Flags fl;
    code = int32_t(fpsim::from_float(std::bit_cast<float>(bits), f, rs, fl, 0));
    flags = int32_t(fl.bits);
  };
  for (int s = 0; s < 2; ++s) {
    const uint32_t sign = s ? 0x80000000u : 0u;
    scalar(sign, p.zero_code[s], p.zero_flags[s]);
    scalar(sign | 0x7F800000u, p.inf_code[s], p.inf_flags[s]);
    scalar(sign | 0x7FC00000u, p.qnan_code[s], p.qnan_flags[s]);
    scalar(sign | 0x7FA00000u, p.snan_code[s], p.snan_flags[s]);
    Flags fl;
    p.ovf_code[s] = int32_t(fpsim::detail::overflow_result(f, rs, s != 0, fl));
    p.ovf_flags[s] = int32_t(fl.bits);
  }
  if (p.neg_finite_special) scalar(0xBF800000u, p.negfin_code, p.negfin_flags);  // -1.0
  return p;
}

// The decode kernel needs every value of the format to be an f32 (normal or
// subnormal): true for every built-in format.
bool to_vectorizable(const Format& f) {
  if (f.is_integer() || f.bits > 16 || f.man_bits > 23) return false;
  const int64_t top_field = f.is_scale() ? int64_t(f.max_code()) : int64_t(f.max_code() >> f.man_bits);
  const int64_t top_exp = top_field - f.bias;
  return top_exp <= 127 && int64_t{f.emin()} - f.man_bits >= -149;
}

ToParams to_params(const Format& f) {
  ToParams p{};
  p.man = f.man_bits;
  p.emin = f.emin();
  p.bias = f.bias;
  p.mag_mask = int32_t(f.magnitude_mask());
  p.sign_mask = int32_t(f.sign_mask());
  p.man_mask = int32_t(f.man_mask());
  p.exp_max = int32_t(f.exp_field_max());
  p.specials = f.specials;
  p.is_scale = f.is_scale();
  p.signed_nan = f.has_signed_nan();
  return p;
}

}  // namespace detail

namespace {

template <typename T>
void check_sizes(size_t in_size, size_t out_size, const Format& f, const char* what) {
  if (in_size != out_size)
    throw OptionError(std::string(what) + ": input has " + std::to_string(in_size) + " elements but output has " +
                      std::to_string(out_size));
  if (f.bits > 8 * sizeof(T))
    throw OptionError(std::string(what) + ": format '" + f.name + "' has " + std::to_string(f.bits) +
                      "-bit codes, too wide for " + std::to_string(8 * sizeof(T)) + "-bit elements");
}

template <typename TOut, typename Kernel>
void from_f32(std::span<const float> in, const Format& to, const RoundingSpec& spec, std::span<TOut> out,
              uint64_t first_index, Flags* flags, Kernel kernel) {
  check_sizes<TOut>(in.size(), out.size(), to, "convert_from_f32");
  if (in.empty()) return;
  if (!detail::from_vectorizable(to, spec)) {
    uint32_t acc = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      Flags f;
      out[i] = TOut(fpsim::from_float(in[i], to, spec, f, first_index + i));
      acc |= f.bits;
    }
    if (flags) flags->raise(acc);
    return;
  }
  const detail::FromParams p = detail::from_params(to, spec);
  uint32_t acc = 0;
  kernel(p, in.data(), in.size(), out.data(), first_index, flags ? &acc : nullptr);
  if (flags) flags->raise(acc);
}

template <typename TIn, typename Kernel>
void to_f32(std::span<const TIn> in, const Format& from, std::span<float> out, Kernel kernel) {
  check_sizes<TIn>(in.size(), out.size(), from, "convert_to_f32");
  if (in.empty()) return;
  if (!detail::to_vectorizable(from)) {
    for (size_t i = 0; i < in.size(); ++i) {
      Flags ignored;
      out[i] = fpsim::to_float(in[i], from, RoundingSpec{}, ignored);
    }
    return;
  }
  kernel(detail::to_params(from), from, in.data(), in.size(), out.data());
}

}  // namespace

void convert_from_f32(std::span<const float> in, const Format& to, const RoundingSpec& spec,
                      std::span<uint8_t> out, uint64_t first_index, Flags* flags) {
  from_f32(in, to, spec, out, first_index, flags, HWY_DYNAMIC_DISPATCH(FromF32U8));
}

void convert_from_f32(std::span<const float> in, const Format& to, const RoundingSpec& spec,
                      std::span<uint16_t> out, uint64_t first_index, Flags* flags) {
  from_f32(in, to, spec, out, first_index, flags, HWY_DYNAMIC_DISPATCH(FromF32U16));
}

void convert_to_f32(std::span<const uint8_t> in, const Format& from, std::span<float> out) {
  to_f32(in, from, out, HWY_DYNAMIC_DISPATCH(ToF32U8));
}

void convert_to_f32(std::span<const uint16_t> in, const Format& from, std::span<float> out) {
  to_f32(in, from, out, HWY_DYNAMIC_DISPATCH(ToF32U16));
}

const char* simd_target_name() { return hwy::TargetName(HWY_DYNAMIC_DISPATCH(TargetId)()); }

}  // namespace fpsim::bulk
#endif  // HWY_ONCE
