// R1: the summation tree (FPRev, arXiv 2411.00442). With every product a
// small background term except +M at i and -M at j, the result counts the
// background terms not absorbed by the pair, i.e. outside the smallest
// subtree holding i and j; those counts rebuild the tree. Runs after the
// fit, whose model must show the same tree.
#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

using Counts = std::vector<std::vector<int>>;

// L(i, j): how many background terms are absorbed when +M sits at i and
// -M at j (the size of the smallest subtree holding both).
std::optional<Counts> absorbed_counts(MmaTarget& target, const Case& base, int K, double bg) {
  Counts L(size_t(K), std::vector<int>(size_t(K), 0));
  for (int i = 0; i < K; ++i) {
    for (int j = i + 1; j < K; ++j) {
      Case cs;
      cs.a.assign(size_t(K), base.a[0]);
      cs.b.assign(size_t(K), base.b[0]);
      cs.a[size_t(i)] = base.a[1];
      cs.b[size_t(i)] = base.b[1];
      cs.a[size_t(j)] = -base.a[1];
      cs.b[size_t(j)] = base.b[1];
      const double r = double(target.dot(cs.a, cs.b, 0.0f)) / bg;
      if (!(r >= 0 && r <= K - 2 && r == std::floor(r))) return std::nullopt;
      L[size_t(i)][size_t(j)] = L[size_t(j)][size_t(i)] = K - int(r);
    }
  }
  return L;
}

// The root's children: the groups of leaves joined by pairs absorbed in
// fewer terms than the whole set, each sorted, ordered by first leaf.
std::vector<std::vector<int>> children_of(const Counts& L, const std::vector<int>& leaves) {
  int top = 0;
  for (int i : leaves)
    for (int j : leaves)
      if (i != j) top = std::max(top, L[size_t(i)][size_t(j)]);
  std::vector<int> group(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) group[i] = int(i);
  std::function<int(int)> root = [&](int x) {
    return group[size_t(x)] == x ? x : group[size_t(x)] = root(group[size_t(x)]);
  };
  for (size_t i = 0; i < leaves.size(); ++i)
    for (size_t j = i + 1; j < leaves.size(); ++j)
      if (L[size_t(leaves[i])][size_t(leaves[j])] < top) group[size_t(root(int(i)))] = root(int(j));
  std::map<int, std::vector<int>> parts;
  for (size_t i = 0; i < leaves.size(); ++i) parts[root(int(i))].push_back(leaves[i]);
  std::vector<std::vector<int>> children;
  for (auto& [r, v] : parts) children.push_back(std::move(v));
  std::sort(children.begin(), children.end(), [](const auto& x, const auto& y) { return x[0] < y[0]; });
  return children;
}

// FPRev's reconstruction, written as nested lists: "(p0..p3 (p4 p5))".
std::string tree_text(const Counts& L, const std::vector<int>& leaves) {
  if (leaves.size() == 1) return std::string("p").append(std::to_string(leaves[0]));
  const std::vector<std::vector<int>> children = children_of(L, leaves);
  if (children.size() == 1) {  // not a tree: list the leaves
    std::string s = "(";
    for (size_t i = 0; i < leaves.size(); ++i) s.append(i ? " " : "").append("p").append(std::to_string(leaves[i]));
    return s.append(")");
  }
  std::string s = "(";
  for (size_t c = 0; c < children.size();) {
    if (children[c].size() == 1) {  // a run of single leaves: pA..pB
      size_t e = c;
      while (e + 1 < children.size() && children[e + 1].size() == 1 && children[e + 1][0] == children[e][0] + 1) ++e;
      if (c) s.append(" ");
      if (e - c >= 2)
        s.append("p").append(std::to_string(children[c][0])).append("..p").append(std::to_string(children[e][0]));
      else
        for (size_t k = c; k <= e; ++k) s.append(k > c ? " " : "").append("p").append(std::to_string(children[k][0]));
      c = e + 1;
      continue;
    }
    if (c) s.append(" ");
    s.append(tree_text(L, children[c]));
    ++c;
  }
  return s.append(")");
}

}  // namespace

void probe_summation_tree(Bench& bench, const Findings& f, const MmaModel& fitted, Outcomes& out) {
  const Structure& st = f.structure;
  const int n = st.block_size;
  // Enough leaves to show the first block boundary.
  int K = st.fp32_arithmetic && st.shape != Shape::fma_blocked ? 16 : std::clamp(n + std::max(4, n / 2), 8, 48);
  if (st.promotion_interval > 0) K = std::min(48, std::max(K, st.promotion_interval + 8));
  if (bench.max_k > 0) K = std::min(K, bench.max_k);
  const int bits = st.fp32_arithmetic ? kFp32Precision : std::max(f.window.kept, f.accumulator.frac_bits);
  const int width = bits + std::bit_width(unsigned(K)) + 3;
  std::optional<Case> base;
  int g = 0;
  for (g = std::max(width, 30); g >= width; --g) {
    Layout L;
    L.p = {p2(-g), 1};
    L.outs = {p2(-g), p2(-g) * K};
    L.subnormal_outs = true;
    if ((base = bench.realize_any(L, 8))) break;
  }
  if (!base || K < 3) {
    out.not_run("R1", "summation tree (FPRev)",
                "not observable: the formats cannot hold background and +-M far enough apart");
    return;
  }
  const double bg = p2(base->B - g);
  const std::optional<Counts> L = absorbed_counts(bench.target, *base, K, bg);
  if (!L) {
    out.add("R1", "summation tree (FPRev)", "-", "absorbed counts are not whole numbers of background terms",
            "not a summation tree");
    return;
  }
  std::vector<int> leaves(static_cast<size_t>(K));
  for (int i = 0; i < K; ++i) leaves[size_t(i)] = i;
  const std::string tree = tree_text(*L, leaves);
  std::string conclusion = "order as shown";
  try {
    ModelTarget model(fitted);
    const std::optional<Counts> M = absorbed_counts(model, *base, K, bg);
    conclusion = M && *M == *L ? "matches the fitted model's order" : "differs from the fitted model's order";
  } catch (const Error& e) {
    conclusion = std::string("fitted model not evaluable: ").append(e.what());
  }
  out.add("R1", "summation tree (FPRev)",
          std::string("K=")
              .append(std::to_string(K))
              .append(", background 2^")
              .append(std::to_string(base->B - g))
              .append(", +-2^")
              .append(std::to_string(base->B))
              .append(" at i < j"),
          tree, conclusion);
}

}  // namespace fpsim::probe::detail
