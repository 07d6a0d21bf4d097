// K1: the alignment window, the number of bits a term keeps below the
// block's largest exponent (kept = 23 + neab). Measured by exact
// cancellation, so that neither rounding is needed yet: 1 - 1 + 2^-j is
// 2^-j while 2^-j is kept and 0 once it is not. With one product per block
// there is no second product to cancel, and C's own bits carry the probe
// (probe_window_single), beyond C's precision with D1's directed rounding
// (probe_window_beyond_c).
#include <string>
#include <vector>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

// K1 for blocks of two or more products: survival of 2^-j next to 1 - 1
// (exact: the result is 2^-j or 0).
Window probe_window_block(Bench& bench, const Structure& s, Outcomes& out) {
  const bool products_only = s.block_size >= 3;
  // The largest B whose big terms fit: the window test reaches furthest.
  Layout base;
  base.p = products_only ? std::vector<double>{1, -1} : std::vector<double>{1};
  base.c = products_only ? 0 : -1;
  base.outs = {1};
  int B = 0;
  bool found = false;
  for (B = 400; B >= -400; --B)
    if (bench.realize(base, B)) {
      found = true;
      break;
    }
  if (!found) {
    out.not_run("K1", "alignment window", "not observable: the formats cannot hold the probe");
    return {};
  }
  int last = 0;
  bool stopped_by_range = true;
  std::string anomaly;
  for (int j = 1; j <= 200; ++j) {
    Layout L = base;
    L.p.push_back(p2(-j));
    L.outs = {p2(-j)};
    L.subnormal_outs = true;
    const std::optional<Case> cs = bench.realize(L, B);
    if (!cs) break;
    const std::optional<Res> r = bench.run(*cs);
    if (!r) break;
    if (unit(r->r, B) == p2(-j)) {
      last = j;
      continue;
    }
    if (r->r != 0.0f)
      anomaly =
          std::string(" (j = ").append(std::to_string(j)).append(" gave ").append(pretty(unit(r->r, B))).append(")");
    stopped_by_range = false;
    break;
  }
  Window w;
  w.kept = last;
  w.known = last > 0;
  w.exact = w.known && !stopped_by_range;
  std::string inputs = units_prefix(B);
  inputs.append(products_only ? "a*b=[1, -1, 2^-j]" : "c=-1, a*b=[1, 2^-j]").append(", j = 1, 2, ...");
  out.add("K1", "alignment window (kept bits)", inputs,
          std::string("2^-j kept for j <= ").append(std::to_string(last)).append(anomaly),
          w.exact ? kept_text("=", w.kept) : kept_text(">=", w.kept).append(" (the formats reach no further)"));
  return w;
}

// K1 for n = 1: C = -(1 - 2^-j) with one product 1. The result is 2^-j
// while C's last bit is kept; 2^(1-j) when truncated, 0 when rounded to
// nearest even (which also tells the alignment rounding).
Window probe_window_single(Bench& bench, Outcomes& out) {
  int last = 0;
  std::optional<AlignRounding> mode;
  int B = 0;
  for (int j = 1; j <= bench.fo.man_bits + 1; ++j) {
    Layout L;
    L.p = {1};
    L.c = -(1 - p2(-j));
    L.outs = {p2(-j), p2(1 - j)};
    L.subnormal_outs = true;
    Case cs;
    Res r;
    if (!bench.attempt(L, cs, r, 8)) break;
    B = cs.B;
    const double v = unit(r.r, cs.B);
    if (v == p2(-j)) {
      last = j;
      continue;
    }
    if (v == p2(1 - j)) mode = AlignRounding::truncate;
    if (v == 0) mode = AlignRounding::rne;
    break;
  }
  Window w;
  w.kept = last;
  w.known = last > 0;
  w.exact = w.known && mode.has_value();
  w.single_product_alignment = mode;
  out.add("K1", "alignment window (kept bits), one product per block",
          units_prefix(B).append("c=-(1-2^-j), a*b=[1], j = 1, 2, ..."),
          std::string("C's last bit kept for j <= ").append(std::to_string(last)),
          w.exact ? kept_text("=", w.kept)
                  : kept_text(">=", w.kept).append(" (C holds no more bits; D1 decides the rest)"));
  return w;
}

}  // namespace

Window probe_alignment_window(Bench& bench, const Findings& f, Outcomes& out) {
  if (f.structure.fp32_arithmetic) {
    out.not_run("K1", "alignment window", "not applicable: an FP32-arithmetic kind (each step rounds to FP32)");
    return {};
  }
  return f.structure.block_size >= 2 ? probe_window_block(bench, f.structure, out) : probe_window_single(bench, out);
}

// K1 beyond C's precision for n = 1: C = 1 and one product -+2^-j whose
// survival moves a directed rounding off 1 (RZ/RDN: -2^-j, RUP: +2^-j).
Window probe_window_beyond_c(Bench& bench, const Findings& f, Outcomes& out) {
  const FinalRounding& fr = f.final_rounding;
  if (f.structure.shape != Shape::sequential || f.structure.fp32_arithmetic || f.window.exact) return f.window;
  if (!fr.observed || fr.mode == Rounding::rne) return f.window;
  const double sign = fr.mode == Rounding::rup ? 1.0 : -1.0;
  int last = f.window.kept;
  bool exact = false;
  int B = 0;
  for (int j = f.window.kept + 1; j <= 200; ++j) {
    Layout L;
    L.p = {sign * p2(-j)};
    L.c = 1;
    L.outs = {1};
    Case cs;
    Res r;
    if (!bench.attempt(L, cs, r, 0)) break;
    B = cs.B;
    if (unit(r.r, cs.B) == 1) {
      exact = true;
      break;
    }
    last = j;
  }
  Window w = f.window;
  w.kept = last;
  w.known = true;
  w.exact = exact;
  out.add("K1", "alignment window, beyond C's precision (one product per block)",
          units_prefix(B)
              .append("c=1, a*b=[")
              .append(sign > 0 ? "+" : "-")
              .append("2^-j], j > ")
              .append(std::to_string(bench.fo.man_bits + 1)),
          std::string("2^-j moves the result for j <= ").append(std::to_string(last)),
          exact ? kept_text("=", w.kept) : kept_text(">=", w.kept).append(" (the formats reach no further)"));
  return w;
}

}  // namespace fpsim::probe::detail
