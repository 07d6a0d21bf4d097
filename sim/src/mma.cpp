// The MMA model (spec/mma.md; semantics written out in docs/mma.md).
//
// mma_dot is the definition: it follows spec/mma.md §2 line by line with
// 128-bit integers. mma_gemm is the fast path (operands decoded once, 64-bit
// block sums where they cannot overflow); the tests compare the two element
// by element.
#include "fpsim/mma.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>

#include "fpsim/arith.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/quoted_text.hpp"
#include "fpsim/round.hpp"
#include "fpsim/unpacked.hpp"

namespace fpsim {
namespace {

__extension__ typedef __int128 i128;

constexpr int kNoClamp = -1024;
// The exponent a zero operand gets in the fast path: far below any real
// term, so it never sets the block's alignment exponent and always shifts
// out (spec/mma.md §2: "zero pairs contribute no exponent").
constexpr int32_t kZeroExp = -(1 << 20);

// NVIDIA's canonical NaN (PTX ISA, "Floating-point data types": NaN results
// are the canonical NaN 0x7FFFFFFF for .f32); fp16 results are widened.
const float kCanonicalNan = std::bit_cast<float>(uint32_t{0x7FFFFFFF});

// --- presets (spec/mma.md §1) ---------------------------------------------

MmaModel block_model(std::string name, Format in, Format out, int n, int neab, Rounding final_rounding,
                     int min_exp, std::string evidence, bool verified = true) {
  MmaModel m;
  m.name = std::move(name);
  m.kind = MmaKind::block_fma;
  m.input_a = in;
  m.input_b = in;
  m.output = out;
  m.block_size = n;
  m.extra_bits = neab;
  m.final_rounding = final_rounding;
  m.min_exp = min_exp;
  // p_out = 23 (FP32) or 10 (FP16), plus neab if neab < 0 (spec/mma.md §2).
  m.acc_frac_bits = out.man_bits + (neab < 0 ? neab : 0);
  m.verified = verified;
  m.evidence = std::move(evidence);
  return m;
}

MmaModel fp32_model(std::string name, MmaKind kind, int block, std::string evidence) {
  MmaModel m;
  m.name = std::move(name);
  m.kind = kind;
  m.input_a = formats::fp32;
  m.input_b = formats::fp32;
  m.output = formats::fp32;
  m.block_size = block;
  m.final_rounding = Rounding::rne;
  m.extra_bits = 0;
  m.min_exp = kNoClamp;
  m.acc_frac_bits = 23;
  m.evidence = std::move(evidence);
  return m;
}

std::vector<MmaModel> build_presets() {
  using formats::bf16, formats::fp16, formats::fp32, formats::tf32, formats::e4m3, formats::e5m2;
  constexpr Rounding rz = Rounding::rtz, rn = Rounding::rne;
  std::vector<MmaModel> p;
  // V100: n = 4, no extra bits, no clamp for FP32 out (KM, FHMP; golden 5000/5000).
  p.push_back(block_model("v100-fp16-fp32", fp16, fp32, 4, 0, rz, kNoClamp, "KM, FHMP; golden V100/fp16"));
  p.push_back(block_model("v100-fp16-fp16", fp16, fp16, 4, 0, rn, -19, "KM, FHMP; golden V100/fp16"));
  // A100 and Ada / L40S: n = 8 (fp16, bf16), 4 (tf32), one extra bit (KM, FHMP, HPEC).
  const struct {
    const char* gpu;
    const char* evidence;
  } ampere_like[] = {{"a100", "KM, FHMP, HPEC (A30); golden A100"}, {"ada", "KM data 5000/5000"},
                     {"l40s", "KM data 5000/5000"}};
  for (const auto& g : ampere_like) {
    const std::string gpu = g.gpu;
    p.push_back(block_model(gpu + "-fp16-fp32", fp16, fp32, 8, 1, rz, -132, g.evidence));
    p.push_back(block_model(gpu + "-fp16-fp16", fp16, fp16, 8, 1, rn, -20, g.evidence));
    p.push_back(block_model(gpu + "-bf16-fp32", bf16, fp32, 8, 1, rz, -132, g.evidence));
    p.push_back(block_model(gpu + "-tf32-fp32", tf32, fp32, 4, 1, rz, -132, g.evidence));
    if (gpu != "a100") {
      // Ada FP8: 16 products, 13 fraction bits kept, RZ (KM data, non-zero C).
      p.push_back(block_model(gpu + "-e4m3-fp32", e4m3, fp32, 16, -10, rz, -132, "KM data, non-zero C"));
      p.push_back(block_model(gpu + "-e5m2-fp32", e5m2, fp32, 16, -10, rz, -132, "KM data, non-zero C"));
    }
  }
  // Hopper: n = 16 (fp16, bf16), 8 (tf32), two extra bits; FP8: 32 products,
  // RZ to 13 fraction bits (KM, EMU, DSI, DS3).
  for (const char* g : {"h100", "h200"}) {
    const std::string gpu = g;
    p.push_back(block_model(gpu + "-fp16-fp32", fp16, fp32, 16, 2, rz, -133, "KM, EMU; golden H100/fp16"));
    p.push_back(block_model(gpu + "-fp16-fp16", fp16, fp16, 16, 2, rn, -21, "KM, EMU; golden H100/fp16"));
    p.push_back(block_model(gpu + "-bf16-fp32", bf16, fp32, 16, 2, rz, -133, "KM, EMU; golden H100/bf16"));
    p.push_back(block_model(gpu + "-tf32-fp32", tf32, fp32, 8, 2, rz, -133, "KM; golden H100/tf32 (K=4 only)"));
    p.push_back(block_model(gpu + "-e4m3-fp32", e4m3, fp32, 32, -10, rz, -133,
                            "KM, DSI, DS3, EMU; golden H100/E4M3 (C=0)"));
    p.push_back(block_model(gpu + "-e5m2-fp32", e5m2, fp32, 32, -10, rz, -133,
                            "KM, DSI, DS3, EMU; golden H100/E5M2 (C=0)"));
    // FP8 with FP16 output: no public model explains the GPU (spec/mma.md
    // §6 Q2). This is the §2 model with RNE to FP16; docs/mma.md records how
    // many golden rows it matches.
    p.push_back(block_model(gpu + "-e4m3-fp16", e4m3, fp16, 32, 2, rn, -21,
                            "unverified: spec/mma.md Q2, few golden rows match", false));
    p.push_back(block_model(gpu + "-e5m2-fp16", e5m2, fp16, 32, 2, rn, -21,
                            "unverified: spec/mma.md Q2, few golden rows match", false));
  }
  // B200 (KM data for fp16/bf16/tf32; FP8 is an unverified wide-window fit).
  p.push_back(block_model("b200-fp16-fp32", fp16, fp32, 16, 2, rz, -133, "KM data 5000/5000"));
  p.push_back(block_model("b200-fp16-fp16", fp16, fp16, 16, 2, rn, -21, "KM data 5000/5000"));
  p.push_back(block_model("b200-bf16-fp32", bf16, fp32, 16, 2, rz, -133, "KM data 5000/5000"));
  p.push_back(block_model("b200-tf32-fp32", tf32, fp32, 8, 2, rz, -133, "KM data 5000/5000"));
  p.push_back(block_model("b200-e4m3-fp32", e4m3, fp32, 32, 8, rn, -133,
                          "unverified fit (spec/mma.md §1, Q8): neab >= 8, RNE", false));
  p.push_back(block_model("b200-e5m2-fp32", e5m2, fp32, 32, 8, rn, -133,
                          "unverified fit (spec/mma.md §1, Q8): neab >= 8, RNE", false));
  // CPU matrix units (docs/mma.md, "CPU matrix units"): the Intel SDM's
  // pseudo-code for TDPBF16PS and VDPBF16PS (FP32 FMAs, RNE, DAZ and FTZ;
  // AMX: two interleaved chains per 32 elements of K, then C += (even + odd)),
  // measured on a Xeon with both units: 240,000 / 240,000 dot products each
  // (tests/data/cpu-golden).
  {
    MmaModel amx = fp32_model("amx-bf16-fp32", MmaKind::fp32_fma_blocked, 32,
                              "Intel SDM TDPBF16PS; measured on Xeon AMX (tests/data/cpu-golden)");
    amx.input_a = amx.input_b = bf16;
    amx.chains = 2;
    amx.subnormal_inputs = amx.subnormal_outputs = false;
    p.push_back(amx);
    MmaModel avx = fp32_model("avx512-bf16-fp32", MmaKind::fp32_fma_sequential, 1,
                              "Intel SDM VDPBF16PS, one lane in k order; measured on Xeon (tests/data/cpu-golden)");
    avx.input_a = avx.input_b = bf16;
    avx.subnormal_inputs = avx.subnormal_outputs = false;
    p.push_back(avx);
  }
  // CPU-style FP32 accumulation in stated fixed orders (docs/mma.md).
  p.push_back(fp32_model("fp32-sequential", MmaKind::fp32_sequential, 1, "definition: d = RN(d + RN(a*b)) in k order"));
  p.push_back(fp32_model("fp32-fma-sequential", MmaKind::fp32_fma_sequential, 1, "definition: d = fma(a, b, d) in k order"));
  p.push_back(fp32_model("fp32-pairwise", MmaKind::fp32_pairwise, 1, "definition: RN products, halving tree, then + c"));
  p.push_back(fp32_model("fp32-fma-blocked", MmaKind::fp32_fma_blocked, 16,
                         "definition: fma chains over 16-element blocks, block sums added in order"));
  return p;
}

const std::vector<MmaModel>& presets() {
  static const std::vector<MmaModel> table = build_presets();
  return table;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// --- operand decoding ------------------------------------------------------

// An operand of the block FMA: |x| = sig * 2^(exp - frac_bits), with
// exp = max(floor_log2|x|, emin_in), so sig < 2^frac_bits for subnormals
// (spec/mma.md §2: "Ma < 1 if subnormal").
struct Operand {
  int32_t exp = kZeroExp;
  uint32_t sig = 0;  // 0 for a zero (or a flushed subnormal)
  bool sign = false;
};

// True when x (finite) is a value of format f.
bool is_value_of(float x, const Format& f) {
  if (!std::isfinite(x)) return true;
  if (f.bits == 32 && f.exp_bits == 8 && f.man_bits == 23) return true;
  Flags ignored;
  RoundingSpec rz;
  rz.rounding = Rounding::rtz;
  rz.overflow = Overflow::saturate;
  const uint64_t code = from_float(x, f, rz, ignored);
  return to_double(code, f) == double(x);
}

Operand decode(float x, const Format& f, bool subnormal_inputs) {
  Operand o;
  if (x == 0.0f) return o;
  const Unpacked u = unpack(std::bit_cast<uint32_t>(x), formats::fp32);
  o.sign = u.sign;
  const int emin = f.emin();
  if (u.exp < emin && !subnormal_inputs) return o;  // daz: reads as zero
  o.exp = std::max(u.exp, emin);
  // sig = |x| / 2^(exp - man_bits): the top bits of u.sig, exact because x
  // is a value of f.
  const int shift = 127 - f.man_bits + (o.exp - u.exp);
  o.sig = shift >= 128 ? 0 : uint32_t(u.sig >> shift);
  return o;
}

// C through its FP32 encoding: Ec = max(floor_log2|c|, -126), 23 fraction
// bits (spec/mma.md §2).
Operand decode_c(float c) { return decode(c, formats::fp32, true); }

void check_inputs(const MmaModel& m, std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) {
    std::ostringstream msg;
    msg << "mma: a has " << a.size() << " elements but b has " << b.size();
    throw OptionError(msg.str());
  }
  for (size_t k = 0; k < a.size(); ++k) {
    for (int which = 0; which < 2; ++which) {
      const float x = which ? b[k] : a[k];
      const Format& f = which ? m.input_b : m.input_a;
      if (!is_value_of(x, f)) {
        std::ostringstream msg;
        msg.precision(9);
        msg << "mma: " << (which ? "b[" : "a[") << k << "] = " << x << " is not a value of " << f.name
            << " (round inputs to the model's input format first)";
        throw OptionError(msg.str());
      }
    }
  }
}

// --- special values (spec/mma.md §2) ----------------------------------------

// Resolves NaN / inf over the products and c; returns true with the result
// when any is present.
bool resolve_specials(std::span<const float> a, std::span<const float> b, float c, float& out) {
  bool nan = std::isnan(c), pos_inf = c == std::numeric_limits<float>::infinity(),
       neg_inf = c == -std::numeric_limits<float>::infinity();
  for (size_t k = 0; k < a.size(); ++k) {
    const float x = a[k], y = b[k];
    if (std::isfinite(x) && std::isfinite(y)) continue;
    if (std::isnan(x) || std::isnan(y) || x == 0.0f || y == 0.0f) {  // 0·inf is NaN
      nan = true;
      continue;
    }
    (std::signbit(x) != std::signbit(y) ? neg_inf : pos_inf) = true;
  }
  if (nan || (pos_inf && neg_inf)) {
    out = kCanonicalNan;
    return true;
  }
  if (pos_inf || neg_inf) {
    out = pos_inf ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
    return true;
  }
  return false;
}

// --- the final step ----------------------------------------------------------

// The format the block result is rounded into: the output's exponent range
// with acc_frac_bits fraction bits (e8m13 for Hopper FP8, spec/mma.md §2).
Format accumulator_format(const MmaModel& m) {
  Format f = m.output;
  f.man_bits = uint8_t(m.acc_frac_bits);
  f.bits = uint8_t(1 + f.exp_bits + f.man_bits);
  f.container_shift = 0;
  std::snprintf(f.name, sizeof f.name, "e%dm%d", int(f.exp_bits), int(f.man_bits));
  return f;
}

// The largest exponent of a finite output value (127 fp32, 15 fp16).
int output_emax(const MmaModel& m) { return int(m.output.exp_field_max()) - 1 - m.output.bias; }

RoundingSpec final_spec(const MmaModel& m) {
  RoundingSpec rs;
  rs.rounding = m.final_rounding;
  rs.overflow = Overflow::ieee;
  rs.ftz = !m.subnormal_outputs;
  return rs;
}

// (-1)^negative * magnitude * 2^scale_exp into the output, through the one
// rounding core.
float round_block_sum(const MmaModel& m, const Format& acc, bool negative, u128 magnitude, int scale_exp) {
  if (magnitude == 0) return 0.0f;  // +0 (spec/mma.md §2; Q6)
  const Unpacked u = unpacked_from_integer(negative, magnitude, scale_exp);
  if (m.overflow_to_inf && u.exp > output_emax(m))  // |sum| >= 2^(emax+1): inf even under RZ (Q5)
    return negative ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  Flags ignored;
  const uint64_t code = round(u, acc, final_spec(m), ignored);
  const uint64_t wide = convert(code, acc, formats::fp32, RoundingSpec{}, ignored);
  return std::bit_cast<float>(uint32_t(wide));
}

// Aligned magnitude of a term with significand m at distance `shift` below
// the block's alignment point: m * 2^shift truncated (or rne) to an integer.
u128 align_term(u128 m, int shift, AlignRounding rounding) {
  if (shift >= 0) return m << shift;
  const int sh = -shift;
  if (sh >= 127) return (rounding == AlignRounding::rne && sh == 127 && m > (u128{1} << 126)) ? 1 : 0;
  const u128 q = m >> sh;
  if (rounding == AlignRounding::truncate) return q;
  const u128 rem = m - (q << sh);
  const u128 half = u128{1} << (sh - 1);
  return (rem > half || (rem == half && (q & 1))) ? q + 1 : q;
}

// The block FMA of spec/mma.md §2 on finite inputs, with 128-bit sums.
float block_fma_finite(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b,
                       float c) {
  struct Term {
    bool sign;
    int exp;
    u128 sig;  // in units of 2^(exp - 23 - frac)
  };
  Term terms[129];
  int count = 0;
  const int frac = m.input_a.man_bits + m.input_b.man_bits;  // product fraction bits
  for (size_t k = 0; k < a.size(); ++k) {
    const Operand x = decode(a[k], m.input_a, m.subnormal_inputs);
    const Operand y = decode(b[k], m.input_b, m.subnormal_inputs);
    if (x.sig == 0 || y.sig == 0) continue;
    terms[count++] = {x.sign != y.sign, x.exp + y.exp, u128(uint64_t(x.sig) * y.sig) << (23 - frac)};
  }
  const Operand z = decode_c(c);
  if (z.sig != 0) terms[count++] = {z.sign, z.exp, u128(z.sig)};
  if (count == 0) return 0.0f;
  int emax = m.min_exp;
  for (int t = 0; t < count; ++t) emax = std::max(emax, terms[t].exp);
  i128 sum = 0;
  for (int t = 0; t < count; ++t) {
    const u128 v = align_term(terms[t].sig, m.extra_bits - (emax - terms[t].exp), m.align_rounding);
    sum += terms[t].sign ? -i128(v) : i128(v);
  }
  const bool negative = sum < 0;
  return round_block_sum(m, acc, negative, u128(negative ? -sum : sum), emax - 23 - m.extra_bits);
}

float block_fma(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b,
                float c) {
  float special = 0;
  if (resolve_specials(a, b, c, special)) return special;
  return block_fma_finite(m, acc, a, b, c);
}

// FP16 output: C is first rounded to FP16 with RNE (spec/mma.md §2).
float c_in_output(const MmaModel& m, float c) {
  if (m.output.exp_bits == 8 && m.output.man_bits == 23) return c;
  Flags ignored;
  const uint64_t code = from_float(c, m.output, RoundingSpec{}, ignored);
  return float(to_double(code, m.output));
}

// A chain of blocks along K starting from d (spec/mma.md §2 "Chaining").
float block_chain(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b,
                  float d) {
  const size_t n = size_t(m.block_size);
  for (size_t k0 = 0; k0 < a.size(); k0 += n) {
    const size_t len = std::min(n, a.size() - k0);
    d = block_fma(m, acc, a.subspan(k0, len), b.subspan(k0, len), d);
  }
  return d;
}

// --- FP32 accumulation models, through the core's arithmetic -----------------

uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }
float from_bits(uint64_t v) { return std::bit_cast<float>(uint32_t(v)); }

// FP32 RNE steps through the core. `rs` carries DAZ / FTZ for the fp32_*
// kinds (subnormal_inputs / subnormal_outputs false); the promotion add uses
// the default spec.
float add32(float x, float y, const RoundingSpec& rs = RoundingSpec{}) {
  Flags ignored;
  return from_bits(add(bits(x), bits(y), formats::fp32, rs, ignored));
}
float mul32(float x, float y, const RoundingSpec& rs) {
  Flags ignored;
  return from_bits(mul(bits(x), bits(y), formats::fp32, rs, ignored));
}
float fma32(float x, float y, float z, const RoundingSpec& rs) {
  Flags ignored;
  return from_bits(fma(bits(x), bits(y), bits(z), formats::fp32, rs, ignored));
}

float pairwise_sum(std::span<const float> p, const RoundingSpec& rs) {
  if (p.size() == 1) return p[0];
  const size_t half = (p.size() + 1) / 2;
  return add32(pairwise_sum(p.first(half), rs), pairwise_sum(p.subspan(half), rs), rs);
}

float fp32_dot(const MmaModel& m, std::span<const float> a, std::span<const float> b, float c) {
  RoundingSpec rs;
  rs.daz = !m.subnormal_inputs;
  rs.ftz = !m.subnormal_outputs;
  switch (m.kind) {
    case MmaKind::fp32_sequential: {
      float d = c;
      for (size_t k = 0; k < a.size(); ++k) d = add32(d, mul32(a[k], b[k], rs), rs);
      return d;
    }
    case MmaKind::fp32_fma_sequential: {
      float d = c;
      for (size_t k = 0; k < a.size(); ++k) d = fma32(a[k], b[k], d, rs);
      return d;
    }
    case MmaKind::fp32_pairwise: {
      if (a.empty()) return c;
      std::vector<float> p(a.size());
      for (size_t k = 0; k < a.size(); ++k) p[k] = mul32(a[k], b[k], rs);
      return add32(c, pairwise_sum(p, rs), rs);
    }
    case MmaKind::fp32_fma_blocked: {
      float d = c;
      const size_t n = size_t(m.block_size), chains = size_t(m.chains);
      float chain[16];
      for (size_t k0 = 0; k0 < a.size(); k0 += n) {
        std::fill(chain, chain + chains, 0.0f);
        for (size_t k = k0; k < std::min(a.size(), k0 + n); ++k)
          chain[(k - k0) % chains] = fma32(a[k], b[k], chain[(k - k0) % chains], rs);
        float partial = chain[0];
        for (size_t j = 1; j < chains; ++j) partial = add32(partial, chain[j], rs);
        d = add32(d, partial, rs);
      }
      return d;
    }
    case MmaKind::block_fma:
      break;
  }
  return c;
}

float dot_unchecked(const MmaModel& m, const Format& acc, std::span<const float> a, std::span<const float> b,
                    float c) {
  if (m.kind != MmaKind::block_fma) return fp32_dot(m, a, b, c);
  // Special inputs are resolved over the whole dot product first (spec/mma.md
  // §2), so a block that overflows to +inf cannot meet a later -inf product.
  float special = 0;
  if (resolve_specials(a, b, c, special)) return special;
  if (m.promotion_interval <= 0) return block_chain(m, acc, a, b, c_in_output(m, c));
  // Promotion (spec/mma.md §2.1): each chunk of promotion_interval elements
  // is a fresh chain from 0, added into a true FP32 accumulator with RNE.
  float acc32 = c;
  const size_t chunk = size_t(m.promotion_interval);
  for (size_t k0 = 0; k0 < a.size(); k0 += chunk) {
    const size_t len = std::min(chunk, a.size() - k0);
    acc32 = add32(acc32, block_chain(m, acc, a.subspan(k0, len), b.subspan(k0, len), 0.0f));
  }
  return std::isnan(acc32) ? kCanonicalNan : acc32;  // chunks that overflowed to +inf and -inf
}

}  // namespace

// --- public API ----------------------------------------------------------------

std::span<const MmaModel> mma_presets() { return presets(); }

MmaModel mma_preset(std::string_view name) {
  std::string key = lower(name);
  int promote = -1;
  if (const size_t colon = key.find(':'); colon != std::string::npos) {
    std::string suffix = key.substr(colon + 1);
    key.resize(colon);
    const std::string_view prefix = "promote";
    // ":promote" alone is CUTLASS's default interval, 4 k32 instructions = 128 (spec/mma.md §2.1).
    if (suffix == prefix) suffix.append("128");
    bool ok = suffix.size() > prefix.size() && suffix.compare(0, prefix.size(), prefix) == 0 &&
              suffix.size() - prefix.size() <= 6;
    for (size_t i = prefix.size(); ok && i < suffix.size(); ++i) ok = std::isdigit(static_cast<unsigned char>(suffix[i]));
    if (!ok) {
      std::string msg = "bad MMA preset suffix ";
      msg.append(quoted_text(suffix)).append(" in ").append(quoted_text(name)).append(" (expected :promoteN, e.g. :promote128)");
      throw OptionError(msg);
    }
    promote = std::stoi(suffix.substr(prefix.size()));
  }
  for (const MmaModel& m : presets()) {
    if (m.name != key) continue;
    MmaModel out = m;
    if (promote >= 0) {
      out.promotion_interval = promote;
      out.name.append(":promote").append(std::to_string(promote));
      validate_mma_model(out);
    }
    return out;
  }
  std::string msg = "unknown MMA preset ";
  msg.append(quoted_text(name)).append("; known: ");
  bool first = true;
  for (const MmaModel& m : presets()) {
    msg.append(first ? "" : ", ").append(m.name);
    first = false;
  }
  throw OptionError(msg);
}

void validate_mma_model(const MmaModel& m) {
  auto fail = [&](const std::string& why) {
    std::string msg = "MMA model '";
    msg.append(m.name).append("': ").append(why);
    throw OptionError(msg);
  };
  const bool out_fp32 = m.output.exp_bits == 8 && m.output.man_bits == 23 && m.output.specials == Specials::ieee;
  const bool out_fp16 = m.output.exp_bits == 5 && m.output.man_bits == 10 && m.output.specials == Specials::ieee;
  if (!out_fp32 && !out_fp16) fail("the output format must be fp32 or fp16");
  for (const Format* f : {&m.input_a, &m.input_b})
    if (f->is_integer() || f->is_scale() || f->exp_bits > 8 || f->man_bits > 23)
      fail(std::string("input format ") + f->name + " is not a float format of at most FP32's range and precision");
  if (m.block_size < 1 || m.block_size > 128) fail("block_size must be 1..128");
  if (m.promotion_interval < 0) fail("promotion_interval must be >= 0");
  if (m.promotion_interval > 0 && (m.kind != MmaKind::block_fma || !out_fp32))
    fail("promotion applies to block-FMA models with FP32 output");
  if (m.chains < 1 || m.chains > 16 || (m.chains > 1 && m.kind != MmaKind::fp32_fma_blocked))
    fail("chains must be 1..16, and above 1 only for fp32_fma_blocked");
  if (m.kind != MmaKind::block_fma) {
    if (!out_fp32) fail("the fp32-* accumulation models have FP32 output");
    return;
  }
  if (m.input_a.man_bits + m.input_b.man_bits > 23)
    fail("block-FMA products must fit 23 fraction bits (inputs of at most tf32/fp16 precision)");
  if (m.extra_bits < -23 || m.extra_bits > 96) fail("extra_bits must be -23..96");
  if (m.acc_frac_bits < 1 || m.acc_frac_bits > m.output.man_bits)
    fail(std::string("acc_frac_bits must be 1..").append(std::to_string(m.output.man_bits)));
  if (m.min_exp < kNoClamp || m.min_exp > 1024) fail("min_exp must be -1024..1024");
  switch (m.final_rounding) {
    case Rounding::rtz:
    case Rounding::rne:
    case Rounding::rup:
    case Rounding::rdn:
      break;
    default:
      fail("final rounding must be rtz, rne, rup or rdn");
  }
}

float mma_block_fma(const MmaModel& m, std::span<const float> a, std::span<const float> b, float c) {
  validate_mma_model(m);
  if (m.kind != MmaKind::block_fma) throw OptionError("mma_block_fma needs a block-FMA model");
  if (a.size() > size_t(m.block_size)) throw OptionError("mma_block_fma: more products than block_size");
  check_inputs(m, a, b);
  return block_fma(m, accumulator_format(m), a, b, c);
}

float mma_dot(const MmaModel& m, std::span<const float> a, std::span<const float> b, float c) {
  validate_mma_model(m);
  check_inputs(m, a, b);
  if (!is_value_of(c, formats::fp32)) throw OptionError("mma: c is not an fp32 value");
  return dot_unchecked(m, accumulator_format(m), a, b, c);
}

// --- GEMM: the fast path ------------------------------------------------------

namespace {

struct DecodedMatrix {
  std::vector<int32_t> exp;
  std::vector<uint32_t> sig;
  std::vector<uint8_t> sign;
  std::vector<uint8_t> special;  // per row: has a non-finite value
};

// rows × K operands, row r's element k read from src[r * row_stride + k * col_stride].
DecodedMatrix decode_matrix(const float* src, int rows, int K, size_t row_stride, size_t col_stride,
                            const Format& f, bool subnormal_inputs) {
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
// term of the next one: |d| = sig * 2^(exp - 23) (spec/mma.md §2, "c always
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
inline bool round_normal_fast(const MmaModel& m, int emin_out, int emax_out, bool negative, uint64_t mag,
                              int scale_exp, Carry& out) {
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
                       const uint32_t* sa, const uint8_t* ga, const int32_t* eb, const uint32_t* sb,
                       const uint8_t* gb, int len, int product_shift, Carry& d) {
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
  const bool fast = m.kind == MmaKind::block_fma && m.align_rounding == AlignRounding::truncate &&
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

// --- INT8 (spec/mma.md §3) -------------------------------------------------------

int32_t mma_dot_int8(std::span<const int16_t> a, IntOperand ta, std::span<const int16_t> b, IntOperand tb,
                     int32_t c, IntOverflow overflow) {
  if (a.size() != b.size()) throw OptionError("mma_dot_int8: a and b differ in length");
  auto check = [](std::span<const int16_t> v, IntOperand t, const char* which) {
    const int lo = t == IntOperand::s8 ? -128 : 0, hi = t == IntOperand::s8 ? 127 : 255;
    for (size_t k = 0; k < v.size(); ++k)
      if (v[k] < lo || v[k] > hi) {
        std::ostringstream msg;
        msg << "mma_dot_int8: " << which << "[" << k << "] = " << v[k] << " is not a "
            << (t == IntOperand::s8 ? "s8" : "u8") << " value";
        throw OptionError(msg.str());
      }
  };
  check(a, ta, "a");
  check(b, tb, "b");
  i128 sum = c;  // exact: |products| < 2^16 each
  for (size_t k = 0; k < a.size(); ++k) sum += int64_t(a[k]) * int64_t(b[k]);
  if (overflow == IntOverflow::saturate) {
    if (sum > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
    if (sum < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
    return int32_t(sum);
  }
  return int32_t(uint32_t(uint64_t(sum)));  // modulo 2^32
}

// --- names ------------------------------------------------------------------------

std::string_view mma_kind_name(MmaKind k) {
  switch (k) {
    case MmaKind::block_fma:
      return "block_fma";
    case MmaKind::fp32_sequential:
      return "fp32_sequential";
    case MmaKind::fp32_fma_sequential:
      return "fp32_fma_sequential";
    case MmaKind::fp32_pairwise:
      return "fp32_pairwise";
    case MmaKind::fp32_fma_blocked:
      return "fp32_fma_blocked";
  }
  return "?";
}

std::string_view align_rounding_name(AlignRounding r) { return r == AlignRounding::truncate ? "truncate" : "rne"; }

std::string describe_mma_model(const MmaModel& m) {
  std::ostringstream s;
  s << "kind=" << mma_kind_name(m.kind) << " in=" << m.input_a.name << "x" << m.input_b.name
    << " out=" << m.output.name;
  if (m.kind == MmaKind::block_fma) {
    RoundingSpec rs;
    rs.rounding = m.final_rounding;
    s << " n=" << m.block_size << " neab=" << m.extra_bits << " align=" << align_rounding_name(m.align_rounding)
      << " round=" << rounding_name(rs) << " min_exp=";
    if (m.min_exp == kNoClamp)
      s << "none";
    else
      s << m.min_exp;
    s << " acc_frac_bits=" << m.acc_frac_bits << " subnormals=" << (m.subnormal_inputs ? "in" : "daz") << "/"
      << (m.subnormal_outputs ? "out" : "ftz") << " overflow=" << (m.overflow_to_inf ? "inf" : "max");
    if (m.promotion_interval > 0) s << " promote=" << m.promotion_interval;
  } else {
    if (m.kind == MmaKind::fp32_fma_blocked) s << " block=" << m.block_size << " chains=" << m.chains;
    if (!m.subnormal_inputs || !m.subnormal_outputs)
      s << " subnormals=" << (m.subnormal_inputs ? "in" : "daz") << "/" << (m.subnormal_outputs ? "out" : "ftz");
  }
  return s.str();
}

}  // namespace fpsim
