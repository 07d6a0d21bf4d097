// N1, N2, N3, C1: the block structure, the first fitting phase after the
// subnormals. A probe term x = 2^-g far below every alignment window
// vanishes when it shares a block with a 1 and survives exactly when the 1s
// have already cancelled in an earlier step; where it first survives tells
// the block size, where C enters and whether FMA chains interleave
// (docs/mma.md "Probes", the N1/N2/C1 table).
#include <algorithm>
#include <string>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

// A block-boundary scan: where the probe term first survives.
struct Scan {
  int boundary = 0;  // first position where the term survives; 0: none found
  int limit = 0;     // last position tried
  std::string anomaly;
};

// Scans positions i = first.. with make(i) building the case; the probe
// term x survives (result x) or is absorbed (result 0). Linear up to the
// scan limit, then doubling up to 4096 with a binary search.
template <class Make>
Scan scan(Bench& bench, int first, Make make, double x) {
  Scan s;
  // One position: 1 the probe term survived, 0 absorbed, -1 something
  // else, -2 not run (K beyond max_k).
  auto at = [&](int i) -> int {
    Case cs = make(i);
    if (bench.max_k > 0 && int(cs.a.size()) > bench.max_k) return -2;
    const float r = bench.target.dot(cs.a, cs.b, cs.c);
    if (double(r) == x) return 1;
    if (r == 0.0f) return 0;
    if (s.anomaly.empty())
      s.anomaly = std::string("position ").append(std::to_string(i)).append(" gave ").append(pretty(r));
    return -1;
  };
  int last_absorbed = first - 1;
  for (int i = first; i < bench.scan_limit; ++i) {
    const int v = at(i);
    if (v == -2) break;
    s.limit = i;
    if (v == 1) {
      s.boundary = i;
      return s;
    }
    last_absorbed = i;
  }
  if (bench.max_k > 0) return s;
  for (int hi = 2 * bench.scan_limit; hi <= 4096; hi *= 2) {
    s.limit = hi;
    if (at(hi) != 1) {
      last_absorbed = hi;
      continue;
    }
    int lo = last_absorbed;  // absorbed at lo, survives at hi
    while (hi - lo > 1) {
      const int mid = lo + (hi - lo) / 2;
      (at(mid) == 1 ? hi : lo) = mid;
    }
    s.boundary = hi;
    return s;
  }
  return s;
}

// The terms every structure probe is made of: 1 (operands one_a*one_b), C =
// -1 and the probe term x = 2^-g, all at the scale 2^B.
struct Terms {
  int g = 0, B = 0;
  float c_one = 0, one_a = 0, one_b = 0, x_a = 0, x_b = 0;
  double x = 0;
  std::string units, gap_text;

  Case blank(int K) const {
    Case cs;
    cs.a.assign(size_t(K), 0.0f);
    cs.b.assign(size_t(K), 0.0f);
    return cs;
  }
  void put(Case& cs, size_t k, float a, float b) const {
    cs.a[k] = a;
    cs.b[k] = b;
  }
};

// x = 2^-g with g as large as the formats allow (up to 40): below every
// alignment window the suite can meet.
std::optional<Terms> structure_terms(Bench& bench) {
  for (int g = 40; g >= 8; --g) {
    Layout L;
    L.p = {1, p2(-g)};
    L.c = -1;
    L.outs = {p2(-g)};
    L.subnormal_outs = true;
    if (const std::optional<Case> big = bench.realize_any(L, 8)) {
      Terms t;
      t.g = g;
      t.B = big->B;
      t.c_one = float(-p2(t.B));
      t.one_a = big->a[0];
      t.one_b = big->b[0];
      t.x_a = big->a[1];
      t.x_b = big->b[1];
      t.x = p2(t.B - g);
      t.units = units_prefix(t.B);
      t.gap_text = std::string("x=2^-").append(std::to_string(g));
      return t;
    }
  }
  return std::nullopt;
}

// C1: C = x, products 1 and -1: x survives only when C is added after the
// products have cancelled (C last: FP32 kinds, promotion). True when C is
// aligned with the first block (also when the probe cannot run).
bool probe_c_first(Bench& bench, const Terms& t, Outcomes& out) {
  Layout L;
  L.p = {1, -1};
  L.c = p2(-t.g);
  L.outs = {p2(-t.g)};
  std::optional<Case> cs = bench.realize(L, t.B);
  for (int gg = t.g; !cs && gg >= 8; --gg) {
    L.c = p2(-gg);
    L.outs = {p2(-gg)};
    cs = bench.realize_any(L, 8);
  }
  if (!cs) return true;
  const std::optional<Res> r = bench.run(*cs);
  if (!r) return true;
  const bool c_first = !(double(r->r) == double(cs->c));
  out.add(
      "C1", "where C enters", summary(L, cs->B), observed(*r, cs->B),
      c_first ? "C is aligned with the first block's products (absorbed)" : "C is added after the products (survives)");
  return c_first;
}

// N3: interleaved FMA chains inside a block of m (C added after the
// block): 1 at position 0, -1 at j, x at j+1. The 1s cancel exactly, and
// x then survives, only when 0 and j feed the same chain (j = the number
// of chains); in one block FMA x is always absorbed. Returns the number of
// chains, 0 when x never survives.
int probe_chains(Bench& bench, int m, const Terms& t, Outcomes& out) {
  int found = 0, last = 0;
  for (int j = 1; j + 1 < m && j <= 16; ++j) {
    Case cs = t.blank(j + 2);
    t.put(cs, 0, t.one_a, t.one_b);
    t.put(cs, size_t(j), -t.one_a, t.one_b);
    t.put(cs, size_t(j) + 1, t.x_a, t.x_b);
    const std::optional<Res> r = bench.run(cs);
    if (!r) break;
    last = j;
    if (double(r->r) == t.x) {
      found = j;
      break;
    }
  }
  out.add("N3", "interleaved chains in a block",
          t.units + std::string("a0*b0=1, aj*bj=-1, ").append(t.gap_text).append(" at j+1, j = 1, 2, ..."),
          found ? std::string("x kept first at j = ").append(std::to_string(found))
                : std::string("x absorbed for j = 1..").append(std::to_string(last)),
          found ? std::string(std::to_string(found))
                      .append(found == 1 ? " FMA chain per block" : " interleaved FMA chains per block")
                : std::string("one block FMA (no chain cancels first)"));
  return found;
}

std::string scan_text(const Scan& s, int first) {
  std::string t;
  if (s.boundary)
    t.append("absorbed for i < ")
        .append(std::to_string(s.boundary))
        .append(", kept at i = ")
        .append(std::to_string(s.boundary));
  else
    t.append("absorbed for i = ").append(std::to_string(first)).append("..").append(std::to_string(s.limit));
  if (!s.anomaly.empty()) t.append(" (").append(s.anomaly).append(")");
  return t;
}

// Classification (docs/mma.md "Probes": N1/N2/C1 table) from N1's and N2's
// boundaries (b2: N2's block size) and C1; N3 runs where the table leaves
// chains open.
Structure classify(Bench& bench, const Terms& t, const Scan& n1, int b2, bool c_first, std::string note,
                   Outcomes& out) {
  Structure s;
  s.note = std::move(note);
  s.c_first = c_first;
  if (c_first) {
    if (n1.boundary == 0) {
      s.shape = Shape::block;
      s.block_size = std::min(128, n1.limit + 1);
      s.block_size_exact = false;
      s.note = std::string("no block boundary up to K = ").append(std::to_string(n1.limit + 1));
    } else if (n1.boundary == 1) {
      s.shape = Shape::sequential;
      s.block_size = 1;
    } else {
      s.shape = Shape::block;
      s.block_size = n1.boundary;
      if (b2 != n1.boundary) s.note = "N1 and N2 disagree on the block size";
    }
  } else if (n1.boundary == 0) {
    s.shape = Shape::pairwise;
    s.fp32_arithmetic = true;
  } else if (b2 <= 1) {
    s.shape = Shape::fma_blocked;
    s.fp32_arithmetic = true;
    s.block_size = n1.boundary;
  } else if (const int chains = probe_chains(bench, n1.boundary, t, out)) {
    s.shape = Shape::fma_blocked;
    s.fp32_arithmetic = true;
    s.block_size = n1.boundary;
    s.chains = chains;
  } else {
    s.shape = Shape::block;
    s.block_size = b2;
    s.promotion_interval = n1.boundary;
  }
  if (s.shape == Shape::sequential && bench.fa.man_bits + bench.fb.man_bits > kFp32Fraction)
    s.fp32_arithmetic = true;  // no block FMA holds such products
  return s;
}

}  // namespace

Structure probe_structure(Bench& bench, Outcomes& out) {
  const std::optional<Terms> found = structure_terms(bench);
  if (!found) {
    out.not_run("N1", "block boundary (C in first block)", "not observable: the formats cannot hold the probe");
    return Structure{};  // a block FMA
  }
  const Terms& t = *found;
  // N1: C = -1, a0*b0 = 1, x at position i.
  const Scan n1 = scan(
      bench, 1,
      [&](int i) {
        Case cs = t.blank(i + 1);
        t.put(cs, 0, t.one_a, t.one_b);
        t.put(cs, size_t(i), t.x_a, t.x_b);
        cs.c = t.c_one;
        return cs;
      },
      t.x);
  // N2: no C, a0*b0 = 1, a1*b1 = -1, x at position i >= 2.
  const Scan n2 = scan(
      bench, 2,
      [&](int i) {
        Case cs = t.blank(i + 1);
        t.put(cs, 0, t.one_a, t.one_b);
        t.put(cs, 1, -t.one_a, t.one_b);
        t.put(cs, size_t(i), t.x_a, t.x_b);
        return cs;
      },
      t.x);
  int b2 = n2.boundary;
  if (b2 == 2) {  // n = 1 or 2: products [0, 1, -1, x] share blocks {0,1},{2,3} only when n = 2
    Case cs = t.blank(4);
    t.put(cs, 1, t.one_a, t.one_b);
    t.put(cs, 2, -t.one_a, t.one_b);
    t.put(cs, 3, t.x_a, t.x_b);
    if (const std::optional<Res> r = bench.run(cs)) b2 = double(r->r) == t.x ? 1 : 2;
  }
  const bool c_first = probe_c_first(bench, t, out);
  out.add("N1", "block boundary with C",
          t.units + std::string("c=-1, a0*b0=1, ").append(t.gap_text).append(" at position i"), scan_text(n1, 1),
          n1.boundary ? std::string("x leaves the first group at i = ").append(std::to_string(n1.boundary))
                      : std::string("no boundary up to K = ").append(std::to_string(n1.limit + 1)));
  out.add("N2", "block boundary without C",
          t.units + std::string("a0*b0=1, a1*b1=-1, ").append(t.gap_text).append(" at position i"), scan_text(n2, 2),
          b2 ? std::string("products form blocks of ").append(std::to_string(b2))
             : std::string("no boundary up to K = ").append(std::to_string(n2.limit + 1)));
  std::string note;
  if (!n1.anomaly.empty() || !n2.anomaly.empty()) note = "a structure scan gave unexpected values";
  return classify(bench, t, n1, b2, c_first, std::move(note), out);
}

}  // namespace fpsim::probe::detail
