// mma_gemm: the scalar fast path of the MMA model (operands decoded once,
// 64-bit block sums where they cannot overflow, the rare cases handed to the
// definition in mma_dot.cpp); MmaProperty.GemmEqualsDotElementByElement and
// the golden tests compare it with mma_dot element by element.
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
  const bool fast = m.kind == MmaKind::block_fma && !mma_needs_definition(m) &&
                    m.align_rounding == AlignRounding::truncate &&
                    25 + std::max(m.extra_bits, 0) + std::bit_width(unsigned(n + 1)) <= 62;
  if (!fast) {
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) D[size_t(i) * size_t(N) + size_t(j)] = slow(i, j);
    return;
  }
  const DecodedMatrix da = decode_matrix(A.data(), M, K, size_t(K), 1, m.input_a, m.subnormal_inputs);
  const DecodedMatrix db = decode_matrix(B.data(), N, K, 1, size_t(N), m.input_b, m.subnormal_inputs);
  const int product_shift = 23 - m.input_a.man_bits - m.input_b.man_bits;
  const int emin_out = m.output.emin(), emax_out = output_emax(m);
  const bool promote = m.promotion_interval > 0;
  const int chunk = promote ? m.promotion_interval : std::max(K, 1);
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
          ok = block_fast(m, acc, emin_out, emax_out, &da.exp[ra + size_t(b0)], &da.sig[ra + size_t(b0)],
                          &da.sign[ra + size_t(b0)], &db.exp[rb + size_t(b0)], &db.sig[rb + size_t(b0)],
                          &db.sign[rb + size_t(b0)], len, product_shift, d);
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
