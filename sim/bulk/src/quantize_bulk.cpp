// SIMD bulk quantization (see quantize_bulk.hpp), bit-identical to the scalar
// definitions in sim/src/quantize.cpp (docs/quantization.md).
//
// Passes:
//  1. amax: per block, max of |x| as f32 bits in integer lanes (for non-NaN
//     values the order of the bits is the order of the magnitudes; a NaN's
//     bits exceed inf's). MX propagates NaN (the max simply keeps it),
//     everything else zeroes NaN lanes first (fmaxf). Row-wise blocks whose
//     width is a multiple of the vector length reduce each block's vectors;
//     other shapes keep a running max per column over the block's rows.
//  2. scales, per block, with the scalar helpers: multiplier_from_amax;
//     e8m0_scale_code (floor rule: once per exponent field, the only part
//     of amax it reads; ceil / rne: q = fp32(amax / elem_max) converted by
//     the shared kernel, as e8m0_scale_code converts it); NVFP4 as
//     sim/src/quantize.cpp computes it (the ue4m3 conversion by the kernel).
//  3. elements, tile by tile (a strip of block rows x a run of whole blocks
//     of columns): each block's multiplier (MX: 2^-k; nvfp4: the divisor d)
//     is broadcast per block (or spread over a per-column array when the
//     block is not a whole number of vectors wide), then each row segment runs
//     t = x * m (nvfp4: x / d) in FP32 and the shared rounding kernel
//     (round_kernel-inl.h, bit-identical to fpsim::from_float), counting
//     nan / inf inputs, saturations and underflows in the same pass.
//
// Why t can be rounded in place of the scalar definition:
//  - fp32 arithmetic (per-tensor, fp32 blocks, nvfp4): t = fp32(x * s) (or
//    fp32(x / d)) IS the definition; the scalar code computes the same IEEE
//    binary32 operation, NaN propagation included.
//  - MX and exact arithmetic with a power-of-two multiplier: the element is
//    the exact product rounded once. fp32(x * 2^j) equals it whenever the
//    result is a normal f32; the lanes where it is not (a finite non-zero x
//    whose t is zero, subnormal or infinite) are recomputed by the scalar
//    core from the exact product (exact_lane below).
//  - exact arithmetic with multipliers that need not be powers of two
//    (pow2_scales off, or a given multiplier that is not 2^k), MXINT8 (whose
//    multiplier 2^(6-k) may exceed f32 and whose int8 rounding the kernel
//    does not cover), and NVFP4 with exact arithmetic (an exact quotient):
//    the whole call runs fpsim::quantize. The round-to-odd trick (hi = x*s,
//    lo = fma(x, s, -hi)) would vectorize the deterministic modes of the
//    first case but not exact stochastic rounding, and Highway's SSE4 target
//    has no fused multiply-add, so it is not used.
//  - Blocks whose scale is special (MX NaN scale, NVFP4 zero block scale)
//    are patched afterwards by the scalar definition, subtracting what the
//    vector pass had counted for them.
// Configurations that run fpsim::quantize itself (identical by
// construction): the three above, empty tensors, daz (the scalar code
// applies it to x for MX / exact and to t for fp32 arithmetic), integer or
// unsigned elements, user formats the rounding kernel does not cover (or sr
// with more than 32 bits), element formats whose max is not an f32 normal or
// whose zero codes are not {z} or {+0, -0} (elem_info()). Errors are the
// scalar code's (detail::check_quantize_args, or the scalar call itself).
//
// Statistics, as sim/src/quantize.cpp counts them: `saturated` is a finite
// x whose scaled value is above the element max (t = inf included);
// `underflows` is a finite non-zero x whose element value is 0 (none in
// an MX NaN-scale block; every non-zero x in a zero NVFP4 block scale);
// mse / sqnr come from fpsim::detail::error_stats on the bulk
// dequantization, which is bit-identical to fpsim::dequantize.
//
// Performance notes: MX and FP32 blocks run amax, scales and elements tile
// by tile (the tile stays in cache: one pass over memory); per-tensor and
// NVFP4 need the tensor's amax first (two passes). Blocks a whole number of
// vectors wide take their multiplier as a broadcast per block; the common
// path counts saturations and underflows with a few compares and leaves
// non-finite values, inexact products and undecided exact-sr lanes to a
// rarely taken branch (RareLanes).

#include "fpsim/bulk/quantize_bulk.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/quantize.hpp"
#include "fpsim/round.hpp"
#include "kernel_params.hpp"

#ifndef FPSIM_QUANT_BULK_SHARED_ONCE
#define FPSIM_QUANT_BULK_SHARED_ONCE
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
inline uint8_t scalar_lane(const QuantArgs& a, bool div, float x, float m, uint64_t index, SegStats& st,
                           bool& vec_sat) {
  const float t = div ? x / m : x * m;
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
  vec_sat = sat;
  st.nan += ax > 0x7F800000u;
  st.inf += ax == 0x7F800000u;
  st.sat += sat;
  st.under += x_nz && (int32_t(code) & a.zero_mask) == a.zero_value;
  return code;
}

}  // namespace fpsim::bulk::qdetail
#endif  // FPSIM_QUANT_BULK_SHARED_ONCE

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/quantize_bulk.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "round_kernel-inl.h"

HWY_BEFORE_NAMESPACE();
namespace fpsim::bulk {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR

void QuantSegment(const qdetail::QuantArgs& a, bool div, const float* x, const float* m, size_t bc, size_t n,
                  uint8_t* out, uint64_t first, qdetail::SegStats& st) {
  bool unused;
  for (size_t i = 0; i < n; ++i)
    out[i] = qdetail::scalar_lane(a, div, x[i], bc ? m[i / bc] : m[i], first + i, st, unused);
}

size_t VectorLanes() { return 1; }

void AmaxStrip(const float* x, size_t cols, size_t r0, size_t r1, size_t c0, size_t c1, size_t bc, bool nan_prop,
               uint32_t* grid_row, uint32_t*) {
  for (size_t r = r0; r < r1; ++r)
    for (size_t c = c0; c < c1; ++c) {
      uint32_t a = std::bit_cast<uint32_t>(x[r * cols + c]) & 0x7FFFFFFFu;
      if (a > 0x7F800000u && !nan_prop) a = 0;
      uint32_t& g = grid_row[c / bc];
      g = std::max(g, a);
    }
}

uint32_t AmaxFlat(const float* x, size_t n) {
  uint32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t a = std::bit_cast<uint32_t>(x[i]) & 0x7FFFFFFFu;
    if (a <= 0x7F800000u) m = std::max(m, a);
  }
  return m;
}

void DequantSegment(const detail::ToParams&, const Format& from, const uint8_t* in, const float* s, float ts,
                    bool two, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    Flags ignored;
    float v = fpsim::to_float(in[i], from, RoundingSpec{}, ignored) * s[i];
    if (two) v *= ts;
    out[i] = std::isnan(v) ? std::numeric_limits<float>::quiet_NaN() : v;
  }
}

#else

// Lanes the vector pass cannot finish: exact stochastic rounding undecided
// by the first random word (sr_fb, t rounded by the scalar core) and t that
// is not the exact product (ex_fb, the scalar definition). Returns the codes.
HWY_NOINLINE VI FixLanes(const qdetail::QuantArgs& a, MI sr_fb, MI ex_fb, VI xi, VI ti, hn::Vec<DF> mv, VI code,
                         uint64_t idx, uint64_t& extra_sat) {
  const DI di;
  const DF df;
  HWY_ALIGN int32_t xs[hn::MaxLanes(di)], ts[hn::MaxLanes(di)], cs[hn::MaxLanes(di)], sr[hn::MaxLanes(di)],
      ex[hn::MaxLanes(di)];
  HWY_ALIGN float ms[hn::MaxLanes(di)];
  hn::Store(xi, di, xs);
  hn::Store(ti, di, ts);
  hn::Store(code, di, cs);
  hn::Store(hn::VecFromMask(di, sr_fb), di, sr);
  hn::Store(hn::VecFromMask(di, ex_fb), di, ex);
  hn::Store(mv, df, ms);
  for (size_t j = 0; j < hn::Lanes(di); ++j) {
    if (ex[j]) {
      const qdetail::LaneResult r = a.exact(a.ctx, std::bit_cast<float>(xs[j]), ms[j], idx + j);
      cs[j] = r.code;
      extra_sat += r.saturated;
    } else if (sr[j]) {
      Flags f;
      cs[j] = int32_t(fpsim::from_float(std::bit_cast<float>(ts[j]), *a.p->format, *a.p->spec, f, idx + j));
    }
  }
  return hn::Load(di, cs);
}

struct Counters {
  VI nan, inf, sat, under;
};

// The rare lanes of a vector: t non-finite (so every non-finite x), t not
// the exact product (ex_fb), exact sr undecided (sr_fb). Fixes their codes,
// counts nan / inf inputs and takes back what the common path counts for
// them: a non-finite t as saturated, a non-finite x with a zero code as an
// underflow.
template <bool kTail>
HWY_NOINLINE VI RareLanes(const qdetail::QuantArgs& a, MI valid, MI sr_fb, MI ex_fb, VI xi, VI ti, hn::Vec<DF> mv,
                          VI code, uint64_t idx, Counters& c, uint64_t& extra_sat) {
  const DI di;
  const VI zero = hn::Zero(di);
  const VI inf_bits = hn::Set(di, 0x7F800000);
  const VI abs_mask = hn::Set(di, 0x7FFFFFFF);
  const VI ax = hn::And(xi, abs_mask);
  const VI at = hn::And(ti, abs_mask);
  MI x_fin = hn::Lt(ax, inf_bits);
  MI nan = hn::Gt(ax, inf_bits);
  MI inf = hn::Eq(ax, inf_bits);
  MI t_nonfin = hn::Gt(at, hn::Set(di, 0x7F7FFFFF));
  if (kTail) {
    x_fin = hn::And(x_fin, valid);
    nan = hn::And(nan, valid);
    inf = hn::And(inf, valid);
    t_nonfin = hn::And(t_nonfin, valid);
  }
  if (a.exact_first)  // finite non-zero x whose t is inf or NaN
    ex_fb = hn::Or(ex_fb, hn::And(hn::AndNot(hn::Eq(ax, zero), x_fin), t_nonfin));
  if (!hn::AllFalse(di, hn::Or(ex_fb, sr_fb))) code = FixLanes(a, sr_fb, ex_fb, xi, ti, mv, code, idx, extra_sat);
  const MI zc = hn::Eq(hn::And(code, hn::Set(di, a.zero_mask)), hn::Set(di, a.zero_value));
  c.nan = hn::Sub(c.nan, hn::VecFromMask(di, nan));
  c.inf = hn::Sub(c.inf, hn::VecFromMask(di, inf));
  // Take back the saturations counted for a NaN t, a non-finite x, or a lane
  // FixLanes redid (it counted the exact value's saturation itself); a finite
  // x whose FP32 t overflowed to inf stays counted (docs §4).
  const MI t_nan = hn::Gt(at, inf_bits);
  c.sat = hn::Add(c.sat, hn::VecFromMask(di, hn::And(t_nonfin, hn::Or(hn::Or(t_nan, hn::Not(x_fin)), ex_fb))));
  c.under = hn::Add(c.under, hn::VecFromMask(di, hn::And(zc, hn::Or(nan, inf))));
  return code;
}

// One vector of elements: t = x * m (x / m), codes, and the counts (lanes
// outside `valid` are not counted). A finite t comes from a finite x (m is
// finite and non-zero, or NaN in an MX NaN-scale block, or an NVFP4 divisor
// that underflowed to 0), so the common path counts |t| > max as saturated
// and leaves non-finite t (and with them non-finite x) to RareLanes.
// rne with saturation in a few integer and one float operation per lane
// (the classic narrowing; bit-identical to RoundBlock<kRne> for the formats
// fast_rne_saturate_applies admits, tests/sim/quantize_bulk_test.cpp):
//   normal: code = (A + 2^(d-1) - 1 + lsb) >> d - (127 - bias) << M, with
//           A = |t| bits, d = 23 - M, lsb = bit d of A (ties to even; the
//           carry runs into the exponent field by itself);
//   below 2^emin: code = bits(|t| + C) - bits(C), C = 2^(emin - M + 23),
//           whose ulp is the target's subnormal quantum, so the FPU's own
//           round-to-nearest-even (MXCSR default) rounds;
//   saturate: min(code, max_code) (inf lands there too).
// Lanes holding a NaN or inf are wrong here: the caller redoes such vectors
// with RoundBlock. `A` receives |t| as bits.
HWY_INLINE VI FastRneSaturate(const detail::FromParams& p, VI ti, VI& A_out) {
  const DI di;
  const DF df;
  const VI A = hn::And(ti, hn::Set(di, 0x7FFFFFFF));
  A_out = A;
  const int d = 23 - p.man;
  const VI lsb = hn::And(hn::ShiftRightSame(A, d), hn::Set(di, 1));
  const VI normal = hn::Sub(hn::ShiftRightSame(hn::Add(A, hn::Add(hn::Set(di, (1 << (d - 1)) - 1), lsb)), d),
                            hn::Set(di, (127 - p.bias) << p.man));
  const VI c_bits = hn::Set(di, (p.emin - p.man + 23 + 127) << 23);  // C, a normal float
  const VI sub = hn::Sub(hn::BitCast(di, hn::Add(hn::BitCast(df, A), hn::BitCast(df, c_bits))), c_bits);
  const MI tiny = hn::Lt(A, hn::Set(di, p.e_lo << 23));
  const VI mag = hn::Min(hn::IfThenElse(tiny, sub, normal), hn::Set(di, p.max_code));  // normal >= 2^M where used
  const MI neg = hn::Lt(ti, hn::Zero(di));
  const VI sign = hn::IfThenElse(hn::Eq(mag, hn::Zero(di)), hn::Set(di, p.zero_sign_mask), hn::Set(di, p.sign_mask));
  return hn::Or(mag, hn::IfThenElseZero(neg, sign));
}

template <int kKind, bool kLean, bool kDiv, bool kTail>
HWY_INLINE VI QuantStep(const qdetail::QuantArgs& a, const detail::FromParams& p, const PhiloxTable& table, VI xi,
                        hn::Vec<DF> mv, uint64_t idx, MI valid, Counters& c, uint64_t& extra_sat) {
  const DI di;
  const DF df;
  const VI zero = hn::Zero(di);
  const VI abs_mask = hn::Set(di, 0x7FFFFFFF);
  const hn::Vec<DF> xf = hn::BitCast(df, xi);
  const VI ti = hn::BitCast(di, kDiv ? hn::Div(xf, mv) : hn::Mul(xf, mv));
  MI sr_fb;
  VI code, at;
  if constexpr (kKind == qdetail::kRneSaturate) {
    code = FastRneSaturate(p, ti, at);
    sr_fb = hn::FirstN(di, 0);
  } else {
    VI fl;
    code = RoundBlock<kKind, kLean>(p, table, ti, idx, false, fl, sr_fb);
    at = hn::And(ti, abs_mask);
  }
  const VI ax = hn::And(xi, abs_mask);
  const MI x_zero = hn::Eq(ax, zero);
  MI sat = hn::Gt(at, hn::Set(di, a.fmax_bits));
  MI rare = hn::Gt(at, hn::Set(di, 0x7F7FFFFF));
  MI ex_fb = hn::FirstN(di, 0);
  if (a.exact_first) ex_fb = hn::AndNot(x_zero, hn::Lt(at, hn::Set(di, 0x00800000)));  // t 0 or subnormal, x != 0
  if (kTail) {
    sat = hn::And(sat, valid);
    rare = hn::And(rare, valid);
    ex_fb = hn::And(ex_fb, valid);
    sr_fb = hn::And(sr_fb, valid);
  }
  MI any = hn::Or(rare, ex_fb);
  if constexpr (kKind == detail::kSrExact) any = hn::Or(any, sr_fb);
  if (HWY_UNLIKELY(!hn::AllFalse(di, any)))
  {
    if constexpr (kKind == qdetail::kRneSaturate) {
      // NaN or inf lanes: the general kernel, for the whole vector.
      if (!hn::AllFalse(di, rare)) {
        VI fl;
        code = RoundBlock<detail::kRne, kLean>(p, table, ti, idx, false, fl, sr_fb);
      }
    }
    // Copies: the counters' own addresses never escape, so they stay in
    // registers across the loop (the uint8_t stores could alias them).
    Counters rc = c;
    uint64_t rextra = extra_sat;
    code = RareLanes<kTail>(a, valid, sr_fb, ex_fb, xi, ti, mv, code, idx, rc, rextra);
    c = rc;
    extra_sat = rextra;
  }
  // underflows: x != 0 whose code is a zero (non-finite x: taken back above)
  MI under = hn::AndNot(x_zero, hn::Eq(hn::And(code, hn::Set(di, a.zero_mask)), hn::Set(di, a.zero_value)));
  if (kTail) under = hn::And(under, valid);
  c.sat = hn::Sub(c.sat, hn::VecFromMask(di, sat));
  c.under = hn::Sub(c.under, hn::VecFromMask(di, under));
  return code;
}

HWY_INLINE uint64_t SumLanes(VI v) {
  const DI di;
  HWY_ALIGN int32_t lanes[hn::MaxLanes(di)];
  hn::Store(v, di, lanes);
  uint64_t s = 0;
  for (size_t j = 0; j < hn::Lanes(di); ++j) s += uint32_t(lanes[j]);
  return s;
}

// The last rest < N elements from i, padded with zeros (not counted, not
// stored).
template <int kKind, bool kLean, bool kDiv>
HWY_INLINE void QuantTail(const qdetail::QuantArgs& a, const detail::FromParams& p, const PhiloxTable& table,
                          const float* x, size_t i, size_t rest, hn::Vec<DF> mv, uint8_t* out, uint64_t first,
                          Counters& c, uint64_t& extra_sat) {
  const DI di;
  const DF df;
  HWY_ALIGN float xs[hn::MaxLanes(di)] = {};
  HWY_ALIGN uint8_t dst[hn::MaxLanes(di)];
  std::memcpy(xs, x + i, rest * sizeof(float));
  const VI xi = hn::BitCast(di, hn::Load(df, xs));
  const VI code =
      QuantStep<kKind, kLean, kDiv, true>(a, p, table, xi, mv, first + i, hn::FirstN(di, rest), c, extra_sat);
  StoreCodes(code, dst);
  std::memcpy(out + i, dst, rest);
}

// m: per element (bc == 0) or per block of bc elements (bc a multiple of the
// vector length).
template <int kKind, bool kLean, bool kDiv>
HWY_NOINLINE void QuantLoop(const qdetail::QuantArgs& a, const float* HWY_RESTRICT x, const float* HWY_RESTRICT m,
                            size_t bc, size_t n, uint8_t* HWY_RESTRICT out, uint64_t first,
                            qdetail::SegStats& st) {
  const detail::FromParams p = *a.p;  // a local copy stays in registers (stores to out are char)
  const DI di;
  const DF df;
  const size_t N = hn::Lanes(di);
  PhiloxTable table;
  if constexpr (kKind == detail::kSrExact || kKind == detail::kSrBits) FillPhiloxTable(p, table);
  Counters c{hn::Zero(di), hn::Zero(di), hn::Zero(di), hn::Zero(di)};
  uint64_t extra_sat = 0;
  const MI all = hn::FirstN(di, N);
  if (bc == 0) {
    size_t i = 0;
    for (; i + N <= n; i += N) {
      const VI xi = hn::BitCast(di, hn::LoadU(df, x + i));
      StoreCodes(QuantStep<kKind, kLean, kDiv, false>(a, p, table, xi, hn::LoadU(df, m + i), first + i, all, c,
                                                      extra_sat),
                 out + i);
    }
    if (i < n) {
      HWY_ALIGN float ms[hn::MaxLanes(di)];
      for (size_t j = 0; j < N; ++j) ms[j] = 1.0f;
      std::memcpy(ms, m + i, (n - i) * sizeof(float));
      QuantTail<kKind, kLean, kDiv>(a, p, table, x, i, n - i, hn::Load(df, ms), out, first, c, extra_sat);
    }
  } else {
    size_t i = 0, j = 0;
    if (bc == 2 * N) {
      // NVFP4's 16-element blocks on 8-lane vectors: two steps per block
      // without an inner loop (a 2-iteration loop per block pipelines badly).
      for (; i + 2 * N <= n; i += 2 * N, ++j) {
        const hn::Vec<DF> mv = hn::Set(df, m[j]);
        const VI x0 = hn::BitCast(di, hn::LoadU(df, x + i));
        const VI x1 = hn::BitCast(di, hn::LoadU(df, x + i + N));
        StoreCodes(QuantStep<kKind, kLean, kDiv, false>(a, p, table, x0, mv, first + i, all, c, extra_sat), out + i);
        StoreCodes(QuantStep<kKind, kLean, kDiv, false>(a, p, table, x1, mv, first + i + N, all, c, extra_sat),
                   out + i + N);
      }
    }
    for (; i < n; ++j) {
      const size_t end = std::min(n, i + bc);
      const hn::Vec<DF> mv = hn::Set(df, m[j]);
      for (; i + N <= end; i += N) {
        const VI xi = hn::BitCast(di, hn::LoadU(df, x + i));
        StoreCodes(QuantStep<kKind, kLean, kDiv, false>(a, p, table, xi, mv, first + i, all, c, extra_sat), out + i);
      }
      if (i < end) {
        QuantTail<kKind, kLean, kDiv>(a, p, table, x, i, end - i, mv, out, first, c, extra_sat);
        i = end;
      }
    }
  }
  st.nan += SumLanes(c.nan);
  st.inf += SumLanes(c.inf);
  st.sat += SumLanes(c.sat) + extra_sat;
  st.under += SumLanes(c.under);
}

template <int kKind>
void QuantLoopFor(const qdetail::QuantArgs& a, bool div, const float* x, const float* m, size_t bc, size_t n,
                  uint8_t* out, uint64_t first, qdetail::SegStats& st) {
  const detail::FromParams& p = *a.p;
  const bool lean = p.simple && p.man > 0 && p.code_adj == 0 && !p.ftz;
  // Every scheme multiplies (NVFP4 too, in TE's order), so the division
  // variant (kDiv) is not instantiated.
  (void)div;
  if (lean)
    QuantLoop<kKind, true, false>(a, x, m, bc, n, out, first, st);
  else
    QuantLoop<kKind, false, false>(a, x, m, bc, n, out, first, st);
}

// Quantizes the n elements x[0..n) with multipliers (div: divisors) m per
// element (bc == 0) or per block of bc elements (bc % VectorLanes() == 0);
// element indices first, first+1, ...
void QuantSegment(const qdetail::QuantArgs& a, bool div, const float* x, const float* m, size_t bc, size_t n,
                  uint8_t* out, uint64_t first, qdetail::SegStats& st) {
  switch (a.p->kind) {
    case detail::kRne:
      if (qdetail::fast_rne_saturate_applies(*a.p))
        return QuantLoopFor<qdetail::kRneSaturate>(a, div, x, m, bc, n, out, first, st);
      return QuantLoopFor<detail::kRne>(a, div, x, m, bc, n, out, first, st);
    case detail::kRna: return QuantLoopFor<detail::kRna>(a, div, x, m, bc, n, out, first, st);
    case detail::kRtz: return QuantLoopFor<detail::kRtz>(a, div, x, m, bc, n, out, first, st);
    case detail::kRup: return QuantLoopFor<detail::kRup>(a, div, x, m, bc, n, out, first, st);
    case detail::kRdn: return QuantLoopFor<detail::kRdn>(a, div, x, m, bc, n, out, first, st);
    case detail::kRto: return QuantLoopFor<detail::kRto>(a, div, x, m, bc, n, out, first, st);
    case detail::kSrExact: return QuantLoopFor<detail::kSrExact>(a, div, x, m, bc, n, out, first, st);
    default: return QuantLoopFor<detail::kSrBits>(a, div, x, m, bc, n, out, first, st);
  }
}

size_t VectorLanes() { return hn::Lanes(DI()); }

// |x| as bits; NaN lanes zeroed unless nan_prop.
HWY_INLINE VI AbsBits(VI xi, bool nan_prop) {
  const DI di;
  const VI a = hn::And(xi, hn::Set(di, 0x7FFFFFFF));
  return nan_prop ? a : hn::IfThenZeroElse(hn::Gt(a, hn::Set(di, 0x7F800000)), a);
}

// Lane j of the result = the max over the lanes of v[j], for 8-lane vectors
// (AVX2): three rounds of interleave-and-max within 128-bit blocks and across
// them, 21 operations for 8 block maxima instead of 8 horizontal reductions.
HWY_INLINE VI MaxOf8Vectors(const VI v[8]) {
  const DI di;
  const hn::Repartition<int64_t, DI> d64;
  // [a0 b0 a1 b1 | a4 b4 a5 b5] max [a2 b2 a3 b3 | a6 b6 a7 b7]
  auto pairs = [&](VI a, VI b) { return hn::Max(hn::InterleaveLower(di, a, b), hn::InterleaveUpper(di, a, b)); };
  // the same on 64-bit lanes: [A B C D | A B C D], each over its block's 4 lanes
  auto quads = [&](VI a, VI b) {
    const auto a64 = hn::BitCast(d64, a), b64 = hn::BitCast(d64, b);
    return hn::Max(hn::BitCast(di, hn::InterleaveLower(d64, a64, b64)),
                   hn::BitCast(di, hn::InterleaveUpper(d64, a64, b64)));
  };
  const VI m0123 = quads(pairs(v[0], v[1]), pairs(v[2], v[3]));
  const VI m4567 = quads(pairs(v[4], v[5]), pairs(v[6], v[7]));
  return hn::Max(hn::ConcatLowerLower(di, m4567, m0123), hn::ConcatUpperUpper(di, m4567, m0123));
}

// Block amaxes (|x| bits) of rows [r0, r1) and columns [c0, c1) (c0 a block
// boundary; c1 a block boundary or the row's end), max-ed into
// grid_row[c / bc]. scratch holds c1 - c0 values.
void AmaxStrip(const float* x, size_t cols, size_t r0, size_t r1, size_t c0, size_t c1, size_t bc, bool nan_prop,
               uint32_t* grid_row, uint32_t* scratch) {
  const DI di;
  const DF df;
  const size_t N = hn::Lanes(di);
  auto scalar_abs = [nan_prop](float v) {
    const uint32_t a = std::bit_cast<uint32_t>(v) & 0x7FFFFFFFu;
    return (a > 0x7F800000u && !nan_prop) ? 0u : a;
  };
  if (bc % N == 0) {
    for (size_t r = r0; r < r1; ++r) {
      const float* row = x + r * cols;
      size_t c = c0;
      if constexpr (hn::MaxLanes(DI()) == 8) {
        // Eight blocks at a time: one vertical max per block, then one
        // transposing reduction for all eight.
        for (; c + 8 * bc <= c1; c += 8 * bc) {
          VI v[8];
          for (size_t k = 0; k < 8; ++k) {
            VI m = hn::Zero(di);
            for (size_t e = 0; e < bc; e += N)
              m = hn::Max(m, AbsBits(hn::BitCast(di, hn::LoadU(df, row + c + k * bc + e)), nan_prop));
            v[k] = m;
          }
          // The eight blocks' grid entries are consecutive: max them in as
          // one vector (|x| bits are non-negative int32).
          int32_t* g = reinterpret_cast<int32_t*>(grid_row + c / bc);
          hn::StoreU(hn::Max(hn::LoadU(di, g), MaxOf8Vectors(v)), di, g);
        }
      }
      for (; c + bc <= c1; c += bc) {
        VI m = hn::Zero(di);
        for (size_t k = 0; k < bc; k += N) m = hn::Max(m, AbsBits(hn::BitCast(di, hn::LoadU(df, row + c + k)), nan_prop));
        const uint32_t v = uint32_t(hn::GetLane(hn::MaxOfLanes(di, m)));
        uint32_t& g = grid_row[c / bc];
        g = std::max(g, v);
      }
      if (c < c1) {  // a partial last block
        uint32_t& g = grid_row[c / bc];
        for (; c < c1; ++c) g = std::max(g, scalar_abs(row[c]));
      }
    }
    return;
  }
  // A running max per column over the strip's rows, then per block.
  const size_t w = c1 - c0;
  std::fill(scratch, scratch + w, 0u);
  for (size_t r = r0; r < r1; ++r) {
    const float* row = x + r * cols + c0;
    size_t c = 0;
    for (; c + N <= w; c += N) {
      int32_t* s = reinterpret_cast<int32_t*>(scratch + c);
      hn::StoreU(hn::Max(hn::LoadU(di, s), AbsBits(hn::BitCast(di, hn::LoadU(df, row + c)), nan_prop)), di, s);
    }
    for (; c < w; ++c) scratch[c] = std::max(scratch[c], scalar_abs(row[c]));
  }
  for (size_t c = 0; c < w; ++c) {
    uint32_t& g = grid_row[(c0 + c) / bc];
    g = std::max(g, scratch[c]);
  }
}

// max |x| (bits) over the non-NaN values.
uint32_t AmaxFlat(const float* x, size_t n) {
  const DI di;
  const DF df;
  const size_t N = hn::Lanes(di);
  VI m0 = hn::Zero(di), m1 = hn::Zero(di);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    m0 = hn::Max(m0, AbsBits(hn::BitCast(di, hn::LoadU(df, x + i)), false));
    m1 = hn::Max(m1, AbsBits(hn::BitCast(di, hn::LoadU(df, x + i + N)), false));
  }
  uint32_t m = uint32_t(hn::GetLane(hn::MaxOfLanes(di, hn::Max(m0, m1))));
  for (; i < n; ++i) {
    const uint32_t a = std::bit_cast<uint32_t>(x[i]) & 0x7FFFFFFFu;
    if (a <= 0x7F800000u) m = std::max(m, a);
  }
  return m;
}

template <bool kTwo>
HWY_NOINLINE void DequantLoop(const detail::ToParams& p, const uint8_t* HWY_RESTRICT in,
                              const float* HWY_RESTRICT s, float ts, size_t n, float* HWY_RESTRICT out) {
  const DI di;
  const DF df;
  const hn::Rebind<uint8_t, DI> d8;
  const size_t N = hn::Lanes(di);
  const hn::Vec<DF> tsv = hn::Set(df, ts);
  const hn::Vec<DF> qnan = hn::BitCast(df, hn::Set(di, 0x7FC00000));
  auto step = [&](VI code, hn::Vec<DF> sv) {
    hn::Vec<DF> v = hn::Mul(hn::BitCast(df, DecodeBlock(p, code)), sv);
    if (kTwo) v = hn::Mul(v, tsv);
    return hn::IfThenElse(hn::IsNaN(v), qnan, v);
  };
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const VI code = hn::BitCast(di, hn::PromoteTo(DU(), hn::LoadU(d8, in + i)));
    hn::StoreU(step(code, hn::LoadU(df, s + i)), df, out + i);
  }
  if (i < n) {
    const size_t rest = n - i;
    HWY_ALIGN uint8_t src[hn::MaxLanes(di)] = {};
    HWY_ALIGN float ss[hn::MaxLanes(di)] = {};
    HWY_ALIGN float dst[hn::MaxLanes(di)];
    std::memcpy(src, in + i, rest);
    std::memcpy(ss, s + i, rest * sizeof(float));
    const VI code = hn::BitCast(di, hn::PromoteTo(DU(), hn::LoadU(d8, src)));
    hn::Store(step(code, hn::Load(df, ss)), df, dst);
    std::memcpy(out + i, dst, rest * sizeof(float));
  }
}

// out[i] = fp32(value(in[i]) * s[i] [* ts]) with NaN as the default NaN.
void DequantSegment(const detail::ToParams& p, const Format&, const uint8_t* in, const float* s, float ts, bool two,
                    size_t n, float* out) {
  if (two)
    DequantLoop<true>(p, in, s, ts, n, out);
  else
    DequantLoop<false>(p, in, s, ts, n, out);
}

#endif  // HWY_TARGET == HWY_SCALAR

// The shared conversion kernel (convert_from_f32 without its per-call
// set-up): block scale codes from a parameter block made once per call.
void ConvertU8(const detail::FromParams& p, const float* in, size_t n, uint8_t* out) {
  FromF32Impl(p, in, n, out, 0, nullptr);
}

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::bulk
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace fpsim::bulk {

HWY_EXPORT(QuantSegment);
HWY_EXPORT(AmaxStrip);
HWY_EXPORT(AmaxFlat);
HWY_EXPORT(DequantSegment);
HWY_EXPORT(ConvertU8);
HWY_EXPORT(VectorLanes);

namespace {

constexpr Format kF32 = formats::fp32;
constexpr uint32_t kInfBits = 0x7F800000u;
// Columns per tile (rounded to whole blocks) and elements per flat chunk.
constexpr size_t kTileCols = 8192;

uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }
float float_of(uint32_t b) { return std::bit_cast<float>(b); }
// Never overflows: a block wider than the tensor (up to SIZE_MAX) is one block.
size_t ceil_div(size_t a, size_t b) { return a / b + (a % b != 0); }

bool is_mx_int(const QuantScheme& s) { return s.kind == ScaleKind::mx && s.element.is_integer(); }

bool is_pow2(float s) {
  const uint32_t b = bits_of(s);
  const uint32_t e = (b >> 23) & 0xFFu;
  return (b & 0x7FFFFFu) == 0 && e != 0 && e != 0xFFu;
}

// --- the scalar definitions, as sim/src/quantize.cpp computes them ---------

bool exceeds_max(Unpacked v, const Format& f) {
  if (v.cls != ValueClass::finite) return false;
  v.sign = false;
  Flags fl;
  (void)round(v, f, RoundingSpec{Rounding::rup, Overflow::ieee}, fl);
  return fl.test(Flags::overflow) || (f.is_integer() && fl.test(Flags::invalid));
}

qdetail::LaneResult round_exact(const Unpacked& v, const QuantScheme& q, uint64_t index) {
  Flags fl;
  const uint8_t code = uint8_t(round(v, q.element, q.rounding, fl, index));
  return {code, exceeds_max(v, q.element)};
}

// x * m exactly, rounded once (MX: m = 2^-k; exact arithmetic: m = s).
qdetail::LaneResult exact_lane(const void* ctx, float x, float m, uint64_t index) {
  const QuantScheme& q = *static_cast<const QuantScheme*>(ctx);
  Flags fl;
  if (std::isnan(x)) return {uint8_t(from_float(x, q.element, q.rounding, fl, index)), false};  // as itself (§3)
  const Unpacked v = fpsim::detail::exact_product(unpack(bits_of(x), kF32), unpack(bits_of(m), kF32), fl);
  return round_exact(v, q, index);
}

// --- element format facts the vector pass relies on -------------------------

struct ElemInfo {
  bool ok = false;
  int32_t fmax_bits = 0;
  int32_t zero_mask = 0, zero_value = 1;  // no zero code: never equal
};

// What to_double gives for every 8-bit ue4m3 code (NVFP4's block scales),
// computed once per process.
const std::array<float, 256>& ue4m3_values() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (uint32_t c = 0; c < 256; ++c) t[c] = float(to_double(c, formats::ue4m3));
    return t;
  }();
  return table;
}

ElemInfo elem_info_uncached(const QuantScheme& q) {
  ElemInfo e;
  const double fmax = element_max(q);
  const float fmax_f = float(fmax);
  if (!(double(fmax_f) == fmax) || !std::isfinite(fmax_f) || !(fmax_f >= 0x1p-126f)) return e;
  e.fmax_bits = int32_t(bits_of(fmax_f));
  // The zero codes as (code & mask) == value: none, one, or two codes that
  // differ in one bit (+0 and -0).
  std::vector<int32_t> zeros;
  for (uint32_t c = 0; c < (1u << q.element.bits); ++c)
    if (element_value(q, uint8_t(c)) == 0.0) zeros.push_back(int32_t(c));
  if (zeros.size() == 1) {
    e.zero_mask = -1;
    e.zero_value = zeros[0];
  } else if (zeros.size() == 2) {
    const int32_t diff = zeros[0] ^ zeros[1];
    if ((diff & (diff - 1)) != 0) return e;
    e.zero_mask = ~diff;
    e.zero_value = zeros[0] & ~diff;
  } else if (!zeros.empty()) {
    return e;
  }
  e.ok = true;
  return e;
}

// elem_info depends on the element format alone (its zero codes and, through
// element_max, its largest value) and costs 256 scalar decodes; a training
// step quantizes dozens of tensors of a handful of formats, so it is kept per
// thread for each format seen.
ElemInfo elem_info(const QuantScheme& q) {
  struct Seen {
    Format element;
    double fmax;
    ElemInfo info;
  };
  thread_local std::vector<Seen> seen;
  const double fmax = element_max(q);
  const Format& f = q.element;
  for (const Seen& s : seen)
    if (s.fmax == fmax && s.element.bits == f.bits && s.element.exp_bits == f.exp_bits &&
        s.element.man_bits == f.man_bits && s.element.bias == f.bias && s.element.specials == f.specials &&
        s.element.has_sign == f.has_sign && s.element.container_shift == f.container_shift)
      return s.info;
  const ElemInfo info = elem_info_uncached(q);
  if (seen.size() < 64) seen.push_back(Seen{f, fmax, info});
  return info;
}

// Whether the bulk path handles the scheme (else fpsim::quantize runs).
bool quantize_supported(const QuantScheme& q, TensorShape shape) {
  if (shape.size() == 0 || q.rounding.daz) return false;
  const Format& f = q.element;
  if (f.is_integer()) return false;  // MXINT8 (2^(6-k) may exceed f32): the scalar definition
  if (!f.has_sign || f.is_scale()) return false;
  if (q.kind == ScaleKind::nvfp4 && q.arith == ScaleArith::exact) return false;
  if (!detail::from_vectorizable(f, q.rounding)) return false;
  return elem_info(q).ok;
}

struct Tiling {
  size_t rows, cols, br, bc, gr, gc, tile;  // tensor, block, grid, columns per tile (whole blocks)
};

Tiling tiling_of(TensorShape shape, BlockShape b, TensorShape grid) {
  Tiling t{shape.rows, shape.cols, b.rows, b.cols, grid.rows, grid.cols, 0};
  t.tile = b.cols >= kTileCols ? b.cols : (kTileCols / b.cols) * b.cols;
  return t;
}

// Calls f(gi, r0, r1, c0, c1) for every tile: block row gi's rows [r0, r1),
// columns [c0, c1) (whole blocks, the last one possibly partial).
template <typename F>
void for_each_tile(const Tiling& t, F&& f) {
  for (size_t gi = 0; gi < t.gr; ++gi) {
    const size_t r0 = gi * t.br, r1 = std::min(t.rows, r0 + t.br);
    for (size_t c0 = 0; c0 < t.cols; c0 += t.tile) f(gi, r0, r1, c0, std::min(t.cols, c0 + t.tile));
  }
}

// Spreads the per-block values of block row gi over columns [c0, c1).
void spread(const Tiling& t, const float* block_vals, size_t gi, size_t c0, size_t c1, float* col) {
  const float* row = block_vals + gi * t.gc;
  for (size_t c = c0; c < c1;) {
    const size_t j = c / t.bc, end = std::min(c1, (j + 1) * t.bc);
    std::fill(col + (c - c0), col + (end - c0), row[j]);
    c = end;
  }
}

// 2^e as a float, e in [-149, 127].
float exp2_float(int e) {
  return e >= -126 ? float_of(uint32_t(e + 127) << 23) : float_of(uint32_t{1} << (e + 149));
}

QuantizedTensor delegate(std::span<const float> input, TensorShape shape, const QuantScheme& q, const float* given) {
  return given ? fpsim::quantize_with_multiplier(input, shape, q, *given) : fpsim::quantize(input, shape, q);
}

// Per-call state of the scale computation (pass 2), filled block range by
// block range.
class Scales {
 public:
  Scales(const QuantScheme& q, const float* given, size_t nblocks, QuantizedTensor& out, std::vector<float>& vals)
      : q_(q), given_(given), out_(out), fmt_max_(element_max(q)), vals_(vals) {
    vals_.resize(nblocks);
    out.scales.resize(nblocks);
    if (q.kind == ScaleKind::mx || q.kind == ScaleKind::nvfp4) out.multipliers.clear();
    switch (q.kind) {
      case ScaleKind::per_tensor:
      case ScaleKind::fp32_block:
        out.scale_format = formats::fp32;
        out.multipliers.resize(nblocks);
        break;
      case ScaleKind::mx:
        out.scale_format = formats::e8m0;
        if (q.e8m0_rule == E8m0Rule::floor) {
          // The floor rule reads only the exponent field of a normal amax.
          for (uint32_t f = 1; f < 255; ++f) floor_code_[f] = e8m0_scale_code(float_of(f << 23), q.e8m0_rule, q);
        } else {
          conv_spec_ = q.e8m0_rule == E8m0Rule::ceil ? RoundingSpec{Rounding::rup, Overflow::saturate}
                                                     : RoundingSpec{Rounding::rne, Overflow::ieee};
          conv_format_ = formats::e8m0;
          divisor_ = float(element_max(q));  // q = fp32(amax / elem_max), as e8m0_scale_code
        }
        break;
      case ScaleKind::nvfp4:
        out.scale_format = formats::ue4m3;
        conv_spec_ = RoundingSpec{Rounding::rne, Overflow::saturate};
        conv_format_ = formats::ue4m3;
        std::copy_n(ue4m3_values().begin(), 128, ue4m3_value_);
        break;
    }
    if (q.kind == ScaleKind::nvfp4 || (q.kind == ScaleKind::mx && q.e8m0_rule != E8m0Rule::floor)) {
      vector_conv_ = detail::from_vectorizable(conv_format_, conv_spec_);
      if (vector_conv_) conv_params_ = detail::from_params(conv_format_, conv_spec_);
    }
  }

  // NVFP4: the tensor's encode scale S_enc from its amax (before any block),
  // TE's order (docs/quantization.md §3).
  void set_tensor_amax(float amax_t) {
    s_enc_ = nvfp4_encode_scale(amax_t);
    out_.tensor_scale = 1.0f / s_enc_;  // the decode side, one FP32 division
    for (uint32_t c = 0; c < 128; ++c) enc_of_code_[c] = s_enc_ / ue4m3_value_[c];
  }

  // Scales of blocks [b0, b1) from their amaxes (|x| bits).
  void compute(const uint32_t* amax, size_t b0, size_t b1) {
    constexpr size_t kChunk = 4096;  // bounds the conversion buffers
    if (b1 - b0 > kChunk) {
      for (size_t b = b0; b < b1; b += kChunk) compute(amax, b, std::min(b1, b + kChunk));
      return;
    }
    switch (q_.kind) {
      case ScaleKind::per_tensor:
      case ScaleKind::fp32_block:
        for (size_t b = b0; b < b1; ++b) {
          const float s =
              given_ ? *given_ : multiplier_from_amax(float_of(amax[b]), fmt_max_, q_.pow2_scales, q_.amax_epsilon);
          out_.multipliers[b] = bits_of(s);
          out_.scales[b] = bits_of(1.0f / s);  // TE's scale_inv, one FP32 division
          vals_[b] = s;
          all_pow2_ = all_pow2_ && is_pow2(s);
        }
        break;
      case ScaleKind::mx: {
        uint8_t* codes = convert(amax, b0, b1);
        for (size_t b = b0; b < b1; ++b) {
          uint8_t code;
          if (codes) {
            code = codes[b - b0];
          } else {
            const uint32_t field = amax[b] >> 23;
            code = field != 0 && field != 255 ? floor_code_[field] : e8m0_scale_code(float_of(amax[b]), q_.e8m0_rule, q_);
          }
          out_.scales[b] = code;
          if (code == 0xFF) {
            ++out_.stats.nan_scale_blocks;
            special_.push_back(b);
            nan_blocks_.push_back(b);
            vals_[b] = std::numeric_limits<float>::quiet_NaN();
          } else {
            vals_[b] = exp2_float(127 - int(code));  // 2^-k, k in [-127, 127]
          }
        }
        break;
      }
      case ScaleKind::nvfp4: {
        const uint8_t* codes = convert(amax, b0, b1);
        for (size_t b = b0; b < b1; ++b) {
          const uint8_t sb = codes[b - b0];
          out_.scales[b] = sb;
          const float sbv = sb < 128 ? ue4m3_value_[sb] : float(to_double(sb, formats::ue4m3));
          // The block's encode scale fp32(S_enc / s_block), from a per-call
          // table of the 128 possible divisions (inf for sbv 0: patched).
          vals_[b] = sb < 128 ? enc_of_code_[sb] : s_enc_ / sbv;
          if (formats::ue4m3.is_nan_code(sb)) {  // a NaN in the block (NaN-propagating amax)
            ++out_.stats.nan_scale_blocks;
            special_.push_back(b);
            nan_blocks_.push_back(b);
            vals_[b] = std::numeric_limits<float>::quiet_NaN();
          } else if (sbv == 0.0f) {
            special_.push_back(b);
            vals_[b] = 1.0f;
          }
        }
        break;
      }
    }
  }

  const std::vector<float>& vals() const { return vals_; }
  const std::vector<size_t>& special() const { return special_; }
  bool nan_block(size_t b) const { return std::binary_search(nan_blocks_.begin(), nan_blocks_.end(), b); }
  bool all_pow2() const { return all_pow2_; }

 private:
  // MX ceil / rne and NVFP4: the codes of fp32(amax / divisor) converted
  // into the scale format, or nullptr for the MX floor rule.
  uint8_t* convert(const uint32_t* amax, size_t b0, size_t b1) {
    if (q_.kind == ScaleKind::mx && q_.e8m0_rule == E8m0Rule::floor) return nullptr;
    const size_t n = b1 - b0;
    quot_.resize(n);
    codes_.resize(n);
    if (q_.kind == ScaleKind::nvfp4) {
      for (size_t k = 0; k < n; ++k) quot_[k] = (float_of(amax[b0 + k]) / 6.0f) * s_enc_;  // TE's order
    } else {
      for (size_t k = 0; k < n; ++k) quot_[k] = float_of(amax[b0 + k]) / divisor_;
    }
    if (vector_conv_) {
      HWY_DYNAMIC_DISPATCH(ConvertU8)(conv_params_, quot_.data(), n, codes_.data());
    } else {
      for (size_t k = 0; k < n; ++k) {
        Flags fl;
        codes_[k] = uint8_t(from_float(quot_[k], conv_format_, conv_spec_, fl));
      }
    }
    return codes_.data();
  }

  const QuantScheme& q_;
  const float* given_;
  QuantizedTensor& out_;
  double fmt_max_;
  std::vector<float>& vals_;  // the workspace's
  std::vector<size_t> special_;
  std::vector<size_t> nan_blocks_;  // ascending
  bool all_pow2_ = true;
  float s_enc_ = 1.0f;
  float divisor_ = 1.0f;
  uint8_t floor_code_[256] = {};
  float ue4m3_value_[128] = {};
  float enc_of_code_[128] = {};  // fp32(S_enc / value of ue4m3 code c)
  Format conv_format_ = formats::e8m0;
  RoundingSpec conv_spec_;
  bool vector_conv_ = false;
  detail::FromParams conv_params_{};
  std::vector<float> quot_;
  std::vector<uint8_t> codes_;
};

// Per-thread scratch reused across calls: a training step quantizes tensors
// of the same shapes again and again, and fresh multi-megabyte buffers cost
// a page fault per 4 KiB on every call.
struct Workspace {
  std::vector<float> rotated;
  std::vector<uint32_t> amax;
  std::vector<float> vals;
  std::vector<float> dequantized;
  std::vector<float> dequant_vals;  // dequantize_into's per-block scale values
};
Workspace& workspace() {
  thread_local Workspace w;
  return w;
}

void quantize_impl(std::span<const float> input, TensorShape shape, const QuantScheme& q, const float* given,
                   QuantizedTensor& out) {
  const TensorShape grid = fpsim::detail::check_quantize_args(input.size(), shape, q);
  if (!quantize_supported(q, shape)) {
    out = delegate(input, shape, q, given);
    return;
  }
  const bool multiplier_kind = q.kind == ScaleKind::per_tensor || q.kind == ScaleKind::fp32_block;
  // Exact products with multipliers that need not be powers of two: the
  // scalar definition for the whole call.
  if (multiplier_kind && q.arith == ScaleArith::exact && !(given ? is_pow2(*given) : q.pow2_scales)) {
    out = delegate(input, shape, q, given);
    return;
  }

  // Reset every field, keeping the vectors' storage.
  out.scale_grid = grid;
  out.shape = shape;
  out.scheme = q;
  out.stats = QuantStats{};
  out.tensor_scale = 1.0f;
  // scales / multipliers: resized by Scales and overwritten block by block.
  const QuantScheme& sq = out.scheme;  // outlives the kernels' pointers into it
  Workspace& ws = workspace();
  std::span<const float> x = input;
  if (q.hadamard) {
    ws.rotated.assign(input.begin(), input.end());
    bulk::hadamard_transform(ws.rotated, shape, fpsim::detail::hadamard_axis(q), q.hadamard_seed);
    x = ws.rotated;
  }
  const size_t n = x.size();
  out.elements.resize(n);
  out.stats.elements = n;

  const bool per_tensor = q.kind == ScaleKind::per_tensor;
  // MX and NVFP4 block amaxes propagate NaN (the block's scale becomes NaN).
  const bool nan_prop = q.kind == ScaleKind::mx || q.kind == ScaleKind::nvfp4;
  const bool div = false;  // every scheme multiplies (NVFP4 by its block encode scale, TE's order)
  const BlockShape blk = per_tensor ? BlockShape{shape.rows, shape.cols} : q.block;
  const Tiling tl = tiling_of(shape, blk, grid);
  const size_t nblocks = grid.rows * grid.cols;
  std::vector<uint32_t>& amax = ws.amax;
  amax.assign(nblocks, 0u);
  Scales scales(sq, given, nblocks, out, ws.vals);

  const detail::FromParams params = detail::from_params(sq.element, sq.rounding);
  const ElemInfo ei = elem_info(q);
  qdetail::QuantArgs args{};
  args.p = &params;
  args.exact_first = q.kind == ScaleKind::mx || q.arith == ScaleArith::exact;
  args.ctx = &sq;
  args.exact = exact_lane;
  args.fmax_bits = ei.fmax_bits;
  args.zero_mask = ei.zero_mask;
  args.zero_value = ei.zero_value;
  qdetail::SegStats st;
  auto seg = HWY_DYNAMIC_DISPATCH(QuantSegment);
  auto amax_strip = HWY_DYNAMIC_DISPATCH(AmaxStrip);
  std::vector<uint32_t> scratch(std::min(tl.tile, tl.cols));
  std::vector<float> col(per_tensor ? 0 : std::min(tl.tile, tl.cols));
  auto tile_amax = [&](size_t gi, size_t r0, size_t r1, size_t c0, size_t c1) {
    amax_strip(x.data(), tl.cols, r0, r1, c0, c1, tl.bc, nan_prop, amax.data() + gi * tl.gc, scratch.data());
  };
  auto tile_blocks = [&](size_t gi, size_t c0, size_t c1) {
    return std::pair<size_t, size_t>{gi * tl.gc + c0 / tl.bc, gi * tl.gc + ceil_div(c1, tl.bc)};
  };
  // Blocks a whole number of vectors wide take their multiplier per block;
  // others get it spread over a per-column array.
  const size_t lanes = HWY_DYNAMIC_DISPATCH(VectorLanes)();
  const bool per_block = tl.bc % lanes == 0;
  auto tile_round = [&](size_t gi, size_t r0, size_t r1, size_t c0, size_t c1) {
    const float* m = scales.vals().data() + gi * tl.gc + c0 / tl.bc;
    if (!per_block) {
      spread(tl, scales.vals().data(), gi, c0, c1, col.data());
      m = col.data();
    }
    for (size_t r = r0; r < r1; ++r) {
      const size_t off = r * tl.cols + c0;
      seg(args, div, x.data() + off, m, per_block ? tl.bc : 0, c1 - c0, out.elements.data() + off, off, st);
    }
  };
  // The tensor's non-NaN amax (an MX block holding a NaN: its other values).
  auto tensor_amax = [&]() {
    uint32_t m = 0;
    for (size_t b = 0; b < nblocks; ++b) {
      if (amax[b] <= kInfBits) {
        m = std::max(m, amax[b]);
        continue;
      }
      const size_t gi = b / tl.gc, gj = b % tl.gc;
      for (size_t r = gi * tl.br; r < std::min(tl.rows, (gi + 1) * tl.br); ++r)
        for (size_t c = gj * tl.bc; c < std::min(tl.cols, (gj + 1) * tl.bc); ++c) {
          const uint32_t a = bits_of(x[r * tl.cols + c]) & 0x7FFFFFFFu;
          if (a <= kInfBits) m = std::max(m, a);
        }
    }
    return float_of(m);
  };

  if (per_tensor) {
    amax[0] = HWY_DYNAMIC_DISPATCH(AmaxFlat)(x.data(), n);
    out.stats.amax = float_of(amax[0]);
    scales.compute(amax.data(), 0, 1);
    for (size_t off = 0; off < n; off += kTileCols)  // one block per chunk (kTileCols % lanes == 0)
      seg(args, div, x.data() + off, scales.vals().data(), kTileCols, std::min(kTileCols, n - off),
          out.elements.data() + off, off, st);
  } else if (q.kind == ScaleKind::nvfp4) {
    // The block scales depend on the tensor's amax: two passes.
    for_each_tile(tl, tile_amax);
    out.stats.amax = tensor_amax();
    scales.set_tensor_amax(out.stats.amax);
    scales.compute(amax.data(), 0, nblocks);
    for_each_tile(tl, tile_round);
  } else {
    // MX, FP32 blocks: amax, scales and elements tile by tile, in cache.
    for_each_tile(tl, [&](size_t gi, size_t r0, size_t r1, size_t c0, size_t c1) {
      tile_amax(gi, r0, r1, c0, c1);
      const auto [b0, b1] = tile_blocks(gi, c0, c1);
      scales.compute(amax.data(), b0, b1);
      tile_round(gi, r0, r1, c0, c1);
    });
    out.stats.amax = tensor_amax();
  }
  if (q.arith == ScaleArith::exact && !scales.all_pow2()) {  // not reached
    out = delegate(input, shape, q, given);
    return;
  }

  // Special blocks: take back what the vector pass counted, then apply the
  // scalar definition (MX NaN scale: round(+NaN), no underflows or
  // saturations (MX and NVFP4); zero NVFP4 block scale: +-0 for finite x, round(x)
  // otherwise, non-zero inputs underflow).
  const std::vector<float>& vals = scales.vals();
  for (size_t b : scales.special()) {
    const bool nan_scale = scales.nan_block(b);
    const size_t gi = b / tl.gc, gj = b % tl.gc;
    for (size_t r = gi * tl.br; r < std::min(tl.rows, (gi + 1) * tl.br); ++r)
      for (size_t c = gj * tl.bc; c < std::min(tl.cols, (gj + 1) * tl.bc); ++c) {
        const size_t i = r * tl.cols + c;
        const float xi = x[i];
        qdetail::SegStats vec;  // what the vector pass counted for this element
        bool unused;
        (void)qdetail::scalar_lane(args, div, xi, vals[b], i, vec, unused);
        const uint8_t old = out.elements[i];
        const uint32_t ax = bits_of(xi) & 0x7FFFFFFFu;
        const bool x_nz = ax < kInfBits && ax != 0;
        st.sat -= vec.sat;
        st.under -= x_nz && (int32_t(old) & ei.zero_mask) == ei.zero_value;
        Flags fl;
        Unpacked v;
        if (nan_scale) {
          v.cls = ValueClass::quiet_nan;
        } else {
          v = unpack(bits_of(xi), kF32);
          if (v.cls == ValueClass::finite) v.cls = ValueClass::zero;
        }
        const uint8_t code = uint8_t(round(v, q.element, q.rounding, fl, i));
        out.elements[i] = code;
        if (!nan_scale) st.under += x_nz && element_value(q, code) == 0.0;
      }
  }
  out.stats.nan_inputs = st.nan;
  out.stats.inf_inputs = st.inf;
  out.stats.saturated = st.sat;
  out.stats.underflows = st.under;
  if (q.error_stats) {
    ws.dequantized.resize(n);
    fpsim::bulk::dequantize_into(out, ws.dequantized);
    fpsim::detail::error_stats(x, ws.dequantized, out.stats);
  }
}

// --- dequantization -----------------------------------------------------------

bool same_format(const Format& a, const Format& b) {
  return a.bits == b.bits && a.exp_bits == b.exp_bits && a.man_bits == b.man_bits && a.bias == b.bias &&
         a.specials == b.specials && a.has_sign == b.has_sign && a.container_shift == b.container_shift;
}

bool dequantize_supported(const QuantizedTensor& q) {
  const QuantScheme& s = q.scheme;
  const size_t n = q.shape.size();
  if (n == 0 || q.elements.size() != n) return false;
  if (s.kind == ScaleKind::per_tensor) {
    if (q.scale_grid != TensorShape{1, 1}) return false;
  } else {
    if (s.block.rows == 0 || s.block.cols == 0) return false;
    if (q.scale_grid != TensorShape{ceil_div(q.shape.rows, s.block.rows), ceil_div(q.shape.cols, s.block.cols)})
      return false;
  }
  if (q.scales.size() != q.scale_grid.size()) return false;
  switch (s.kind) {
    case ScaleKind::per_tensor:
    case ScaleKind::fp32_block:
      if (!same_format(q.scale_format, formats::fp32)) return false;
      break;
    case ScaleKind::mx:
      if (!same_format(q.scale_format, formats::e8m0)) return false;
      break;
    case ScaleKind::nvfp4:
      if (!same_format(q.scale_format, formats::ue4m3)) return false;
      break;
  }
  const Format& f = s.element;
  if (f.bits > 8) return false;
  if (f.is_integer()) return is_mx_int(s) && f.bits == 8;
  if (!detail::to_vectorizable(f)) return false;
  if (s.kind == ScaleKind::nvfp4) {
    // element * block scale must be exact in f32 (then one rounding by the
    // tensor scale): precision M+1 + 4 <= 24, values within the normal range.
    const double top = to_double(f.max_code(), f) * 448.0;
    const double low = std::ldexp(1.0, f.emin() - f.man_bits) * std::ldexp(1.0, -9);
    if (f.man_bits + 1 + 4 > 24 || !(top < 0x1p127) || !(low >= 0x1p-126)) return false;
  }
  return true;
}

}  // namespace

void quantize_into(std::span<const float> x, TensorShape shape, const QuantScheme& scheme, QuantizedTensor& out) {
  quantize_impl(x, shape, scheme, nullptr, out);
}

QuantizedTensor quantize(std::span<const float> x, TensorShape shape, const QuantScheme& scheme) {
  QuantizedTensor out;
  quantize_impl(x, shape, scheme, nullptr, out);
  return out;
}

QuantizedTensor quantize_with_multiplier(std::span<const float> x, TensorShape shape, const QuantScheme& scheme,
                                         float multiplier) {
  if (scheme.kind != ScaleKind::per_tensor || !(multiplier > 0.0f) || !std::isfinite(multiplier))
    return fpsim::quantize_with_multiplier(x, shape, scheme, multiplier);  // throws the scalar code's error
  QuantizedTensor out;
  quantize_impl(x, shape, scheme, &multiplier, out);
  return out;
}

std::vector<float> dequantize(const QuantizedTensor& q) {
  std::vector<float> out(q.elements.size());
  dequantize_into(q, out);
  return out;
}

void dequantize_into(const QuantizedTensor& q, std::span<float> out) {
  if (out.size() != q.elements.size()) {
    std::string msg = "dequantize_into: the output has ";
    msg.append(std::to_string(out.size())).append(" values, the tensor ").append(std::to_string(q.elements.size()));
    throw OptionError(msg);
  }
  if (!dequantize_supported(q)) {
    const std::vector<float> v = fpsim::dequantize(q);
    std::copy(v.begin(), v.end(), out.begin());
    return;
  }
  const QuantScheme& s = q.scheme;
  const size_t n = q.elements.size();
  const bool per_tensor = s.kind == ScaleKind::per_tensor;
  const BlockShape blk = per_tensor ? BlockShape{q.shape.rows, q.shape.cols} : s.block;
  const Tiling tl = tiling_of(q.shape, blk, q.scale_grid);
  const size_t nblocks = q.scales.size();
  std::vector<float>& vals = workspace().dequant_vals;
  vals.resize(nblocks);
  const float* ue4m3_table = ue4m3_values().data();
  for (size_t b = 0; b < nblocks; ++b) {
    switch (s.kind) {
      case ScaleKind::per_tensor:
      case ScaleKind::fp32_block:
        vals[b] = float_of(q.scales[b]);
        break;
      case ScaleKind::mx:
        vals[b] = q.scales[b] == 0xFF ? std::numeric_limits<float>::quiet_NaN()
                                      : exp2_float(int(q.scales[b]) - 127 - (is_mx_int(s) ? 6 : 0));
        break;
      case ScaleKind::nvfp4:
        vals[b] = q.scales[b] < 256 ? ue4m3_table[q.scales[b]] : float(to_double(q.scales[b], formats::ue4m3));
        break;
    }
  }
  if (is_mx_int(s)) {  // code * 2^-6 * 2^k as one f32 product of exact factors
    for (size_t i = 0; i < n; ++i) {
      const size_t r = i / tl.cols, c = i % tl.cols;
      const float v = float(int8_t(q.elements[i])) * vals[(r / tl.br) * tl.gc + c / tl.bc];
      out[i] = std::isnan(v) ? std::numeric_limits<float>::quiet_NaN() : v;
    }
    return;
  }
  const detail::ToParams tp = detail::to_params(s.element);
  const bool two = s.kind == ScaleKind::nvfp4;
  const float ts = q.tensor_scale;
  auto seg = HWY_DYNAMIC_DISPATCH(DequantSegment);
  if (per_tensor) {
    std::vector<float> col(std::min(n, kTileCols), vals[0]);
    for (size_t off = 0; off < n; off += kTileCols)
      seg(tp, s.element, q.elements.data() + off, col.data(), ts, two, std::min(kTileCols, n - off), out.data() + off);
    return;
  }
  std::vector<float> col(std::min(tl.tile, tl.cols));
  for_each_tile(tl, [&](size_t gi, size_t r0, size_t r1, size_t c0, size_t c1) {
    spread(tl, vals.data(), gi, c0, c1, col.data());
    for (size_t r = r0; r < r1; ++r) {
      const size_t off = r * tl.cols + c0;
      seg(tp, s.element, q.elements.data() + off, col.data(), ts, two, c1 - c0, out.data() + off);
    }
  });
}

}  // namespace fpsim::bulk
#endif  // HWY_ONCE
