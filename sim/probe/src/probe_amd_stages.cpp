// X1, X2, X3: the AMD matrix-core stages the NVIDIA-style fitting probes
// cannot tell apart (docs/mma.md, "AMD matrix cores" and "The fitting
// probes"). X1 finds an exact block sum (CDNA1), X2 its block size, X3 a
// balanced FP32 tree inside each block (CDNA2). Each is built, like N1, from
// 1, -1 and x = 2^-g far below every alignment window, so that the answer
// is x or 0 whatever the roundings. They report an outcome only where they
// find the stage: on every other target the report is the one the suite
// gave before these probes existed.
#include <string>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

// The largest g (at most 120) for which the layout realizes: x = 2^-g
// below any window a block FMA keeps.
std::optional<Case> realize_far_below(Bench& bench, Layout L, int x_index, int& g_out) {
  for (int g = 120; g >= 30; --g) {
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
  const std::optional<Case> x1 = realize_far_below(bench, L, 0, g);
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
  const std::optional<Case> x3 = realize_far_below(bench, T, 0, g);
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

}  // namespace fpsim::probe::detail
