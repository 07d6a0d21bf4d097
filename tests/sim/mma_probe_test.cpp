// The probe suite (docs/mma.md, "The probe table") run against the MMA model: for every
// preset and for parameter sets no preset has, the probes must recover every
// parameter they call observable, and every parameter they call
// unobservable must really make no difference. Expected decisions of the
// spec's own probes come from the spec's table (docs/mma.md, "The probe table"), not from
// the code under test.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/probe/probe_suite.hpp"

namespace fpsim::probe {
namespace {

ProbeOptions quick() {
  ProbeOptions o;
  o.random_vectors = 300;
  return o;
}

// Compares the fitted value of every parameter the report calls observable
// with the model's own value.
void expect_observables_match(const ProbeReport& r, const MmaModel& m) {
  const MmaModel& f = r.fitted;
  EXPECT_EQ(f.input_a.name, std::string(m.input_a.name));
  EXPECT_EQ(f.output.name, std::string(m.output.name));
  int checked = 0;
  for (const FittedParameter& p : r.parameters) {
    if (!p.observable) continue;
    ++checked;
    const std::string& n = p.name;
    SCOPED_TRACE(n);
    if (n == "kind")
      EXPECT_EQ(f.kind, m.kind);
    else if (n == "exact_sum")
      EXPECT_EQ(f.exact_sum, m.exact_sum);
    else if (n == "c_after_products")
      EXPECT_EQ(f.c_after_products, m.c_after_products);
    else if (n == "c_stage_rounding")
      EXPECT_EQ(f.c_stage_rounding, m.c_stage_rounding);
    else if (n == "c_stage_extra_bits")
      EXPECT_EQ(f.c_stage_extra_bits, m.c_stage_extra_bits);
    else if (n == "c_stage_shift_wraps")
      EXPECT_EQ(f.c_stage_shift_wraps, m.c_stage_shift_wraps);
    else if (n == "odd_even_groups")
      EXPECT_EQ(f.odd_even_groups, m.odd_even_groups);
    else if (n == "product_limit")
      EXPECT_EQ(f.product_limit, m.product_limit);
    else if (n == "block_size")
      EXPECT_EQ(f.block_size, m.block_size);
    else if (n == "chains")
      EXPECT_EQ(f.chains, m.chains);
    else if (n == "extra_bits")
      EXPECT_EQ(f.extra_bits, m.extra_bits);
    else if (n == "align_rounding")
      EXPECT_EQ(f.align_rounding, m.align_rounding);
    else if (n == "final_rounding")
      EXPECT_EQ(f.final_rounding, m.final_rounding);
    else if (n == "min_exp")
      EXPECT_EQ(f.min_exp, m.min_exp);
    else if (n == "acc_frac_bits")
      EXPECT_EQ(f.acc_frac_bits, m.acc_frac_bits);
    else if (n == "subnormal_inputs")
      EXPECT_EQ(f.subnormal_inputs, m.subnormal_inputs);
    else if (n == "subnormal_outputs")
      EXPECT_EQ(f.subnormal_outputs, m.subnormal_outputs);
    else if (n == "overflow_to_inf")
      EXPECT_EQ(f.overflow_to_inf, m.overflow_to_inf);
    else if (n == "promotion_interval")
      EXPECT_EQ(f.promotion_interval, m.promotion_interval);
    else
      ADD_FAILURE() << "unknown parameter " << n;
  }
  EXPECT_GE(checked, 3);
  EXPECT_EQ(r.random_mismatches, 0) << (r.mismatch_examples.empty() ? "" : r.mismatch_examples[0]);
  EXPECT_EQ(r.random_checks, 300);
}

// A value of format f with exponent in [lo, hi] (random significand, sign).
float value_near(const Format& f, std::mt19937_64& rng, int lo, int hi) {
  lo = std::max(lo, f.emin() - f.man_bits);
  const int e = lo + int(rng() % uint64_t(std::max(1, hi - lo + 1)));
  const double m = 1 + std::ldexp(double(rng() >> 11), -53);
  RoundingSpec rs;
  rs.rounding = Rounding::rtz;
  rs.overflow = Overflow::saturate;
  Flags ignored;
  const double x = to_double(from_double(std::ldexp(m, e), f, rs, ignored), f);
  return float((rng() & 1) ? -x : x);
}

bool same(float x, float y) {
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  return std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y);
}

// The parameters called unobservable really make no difference: the fitted
// model (defaults in their place) answers every probe exactly as the model
// does, and agrees with it on vectors aimed at the clamp (every operand and
// C near the bottom of its range) and at overflow (near the top), where
// min_exp and overflow_to_inf act.
void expect_unobservables_harmless(const ProbeReport& r, const MmaModel& m) {
  if (describe_mma_model(r.fitted) == describe_mma_model(m)) return;  // the same parameter set
  ModelTarget refit(r.fitted);
  const ProbeReport again = run_probes(refit, quick());
  ASSERT_EQ(again.outcomes.size(), r.outcomes.size());
  for (size_t i = 0; i < r.outcomes.size(); ++i) {
    EXPECT_EQ(again.outcomes[i].id, r.outcomes[i].id);
    EXPECT_EQ(again.outcomes[i].observed, r.outcomes[i].observed) << r.outcomes[i].id;
  }
  std::mt19937_64 rng(7);
  const int n = std::max(1, m.block_size);
  for (int v = 0; v < 400; ++v) {
    const int K = 1 + int(rng() % uint64_t(2 * n));
    const bool low = v % 2 == 0;
    std::vector<float> a(static_cast<size_t>(K)), b(static_cast<size_t>(K));
    for (int k = 0; k < K; ++k) {
      const Format& fa = m.input_a;
      const Format& fb = m.input_b;
      const int top_a = int(std::floor(std::log2(to_double(fa.max_code(), fa))));
      const int top_b = int(std::floor(std::log2(to_double(fb.max_code(), fb))));
      a[size_t(k)] =
          low ? value_near(fa, rng, fa.emin() - fa.man_bits, fa.emin() + 3) : value_near(fa, rng, top_a - 2, top_a);
      b[size_t(k)] =
          low ? value_near(fb, rng, fb.emin() - fb.man_bits, fb.emin() + 3) : value_near(fb, rng, top_b - 2, top_b);
    }
    const Format& fo = m.output;
    const int top_o = int(std::floor(std::log2(to_double(fo.max_code(), fo))));
    const float c = (rng() % 4 == 0) ? 0.0f
                    : low            ? value_near(fo, rng, fo.emin() - fo.man_bits, fo.emin() + 2)
                                     : value_near(fo, rng, top_o - 1, top_o);
    const float x = mma_dot(m, a, b, c), y = mma_dot(r.fitted, a, b, c);
    ASSERT_TRUE(same(x, y)) << (low ? "near the bottom" : "near the top") << ": model " << x << ", fitted " << y;
  }
}

void check_model(const MmaModel& m) {
  SCOPED_TRACE(m.name);
  ModelTarget target(m);
  const ProbeReport r = run_probes(target, quick());
  expect_observables_match(r, m);
  expect_unobservables_harmless(r, m);
}

// The first value of an outcome's observed text ("<result> | mirrored ...").
std::string first(const ProbeReport& r, const char* id) {
  const ProbeOutcome* o = r.find(id);
  if (o == nullptr) return "(missing)";
  return o->observed.substr(0, o->observed.find(" |"));
}

std::string conclusion(const ProbeReport& r, const char* id) {
  const ProbeOutcome* o = r.find(id);
  return o == nullptr ? "(missing)" : o->conclusion;
}

ProbeReport probe_preset(const char* name) {
  ModelTarget target(mma_preset(name));
  return run_probes(target, quick());
}

TEST(MmaProbePresets, RecoverEveryObservableParameterOfEveryPreset) {
  // Presets that share a parameter set (h200 = h100, l40s = ada, ...) are
  // probed once; the AMD presets too (MmaProbePresets.AmdStagesAreRecovered says which of
  // their parameters must be observed).
  std::vector<std::string> seen;
  for (const MmaModel& m : mma_presets()) {
    const std::string key = describe_mma_model(m);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    check_model(m);
  }
  EXPECT_GE(seen.size(), 31u);
}

// X1-X9 (docs/mma.md, "The fitting probes"): every AMD preset is fitted with no random mismatch,
// and each AMD parameter is observed where the formats let a probe reach it: CDNA1's exact sums and
// their block (X1, X2), CDNA2's FP32 trees (X3), CDNA3's C stage with its rounding, extra bits and
// wrapping shift (X4-X6), the FP8 odd/even groups (X7); the product limit (X8) and the C stage's
// clamp (X9) only where a product reaches the output's overflow and its subnormals (bf16, tf32:
// fp16 and FP8 products stay within 2^±48).
TEST(MmaProbePresets, AmdStagesAreRecovered) {
  int amd = 0;
  for (const MmaModel& m : mma_presets()) {
    if (!mma_uses_amd_parameters(m)) continue;
    ++amd;
    SCOPED_TRACE(m.name);
    ModelTarget target(m);
    const ProbeReport r = run_probes(target, quick());
    EXPECT_EQ(r.random_mismatches, 0) << (r.mismatch_examples.empty() ? "" : r.mismatch_examples[0]);
    EXPECT_EQ(r.fitted.kind, m.kind);
    EXPECT_TRUE(r.observable("kind"));
    EXPECT_TRUE(r.observable("block_size"));
    EXPECT_EQ(r.fitted.block_size, m.block_size);
    if (m.exact_sum) {
      EXPECT_TRUE(r.observable("exact_sum"));
      EXPECT_NE(r.find("X1"), nullptr);
    }
    if (m.kind == MmaKind::fp32_pairwise_blocked) {
      EXPECT_NE(r.find("X3"), nullptr);
    }
    if (m.c_after_products) {
      for (const char* p : {"c_after_products", "c_stage_rounding", "c_stage_extra_bits", "c_stage_shift_wraps",
                            "odd_even_groups", "product_limit"})
        ASSERT_NE(r.parameter(p), nullptr) << p;
      for (const char* p : {"c_after_products", "c_stage_rounding", "c_stage_extra_bits", "c_stage_shift_wraps",
                            "odd_even_groups"})
        EXPECT_TRUE(r.observable(p)) << p;
      const bool reaches = m.input_a.exp_bits >= 8;  // bf16, tf32: products beyond 2^128 and below 2^-174
      EXPECT_EQ(r.observable("product_limit"), reaches);
      EXPECT_EQ(r.observable("min_exp"), reaches);
      if (!reaches) {
        EXPECT_FALSE(r.parameter("product_limit")->note.empty());
      }
    }
    // Every AMD field the fit reports equal to the preset's (expect_observables_match checks each
    // observed one by name); the whole set where everything is observable.
    if (m.exact_sum || m.kind == MmaKind::fp32_pairwise_blocked || m.input_a.exp_bits >= 8) {
      EXPECT_EQ(describe_mma_model(r.fitted), describe_mma_model(m));
    }
  }
  EXPECT_EQ(amd, 16);  // mi100 x2, mi210 x2, mi250 x2, mi300a x5, mi300x x5
}

// No X outcome and no AMD parameter row on a target without the AMD stages: those reports are what
// the suite gave before X1-X9 existed.
TEST(MmaProbePresets, NoAmdRowsWithoutAmdStages) {
  for (const char* name : {"v100-fp16-fp32", "h100-e4m3-fp32", "amx-bf16-fp32", "fp32-fma-blocked", "fp32-pairwise"}) {
    SCOPED_TRACE(name);
    const ProbeReport r = probe_preset(name);
    for (const char* id : {"X1", "X2", "X3"}) EXPECT_EQ(r.find(id), nullptr) << id;
    EXPECT_EQ(r.parameter("exact_sum"), nullptr);
    EXPECT_EQ(r.parameter("c_after_products"), nullptr);
  }
}

TEST(MmaProbePresets, ObserveWhatTheGpuFitsRestOn) {
  // The parameters the golden data pin down must not hide behind
  // "unobservable" (docs/mma.md, "Per-GPU parameters and their evidence").
  for (const char* name : {"v100-fp16-fp32", "a100-bf16-fp32", "h100-fp16-fp16", "h100-e4m3-fp32", "b200-tf32-fp32"}) {
    SCOPED_TRACE(name);
    const ProbeReport r = probe_preset(name);
    for (const char* p : {"kind", "block_size", "extra_bits", "align_rounding", "final_rounding", "acc_frac_bits",
                          "subnormal_inputs", "subnormal_outputs"})
      EXPECT_TRUE(r.observable(p)) << p;
  }
  // min_exp where terms can lie below it: bf16/tf32 -> FP32 (-132/-133) and
  // fp16 -> fp16 (-19/-20/-21).
  for (const char* name : {"a100-bf16-fp32", "h100-tf32-fp32", "v100-fp16-fp16", "a100-fp16-fp16", "h100-fp16-fp16"})
    EXPECT_TRUE(probe_preset(name).observable("min_exp")) << name;
  // fp16 products are >= 2^-48 with exponent >= -28 and C aligns at
  // >= -126: a clamp at -132/-133 never acts on fp16 -> FP32.
  EXPECT_FALSE(probe_preset("a100-fp16-fp32").observable("min_exp"));
}

TEST(MmaProbeCustom, RecoverParameterSetsNoPresetHas) {
  auto base = [](Format in, Format out) {
    MmaModel m;
    m.input_a = in;
    m.input_b = in;
    m.output = out;
    m.acc_frac_bits = out.man_bits;
    return m;
  };
  std::vector<MmaModel> models;
  {
    MmaModel m = base(formats::fp16, formats::fp32);
    m.name = "n2-neab3-rne-align-rne";
    m.block_size = 2;
    m.extra_bits = 3;
    m.final_rounding = Rounding::rne;
    m.align_rounding = AlignRounding::rne;
    models.push_back(m);
  }
  {
    MmaModel m = base(formats::bf16, formats::fp32);
    m.name = "n1-neab5-rz";
    m.block_size = 1;
    m.extra_bits = 5;
    models.push_back(m);
  }
  {
    MmaModel m = base(formats::bf16, formats::fp32);
    m.name = "n3-rup-daz-ftz";
    m.block_size = 3;
    m.extra_bits = 1;
    m.final_rounding = Rounding::rup;
    m.subnormal_inputs = false;
    m.subnormal_outputs = false;
    models.push_back(m);
  }
  {
    MmaModel m = base(formats::bf16, formats::fp32);
    m.name = "n6-rdn-no-overflow-to-inf";
    m.block_size = 6;
    m.extra_bits = 4;
    m.final_rounding = Rounding::rdn;
    m.overflow_to_inf = false;
    m.min_exp = -128;
    models.push_back(m);
  }
  {
    MmaModel m = base(formats::fp16, formats::fp16);
    m.name = "fp16-out-rz-n5";
    m.block_size = 5;
    m.extra_bits = -3;
    m.min_exp = -17;
    models.push_back(m);
  }
  {
    MmaModel m = base(formats::e4m3, formats::fp32);
    m.name = "e4m3-promote64";
    m.block_size = 32;
    m.extra_bits = -10;
    m.acc_frac_bits = 13;
    m.promotion_interval = 64;
    models.push_back(m);
  }
  {
    MmaModel m = base(formats::e5m2, formats::fp32);
    m.name = "e5m2-acc16-n8";
    m.block_size = 8;
    m.extra_bits = -5;
    m.acc_frac_bits = 16;
    models.push_back(m);
  }
  {
    MmaModel m = base(formats::e4m3, formats::fp32);
    m.name = "e4m3-x-e5m2";
    m.input_b = formats::e5m2;
    m.block_size = 16;
    m.extra_bits = -10;
    m.acc_frac_bits = 13;
    models.push_back(m);
  }
  {
    MmaModel m = base(formats::fp32, formats::fp32);
    m.name = "fma-blocked-4";
    m.kind = MmaKind::fp32_fma_blocked;
    m.block_size = 4;
    m.final_rounding = Rounding::rne;
    models.push_back(m);
  }
  for (MmaKind kind : {MmaKind::fp32_sequential, MmaKind::fp32_fma_sequential, MmaKind::fp32_pairwise}) {
    MmaModel m = base(formats::bf16, formats::fp32);
    m.name = std::string("bf16-").append(mma_kind_name(kind));
    m.kind = kind;
    m.block_size = 1;
    m.final_rounding = Rounding::rne;
    models.push_back(m);
  }
  for (const MmaModel& m : models) check_model(m);
}

// fp16 products are exact FP32 numbers (at most 22 bits, >= 2^-48): FP32
// accumulation with and without FMA cannot differ, and the suite says so.
TEST(MmaProbeCustom, SequentialKindsAgreeOnFp16Inputs) {
  MmaModel m;
  m.kind = MmaKind::fp32_sequential;
  m.block_size = 1;
  m.final_rounding = Rounding::rne;
  ModelTarget target(m);
  const ProbeReport r = run_probes(target, quick());
  EXPECT_FALSE(r.observable("kind"));
  EXPECT_EQ(r.random_mismatches, 0);
  expect_unobservables_harmless(r, m);
}

// A target that takes at most K = 32 per call (one GPU instruction, say):
// no probe exceeds it and the block size is still found.
class LimitedTarget final : public MmaTarget {
 public:
  explicit LimitedTarget(MmaModel m) : model_(std::move(m)) {}
  std::string name() const override { return "limited"; }
  Format input_format_a() const override { return model_.input_a; }
  Format input_format_b() const override { return model_.input_b; }
  Format output_format() const override { return model_.output; }
  int max_k() const override { return 32; }
  float dot(std::span<const float> a, std::span<const float> b, float c) override {
    EXPECT_LE(a.size(), 32u);
    largest = std::max(largest, a.size());
    return mma_dot(model_, a, b, c);
  }
  size_t largest = 0;

 private:
  MmaModel model_;
};

TEST(MmaProbeTarget, RespectsMaxK) {
  LimitedTarget target(mma_preset("h100-fp16-fp32"));
  const ProbeReport r = run_probes(target, quick());
  EXPECT_EQ(target.largest, 32u);
  EXPECT_EQ(r.fitted.block_size, 16);
  EXPECT_TRUE(r.observable("block_size"));
  for (int k : r.random_ks) EXPECT_LE(k, 32);
}

// --- the spec's own decisions (docs/mma.md, "The probe table" table) -----------------------------

TEST(MmaProbeSpecTable, FhmpProbes) {
  const ProbeReport v = probe_preset("v100-fp16-fp32"), a = probe_preset("a100-fp16-fp32"),
                    h = probe_preset("h100-fp16-fp32");
  for (const ProbeReport* r : {&v, &a, &h}) {
    EXPECT_EQ(first(*r, "F1"), "2^-22");          // F1: supported
    EXPECT_EQ(first(*r, "F2"), "2^-149");         // F2: subnormal C passes
    EXPECT_EQ(first(*r, "F4"), "1-2^-10+2^-22");  // F4: exact products
    EXPECT_EQ(first(*r, "F7"), "2");              // F7: 2 and -2 => RZ
    EXPECT_EQ(r->find("F7")->observed, "2 | mirrored -2");
    EXPECT_EQ(first(*r, "F10"), "1+2^-23");  // F10: normalise once
    EXPECT_EQ(first(*r, "F11"), "8");        // F11: exactly 8
  }
  EXPECT_EQ(first(v, "F5"), "1");  // F5: 1 (neab <= 1), 1+2^-23 (neab = 2)
  EXPECT_EQ(first(a, "F5"), "1");
  EXPECT_EQ(first(h, "F5"), "1+2^-23");
  EXPECT_EQ(first(v, "F6"), "1; 1; 1; 1");  // F6: same for every j
  EXPECT_EQ(first(h, "F6"), "1+2^-23; 1+2^-23; 1+2^-23; 1+2^-23");
  EXPECT_EQ(first(v, "F9"), "2^-23");  // F9: 2^-23 => none (V100)
  EXPECT_EQ(first(a, "F9"), "2^-24");  // 2^-24 => neab >= 1
  EXPECT_EQ(first(h, "F9"), "2^-24");
  // F12: non-monotonic only for neab = 1; equal for V100 and H100.
  EXPECT_EQ(conclusion(a, "F12"), "non-monotonic: larger C, smaller result");
  EXPECT_EQ(conclusion(v, "F12"), "equal (monotonic here)");
  EXPECT_EQ(conclusion(h, "F12"), "equal (monotonic here)");
  // F8: FP16 output rounds to nearest at the smallest subnormal.
  EXPECT_EQ(first(probe_preset("a100-fp16-fp16"), "F8"), "2^-24");
}

TEST(MmaProbeSpecTable, HpecProbes) {
  const ProbeReport v = probe_preset("v100-fp16-fp32"), a = probe_preset("a100-fp16-fp32"),
                    h = probe_preset("h100-fp16-fp32");
  EXPECT_EQ(first(v, "H1"), "1");  // H1: 1+2^-23 iff neab >= 1
  EXPECT_EQ(first(a, "H1"), "1+2^-23");
  EXPECT_EQ(first(h, "H1"), "1+2^-23");
  EXPECT_EQ(h.find("H2")->observed.substr(0, 12), "L=2: 1+2^-23");  // H2: neab >= 2
  EXPECT_EQ(a.find("H2")->observed.substr(0, 6), "L=2: 1");
  EXPECT_EQ(conclusion(v, "H3"), "n = 4");  // H3: n
  EXPECT_EQ(conclusion(a, "H3"), "n = 8");
  EXPECT_EQ(conclusion(h, "H3"), "n = 16");
  EXPECT_EQ(conclusion(probe_preset("a100-tf32-fp32"), "H3"), "n = 4");  // HPEC A30: 4 for tf32
  for (const ProbeReport* r : {&v, &a, &h}) {
    EXPECT_EQ(first(*r, "H4"), "1+2^-21+2^-23");            // H4: late normalisation (t = 3)
    EXPECT_EQ(r->find("H5")->observed, "4 | mirrored -4");  // H5: 4 => RZ
    EXPECT_EQ(first(*r, "H7"), "1+2^-23");                  // H7: RZ between blocks
  }
  EXPECT_EQ(conclusion(a, "H6"), "truncation");  // H6: A100 (neab 1) shows truncation
  // FP16 output: RNE (4+2^-8 for p16 = 11).
  EXPECT_EQ(probe_preset("h100-fp16-fp16").find("H5")->observed, "4+2^-8 | mirrored -(4+2^-8)");
}

TEST(MmaProbeSpecTable, FttnAndEmuProbes) {
  const ProbeReport v = probe_preset("v100-fp16-fp32"), a = probe_preset("a100-fp16-fp32"),
                    h = probe_preset("h100-fp16-fp32");
  for (const ProbeReport* r : {&v, &a, &h}) EXPECT_EQ(first(*r, "T1"), "2");  // T1: 2 => RZ/RD
  // T2: 0x3F8FFFFF => 2-3 bits (H100); 0x3F900000 => 1 (A100).
  EXPECT_EQ(conclusion(h, "T2").substr(0, 10), "0x3F8FFFFF");
  EXPECT_EQ(conclusion(a, "T2").substr(0, 10), "0x3F900000");
  // T3: width = n (needs neab >= 1; V100 gives 1 for all i).
  EXPECT_EQ(conclusion(a, "T3"), "width = 8");
  EXPECT_EQ(conclusion(h, "T3"), "width = 16");
  EXPECT_EQ(first(v, "T3"), "1 already at i = 1");
  // W1: H100 FP8 keeps 13 bits (EMU).
  EXPECT_EQ(conclusion(probe_preset("h100-e4m3-fp32"), "W1"), "kept bits = 13");
  EXPECT_EQ(conclusion(probe_preset("h100-e5m2-fp32"), "W1"), "kept bits = 13");
}

TEST(MmaProbeSpecTable, SummationTrees) {
  // R1 (FPRev): the block structure and the CPU orders, leaves p0..p(K-1).
  EXPECT_EQ(probe_preset("h100-fp16-fp32").find("R1")->observed, "((p0..p15) p16..p23)");
  EXPECT_EQ(probe_preset("fp32-pairwise").find("R1")->observed,
            "((((p0 p1) (p2 p3)) ((p4 p5) (p6 p7))) (((p8 p9) (p10 p11)) ((p12 p13) (p14 p15))))");
  EXPECT_EQ(probe_preset("fp32-sequential").find("R1")->observed,
            "(((((((((((((((p0 p1) p2) p3) p4) p5) p6) p7) p8) p9) p10) p11) p12) p13) p14) p15)");
  // AMX-BF16 (Intel SDM TDPBF16PS): the even and the odd elements of each
  // 32-element slice in two FMA chains.
  const std::string amx = probe_preset("amx-bf16-fp32").find("R1")->observed;
  for (const char* chain : {"((p0 p2) p4)", "((p1 p3) p5)", "p30)", "p31)", "((p32 p34) p36)", "((p33 p35) p37)"})
    EXPECT_NE(amx.find(chain), std::string::npos) << chain << " in " << amx;
  for (const char* name : {"v100-fp16-fp16", "h100-e4m3-fp32", "fp32-fma-blocked", "amx-bf16-fp32"})
    EXPECT_EQ(conclusion(probe_preset(name), "R1"), "matches the fitted model's order") << name;
}

TEST(MmaProbeSpecTable, EveryProbeRunsWithItsMirror) {
  const ProbeReport r = probe_preset("h100-bf16-fp32");
  int mirrored = 0;
  for (const ProbeOutcome& o : r.outcomes)
    if (o.observed.find("mirrored") != std::string::npos) ++mirrored;
  EXPECT_GE(mirrored, 25);
  EXPECT_EQ(r.find("O1")->observed, "+inf | mirrored -inf");  // RZ overflow -> inf (docs/mma.md, "Open questions" Q5)
  EXPECT_EQ(r.fitted.min_exp, -133);
}

// probe_ids() holds every id of docs/mma.md, "The probe table" once, and a
// report lists its outcomes in that order, with no id outside it.
TEST(MmaProbeSpecTable, OutcomesFollowTheProbeIds) {
  const std::vector<std::string_view> ids = probe_ids();
  EXPECT_EQ(std::set<std::string_view>(ids.begin(), ids.end()).size(), ids.size());
  for (const char* id : {"F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12", "H1", "H2", "H3",
                         "H4", "H5", "H6", "H7", "T1", "T2", "T3", "W1", "R1"})
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  for (const char* name : {"v100-fp16-fp32", "h100-e4m3-fp32", "amx-bf16-fp32", "fp32-sequential"}) {
    const ProbeReport r = probe_preset(name);
    size_t previous = 0;
    for (const ProbeOutcome& o : r.outcomes) {
      const auto it = std::find(ids.begin(), ids.end(), o.id);
      ASSERT_NE(it, ids.end()) << o.id << " in " << name;
      EXPECT_GE(size_t(it - ids.begin()), previous) << o.id << " in " << name;
      previous = size_t(it - ids.begin());
    }
  }
}

TEST(MmaProbeOptions, RejectsANegativeVectorCount) {
  ModelTarget target(mma_preset("v100-fp16-fp32"));
  ProbeOptions o;
  o.random_vectors = -1;
  EXPECT_THROW(run_probes(target, o), OptionError);
}

}  // namespace
}  // namespace fpsim::probe
