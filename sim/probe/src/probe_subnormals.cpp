// F1-F3 (FHMP): whether the target reads subnormal operands and passes or
// produces subnormal results. The first phase: its answers decide which
// values every later probe may use (Bench's subnormal facts).
#include <string>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

struct Observation {
  bool value = false, observed = false;  // the answer, and whether the probe saw it
};

// F1 (FHMP): a0 = the smallest subnormal of the input format, b0 = 2^k
// with k >= 2 the smallest that makes the product a normal output
// (k = 2 for fp16 -> fp32, the spec's b0 = 4). Both operand sides.
Observation probe_subnormal_inputs(Bench& bench, Outcomes& out) {
  std::string inputs, obs;
  int supported = 0, flushed = 0, sides = 0;
  for (int side = 0; side < 2; ++side) {
    const Format& f = side == 0 ? bench.fa : bench.fb;
    const Format& g = side == 0 ? bench.fb : bench.fa;
    if (!f.has_subnormals()) continue;
    const double s = min_subnormal(f);
    for (int k = 2; k <= 400; ++k) {
      const double o = p2(k);
      if (!in_format(o, g)) break;
      if (s * o < p2(bench.fo.emin() + 1)) continue;
      Case cs;
      cs.a = {float(side == 0 ? s : o)};
      cs.b = {float(side == 0 ? o : s)};
      const std::optional<Res> r = bench.run(cs);
      if (!r) break;
      ++sides;
      inputs.append(inputs.empty() ? "" : "; ").append(side == 0 ? "a0=" : "b0=").append(pretty(s));
      inputs.append(side == 0 ? ", b0=" : ", a0=").append(pretty(o));
      obs.append(obs.empty() ? "" : "; ").append(observed(*r, 0));
      if (double(r->r) == s * o && double(r->m) == -s * o) ++supported;
      if (r->r == 0.0f && r->m == 0.0f) ++flushed;
      break;
    }
  }
  if (sides == 0) {
    out.not_run("F1", "subnormal inputs", "not observable: no subnormal input reaches a normal output");
    return {};
  }
  out.add("F1", "subnormal inputs", inputs, obs,
          supported == sides ? "supported"
          : flushed == sides ? "read as zero (DAZ)"
                             : "inconsistent between operand sides");
  return {supported == sides, supported == sides || flushed == sides};
}

// F2 (FHMP): C = the smallest subnormal of the output, no products.
void probe_subnormal_c(Bench& bench, Outcomes& out) {
  const double cmin = min_subnormal(bench.fo);
  Case c2;
  c2.a = {0.0f};
  c2.b = {0.0f};
  c2.c = float(cmin);
  if (const std::optional<Res> r = bench.run(c2)) {
    const bool passes = double(r->r) == cmin;
    out.add("F2", "subnormal C passes", std::string("c=").append(pretty(cmin)), observed(*r, 0),
            passes         ? "passes"
            : r->r == 0.0f ? "lost (flushed, or below the accumulator's grid)"
                           : "changed");
  }
}

// F3 (FHMP): a subnormal result 2^(emin_out - 1) made (i) by one product
// of normal operands, else (ii) by a product 2^q cancelled by
// C = -(2^q - 2^(emin_out-1)), else (iii) by a subnormal C alone (the
// only way for fp16 or FP8 inputs with FP32 output, whose products are
// never that small). Nothing when the case does not run.
std::optional<Observation> probe_subnormal_outputs(Bench& bench, Outcomes& out) {
  const int emin_out = bench.fo.emin();
  const double target = p2(emin_out - 1);
  Case cs;
  std::string inputs;
  bool ready = false;
  if (const std::optional<Operands> o = bench.split.split(target, false)) {
    cs.a = {o->a};
    cs.b = {o->b};
    inputs = std::string("a*b=").append(pretty(target));
    ready = true;
  }
  for (int q = emin_out + 1; !ready && q <= emin_out + bench.fo.man_bits; ++q) {
    const double c = -(p2(q) - target);
    const std::optional<Operands> o = bench.split.split(p2(q), false);
    if (!o || !in_format(c, bench.fo)) continue;
    cs.a = {o->a};
    cs.b = {o->b};
    cs.c = float(c);
    inputs = std::string("a*b=").append(pretty(p2(q))).append(", c=").append(pretty(c));
    ready = true;
  }
  if (!ready) {
    cs.a = {0.0f};
    cs.b = {0.0f};
    cs.c = float(target);
    inputs = std::string("c=").append(pretty(target)).append(" alone (no product reaches the subnormal range)");
  }
  const std::optional<Res> r = bench.run(cs);
  if (!r) return std::nullopt;
  const bool produced = double(r->r) == target && double(r->m) == -target;
  const bool flushed = r->r == 0.0f && r->m == 0.0f;
  out.add("F3", "subnormal outputs", inputs, observed(*r, 0),
          produced  ? "produced"
          : flushed ? "flushed to zero (FTZ)"
                    : "unexpected value");
  return Observation{produced, produced || flushed};
}

}  // namespace

Subnormals probe_subnormals(Bench& bench, Outcomes& out) {
  Subnormals s;
  const Observation in = probe_subnormal_inputs(bench, out);
  s.inputs = in.value;
  s.inputs_observed = in.observed;
  probe_subnormal_c(bench, out);
  if (const std::optional<Observation> o = probe_subnormal_outputs(bench, out)) {
    s.outputs = o->value;
    s.outputs_observed = o->observed;
  }
  return s;
}

}  // namespace fpsim::probe::detail
