// The fit: the MmaModel parameter set the findings describe, and for each
// field whether the probes pinned it down and by which probe (or why not).
// Unobservable fields get defaults that make no difference on this target
// (tests/sim/mma_probe_test.cpp checks that they really do not).
#include <algorithm>
#include <string>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

const std::string kNotAParameter = "not a parameter of this kind";

void param(Fit& fit, const char* name, std::string value, bool observable, std::string note) {
  fit.parameters.push_back({name, std::move(value), observable, std::move(note)});
}

// The FP32-arithmetic kinds: every step rounds to FP32 with RNE, so only
// the order (kind, block size, chains) is fitted.
void fit_fp32_arithmetic(const Findings& f, Fit& fit) {
  MmaModel& m = fit.model;
  const Structure& st = f.structure;
  bool kind_obs = true;
  std::string kind_note;
  switch (st.shape) {
    case Shape::pairwise:
      m.kind = MmaKind::fp32_pairwise;
      kind_note = "C added after all products (C1), no block boundary (N1)";
      break;
    case Shape::fma_blocked:
      m.kind = MmaKind::fp32_fma_blocked;
      kind_note = "C added after each block's FMA chain (C1, N1, N2)";
      break;
    case Shape::pairwise_blocked:
      m.kind = MmaKind::fp32_pairwise_blocked;
      kind_note = "C added after each block's balanced FP32 tree (C1, N1, N2, X3)";
      break;
    default:
      if (f.products == ProductRounding::rounded) {
        m.kind = MmaKind::fp32_sequential;
        kind_note = "one product per step, products rounded (P1)";
      } else {
        m.kind = MmaKind::fp32_fma_sequential;
        kind_note = f.products == ProductRounding::exact
                        ? "one product per step, products exact (P1)"
                        : "fp32_sequential and fp32_fma_sequential agree on these formats (P1)";
        kind_obs = f.products == ProductRounding::exact;
      }
      break;
  }
  const bool blocked = m.kind == MmaKind::fp32_fma_blocked;
  const bool tree_blocks = m.kind == MmaKind::fp32_pairwise_blocked;
  m.block_size = blocked || tree_blocks ? st.block_size : 1;
  m.chains = blocked ? st.chains : 1;
  m.extra_bits = 0;
  m.final_rounding = Rounding::rne;
  m.min_exp = kNoClamp;
  m.acc_frac_bits = kFp32Fraction;
  const FinalRounding& fr = f.final_rounding;
  param(fit, "kind", std::string(mma_kind_name(m.kind)), kind_obs, kind_note);
  param(fit, "block_size", std::to_string(m.block_size), blocked || tree_blocks,
        blocked || tree_blocks ? "N1" : kNotAParameter);
  param(fit, "chains", std::to_string(m.chains), blocked,
        blocked ? (st.chains > 1 ? "N3" : "N2 (one chain: 1 - 1 cancels before x)") : kNotAParameter);
  param(fit, "extra_bits", "0", false, kNotAParameter);
  param(fit, "align_rounding", "truncate", false, kNotAParameter);
  param(fit, "final_rounding", "rne", false,
        std::string(kNotAParameter).append(fr.observed ? "; D1 saw " + rounding_text(fr.mode) : ""));
  param(fit, "min_exp", "none", false, kNotAParameter);
  param(fit, "acc_frac_bits", std::to_string(kFp32Fraction), false, kNotAParameter);
}

// The block FMA: every parameter from its fitting probe.
void fit_block_fma(const Bench& bench, const Findings& f, Fit& fit) {
  MmaModel& m = fit.model;
  const Structure& st = f.structure;
  const Window& w = f.window;
  const bool sure = st.note.empty();
  m.kind = MmaKind::block_fma;
  m.block_size = std::clamp(st.block_size, 1, 128);
  m.extra_bits = std::clamp(w.kept - kFp32Fraction, -kFp32Fraction, 96);
  m.align_rounding = f.alignment_rounding.mode;
  m.final_rounding = f.final_rounding.mode;
  m.min_exp = f.clamp.min_exp;
  m.acc_frac_bits = std::clamp(f.accumulator.frac_bits, 1, int(bench.fo.man_bits));
  m.overflow_to_inf = f.overflow.to_inf;
  m.promotion_interval = st.promotion_interval;
  param(fit, "kind", "block_fma", sure, sure ? "N1, N2, C1" : st.note);
  param(fit, "block_size", std::to_string(m.block_size), st.block_size_exact && sure,
        st.block_size_exact ? (st.promotion_interval ? "N2" : "N1") : st.note);
  param(fit, "chains", "1", false, "a parameter of fp32_fma_blocked only");
  param(fit, "extra_bits", std::to_string(m.extra_bits), w.exact,
        w.exact ? std::string("K1 (kept = ").append(std::to_string(kFp32Fraction)).append(" + neab)")
                : std::string("kept >= ").append(std::to_string(w.kept)));
  const bool ar_obs = f.alignment_rounding.observed, fr_obs = f.final_rounding.observed;
  param(fit, "align_rounding", std::string(align_rounding_name(m.align_rounding)), ar_obs,
        ar_obs ? "E1" : "not observable (see E1)");
  param(fit, "final_rounding", rounding_text(m.final_rounding), fr_obs, fr_obs ? "D1" : "not observable (see D1)");
  param(fit, "min_exp", m.min_exp == kNoClamp ? std::string("none") : std::to_string(m.min_exp), f.clamp.observed,
        f.clamp.observed ? "M1" : f.clamp.note);
  param(fit, "acc_frac_bits", std::to_string(m.acc_frac_bits), f.accumulator.observed,
        f.accumulator.observed ? "A1" : "hidden by the window (A1)");
  const AmdStages& amd = f.amd;
  if (!amd.c_after_products) return;  // the rows below only where X4 finds the CDNA3 C stage
  m.c_after_products = true;
  m.c_stage_rounding = AlignRounding::floor;
  m.c_stage_extra_bits = amd.c_stage_extra_bits;
  m.c_stage_shift_wraps = amd.c_stage_shift_wraps;
  m.odd_even_groups = amd.odd_even_groups;
  m.product_limit = amd.product_limit;
  if (amd.c_stage_min_exp_observed) {  // the clamp acts in the C stage, where X9 reads it; M1 reads a block's
    m.min_exp = amd.c_stage_min_exp;
    for (FittedParameter& p : fit.parameters)
      if (p.name == "min_exp") p = {"min_exp", std::to_string(m.min_exp), true, "X9 (the C stage's clamp)"};
  }
  auto flag = [](bool v) { return std::string(v ? "true" : "false"); };
  param(fit, "c_after_products", "true", true, "X4");
  param(fit, "c_stage_rounding", "floor", true, "X4 (0, and minus one unit mirrored)");
  param(fit, "c_stage_extra_bits", std::to_string(m.c_stage_extra_bits), amd.c_stage_extra_observed,
        amd.c_stage_extra_observed ? "X5" : "not observable (see X5: needs RNE and the products' window)");
  param(fit, "c_stage_shift_wraps", flag(m.c_stage_shift_wraps), amd.shift_wraps_observed,
        amd.shift_wraps_observed ? "X6" : "not observable: needs RNE and a product 70 binades below C");
  param(fit, "odd_even_groups", flag(m.odd_even_groups), amd.odd_even_observed,
        amd.odd_even_observed ? "X7" : "not observable: needs 3 products in a block");
  param(fit, "product_limit", flag(m.product_limit), amd.product_limit_observed,
        amd.product_limit_observed ? "X8"
                                   : "not observable: no product of these formats reaches the output's overflow");
}

// An exact block sum (X1): only the block size (X2) and the one final
// rounding (D1) act; there is no alignment, so no window, alignment rounding
// or clamp, and the sum is rounded straight to the output.
void fit_exact_sum(const Bench& bench, const Findings& f, Fit& fit) {
  MmaModel& m = fit.model;
  const Structure& st = f.structure;
  m.kind = MmaKind::block_fma;
  m.exact_sum = true;
  m.block_size = std::clamp(st.block_size, 1, kMaxBlockSize);
  m.extra_bits = 0;
  m.align_rounding = AlignRounding::truncate;
  m.final_rounding = f.final_rounding.mode;
  m.min_exp = kNoClamp;
  m.acc_frac_bits = int(bench.fo.man_bits);
  m.overflow_to_inf = f.overflow.to_inf;
  const std::string no_alignment = "not a parameter of an exact sum (X1): nothing is aligned";
  param(fit, "kind", "block_fma", true, "X1 (an exact sum of each block and C)");
  param(fit, "exact_sum", "true", true, "X1");
  param(fit, "block_size", std::to_string(m.block_size), st.block_size_exact, st.block_size_exact ? "X2" : st.note);
  param(fit, "chains", "1", false, "a parameter of fp32_fma_blocked only");
  param(fit, "extra_bits", "0", false, no_alignment);
  param(fit, "align_rounding", "truncate", false, no_alignment);
  const bool fr_obs = f.final_rounding.observed;
  param(fit, "final_rounding", rounding_text(m.final_rounding), fr_obs, fr_obs ? "D1" : "not observable (see D1)");
  param(fit, "min_exp", "none", false, no_alignment);
  param(fit, "acc_frac_bits", std::to_string(m.acc_frac_bits), false,
        "not a parameter of an exact sum (X1): it is rounded once to the output");
}

}  // namespace

Fit fit_model(const Bench& bench, const Findings& f) {
  Fit fit;
  MmaModel& m = fit.model;
  m.name = std::string("fitted:").append(bench.target.name());
  m.input_a = bench.fa;
  m.input_b = bench.fb;
  m.output = bench.fo;
  m.evidence = "fitted by the probe suite (docs/mma.md, The probe table)";
  m.subnormal_inputs = f.subnormals.inputs;
  m.subnormal_outputs = f.subnormals.outputs;
  const bool fp32_arithmetic = f.structure.fp32_arithmetic;
  if (fp32_arithmetic)
    fit_fp32_arithmetic(f, fit);
  else if (f.amd.exact_sum)
    fit_exact_sum(bench, f, fit);
  else
    fit_block_fma(bench, f, fit);
  param(fit, "subnormal_inputs", f.subnormals.inputs ? "true" : "false", f.subnormals.inputs_observed, "F1");
  param(fit, "subnormal_outputs", f.subnormals.outputs ? "true" : "false", f.subnormals.outputs_observed, "F3");
  if (fp32_arithmetic) {
    m.overflow_to_inf = true;
    param(fit, "overflow_to_inf", "true", false, kNotAParameter);
    param(fit, "promotion_interval", "0", false, kNotAParameter);
  } else {
    const Structure& st = f.structure;
    param(fit, "overflow_to_inf", f.overflow.to_inf ? "true" : "false", f.overflow.observed,
          f.overflow.observed ? "O1" : f.overflow.note);
    param(fit, "promotion_interval", std::to_string(st.promotion_interval), st.note.empty(),
          st.promotion_interval ? "C1, N1 (C enters an FP32 accumulator every N1 products)"
          : f.amd.exact_sum     ? "X1 (C in the first block's exact sum)"
                                : "C1 (C in the first block)");
  }
  return fit;
}

}  // namespace fpsim::probe::detail
