// What the element pass of bulk quantization (quantize_kernels-inl.h) shares
// with its caller (quantize_bulk.cpp), outside Highway's per-target
// namespaces: the argument block, the statistics it counts, and the scalar
// twin of one vector lane. A plain header (included once), because the
// per-target -inl.h is compiled once per instruction set.
#pragma once

#include <bit>
#include <cstdint>

#include "fpsim/convert.hpp"
#include "fpsim/flags.hpp"
#include "kernel_params.hpp"

namespace fpsim::bulk::qdetail {

struct LaneResult {
  uint8_t code;
  bool saturated;
};

// The scalar definition of one element whose t = x * m is not the exact
// product (MX, exact arithmetic with a power-of-two multiplier).
using ExactLaneFn = LaneResult (*)(const void* ctx, float x, float m, uint64_t index);

// The element kind for rne with saturation into a signed <= 8-bit float
// format without ftz/daz (the default of every scheme): FastRneSaturate.
constexpr int kRneSaturate = 100;

// Whether FastRneSaturate applies to the element conversion `p`.
inline bool fast_rne_saturate_applies(const detail::FromParams& p) {
  return p.kind == detail::kRne && p.spec->overflow == Overflow::saturate && !p.ftz && !p.daz && p.simple &&
         p.man >= 1 && p.man <= 20 && p.has_sign && p.code_adj == 0 && !p.neg_finite_special && !p.neg_invalid &&
         p.format->bits <= 8 && !p.format->is_integer() && p.emin - p.man + 23 >= -126;
}

struct QuantArgs {
  const detail::FromParams* p;
  bool exact_first;   // t must equal the exact product: other lanes go to `exact`
  const void* ctx;
  ExactLaneFn exact;
  int32_t fmax_bits;   // the element max as f32 bits (saturation threshold)
  int32_t zero_mask;   // a code's value is 0 iff (code & zero_mask) == zero_value
  int32_t zero_value;
};

struct SegStats {
  uint64_t nan = 0, inf = 0, sat = 0, under = 0;
};

// The scalar twin of the vector element step (used for the HWY_SCALAR
// target and to undo a special block's counts): what the vector pass writes
// and counts for one element.
inline uint8_t scalar_lane(const QuantArgs& a, float x, float m, uint64_t index, SegStats& st) {
  const float t = x * m;
  const uint32_t ax = std::bit_cast<uint32_t>(x) & 0x7FFFFFFFu;
  const uint32_t at = std::bit_cast<uint32_t>(t) & 0x7FFFFFFFu;
  const bool x_fin = ax < 0x7F800000u;
  const bool x_nz = x_fin && ax != 0;
  Flags fl;
  uint8_t code = uint8_t(fpsim::from_float(t, *a.p->format, *a.p->spec, fl, index));
  bool sat = x_fin && at <= 0x7F800000u && at > uint32_t(a.fmax_bits);  // t = inf from a finite x counts
  const uint32_t et = at & 0x7F800000u;
  if (a.exact_first && x_nz && (et == 0 || et == 0x7F800000u)) {
    const LaneResult r = a.exact(a.ctx, x, m, index);
    code = r.code;
    sat = r.saturated;
  }
  st.nan += ax > 0x7F800000u;
  st.inf += ax == 0x7F800000u;
  st.sat += sat;
  st.under += x_nz && (int32_t(code) & a.zero_mask) == a.zero_value;
  return code;
}

}  // namespace fpsim::bulk::qdetail
