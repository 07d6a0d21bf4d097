// The tensor-core model's GEMM in SIMD (see mma_gemm_bulk.hpp), bit-identical
// to fpsim::mma_dot, the definition in sim/src/mma_dot.cpp (docs/mma.md).
//
// One block-FMA step (docs/mma.md, "The block-FMA model") in double lanes, one lane per output
// column:
//   Operands are decoded once into planes: the value v (DAZ applied) and the
//   exponent e = max(floor_log2|v|, emin_in); a zero has e = kZeroExpD, so it
//   never sets the alignment point. The carry d (the previous block's result,
//   or C) enters through its FP32 encoding: e_d = max(floor_log2|d|, -126).
//   emax = max(min_exp, e_d, max_t(ea_t + eb_t)).
//   The definition aligns term t (|p_t| = sig_t · 2^(e_t - 23)) to emax with
//   neab extra bits and truncates: floor(sig_t · 2^(neab - (emax - e_t))) =
//   floor(|p_t| · 2^(23 + neab - emax)). So every aligned term of a lane is
//   trunc(p_t · s) with one s = 2^(23 + neab - emax): p_t = a_t · b_t is exact
//   in double (at most 48 significant bits), p_t · s is exact (a power of two
//   in range; a product that would land below double's normal range is < 1
//   and truncates to 0 either way), and trunc, rounding toward zero,
//   truncates the magnitude and keeps the sign. The carry is aligned the same
//   way. Each |term| < 2^(25 + neab), so with 25 + neab + bit_width(n + 1) <= 53
//   (mma_gemm_is_vectorized) the integer sum S is exact in double in any order.
//   The block's result R0 = S · 2^(emax - 23 - neab) is exact; it is rounded to
//   acc_frac_bits + 1 significant bits on its double encoding (rtz: clear the
//   low `drop` fraction bits; rne: first add 2^(drop-1) - 1 plus the lowest
//   kept bit), which is what the rounding core does for a result in the
//   output's normal range. S = 0 gives +0, the core's rule for a zero block
//   sum. A lane whose R0 lies below the output's normal range or whose
//   rounded value lies above it (subnormal, ftz, overflow) takes that block
//   from the definition (fpsim::mma_block_fma); a non-finite block result
//   sends its whole element to fpsim::mma_dot, as do rows and columns holding
//   NaN or inf.
// Promotion (docs/mma.md, "FP8 accumulation in libraries"): each chunk of promotion_interval elements is
// a chain from +0 whose result is added into an FP32 accumulator (starting at
// C) with the hardware's FP32 addition: IEEE RNE on finite operands, as the
// core's add (inf + inf of one sign stays inf; a NaN cannot arise because a
// non-finite block result has already left the lane). The accumulator stays
// in float lanes: only finite values are ever narrowed from double.
//
// Lanes run across columns, U vectors at a time (independent dependency
// chains); N is padded to the column group with zero operands, whose lanes
// are computed and dropped.
#include "fpsim/bulk/mma_gemm_bulk.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "mma_gemm_plan.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "src/mma_gemm_bulk.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace fpsim::bulk {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// 2^e for integral e in [-1022, 1023]: e + 1023 lands in the low bits of
// 2^52 + 1023 + e, and is shifted into the exponent field.
template <class D, class V>
HWY_INLINE V Pow2(D d, V e) {
  const hn::RebindToUnsigned<D> du;
  const auto t = hn::BitCast(du, hn::Add(e, hn::Set(d, 0x1p52 + 1023.0)));
  return hn::BitCast(d, hn::ShiftLeft<52>(t));
}

// floor(log2|v|) of a non-zero normal double, as a double (the inverse of
// the trick above).
template <class D, class V>
HWY_INLINE V FloorLog2(D d, V v) {
  const hn::RebindToUnsigned<D> du;
  const auto biased = hn::And(hn::ShiftRight<52>(hn::BitCast(du, v)), hn::Set(du, 0x7FFu));
  const V as_double = hn::BitCast(d, hn::Or(biased, hn::Set(du, uint64_t{0x4330000000000000})));
  return hn::Sub(as_double, hn::Set(d, 0x1p52 + 1023.0));
}

template <int U>
void GemmColumnGroups(const detail::MmaPlan& p) {
  const hn::ScalableTag<double> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  const hn::Rebind<float, decltype(d)> df;
  using V = hn::Vec<decltype(d)>;
  const size_t L = hn::Lanes(d), group = size_t(U) * L;
  const V zero = hn::Zero(d);
  const V min_exp = hn::Set(d, p.min_exp), exp_floor = hn::Set(d, -600.0);
  const V scale_base = hn::Set(d, 23.0 + p.neab);  // log2 s = 23 + neab - emax
  const V zero_exp = hn::Set(d, detail::kZeroExpD), carry_emin = hn::Set(d, -126.0);
  const V emin_out = hn::Set(d, p.emin_out), emax_out = hn::Set(d, p.emax_out);
  const auto keep = hn::Set(du, ~((uint64_t{1} << p.drop) - 1));
  const auto half_less_one = hn::Set(du, (uint64_t{1} << (p.drop - 1)) - 1);
  const auto one = hn::Set(du, uint64_t{1});
  const size_t K = size_t(p.K), Np = p.Np;
  HWY_ALIGN double lane_in[HWY_MAX_BYTES / sizeof(double)], lane_out[HWY_MAX_BYTES / sizeof(double)],
      lane_bad[HWY_MAX_BYTES / sizeof(double)];

  for (size_t jg = 0; jg < Np; jg += group) {
    for (int i = 0; i < p.M; ++i) {
      const size_t row = size_t(i) * Np + jg;
      // acc: the FP32 accumulator of promotion, kept as floats (it may reach
      // inf, which Highway's SCALAR DemoteTo would clamp); carries and C are
      // finite here, so demoting them is exact.
      V carry[U];
      hn::Vec<decltype(df)> acc[U];
      for (int u = 0; u < U; ++u) {
        carry[u] = p.c_init ? hn::LoadU(d, p.c_init + row + size_t(u) * L) : zero;
        acc[u] = hn::DemoteTo(df, carry[u]);
      }
      const double* av = p.a_val + size_t(i) * K;
      const double* ae = p.a_exp + size_t(i) * K;
      for (int k0 = 0; k0 < p.K; k0 += p.chunk) {
        const int end = std::min(p.K, k0 + p.chunk);
        if (p.promote)
          for (int u = 0; u < U; ++u) carry[u] = zero;
        for (int b0 = k0; b0 < end; b0 += p.block) {
          const int len = std::min(p.block, end - b0);
          // Alignment exponent.
          V emax[U];
          for (int u = 0; u < U; ++u) {
            const V ec = hn::IfThenElse(hn::Eq(carry[u], zero), zero_exp,
                                        hn::Max(FloorLog2(d, carry[u]), carry_emin));
            emax[u] = hn::Max(min_exp, ec);
          }
          for (int t = 0; t < len; ++t) {
            const V ea = hn::Set(d, ae[b0 + t]);
            const double* be = p.b_exp + size_t(b0 + t) * Np + jg;
            for (int u = 0; u < U; ++u) emax[u] = hn::Max(emax[u], hn::Add(ea, hn::LoadU(d, be + size_t(u) * L)));
          }
          // Aligned, truncated terms, summed exactly.
          V s[U], sum[U];
          for (int u = 0; u < U; ++u) {
            emax[u] = hn::Max(emax[u], exp_floor);  // only where every term is zero
            s[u] = Pow2(d, hn::Sub(scale_base, emax[u]));
            sum[u] = hn::Trunc(hn::Mul(carry[u], s[u]));
          }
          for (int t = 0; t < len; ++t) {
            const V a = hn::Set(d, av[b0 + t]);
            const double* bv = p.b_val + size_t(b0 + t) * Np + jg;
            for (int u = 0; u < U; ++u)
              sum[u] = hn::Add(sum[u], hn::Trunc(hn::Mul(hn::Mul(a, hn::LoadU(d, bv + size_t(u) * L)), s[u])));
          }
          // The one rounding of the block.
          for (int u = 0; u < U; ++u) {
            const V exact = hn::Mul(sum[u], Pow2(d, hn::Sub(emax[u], scale_base)));
            auto bits = hn::BitCast(du, exact);
            if (p.rne) bits = hn::Add(bits, hn::Add(half_less_one, hn::And(hn::ShiftRightSame(bits, p.drop), one)));
            const V rounded = hn::BitCast(d, hn::And(bits, keep));
            const auto is_zero = hn::Eq(sum[u], zero);
            const auto normal = hn::And(hn::Ge(FloorLog2(d, exact), emin_out), hn::Le(FloorLog2(d, rounded), emax_out));
            V next = hn::IfThenZeroElse(is_zero, rounded);
            const auto bad = hn::AndNot(is_zero, hn::Not(normal));
            if (HWY_UNLIKELY(!hn::AllFalse(d, bad))) {
              hn::Store(carry[u], d, lane_in);
              hn::Store(next, d, lane_out);
              hn::Store(hn::VecFromMask(d, bad), d, lane_bad);
              for (size_t l = 0; l < L; ++l) {
                const size_t j = jg + size_t(u) * L + l;
                if (std::bit_cast<uint64_t>(lane_bad[l]) == 0) continue;
                lane_out[l] = (j < size_t(p.N) && !p.slow[size_t(i) * Np + j])
                                  ? detail::block_by_definition(p, i, j, b0, len, lane_in[l])
                                  : 0.0;
              }
              next = hn::Load(d, lane_out);
            }
            carry[u] = next;
          }
        }
        if (p.promote)
          for (int u = 0; u < U; ++u)
            acc[u] = hn::Add(acc[u], hn::DemoteTo(df, carry[u]));
      }
      for (int u = 0; u < U; ++u)
        hn::StoreU(p.promote ? hn::PromoteTo(d, acc[u]) : carry[u], d, p.out + row + size_t(u) * L);
    }
  }
}

size_t Lanes64() { return hn::Lanes(hn::ScalableTag<double>()); }
void GemmU1(const detail::MmaPlan& p) { GemmColumnGroups<1>(p); }
void GemmU4(const detail::MmaPlan& p) { GemmColumnGroups<4>(p); }

}  // namespace HWY_NAMESPACE
}  // namespace fpsim::bulk
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace fpsim::bulk {

HWY_EXPORT(Lanes64);
HWY_EXPORT(GemmU1);
HWY_EXPORT(GemmU4);

namespace detail {

double block_by_definition(const MmaPlan& p, int i, size_t j, int b0, int len, double carry_in) {
  float a[kMaxBlockSize], b[kMaxBlockSize];  // len <= block_size <= kMaxBlockSize (validate_mma_model)
  for (int t = 0; t < len; ++t) {
    a[t] = p.A[size_t(i) * size_t(p.K) + size_t(b0 + t)];
    b[t] = p.B[size_t(b0 + t) * size_t(p.N) + j];
  }
  const float r = mma_block_fma(*p.model, std::span<const float>(a, size_t(len)), std::span<const float>(b, size_t(len)),
                                float(carry_in));
  if (std::isfinite(r)) return double(r);
  p.slow[size_t(i) * p.Np + j] = 1;
  return 0.0;
}

}  // namespace detail

namespace {

// The inputs' formats must have emin >= -126, so that floor_log2 of a float
// subnormal (any value below -126 does) never raises e = max(floor_log2, emin).
bool decodable(const Format& f) { return f.emin() >= -126; }

// Formats whose values are exactly the floats with the low 23 - M fraction
// bits clear (bf16, tf32: FP32's exponent range with fewer fraction bits).
bool is_fp32_range(const Format& f) {
  return f.exp_bits == 8 && f.bias == 127 && f.specials == Specials::ieee && f.has_sign;
}

enum class Values : uint8_t { all, not_all, unknown };

// Whether every finite element of x is a value of f, decided as
// fpsim::mma_gemm's check decides it (round toward zero with saturation,
// then back: equal iff a value), fast: by the bit pattern for the FP32-range
// formats, by the bulk conversions (bit-identical to the scalar core) for
// formats of at most 16 bits, else unknown.
Values all_values_of(std::span<const float> x, const Format& f) {
  if (is_fp32_range(f)) {
    const uint32_t low = (uint32_t{1} << (23 - f.man_bits)) - 1;
    uint32_t any = 0;
    for (float v : x) {
      const uint32_t bits = std::bit_cast<uint32_t>(v);
      if ((bits & 0x7F800000u) != 0x7F800000u) any |= bits;
    }
    return (any & low) ? Values::not_all : Values::all;
  }
  if (f.bits > 16) return Values::unknown;
  RoundingSpec rs;
  rs.rounding = Rounding::rtz;
  rs.overflow = Overflow::saturate;
  constexpr size_t kChunk = 2048;
  uint16_t codes[kChunk];
  float back[kChunk];
  for (size_t i0 = 0; i0 < x.size(); i0 += kChunk) {
    const size_t n = std::min(kChunk, x.size() - i0);
    convert_from_f32(x.subspan(i0, n), f, rs, std::span<uint16_t>(codes, n));
    convert_to_f32(std::span<const uint16_t>(codes, n), f, std::span<float>(back, n));
    for (size_t k = 0; k < n; ++k)
      if (std::isfinite(x[i0 + k]) && back[k] != x[i0 + k]) return Values::not_all;
  }
  return Values::all;
}

// One operand into its planes: value (DAZ applied) and exponent
// max(floor_log2|v|, emin) (kZeroExpD for zero); `special` is set for a
// NaN or inf, whose plane entries are zero.
inline void decode_operand(float x, const Format& f, bool subnormal_inputs, double& val, double& exp, bool& special) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  const int biased = int((bits >> 23) & 0xFF);
  val = 0.0;
  exp = detail::kZeroExpD;
  if (biased == 0xFF) {
    special = true;
    return;
  }
  if ((bits & 0x7FFFFFFFu) == 0) return;
  const int floor_log2 = biased == 0 ? -127 : biased - 127;  // float subnormals: any value below -126 will do
  const int emin = f.emin();
  if (floor_log2 < emin && !subnormal_inputs) return;  // daz: reads as zero
  val = double(x);
  exp = double(std::max(floor_log2, emin));
}

}  // namespace

bool mma_gemm_is_vectorized(const MmaModel& m) {
  return m.kind == MmaKind::block_fma && !mma_uses_amd_parameters(m) && m.align_rounding == AlignRounding::truncate &&
         (m.final_rounding == Rounding::rtz || m.final_rounding == Rounding::rne) && m.block_size >= 1 &&
         m.block_size <= 128 && m.extra_bits >= -23 &&
         25 + std::max(m.extra_bits, 0) + std::bit_width(unsigned(m.block_size + 1)) <= 53 && m.min_exp <= 300 &&
         m.acc_frac_bits >= 1 && m.acc_frac_bits <= 23 && decodable(m.input_a) && decodable(m.input_b) &&
         (is_fp32_range(m.input_a) || m.input_a.bits <= 16) && (is_fp32_range(m.input_b) || m.input_b.bits <= 16);
}

void mma_gemm(const MmaModel& m, int M, int N, int K, std::span<const float> A, std::span<const float> B,
              std::span<const float> C, std::span<float> D) {
  validate_mma_model(m);
  const size_t mk = size_t(std::max(M, 0)) * size_t(std::max(K, 0)), kn = size_t(std::max(K, 0)) * size_t(std::max(N, 0)),
               mn = size_t(std::max(M, 0)) * size_t(std::max(N, 0));
  // Everything the SIMD path does not take, and every error, is the scalar
  // function's: same messages, same results.
  if (!mma_gemm_is_vectorized(m) || M <= 0 || N <= 0 || K <= 0 || A.size() != mk || B.size() != kn ||
      (!C.empty() && C.size() != mn) || D.size() != mn || all_values_of(A, m.input_a) != Values::all ||
      all_values_of(B, m.input_b) != Values::all) {
    fpsim::mma_gemm(m, M, N, K, A, B, C, D);
    return;
  }
  const size_t L = HWY_DYNAMIC_DISPATCH(Lanes64)();
  const bool wide = size_t(N) > 2 * L;
  const size_t group = wide ? 4 * L : L;
  const size_t Np = (size_t(N) + group - 1) / group * group;

  // Planes live in per-thread scratch that keeps its capacity: a GEMM of a
  // training step's shape allocates (and the OS zeroes) nothing after the
  // first call. Every element read is written below.
  struct Scratch {
    std::vector<double> a_val, a_exp, b_val, b_exp, c_init, out;
    std::vector<uint8_t> slow, row_special, col_special;
  };
  thread_local Scratch scratch;
  auto sized = [](auto& v, size_t n) -> auto& {
    if (v.size() < n) v.resize(n);
    return v;
  };
  auto& a_val = sized(scratch.a_val, mk);
  auto& a_exp = sized(scratch.a_exp, mk);
  auto& b_val = sized(scratch.b_val, size_t(K) * Np);
  auto& b_exp = sized(scratch.b_exp, size_t(K) * Np);
  auto& c_init = scratch.c_init;
  auto& out = sized(scratch.out, size_t(M) * Np);
  auto& slow = sized(scratch.slow, size_t(M) * Np);
  auto& row_special = sized(scratch.row_special, size_t(M));
  auto& col_special = sized(scratch.col_special, size_t(N));
  std::fill_n(slow.begin(), size_t(M) * Np, uint8_t{0});
  std::fill_n(row_special.begin(), size_t(M), uint8_t{0});
  std::fill_n(col_special.begin(), size_t(N), uint8_t{0});
  for (int i = 0; i < M; ++i)
    for (int k = 0; k < K; ++k) {
      const size_t at = size_t(i) * size_t(K) + size_t(k);
      bool special = false;
      decode_operand(A[at], m.input_a, m.subnormal_inputs, a_val[at], a_exp[at], special);
      row_special[size_t(i)] |= uint8_t(special);
    }
  for (int k = 0; k < K; ++k) {
    for (int j = 0; j < N; ++j) {
      const size_t at = size_t(k) * Np + size_t(j);
      bool special = false;
      decode_operand(B[size_t(k) * size_t(N) + size_t(j)], m.input_b, m.subnormal_inputs, b_val[at], b_exp[at],
                     special);
      col_special[size_t(j)] |= uint8_t(special);
    }
    for (size_t j = size_t(N); j < Np; ++j) {  // padding columns: zero operands
      b_val[size_t(k) * Np + j] = 0.0;
      b_exp[size_t(k) * Np + j] = detail::kZeroExpD;
    }
  }
  const bool out_fp32 = is_binary32(m.output);  // else fp16 (validate_mma_model)
  if (!C.empty()) {
    sized(c_init, size_t(M) * Np);
    std::fill_n(c_init.begin(), size_t(M) * Np, 0.0);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        const float c = C[size_t(i) * size_t(N) + size_t(j)];
        double c_out = c;
        if (!out_fp32 && std::isfinite(c)) {  // FP16 output: C first rounded to FP16 with RNE (docs/mma.md, "The block-FMA model")
          Flags ignored;
          c_out = to_double(from_float(c, m.output, RoundingSpec{}, ignored), m.output);
        }
        if (!std::isfinite(c_out)) {
          slow[size_t(i) * Np + size_t(j)] = 1;
          c_out = 0.0;
        }
        // With promotion the chain starts from zero and C enters the FP32 accumulator.
        c_init[size_t(i) * Np + size_t(j)] = c_out;
      }
  }
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j)
      if (row_special[size_t(i)] || col_special[size_t(j)]) slow[size_t(i) * Np + size_t(j)] = 1;

  detail::MmaPlan p;
  p.model = &m;
  p.M = M;
  p.N = N;
  p.K = K;
  p.Np = Np;
  p.block = m.block_size;
  p.promote = m.promotion_interval > 0;
  p.chunk = p.promote ? m.promotion_interval : K;
  p.rne = m.final_rounding == Rounding::rne;
  p.neab = m.extra_bits;
  p.drop = 52 - m.acc_frac_bits;
  p.min_exp = double(std::max(m.min_exp, kNoClamp));
  p.emin_out = double(m.output.emin());
  p.emax_out = double(int(m.output.exp_field_max()) - 1 - m.output.bias);
  p.A = A.data();
  p.B = B.data();
  p.a_val = a_val.data();
  p.a_exp = a_exp.data();
  p.b_val = b_val.data();
  p.b_exp = b_exp.data();
  p.c_init = C.empty() ? nullptr : c_init.data();
  p.out = out.data();
  p.slow = slow.data();
  if (wide)
    HWY_DYNAMIC_DISPATCH(GemmU4)(p);
  else
    HWY_DYNAMIC_DISPATCH(GemmU1)(p);

  std::vector<float> row(static_cast<size_t>(K)), col(static_cast<size_t>(K));
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      const size_t at = size_t(i) * Np + size_t(j);
      float& dst = D[size_t(i) * size_t(N) + size_t(j)];
      if (!slow[at]) {
        dst = float(out[at]);
        continue;
      }
      for (int k = 0; k < K; ++k) {
        row[size_t(k)] = A[size_t(i) * size_t(K) + size_t(k)];
        col[size_t(k)] = B[size_t(k) * size_t(N) + size_t(j)];
      }
      dst = mma_dot(m, row, col, C.empty() ? 0.0f : C[size_t(i) * size_t(N) + size_t(j)]);
    }
}

}  // namespace fpsim::bulk
#endif  // HWY_ONCE
