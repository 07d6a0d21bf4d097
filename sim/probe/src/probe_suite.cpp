// The probe suite of docs/mma.md, "The probe table" and the fit of an
// MmaModel from its answers (docs/mma.md "Probes"): the orchestration. The
// phases live one family per file and say what they read in their
// signatures (probe_phases.hpp); this file calls them in order, settles in
// the open what needs two phases (K1 beyond C's precision after D1, the
// sequential family's kind after the roundings), and puts the outcomes in
// the probe table's order.
#include "fpsim/probe/probe_suite.hpp"

#include <algorithm>
#include <utility>

#include "fpsim/error.hpp"
#include "probe_phases.hpp"

namespace fpsim::probe {

const ProbeOutcome* ProbeReport::find(std::string_view id) const {
  for (const ProbeOutcome& o : outcomes)
    if (o.id == id) return &o;
  return nullptr;
}

const FittedParameter* ProbeReport::parameter(std::string_view name) const {
  for (const FittedParameter& p : parameters)
    if (p.name == name) return &p;
  return nullptr;
}

bool ProbeReport::observable(std::string_view name) const {
  const FittedParameter* p = parameter(name);
  return p != nullptr && p->observable;
}

std::vector<std::string_view> probe_ids() {
  std::vector<std::string_view> ids;
  for (const detail::ProbeRow& row : detail::probe_table()) ids.emplace_back(row.id);
  return ids;
}

namespace {

// The outcomes in the probe table's order; outcomes of one id (K1 and its
// refinement) keep the order they were found in.
void order_outcomes(std::vector<ProbeOutcome>& outcomes) {
  const std::span<const detail::ProbeRow> table = detail::probe_table();
  auto rank = [&](const std::string& id) {
    for (size_t i = 0; i < table.size(); ++i)
      if (id == table[i].id) return i;
    return table.size();
  };
  std::stable_sort(outcomes.begin(), outcomes.end(),
                   [&](const ProbeOutcome& x, const ProbeOutcome& y) { return rank(x.id) < rank(y.id); });
}

}  // namespace

ProbeReport run_probes(MmaTarget& target, const ProbeOptions& options) {
  using namespace detail;
  if (options.random_vectors < 0) throw OptionError("probe: the number of random vectors must be >= 0");
  Outcomes out;
  Findings f;
  {  // F1-F3 decide which values the later probes may use: they run on a bench without them.
    Bench first(target, options);
    f.subnormals = probe_subnormals(first, out);
    probe_special_values(first, out);
  }
  Bench bench(target, options, f.subnormals.inputs, f.subnormals.outputs);
  f.structure = probe_structure(bench, out);
  f.amd = probe_amd_stages(bench, f, out);
  if (f.amd.exact_sum) {  // X1 overrides N1-C1, which read the exact sum's kept x as cancellation first
    f.structure = Structure{};
    f.structure.block_size = std::max(f.amd.block_size, 1);
    f.structure.block_size_exact = f.amd.block_size > 0;
    if (f.amd.block_size == 0) f.structure.note = "X2 found no block boundary";
  } else if (f.amd.pairwise_tree) {
    f.structure.shape = Shape::pairwise_blocked;
  }
  f.window = probe_alignment_window(bench, f, out);
  f.accumulator = probe_accumulator(bench, f, out);
  f.final_rounding = probe_final_rounding(bench, f, out);
  f.window = probe_window_beyond_c(bench, f, out);
  f.alignment_rounding = probe_alignment_rounding(bench, f, out);
  f.products = probe_product_rounding(bench, f, out);
  if (sequential_is_fp32_arithmetic(f)) f.structure.fp32_arithmetic = true;
  f.clamp = probe_clamp(bench, f, out);
  f.overflow = probe_overflow(bench, f, out);
  f.amd = probe_cdna3_stages(bench, f, out);
  run_spec_probes(bench, f, out);

  ProbeReport report;
  report.target = target.name();
  Fit fit = fit_model(bench, f);
  report.fitted = std::move(fit.model);
  report.parameters = std::move(fit.parameters);
  probe_summation_tree(bench, f, report.fitted, out);
  RandomCheck check = random_check(bench, f, report.fitted, options);
  report.random_ks = std::move(check.ks);
  report.random_checks = check.checks;
  report.random_mismatches = check.mismatches;
  report.mismatch_examples = std::move(check.examples);
  order_outcomes(out.list);
  report.outcomes = std::move(out.list);
  return report;
}

}  // namespace fpsim::probe
