// The per-lane rounding kernel of sim/bulk (f32 lanes -> codes of any format
// of <= 16 bits, bit-identical to fpsim::from_float) and the decoding kernel
// (codes -> f32), as a Highway per-target header: included by every
// translation unit that instantiates them (convert_bulk.cpp, quantize_bulk.cpp
// through quantize_kernels-inl.h, dequantize_bulk.cpp) after <hwy/highway.h>,
// once per target through foreach_target.h. The
// algorithm is described at the top of convert_bulk.cpp.
//
// Per-target include guard (Highway convention): toggled for every target.
#if defined(FPSIM_BULK_ROUND_KERNEL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef FPSIM_BULK_ROUND_KERNEL_INL_H_
#undef FPSIM_BULK_ROUND_KERNEL_INL_H_
#else
#define FPSIM_BULK_ROUND_KERNEL_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include "fpsim/convert.hpp"
#include "fpsim/flags.hpp"
#include "kernel_params.hpp"

HWY_BEFORE_NAMESPACE();
namespace fpsim::bulk {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR
// One-lane vectors buy nothing here: use the scalar core directly.
template <typename TOut>
void FromF32Impl(const detail::FromParams& p, const float* in, size_t n, TOut* out, uint64_t first,
                 uint32_t* flags_out) {
  uint32_t acc = 0;
  for (size_t i = 0; i < n; ++i) {
    Flags f;
    out[i] = TOut(fpsim::from_float(in[i], *p.format, *p.spec, f, first + i));
    acc |= f.bits;
  }
  if (flags_out) *flags_out |= acc;
}
template <typename TIn>
void ToF32Impl(const detail::ToParams&, const Format& from, const TIn* in, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    Flags ignored;
    out[i] = fpsim::to_float(in[i], from, RoundingSpec{}, ignored);
  }
}
#else

using DF = hn::ScalableTag<float>;
using DI = hn::RebindToSigned<DF>;
using DU = hn::RebindToUnsigned<DF>;
using DU64 = hn::Repartition<uint64_t, DU>;
using VI = hn::Vec<DI>;
using VU = hn::Vec<DU>;
using VU64 = hn::Vec<DU64>;
using MI = hn::Mask<DI>;

// The stochastic-rounding stream (fpsim/philox.hpp; docs/conversion-semantics.md,
// "sr"): element i's first random word is word (i mod 4) of the Philox4x32-10
// block of group i div 4, counter (g lo, g hi, step, 0). One block serves
// four elements.
// The Philox constants as full vectors in memory: loads fold into the
// instructions that use them, where broadcasts inside the loop would not.
struct PhiloxTable {
  HWY_ALIGN uint64_t key0[10][hn::MaxLanes(DU64())];
  HWY_ALIGN uint64_t key1[10][hn::MaxLanes(DU64())];
  HWY_ALIGN uint64_t hi_k0[hn::MaxLanes(DU64())];
  HWY_ALIGN uint64_t lo_p1[hn::MaxLanes(DU64())];
  HWY_ALIGN uint64_t m0[hn::MaxLanes(DU64())];
  HWY_ALIGN uint64_t m1[hn::MaxLanes(DU64())];
};

HWY_INLINE void FillPhiloxTable(const detail::FromParams& p, PhiloxTable& t) {
  const DU64 d64;
  for (int r = 0; r < 10; ++r) {
    hn::Store(hn::Set(d64, p.key0[r]), d64, t.key0[r]);
    hn::Store(hn::Set(d64, p.key1[r]), d64, t.key1[r]);
  }
  hn::Store(hn::Set(d64, (p.step_product >> 32) ^ p.key0[0]), d64, t.hi_k0);
  hn::Store(hn::Set(d64, p.step_product), d64, t.lo_p1);
  hn::Store(hn::Set(d64, uint64_t{0xD2511F53u}), d64, t.m0);
  hn::Store(hn::Set(d64, uint64_t{0xCD9E8D57u}), d64, t.m1);
}

// The random words of the 2N * kChains elements of the groups g0, g0 + 1, ...
// (N = u32 lanes; elements 4 g0, 4 g0 + 1, ...), written in element order to
// `words`: kChains Philox chains of one group per u64 lane (each 32-bit word
// in the low half of a u64 lane; the high halves collect garbage that
// MulEven never reads), interleaved round by round for instruction-level
// parallelism. Round 1 uses that (step, 0) is the same for every group.
template <int kChains>
HWY_INLINE void GroupWords(const PhiloxTable& t, uint64_t g0, uint32_t* HWY_RESTRICT words) {
  const DU du;
  const DU64 d64;
  const hn::Repartition<uint32_t, DU64> d32;
  const auto m0 = hn::BitCast(d32, hn::Load(d64, t.m0));
  const auto m1 = hn::BitCast(d32, hn::Load(d64, t.m1));
  const size_t n64 = hn::Lanes(d64);
  VU64 c0[kChains], c1[kChains], c2[kChains], c3[kChains];
  const VU64 kk1 = hn::Load(d64, t.key1[0]);
  const VU64 hi_k0 = hn::Load(d64, t.hi_k0);
  const VU64 lo_p1 = hn::Load(d64, t.lo_p1);
  for (int c = 0; c < kChains; ++c) {
    const VU64 idx = hn::Iota(d64, g0 + uint64_t(c) * n64);
    const VU64 p0 = hn::MulEven(hn::BitCast(d32, idx), m0);
    c0[c] = hn::Xor(hn::ShiftRight<32>(idx), hi_k0);
    c1[c] = lo_p1;
    c2[c] = hn::Xor(hn::ShiftRight<32>(p0), kk1);
    c3[c] = p0;
  }
  for (int round = 1; round < 10; ++round) {
    const VU64 key0 = hn::Load(d64, t.key0[round]);
    const VU64 key1 = hn::Load(d64, t.key1[round]);
    for (int c = 0; c < kChains; ++c) {
      const VU64 p0 = hn::MulEven(hn::BitCast(d32, c0[c]), m0);
      const VU64 p1 = hn::MulEven(hn::BitCast(d32, c2[c]), m1);
      c0[c] = hn::Xor(hn::Xor(hn::ShiftRight<32>(p1), c1[c]), key0);
      c2[c] = hn::Xor(hn::Xor(hn::ShiftRight<32>(p0), c3[c]), key1);
      c1[c] = p1;
      c3[c] = p0;
    }
  }
  // Per group, (w0, w1) and (w2, w3) as u64 lanes; stored interleaved they
  // are the words in element order.
  for (int c = 0; c < kChains; ++c) {
    const VU64 w01 = hn::BitCast(d64, hn::OddEven(hn::BitCast(du, hn::ShiftLeft<32>(c1[c])), hn::BitCast(du, c0[c])));
    const VU64 w23 = hn::BitCast(d64, hn::OddEven(hn::BitCast(du, hn::ShiftLeft<32>(c3[c])), hn::BitCast(du, c2[c])));
    hn::StoreInterleaved2(w01, w23, d64, reinterpret_cast<uint64_t*>(words + size_t(c) * 2 * hn::Lanes(du)));
  }
}

// The random words of the N elements first, first + 1, ...: one chain covers
// 2N elements from the group of `first`, enough for any first (N >= 4).
HWY_INLINE VU ElementWords(const PhiloxTable& t, uint64_t first) {
  HWY_ALIGN uint32_t words[2 * hn::MaxLanes(DU())];
  GroupWords<1>(t, first >> 2, words);
  return hn::LoadU(DU(), words + (first & 3));
}

struct Disc {
  VI kept, rem, half;
};

// Splits sig * 2^qi at quantum 2^(qi + d): kept units, discarded remainder
// and half a unit. kDPositive: the caller knows d > 0 in every lane (the
// simple front end: d >= 23 - M >= 10, from_vectorizable's M <= 13), so no
// bits move left and d needs no lower clamp.
template <bool kDPositive = false>
HWY_INLINE Disc Discard(VI sig, VI d) {
  const DI di;
  const VI zero = hn::Zero(di);
  const VI dr = hn::Min(kDPositive ? d : hn::Max(d, zero), hn::Set(di, 30));
  const VI unit = hn::Set(di, 1) << dr;
  Disc r;
  if constexpr (kDPositive) {
    r.kept = sig >> dr;
  } else {
    const VI dl = hn::Max(hn::Sub(zero, d), zero);
    r.kept = (sig << dl) >> dr;
  }
  r.rem = hn::And(sig, hn::Sub(unit, hn::Set(di, 1)));
  r.half = hn::ShiftRight<1>(unit);
  return r;
}

template <int kKind>
HWY_INLINE MI Away(const Disc& s, MI exact, VI odd, MI neg, MI drawn) {
  const DI di;
  switch (kKind) {
    case detail::kRne:  // rem > half, or rem == half and the code is odd
      return hn::AndNot(exact, hn::Gt(hn::Add(s.rem, odd), s.half));
    case detail::kRna:
      return hn::AndNot(exact, hn::Not(hn::Lt(s.rem, s.half)));
    case detail::kRtz:
      return hn::FirstN(di, 0);
    case detail::kRup:
      return hn::Not(hn::Or(exact, neg));
    case detail::kRdn:
      return hn::AndNot(exact, neg);
    case detail::kRto:
      return hn::AndNot(exact, hn::Eq(odd, hn::Zero(di)));
    default:  // sr
      return hn::AndNot(exact, drawn);
  }
}

// Parity (0/1) of the code with `kept` units of quantum 2^q, q = above +
// emin - M - q_back (code_is_odd). With M = 0 the last code bit is the
// exponent's.
HWY_INLINE VI Odd(const detail::FromParams& p, VI kept, VI above, int q_back) {
  const DI di;
  const VI one = hn::Set(di, 1);
  if (p.man > 0) return hn::And(kept, one);
  const VI q_plus_bias = hn::Add(above, hn::Set(di, p.emin - p.man - q_back + p.bias));
  return hn::IfThenZeroElse(hn::Eq(kept, hn::Zero(di)), hn::And(q_plus_bias, one));
}

HWY_INLINE VI PerSign(MI neg, const int32_t v[2]) {
  const DI di;
  return hn::IfThenElse(neg, hn::Set(di, v[1]), hn::Set(di, v[0]));
}

// Whether RoundBlock's kLean instance may run for p (its caller adds: no
// flags wanted).
HWY_INLINE bool LeanApplies(const detail::FromParams& p) {
  return p.simple && p.man > 0 && p.man <= 13 && p.code_adj == 0 && !p.ftz;
}

// Rounds the N floats at bits `x` (element indices first ...). Returns the
// codes; `fl` receives per-lane flags when want_flags; `fallback` marks lanes
// the scalar core must redo.
// kLean: the common case compiled without its branches: the simple front
// end, 0 < M <= 13 (so d >= 10, see Discard), no flags and no ftz (so no
// tininess).
template <int kKind, bool kLean>
HWY_INLINE VI RoundBlock(const detail::FromParams& p, const PhiloxTable& table, VI xi, uint64_t first,
                         bool want_flags, VI& fl, MI& fallback, bool have_words = false, VU w_in = VU()) {
  const DI di;
  const DU du;
  const DF df;
  const VI zero = hn::Zero(di);
  const VI one = hn::Set(di, 1);
  const VI A = hn::And(xi, hn::Set(di, 0x7FFFFFFF));
  const VI E = hn::ShiftRight<23>(A);
  const MI neg_in = hn::Lt(xi, zero);
  const MI neg = hn::Lt(hn::And(xi, hn::Set(di, p.has_sign ? int32_t(0x80000000u) : 0)), zero);
  // sig, d (discarded bits), above = max(e, emin) - emin, and where the
  // input lies relative to the target's normal range.
  VI sig, d, above;
  MI tiny_in, boundary;
  if (kLean || p.simple) {
    // emin >= -126: an f32 subnormal is below the target's normal range (or,
    // for emin = -126, reads correctly as exponent field 1 without the
    // hidden bit), so no normalization is needed:
    //   E1 = max(E, 1), sig = A - ((E1 - 1) << 23), d = 23 - M + max(E_lo - E1, 0).
    const VI E1 = hn::Max(E, one);
    const VI t = hn::Sub(E1, hn::Set(di, p.e_lo));
    above = hn::Max(t, zero);
    d = hn::Add(hn::Sub(above, t), hn::Set(di, 23 - p.man));
    sig = hn::Sub(A, hn::ShiftLeft<23>(hn::Sub(E1, one)));
    tiny_in = hn::Lt(E, hn::Set(di, p.e_lo));
    boundary = hn::Eq(E, hn::Set(di, p.e_lo - 1));
  } else {
    const VI F = hn::And(xi, hn::Set(di, 0x7FFFFF));
    const MI e0 = hn::Eq(E, zero);
    sig = hn::IfThenElse(e0, F, hn::Or(F, hn::Set(di, 0x800000)));
    const VI qi = hn::Sub(hn::Max(E, one), hn::Set(di, 150));
    // exponent of the leading bit; an f32 subnormal's from its exact conversion
    const VI eb = hn::ShiftRight<23>(hn::BitCast(di, hn::ConvertTo(df, F)));
    const VI e = hn::IfThenElse(e0, hn::Sub(eb, hn::Set(di, 276)), hn::Sub(E, hn::Set(di, 127)));
    const VI emin = hn::Set(di, p.emin);
    above = hn::Max(hn::Sub(e, emin), zero);
    d = hn::Sub(hn::Add(above, hn::Set(di, p.emin - p.man)), qi);
    tiny_in = hn::Lt(e, emin);
    boundary = hn::Eq(e, hn::Sub(emin, one));
  }
  const Disc s = Discard<kLean>(sig, d);
  const MI exact = hn::Eq(s.rem, zero);

  MI drawn = hn::FirstN(di, 0);
  fallback = drawn;
  if constexpr (kKind == detail::kSrExact || kKind == detail::kSrBits) {
    if (have_words || !hn::AllTrue(di, exact)) {
      VU w = w_in;
      if (!have_words) w = ElementWords(table, first);
      const VU rem = hn::BitCast(du, s.rem);
      // The discarded fraction f = rem / 2^d against the draw's `bits` bits
      // (32 for exact sr, R for sr<R>): t = f * 2^bits, shifted left where
      // d <= bits (exact: t is f to the last bit) and truncated otherwise.
      const int32_t bits = kKind == detail::kSrExact ? 32 : int32_t(p.sr_bits);
      const VI cb = hn::Set(di, bits);
      const MI small = hn::Not(hn::Gt(d, cb));
      // Lean, where every lane is small (always when the front end's
      // largest d is, as for bf16; else tested per vector): 10 <= d <= bits,
      // so bits - d needs no clamp and no lane takes the right shift.
      bool all_small = false;
      if constexpr (kLean) all_small = p.d_max <= bits || hn::AllTrue(di, small);
      VU t;
      if (all_small) {
        t = rem << hn::BitCast(du, hn::Sub(cb, d));
      } else {
        const VI lsh = hn::Min(hn::Max(hn::Sub(cb, d), zero), hn::Set(di, 31));
        const VI rsh = hn::Min(hn::Max(hn::Sub(d, cb), zero), hn::Set(di, 31));
        t = hn::IfThenElse(hn::RebindMask(du, small), (rem << hn::BitCast(du, lsh)), (rem >> hn::BitCast(du, rsh)));
      }
      if constexpr (kKind == detail::kSrExact) {
        drawn = hn::RebindMask(di, hn::Lt(w, t));
        // Undecided only where f has more than 32 bits and its first 32
        // equal the draw's; where d <= 32, w == t means U >= f: not away.
        if (!all_small) fallback = hn::AndNot(hn::Or(small, exact), hn::RebindMask(di, hn::Eq(w, t)));
      } else {
        const VU rmask = hn::Set(du, p.sr_bits >= 32 ? 0xFFFFFFFFu : (1u << p.sr_bits) - 1u);
        drawn = hn::RebindMask(di, hn::Gt(hn::And(w, rmask), hn::Sub(rmask, t)));
      }
    }
  }

  const VI odd = kLean ? hn::And(s.kept, one) : Odd(p, s.kept, above, 0);
  const MI away = Away<kKind>(s, exact, odd, neg, drawn);
  const VI kept = hn::IfThenElse(away, hn::Add(s.kept, one), s.kept);  // one masked add on AVX-512
  VI code_mag = hn::Add(hn::ShiftLeftSame(above, p.man), kept);
  if (!kLean && p.code_adj != 0) code_mag = hn::Max(hn::Add(code_mag, hn::Set(di, p.code_adj)), zero);
  const VI zero_res = hn::IfThenElseZero(neg, hn::Set(di, p.zero_sign_mask));
  // the sign, except on the zero of a format without -0 (fnuz); where -0
  // exists, a zero takes the sign as any other code does
  const VI sign = hn::IfThenElseZero(neg, hn::Set(di, p.sign_mask));
  VI code = p.zero_sign_mask == p.sign_mask ? hn::Or(code_mag, sign)
                                            : hn::Or(code_mag, hn::IfThenElse(hn::Eq(code_mag, zero), zero_res, sign));
  const MI ovf = hn::Gt(code_mag, hn::Set(di, p.max_code));
  code = hn::IfThenElse(ovf, PerSign(neg, p.ovf_code), code);

  MI tiny = hn::FirstN(di, 0);
  if (!kLean && (want_flags || p.ftz)) {
    tiny = tiny_in;
    if (p.tininess_after) {
      if (!hn::AllFalse(di, boundary)) {
        // Rounded with unbounded exponent at precision M+1 (quantum 2^(q-1)).
        const Disc su = Discard(sig, hn::Sub(d, one));
        const MI exact_u = hn::Eq(su.rem, zero);
        const MI away_u = Away<kKind>(su, exact_u, Odd(p, su.kept, above, 1), neg, drawn);
        const MI to_binade = hn::And(away_u, hn::Eq(su.kept, hn::Set(di, (2 << p.man) - 1)));
        tiny = hn::AndNot(hn::And(boundary, to_binade), tiny);
      }
    }
  }
  // ftz replaces a tiny result that would otherwise be a non-zero subnormal
  // (a tiny value rounding to zero keeps the plain flags).
  MI flush = hn::FirstN(di, 0);
  if (!kLean && p.ftz) {
    flush = hn::AndNot(hn::Eq(kept, zero), tiny);
    code = hn::IfThenElse(flush, zero_res, code);
  }

  if (!kLean && want_flags) {
    const VI inexact = hn::IfThenZeroElse(exact, hn::Set(di, int32_t(Flags::inexact)));
    fl = hn::Or(inexact, hn::IfThenElseZero(hn::AndNot(exact, tiny), hn::Set(di, int32_t(Flags::underflow))));
    if (p.ftz)
      fl = hn::Or(fl, hn::IfThenElseZero(flush, hn::Set(di, int32_t(Flags::underflow | Flags::inexact |
                                                                        Flags::flushed))));
    fl = hn::Or(fl, hn::IfThenElseZero(ovf, PerSign(neg, p.ovf_flags)));
    if (p.neg_invalid) fl = hn::Or(fl, hn::IfThenElseZero(neg_in, hn::Set(di, int32_t(Flags::invalid))));
  }

  // Inputs whose result does not depend on rounding: zero (and daz-flushed
  // subnormals), inf, NaN, negative finite into ue4m3.
  const MI is255 = hn::Eq(E, hn::Set(di, 0xFF));
  const MI zero_in = hn::Eq(hn::And(A, hn::Set(di, p.daz ? 0x7F800000 : 0x7FFFFFFF)), zero);
  MI special = hn::Or(is255, zero_in);
  if (p.neg_finite_special) special = hn::Or(special, neg_in);
  if (!hn::AllFalse(di, special)) {
    const VI F = hn::And(xi, hn::Set(di, 0x7FFFFF));
    const MI nan = hn::AndNot(hn::Eq(F, zero), is255);
    const MI snan = hn::And(nan, hn::Eq(hn::And(F, hn::Set(di, 0x400000)), zero));
    VI sc = hn::IfThenElse(is255, PerSign(neg_in, p.inf_code), PerSign(neg_in, p.zero_code));
    sc = hn::IfThenElse(nan, hn::IfThenElse(snan, PerSign(neg_in, p.snan_code), PerSign(neg_in, p.qnan_code)), sc);
    if (p.neg_finite_special) {
      const MI negfin = hn::AndNot(hn::Or(is255, zero_in), neg_in);
      sc = hn::IfThenElse(negfin, hn::Set(di, p.negfin_code), sc);
    }
    code = hn::IfThenElse(special, sc, code);
    fallback = hn::AndNot(special, fallback);
    if (!kLean && want_flags) {
      VI sf = hn::IfThenElse(is255, PerSign(neg_in, p.inf_flags), PerSign(neg_in, p.zero_flags));
      sf = hn::IfThenElse(nan, hn::IfThenElse(snan, PerSign(neg_in, p.snan_flags), PerSign(neg_in, p.qnan_flags)),
                          sf);
      if (p.daz)
        sf = hn::Or(sf, hn::IfThenElseZero(hn::AndNot(hn::Eq(A, zero), zero_in),
                                           hn::Set(di, int32_t(Flags::flushed))));
      if (p.neg_finite_special) {
        const MI negfin = hn::AndNot(hn::Or(is255, zero_in), neg_in);
        sf = hn::IfThenElse(negfin, hn::Set(di, p.negfin_flags), sf);
      }
      fl = hn::IfThenElse(special, sf, fl);
    }
  }
  return code;
}

template <typename TOut>
HWY_INLINE void StoreCodes(VI code, TOut* HWY_RESTRICT dst) {
  const hn::Rebind<TOut, DI> dn;
  hn::StoreU(hn::DemoteTo(dn, code), dn, dst);
}

// Redoes the lanes marked in `fb` with the scalar core (exact SR undecided
// by the first random word; probability ~2^-32 per lane). Returns their flags.
template <typename TOut>
HWY_NOINLINE uint32_t Redo(const Format* format, const RoundingSpec* spec, MI fb, const float* src, TOut* dst,
                           uint64_t idx) {
  const DI di;
  HWY_ALIGN int32_t lanes[hn::MaxLanes(di)];
  hn::Store(hn::VecFromMask(di, fb), di, lanes);
  uint32_t acc = 0;
  for (size_t j = 0; j < hn::Lanes(di); ++j) {
    if (!lanes[j]) continue;
    Flags f;
    dst[j] = TOut(fpsim::from_float(src[j], *format, *spec, f, idx + j));
    acc |= f.bits;
  }
  return acc;
}

// Decodes N codes (already widened to i32) to f32 bits.
HWY_INLINE VI DecodeBlock(const detail::ToParams& p, VI code) {
  const DI di;
  const DF df;
  const VI zero = hn::Zero(di);
  const VI mag = hn::And(code, hn::Set(di, p.mag_mask));
  const VI sign = hn::IfThenElseZero(hn::Ne(hn::And(code, hn::Set(di, p.sign_mask)), zero),
                                     hn::Set(di, int32_t(0x80000000u)));
  const VI ef = hn::ShiftRightSame(mag, p.man);
  const VI mf = hn::And(mag, hn::Set(di, p.man_mask));
  const MI sub = p.is_scale ? hn::FirstN(di, 0) : hn::Eq(ef, zero);
  const VI ev = hn::IfThenElse(sub, hn::Set(di, p.emin), hn::Sub(ef, hn::Set(di, p.bias)));
  const VI sigv = hn::IfThenElse(sub, mf, hn::Or(mf, hn::Set(di, 1 << p.man)));
  // sigv * 2^s, s = ev - M, as f32 bits: shift the exact float(sigv)'s
  // exponent when the result is normal, else build the subnormal directly.
  const VI s = hn::Sub(ev, hn::Set(di, p.man));
  const VI fb = hn::BitCast(di, hn::ConvertTo(df, sigv));
  const VI er = hn::Add(hn::ShiftRight<23>(fb), s);
  const VI normal_bits = hn::Add(fb, hn::ShiftLeft<23>(s));
  const VI sub_sh = hn::Min(hn::Max(hn::Add(s, hn::Set(di, 149)), zero), hn::Set(di, 31));
  const VI sub_bits = (sigv << sub_sh);
  const MI is_normal = hn::And(hn::Gt(er, zero), hn::Ne(sigv, zero));
  VI bits = hn::Or(hn::IfThenElse(is_normal, normal_bits, sub_bits), sign);
  MI nan = hn::FirstN(di, 0);
  switch (p.specials) {
    case Specials::ieee: {
      const MI top = hn::Eq(ef, hn::Set(di, p.exp_max));
      const MI has_man = hn::Ne(mf, zero);
      nan = hn::And(top, has_man);
      bits = hn::IfThenElse(hn::AndNot(has_man, top), hn::Or(sign, hn::Set(di, 0x7F800000)), bits);
      break;
    }
    case Specials::fn:
    case Specials::unsigned_scale:
      nan = hn::Eq(mag, hn::Set(di, p.mag_mask));
      break;
    case Specials::fnuz:
      nan = hn::Eq(code, hn::Set(di, p.sign_mask));
      break;
    case Specials::finite:
    case Specials::integer:
      break;
  }
  // A NaN keeps its sign only where the source has signed NaNs (not fnuz).
  const VI nan_bits = hn::Set(di, 0x7FC00000);
  return hn::IfThenElse(nan, p.signed_nan ? hn::Or(sign, nan_bits) : nan_bits, bits);
}



// How far ahead of the element being rounded the loops ask for the input
// (hwy::Prefetch, one request per 64-byte line). Without it the SR kernel,
// with some hundred instructions between its loads, kept too few loads in
// flight where the hardware prefetcher does not cover the stream: on the
// Intel Xeon VM of 2026-12-06 (AVX-512), 60% of its samples sat on the first
// load of a batch and exact sr ran at 0.29-0.42 G/s; with 2-8 KiB ahead,
// 0.90-0.97 G/s (bench/README.md, convert_bulk_bench). A prefetch past the
// end of the input is harmless: it cannot fault (the address is formed as an
// integer, so no pointer leaves its array).
inline constexpr size_t kPrefetchBytes = 4096;
HWY_INLINE void PrefetchAhead(const float* p, size_t extra_bytes = 0) {
  hwy::Prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(p) + kPrefetchBytes + extra_bytes));
}

template <int kKind, bool kLean, typename TOut>
HWY_NOINLINE void FromLoop(const detail::FromParams& params, const float* HWY_RESTRICT in, size_t n,
                           TOut* HWY_RESTRICT out, uint64_t first, uint32_t* flags_out) {
  // A local copy: stores through `out` (possibly char) cannot alias it, so
  // the parameters stay in registers.
  const detail::FromParams p = params;
  const DI di;
  const size_t N = hn::Lanes(di);
  const bool want_flags = flags_out != nullptr;
  VI acc = hn::Zero(di);
  uint32_t scalar_acc = 0;
  VI fl = hn::Zero(di);
  MI fallback;
  PhiloxTable table;
  if constexpr (kKind == detail::kSrExact || kKind == detail::kSrBits) FillPhiloxTable(p, table);
  auto redo = [&p](MI fb, const float* src, TOut* dst, uint64_t idx) {
    return Redo(p.format, p.spec, fb, src, dst, idx);
  };

  size_t i = 0;
  if constexpr (kLean && (kKind == detail::kSrExact || kKind == detail::kSrBits)) {
    // kBatch vectors at a time from four interleaved Philox chains (each 2N
    // elements, N/2 groups), which needs the batch to start a group: the
    // first up to three elements before that go through the scalar core
    // (lean: no flags).
    constexpr int kChains = 4, kBatch = 2 * kChains;
    const size_t head = std::min(n, size_t((4 - (first & 3)) & 3));
    if (head + kBatch * N <= n) {
      for (; i < head; ++i) {
        Flags ignored;
        out[i] = TOut(fpsim::from_float(in[i], *p.format, *p.spec, ignored, first + i));
      }
    }
    HWY_ALIGN uint32_t words[kBatch * hn::MaxLanes(DU())];
    for (; ((first + i) & 3) == 0 && i + kBatch * N <= n; i += kBatch * N) {
      for (size_t line = 0; line < kBatch * N * sizeof(float); line += 64)
        PrefetchAhead(in + i, line);
      GroupWords<kChains>(table, (first + i) >> 2, words);
      MI any_fallback = hn::FirstN(di, 0);
      for (int v = 0; v < kBatch; ++v) {
        const size_t at = i + size_t(v) * N;
        const VI x = hn::BitCast(di, hn::LoadU(DF(), in + at));
        MI fb;
        StoreCodes(RoundBlock<kKind, kLean>(p, table, x, first + at, false, fl, fb, true,
                                            hn::Load(DU(), words + size_t(v) * N)),
                   out + at);
        any_fallback = hn::Or(any_fallback, fb);
      }
      if constexpr (kKind == detail::kSrExact) {
        if (HWY_UNLIKELY(!hn::AllFalse(di, any_fallback))) {
          // Rare (2^-32 per lane): find the lanes again and let the scalar core redo them.
          for (int v = 0; v < kBatch; ++v) {
            const size_t at = i + size_t(v) * N;
            MI fb;
            const VI x = hn::BitCast(di, hn::LoadU(DF(), in + at));
            (void)RoundBlock<kKind, kLean>(p, table, x, first + at, false, fl, fb, true,
                                           hn::Load(DU(), words + size_t(v) * N));
            if (!hn::AllFalse(di, fb)) redo(fb, in + at, out + at, first + at);
          }
        }
      }
    }
  }
  for (; i + N <= n; i += N) {
    PrefetchAhead(in + i);
    const VI xi = hn::BitCast(di, hn::LoadU(DF(), in + i));
    const VI code = RoundBlock<kKind, kLean>(p, table, xi, first + i, want_flags, fl, fallback);
    StoreCodes(code, out + i);
    if constexpr (kKind == detail::kSrExact) {
      if (HWY_UNLIKELY(!hn::AllFalse(di, fallback))) {
        scalar_acc |= redo(fallback, in + i, out + i, first + i);
        fl = hn::IfThenZeroElse(fallback, fl);
      }
    }
    if (want_flags) acc = hn::Or(acc, fl);
  }
  if (i < n) {
    // The tail goes through the same kernel, padded with zeros; padding
    // lanes are masked out of the flags and never stored.
    const size_t rest = n - i;
    HWY_ALIGN float src[hn::MaxLanes(di)] = {};
    HWY_ALIGN TOut dst[hn::MaxLanes(di)];
    std::memcpy(src, in + i, rest * sizeof(float));
    const VI xi = hn::BitCast(di, hn::Load(DF(), src));
    const VI code = RoundBlock<kKind, kLean>(p, table, xi, first + i, want_flags, fl, fallback);
    StoreCodes(code, dst);
    const MI valid = hn::FirstN(di, rest);
    if constexpr (kKind == detail::kSrExact) {
      fallback = hn::And(fallback, valid);
      if (!hn::AllFalse(di, fallback)) {
        scalar_acc |= redo(fallback, src, dst, first + i);
        fl = hn::IfThenZeroElse(fallback, fl);
      }
    }
    if (want_flags) acc = hn::Or(acc, hn::IfThenElseZero(valid, fl));
    std::memcpy(out + i, dst, rest * sizeof(TOut));
  }
  if (want_flags) {
    HWY_ALIGN int32_t lanes[hn::MaxLanes(di)];
    hn::Store(acc, di, lanes);
    for (size_t j = 0; j < N; ++j) scalar_acc |= uint32_t(lanes[j]);
    *flags_out |= scalar_acc;
  }
}

template <int kKind, typename TOut>
void FromLoopFor(const detail::FromParams& p, const float* in, size_t n, TOut* out, uint64_t first,
                 uint32_t* flags_out) {
  if (LeanApplies(p) && flags_out == nullptr)
    FromLoop<kKind, true>(p, in, n, out, first, flags_out);
  else
    FromLoop<kKind, false>(p, in, n, out, first, flags_out);
}

template <typename TOut>
void FromF32Impl(const detail::FromParams& p, const float* in, size_t n, TOut* out, uint64_t first,
                 uint32_t* flags_out) {
  switch (p.kind) {
    case detail::kRne:
      return FromLoopFor<detail::kRne>(p, in, n, out, first, flags_out);
    case detail::kRna:
      return FromLoopFor<detail::kRna>(p, in, n, out, first, flags_out);
    case detail::kRtz:
      return FromLoopFor<detail::kRtz>(p, in, n, out, first, flags_out);
    case detail::kRup:
      return FromLoopFor<detail::kRup>(p, in, n, out, first, flags_out);
    case detail::kRdn:
      return FromLoopFor<detail::kRdn>(p, in, n, out, first, flags_out);
    case detail::kRto:
      return FromLoopFor<detail::kRto>(p, in, n, out, first, flags_out);
    case detail::kSrExact:
      return FromLoopFor<detail::kSrExact>(p, in, n, out, first, flags_out);
    default:
      return FromLoopFor<detail::kSrBits>(p, in, n, out, first, flags_out);
  }
}


template <typename TIn>
void ToF32Impl(const detail::ToParams& p, const Format&, const TIn* HWY_RESTRICT in, size_t n,
               float* HWY_RESTRICT out) {
  const DI di;
  const DF df;
  const hn::Rebind<TIn, DI> dn;
  const size_t N = hn::Lanes(di);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const VI code = hn::BitCast(di, hn::PromoteTo(DU(), hn::LoadU(dn, in + i)));
    hn::StoreU(hn::BitCast(df, DecodeBlock(p, code)), df, out + i);
  }
  if (i < n) {
    const size_t rest = n - i;
    HWY_ALIGN TIn src[hn::MaxLanes(di)] = {};
    HWY_ALIGN float dst[hn::MaxLanes(di)];
    std::memcpy(src, in + i, rest * sizeof(TIn));
    const VI code = hn::BitCast(di, hn::PromoteTo(DU(), hn::LoadU(dn, src)));
    hn::Store(hn::BitCast(df, DecodeBlock(p, code)), df, dst);
    std::memcpy(out + i, dst, rest * sizeof(float));
  }
}
#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::bulk
HWY_AFTER_NAMESPACE();

#endif  // FPSIM_BULK_ROUND_KERNEL_INL_H_
