// M1: the alignment-exponent clamp (min_exp): the block's alignment
// exponent is Emax = max(max E_t, min_exp) (docs/mma.md, "The block-FMA
// model"), so a clamp shows only in blocks whose terms all lie below it.
// Needs the measured window and final rounding: a tiny term crosses a
// rounding boundary exactly when it survives the alignment to Emax.
#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

// What the configurations tried so far say about min_exp.
struct ClampEvidence {
  std::optional<int> exact;
  int bound = std::numeric_limits<int>::max();  // "no clamp observed above bound"
  std::string inputs, obs;
};

// One configuration of clamp_products; returns 0, or the exponent to try
// next when even the largest t was absorbed.
int clamp_products_at(Bench& bench, const Findings& f, int E, int g, const Operands& X,
                      const std::optional<Operands>& H, ClampEvidence& ev) {
  const Rounding fr = f.final_rounding.mode;
  const int kept = f.window.kept;
  const bool rne = fr == Rounding::rne;
  const double x = p2(E);
  auto make = [&](std::optional<Operands> t) {
    Case cs;
    cs.a = {X.a};
    cs.b = {X.b};
    if (rne) {
      cs.a.push_back(H->a);
      cs.b.push_back(H->b);
    }
    if (t) {
      cs.a.push_back(t->a);
      cs.b.push_back(t->b);
    }
    return cs;
  };
  // The configuration itself: X (plus the tie) alone must give X.
  const std::optional<Res> base = bench.run(make(std::nullopt));
  if (!base || double(base->r) != x) return 0;
  const double sign = fr == Rounding::rtz || fr == Rounding::rdn ? -1.0 : 1.0;
  const int hi = rne ? g - 2 : E - 1;
  const int lo = E - kept - 2;
  int lowest = 0;
  bool any = false, stopped = false, range_end = false;
  int tested_low = hi;
  for (int et = hi; et >= lo; --et) {
    const std::optional<Operands> t = bench.split.split(sign * p2(et), bench.subnormal_inputs);
    if (!t) {
      range_end = true;
      break;
    }
    const std::optional<Res> r = bench.run(make(t));
    if (!r) return 0;
    tested_low = et;
    if (double(r->r) != x) {
      lowest = et;
      any = true;
      continue;
    }
    stopped = true;
    break;
  }
  ev.inputs = std::string("a*b=[2^").append(std::to_string(E));
  if (rne) ev.inputs.append(", 2^").append(std::to_string(g - 1));
  ev.inputs.append(sign < 0 ? ", -2^Et]" : ", +2^Et]").append(", Et = ").append(std::to_string(hi)).append(" down");
  if (!any) {
    ev.obs = std::string("2^Et absorbed already at Et = ").append(std::to_string(hi));
    return range_end ? 0 : hi + kept + 1;
  }
  ev.obs = std::string("2^Et moves the result for Et >= ").append(std::to_string(lowest));
  if (stopped) {
    const int emax = lowest + kept;
    if (emax > E) {
      ev.exact = emax;
    } else {
      ev.bound = std::min(ev.bound, E);
    }
  } else if (range_end || tested_low == lo) {
    ev.bound = std::min(ev.bound, std::max(E, tested_low + kept));
  }
  return 0;
}

// Config A: X = 2^E (one product of normal operands, on the output's grid
// g) and a tiny product t that crosses a rounding boundary when it survives
// the alignment: RZ/RDN X - t, RUP X + t, RNE X + g/2 + t (a tie broken by
// t). t = 2^Et survives iff Et >= Emax - kept with Emax = max(E, min_exp):
// the lowest surviving Et gives Emax.
void clamp_products(Bench& bench, const Findings& f, ClampEvidence& ev) {
  const bool rne = f.final_rounding.mode == Rounding::rne;
  const int F = f.accumulator.frac_bits, emin_out = bench.fo.emin();
  if (f.structure.block_size < (rne ? 3 : 2)) return;
  const int lowest_out = f.subnormals.outputs ? emin_out - F : emin_out;
  int E = std::max(bench.fa.emin() + bench.fb.emin(), lowest_out + (rne ? 1 : 0));
  std::optional<Operands> X, H;
  int g = 0;
  for (; E <= bench.emax_out - 2; ++E) {
    g = std::max(E, emin_out) - F;
    if (E < g + (rne ? 1 : 0)) continue;
    X = bench.split.split(p2(E), false);
    if (!X) continue;
    if (rne) {
      H = bench.split.split(p2(g - 1), false);
      if (!H) continue;
    }
    break;
  }
  if (!X || (rne && !H)) return;
  for (int attempt_no = 0; attempt_no < 8; ++attempt_no) {
    const int next = clamp_products_at(bench, f, E, g, *X, H, ev);
    if (next == 0) return;
    // Nothing survived: min_exp lies above E + kept. Start again from X
    // = 2^next (next = the lowest exponent the clamp can be at).
    E = next;
    g = std::max(E, emin_out) - F;
    X = bench.split.split(p2(E), false);
    if (rne) H = bench.split.split(p2(g - 1), false);
    if (!X || (rne && !H)) return;
  }
}

// Config B: C = 2^Ec (1 + 2^-f) alone, Ec the lowest normal exponent of
// the output; C's last bit survives iff Ec - f >= Emax - kept.
void clamp_c_alone(Bench& bench, const Findings& f, ClampEvidence& ev) {
  const int Ec = bench.fo.emin();
  const int fmax = std::min(f.accumulator.frac_bits, int(bench.fo.man_bits));
  int last = 0;
  for (int bits = 1; bits <= fmax; ++bits) {
    const double c = p2(Ec) * (1 + p2(-bits));
    Case cs;
    cs.a = {0.0f};
    cs.b = {0.0f};
    cs.c = float(c);
    const std::optional<Res> r = bench.run(cs);
    if (!r) return;
    if (double(r->r) != c) break;
    last = bits;
  }
  if (!ev.inputs.empty()) ev.inputs.append("; ");
  ev.inputs.append("c=2^").append(std::to_string(Ec)).append("*(1+2^-f) alone");
  if (!ev.obs.empty()) ev.obs.append("; ");
  ev.obs.append("C exact for f <= ").append(std::to_string(last));
  const int emax_bound = Ec - last + f.window.kept;  // Emax <= this (== when 0 < last < fmax)
  if (last == 0) return;                             // only a lower bound: Emax > Ec - 1 + kept
  if (last < fmax && emax_bound > Ec) {
    ev.exact = emax_bound;
  } else {
    ev.bound = std::min(ev.bound, std::max(Ec, emax_bound));
  }
}

}  // namespace

Clamp probe_clamp(Bench& bench, const Findings& f, Outcomes& out) {
  Clamp clamp;
  if (!f.structure.block_fma()) {
    out.not_run("M1", "min_exp clamp", "not applicable: an FP32-arithmetic kind");
    clamp.note = "not a parameter of this kind";
    return clamp;
  }
  // Any min_exp at or below every exponent a term can have never raises
  // Emax = max(max E_t, min_exp) (docs/mma.md, "The block-FMA model"):
  // products have E >= emin_a + emin_b, C (through its FP32 encoding)
  // E >= FP32's emin (-126), an fp16 C E >= -24.
  const int Lp = bench.fa.emin() + bench.fb.emin();
  const int Lc = is_binary32(bench.fo) ? bench.fo.emin() : floor_log2(min_subnormal(bench.fo));
  const int lmin = std::min(Lp, Lc);
  if (!f.window.exact || !f.final_rounding.observed) {
    out.not_run("M1", "min_exp clamp", "not observable: needs a measured window and final rounding");
    clamp.note = "needs a measured window and final rounding";
    return clamp;
  }
  ClampEvidence ev;
  clamp_products(bench, f, ev);
  if (!ev.exact && f.structure.promotion_interval == 0) clamp_c_alone(bench, f, ev);
  if (ev.exact) {
    clamp.min_exp = *ev.exact;
    clamp.observed = true;
    out.add("M1", "min_exp clamp", ev.inputs, ev.obs, std::string("min_exp = ").append(std::to_string(*ev.exact)));
    return clamp;
  }
  clamp.min_exp = kNoClamp;
  if (ev.bound == std::numeric_limits<int>::max()) {
    clamp.note = "no probe configuration of these formats reaches below the clamp";
  } else {
    clamp.note = std::string("no clamp observed above ").append(std::to_string(ev.bound));
  }
  clamp.note.append("; any min_exp <= ")
      .append(std::to_string(lmin))
      .append(" is equivalent to none (no term has a smaller exponent)");
  out.add("M1", "min_exp clamp", ev.inputs.empty() ? "-" : ev.inputs, ev.obs.empty() ? "-" : ev.obs,
          std::string("unobservable: ").append(clamp.note));
  return clamp;
}

}  // namespace fpsim::probe::detail
