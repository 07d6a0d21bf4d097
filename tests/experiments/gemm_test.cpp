// The training runner's GEMM (docs/training.md, "GEMM", "Summation order",
// "Operand quantizers", "MMA accumulation") and the tensor helpers.
//
// Oracles, each independent of the code under test:
// - gemm_fp32: the sequential std::fma chain per output element, written out
//   here in scalar code; on every Highway target compiled in and supported;
// - operands: the scalar definitions fpsim::quantize / dequantize (sim/,
//   themselves checked against the MPFR reference) on the stored tensor,
//   with the block orientation and SR key written by hand in each case, seen
//   through a GEMM whose other operand is an FP32 identity (exact: each
//   output is one product by 1 plus products by 0);
// - MMA accumulation: fpsim::mma_dot on the quantizer's own element codes,
//   scales applied here in the stated FP32 order;
// - the output epilogue: the scalar core's exactly rounded add, and values
//   derived by hand for the ties that a plain FP32 add gets wrong;
// - the Philox stream id: FNV-1a written out here, checked on its published
//   test vectors.
#include "fpsim/experiments/gemm.hpp"

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/bulk/convert_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/tensor.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/quantize.hpp"

namespace fpsim::experiments {
namespace {

constexpr uint32_t kDefaultNan = 0x7FC00000u;

uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }

// FNV-1a 32 (offset basis 2166136261, prime 16777619).
uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= uint8_t(c);
    h *= 16777619u;
  }
  return h;
}

// N(0, 1) * 2^u, u uniform in [-spread, spread]: magnitudes over a few
// binades, as activations and gradients have.
std::vector<float> random_values(size_t n, uint64_t seed, int spread = 4) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-spread, spread);
  std::vector<float> v(n);
  for (float& x : v) x = std::ldexp(normal(rng), exponent(rng));
  return v;
}

std::vector<float> identity(size_t n) {
  std::vector<float> v(n * n, 0.0f);
  for (size_t i = 0; i < n; ++i) v[i * n + i] = 1.0f;
  return v;
}

// op(X)[r][c] of a stored row-major matrix.
template <class T>
T op_at(const MatrixView<T>& v, size_t r, size_t c) {
  return v.transposed ? v.data[c * v.cols + r] : v.data[r * v.cols + c];
}

// The definition of gemm_fp32, one element at a time.
std::vector<float> sequential_fma_gemm(MatrixView<float> a, MatrixView<float> b, const float* bias) {
  const size_t m = a.op_rows(), k = a.op_cols(), n = b.op_cols();
  std::vector<float> out(m * n);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      float d = 0.0f;
      for (size_t kk = 0; kk < k; ++kk) d = std::fma(op_at(a, i, kk), op_at(b, kk, j), d);
      if (bias) d = d + bias[j];
      out[i * n + j] = std::isnan(d) ? std::bit_cast<float>(kDefaultNan) : d;
    }
  return out;
}

void expect_bits_equal(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    if (bits(got[i]) != bits(want[i])) {
      ADD_FAILURE() << what << ": element " << i << " is " << got[i] << " (0x" << std::hex << bits(got[i]) << "), want "
                    << want[i] << " (0x" << bits(want[i]) << ")" << std::dec;
      return;
    }
}

struct Fp32Case {
  size_t m, n, k;
  bool ta, tb, bias;
};

// Shapes around every vector width (4, 8, 16 lanes), tile size (4 and 6
// rows, 2 and 4 vectors) and K slice (128), K = 0 and 1.
std::vector<Fp32Case> fp32_cases() {
  std::vector<Fp32Case> cases;
  const size_t dims[][3] = {{1, 1, 1},   {3, 5, 0},   {2, 7, 1},     {7, 17, 3},   {6, 64, 129},
                            {13, 33, 9}, {5, 70, 40}, {25, 31, 256}, {12, 100, 2}, {1, 129, 300}};
  int variant = 0;
  for (const auto& d : dims)
    for (int t = 0; t < 4; ++t, ++variant)
      cases.push_back({d[0], d[1], d[2], (t & 1) != 0, (t & 2) != 0, variant % 3 != 0});
  return cases;
}

void check_fp32_cases(uint64_t seed) {
  for (const Fp32Case& c : fp32_cases()) {
    const std::vector<float> a = random_values(c.m * c.k, seed + 1), b = random_values(c.k * c.n, seed + 2),
                             bias = random_values(c.n, seed + 3);
    const MatrixView<float> va{a.data(), c.ta ? c.k : c.m, c.ta ? c.m : c.k, c.ta};
    const MatrixView<float> vb{b.data(), c.tb ? c.n : c.k, c.tb ? c.k : c.n, c.tb};
    std::vector<float> out(c.m * c.n, -1.0f);
    gemm_fp32(va, vb, c.bias ? bias.data() : nullptr, out);
    expect_bits_equal(out, sequential_fma_gemm(va, vb, c.bias ? bias.data() : nullptr),
                      "M=" + std::to_string(c.m) + " N=" + std::to_string(c.n) + " K=" + std::to_string(c.k) +
                          (c.ta ? " A^T" : "") + (c.tb ? " B^T" : "") + (c.bias ? " bias" : ""));
  }
}

TEST(GemmFp32, EqualsTheSequentialFmaChainBitForBit) { check_fp32_cases(100); }

// Signed zeros, inf and NaN, with expectations derived by hand from the
// contract (chain from +0, one FP32 add of the bias, default NaN).
TEST(GemmFp32, SignedZerosInfinitiesAndNaNFollowTheChain) {
  const float inf = std::numeric_limits<float>::infinity();
  // A [4, 2] by rows: {-0, 5}, {1e30, 1}, {inf, 1}, {-NaN with a payload, 2}.
  const float a[] = {-0.0f, 5.0f, 1e30f, 1.0f, inf, 1.0f, -std::bit_cast<float>(0x7FC01234u), 2.0f};
  // B [2, 3] by rows: {0, 1e30, 0}, {-0, 1, 1}.
  const float b_kn[] = {0.0f, 1e30f, 0.0f, -0.0f, 1.0f, 1.0f};
  std::vector<float> out(4 * 3);
  gemm_fp32({a, 4, 2, false}, {b_kn, 2, 3, false}, nullptr, out);
  // Row 0 = {-0, 5}: col 0: fma(-0, 0, +0) = +0, fma(5, -0, +0) = +0.
  EXPECT_EQ(bits(out[0]), 0u);
  // Row 1 = {1e30, 1}: col 1: fma(1e30, 1e30, +0) = +inf (overflow), + 1 = inf.
  EXPECT_EQ(out[4], inf);
  // Row 2 = {inf, 1}: col 0: inf * 0 = NaN -> default NaN.
  EXPECT_EQ(bits(out[6]), kDefaultNan);
  // Row 3 = {-NaN(payload), 2}: every column NaN -> default NaN.
  for (int j = 0; j < 3; ++j) EXPECT_EQ(bits(out[9 + size_t(j)]), kDefaultNan);
  // Bias -0 on a +0 chain: fp32(+0 + -0) = +0.
  const float bias[] = {-0.0f, 0.0f, 0.0f};
  gemm_fp32({a, 4, 2, false}, {b_kn, 2, 3, false}, bias, out);
  EXPECT_EQ(bits(out[0]), 0u);
  // K = 0: out = fp32(+0 + bias) = bias, except -0 -> +0; no bias -> +0.
  const float bias0[] = {-0.0f, -3.5f};
  std::vector<float> out0(2 * 2, 7.0f);
  gemm_fp32({a, 2, 0, false}, {b_kn, 0, 2, false}, bias0, out0);
  EXPECT_EQ(bits(out0[0]), 0u);
  EXPECT_EQ(out0[1], -3.5f);
  gemm_fp32({a, 2, 0, false}, {b_kn, 0, 2, false}, nullptr, out0);
  for (float v : out0) EXPECT_EQ(bits(v), 0u);
}

// Every instruction set Highway compiled in and this CPU supports, each
// forced in turn (the dispatcher alone would only ever pick the best).
TEST(GemmFp32, IdenticalOnEveryCompiledTarget) {
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  ASSERT_FALSE(targets.empty());
  for (int64_t target : targets) {
    hwy::SetSupportedTargetsForTest(target);
    ASSERT_EQ(std::string(bulk::simd_target_name()), hwy::TargetName(target));
    SCOPED_TRACE(hwy::TargetName(target));
    std::printf("  checking SIMD target %s\n", hwy::TargetName(target));
    check_fp32_cases(200);
    if (HasFailure()) break;
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(GemmFp32, ShapesThatDoNotFitAreConfigErrors) {
  std::vector<float> x(12), out(9);
  EXPECT_THROW(gemm_fp32({x.data(), 3, 4, false}, {x.data(), 3, 3, false}, nullptr, out), ConfigError);
  EXPECT_THROW(gemm_fp32({x.data(), 3, 3, false}, {x.data(), 3, 4, false}, nullptr, out), ConfigError);
}

// ---- tensor helpers ---------------------------------------------------------

TEST(TensorStreamId, IsFnv1aOfLayerTensorRoleOperand) {
  // Published FNV-1a 32 test vectors (Fowler, Noll, Vo; IETF draft
  // draft-eastlake-fnv): "" and "a".
  EXPECT_EQ(fnv1a(""), 0x811C9DC5u);
  EXPECT_EQ(fnv1a("a"), 0xE40C292Cu);
  EXPECT_EQ(tensor_stream_id("fc1", "x", GemmRole::fprop, 'a'), fnv1a("fc1/x/fprop/a"));
  EXPECT_EQ(tensor_stream_id("blocks.0.attn", "dy", GemmRole::wgrad, 'b'), fnv1a("blocks.0.attn/dy/wgrad/b"));
  EXPECT_NE(tensor_stream_id("fc1", "x", GemmRole::fprop, 'a'), tensor_stream_id("fc1", "x", GemmRole::wgrad, 'a'));
}

TEST(TensorHelpers, NamesAndFormats) {
  EXPECT_EQ(gemm_role_name(GemmRole::dgrad), "dgrad");
  EXPECT_EQ(operand_scaling_name(OperandScaling::nvfp4), "nvfp4");
  EXPECT_TRUE(same_format(formats::bf16, formats::bf16));
  EXPECT_FALSE(same_format(formats::bf16, formats::fp16));
  Format renamed = formats::e4m3;
  renamed.bias = 8;  // every field counts
  EXPECT_FALSE(same_format(renamed, formats::e4m3));
  EXPECT_TRUE(same_format(binary_result_format(formats::fp16, formats::fp16), formats::fp16));
  EXPECT_TRUE(same_format(binary_result_format(formats::fp16, formats::fp32), formats::fp32));
  EXPECT_TRUE(same_format(binary_result_format(formats::bf16, formats::fp16), formats::fp32));
}

TEST(RoundToFormat, EqualsTheScalarCoreElementByElement) {
  std::vector<float> x = random_values(10000, 7, 20);
  // Every class of input: random bit patterns (subnormals, NaNs, infinities,
  // values that overflow every narrower format) and exact ties of bf16, tf32
  // and fp16 (the low bits 100...0 below each format's last kept bit).
  std::mt19937_64 rng(8);
  for (int i = 0; i < 20000; ++i) x.push_back(std::bit_cast<float>(uint32_t(rng())));
  for (int i = 0; i < 3000; ++i) {
    const uint32_t u = uint32_t(rng());
    for (const int drop : {16, 13}) x.push_back(std::bit_cast<float>((u & ~((1u << drop) - 1)) | (1u << (drop - 1))));
  }
  for (const Format& f : {formats::bf16, formats::fp16, formats::e4m3, formats::e5m2, formats::e2m1, formats::tf32}) {
    for (Rounding mode : {Rounding::rne, Rounding::rtz, Rounding::rna, Rounding::sr}) {
      RoundingSpec rs{mode, Overflow::ieee};
      rs.seed = 11;
      rs.stream = 22;
      rs.step = 33;
      std::vector<float> got = x;
      round_to_format(got, f, rs, 5000);
      RoundingSpec want_rs = rs;
      if (!f.has_inf()) want_rs.overflow = Overflow::saturate;  // TE clips (docs/training.md)
      for (size_t i = 0; i < x.size(); ++i) {
        Flags fl;
        const float want = float(to_double(from_float(x[i], f, want_rs, fl, 5000 + i), f));
        if (bits(got[i]) != bits(want)) {
          ADD_FAILURE() << f.name << " mode " << int(mode) << " element " << i << ": " << got[i] << " want " << want;
          break;
        }
      }
    }
  }
  // fp32 is the identity, e4m3 saturates even when asked for IEEE overflow.
  std::vector<float> v = {1e30f, -1000.0f, 0.1f};
  round_to_format(v, formats::fp32);
  EXPECT_EQ(v[0], 1e30f);
  round_to_format(v, formats::e4m3, {Rounding::rne, Overflow::ieee});
  EXPECT_EQ(v[0], 448.0f);
  EXPECT_EQ(v[1], -448.0f);
}

// ---- operands: what the GEMM multiplies -------------------------------------

constexpr uint32_t kRunSeed = 1234;
constexpr uint32_t kStep = 3;

struct OperandCase {
  std::string label;
  OperandPolicy policy;
  char operand;       // 'a' or 'b'
  bool transposed;    // as read by the GEMM
  size_t rows, cols;  // as stored
  ScaleKind kind;     // (ignored for plain casts)
  BlockShape block;   // the oriented block, written by hand
};

OperandPolicy scaled(const Format& f, OperandScaling s, size_t block = 0, bool two_d = false) {
  OperandPolicy p;
  p.format = f;
  p.scaling = s;
  p.block = block;
  p.block_2d = two_d;
  return p;
}

std::vector<OperandCase> operand_cases() {
  std::vector<OperandCase> c;
  OperandPolicy cast_e4m3 = scaled(formats::e4m3, OperandScaling::none);
  OperandPolicy cast_bf16_sr = scaled(formats::bf16, OperandScaling::none);
  cast_bf16_sr.rounding = {Rounding::sr, Overflow::ieee};
  c.push_back({"cast e4m3, A rows", cast_e4m3, 'a', false, 24, 64, ScaleKind::per_tensor, {}});
  c.push_back({"cast bf16 SR, B transposed", cast_bf16_sr, 'b', true, 40, 64, ScaleKind::per_tensor, {}});
  const OperandPolicy cur = scaled(formats::e4m3, OperandScaling::current);
  c.push_back({"current e4m3, A rows", cur, 'a', false, 24, 64, ScaleKind::per_tensor, {}});
  c.push_back({"current e4m3, A transposed", cur, 'a', true, 64, 24, ScaleKind::per_tensor, {}});
  OperandPolicy mx = scaled(formats::e4m3, OperandScaling::mx, 32);
  mx.e8m0_rule = E8m0Rule::ceil;
  // op(A) [M, K]: stored [M, K] -> 1 x 32 along K; stored [K, M] -> 32 x 1.
  c.push_back({"mxfp8, A rows (fprop X)", mx, 'a', false, 24, 64, ScaleKind::mx, {1, 32}});
  c.push_back({"mxfp8, A transposed (wgrad dY^T)", mx, 'a', true, 64, 24, ScaleKind::mx, {32, 1}});
  // op(B) [K, N]: stored [K, N] -> 32 x 1 (dgrad's W, column-wise); stored [N, K] -> 1 x 32 (fprop's W^T).
  c.push_back({"mxfp8, B rows (dgrad W, column-wise)", mx, 'b', false, 64, 40, ScaleKind::mx, {32, 1}});
  c.push_back({"mxfp8, B transposed (fprop W^T)", mx, 'b', true, 40, 64, ScaleKind::mx, {1, 32}});
  OperandPolicy mx_floor = scaled(formats::e5m2, OperandScaling::mx, 32);
  mx_floor.e8m0_rule = E8m0Rule::floor;
  c.push_back({"mx e5m2 floor, B rows", mx_floor, 'b', false, 64, 40, ScaleKind::mx, {32, 1}});
  OperandPolicy fp4 = scaled(formats::e2m1, OperandScaling::nvfp4, 16);
  fp4.hadamard = true;
  fp4.rounding = {Rounding::sr, Overflow::saturate};
  c.push_back({"nvfp4 RHT SR, A rows", fp4, 'a', false, 24, 64, ScaleKind::nvfp4, {1, 16}});
  c.push_back({"nvfp4 RHT SR, A transposed (wgrad dY^T)", fp4, 'a', true, 64, 24, ScaleKind::nvfp4, {16, 1}});
  c.push_back({"nvfp4 RHT SR, B rows (wgrad X)", fp4, 'b', false, 64, 40, ScaleKind::nvfp4, {16, 1}});
  const OperandPolicy fp4_2d = scaled(formats::e2m1, OperandScaling::nvfp4, 16, true);
  c.push_back({"nvfp4 16x16, B transposed (weights)", fp4_2d, 'b', true, 40, 64, ScaleKind::nvfp4, {16, 16}});
  OperandPolicy blk = scaled(formats::e4m3, OperandScaling::block, 32);
  blk.pow2_scales = true;
  c.push_back({"fp32 blocks 1x32, A rows", blk, 'a', false, 24, 64, ScaleKind::fp32_block, {1, 32}});
  c.push_back({"fp32 blocks 32x1, A transposed", blk, 'a', true, 64, 24, ScaleKind::fp32_block, {32, 1}});
  OperandPolicy blk2 = scaled(formats::e4m3, OperandScaling::block, 32, true);
  c.push_back(
      {"fp32 blocks 32x32 (edge tiles partial), B rows", blk2, 'b', false, 64, 40, ScaleKind::fp32_block, {32, 32}});
  return c;
}

GemmSite site_with(const OperandPolicy& p, char operand) {
  GemmSite s;
  s.layer = "fc1";
  s.role = GemmRole::wgrad;
  s.a_tensor = "dy";
  s.b_tensor = "x";
  (operand == 'a' ? s.policy.a : s.policy.b) = p;
  return s;
}

// op(X) as the GEMM saw it: `stored` multiplied by an FP32 identity.
std::vector<float> observe(GemmRuntime& rt, const GemmSite& site, char operand, MatrixView<float> x) {
  const std::vector<float> eye = identity(operand == 'a' ? x.op_cols() : x.op_rows());
  const MatrixView<float> ident{eye.data(), operand == 'a' ? x.op_cols() : x.op_rows(),
                                operand == 'a' ? x.op_cols() : x.op_rows(), false};
  std::vector<float> out(x.op_rows() * x.op_cols());
  if (operand == 'a')
    gemm(rt, site, x, ident, nullptr, out);
  else
    gemm(rt, site, ident, x, nullptr, out);
  return out;
}

// The stored tensor's values under the case's quantizer: the scalar
// definitions, with the SR key of docs/training.md "Randomness".
std::vector<float> expected_stored_values(const OperandCase& c, const std::vector<float>& x) {
  const std::string tensor = c.operand == 'a' ? "dy" : "x";
  RoundingSpec rs = c.policy.rounding;
  rs.seed = kRunSeed;
  rs.stream = fnv1a("fc1/" + tensor + "/wgrad/" + std::string(1, c.operand));
  rs.step = kStep;
  if (c.policy.scaling == OperandScaling::none) {
    std::vector<float> v(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      Flags fl;
      v[i] = fpsim::quantize(x[i], c.policy.format, rs, fl, i);
    }
    return v;
  }
  QuantScheme q;
  q.kind = c.kind;
  q.element = c.policy.format;
  q.block = c.block;
  q.e8m0_rule = c.policy.e8m0_rule;
  q.pow2_scales = c.policy.pow2_scales;
  q.rounding = rs;
  q.hadamard = c.policy.hadamard;
  q.hadamard_seed = kRunSeed;
  q.error_stats = false;
  return dequantize(fpsim::quantize(x, {c.rows, c.cols}, q));
}

void expect_op_values(const std::vector<float>& got, const std::vector<float>& stored, MatrixView<float> shape,
                      const std::string& what) {
  const MatrixView<float> v{stored.data(), shape.rows, shape.cols, shape.transposed};
  for (size_t r = 0; r < v.op_rows(); ++r)
    for (size_t c = 0; c < v.op_cols(); ++c) {
      const float want = op_at(v, r, c), have = got[r * v.op_cols() + c];
      // == : the identity GEMM turns a -0 into +0 (chain from +0), nothing else.
      if (!(have == want)) {
        ADD_FAILURE() << what << ": op(X)[" << r << "][" << c << "] = " << have << ", want " << want;
        return;
      }
    }
}

// add_rounded_to_odd, then one rne rounding to a format of at most 22
// significant bits, is the exact sum rounded once: against the scalar core's
// exact add (fpsim::add, fp32 + fp32 -> f), on random magnitudes, operands
// far apart (inexact FP32 sums of both signs), FP32 sums on a bf16 / fp16
// rounding midpoint with the exact sum just off it, cancellations,
// subnormals and sums that overflow FP32 (reported in not_finite, a kept); on every target.
TEST(AddRoundedToOdd, ThenOneRoundingEqualsTheExactAdd) {
  const Format fmts[] = {formats::bf16, formats::fp16, formats::e4m3, formats::tf32};
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    std::mt19937_64 rng(2008);
    for (int trial = 0; trial < 40; ++trial) {
      const size_t n = 1 + rng() % 300;
      std::vector<float> a(n), b(n);
      for (size_t i = 0; i < n; ++i) {
        const int style = int(rng() % 6);
        a[i] = std::ldexp(float(int(rng() % 2000001) - 1000000), int(rng() % 40) - 30);
        b[i] = style == 0   ? std::ldexp(float(int(rng() % 2000001) - 1000000), int(rng() % 80) - 80)
               : style == 1 ? -a[i] * (1.0f + 0x1p-23f * float(rng() % 4))
               : style == 2 ? std::ldexp(float(int(rng() % 64) - 32), -149)
               : style == 3 ? std::numeric_limits<float>::max() * (rng() & 1 ? 1.0f : -1.0f)
                            : std::bit_cast<float>(uint32_t(rng()));
        if (style == 2) a[i] = std::ldexp(float(int(rng() % 64) - 32), -149);
        if (style == 3) a[i] = b[i];
        if (style == 5) {
          // a on a bf16 or fp16 rounding midpoint, b far below a's FP32 ulp:
          // the FP32 sum is a, the exact sum lies on one side of the midpoint.
          const int frac = rng() & 1 ? 7 : 10;
          a[i] = std::ldexp(1.0f + std::ldexp(float(rng() % (1u << frac)), -frac) + std::ldexp(1.0f, -frac - 1),
                            int(rng() % 20) - 10) * (rng() & 1 ? 1.0f : -1.0f);
          b[i] = std::ldexp(a[i], -30 - int(rng() % 10)) * (rng() & 1 ? 1.0f : -1.0f);
        }
      }
      const float sign = rng() & 1 ? 1.0f : -1.0f;
      std::vector<float> out(n);
      std::vector<size_t> not_finite;
      add_rounded_to_odd(a, b, sign, out, not_finite);
      size_t next = 0;
      for (size_t i = 0; i < n; ++i) {
        const float sb = sign * b[i];
        const bool finite = std::isfinite(a[i] + sb);
        ASSERT_EQ(!finite, next < not_finite.size() && not_finite[next] == i) << i;
        if (!finite) {
          ++next;
          ASSERT_EQ(std::bit_cast<uint32_t>(out[i]), std::bit_cast<uint32_t>(a[i]));
          continue;
        }
        for (const Format& f : fmts) {
          if (f.man_bits + 3 > 24) continue;
          std::vector<float> one = {out[i]};
          round_to_format(one, f);
          Flags fl;
          const uint64_t code = fpsim::add(std::bit_cast<uint32_t>(a[i]), formats::fp32, std::bit_cast<uint32_t>(sb),
                                           formats::fp32, f, RoundingSpec{Rounding::rne, f.has_inf() ? Overflow::ieee : Overflow::saturate}, fl);
          const float want = float(to_double(code, f));
          ASSERT_EQ(std::bit_cast<uint32_t>(one[0]), std::bit_cast<uint32_t>(want))
              << hwy::TargetName(target) << " " << f.name << " a=" << a[i] << " b=" << sb;
        }
      }
      ASSERT_EQ(next, not_finite.size());
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(GemmOperands, EachOperandIsTheScalarQuantizerOfTheStoredTensorWithBlocksAlongK) {
  uint64_t seed = 500;
  for (const OperandCase& c : operand_cases()) {
    SCOPED_TRACE(c.label);
    const std::vector<float> x = random_values(c.rows * c.cols, ++seed);
    GemmRuntime rt(kRunSeed);
    rt.step = kStep;
    const MatrixView<float> view{x.data(), c.rows, c.cols, c.transposed};
    const std::vector<float> got = observe(rt, site_with(c.policy, c.operand), c.operand, view);
    expect_op_values(got, expected_stored_values(c, x), view, c.label);
  }
}

// For every built-in recipe, every operand of every GEMM of a Linear layer
// (Y = X·Wᵀ with X [N, in], W [out, in]) is the scalar quantizer's output
// for that recipe's scheme in the orientation its GEMM needs, blocks along
// the reduction dimension. The orientations are written out by hand:
//   fprop  a = X  stored [N, in],  K = in  along its rows     -> 1 x b
//          b = W  stored [out, in] read transposed, K = in    -> 1 x b
//   dgrad  a = dY stored [N, out], K = out along its rows     -> 1 x b
//          b = W  stored [out, in], K = out down its columns  -> b x 1 (mxfp8's column-wise weight copy)
//   wgrad  a = dY stored [N, out] read transposed, K = N      -> b x 1
//          b = X  stored [N, in],  K = N down its columns     -> b x 1
// and b x b for 2-D blocks. The other operand is an FP32 identity and the
// sum FP32, so the GEMM's output is the operand's values exactly (the MMA
// accumulation of the recipes is checked in GemmMma).
TEST(GemmOperands, EveryBuiltinRecipesOperandsAreTheQuantizersOutputInTheirOrientation) {
  const size_t N = 32, in = 64, out = 96;
  struct Side {
    GemmRole role;
    char operand;
    const char* tensor;
    size_t rows, cols;
    bool transposed;
    bool block_along_rows;  // the 1-D block is b x 1
  };
  const Side sides[] = {
      {GemmRole::fprop, 'a', "x", N, in, false, false},  {GemmRole::fprop, 'b', "w", out, in, true, false},
      {GemmRole::dgrad, 'a', "dy", N, out, false, false}, {GemmRole::dgrad, 'b', "w", out, in, false, true},
      {GemmRole::wgrad, 'a', "dy", N, out, true, true},   {GemmRole::wgrad, 'b', "x", N, in, false, true},
  };
  uint64_t seed = 900;
  size_t checked = 0;
  for (const std::string& name : builtin_recipe_names()) {
    const Recipe recipe = load_recipe(name);
    for (const char* layer : {"fc1", "head"}) {
      for (const Side& side : sides) {
        const GemmPolicy full = recipe.policy_for(layer, side.role);
        const OperandPolicy& p = side.operand == 'a' ? full.a : full.b;
        // Built by appending: GCC 12's -Wrestrict misfires on "lit" + std::string chains at -O3.
        std::string where = name;
        for (std::string_view part : {std::string_view(" "), std::string_view(layer), std::string_view(" "),
                                      gemm_role_name(side.role), std::string_view(" ")})
          where += part;
        where += side.operand;
        SCOPED_TRACE(where);
        const std::string a_tensor(side.role == GemmRole::fprop ? "x" : "dy");
        const std::string b_tensor(side.role == GemmRole::wgrad ? "x" : "w");
        GemmSite site{std::string(layer), side.role, a_tensor, b_tensor, GemmPolicy{}};
        (side.operand == 'a' ? site.policy.a : site.policy.b) = p;
        const std::vector<float> x = random_values(side.rows * side.cols, ++seed);
        GemmRuntime rt(kRunSeed);
        rt.step = kStep;
        const MatrixView<float> view{x.data(), side.rows, side.cols, side.transposed};
        const std::vector<float> got = observe(rt, site, side.operand, view);

        RoundingSpec rs = p.rounding;
        rs.seed = kRunSeed;
        std::string key = layer;
        for (std::string_view part : {std::string_view("/"), std::string_view(side.tensor), std::string_view("/"),
                                      gemm_role_name(side.role), std::string_view("/")})
          key += part;
        key += side.operand;
        rs.stream = fnv1a(key);
        rs.step = kStep;
        std::vector<float> want(x.size());
        if (p.scaling == OperandScaling::none) {
          if (!p.format.has_inf()) rs.overflow = Overflow::saturate;  // TE clips FP8/FP4 casts
          for (size_t i = 0; i < x.size(); ++i) {
            Flags fl;
            want[i] = fpsim::quantize(x[i], p.format, rs, fl, i);
          }
        } else {
          QuantScheme q;
          q.element = p.format;
          q.rounding = rs;
          q.e8m0_rule = p.e8m0_rule;
          q.pow2_scales = p.pow2_scales;
          q.amax_epsilon = p.amax_epsilon;
          q.arith = p.arith;
          q.hadamard = p.hadamard;
          q.hadamard_seed = kRunSeed;
          q.error_stats = false;
          q.block = p.block_2d ? BlockShape{p.block, p.block}
                               : (side.block_along_rows ? BlockShape{p.block, 1} : BlockShape{1, p.block});
          const TensorShape shape{side.rows, side.cols};
          switch (p.scaling) {
            case OperandScaling::current:
              q.kind = ScaleKind::per_tensor;
              want = dequantize(fpsim::quantize(x, shape, q));
              break;
            case OperandScaling::delayed:  // a fresh history: multiplier 1 (docs/quantization.md §7)
              q.kind = ScaleKind::per_tensor;
              want = dequantize(fpsim::quantize_with_multiplier(x, shape, q, 1.0f));
              break;
            case OperandScaling::mx:
              q.kind = ScaleKind::mx;
              want = dequantize(fpsim::quantize(x, shape, q));
              break;
            case OperandScaling::nvfp4:
              q.kind = ScaleKind::nvfp4;
              want = dequantize(fpsim::quantize(x, shape, q));
              break;
            case OperandScaling::block:
              q.kind = ScaleKind::fp32_block;
              want = dequantize(fpsim::quantize(x, shape, q));
              break;
            case OperandScaling::none:
              break;
          }
        }
        expect_op_values(got, want, view, where);
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 12u * 2 * 6);
}

// Delayed scaling: step t quantizes with the multiplier from the amaxes of
// steps < t (initial multiplier 1, docs/quantization.md §7), and every GEMM
// of one step uses the same multiplier, however many read the tensor.
TEST(GemmOperands, DelayedScalingUsesTheHistoryOfEarlierStepsOnly) {
  OperandPolicy p = scaled(formats::e4m3, OperandScaling::delayed);
  p.amax_history_len = 4;
  const std::vector<float> x0 = random_values(16 * 32, 1), x1 = random_values(16 * 32, 2, 8);
  float amax0 = 0.0f, amax1 = 0.0f;
  for (float v : x0) amax0 = std::max(amax0, std::fabs(v));
  for (float v : x1) amax1 = std::max(amax1, std::fabs(v));
  GemmRuntime rt(kRunSeed);
  GemmSite site = site_with(p, 'a');
  site.a_tensor = "x";
  QuantScheme q;
  q.element = formats::e4m3;
  q.error_stats = false;
  auto expect_step = [&](const std::vector<float>& x, float multiplier, const std::string& what) {
    const MatrixView<float> view{x.data(), 16, 32, false};
    const std::vector<float> got = observe(rt, site, 'a', view);
    expect_op_values(got, dequantize(quantize_with_multiplier(x, {16, 32}, q, multiplier)), view, what);
  };
  rt.step = 0;
  expect_step(x0, 1.0f, "step 0: the initial multiplier 1");
  rt.step = 1;
  // TE's scale = fp8_max / amax (transformer_engine/common/recipe/recipe_common.cuh), margin 0.
  const float m1 = 448.0f / amax0;
  expect_step(x1, m1, "step 1: 448 / amax(step 0)");
  // A second GEMM of step 1 reads the same tensor (wgrad after fprop): same multiplier.
  site.role = GemmRole::fprop;
  expect_step(x1, m1, "step 1, second GEMM: the step's multiplier again");
  rt.step = 2;
  const float m2 = 448.0f / std::max(amax0, amax1);  // amax_compute_algo max over the history
  expect_step(x0, m2, "step 2: 448 / max(amax 0, amax 1)");
  const auto& states = rt.delayed_states();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states.begin()->second.history().size(), 3u);  // one amax per step
}

// ---- MMA accumulation ---------------------------------------------------------

struct Quantized {
  QuantizedTensor q;
  MatrixView<float> view;
  float value(size_t r, size_t c) const {  // op(X)[r][c]'s element value (unscaled)
    const size_t at = view.transposed ? c * view.cols + r : r * view.cols + c;
    return float(element_value(q.scheme, q.elements[at]));
  }
  float scale(size_t r, size_t c) const {  // op(X)[r][c]'s dequantization scale
    const size_t sr = view.transposed ? c : r, sc = view.transposed ? r : c;
    const uint32_t code = q.scheme.kind == ScaleKind::per_tensor
                              ? q.scales[0]
                              : q.scales[(sr / q.scheme.block.rows) * q.scale_grid.cols + sc / q.scheme.block.cols];
    return q.scale_format.bits == 32 ? std::bit_cast<float>(code) : float(to_double(code, q.scale_format));
  }
};

Quantized quantized(const std::vector<float>& x, MatrixView<float> view, ScaleKind kind, const Format& f,
                    BlockShape block, E8m0Rule rule = E8m0Rule::ceil) {
  QuantScheme q;
  q.kind = kind;
  q.element = f;
  q.block = block;
  q.e8m0_rule = rule;
  q.error_stats = false;
  view.data = x.data();
  return {fpsim::quantize(x, {view.rows, view.cols}, q), view};
}

TEST(GemmMma, PerTensorScalesMultiplyTheMmaResultOnce) {
  // dgrad under HYBRID: dY in e5m2, W in e4m3 (H100 takes e5m2 x e4m3).
  const size_t m = 8, n = 12, k = 96;
  const std::vector<float> dy = random_values(m * k, 31), w = random_values(k * n, 32), bias = random_values(n, 33);
  GemmPolicy p;
  p.a = scaled(formats::e5m2, OperandScaling::current);
  p.b = scaled(formats::e4m3, OperandScaling::current);
  p.accumulate = "h100-e4m3-fp32";
  const GemmSite site{"fc2", GemmRole::dgrad, "dy", "w", p};
  const MatrixView<float> va{dy.data(), m, k, false}, vb{w.data(), k, n, false};
  const Quantized qa = quantized(dy, va, ScaleKind::per_tensor, formats::e5m2, {});
  const Quantized qb = quantized(w, vb, ScaleKind::per_tensor, formats::e4m3, {});
  MmaModel model = mma_preset("h100-e4m3-fp32");
  model.input_a = formats::e5m2;
  const float alpha = qa.scale(0, 0) * qb.scale(0, 0);
  std::vector<float> acc(m * n);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      std::vector<float> row(k), col(k);
      for (size_t kk = 0; kk < k; ++kk) {
        row[kk] = qa.value(i, kk);
        col[kk] = qb.value(kk, j);
      }
      acc[i * n + j] = mma_dot(model, row, col, 0.0f) * alpha;
    }
  GemmRuntime rt(kRunSeed);
  std::vector<float> out(m * n);
  gemm(rt, site, va, vb, bias.data(), out);
  std::vector<float> want(m * n);
  for (size_t i = 0; i < want.size(); ++i) want[i] = acc[i] + bias[i % n];  // FP32 output: one FP32 add
  expect_bits_equal(out, want, "fp32 output");

  // bf16 output: round(acc + round(bias, bf16), bf16), the exact sum rounded once.
  GemmSite site16 = site;
  site16.policy.output = formats::bf16;
  gemm(rt, site16, va, vb, bias.data(), out);
  for (size_t i = 0; i < want.size(); ++i) {
    Flags fl;
    const uint64_t b16 = from_float(bias[i % n], formats::bf16, {}, fl);
    const uint64_t sum = fpsim::add(bits(acc[i]), formats::fp32, b16, formats::bf16, formats::bf16, {}, fl);
    want[i] = float(to_double(sum, formats::bf16));
  }
  expect_bits_equal(out, want, "bf16 output");
}

// Block scales along K (DeepSeek-V3 §3.3): each scale block's partial sum
// from 0, times fp32(sa * sb), added into an FP32 accumulator in K order.
void check_block_scaled_mma(const std::string& accumulate, ScaleKind kind, const Format& fmt, BlockShape a_block,
                            BlockShape b_block, const OperandPolicy& pa, const OperandPolicy& pb, size_t len) {
  const size_t m = 6, n = 10, k = 128;
  // fprop: X [M, K] rows, W [N, K] read transposed.
  const std::vector<float> x = random_values(m * k, 41), w = random_values(n * k, 42);
  const MatrixView<float> va{x.data(), m, k, false}, vb{w.data(), n, k, true};
  const Quantized qa = quantized(x, va, kind, fmt, a_block), qb = quantized(w, vb, kind, fmt, b_block);
  MmaModel model = mma_preset(accumulate);
  model.input_a = model.input_b = fmt;
  std::vector<float> want(m * n);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (size_t k0 = 0; k0 < k; k0 += len) {
        std::vector<float> row(len), col(len);
        for (size_t t = 0; t < len; ++t) {
          row[t] = qa.value(i, k0 + t);
          col[t] = qb.value(k0 + t, j);
        }
        const float partial = mma_dot(model, row, col, 0.0f);
        const float s = qa.scale(i, k0) * qb.scale(k0, j);
        const float scaled_partial = partial * s;
        acc = acc + scaled_partial;
      }
      want[i * n + j] = acc;
    }
  GemmPolicy p;
  p.a = pa;
  p.b = pb;
  p.accumulate = accumulate;
  GemmRuntime rt(kRunSeed);
  std::vector<float> out(m * n);
  gemm(rt, {"fc1", GemmRole::fprop, "x", "w", p}, va, vb, nullptr, out);
  expect_bits_equal(out, want, accumulate);
}

TEST(GemmMma, MxScalesApplyPerKBlockInBlockOrder) {
  OperandPolicy mx = scaled(formats::e4m3, OperandScaling::mx, 32);
  check_block_scaled_mma("h100-e4m3-fp32", ScaleKind::mx, formats::e4m3, {1, 32}, {1, 32}, mx, mx, 32);
}

TEST(GemmMma, Fp32BlockScalesWith2dWeightTilesApplyPerKBlock) {
  // DeepSeek: activations 1 x b, weights b x b; promoted accumulation.
  const OperandPolicy act = scaled(formats::e4m3, OperandScaling::block, 32);
  const OperandPolicy wt = scaled(formats::e4m3, OperandScaling::block, 32, true);
  check_block_scaled_mma("h100-e4m3-fp32:promote128", ScaleKind::fp32_block, formats::e4m3, {1, 32}, {32, 32}, act, wt,
                         32);
}

// DeepSeek-V3 §3.3: H800 FP8 GEMMs keep about 14 bits of the accumulator,
// so with fast accumulation the error of a long dot product grows with K
// (up to ~2% for K = 4096 in their test); promoting to FP32 every 128
// elements (N_C = 128) bounds it. Here (h100-e4m3-fp32: 13 fraction bits,
// truncation, docs/mma.md) on positive-mean data, where the truncations do
// not cancel. Expectations:
//  (1) K = 128 is one promotion interval, so both give the same bits;
//  (2) fast accumulation's error at K = 8192 exceeds 10x its error at K = 128;
//  (3) at K = 8192 fast accumulation's error exceeds 10x the promoted one;
//  (4) promotion keeps the error at K = 8192 within 3x its K = 128 level
//      (each 128-chunk keeps its own ~2^-13 relative error; the FP32 sum of
//      64 chunks adds only ~2^-24 per add);
//  (5) fast accumulation at K = 8192 is off by more than 1e-3 relative.
// (Measured with this data: fast 6.2e-4 at K = 128 and 0.15 at K = 8192;
// promoted 6.2e-4 and 5.8e-4.)
TEST(GemmMma, Fp8FastAccumulationDepartsFromPromotedAsKGrows) {
  auto relative_error = [](size_t k, const char* accumulate, std::vector<float>* out_values) {
    const size_t m = 2, n = 4;
    std::mt19937_64 rng(99);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> a(m * k), b(k * n);
    for (float& v : a) v = u(rng);
    for (float& v : b) v = u(rng);
    GemmPolicy p;
    p.a = p.b = scaled(formats::e4m3, OperandScaling::current);
    p.accumulate = accumulate;
    GemmRuntime rt(1);
    std::vector<float> out(m * n);
    const MatrixView<float> va{a.data(), m, k, false}, vb{b.data(), k, n, false};
    gemm(rt, {"fc1", GemmRole::fprop, "x", "w", p}, va, vb, nullptr, out);
    const Quantized qa = quantized(a, va, ScaleKind::per_tensor, formats::e4m3, {});
    const Quantized qb = quantized(b, vb, ScaleKind::per_tensor, formats::e4m3, {});
    double worst = 0;
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) {
        // The exact dot product of the same FP8 values: every product has at
        // most 8 significant bits and the sum stays within 53 bits, so
        // double holds it exactly; the scales multiply once at the end.
        double exact = 0;
        for (size_t kk = 0; kk < k; ++kk) exact += double(qa.value(i, kk)) * double(qb.value(kk, j));
        exact *= double(qa.scale(0, 0)) * double(qb.scale(0, 0));
        worst = std::max(worst, std::fabs(double(out[i * n + j]) - exact) / std::fabs(exact));
      }
    if (out_values) *out_values = out;
    return worst;
  };
  std::vector<float> fast_128_out, promoted_128_out;
  const double fast_128 = relative_error(128, "h100-e4m3-fp32", &fast_128_out);
  const double promoted_128 = relative_error(128, "h100-e4m3-fp32:promote128", &promoted_128_out);
  const double fast_8192 = relative_error(8192, "h100-e4m3-fp32", nullptr);
  const double promoted_8192 = relative_error(8192, "h100-e4m3-fp32:promote128", nullptr);
  std::printf("  relative error: fast K=128 %.3g, K=8192 %.3g; promoted K=128 %.3g, K=8192 %.3g\n", fast_128, fast_8192,
              promoted_128, promoted_8192);
  expect_bits_equal(fast_128_out, promoted_128_out, "K = 128");
  EXPECT_GT(fast_8192, 10 * fast_128);
  EXPECT_GT(fast_8192, 10 * promoted_8192);
  EXPECT_LT(promoted_8192, 3 * promoted_128);
  EXPECT_GT(fast_8192, 1e-3);
}

// ---- output epilogue ------------------------------------------------------------

// round(acc + round(bias, out), out) is one rounding of the exact sum. A
// plain FP32 add then a second rounding gets these wrong: the FP32 sum lands
// exactly on a bf16 halfway point that the exact sum is not on.
TEST(GemmEpilogue, BiasSumIsRoundedOnceFromTheExactValue) {
  auto run = [](float acc, float bias, const Format& out_format) {
    // K = 1: acc = fma(acc, 1, +0) = acc.
    GemmPolicy p;
    p.output = out_format;
    GemmRuntime rt;
    float out = 0.0f;
    const float one = 1.0f;
    gemm(rt, {"head", GemmRole::fprop, "x", "w", p}, {&acc, 1, 1, false}, {&one, 1, 1, false}, &bias, {&out, 1});
    return out;
  };
  // 1 + (2^-8 + 2^-31): the FP32 sum is 1 + 2^-8, halfway between bf16 1 and
  // 1 + 2^-7 (ties-to-even: 1); the exact sum is above halfway: 1 + 2^-7.
  EXPECT_EQ(run(std::ldexp(1.0f, -8) + std::ldexp(1.0f, -31), 1.0f, formats::bf16), 1.0f + std::ldexp(1.0f, -7));
  // (1 + 2^-7) + (2^-8 - 2^-32): FP32 gives the halfway point 1 + 2^-7 + 2^-8
  // (ties-to-even: 1 + 2^-6); the exact sum is below it: 1 + 2^-7.
  EXPECT_EQ(run(std::ldexp(1.0f, -8) - std::ldexp(1.0f, -32), 1.0f + std::ldexp(1.0f, -7), formats::bf16),
            1.0f + std::ldexp(1.0f, -7));
  // fp16 overflow is inf, as on a GPU: 65504 + 16 = 65520 is halfway between
  // 65504 (odd significand) and 2^16, ties-to-even gives 2^16: inf.
  EXPECT_EQ(run(65504.0f, 16.0f, formats::fp16), std::numeric_limits<float>::infinity());
  EXPECT_EQ(run(65504.0f, 15.0f, formats::fp16), 65504.0f);
  // An FP32 sum that overflows still rounds the exact value (bf16: inf).
  EXPECT_EQ(run(std::numeric_limits<float>::max(), std::numeric_limits<float>::max(), formats::bf16),
            std::numeric_limits<float>::infinity());
  // Random values, against the scalar core's exact add.
  const std::vector<float> acc = random_values(4000, 61, 30), bias = random_values(4000, 62, 30);
  for (const Format& f : {formats::bf16, formats::fp16}) {
    for (size_t i = 0; i < acc.size(); ++i) {
      Flags fl;
      const uint64_t rb = from_float(bias[i], f, {}, fl);
      const float want = float(to_double(fpsim::add(bits(acc[i]), formats::fp32, rb, f, f, {}, fl), f));
      const float got = run(acc[i], bias[i], f);
      if (bits(got) != bits(want)) {
        ADD_FAILURE() << f.name << ": " << acc[i] << " + " << bias[i] << " gave " << got << ", want " << want;
        break;
      }
    }
  }
}

// ---- statistics ---------------------------------------------------------------

TEST(GemmStats, PlainCastCountsWhatTheCastDid) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  // e4m3: max 448, smallest subnormal 2^-9; 1e-5 rounds to 0, 500 clips to 448.
  const std::vector<float> x = {1e-5f, 500.0f, nan, inf, 1.0f, -0.75f, 0.0f, 3.0f};
  const std::vector<float> eye = identity(8);
  GemmPolicy p;
  p.a = scaled(formats::e4m3, OperandScaling::none);
  GemmRuntime rt(kRunSeed);
  rt.step = 9;
  rt.collect_stats = true;
  std::vector<float> out(8);
  gemm(rt, {"fc1", GemmRole::fprop, "x", "w", p}, {x.data(), 1, 8, false}, {eye.data(), 8, 8, false}, nullptr, out);
  ASSERT_EQ(rt.stats.size(), 1u);  // the fp32 operand has no row
  const OperandStatsRow& r = rt.stats[0];
  EXPECT_EQ(r.step, 9u);
  EXPECT_EQ(r.layer, "fc1");
  EXPECT_EQ(r.operand, 'a');
  EXPECT_EQ(r.tensor, "x");
  EXPECT_EQ(r.stats.elements, 8u);
  EXPECT_EQ(r.stats.nan_inputs, 1u);
  EXPECT_EQ(r.stats.inf_inputs, 1u);
  EXPECT_EQ(r.stats.underflows, 1u);
  EXPECT_EQ(r.stats.saturated, 1u);
  EXPECT_EQ(r.stats.amax, inf);
  // docs/quantization.md §4 over the inputs that are finite with a finite
  // cast (NaN and inf excluded): errors 1e-5 (-> 0) and 52 (500 -> 448);
  // 1, -0.75, 0 and 3 are e4m3 values.
  const double tiny = double(1e-5f);
  const double sum_x2 = tiny * tiny + 500.0 * 500.0 + 1.0 + 0.5625 + 9.0;
  const double sum_e2 = tiny * tiny + 52.0 * 52.0;
  EXPECT_NEAR(r.stats.sqnr_db, 10.0 * std::log10(sum_x2 / sum_e2), 1e-9);
  EXPECT_EQ(r.scale_min, 1.0f);
  EXPECT_EQ(r.scale_max, 1.0f);
}

TEST(GemmStats, ScaledOperandReportsTheQuantizerStatsAndScaleRange) {
  const std::vector<float> x = random_values(4 * 64, 71);
  const std::vector<float> eye = identity(64);
  GemmPolicy p;
  p.a = scaled(formats::e4m3, OperandScaling::mx, 32);
  p.b = scaled(formats::bf16, OperandScaling::none);
  GemmRuntime rt(kRunSeed);
  rt.collect_stats = true;
  std::vector<float> out(4 * 64);
  gemm(rt, {"fc1", GemmRole::fprop, "x", "w", p}, {x.data(), 4, 64, false}, {eye.data(), 64, 64, false}, nullptr, out);
  ASSERT_EQ(rt.stats.size(), 2u);
  QuantScheme q;
  q.kind = ScaleKind::mx;
  q.element = formats::e4m3;
  q.block = {1, 32};
  q.e8m0_rule = E8m0Rule::ceil;
  const QuantizedTensor want = fpsim::quantize(x, {4, 64}, q);
  const OperandStatsRow& a = rt.stats[0];
  EXPECT_EQ(a.operand, 'a');
  EXPECT_EQ(a.stats.underflows, want.stats.underflows);
  EXPECT_EQ(a.stats.saturated, want.stats.saturated);
  EXPECT_EQ(a.stats.sqnr_db, want.stats.sqnr_db);
  float lo = INFINITY, hi = 0;
  for (uint32_t c : want.scales) {
    const float s = std::ldexp(1.0f, int(c) - 127);
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  EXPECT_EQ(a.scale_min, lo);
  EXPECT_EQ(a.scale_max, hi);
  const OperandStatsRow& b = rt.stats[1];
  EXPECT_EQ(b.operand, 'b');
  EXPECT_EQ(b.stats.underflows, 0u);
  EXPECT_TRUE(std::isinf(b.stats.sqnr_db));  // 0 and 1 are bf16 values: no error
}

// ---- bad input ----------------------------------------------------------------

TEST(GemmErrors, BlockThatDoesNotDivideKNamesTheSite) {
  const std::vector<float> x(8 * 48, 1.0f), w(48 * 8, 1.0f);
  GemmPolicy p;
  p.a = scaled(formats::e4m3, OperandScaling::mx, 32);
  GemmRuntime rt;
  std::vector<float> out(64);
  try {
    gemm(rt, {"blocks.3.mlp.fc1", GemmRole::fprop, "x", "w", p}, {x.data(), 8, 48, false}, {w.data(), 48, 8, false},
         nullptr, out);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'blocks.3.mlp.fc1'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fprop"), std::string::npos) << msg;
    EXPECT_NE(msg.find("operand a"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("K = 48"), std::string::npos) << msg;
  }
}

TEST(GemmErrors, Nvfp4WithAnMmaModelIsNotModelled) {
  const std::vector<float> x(4 * 32, 1.0f), w(32 * 4, 1.0f);
  GemmPolicy p;
  p.a = scaled(formats::e2m1, OperandScaling::nvfp4, 16);
  p.b = scaled(formats::e2m1, OperandScaling::nvfp4, 16);
  p.accumulate = "h100-e4m3-fp32";
  GemmRuntime rt;
  std::vector<float> out(16);
  try {
    gemm(rt, {"fc1", GemmRole::fprop, "x", "w", p}, {x.data(), 4, 32, false}, {w.data(), 32, 4, false}, nullptr, out);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("not modelled"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("accumulate = fp32"), std::string::npos) << e.what();
  }
}

TEST(GemmErrors, ShapesUnknownModelsAndHadamardMisuseAreConfigErrors) {
  const std::vector<float> x(4 * 32, 1.0f);
  std::vector<float> out(16);
  GemmRuntime rt;
  GemmPolicy p;
  // Inner dimensions 32 vs 4.
  EXPECT_THROW(
      gemm(rt, {"fc1", GemmRole::fprop, "x", "w", p}, {x.data(), 4, 32, false}, {x.data(), 4, 32, false}, nullptr, out),
      ConfigError);
  p.accumulate = "no-such-gpu";
  EXPECT_THROW(
      gemm(rt, {"fc1", GemmRole::fprop, "x", "w", p}, {x.data(), 4, 32, false}, {x.data(), 4, 32, true}, nullptr, out),
      ConfigError);
  p.accumulate = "fp32";
  p.a = scaled(formats::e4m3, OperandScaling::current);
  p.a.hadamard = true;
  EXPECT_THROW(
      gemm(rt, {"fc1", GemmRole::fprop, "x", "w", p}, {x.data(), 4, 32, false}, {x.data(), 4, 32, true}, nullptr, out),
      ConfigError);
}

// ---- FP64 -------------------------------------------------------------------------

TEST(GemmFp64, IsThePlainDoubleSum) {
  // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] + [0.5, -1] = [58.5 63; 139.5 153].
  const double a[] = {1, 2, 3, 4, 5, 6};
  const double bt[] = {7, 9, 11, 8, 10, 12};  // B stored transposed [N, K]
  const double bias[] = {0.5, -1};
  std::vector<double> out(4);
  GemmRuntime rt;
  GemmSite site{"fc1", GemmRole::fprop, "x", "w", {}};
  site.policy.a = scaled(formats::e2m1, OperandScaling::nvfp4, 16);  // ignored
  gemm(rt, site, MatrixView<double>{a, 2, 3, false}, MatrixView<double>{bt, 2, 3, true}, bias, out);
  EXPECT_EQ(out, (std::vector<double>{58.5, 63, 139.5, 153}));
}

}  // namespace
}  // namespace fpsim::experiments
