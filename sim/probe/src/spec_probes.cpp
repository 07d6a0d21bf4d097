// The published probes of docs/mma.md, "The probe table" (F4-F12 FHMP,
// H1-H7 HPEC, T1-T3 FTTN, W1 EMU), run after the fitting phases in the
// measured precision p = acc_frac_bits + 1 and reported with the spec's
// decision rules, and the probe table itself: every probe id in report
// order, the spec's rows with their property and the function that builds
// the layout and decides. The published inputs are written for an FP32
// accumulator (p = 24); in another precision each probe keeps its shape in
// units of 2^-p, and the spec's own operands that assume p = 24 (lit) are
// used only where p is FP32's (docs/mma.md, "Adaptations of the published
// probes").
#include <algorithm>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

// What every spec probe reads: the bench, the findings and the measured precision.
struct SpecContext {
  Bench& bench;
  const Findings& f;
  int P;                // p = acc_frac_bits + 1
  double u;             // 2^-p: half an ulp of 1 in the output's precision (2^-24 for FP32)
  std::string kept_lo;  // "kept <= p"

  // The spec's operands, used when the measured precision is FP32's.
  std::vector<Operands> lit(std::initializer_list<std::pair<double, double>> ops) const {
    if (P != kFp32Precision) return {};
    std::vector<Operands> v;
    for (const auto& [a, b] : ops) v.push_back({float(a), float(b)});
    return v;
  }

  // Runs L and answers with decide(r, m) in units.
  template <class Decide>
  Answer decide(const Layout& L, Decide decision) const {
    Case cs;
    Res r;
    if (!bench.attempt(L, cs, r)) return not_run("not observable: the formats cannot hold the probe's values");
    return {summary(L, cs.B), observed(r, cs.B), decision(unit(r.r, cs.B), unit(r.m, cs.B))};
  }

  static Answer not_run(std::string why) { return {"-", "-", std::move(why)}; }
};

namespace {

// (lo, hi) outcomes with the mirrored run: the four directed modes.
std::string direction(double pos, double neg, double lo, double hi) {
  if (pos == lo && neg == -lo) return "RZ";
  if (pos == hi && neg == -hi) return "RN";
  if (pos == hi && neg == -lo) return "RU";
  if (pos == lo && neg == -hi) return "RD";
  return "none of RZ/RN/RU/RD";
}

// --- FHMP --------------------------------------------------------------------------

std::optional<Answer> spec_f4(const SpecContext& s) {  // exact products
  const Bench& bench = s.bench;
  const int ma = bench.fa.man_bits, mb = bench.fb.man_bits;
  const double a = 1 - p2(-ma - 1), b = 1 - p2(-mb - 1), prod = a * b;
  Layout L;
  L.p = {prod};
  L.literal = {Operands{float(a), float(b)}};
  double expect = prod;
  if (!bench.out_ok(prod, false) || !in_format(prod, bench.fo)) {
    L.c = -(1 - p2(-ma - 1) - p2(-mb - 1));
    expect = p2(-ma - mb - 2);
  }
  L.outs = {expect};
  L.subnormal_outs = true;
  return s.decide(L, [&](double r, double) {
    return r == expect ? std::string("exact (").append(pretty(expect)).append(")")
                       : std::string("not exact (exact: ").append(pretty(expect)).append(")");
  });
}

std::optional<Answer> spec_f5(const SpecContext& s) {  // FP32-level sum
  const double u = s.u;
  Layout L;
  L.p.assign(4, u / 2);
  L.literal = s.lit({{0.5, u}, {0.5, u}, {0.5, u}, {0.5, u}});
  L.c = 1;
  L.outs = {1, 1 + 2 * u};
  return s.decide(L, [&](double r, double) {
    if (r == 1 + 2 * u) return kept_text(">=", s.P + 1);
    if (r == 1) return std::string("terms 2^-").append(std::to_string(s.P + 1)).append(" lost: ").append(s.kept_lo);
    return std::string("other");
  });
}

std::optional<Answer> spec_f6(const SpecContext& s) {  // alignment to the largest exponent, wherever it sits
  const double u = s.u;
  std::string obs;
  std::vector<double> rs;
  int B = 0;
  for (int j = 0; j < 4; ++j) {
    Layout L;
    L.p.assign(4, u / 2);
    L.p[size_t(j)] = 1;
    L.c = u;
    L.outs = {1, 1 + 2 * u};
    if (s.P == kFp32Precision) {
      L.literal.assign(4, Operands{0.5f, float(u)});
      L.literal[size_t(j)] = Operands{1.0f, 1.0f};
    }
    Case cs;
    Res r;
    if (!s.bench.attempt(L, cs, r)) break;
    B = cs.B;
    rs.push_back(unit(r.r, cs.B));
    obs.append(j ? "; " : "").append(pretty(rs.back()));
  }
  if (rs.size() != 4) return std::nullopt;
  const bool same = std::all_of(rs.begin(), rs.end(), [&](double v) { return v == rs[0]; });
  std::string conclusion = same ? "same for every position: " : "depends on the position: ";
  if (rs[0] == 1 + 2 * u)
    conclusion.append(kept_text(">=", s.P + 1));
  else if (rs[0] == 1)
    conclusion.append(s.kept_lo);
  return Answer{units_prefix(B)
                    .append("a*b = 1 at j = 0..3, others 2^-")
                    .append(std::to_string(s.P + 1))
                    .append(", c=2^-")
                    .append(std::to_string(s.P)),
                obs, conclusion};
}

std::optional<Answer> spec_f7(const SpecContext& s) {  // RZ vs RD/RU
  const double u = s.u;
  const Window& w = s.f.window;
  Layout L;
  L.p = {2, 1.5 * p2(1 - s.P)};
  L.literal = s.lit({{1, 2}, {1, 3 * u}});  // the spec's 2^-23 + 2^-24
  L.outs = {2, 2 + 4 * u};
  return s.decide(L, [&](double r, double m) {
    std::string d = direction(r, m, 2, 2 + 4 * u);
    if (w.known && w.kept < s.P + 1 && !s.f.structure.fp32_arithmetic)
      d.append(" (the small product lies partly below the window: RZ and RN look alike)");
    return d;
  });
}

std::optional<Answer> spec_f8(const SpecContext& s) {  // rounding at the output's smallest subnormal
  Bench& bench = s.bench;
  const double grid = p2(bench.fo.emin() - s.f.accumulator.frac_bits);
  Layout L;
  L.p = {grid / 2, grid / 4};
  if (bench.fo.same_encoding(formats::fp16)) {  // the spec's operands: fp16's smallest subnormal times 1/2, 1/4
    const float tiny = float(min_subnormal(formats::fp16));
    L.literal = {Operands{tiny, 0.5f}, Operands{tiny, 0.25f}};
  }
  L.outs = {grid};
  L.subnormal_outs = true;
  const bool subnormal_outputs = s.f.subnormals.outputs;
  std::optional<Case> c = subnormal_outputs ? bench.realize(L, 0) : std::nullopt;
  std::optional<Res> r = c ? bench.run(*c) : std::nullopt;
  if (!r)
    return SpecContext::not_run(subnormal_outputs ? "not observable: no product this small"
                                                  : "not applicable: subnormal outputs are flushed");
  const double v = double(r->r);
  return Answer{summary(L, 0), observed(*r, 0), v == grid ? "rounds to nearest (or up)" : v == 0 ? "RZ/RD" : "other"};
}

std::optional<Answer> spec_f9(const SpecContext& s) {  // guard bit
  const double u = s.u;
  Layout L;
  L.p = {1};
  L.literal = s.lit({{1, 1}});
  L.c = -(1 - u);
  L.outs = {u, 2 * u};
  return s.decide(L, [&](double r, double) {
    if (r == u) return std::string("guard bit: ").append(kept_text(">=", s.P));
    if (r == 2 * u) return std::string("no guard bit: ").append(kept_text("=", s.P - 1));
    return std::string("other");
  });
}

std::optional<Answer> spec_f10(const SpecContext& s) {  // late normalisation
  const double u = s.u;
  Layout L;
  L.p.assign(4, u);
  L.literal = s.lit({{1, u}, {1, u}, {1, u}, {1, u}});
  L.c = 1 - u;
  L.outs = {1 + 2 * u};
  return s.decide(L, [&](double r, double) {
    return r == 1 + 2 * u ? std::string("normalise once (late)") : std::string("other");
  });
}

std::optional<Answer> spec_f11(const SpecContext& s) {  // carry-out
  Layout L;
  L.p = {1, 1.5, 1.75, 1.875};
  L.literal = {Operands{1.0f, 1.0f}, Operands{1.0f, 1.5f}, Operands{1.0f, 1.75f}, Operands{1.0f, 1.875f}};
  L.c = 1.875;
  L.outs = {8};
  return s.decide(L, [&](double r, double) {
    return r == 8 ? std::string("exactly 8: carries kept") : std::string("not 8: carries lost");
  });
}

std::optional<Answer> spec_f12(const SpecContext& s) {  // non-monotonic accumulation
  const double u = s.u;
  double rs[2] = {0, 0};
  std::string obs;
  int B = 0;
  for (int v = 0; v < 2; ++v) {
    Layout L;
    L.p = {u / 2, u / 2, u / 2, 1.5 * u};
    L.literal = s.lit({{0.5, u}, {0.5, u}, {0.5, u}, {0.5, 3 * u}});
    L.c = v == 0 ? 1 - u : 1;
    L.outs = {1, 1 + 2 * u};
    Case cs;
    Res r;
    if (!s.bench.attempt(L, cs, r)) return std::nullopt;
    B = cs.B;
    rs[v] = unit(r.r, cs.B);
    obs.append(v ? std::string("; c=1: ") : std::string("c=1-2^-").append(std::to_string(s.P)).append(": "))
        .append(pretty(rs[v]));
  }
  return Answer{units_prefix(B)
                    .append("a*b=[3x 2^-")
                    .append(std::to_string(s.P + 1))
                    .append(", 3*2^-")
                    .append(std::to_string(s.P + 1))
                    .append("], c = 1-2^-")
                    .append(std::to_string(s.P))
                    .append(" vs 1"),
                obs,
                rs[0] > rs[1]    ? "non-monotonic: larger C, smaller result"
                : rs[0] == rs[1] ? "equal (monotonic here)"
                                 : "monotonic"};
}

// --- HPEC --------------------------------------------------------------------------

std::optional<Answer> spec_h1(const SpecContext& s) {  // neab >= 1
  const double u = s.u;
  Layout L;
  L.p = {u, u};
  L.literal = s.lit({{u, 1}, {u, 1}});
  L.c = 1;
  L.outs = {1, 1 + 2 * u};
  return s.decide(L, [&](double r, double) {
    return r == 1 + 2 * u ? kept_text(">=", s.P) : r == 1 ? kept_text("<=", s.P - 1) : std::string("other");
  });
}

std::optional<Answer> spec_h2(const SpecContext& s) {  // more extra bits: 2^-P, 2^-(P+1), ..., 2^-(P+L-1) twice
  const double u = s.u;
  const int P = s.P;
  int best = 0;
  std::string obs;
  int B = 0;
  for (int levels = 2; levels + 1 <= std::max(s.f.structure.block_size, 3) && levels <= 12; ++levels) {
    Layout L;
    for (int i = 0; i < levels; ++i) L.p.push_back(p2(-P - i));
    L.p.push_back(p2(-P - levels + 1));
    if (levels == 2) L.literal = s.lit({{u, 1}, {u, 0.5}, {u, 0.5}});
    L.c = 1;
    L.outs = {1, 1 + 2 * u};
    Case cs;
    Res r;
    if (!s.bench.attempt(L, cs, r)) break;
    B = cs.B;
    const double v = unit(r.r, cs.B);
    if (levels == 2) obs = std::string("L=2: ").append(pretty(v));
    if (v != 1 + 2 * u) break;
    best = levels;
  }
  return Answer{units_prefix(B)
                    .append("c=1, a*b=[2^-")
                    .append(std::to_string(P))
                    .append(", ..., 2^-(")
                    .append(std::to_string(P))
                    .append("+L-1) twice], L = 2, 3, ..."),
                obs.append(best ? std::string("; exact up to L=").append(std::to_string(best)) : std::string()),
                best ? kept_text(">=", P + best - 1).append(" (the spec's reading; assumes RZ)") : kept_text("<=", P)};
}

// H3 (HPEC): c = 1+2^(1-P), a0 b0 = 1, a_{k-1} b_{k-1} = 2^(1-P):
// 2+2^(2-P) while both products share C's block.
std::optional<Answer> spec_h3(const SpecContext& s) {
  Bench& bench = s.bench;
  const int P = s.P;
  Layout L;
  L.p = {1, p2(1 - P)};
  L.literal = s.lit({{1, 1}, {p2(1 - P), 1}});
  L.c = 1 + p2(1 - P);
  L.outs = {2 + p2(2 - P), 2};
  std::optional<Case> base = bench.realize_any(L);
  if (!base) return SpecContext::not_run("not observable: the formats cannot hold the probe");
  const double expect = p2(base->B) * (2 + p2(2 - P));
  int first_diff = 0, last = 0;
  for (int k = 2; k <= bench.scan_limit && k <= 256; ++k) {
    Case cs;
    cs.a.assign(size_t(k), 0.0f);
    cs.b.assign(size_t(k), 0.0f);
    cs.a[0] = base->a[0];
    cs.b[0] = base->b[0];
    cs.a[size_t(k) - 1] = base->a[1];
    cs.b[size_t(k) - 1] = base->b[1];
    cs.c = base->c;
    if (bench.max_k > 0 && k > bench.max_k) break;
    last = k;
    if (double(bench.target.dot(cs.a, cs.b, cs.c)) != expect) {
      first_diff = k;
      break;
    }
  }
  const std::string two = std::string("2+2^").append(std::to_string(2 - P));
  return Answer{summary(L, base->B).append(" with a*b = 2^(1-p) moved to position k-1"),
                first_diff ? std::string(two).append(" for k < ").append(std::to_string(first_diff))
                           : std::string(two).append(" up to k = ").append(std::to_string(last)),
                first_diff ? std::string("n = ").append(std::to_string(first_diff - 1))
                           : std::string("n >= ").append(std::to_string(last))};
}

std::optional<Answer> spec_h4(const SpecContext& s) {  // normalisation (t = 3)
  const double u = s.u;
  Layout L;
  const double t = p2(3 - s.P);
  L.p = {t + u, t + u};
  L.literal = s.lit({{t + u, 1}, {t + u, 1}});  // the spec's 2^-21 + 2^-24
  L.c = 1 - t;
  L.outs = {1 + t, 1 + t + 2 * u, 1 + t + 4 * u};
  return s.decide(L, [&](double r, double) {
    if (r == 1 + t + 2 * u) return std::string("late normalisation");
    if (r == 1 + t) return std::string("immediate normalisation (RZ/RD/RN)");
    if (r == 1 + t + 4 * u) return std::string("immediate normalisation (RU)");
    return std::string("other");
  });
}

std::optional<Answer> spec_h5(const SpecContext& s) {  // final rounding
  const double u = s.u;
  Layout L;
  L.p = {1, 1, 1};
  L.literal = s.lit({{1, 1}, {1, 1}, {1, 1}});
  L.c = 1 + 2 * u + 4 * u;
  L.outs = {4, 4 + 8 * u};
  return s.decide(L, [&](double r, double m) {
    const std::string d = direction(r, m, 4, 4 + 8 * u);
    if (d == "RZ") return std::string("RZ");
    if (d == "RN") return std::string("RNE");
    return d;
  });
}

// H6: alignment rounding with the spec's inputs, which are written for a
// window of at least FP32's 23 fraction bits (neab >= 0).
std::optional<Answer> spec_h6(const SpecContext& s) {
  const Window& w = s.f.window;
  if (!(w.exact && !s.f.structure.fp32_arithmetic && w.kept >= kFp32Fraction))
    return SpecContext::not_run(std::string("not applicable: the spec's inputs need a measured window of at least ")
                                    .append(std::to_string(kFp32Fraction))
                                    .append(" bits (neab >= 0); see E1"));
  const int P = s.P;
  const int neab = w.kept - kFp32Fraction;
  Layout L;
  const double t = s.u * 1.5 * p2(-neab);
  L.p = {t, t};
  L.c = 1;
  const double rne_signal = 1 + p2(2 - P - neab);
  L.outs = {1};
  const bool visible = 2 - P - neab >= 1 - P;
  return s.decide(L, [&](double r, double) {
    if (r == rne_signal && visible) return std::string("RNE");
    if (r == 1)
      return visible ? std::string("truncation")
                     : std::string("inconclusive: the RNE signal 1+2^")
                           .append(std::to_string(2 - P - neab))
                           .append(" lies below the output's last bit (see E1)");
    return std::string("other");
  });
}

std::optional<Answer> spec_h7(const SpecContext& s) {  // rounding between blocks
  const Structure& st = s.f.structure;
  const double u = s.u;
  if (!(st.block_fma() && st.block_size_exact && st.block_size + 1 <= 4096))
    return SpecContext::not_run("not applicable: no measured block size");
  Layout L;
  L.p.assign(size_t(st.block_size) + 1, 0.0);
  L.p[size_t(st.block_size)] = 1.5 * u;
  L.c = 1 + 2 * u;
  L.outs = {1 + 2 * u, 1 + 4 * u};
  return s.decide(L, [&](double r, double) {
    if (r == 1 + 2 * u) return std::string("RZ between blocks");
    if (r == 1 + 4 * u) return std::string("RN between blocks");
    return std::string("other");
  });
}

// --- FTTN, EMU -------------------------------------------------------------------

std::optional<Answer> spec_t1(const SpecContext& s) {  // product rounding (FTTN)
  const double u = s.u;
  Layout L;
  L.p = {1.5 * p2(1 - s.P), 2};
  L.literal = s.lit({{p2(-14), p2(-9) + p2(-10)}, {1, 2}});  // the spec's fp16 operands
  L.outs = {2, 2 + 4 * u};
  return s.decide(L, [&](double r, double) {
    if (r == 2) return std::string("2: RZ/RD");
    if (r == 2 + 4 * u) return std::string("2+2^") + std::to_string(2 - s.P) + ": RU/RN";
    return std::string("other");
  });
}

std::optional<Answer> spec_t2(const SpecContext& s) {  // extra bits (FTTN)
  const double u = s.u;
  const bool fp32_out = is_binary32(s.bench.fo);
  Layout L;
  L.p = {1.25};
  L.literal = {Operands{1.0f, 1.25f}};
  L.c = -(0.125 + u / 2);
  L.outs = {1.125, 1.125 - 2 * u};
  return s.decide(L, [&](double r, double) {
    std::string t = fp32_out ? hex32(float(r)) + ": " : "";
    if (r == 1.125 - 2 * u) return t.append("2-3 extra bits: ").append(kept_text(">=", s.P + 1));
    if (r == 1.125) return t.append("1 extra bit at most: ").append(s.kept_lo);
    return t.append("other");
  });
}

// T3 (FTTN): c = 1, products 2^-P at 0 and at i: 1+2^(1-P) in one block,
// 1 once i is in the next (needs kept >= P).
std::optional<Answer> spec_t3(const SpecContext& s) {
  Bench& bench = s.bench;
  const int P = s.P;
  Layout L;
  L.p = {p2(-P), p2(-P)};
  L.literal = s.lit({{p2(-10), p2(-14)}, {p2(-10), p2(-14)}});  // the spec's fp16 operands
  L.c = 1;
  L.outs = {1, 1 + p2(1 - P)};
  std::optional<Case> base = bench.realize_any(L);
  if (!base) return SpecContext::not_run("not observable: the formats cannot hold the probe");
  const double together = p2(base->B) * (1 + p2(1 - P)), apart = p2(base->B);
  int width = 0, last = 0;
  bool never = false;
  for (int i = 1; i < bench.scan_limit && i <= 256; ++i) {
    if (bench.max_k > 0 && i + 1 > bench.max_k) break;
    Case cs;
    cs.a.assign(size_t(i) + 1, 0.0f);
    cs.b.assign(size_t(i) + 1, 0.0f);
    cs.a[0] = base->a[0];
    cs.b[0] = base->b[0];
    cs.a[size_t(i)] = base->a[1];
    cs.b[size_t(i)] = base->b[1];
    cs.c = base->c;
    const double v = double(bench.target.dot(cs.a, cs.b, cs.c));
    last = i;
    if (i == 1 && v == apart) {
      never = true;
      break;
    }
    if (v != together) {
      width = i;
      break;
    }
  }
  const std::string one = std::string("1+2^").append(std::to_string(1 - P));
  return Answer{summary(L, base->B).append(" with the second product moved to position i"),
                never   ? std::string("1 already at i = 1")
                : width ? std::string(one).append(" for i < ").append(std::to_string(width))
                        : std::string(one).append(" up to i = ").append(std::to_string(last)),
                never
                    ? std::string("not observable: terms 2^-").append(std::to_string(P)).append(" are lost (kept < p)")
                : width ? std::string("width = ").append(std::to_string(width))
                        : std::string("width > ").append(std::to_string(last))};
}

// W1 (EMU): C = 2^s, A row {1 - 2^-(w-s), 2^-(w-s)}, B = 1: the largest w
// still giving 2^s + 1 is the number of bits kept (s = 11, or F when the
// output holds fewer bits).
std::optional<Answer> spec_w1(const SpecContext& ctx) {
  const int s = std::min(11, ctx.f.accumulator.frac_bits);
  int best = 0;
  bool range_end = false;
  int B = 0;
  for (int w = s + 1; w <= s + 60; ++w) {
    Layout L;
    const double small = p2(-(w - s));
    L.p = {1 - small, small};
    L.literal = {Operands{float(1 - small), 1.0f}, Operands{float(small), 1.0f}};
    L.c = p2(s);
    L.outs = {p2(s) + 1};
    Case cs;
    Res r;
    if (!ctx.bench.attempt(L, cs, r)) {
      range_end = true;
      break;
    }
    B = cs.B;
    if (unit(r.r, cs.B) != p2(s) + 1) break;
    best = w;
  }
  const std::string shift = std::to_string(s);
  return Answer{
      units_prefix(B)
          .append("c=2^")
          .append(shift)
          .append(", a*b=[1-2^-(w-")
          .append(shift)
          .append("), 2^-(w-")
          .append(shift)
          .append(")], w = ")
          .append(std::to_string(s + 1))
          .append(", ..."),
      std::string("2^").append(shift).append("+1 up to w = ").append(std::to_string(best)),
      range_end ? std::string("kept >= ").append(std::to_string(best)).append(" (the input formats reach no further)")
                : std::string("kept bits = ").append(std::to_string(best))};
}

// Every probe, in the order of docs/mma.md, "The probe table" procedure:
// F1-F3 and special values -> block structure (H3/T3) -> widths (H1/H2/W1)
// -> roundings (H5/H6/T1) -> H7 -> R1, each step with its fitting probes.
// clang-format off
constexpr ProbeRow kProbeTable[] = {
    // subnormals and special values
    {"F1"}, {"F2"}, {"F3"}, {"S1"}, {"S2"}, {"S3"}, {"S4"}, {"S5"}, {"Z1"},
    // block structure
    {"N1"}, {"N2"}, {"N3"}, {"C1"}, {"X1"}, {"X2"}, {"X3"},
    {"H3", "block size (HPEC)", spec_h3},
    {"T3", "block width (FTTN)", spec_t3},
    // widths
    {"K1"},
    {"H1", "one extra alignment bit", spec_h1},
    {"H2", "more extra alignment bits", spec_h2},
    {"W1", "accumulator width (EMU)", spec_w1},
    {"A1"},
    {"F5", "FP32-level sum (K = 4)", spec_f5},
    {"F6", "alignment to the largest exponent", spec_f6},
    {"F9", "guard bit", spec_f9},
    {"F10", "late normalisation", spec_f10},
    {"F12", "non-monotonic accumulation", spec_f12},
    {"T2", "extra bits (FTTN)", spec_t2},
    // roundings
    {"D1"},
    {"H5", "final rounding", spec_h5},
    {"F7", "RZ vs RD/RU", spec_f7},
    {"T1", "product rounding (FTTN)", spec_t1},
    {"F8", "rounding at the smallest subnormal", spec_f8},
    {"E1"},
    {"H6", "alignment rounding (spec inputs)", spec_h6},
    {"H4", "normalisation", spec_h4},
    {"F4", "exact products", spec_f4},
    {"F11", "carry-out", spec_f11},
    {"P1"},
    // between blocks, the clamp and overflow
    {"H7", "rounding between blocks", spec_h7},
    {"M1"}, {"O1"}, {"X4"}, {"X5"}, {"X9"}, {"X6"}, {"X7"}, {"X8"},
    // the summation tree
    {"R1"},
};
// clang-format on

}  // namespace

std::span<const ProbeRow> probe_table() { return kProbeTable; }

void run_spec_probes(Bench& bench, const Findings& f, Outcomes& out) {
  const int P = f.accumulator.frac_bits + 1;
  const SpecContext s{bench, f, P, p2(-P), std::string("kept <= ").append(std::to_string(P))};
  for (const ProbeRow& row : kProbeTable) {
    if (row.spec == nullptr) continue;
    if (std::optional<Answer> a = row.spec(s))
      out.add(row.id, row.property, std::move(a->inputs), std::move(a->observed), std::move(a->conclusion));
  }
}

}  // namespace fpsim::probe::detail
