// Scaled quantization, the MPFR oracle (docs/quantization.md).
//
// Independent of sim/: the format facts come from ref_format (the reference's
// own table), and every rounding goes through the reference's conversion core
// (produce(), internal.hpp), reached three ways:
//   - ref_arith(op, operands, to, spec): the exact result of one operation on
//     exact operands, rounded once (div through 256-bit round-to-odd, which
//     is a correct rounding, see arith.cpp). fp32(a op b) is
//     ref_arith(op, {a, b}, fp32, rne/ieee); round(x * m) is
//     ref_arith(mul, {x, m}, element, scheme.rounding), so inf and the signs
//     of zero follow docs/arithmetic-semantics.md, and daz reads a subnormal
//     FP32 input x as ±0. A NaN input never reaches the arithmetic: it is
//     converted as itself (docs/quantization.md §3 "NaN inputs"); a NaN
//     produced inside the Hadamard sums is ref_arith's default +NaN (§6).
//   - ref_convert(code, fp32, to, spec): round(t) of an FP32 intermediate t.
//   - round_exact() below: an exact MPFR value handed to produce().
// Operands that are scale values (2^-k, s_block * s_global, 6 * s_global)
// are formed exactly in MPFR and checked to be exact in fp64 before they are
// passed as fp64 operands.
//
// Comparisons that decide statistics (|scaled| > element max) are exact MPFR
// comparisons. Integer facts (floor(log2 amax)) come from mpfr_get_exp of the
// exact value, never from a floating-point log2.
#include "fpsim_ref/quantize.hpp"

#include <mpfr.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "fpsim_ref/reference.hpp"
#include "internal.hpp"

namespace fpsim_ref {
namespace {

using detail::CallGuard;
using detail::Decoded;
using detail::How;
using detail::Kind;
using detail::S;
using detail::Work;

const RefFormat& fp32f() {
  static const RefFormat& f = ref_format("fp32");
  return f;
}
const RefFormat& fp64f() {
  static const RefFormat& f = ref_format("fp64");
  return f;
}
const RefFormat& ue4m3f() {
  static const RefFormat& f = ref_format("ue4m3");
  return f;
}
const RefFormat& e8m0f() {
  static const RefFormat& f = ref_format("e8m0");
  return f;
}

uint32_t bits_of(float v) { return std::bit_cast<uint32_t>(v); }
float float_of(uint64_t code) { return std::bit_cast<float>(static_cast<uint32_t>(code)); }

RefOperand f32(float v) { return {bits_of(v), &fp32f()}; }
RefOperand f64(double v) { return {std::bit_cast<uint64_t>(v), &fp64f()}; }

// rne, ieee overflow, no ftz/daz: one IEEE FP32 operation.
constexpr RefSpec kPlain{};

RefResult arith2(RefOp op, RefOperand a, RefOperand b, const RefFormat& to, const RefSpec& spec) {
  const std::array<RefOperand, 2> ops{a, b};
  return ref_arith(op, ops, to, spec);
}

// fp32(a op b).
float fp32_op(RefOp op, RefOperand a, RefOperand b) { return float_of(arith2(op, a, b, fp32f(), kPlain).code); }

// Per-thread MPFR variables of the quantizers (never Work's, which produce() uses).
struct QWork {
  mpfr_t a, b, c, m;
  QWork() { mpfr_inits2(256, a, b, c, m, static_cast<mpfr_ptr>(nullptr)); }
  ~QWork() { mpfr_clears(a, b, c, m, static_cast<mpfr_ptr>(nullptr)); }
  QWork(const QWork&) = delete;
  QWork& operator=(const QWork&) = delete;
};

QWork& qwork() {
  thread_local QWork q;
  return q;
}

void set_exact(mpfr_ptr v, double d) {
  mpfr_set_prec(v, 256);
  if (mpfr_set_d(v, d, MPFR_RNDN) != 0) throw std::logic_error("fpsim_ref quantize: value not exact");
}

// out = a * b, checked exact (256 bits hold every product formed here).
void exact_mul(mpfr_ptr out, mpfr_srcptr a, mpfr_srcptr b) {
  if (mpfr_mul(out, a, b, MPFR_RNDN) != 0) throw std::logic_error("fpsim_ref quantize: product not exact");
}

// The double holding the exact MPFR value v (checked).
double exact_double(mpfr_srcptr v) {
  const double d = mpfr_get_d(v, MPFR_RNDN);
  if (mpfr_cmp_d(v, d) != 0) throw std::logic_error("fpsim_ref quantize: value not exact in fp64");
  return d;
}

// The exact signed value v (any kind) rounded once into `to` with `spec`.
uint64_t round_exact(mpfr_srcptr v, const RefFormat& to, const RefSpec& spec) {
  Work& w = detail::work();
  Decoded d;
  if (mpfr_nan_p(v)) {
    d.kind = Kind::nan;
  } else {
    d.neg = mpfr_signbit(v) != 0;
    if (mpfr_inf_p(v)) {
      d.kind = Kind::inf;
    } else if (mpfr_zero_p(v)) {
      d.kind = Kind::zero;
    } else {
      d.kind = Kind::finite;
      mpfr_set_prec(w.x, mpfr_get_prec(v));
      mpfr_abs(w.x, v, MPFR_RNDN);  // exact
    }
  }
  return detail::produce(w, d, w.x, to, spec, How{spec.mode, false, false}, 0).code;
}

enum class Kind4 { per_tensor, mx, nvfp4, fp32_block };

Kind4 parse_kind(const std::string& k) {
  if (k == "per_tensor") return Kind4::per_tensor;
  if (k == "mx") return Kind4::mx;
  if (k == "nvfp4") return Kind4::nvfp4;
  if (k == "fp32_block") return Kind4::fp32_block;
  throw std::invalid_argument(std::string("unknown quantization kind '").append(k).append(
      "' (valid: per_tensor mx nvfp4 fp32_block)"));
}

enum class Rule { floor, ceil, rne };

Rule parse_rule(std::string_view r) {
  if (r == "floor") return Rule::floor;
  if (r == "ceil") return Rule::ceil;
  if (r == "rne") return Rule::rne;
  throw std::invalid_argument(std::string("unknown e8m0 rule '").append(r).append("' (valid: floor ceil rne)"));
}

const RefFormat& element_format(std::string_view name) {
  const RefFormat& f = ref_format(name);
  if (f.bits > 8)
    throw std::invalid_argument(std::string("element format ").append(f.name).append(" is wider than 8 bits"));
  return f;
}

bool is_int8(const RefFormat& f) { return f.specials == S::int8; }

double element_max_of(const RefFormat& f, bool mx) { return mx && is_int8(f) ? 127.0 / 64.0 : f.max_finite; }

int emax_of(double max) {
  int e = 0;
  std::frexp(max, &e);  // max = m * 2^e, m in [0.5, 1): floor(log2 max) = e - 1 (exact)
  return e - 1;
}

uint8_t e8m0_code(float amax, Rule rule, const RefFormat& elem, bool mx_int8) {
  const double emax_value = mx_int8 ? 127.0 / 64.0 : elem.max_finite;
  if (rule == Rule::floor) {
    if (std::isnan(amax) || std::isinf(amax)) return 0xFF;
    if (amax == 0) return 0x00;
    QWork& q = qwork();
    mpfr_set_prec(q.a, 64);
    mpfr_set_flt(q.a, std::fabs(amax), MPFR_RNDN);  // exact
    const long floor_log2 = static_cast<long>(mpfr_get_exp(q.a)) - 1;  // amax in [2^(e-1), 2^e)
    long k = floor_log2 - emax_of(emax_value);
    if (k > 127) return 0xFF;
    if (k < -127) k = -127;
    return static_cast<uint8_t>(k + 127);
  }
  const float qv = fp32_op(RefOp::div, f32(amax), f64(emax_value));
  RefSpec spec;
  if (rule == Rule::ceil) {
    spec.mode = RefMode::rup;
    spec.saturate = true;
  }
  return static_cast<uint8_t>(ref_convert(bits_of(qv), fp32f(), e8m0f(), spec).code);
}

// |v| > max, exactly.
bool abs_exceeds(mpfr_srcptr v, double max) {
  QWork& q = qwork();
  set_exact(q.m, max);
  return mpfr_cmpabs(v, q.m) > 0;
}

struct Block {
  size_t r0, r1, c0, c1;  // [r0, r1) x [c0, c1)
};

struct Ctx {
  const RefQuantScheme& s;
  Kind4 kind;
  const RefFormat& elem;
  bool mx_int8;
  double max;  // element max
  std::span<const float> x;
  size_t cols;
  RefQuantized& q;
};

template <class F>
void for_each(const Block& b, size_t cols, F&& f) {
  for (size_t r = b.r0; r < b.r1; ++r)
    for (size_t c = b.c0; c < b.c1; ++c) f(r * cols + c);
}

// Block amax: NaN-propagating (MX) or NaN-ignoring (everything else).
float block_amax(const Ctx& c, const Block& b, bool nan_propagates) {
  float amax = 0.0f;
  bool nan = false;
  for_each(b, c.cols, [&](size_t i) {
    const float v = c.x[i];
    if (std::isnan(v)) {
      nan = true;
    } else {
      amax = std::max(amax, std::fabs(v));  // exact comparisons
    }
  });
  if (nan && nan_propagates) return std::numeric_limits<float>::quiet_NaN();
  return amax;
}


double element_value_of(const RefFormat& f, bool mx, uint8_t code) {
  const double v = ref_decode_to_double(code, f);
  return mx && is_int8(f) ? std::ldexp(v, -6) : v;  // MXINT8: code * 2^-6 (exact)
}

// Records element i's code and its statistics (a NaN-scale block counts
// neither underflows nor saturations).
void put(Ctx& c, size_t i, uint64_t code, bool saturated, bool nan_scale = false) {
  c.q.elements[i] = static_cast<uint8_t>(code);
  const float v = c.x[i];
  if (!nan_scale && std::isfinite(v) && v != 0 &&
      element_value_of(c.elem, c.kind == Kind4::mx, c.q.elements[i]) == 0)
    ++c.q.underflows;
  if (saturated) ++c.q.saturated;
}

// round(+NaN): what a NaN scale makes of every element of its block.
uint64_t round_nan(const Ctx& c) {
  return ref_convert(bits_of(std::numeric_limits<float>::quiet_NaN()), fp32f(), c.elem, c.s.rounding).code;
}

// round(x) of a NaN input x, whatever the scale (docs/quantization.md §3 "NaN
// inputs"): converted as itself, keeping its sign where the element format has
// signed NaNs (fp32 -NaN -> e4m3 0xFF; e2m1 +max).
uint64_t round_input_nan(const Ctx& c, float v) {
  return ref_convert(bits_of(v), fp32f(), c.elem, c.s.rounding).code;
}

// per_tensor / fp32_block: element i with FP32 multiplier s.
void fp32_scheme_element(Ctx& c, size_t i, float s) {
  const float v = c.x[i];
  if (std::isnan(v)) {
    put(c, i, round_input_nan(c, v), false);
    return;
  }
  if (!c.s.exact_arith) {
    const float t = fp32_op(RefOp::mul, f32(v), f32(s));  // t = fp32(x * s)
    const uint64_t code = ref_convert(bits_of(t), fp32f(), c.elem, c.s.rounding).code;
    put(c, i, code, std::isfinite(v) && std::fabs(static_cast<double>(t)) > c.max);  // exact comparison
    return;
  }
  const uint64_t code = arith2(RefOp::mul, f32(v), f32(s), c.elem, c.s.rounding).code;  // round(x * s)
  bool sat = false;
  if (std::isfinite(v)) {
    QWork& q = qwork();
    set_exact(q.a, v);
    set_exact(q.b, s);
    mpfr_set_prec(q.c, 256);
    exact_mul(q.c, q.a, q.b);
    sat = abs_exceeds(q.c, c.max);
  }
  put(c, i, code, sat);
}

void fp32_scheme_block(Ctx& c, const Block& b, size_t bidx, float s) {
  c.q.multipliers[bidx] = bits_of(s);
  c.q.scales[bidx] = bits_of(fp32_op(RefOp::div, f32(1.0f), f32(s)));  // scale_inv = fp32(1 / s)
  for_each(b, c.cols, [&](size_t i) { fp32_scheme_element(c, i, s); });
}

void mx_block(Ctx& c, const Block& b, size_t bidx) {
  const float amax = block_amax(c, b, /*nan_propagates=*/true);
  const uint8_t code = e8m0_code(amax, parse_rule(c.s.e8m0_rule), c.elem, c.mx_int8);
  c.q.scales[bidx] = code;
  if (code == 0xFF) {  // NaN scale: every element is round(NaN), no saturations or underflows
    ++c.q.nan_scale_blocks;
    const uint64_t nan_code = round_nan(c);
    for_each(b, c.cols, [&](size_t i) { put(c, i, nan_code, false, /*nan_scale=*/true); });
    return;
  }
  const int k = static_cast<int>(code) - 127;
  const int shift = (c.mx_int8 ? 6 : 0) - k;  // element = round(x * 2^shift)
  const double m = std::ldexp(1.0, shift);     // exact: |shift| <= 133
  for_each(b, c.cols, [&](size_t i) {
    const float v = c.x[i];
    if (std::isnan(v)) {  // unreachable: a NaN makes the block's amax, hence its scale, NaN
      put(c, i, round_input_nan(c, v), false);
      return;
    }
    const uint64_t e = arith2(RefOp::mul, f32(v), f64(m), c.elem, c.s.rounding).code;
    bool sat = false;
    if (std::isfinite(v)) {  // |x * 2^-k| > element max (MXINT8: 127/64), exactly
      QWork& q = qwork();
      set_exact(q.a, v);
      mpfr_mul_2si(q.a, q.a, -k, MPFR_RNDN);  // exact
      sat = abs_exceeds(q.a, c.max);
    }
    put(c, i, e, sat);
  });
}

// docs/quantization.md §3 nvfp4, TE's orders (tests/cpp/operator/
// test_cast_nvfp4_transpose.cu, quantize_nvfp4_1d): S_enc = fp32(2688 / amax_t)
// (clamped to FLT_MAX; amax_t 0 or S_enc 0 -> 1); element = round(fp32(x * enc_b)).
// Since TE c74e5aa37: s_block = ue4m3(min(fp32(amax_b * fp32(S_enc * fp32(1/6))),
// FLT_MAX)), enc_b = min(fp32(1 / fp32(s_block * fp32(1 / S_enc))), FLT_MAX).
// Before it (nvfp4_te_legacy_order): s_block = ue4m3(fp32(fp32(amax_b / 6) *
// S_enc)), enc_b = fp32(S_enc / s_block).
constexpr double kNvfp4ElemMax = 6.0;
constexpr double kNvfp4GlobalNumerator = 2688.0;  // 448 * 6

float nvfp4_encode_scale(float amax_t, double numerator = kNvfp4GlobalNumerator) {
  float e = fp32_op(RefOp::div, f64(numerator), f32(amax_t));  // inf for amax_t 0
  if (!(e <= std::numeric_limits<float>::max())) e = std::numeric_limits<float>::max();  // fminf(e, FLT_MAX)
  if (amax_t == 0 || e == 0) return 1.0f;
  return e;
}

void nvfp4_block(Ctx& c, const Block& b, size_t bidx, float s_enc) {
  // NaN-propagating, as MX: a NaN in the block makes its ue4m3 scale NaN
  // (docs/quantization.md §2), since e2m1 elements cannot hold a NaN.
  const float amax_b = block_amax(c, b, /*nan_propagates=*/true);
  QWork& q = qwork();
  RefSpec scale_spec;
  scale_spec.saturate = true;  // convert(., ue4m3, rne, saturate)
  uint64_t sb = 0;
  constexpr float kFltMax = std::numeric_limits<float>::max();
  if (!c.s.exact_arith && c.s.nvfp4_te_legacy_order) {
    const float dec_b = fp32_op(RefOp::div, f32(amax_b), f64(kNvfp4ElemMax));  // fp32(amax_b / 6)
    const float t = fp32_op(RefOp::mul, f32(dec_b), f32(s_enc));                // fp32(dec_b * S_enc)
    sb = ref_convert(bits_of(t), fp32f(), ue4m3f(), scale_spec).code;
  } else if (!c.s.exact_arith) {
    const float rcp6 = fp32_op(RefOp::div, f64(1.0), f64(kNvfp4ElemMax));  // fp32(1/6)
    const float k = fp32_op(RefOp::mul, f32(s_enc), f32(rcp6));             // fp32(S_enc * rcp6)
    float t = fp32_op(RefOp::mul, f32(amax_b), f32(k));                     // fp32(amax_b * k)
    if (t > kFltMax) t = kFltMax;  // TE's fminf(., FLT_MAX); a NaN amax keeps the NaN scale (§2)
    sb = ref_convert(bits_of(t), fp32f(), ue4m3f(), scale_spec).code;
  } else {
    set_exact(q.a, amax_b);
    set_exact(q.b, s_enc);
    mpfr_set_prec(q.c, 256);
    exact_mul(q.c, q.a, q.b);  // amax_b * S_enc, exact (48 bits)
    sb = arith2(RefOp::div, f64(exact_double(q.c)), f64(kNvfp4ElemMax), ue4m3f(), scale_spec).code;
  }
  c.q.scales[bidx] = static_cast<uint32_t>(sb);
  if (sb == 0x7F) {  // NaN scale: every element is round(NaN), no saturations or underflows
    ++c.q.nan_scale_blocks;
    const uint64_t nan_code = round_nan(c);
    for_each(b, c.cols, [&](size_t i) { put(c, i, nan_code, false, /*nan_scale=*/true); });
    return;
  }
  if (sb == 0) {  // zero block scale: round(±0) with x's sign; non-finite x: round(x); no saturations
    for_each(b, c.cols, [&](size_t i) {
      const float v = c.x[i];
      const float in = std::isfinite(v) ? std::copysign(0.0f, v) : v;
      put(c, i, ref_convert(bits_of(in), fp32f(), c.elem, c.s.rounding).code, false);
    });
    return;
  }
  const double sbv = ref_decode_to_double(sb, ue4m3f());
  float enc_b = 0.0f;
  if (c.s.nvfp4_te_legacy_order) {
    enc_b = fp32_op(RefOp::div, f32(s_enc), f64(sbv));  // fp32(S_enc / s_block)
  } else {
    const float s_dec = fp32_op(RefOp::div, f64(1.0), f32(s_enc));  // fp32(1 / S_enc)
    const float p = fp32_op(RefOp::mul, f64(sbv), f32(s_dec));      // fp32(s_block * S_dec)
    enc_b = fp32_op(RefOp::div, f64(1.0), f32(p));                  // inf when p is 0
    if (enc_b > kFltMax) enc_b = kFltMax;
  }
  for_each(b, c.cols, [&](size_t i) {
    const float v = c.x[i];
    if (std::isnan(v)) {
      put(c, i, round_input_nan(c, v), false);
      return;
    }
    if (!c.s.exact_arith) {
      const float t = fp32_op(RefOp::mul, f32(v), f32(enc_b));  // t = fp32(x * enc_b)
      const uint64_t e = ref_convert(bits_of(t), fp32f(), c.elem, c.s.rounding).code;
      put(c, i, e, std::isfinite(v) && std::fabs(static_cast<double>(t)) > c.max);
      return;
    }
    // round(x * S_enc / s_block) from the exact value, once.
    QWork& w = qwork();
    set_exact(w.a, v);
    set_exact(w.b, s_enc);
    mpfr_set_prec(w.c, 256);
    exact_mul(w.c, w.a, w.b);  // x * S_enc, exact
    const uint64_t e = arith2(RefOp::div, f64(exact_double(w.c)), f64(sbv), c.elem, c.s.rounding).code;
    bool sat = false;
    if (std::isfinite(v)) {  // |x * S_enc / s_block| > max  <=>  |x * S_enc| > max * s_block, exactly
      set_exact(w.a, c.max);
      set_exact(w.b, sbv);
      mpfr_set_prec(w.m, 256);
      exact_mul(w.m, w.a, w.b);
      sat = mpfr_cmpabs(w.c, w.m) > 0;
    }
    put(c, i, e, sat);
  });
}

// docs/quantization.md §3 "nvfp4 4over6", transcribed again: S_enc =
// fp32(1536 / amax_t); base = fp32(fp32(amax_b / 6) * S_enc); map-to-6
// s6 = ue4m3(min(base, 448)), map-to-4 s4 = ue4m3(min(fp32(1.5 base), 448));
// each candidate's e = min(fp32(1 / fp32(s * fp32(1 / S_enc))), FLT_MAX),
// elements round(fp32(x * e)) (s = 0: ±0); its error sums, in FP32 along each
// row, |d| (mae) or fp32(d * d) (mse) with d = fp32(fp32(fp32(fp32(q * s) *
// amax_t) / 1536) - x); a 16-row block adds its rows' sums pairwise 8, 4, 2
// and 1 apart. map-to-4 only when its error is smaller.
constexpr double kFourOverSixGlobalNumerator = 1536.0;  // 256 * 6

struct FourOverSixCandidate {
  uint64_t scale = 0;
  float error = 0.0f;
  std::vector<std::pair<uint64_t, bool>> elements;  // code, saturated; the block's row-major order
};

FourOverSixCandidate four_over_six_candidate(const Ctx& c, const Block& b, float s_enc, float amax_t, float pre) {
  constexpr float kFltMax = std::numeric_limits<float>::max();
  RefSpec scale_spec;
  scale_spec.saturate = true;
  FourOverSixCandidate k;
  k.scale = ref_convert(bits_of(pre), fp32f(), ue4m3f(), scale_spec).code;
  const double sv = ref_decode_to_double(k.scale, ue4m3f());
  const float s_dec = fp32_op(RefOp::div, f64(1.0), f32(s_enc));
  float e = fp32_op(RefOp::div, f64(1.0), f32(fp32_op(RefOp::mul, f64(sv), f32(s_dec))));
  if (e > kFltMax) e = kFltMax;
  std::vector<float> rows(16, 0.0f);
  for (size_t r = b.r0; r < b.r1; ++r) {
    float err = 0.0f;
    for (size_t col = b.c0; col < b.c1; ++col) {
      const float v = c.x[r * c.cols + col];
      uint64_t code = 0;
      bool sat = false;
      if (sv == 0) {
        code = ref_convert(bits_of(std::copysign(0.0f, v)), fp32f(), c.elem, c.s.rounding).code;
      } else {
        const float t = fp32_op(RefOp::mul, f32(v), f32(e));
        code = ref_convert(bits_of(t), fp32f(), c.elem, c.s.rounding).code;
        sat = std::isfinite(v) && std::fabs(static_cast<double>(t)) > c.max;
      }
      k.elements.emplace_back(code, sat);
      const double q = ref_decode_to_double(code, c.elem);
      const float p1 = fp32_op(RefOp::mul, f64(q), f64(sv));
      const float p2 = fp32_op(RefOp::mul, f32(p1), f32(amax_t));
      const float val = fp32_op(RefOp::div, f32(p2), f64(kFourOverSixGlobalNumerator));
      const float d = fp32_op(RefOp::sub, f32(val), f32(v));
      const float term = c.s.four_over_six == "mse" ? fp32_op(RefOp::mul, f32(d), f32(d)) : std::fabs(d);
      err = fp32_op(RefOp::add, f32(err), f32(term));
    }
    rows[(r - b.r0) % 16] = err;
  }
  for (size_t step = 8; step >= 1 && b.r1 - b.r0 > 1; step /= 2)
    for (size_t l = 0; l < step; ++l) rows[l] = fp32_op(RefOp::add, f32(rows[l]), f32(rows[l + step]));
  k.error = rows[0];
  return k;
}

void nvfp4_4over6_block(Ctx& c, const Block& b, size_t bidx, float s_enc, float amax_t) {
  const float amax_b = block_amax(c, b, /*nan_propagates=*/true);
  if (std::isnan(amax_b)) {  // the NaN scale of plain nvfp4
    nvfp4_block(c, b, bidx, s_enc);
    return;
  }
  const float base = fp32_op(RefOp::mul, f32(fp32_op(RefOp::div, f32(amax_b), f64(kNvfp4ElemMax))), f32(s_enc));
  const float wide = fp32_op(RefOp::mul, f32(base), f64(1.5));
  const FourOverSixCandidate map6 = four_over_six_candidate(c, b, s_enc, amax_t, base > 448.0f ? 448.0f : base);
  const FourOverSixCandidate map4 = four_over_six_candidate(c, b, s_enc, amax_t, wide > 448.0f ? 448.0f : wide);
  const FourOverSixCandidate& kept = map4.error < map6.error ? map4 : map6;
  c.q.scales[bidx] = static_cast<uint32_t>(kept.scale);
  size_t k = 0;
  for_each(b, c.cols, [&](size_t i) {
    put(c, i, kept.elements[k].first, kept.elements[k].second);
    ++k;
  });
}

struct Layout {
  size_t br = 1, bc = 1, grid_rows = 1, grid_cols = 1;
};

Layout layout_of(Kind4 kind, const RefQuantScheme& s, size_t rows, size_t cols) {
  Layout l;
  if (kind == Kind4::per_tensor) {
    l.br = std::max<size_t>(rows, 1);
    l.bc = std::max<size_t>(cols, 1);
    return l;  // one 1x1 "block"
  }
  l.br = s.block_rows;
  l.bc = s.block_cols;
  l.grid_rows = (rows + l.br - 1) / l.br;
  l.grid_cols = (cols + l.bc - 1) / l.bc;
  return l;
}

void validate(const RefQuantScheme& s, Kind4 kind, size_t n, size_t rows, size_t cols) {
  element_format(s.element);
  if (n != rows * cols)
    throw std::invalid_argument(std::string("tensor has ")
                                    .append(std::to_string(n))
                                    .append(" values, shape ")
                                    .append(std::to_string(rows))
                                    .append("x")
                                    .append(std::to_string(cols))
                                    .append(" needs ")
                                    .append(std::to_string(rows * cols)));
  if (kind != Kind4::per_tensor) {
    if (s.block_rows == 0 || s.block_cols == 0) throw std::invalid_argument("block size 0");
    if (s.require_full_blocks && (rows % s.block_rows != 0 || cols % s.block_cols != 0))
      throw std::invalid_argument("the block does not divide the tensor and full blocks are required");
  }
  if (kind == Kind4::mx) parse_rule(s.e8m0_rule);
}

// The block's long axis (docs/quantization.md §6): along columns only for a
// block taller than wide; square blocks (16x16) and per_tensor (no block)
// rotate along rows' consecutive elements.
RefAxis hadamard_axis(Kind4 kind, const RefQuantScheme& s) {
  return kind != Kind4::per_tensor && s.block_rows > s.block_cols ? RefAxis::rows : RefAxis::cols;
}

RefQuantized run(std::span<const float> x_in, size_t rows, size_t cols, const RefQuantScheme& s,
                 const float* given_multiplier) {
  const Kind4 kind = parse_kind(s.kind);
  validate(s, kind, x_in.size(), rows, cols);
  std::vector<float> x(x_in.begin(), x_in.end());
  if (s.hadamard) ref_hadamard_transform(x, rows, cols, hadamard_axis(kind, s), s.hadamard_seed);

  CallGuard guard;
  const RefFormat& elem = element_format(s.element);
  RefQuantized q;
  q.rows = rows;
  q.cols = cols;
  q.elements.assign(x.size(), 0);
  const Layout l = layout_of(kind, s, rows, cols);
  q.grid_rows = l.grid_rows;
  q.grid_cols = l.grid_cols;
  const size_t blocks = l.grid_rows * l.grid_cols;
  q.scales.assign(blocks, 0);
  if (kind == Kind4::per_tensor || kind == Kind4::fp32_block) q.multipliers.assign(blocks, 0);

  for (float v : x) {
    if (std::isnan(v)) {
      ++q.nan_inputs;
      continue;
    }
    if (std::isinf(v)) ++q.inf_inputs;
    q.amax = std::max(q.amax, std::fabs(v));
  }

  const bool mx = kind == Kind4::mx;
  Ctx c{s, kind, elem, mx && is_int8(elem), element_max_of(elem, mx), x, cols, q};
  float g = 1.0f;
  const bool four_over_six = kind == Kind4::nvfp4 && s.four_over_six != "off";
  if (four_over_six && (s.exact_arith || s.nvfp4_te_legacy_order || (s.four_over_six != "mae" && s.four_over_six != "mse")))
    throw std::invalid_argument("4over6 needs fp32 arith and four_over_six mae or mse");
  const double numerator = four_over_six ? kFourOverSixGlobalNumerator : kNvfp4GlobalNumerator;
  if (kind == Kind4::nvfp4) {
    g = nvfp4_encode_scale(q.amax, numerator);
    q.tensor_scale = fp32_op(RefOp::div, f32(1.0f), f32(g));  // decode side: fp32(1 / S_enc)
  }
  std::vector<float> row_g, row_amax;  // row-scaled: each row's S_enc and amax
  if (kind == Kind4::nvfp4 && s.nvfp4_row_scaled) {
    if (l.br != 1) throw std::invalid_argument("row-scaled nvfp4 needs blocks one row high");
    q.tensor_scale = 1.0f;
    for (size_t r = 0; r < rows; ++r) {
      float a = 0.0f;
      for (size_t col = 0; col < cols; ++col)
        if (!std::isnan(x[r * cols + col])) a = std::max(a, std::fabs(x[r * cols + col]));
      row_g.push_back(nvfp4_encode_scale(a, numerator));
      row_amax.push_back(a);
      q.row_tensor_scales.push_back(fp32_op(RefOp::div, f32(1.0f), f32(row_g.back())));
    }
  }
  for (size_t bi = 0; bi < l.grid_rows; ++bi) {
    for (size_t bj = 0; bj < l.grid_cols; ++bj) {
      const Block b{bi * l.br, std::min(rows, (bi + 1) * l.br), bj * l.bc, std::min(cols, (bj + 1) * l.bc)};
      const size_t bidx = bi * l.grid_cols + bj;
      switch (kind) {
        case Kind4::per_tensor: {
          const float m = given_multiplier != nullptr
                              ? *given_multiplier
                              : ref_multiplier_from_amax(q.amax, c.max, s.pow2_scales, s.amax_epsilon);
          fp32_scheme_block(c, b, bidx, m);
          break;
        }
        case Kind4::fp32_block:
          fp32_scheme_block(c, b, bidx,
                            ref_multiplier_from_amax(block_amax(c, b, false), c.max, s.pow2_scales, s.amax_epsilon));
          break;
        case Kind4::mx:
          mx_block(c, b, bidx);
          break;
        case Kind4::nvfp4:
          if (four_over_six)
            nvfp4_4over6_block(c, b, bidx, row_g.empty() ? g : row_g[b.r0], row_g.empty() ? q.amax : row_amax[b.r0]);
          else
            nvfp4_block(c, b, bidx, row_g.empty() ? g : row_g[b.r0]);
          break;
      }
    }
  }
  return q;
}

// The IEEE product of three values given exactly, rounded once to FP32.
float product3_to_fp32(double a, double b, double c) {
  const double vals[3] = {a, b, c};
  bool neg = false, any_zero = false, any_inf = false;
  for (double v : vals) {
    if (std::isnan(v)) return std::numeric_limits<float>::quiet_NaN();
    neg ^= std::signbit(v);
    any_zero |= v == 0;
    any_inf |= std::isinf(v);
  }
  if (any_inf && any_zero) return std::numeric_limits<float>::quiet_NaN();
  if (any_inf) return neg ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  if (any_zero) return neg ? -0.0f : 0.0f;
  QWork& q = qwork();
  set_exact(q.a, a);
  set_exact(q.b, b);
  mpfr_set_prec(q.c, 256);
  exact_mul(q.c, q.a, q.b);
  set_exact(q.m, c);
  mpfr_set_prec(q.a, 512);
  exact_mul(q.a, q.c, q.m);
  return float_of(round_exact(q.a, fp32f(), kPlain));
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

double ref_element_max(const RefQuantScheme& s) {
  return element_max_of(element_format(s.element), parse_kind(s.kind) == Kind4::mx);
}

int ref_element_emax(const RefQuantScheme& s) { return emax_of(ref_element_max(s)); }

double ref_element_value(const RefQuantScheme& s, uint8_t code) {
  return element_value_of(element_format(s.element), parse_kind(s.kind) == Kind4::mx, code);
}

uint8_t ref_e8m0_scale_code(float amax, std::string_view rule, std::string_view element) {
  CallGuard guard;
  const RefFormat& f = element_format(element);
  return e8m0_code(amax, parse_rule(rule), f, is_int8(f));
}

float ref_multiplier_from_amax(float amax, double fmt_max, bool pow2, float epsilon) {
  CallGuard guard;
  if (amax < epsilon) amax = epsilon;
  if (std::isinf(amax) || amax == 0) return 1.0f;
  float s = fp32_op(RefOp::div, f64(fmt_max), f32(amax));  // fp32(fmt_max / amax)
  if (std::isinf(s)) s = FLT_MAX;
  if (std::isnan(s)) s = 1.0f;
  if (pow2) {
    // Keep sign and exponent: a normal s becomes 2^floor(log2 s); a subnormal
    // (exponent field 0) becomes 0, which the Decision replaces with 2^-126.
    QWork& q = qwork();
    mpfr_set_prec(q.a, 64);
    mpfr_set_flt(q.a, s, MPFR_RNDN);  // exact
    const long e = static_cast<long>(mpfr_get_exp(q.a)) - 1;  // s in [2^e, 2^(e+1))
    s = e < -126 ? std::ldexp(1.0f, -126) : std::ldexp(1.0f, static_cast<int>(e));
  }
  return s;
}

float ref_delayed_multiplier(float a, double fmt_max, int margin, float previous) {
  CallGuard guard;
  if (!std::isfinite(a) || !(a > 0)) return previous;
  const float r = fp32_op(RefOp::div, f64(fmt_max), f32(a));  // fp32(fmt_max / a)
  QWork& q = qwork();
  mpfr_set_prec(q.a, 256);
  mpfr_set_flt(q.a, r, MPFR_RNDN);                 // exact (inf stays inf)
  mpfr_mul_2si(q.a, q.a, -margin, MPFR_RNDN);      // exact: / 2^margin
  float s = float_of(round_exact(q.a, fp32f(), kPlain));
  if (std::isinf(s)) s = FLT_MAX;
  return s;
}

RefQuantized ref_quantize(std::span<const float> x, size_t rows, size_t cols, const RefQuantScheme& scheme) {
  return run(x, rows, cols, scheme, nullptr);
}

RefQuantized ref_quantize_with_multiplier(std::span<const float> x, size_t rows, size_t cols,
                                          const RefQuantScheme& scheme, float multiplier) {
  if (parse_kind(scheme.kind) != Kind4::per_tensor)
    throw std::invalid_argument("quantize_with_multiplier needs a per_tensor scheme");
  if (!std::isfinite(multiplier) || !(multiplier > 0))
    throw std::invalid_argument("the multiplier must be finite and > 0");
  return run(x, rows, cols, scheme, &multiplier);
}

std::vector<float> ref_dequantize(const RefQuantized& q, const RefQuantScheme& s) {
  const Kind4 kind = parse_kind(s.kind);
  const RefFormat& elem = element_format(s.element);
  const bool mx = kind == Kind4::mx;
  const Layout l = layout_of(kind, s, q.rows, q.cols);
  if (q.elements.size() != q.rows * q.cols || q.scales.size() != l.grid_rows * l.grid_cols ||
      q.grid_rows != l.grid_rows || q.grid_cols != l.grid_cols)
    throw std::invalid_argument("quantized tensor does not match the scheme's layout");
  CallGuard guard;
  std::vector<double> scale(q.scales.size());
  for (size_t b = 0; b < q.scales.size(); ++b) {
    switch (kind) {
      case Kind4::mx:
        scale[b] = ref_decode_to_double(q.scales[b], e8m0f());  // 2^k, 0xFF NaN
        break;
      case Kind4::nvfp4:
        scale[b] = ref_decode_to_double(q.scales[b], ue4m3f());
        break;
      case Kind4::per_tensor:
      case Kind4::fp32_block:
        scale[b] = static_cast<double>(float_of(q.scales[b]));  // scale_inv
        break;
    }
  }
  std::vector<float> out(q.elements.size(), kNaN);
  for (size_t r = 0; r < q.rows; ++r) {
    for (size_t c = 0; c < q.cols; ++c) {
      const size_t i = r * q.cols + c;
      const size_t b = (r / l.br) * l.grid_cols + c / l.bc;
      const float ts = q.row_tensor_scales.empty() ? q.tensor_scale : q.row_tensor_scales[r];
      out[i] = product3_to_fp32(element_value_of(elem, mx, q.elements[i]), scale[b], static_cast<double>(ts));
    }
  }
  return out;
}

std::array<uint32_t, 4> ref_philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  // Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11:
  // multipliers M0, M1 and Weyl key increments W0, W1; 10 rounds.
  constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(M0) * c[0];
    const uint64_t p1 = static_cast<uint64_t>(M1) * c[2];
    const auto hi = [](uint64_t p) { return static_cast<uint32_t>(p >> 32); };
    const auto lo = [](uint64_t p) { return static_cast<uint32_t>(p); };
    c = {hi(p1) ^ c[1] ^ k[0], lo(p1), hi(p0) ^ c[3] ^ k[1], lo(p0)};
    k[0] += W0;
    k[1] += W1;
  }
  return c;
}

// A deliberate second transcription: the signs' Philox key and counter, and
// the transform's summation order (i = 0..15, left to right, in FP32, then
// the 1/4 scaling), are written here from docs/quantization.md §6, as sim's
// hadamard_transform (sim/src/quantize.cpp) writes them. Nothing is shared;
// the document is the single source both follow, so a change to the rule
// changes both places.
std::vector<int> ref_hadamard_signs(uint32_t seed) {
  std::vector<int> s(16);
  for (uint32_t i = 0; i < 16; ++i) {
    const auto w = ref_philox4x32_10({i, 0, 0, 0}, {seed, 0x52485421u});
    s[i] = (w[0] & 1u) != 0 ? -1 : 1;
  }
  return s;
}

void ref_hadamard_transform(std::span<float> x, size_t rows, size_t cols, RefAxis axis, uint32_t seed,
                            bool inverse) {
  if (x.size() != rows * cols) throw std::invalid_argument("hadamard: x.size() != rows * cols");
  const size_t len = axis == RefAxis::cols ? cols : rows;
  if (len % 16 != 0)
    throw std::invalid_argument(std::string("hadamard: axis length ").append(std::to_string(len)).append(
        " is not a multiple of 16"));
  CallGuard guard;
  const std::vector<int> S = ref_hadamard_signs(seed);
  const auto H = [](size_t i, size_t j) { return (std::popcount(static_cast<unsigned>(i & j)) & 1) != 0 ? -1 : 1; };
  const auto signed_by = [](int sign, float v) { return sign < 0 ? -v : v; };  // exact
  // Tile: 16 elements at base + m * stride.
  const auto tile = [&](size_t base, size_t stride) {
    std::array<float, 16> in{}, out{};
    for (size_t m = 0; m < 16; ++m) in[m] = x[base + m * stride];
    for (size_t o = 0; o < 16; ++o) {
      // forward: acc_j = sum_i S_i H[i][j] t_i; inverse: acc_i = sum_j H[i][j] y_j.
      const auto term = [&](size_t m) {
        return inverse ? signed_by(H(o, m), in[m]) : signed_by(S[m] * H(m, o), in[m]);
      };
      float acc = term(0);
      for (size_t m = 1; m < 16; ++m) acc = fp32_op(RefOp::add, f32(acc), f32(term(m)));
      const float y = fp32_op(RefOp::mul, f32(0.25f), f32(acc));  // a NaN here is ref_arith's default +NaN
      out[o] = inverse && !std::isnan(y) ? signed_by(S[o], y) : y;  // and stays +NaN (§6)
    }
    for (size_t m = 0; m < 16; ++m) x[base + m * stride] = out[m];
  };
  if (axis == RefAxis::cols) {
    for (size_t r = 0; r < rows; ++r)
      for (size_t c0 = 0; c0 < cols; c0 += 16) tile(r * cols + c0, 1);
  } else {
    for (size_t c = 0; c < cols; ++c)
      for (size_t r0 = 0; r0 < rows; r0 += 16) tile(r0 * cols + c, cols);
  }
}

}  // namespace fpsim_ref
