// A1: the fraction bits of the block accumulator (acc_frac_bits), read by
// sums that are exact exactly while the accumulator holds their last bit.
// Needs the block structure and the alignment window (a small term must
// survive the alignment for its loss to mean the accumulator).
#include <string>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

// A1: 2^k * (1 + 2^-f): 2^k ones (C among them unless C is added after the
// products) and one 2^(k-f). The small term is kept while f - k <= kept
// bits; the sum is exact while f <= acc_frac_bits. k carry bits let the
// probe see acc_frac_bits up to kept + k.
Accumulator probe_accumulator(Bench& bench, const Findings& f, Outcomes& out) {
  const int out_man = bench.fo.man_bits;
  if (f.structure.fp32_arithmetic) {
    out.not_run("A1", "accumulator fraction bits", "not applicable: an FP32-arithmetic kind");
    return {out_man, false};
  }
  const int n = f.structure.block_size;
  const bool products_only = f.structure.promotion_interval > 0;
  int k = 0;
  if (products_only) {
    while ((2 << k) + 1 <= n) ++k;
  } else {
    while ((2 << k) - 1 <= n) ++k;
  }
  int last = 0;
  int B = 0;
  for (int bits = 1; bits <= out_man; ++bits) {
    Layout L;
    const double top = p2(k);
    if (products_only) {
      L.p.assign(size_t(1) << k, 1.0);
      L.p.push_back(p2(k - bits));
    } else {
      L.p.assign((size_t(1) << k) - 1, 1.0);
      L.c = 1 + p2(k - bits);
    }
    L.outs = {top * (1 + p2(-bits)), top};
    Case cs;
    Res r;
    if (!bench.attempt(L, cs, r, 0)) break;
    B = cs.B;
    if (unit(r.r, cs.B) != top * (1 + p2(-bits))) break;
    last = bits;
  }
  const bool limited = last < out_man && f.window.known && last >= f.window.kept + k;
  Accumulator a;
  a.observed = last > 0 && !limited;
  a.frac_bits = last == out_man ? out_man : (a.observed ? last : out_man);
  std::string inputs = units_prefix(B);
  inputs.append(std::to_string(1 << k))
      .append(products_only ? " products 1 and 2^(" : " terms 1 (C = 1+2^(")
      .append(std::to_string(k))
      .append(products_only ? "-f)" : "-f) among them)")
      .append(", f = 1, 2, ...");
  out.add("A1", "accumulator fraction bits", inputs,
          std::string("2^").append(std::to_string(k)).append("*(1+2^-f) exact for f <= ").append(std::to_string(last)),
          a.observed ? std::string("acc_frac_bits = ").append(std::to_string(a.frac_bits))
                     : std::string("acc_frac_bits >= ").append(std::to_string(last)).append(" (hidden by the window)"));
  return a;
}

}  // namespace fpsim::probe::detail
