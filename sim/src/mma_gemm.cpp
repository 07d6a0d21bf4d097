// mma_gemm: the scalar fast path of the MMA model (operands decoded once,
// 64-bit block sums where they cannot overflow, the rare cases handed to the
// definition in mma_dot.cpp), with the AMD matrix cores' sums (docs/mma.md, "AMD
// matrix cores", Evaluation); MmaProperty.GemmEqualsDotElementByElement,
// MmaAmd.GemmEqualsDot* and the golden tests compare it with mma_dot element by element.
#include <algorithm>
#include <bit>
#include <cmath>
#include <sstream>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/mma.hpp"
#include "mma_internal.hpp"

namespace fpsim {

using namespace mma_internal;

namespace {

struct DecodedMatrix {
  std::vector<int32_t> exp;
  std::vector<uint32_t> sig;
  std::vector<uint8_t> sign;
  std::vector<uint8_t> special;  // per row: has a non-finite value
};

// rows × K operands, row r's element k read from src[r * row_stride + k * col_stride].
DecodedMatrix decode_matrix(const float* src, int rows, int K, size_t row_stride, size_t col_stride, const Format& f,
                            bool subnormal_inputs) {
  DecodedMatrix d;
  const size_t n = size_t(rows) * size_t(K);
  d.exp.resize(n);
  d.sig.resize(n);
  d.sign.resize(n);
  d.special.assign(size_t(rows), 0);
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < K; ++k) {
      const float x = src[size_t(r) * row_stride + size_t(k) * col_stride];
      const size_t i = size_t(r) * size_t(K) + size_t(k);
      if (!std::isfinite(x)) {
        d.special[size_t(r)] = 1;
        d.exp[i] = kZeroExp;
        d.sig[i] = 0;
        d.sign[i] = 0;
        continue;
      }
      const Operand o = decode(x, f, subnormal_inputs);
      d.exp[i] = o.sig ? o.exp : kZeroExp;
      d.sig[i] = o.sig;
      d.sign[i] = o.sign;
    }
  }
  return d;
}

// The block accumulator of the fast path, carried between blocks as the C
// term of the next one: |d| = sig * 2^(exp - 23) (docs/mma.md, "The block-FMA model", "c always
// taken through its FP32 encoding"), sig = 0 for zero.
struct Carry {
  bool sign = false;
  int32_t exp = kZeroExp;
  uint64_t sig = 0;
};

Carry carry_of(float d) {
  const Operand z = decode_c(d);
  return Carry{std::signbit(d), z.sig ? z.exp : kZeroExp, z.sig};
}

// The carried value as a float: normal (sig has its leading bit at 2^23)
// or an FP32 subnormal (exp = -126, sig < 2^23).
float float_of(const Carry& c) {
  const uint32_t sign = c.sign ? 0x80000000u : 0u;
  if (c.sig == 0) return std::bit_cast<float>(sign);  // a signed zero: C = -0 with K = 0, or a sum rounded to -0
  if (c.sig < (uint64_t{1} << 23)) return std::bit_cast<float>(sign | uint32_t(c.sig));
  return std::bit_cast<float>(sign | (uint32_t(c.exp + 127) << 23) | (uint32_t(c.sig) & 0x7FFFFFu));
}

// The fast path's final step: the rounding core's result for block sums
// whose rounded value is normal in the output, under rtz or rne (all
// presets); everything else (subnormal, overflow, rup/rdn, zero) returns
// false and the caller asks the core. Equality with the core is what
// MmaProperty.GemmEqualsDotElementByElement and the golden tests check.
inline bool round_normal_fast(const MmaModel& m, int emin_out, int emax_out, bool negative, uint64_t mag, int scale_exp,
                              Carry& out) {
  if (mag == 0 || (m.final_rounding != Rounding::rtz && m.final_rounding != Rounding::rne)) return false;
  const int p = m.acc_frac_bits + 1;
  const int len = std::bit_width(mag);
  int e = scale_exp + len - 1;
  if (e < emin_out || e > emax_out) return false;
  uint64_t q;
  if (len > p) {
    const int drop = len - p;
    q = mag >> drop;
    if (m.final_rounding == Rounding::rne) {
      const uint64_t rem = mag & ((uint64_t{1} << drop) - 1), half = uint64_t{1} << (drop - 1);
      if (rem > half || (rem == half && (q & 1))) ++q;
      if (q >> p) {
        q >>= 1;
        if (++e > emax_out) return false;
      }
    }
  } else {
    q = mag << (p - len);
  }
  out = Carry{negative, e, q << (23 - m.acc_frac_bits)};
  return true;
}

// One block of the fast path with 64-bit sums, valid when
// (2^25 << max(neab, 0)) * (n + 1) < 2^62 (checked by the caller).
// Zero operands carry kZeroExp, so their terms shift out without a branch.
// Returns false when the core must finish the element (non-finite results).
inline bool block_fast(const MmaModel& m, const Format& acc, int emin_out, int emax_out, const int32_t* ea,
                       const uint32_t* sa, const uint8_t* ga, const int32_t* eb, const uint32_t* sb, const uint8_t* gb,
                       int len, int product_shift, Carry& d) {
  const int up = std::max(m.extra_bits, 0), down = std::max(-m.extra_bits, 0);
  int32_t emax = std::max(m.min_exp, d.exp);
  for (int t = 0; t < len; ++t) emax = std::max(emax, ea[t] + eb[t]);
  int64_t sum = 0;
  for (int t = 0; t < len; ++t) {
    const uint64_t prod = (uint64_t(sa[t]) * sb[t]) << (product_shift + up);
    const int sh = std::min(emax - (ea[t] + eb[t]) + down, 63);
    const int64_t v = int64_t(prod >> sh);
    const int64_t neg = -int64_t(ga[t] ^ gb[t]);  // 0 or -1
    sum += (v ^ neg) - neg;
  }
  if (d.sig) {
    const int sh = std::min(emax - d.exp + down, 63);
    const int64_t v = int64_t((d.sig << up) >> sh);
    sum += d.sign ? -v : v;
  }
  const bool negative = sum < 0;
  const uint64_t mag = negative ? uint64_t(-sum) : uint64_t(sum);
  const int scale = emax - 23 - m.extra_bits;
  if (round_normal_fast(m, emin_out, emax_out, negative, mag, scale, d)) return true;
  const float r = round_block_sum(m, acc, negative, u128(mag), scale);
  if (!std::isfinite(r)) return false;
  d = carry_of(r);
  return true;
}

// --- AMD matrix cores (docs/mma.md, "AMD matrix cores") ---------------------------------------
// The definition's block sums of mma_dot.cpp on operands decoded once, with 64-bit (CDNA3) or 128-bit
// (CDNA1) integers; a block they cannot finish (a product beyond the output's range under
// product_limit, a non-finite result, terms too far apart for 128 bits) hands the element to mma_dot.

// One product term of a block: |a*b| = sig * 2^(exp - 23), sig < 2^25 (the product's fraction bits
// placed at 23, as the definition does).
struct ProductTerm {
  int32_t exp;
  uint64_t sig;
  bool sign;
};

// The block's non-zero products; false when one lies at or beyond 2^(emax_out + 1) under
// product_limit (the definition then gives +-inf or NaN for the block: the element goes to mma_dot).
inline bool block_products(const MmaModel& m, int emax_out, const int32_t* ea, const uint32_t* sa, const uint8_t* ga,
                           const int32_t* eb, const uint32_t* sb, const uint8_t* gb, int len, int product_shift,
                           ProductTerm* terms, bool* odd, int& count) {
  count = 0;
  for (int t = 0; t < len; ++t) {
    const uint64_t sig = (uint64_t(sa[t]) * sb[t]) << product_shift;
    if (sig == 0) continue;
    const int32_t e = ea[t] + eb[t];
    if (m.product_limit && e - 23 + int(std::bit_width(sig)) - 1 > emax_out) return false;
    odd[count] = (t & 1) != 0;
    terms[count++] = ProductTerm{e, sig, (ga[t] ^ gb[t]) != 0};
  }
  return true;
}

// The rounding of a block's exact result (negative, mag * 2^scale) into the carry: round_normal_fast
// where it applies, else the rounding core; false for a non-finite result. A magnitude over 63 bits
// is first narrowed to 63 bits with a sticky bit, which keeps rtz and rne exact (p <= 24 bits).
inline bool finish_block(const MmaModel& m, const Format& acc, int emin_out, int emax_out, bool negative, u128 mag,
                         int scale, Carry& d) {
  uint64_t narrow = uint64_t(mag);
  int narrow_scale = scale;
  if (mag >> 63) {
    const int s = detail::bit_length(mag) - 63;
    narrow = uint64_t(mag >> s) | ((mag & ((u128{1} << s) - 1)) != 0 ? 1 : 0);
    narrow_scale += s;
  }
  if (round_normal_fast(m, emin_out, emax_out, negative, narrow, narrow_scale, d)) return true;
  const float r = round_block_sum(m, acc, negative, mag, scale);
  if (!std::isfinite(r)) return false;
  d = carry_of(r);
  return true;
}

// The exact signed sum of the terms and d on Int (int64_t or i128: wide enough for the terms'
// exponent span above lo, which the caller checks), then finish_block's one rounding.
template <class Int>
bool exact_terms_sum(const MmaModel& m, const Format& acc, int emin_out, int emax_out, const ProductTerm* terms,
                     int count, int32_t lo, Carry& d) {
  Int sum = 0;
  for (int t = 0; t < count; ++t) {
    const Int v = Int(terms[t].sig) << (terms[t].exp - lo);
    sum += terms[t].sign ? -v : v;
  }
  if (d.sig) {
    const Int v = Int(d.sig) << (d.exp - lo);
    sum += d.sign ? -v : v;
  }
  if (sum == 0) {
    d = Carry{};
    return true;
  }
  const bool negative = sum < 0;
  return finish_block(m, acc, emin_out, emax_out, negative, u128(negative ? -sum : sum), lo - 23, d);
}

// exact_sum (CDNA1): the products and C summed exactly in 128 bits at the smallest term's unit, then
// one rounding. Terms more than 90 binades apart (only with extreme bf16 magnitudes) go to mma_dot.
inline bool block_exact_fast(const MmaModel& m, const Format& acc, int emin_out, int emax_out, const ProductTerm* terms,
                             int count, Carry& d) {
  int32_t lo = d.sig ? d.exp : INT32_MAX, hi = d.sig ? d.exp : INT32_MIN;
  for (int t = 0; t < count; ++t) lo = std::min(lo, terms[t].exp), hi = std::max(hi, terms[t].exp);
  if (lo == INT32_MAX) {
    d = Carry{};  // an exact zero is +0 (the definition's exact_block_sum)
    return true;
  }
  if (hi - lo > 90) return false;  // 25 + 90 + 8 bits must fit 127
  // The common case: 25 + 28 + 8 bits fit 63, so 64-bit integers suffice.
  if (hi - lo <= 28) return exact_terms_sum<int64_t>(m, acc, emin_out, emax_out, terms, count, lo, d);
  return exact_terms_sum<i128>(m, acc, emin_out, emax_out, terms, count, lo, d);
}

// align_term of the definition on 64 bits for a right shift sh > 0: truncate, rne, or floor of the
// signed term (a negative term with lost bits grows by one unit).
inline uint64_t align_down(uint64_t mag, int sh, AlignRounding rounding, bool negative) {
  const uint64_t q = sh >= 64 ? 0 : mag >> sh;
  if (rounding == AlignRounding::truncate) return q;
  const uint64_t rem = sh >= 64 ? mag : mag - (q << sh);
  if (rounding == AlignRounding::floor) return negative && rem != 0 ? q + 1 : q;
  if (sh > 64) return 0;  // mag < 2^63 < half
  const uint64_t half = uint64_t{1} << (sh - 1);
  return (rem > half || (rem == half && (q & 1))) ? q + 1 : q;
}

// A partial sum of the staged block: sum in units 2^(exp - 23 - bits) (the definition's Partial).
struct Staged {
  int64_t sum = 0;
  int32_t exp = 0;
  int bits = 0;
  bool any = false;
};

// c_after_products (CDNA3), the definition's staged_block_sum on 64 bits (the caller checks
// extra_bits + c_stage_extra_bits <= 24, so every sum stays below 2^62).
inline Staged staged_group(const MmaModel& m, const ProductTerm* terms, const bool* odd, int count, int which) {
  Staged p;
  p.bits = m.extra_bits;
  for (int t = 0; t < count; ++t)
    if (which < 0 || int(odd[t]) == which) p.exp = p.any ? std::max(p.exp, terms[t].exp) : terms[t].exp, p.any = true;
  for (int t = 0; t < count && p.any; ++t) {
    if (which >= 0 && int(odd[t]) != which) continue;
    const int shift = m.extra_bits - (p.exp - terms[t].exp);
    const uint64_t v =
        shift >= 0 ? terms[t].sig << shift : align_down(terms[t].sig, -shift, m.align_rounding, terms[t].sign);
    p.sum += terms[t].sign ? -int64_t(v) : int64_t(v);
  }
  return p;
}

inline Staged staged_join(const MmaModel& m, const Staged& a, const Staged& b, int floor_exp, int extra) {
  if (!a.any && !b.any) return a;
  const int32_t top = std::max({a.any ? a.exp : floor_exp, b.any ? b.exp : floor_exp, floor_exp});
  Staged r;
  r.any = true;
  r.exp = top;
  r.bits = a.bits + ((!a.any || a.exp < top) ? extra : 0);
  auto place = [&](const Staged& p) -> int64_t {
    if (!p.any || p.sum == 0) return 0;
    int distance = top - p.exp;
    if (m.c_stage_shift_wraps && distance >= 64) distance = distance > 532 ? 0 : distance % 64;
    const int shift = distance - (r.bits - p.bits);
    if (shift <= 0) return p.sum * (int64_t(1) << -shift);
    const bool negative = p.sum < 0;
    const uint64_t mag = align_down(uint64_t(negative ? -p.sum : p.sum), shift, m.c_stage_rounding, negative);
    return negative ? -int64_t(mag) : int64_t(mag);
  };
  r.sum = place(a) + place(b);
  return r;
}

// The C stage of the staged block: C (the carry) joined to the products' sum, then the rounding.
inline bool block_staged_finish(const MmaModel& m, const Format& acc, int emin_out, int emax_out, Staged products,
                                Carry& d) {
  Staged c;
  if (d.sig) {
    c.any = true;
    c.exp = d.exp;
    c.bits = products.any ? products.bits : m.extra_bits;
    c.sum = int64_t(d.sig << c.bits);
    if (d.sign) c.sum = -c.sum;
  }
  products.bits = products.any ? products.bits : m.extra_bits;
  const Staged r = staged_join(m, products, c, m.min_exp, m.c_stage_extra_bits);
  if (!r.any || r.sum == 0) {
    d = Carry{};
    return true;
  }
  const bool negative = r.sum < 0;
  return finish_block(m, acc, emin_out, emax_out, negative, u128(negative ? -r.sum : r.sum), r.exp - 23 - r.bits, d);
}

// fp32_pairwise_blocked (CDNA2) in native FP32: every step of the definition is one IEEE RNE
// operation, which the host's float does; the model's DAZ and FTZ (subnormal_inputs /
// subnormal_outputs false) are applied around each operation. The definition's flush gives a signed
// zero (the rounding core's FTZ and DAZ keep the sign); its input flush below the input format's
// normal range gives +0.
struct NativeFp32Steps {
  bool daz, ftz;
  float in(float x) const { return daz && x != 0.0f && std::fabs(x) < 0x1p-126f ? std::copysign(0.0f, x) : x; }
  float out(float x) const { return ftz && x != 0.0f && std::fabs(x) < 0x1p-126f ? std::copysign(0.0f, x) : x; }
  float mul(float x, float y) const { return out(in(x) * in(y)); }
  float add(float x, float y) const { return out(in(x) + in(y)); }
  // The definition's pairwise_sum: a balanced tree, the first half (rounded up) on the left.
  float tree(const float* p, size_t n) const {
    if (n == 1) return p[0];
    const size_t half = (n + 1) / 2;
    return add(tree(p, half), tree(p + half, n - half));
  }
};

// D[i][j] for fp32_pairwise_blocked from operands flushed once (af: M x K, bt: N x K); false when the
// result is not finite (NaN payloads and inf - inf are the definition's to decide).
bool pairwise_blocked_native(const MmaModel& m, const NativeFp32Steps& f, const float* a, const float* b, int K,
                             float c, float* p, float& out) {
  const size_t n = size_t(m.block_size);
  float d = c;
  for (size_t k0 = 0; k0 < size_t(K); k0 += n) {
    for (size_t i = 0; i < n; ++i) p[i] = k0 + i < size_t(K) ? f.mul(a[k0 + i], b[k0 + i]) : 0.0f;
    d = f.add(d, f.tree(p, n));
  }
  out = d;
  return std::isfinite(d);
}

// The definition's input flush of fp32_pairwise_blocked: below the input format's normal range, +0.
float flushed_input(const MmaModel& m, float x, const Format& f) {
  return !m.subnormal_inputs && x != 0.0f && std::isfinite(x) && std::fabs(x) < std::ldexp(1.0f, f.emin()) ? 0.0f : x;
}

inline bool block_staged_fast(const MmaModel& m, const Format& acc, int emin_out, int emax_out,
                              const ProductTerm* terms, const bool* odd, int count, Carry& d) {
  const Staged products =
      m.odd_even_groups
          ? staged_join(m, staged_group(m, terms, odd, count, 0), staged_group(m, terms, odd, count, 1), kNoClamp - 1, 0)
          : staged_group(m, terms, odd, count, -1);
  return block_staged_finish(m, acc, emin_out, emax_out, products, d);
}

// The products' stage of the CDNA3 presets (truncation; one group, or FP8's even-k and odd-k groups
// joined as staged_block_sum joins them) without branches, from the decoded operands: a zero
// operand's kZeroExp keeps its product below every real one, so a group's largest exponent over all
// its products is the largest over its non-zero ones, and a truncated term
// sig * 2^(extra_bits - distance) is (sig << extra_bits) >> distance. False when a product reaches
// the output's overflow under product_limit.
inline bool staged_products_truncated(const MmaModel& m, int emax_out, const int32_t* ea, const uint32_t* sa,
                                      const uint8_t* ga, const int32_t* eb, const uint32_t* sb, const uint8_t* gb,
                                      int len, int product_shift, Staged& p) {
  const int parity_mask = m.odd_even_groups ? 1 : 0;  // group of product t: t & parity_mask
  int32_t top[2] = {kZeroExp * 2, kZeroExp * 2};
  uint64_t any[2] = {0, 0};
  bool beyond = false;
  for (int t = 0; t < len; ++t) {
    const uint64_t sig = (uint64_t(sa[t]) * sb[t]) << product_shift;
    const int32_t e = ea[t] + eb[t];
    top[t & parity_mask] = std::max(top[t & parity_mask], e);
    any[t & parity_mask] |= sig;
    beyond |= sig != 0 && e - 23 + int(std::bit_width(sig)) - 1 > emax_out;
  }
  if (m.product_limit && beyond) return false;
  int64_t sum[2] = {0, 0};
  for (int t = 0; t < len; ++t) {
    const uint64_t sig = (uint64_t(sa[t]) * sb[t]) << (product_shift + m.extra_bits);
    const int64_t v = int64_t(sig >> std::min(top[t & parity_mask] - (ea[t] + eb[t]), 63));
    const int64_t neg = -int64_t(ga[t] ^ gb[t]);  // 0 or -1
    sum[t & parity_mask] += (v ^ neg) - neg;
  }
  const Staged even{sum[0], top[0], m.extra_bits, any[0] != 0};
  p = m.odd_even_groups ? staged_join(m, even, Staged{sum[1], top[1], m.extra_bits, any[1] != 0}, kNoClamp - 1, 0)
                        : even;
  return true;
}

// Throws OptionError naming the first element of a row-major matrix with
// `cols` columns that is not a value of f.
void check_matrix_values(const char* name, std::span<const float> values, int cols, const Format& f) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!is_value_of(values[i], f)) {
      std::ostringstream msg;
      msg << "mma_gemm: " << name << "[" << i / size_t(cols) << "][" << i % size_t(cols) << "] is not a value of "
          << f.name;
      throw OptionError(msg.str());
    }
}

}  // namespace

void mma_gemm(const MmaModel& m, int M, int N, int K, std::span<const float> A, std::span<const float> B,
              std::span<const float> C, std::span<float> D) {
  validate_mma_model(m);
  if (M < 0 || N < 0 || K < 0) throw OptionError("mma_gemm: negative dimension");
  const size_t mk = size_t(M) * size_t(K), kn = size_t(K) * size_t(N), mn = size_t(M) * size_t(N);
  if (A.size() != mk || B.size() != kn || (!C.empty() && C.size() != mn) || D.size() != mn) {
    std::ostringstream msg;
    msg << "mma_gemm: sizes do not match M=" << M << " N=" << N << " K=" << K << " (A " << A.size() << ", B "
        << B.size() << ", C " << C.size() << ", D " << D.size() << ")";
    throw OptionError(msg.str());
  }
  check_matrix_values("A", A, K, m.input_a);
  check_matrix_values("B", B, N, m.input_b);
  const Format acc = accumulator_format(m);
  std::vector<float> arow(static_cast<size_t>(K)), bcol(static_cast<size_t>(K));
  auto slow = [&](int i, int j) {
    for (int k = 0; k < K; ++k) {
      arow[size_t(k)] = A[size_t(i) * size_t(K) + size_t(k)];
      bcol[size_t(k)] = B[size_t(k) * size_t(N) + size_t(j)];
    }
    const float c = C.empty() ? 0.0f : C[size_t(i) * size_t(N) + size_t(j)];
    return dot_unchecked(m, acc, arow, bcol, c);
  };
  const int n = m.block_size;
  if (m.kind == MmaKind::fp32_pairwise_blocked) {  // CDNA2: native FP32 (docs/mma.md, "AMD matrix cores")
    const NativeFp32Steps steps{!m.subnormal_inputs, !m.subnormal_outputs};
    std::vector<float> af(mk), bt(kn), p(static_cast<size_t>(n));
    for (size_t i = 0; i < mk; ++i) af[i] = flushed_input(m, A[i], m.input_a);
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < N; ++j)
        bt[size_t(j) * size_t(K) + size_t(k)] = flushed_input(m, B[size_t(k) * size_t(N) + size_t(j)], m.input_b);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        const size_t out = size_t(i) * size_t(N) + size_t(j);
        const float c = C.empty() ? 0.0f : C[out];
        // data() + offset, not &af[...]: with K = 0 the vectors are empty (UBSan: a reference to null).
        if (!pairwise_blocked_native(m, steps, af.data() + size_t(i) * size_t(K), bt.data() + size_t(j) * size_t(K), K,
                                     c, p.data(), D[out]))
          D[out] = slow(i, j);
      }
    return;
  }
  const int product_shift = 23 - m.input_a.man_bits - m.input_b.man_bits;
  // The AMD block sums (exact_sum, c_after_products) on decoded operands; other AMD parameters
  // (floor alignment or product_limit alone) stay with the definition.
  const bool amd_exact = m.kind == MmaKind::block_fma && m.exact_sum && product_shift >= 0;
  const bool amd_staged = m.kind == MmaKind::block_fma && m.c_after_products && product_shift >= 0 &&
                          m.extra_bits >= 0 && m.extra_bits + m.c_stage_extra_bits <= 24;
  const bool amd_staged_truncated = amd_staged && m.align_rounding == AlignRounding::truncate;
  const bool fast = (m.kind == MmaKind::block_fma && !mma_uses_amd_parameters(m) &&
                     m.align_rounding == AlignRounding::truncate &&
                     25 + std::max(m.extra_bits, 0) + std::bit_width(unsigned(n + 1)) <= 62) ||
                    amd_exact || amd_staged;
  if (!fast) {
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) D[size_t(i) * size_t(N) + size_t(j)] = slow(i, j);
    return;
  }
  const DecodedMatrix da = decode_matrix(A.data(), M, K, size_t(K), 1, m.input_a, m.subnormal_inputs);
  const DecodedMatrix db = decode_matrix(B.data(), N, K, 1, size_t(N), m.input_b, m.subnormal_inputs);
  const int emin_out = m.output.emin(), emax_out = output_emax(m);
  const bool promote = m.promotion_interval > 0;
  const int chunk = promote ? m.promotion_interval : std::max(K, 1);
  ProductTerm terms[kMaxBlockSize];  // the AMD block sums' products (validate_mma_model bounds block_size)
  bool odd[kMaxBlockSize];
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      const size_t out = size_t(i) * size_t(N) + size_t(j);
      const float c = C.empty() ? 0.0f : C[out];
      const float c_out = c_in_output(m, c);
      if (da.special[size_t(i)] || db.special[size_t(j)] || !std::isfinite(c) || !std::isfinite(c_out)) {
        D[out] = slow(i, j);
        continue;
      }
      const size_t ra = size_t(i) * size_t(K), rb = size_t(j) * size_t(K);
      bool ok = true;
      float acc32 = c;
      Carry d = carry_of(promote ? 0.0f : c_out);
      for (int k0 = 0; k0 < K && ok; k0 += chunk) {
        const int end = std::min(K, k0 + chunk);
        if (promote) d = Carry{};
        for (int b0 = k0; b0 < end && ok; b0 += n) {
          const int len = std::min(n, end - b0);
          const size_t ka = ra + size_t(b0), kb = rb + size_t(b0);
          if (amd_staged_truncated) {
            Staged products;
            ok = staged_products_truncated(m, emax_out, &da.exp[ka], &da.sig[ka], &da.sign[ka], &db.exp[kb],
                                           &db.sig[kb], &db.sign[kb], len, product_shift, products) &&
                 block_staged_finish(m, acc, emin_out, emax_out, products, d);
          } else if (amd_exact || amd_staged) {
            int count = 0;
            ok = block_products(m, emax_out, &da.exp[ka], &da.sig[ka], &da.sign[ka], &db.exp[kb], &db.sig[kb],
                                &db.sign[kb], len, product_shift, terms, odd, count) &&
                 (amd_exact ? block_exact_fast(m, acc, emin_out, emax_out, terms, count, d)
                            : block_staged_fast(m, acc, emin_out, emax_out, terms, odd, count, d));
          } else {
            ok = block_fast(m, acc, emin_out, emax_out, &da.exp[ka], &da.sig[ka], &da.sign[ka], &db.exp[kb],
                            &db.sig[kb], &db.sign[kb], len, product_shift, d);
          }
        }
        if (promote && ok) acc32 = add32(acc32, float_of(d));
      }
      if (!ok) {
        D[out] = slow(i, j);
        continue;
      }
      D[out] = promote ? acc32 : float_of(d);
    }
  }
}

}  // namespace fpsim
