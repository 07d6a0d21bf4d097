// The element and amax kernels of bulk quantization, as a Highway per-target
// header (the pattern of round_kernel-inl.h): included by quantize_bulk.cpp
// after round_kernel-inl.h, once per target through foreach_target.h; the
// orchestration that calls them (tiles, scales, special blocks) stays in
// quantize_bulk.cpp, whose header comment describes the passes and why
// rounding t = x * m is the scalar definition.
//
//  - QuantSegment: t = x * m in FP32, the shared rounding kernel, and the
//    statistics (nan / inf inputs, saturations, underflows) in one pass;
//    lanes the vector pass cannot finish go to the scalar core (FixLanes,
//    RareLanes).
//  - AmaxStrip, AmaxFlat: block and tensor amaxes as |x| bits.
//
// Per-target include guard (Highway convention): toggled for every target.
#if defined(FPSIM_BULK_QUANTIZE_KERNELS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef FPSIM_BULK_QUANTIZE_KERNELS_INL_H_
#undef FPSIM_BULK_QUANTIZE_KERNELS_INL_H_
#else
#define FPSIM_BULK_QUANTIZE_KERNELS_INL_H_
#endif

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <hwy/highway.h>

#include "fpsim/convert.hpp"
#include "fpsim/flags.hpp"
#include "kernel_params.hpp"
#include "quantize_lane.hpp"
#include "round_kernel-inl.h"

HWY_BEFORE_NAMESPACE();
namespace fpsim::bulk {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR

void QuantSegment(const qdetail::QuantArgs& a, const float* x, const float* m, size_t bc, size_t n, uint8_t* out,
                  uint64_t first, qdetail::SegStats& st) {
  for (size_t i = 0; i < n; ++i) out[i] = qdetail::scalar_lane(a, x[i], bc ? m[i / bc] : m[i], first + i, st);
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

// One vector of elements: t = x * m, codes, and the counts (lanes
// outside `valid` are not counted). A finite t comes from a finite x (m is
// finite and non-zero, or NaN in an MX NaN-scale block, or an NVFP4 block
// encode scale that overflowed to inf), so the common path counts |t| > max as saturated
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

template <int kKind, bool kLean, bool kTail>
HWY_INLINE VI QuantStep(const qdetail::QuantArgs& a, const detail::FromParams& p, const PhiloxTable& table, VI xi,
                        hn::Vec<DF> mv, uint64_t idx, MI valid, Counters& c, uint64_t& extra_sat) {
  const DI di;
  const DF df;
  const VI zero = hn::Zero(di);
  const VI abs_mask = hn::Set(di, 0x7FFFFFFF);
  const hn::Vec<DF> xf = hn::BitCast(df, xi);
  const VI ti = hn::BitCast(di, hn::Mul(xf, mv));
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
template <int kKind, bool kLean>
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
      QuantStep<kKind, kLean, true>(a, p, table, xi, mv, first + i, hn::FirstN(di, rest), c, extra_sat);
  StoreCodes(code, dst);
  std::memcpy(out + i, dst, rest);
}

// m: per element (bc == 0) or per block of bc elements (bc a multiple of the
// vector length).
template <int kKind, bool kLean>
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
      StoreCodes(QuantStep<kKind, kLean, false>(a, p, table, xi, hn::LoadU(df, m + i), first + i, all, c,
                                                      extra_sat),
                 out + i);
    }
    if (i < n) {
      HWY_ALIGN float ms[hn::MaxLanes(di)];
      for (size_t j = 0; j < N; ++j) ms[j] = 1.0f;
      std::memcpy(ms, m + i, (n - i) * sizeof(float));
      QuantTail<kKind, kLean>(a, p, table, x, i, n - i, hn::Load(df, ms), out, first, c, extra_sat);
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
        StoreCodes(QuantStep<kKind, kLean, false>(a, p, table, x0, mv, first + i, all, c, extra_sat), out + i);
        StoreCodes(QuantStep<kKind, kLean, false>(a, p, table, x1, mv, first + i + N, all, c, extra_sat),
                   out + i + N);
      }
    }
    for (; i < n; ++j) {
      const size_t end = std::min(n, i + bc);
      const hn::Vec<DF> mv = hn::Set(df, m[j]);
      for (; i + N <= end; i += N) {
        const VI xi = hn::BitCast(di, hn::LoadU(df, x + i));
        StoreCodes(QuantStep<kKind, kLean, false>(a, p, table, xi, mv, first + i, all, c, extra_sat), out + i);
      }
      if (i < end) {
        QuantTail<kKind, kLean>(a, p, table, x, i, end - i, mv, out, first, c, extra_sat);
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
void QuantLoopFor(const qdetail::QuantArgs& a, const float* x, const float* m, size_t bc, size_t n, uint8_t* out,
                  uint64_t first, qdetail::SegStats& st) {
  const detail::FromParams& p = *a.p;
  if (LeanApplies(p))
    QuantLoop<kKind, true>(a, x, m, bc, n, out, first, st);
  else
    QuantLoop<kKind, false>(a, x, m, bc, n, out, first, st);
}

// Quantizes the n elements x[0..n) with multipliers m per element (bc == 0)
// or per block of bc elements (bc % VectorLanes() == 0); element indices
// first, first+1, ...
void QuantSegment(const qdetail::QuantArgs& a, const float* x, const float* m, size_t bc, size_t n, uint8_t* out,
                  uint64_t first, qdetail::SegStats& st) {
  switch (a.p->kind) {
    case detail::kRne:
      if (qdetail::fast_rne_saturate_applies(*a.p))
        return QuantLoopFor<qdetail::kRneSaturate>(a, x, m, bc, n, out, first, st);
      return QuantLoopFor<detail::kRne>(a, x, m, bc, n, out, first, st);
    case detail::kRna: return QuantLoopFor<detail::kRna>(a, x, m, bc, n, out, first, st);
    case detail::kRtz: return QuantLoopFor<detail::kRtz>(a, x, m, bc, n, out, first, st);
    case detail::kRup: return QuantLoopFor<detail::kRup>(a, x, m, bc, n, out, first, st);
    case detail::kRdn: return QuantLoopFor<detail::kRdn>(a, x, m, bc, n, out, first, st);
    case detail::kRto: return QuantLoopFor<detail::kRto>(a, x, m, bc, n, out, first, st);
    case detail::kSrExact: return QuantLoopFor<detail::kSrExact>(a, x, m, bc, n, out, first, st);
    default: return QuantLoopFor<detail::kSrBits>(a, x, m, bc, n, out, first, st);
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

#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::bulk
HWY_AFTER_NAMESPACE();

#endif  // FPSIM_BULK_QUANTIZE_KERNELS_INL_H_
