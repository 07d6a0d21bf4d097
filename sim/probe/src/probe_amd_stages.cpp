// X1-X8: the AMD matrix-core stages the NVIDIA-style fitting probes
// cannot tell apart (docs/mma.md, "AMD matrix cores" and "The fitting
// probes"). X1 finds an exact block sum (CDNA1), X2 its block size, X3 a
// balanced FP32 tree inside each block (CDNA2); X4-X8 the CDNA3 stages: C
// added after the products rounded toward -inf, the extra bits the products'
// sum keeps there, the wrapping shift, odd/even FP8 groups and the product
// limit. X1-X3 and X4, X7 are built, like N1, from
// 1, -1 and x = 2^-g far below every alignment window, so that the answer
// is x or 0 whatever the roundings (X4, X7: 0 or minus one unit, the
// rounding toward -inf showing in the mirror); X5 and X6 read an RNE tie. They report an outcome only where they
// find the stage: on every other target the report is the one the suite
// gave before these probes existed.
#include <cmath>
#include <string>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

// The largest g in [min_g, 120] for which the layout realizes: x = 2^-g
// below any window a block FMA keeps (min_g 40, as N1's x) or below FP32's
// 24 bits (min_g 30).
std::optional<Case> realize_far_below(Bench& bench, Layout L, int x_index, int min_g, int& g_out) {
  for (int g = 120; g >= min_g; --g) {
    L.p[size_t(x_index)] = p2(-g);
    L.outs = {p2(-g)};
    L.subnormal_outs = true;
    if (std::optional<Case> cs = bench.realize_any(L, 8)) {
      g_out = g;
      return cs;
    }
  }
  return std::nullopt;
}

std::string gap_text(int g) { return std::string("x=2^-").append(std::to_string(g)); }

}  // namespace

AmdStages probe_amd_stages(Bench& bench, const Findings& f, Outcomes& out) {
  AmdStages s;
  // X1: c = 1, products x and -1 in one step. A window of kept < g bits
  // (every NVIDIA block FMA) loses x; FP32 arithmetic adds 1 + x = 1 or
  // x + -1 = -1 first and loses it; only an exact sum of the block and C
  // leaves x (docs/mma.md, "AMD matrix cores", CDNA1).
  Layout L;
  L.p = {0, -1};
  L.c = 1;
  int g = 0;
  const std::optional<Case> x1 = realize_far_below(bench, L, 0, 40, g);
  if (!x1) return s;
  const std::optional<Res> r1 = bench.run(*x1);
  if (r1 && unit(r1->r, x1->B) == p2(-g) && unit(r1->m, x1->B) == -p2(-g)) {
    s.exact_sum = true;
    Layout shown = L;
    shown.p[0] = p2(-g);
    out.add("X1", "exact block sum", summary(shown, x1->B), observed(*r1, x1->B),
            gap_text(g) + " kept next to 1 - 1: the block and C are summed exactly, rounded once");
    // X2: c = 1, x at position 0, -1 at position i: x survives while -1
    // shares the exact sum with it; once -1 lies in a later block the
    // first block rounds 1 + x to 1 and the result is 0. The first such
    // i is the block size.
    const float xa = x1->a[0], xb = x1->b[0], ma = x1->a[1], mb = x1->b[1];
    int boundary = 0, last = 0;
    for (int i = 1; i <= kMaxBlockSize; ++i) {
      Case cs = *x1;
      cs.a.assign(size_t(i) + 1, 0.0f);
      cs.b.assign(size_t(i) + 1, 0.0f);
      cs.a[0] = xa;
      cs.b[0] = xb;
      cs.a[size_t(i)] = ma;
      cs.b[size_t(i)] = mb;
      const std::optional<Res> r = bench.run(cs);
      if (!r) break;
      last = i;
      if (r->r == 0.0f) {
        boundary = i;
        break;
      }
    }
    s.block_size = boundary;
    out.add("X2", "block size of the exact sums",
            units_prefix(x1->B) + std::string("c=1, ").append(gap_text(g)).append(" at 0, a*b=-1 at position i"),
            boundary ? std::string("x kept for i < ").append(std::to_string(boundary)).append(", lost at i = ").append(
                           std::to_string(boundary))
                     : std::string("x kept for i = 1..").append(std::to_string(last)),
            boundary ? std::string("blocks of ").append(std::to_string(boundary))
                     : std::string("no boundary up to K = ").append(std::to_string(last + 1)));
    return s;
  }
  // X3: an FP32 block with one chain (N1, N2, N3) of at least 4 products
  // x, 0, 1, -1 and c = 0. A chain adds them in order and loses x to 1; a
  // balanced tree adds (x + 0) + (1 + -1) = x (docs/mma.md, "AMD matrix
  // cores", CDNA2).
  const Structure& st = f.structure;
  if (st.shape != Shape::fma_blocked || st.chains != 1 || st.block_size < 4) return s;
  Layout T;
  T.p = {0, 0, 1, -1};
  T.c = 0;
  const std::optional<Case> x3 = realize_far_below(bench, T, 0, 30, g);
  if (!x3) return s;
  const std::optional<Res> r3 = bench.run(*x3);
  if (r3 && unit(r3->r, x3->B) == p2(-g) && unit(r3->m, x3->B) == -p2(-g)) {
    s.pairwise_tree = true;
    Layout shown = T;
    shown.p[0] = p2(-g);
    out.add("X3", "FP32 tree inside a block", summary(shown, x3->B), observed(*r3, x3->B),
            gap_text(g) + " kept: the block's products are summed pairwise, (p0 + p1) + (p2 + p3)");
  }
  return s;
}

AmdStages probe_cdna3_stages(Bench& bench, const Findings& f, Outcomes& out) {
  AmdStages s = f.amd;
  if (s.exact_sum || !f.structure.block_fma() || !f.window.exact) return s;
  const int kept = f.window.kept;
  // Runs L with x = 2^-g (g from 40 down) at p[x_index], or c when x_index < 0: the first that
  // realizes, with its g.
  auto run_with_x = [&](Layout L, int x_index, Case& cs, Res& res, int& g) {
    for (g = 40; g >= 30; --g) {
      (x_index < 0 ? L.c : L.p[size_t(x_index)]) = p2(-g);
      if (bench.attempt(L, cs, res, 8)) return true;
    }
    return false;
  };
  auto floor_signature = [&](const Res& r, const Case& cs) {
    return r.r == 0.0f && unit(r.m, cs.B) == -p2(-kept);
  };
  // X4: products 1, -1 and C = x far below them. In one block x is truncated away with either
  // sign; added after the products' sum (exponent 0) by rounding toward -inf it is +0 and, mirrored,
  // minus one unit 2^-kept (docs/mma.md, "AMD matrix cores", CDNA3).
  Layout L4;
  L4.p = {1, -1};
  L4.outs = {p2(-kept)};
  Case c4;
  Res r4;
  int g = 0;
  if (!run_with_x(L4, -1, c4, r4, g) || !floor_signature(r4, c4)) return s;
  s.c_after_products = true;
  L4.c = p2(-g);
  out.add("X4", "C after the products", summary(L4, c4.B), observed(r4, c4.B),
          "C is added to the products' sum afterwards, aligned toward -inf (+0, and -2^-" + std::to_string(kept) +
              " mirrored)");
  const bool rne = f.final_rounding.observed && f.final_rounding.mode == Rounding::rne;
  const int F = int(bench.fo.man_bits);
  // X5: C = 1, products 2^-(F+1) (half a unit of 1) and 2^-j at positions 0 and 2 (one group
  // either way). The products' sum is the smaller side: 2^-j survives its alignment to C for
  // j <= kept + extra, and breaks the RNE tie to 1 + 2^-F; once lost the tie gives 1.
  if (rne) {
    int last = kept, j = kept + 1;
    bool ran = false;
    Case cs;
    for (; j <= F + 1 + kept; ++j) {
      Layout L;
      L.p = {p2(-(F + 1)), 0, p2(-j)};
      L.c = 1;
      L.outs = {1, 1 + p2(-F)};
      Res r;
      if (!bench.attempt(L, cs, r, 8)) break;
      ran = true;
      if (unit(r.r, cs.B) != 1 + p2(-F)) break;
      last = j;
    }
    if (ran) {
      const bool exact = j <= F + 1 + kept;
      s.c_stage_extra_bits = last - kept;
      s.c_stage_extra_observed = exact;
      out.add("X5", "products' bits kept at C",
              units_prefix(cs.B) + std::string("c=1, a*b=[2^-").append(std::to_string(F + 1)).append(", 0, 2^-j]"),
              std::string("1+2^-").append(std::to_string(F)).append(" for j <= ").append(std::to_string(last)),
              std::string("the products' sum keeps ")
                  .append(exact ? "" : ">= ")
                  .append(std::to_string(s.c_stage_extra_bits))
                  .append(" more bits when C is the larger"));
    }
  }
  // X9: products h = 2^(emin-F-1) (half the output's smallest subnormal) and 2^(emin-F-1-j), C = 0,
  // at scale 1. The products' group keeps 2^-j for j <= kept; a clamp M on the C stage's exponent
  // aligns the sum to M, keeping kept + extra bits below it, so 2^-j survives iff
  // j <= emin-F-1 - M + kept + extra, and while it survives it breaks the RNE tie h up to 2h.
  if (rne && s.c_stage_extra_observed && bench.subnormal_outputs) {
    const int h = bench.fo.emin() - F - 1;
    int last = 0, j = 1;
    for (; j <= kept; ++j) {
      Layout L;
      L.p = {p2(h), p2(h - j)};
      L.outs = {p2(h + 1)};
      L.subnormal_outs = true;
      const std::optional<Case> cs = bench.realize(L, 0);
      if (!cs) break;
      const std::optional<Res> r = bench.run(*cs);
      if (!r) break;
      if (double(r->r) != p2(h + 1)) break;
      last = j;
    }
    if (j > 1 && last < kept) {  // ran, and the clamp cut the products' bits before their own window did
      s.c_stage_min_exp_observed = true;
      s.c_stage_min_exp = h - last + kept + s.c_stage_extra_bits;
      out.add("X9", "C stage's exponent clamp",
              std::string("a*b=[2^").append(std::to_string(h)).append(", 2^(").append(std::to_string(h)).append("-j)]"),
              std::string("2^").append(std::to_string(h + 1)).append(" for j <= ").append(std::to_string(last)),
              std::string("min_exp = ").append(std::to_string(s.c_stage_min_exp)));
    }
  }
  // X6: C = 1 and one product -2^-70. Aligned 70 binades down and rounded toward -inf it is one
  // unit below 1, which RNE returns to 1; a shift that wraps modulo 64 moves it 6 binades instead
  // and the result is far from 1.
  if (rne) {
    Layout L;
    L.p = {-p2(-70)};
    L.c = 1;
    L.outs = {1};
    Case cs;
    Res r;
    if (bench.attempt(L, cs, r, 40)) {
      s.shift_wraps_observed = true;
      s.c_stage_shift_wraps = unit(r.r, cs.B) != 1;
      out.add("X6", "shift of the C stage", summary(L, cs.B), observed(r, cs.B),
              s.c_stage_shift_wraps ? "not 1: the 70-binade shift wraps modulo 64"
                                    : "1: the 70-binade shift is taken whole");
    }
  }
  // X7: products 1, x, -1 (x at an odd k), C = 0. In one group x is truncated next to the 1s; in
  // even and odd groups x is a group of its own, joined to the even group's 0 toward -inf.
  if (f.structure.block_size >= 3) {
    Layout L;
    L.p = {1, 0, -1};
    L.outs = {p2(-kept)};
    Case cs;
    Res r;
    if (run_with_x(L, 1, cs, r, g)) {
      s.odd_even_observed = true;
      s.odd_even_groups = floor_signature(r, cs);
      L.p[1] = p2(-g);
      out.add("X7", "odd and even product groups", summary(L, cs.B), observed(r, cs.B),
              s.odd_even_groups ? "x joins the even products toward -inf: two groups (even k, odd k)"
                                : "x truncated with the 1s: one group");
    }
  }
  // X8: products 2^(emax+1) and -2^(emax+1), C = 0: exactly 0 in an exact sum; NaN when a product
  // beyond the output's range makes the block inf (both signs: NaN).
  {
    Layout L;
    L.p = {p2(bench.emax_out + 1), -p2(bench.emax_out + 1)};
    Case cs;
    Res r;
    if (bench.attempt(L, cs, r, 0) && cs.B == 0) {
      s.product_limit_observed = true;
      s.product_limit = std::isnan(r.r);
      out.add("X8", "product limit", summary(L, 0), observed(r, 0),
              s.product_limit ? "NaN: a product beyond the output's range makes the block inf"
                              : "no limit on the products");
    }
  }
  return s;
}

}  // namespace fpsim::probe::detail
