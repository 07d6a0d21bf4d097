// Parameter blocks of the bulk rounding / decoding kernels (round_kernel-inl.h),
// shared by convert_bulk.cpp and the quantization files. Private to sim/bulk:
// no Highway here, and nothing outside sim/bulk/src includes it.
#pragma once

#include <cstdint>

#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim::bulk::detail {

// Kinds of rounding the vector kernel instantiates.
enum Kind : int { kRne, kRna, kRtz, kRup, kRdn, kRto, kSrExact, kSrBits };

struct FromParams {
  const Format* format;
  const RoundingSpec* spec;
  int kind;
  // format
  int32_t man;
  int32_t emin;
  int32_t bias;
  int32_t code_adj;         // -1 for unsigned_scale (e8m0 has no subnormal field), else 0
  int32_t max_code;
  int32_t sign_mask;        // 0 for unsigned formats
  int32_t zero_sign_mask;   // the sign bit of -0 (0 when the format has no -0)
  bool has_sign;
  bool neg_finite_special;  // ue4m3: a negative finite input gives NaN
  bool neg_invalid;         // e8m0: a negative input is read by magnitude, raising invalid
  bool simple;              // emin >= -126: the cheaper front end applies
  int32_t e_lo;             // emin + 127: the f32 exponent field of 2^emin
  int32_t d_max;            // the simple front end's largest d: 23 - M + max(e_lo - 1, 0)
  // spec
  bool ftz;  // ftz and the format has a zero
  bool daz;
  bool tininess_after;
  uint32_t sr_bits;
  uint32_t seed, stream, step;
  // Philox key schedule (round r uses key0[r], key1[r]) and round 1's
  // element-independent product M1 * step.
  uint64_t key0[10], key1[10];
  uint64_t step_product;
  // element-independent results from the scalar core, [sign]
  int32_t zero_code[2], zero_flags[2];
  int32_t inf_code[2], inf_flags[2];
  int32_t qnan_code[2], qnan_flags[2];
  int32_t snan_code[2], snan_flags[2];
  int32_t negfin_code, negfin_flags;
  int32_t ovf_code[2], ovf_flags[2];
};

struct ToParams {
  int32_t man;
  int32_t emin;
  int32_t bias;
  int32_t mag_mask;
  int32_t sign_mask;
  int32_t man_mask;
  int32_t exp_max;  // exponent field of inf/NaN (ieee)
  Specials specials;
  bool is_scale;
  bool signed_nan;
};


// Whether the vector rounding kernel covers this format and spec (else the
// scalar core runs element by element), and its parameter block (defined in
// convert_bulk.cpp; the parameter block keeps pointers to f and rs).
bool from_vectorizable(const Format& f, const RoundingSpec& rs);
FromParams from_params(const Format& f, const RoundingSpec& rs);
// The same for decoding codes to f32.
bool to_vectorizable(const Format& f);
ToParams to_params(const Format& f);

}  // namespace fpsim::bulk::detail
