// The roundings: D1 (the final rounding of the block sum), E1 (the rounding
// of terms shifted out of the alignment window) and P1 (whether products
// are rounded to FP32 before they are added). Each reads a position the
// window and the accumulator are known to hold, so it comes after K1 and A1.
#include <algorithm>
#include <optional>
#include <string>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

// D1: 2^k * (1 + 1.5 * 2^-F) (2^k ones, the fraction in C or, when C is
// added after the products, in one more product) puts 1.5 units of the last
// place at the rounding position: RZ 1 unit, RNE 2 (tie to even), RUP 2 / -1,
// RDN 1 / -2. k = F + 1 - kept carry bits when the window is narrower than
// F + 1 (FP8: kept 13 = F).
FinalRounding probe_final_rounding(Bench& bench, const Findings& f, Outcomes& out) {
  const bool fp32_arithmetic = f.structure.fp32_arithmetic;
  const int F = f.accumulator.frac_bits;
  const int kept = fp32_arithmetic ? 64 : f.window.kept;
  const int k = std::max(0, F + 1 - kept);
  const bool products_only = f.structure.promotion_interval > 0;
  const int needed = products_only ? (1 << k) + 1 : std::max(1, (1 << k) - 1);
  if (!fp32_arithmetic && !f.window.known) {
    out.not_run("D1", "final rounding", "not observable: alignment window unknown");
    return {};
  }
  if (!fp32_arithmetic && needed > f.structure.block_size) {
    out.not_run("D1", "final rounding", "not observable: the block is too small for the carry the probe needs");
    return {};
  }
  Layout L;
  const double top = p2(k);
  if (products_only) {
    L.p.assign(size_t(1) << k, 1.0);
    L.p.push_back(1.5 * p2(k - F));
  } else if (k == 0) {
    L.p = {1.5 * p2(-F)};
    L.c = 1;
  } else {  // C = 1 + 1.5 * 2^(k-F) carries the fraction (one product per block is enough)
    L.p.assign((size_t(1) << k) - 1, 1.0);
    L.c = 1 + 1.5 * p2(k - F);
  }
  const double lo = top * (1 + p2(-F)), hi = top * (1 + p2(1 - F));
  L.outs = {lo, hi};
  Case cs;
  Res r;
  if (!bench.attempt(L, cs, r, 0)) {
    out.not_run("D1", "final rounding", "not observable: the formats cannot hold the probe");
    return {};
  }
  const double pos = unit(r.r, cs.B), neg = unit(r.m, cs.B);
  std::optional<Rounding> mode;
  if (pos == lo && neg == -lo) mode = Rounding::rtz;
  if (pos == hi && neg == -hi) mode = Rounding::rne;
  if (pos == hi && neg == -lo) mode = Rounding::rup;
  if (pos == lo && neg == -hi) mode = Rounding::rdn;
  out.add("D1", "final rounding", summary(L, cs.B), observed(r, cs.B),
          mode ? std::string("round ").append(rounding_text(*mode)) : std::string("not one of rtz, rne, rup, rdn"));
  if (!mode) return {};
  return {*mode, true};
}

namespace {

AlignmentRounding report_alignment(AlignRounding mode, Outcomes& out, std::string inputs, std::string obs) {
  out.add("E1", "alignment rounding", std::move(inputs), std::move(obs),
          std::string("alignment ").append(align_rounding_name(mode)));
  return {mode, true};
}

}  // namespace

// E1 (the spec's H6, adapted so that FP32 output shows it): 1 - 1 plus 0.75
// units of the window's last place: truncation drops it (0), RNE rounds it
// up to one unit (2^-kept). Exact either way.
AlignmentRounding probe_alignment_rounding(Bench& bench, const Findings& f, Outcomes& out) {
  const Window& w = f.window;
  const FinalRounding& fr = f.final_rounding;
  if (f.structure.fp32_arithmetic) {
    out.not_run("E1", "alignment rounding", "not applicable: an FP32-arithmetic kind");
    return {};
  }
  if (w.single_product_alignment) {
    const AlignRounding mode = *w.single_product_alignment;
    out.add("E1", "alignment rounding", "from K1 (one product per block)",
            std::string("C's last bit ").append(mode == AlignRounding::truncate ? "dropped" : "rounded up"),
            std::string("alignment ").append(align_rounding_name(mode)));
    return {mode, true};
  }
  if (!w.exact) {
    out.not_run("E1", "alignment rounding", "not observable: the alignment window has no measured end");
    return {};
  }
  const double tiny = 1.5 * p2(-w.kept - 1);
  const int n = f.structure.block_size;
  Layout L;
  Case cs;
  Res r;
  if (n >= 3) {
    L.p = {1, -1, tiny};
  } else if (n == 2) {
    L.p = {1, tiny};
    L.c = -1;
  } else {
    if (fr.mode == Rounding::rne || !fr.observed) {
      out.not_run("E1", "alignment rounding", "not observable with one product per block and RNE final rounding");
      return {};
    }
    const double sign = fr.mode == Rounding::rup ? 1.0 : -1.0;
    L.p = {sign * tiny};
    L.c = 1;
    L.outs = {1};
    if (!bench.attempt(L, cs, r, 0)) return {};
    return report_alignment(unit(r.r, cs.B) == 1 ? AlignRounding::truncate : AlignRounding::rne, out, summary(L, cs.B),
                            observed(r, cs.B));
  }
  L.outs = {p2(-w.kept)};
  L.subnormal_outs = true;
  if (!bench.attempt(L, cs, r, 8)) {
    out.not_run("E1", "alignment rounding", "not observable: the formats cannot hold the probe");
    return {};
  }
  const double v = unit(r.r, cs.B);
  if (v == 0) return report_alignment(AlignRounding::truncate, out, summary(L, cs.B), observed(r, cs.B));
  if (v == p2(-w.kept)) return report_alignment(AlignRounding::rne, out, summary(L, cs.B), observed(r, cs.B));
  out.add("E1", "alignment rounding", summary(L, cs.B), observed(r, cs.B), "neither truncation nor RNE");
  return {};
}

// P1: are products rounded to FP32 before they are added (FP32 arithmetic
// without FMA)? Inputs of more than 12 bits each:
// (1+2^-ma)(1+2^-mb) - (1+2^-ma+2^-mb) = 2^-(ma+mb) exactly, 0 when the
// product was rounded. bf16/tf32 with RNE: a product of exactly half FP32's
// smallest subnormal, 2^-150, next to C = 2^-126+2^-149 (odd) gives C+2^-149
// when exact (one tie to even) and C when the product was rounded first (to
// 0). fp16 (and narrower) products are always exact FP32 numbers: then
// unobservable.
ProductRounding probe_product_rounding(Bench& bench, const Findings& f, Outcomes& out) {
  const int ma = bench.fa.man_bits, mb = bench.fb.man_bits;
  const bool fp32_out = is_binary32(bench.fo);
  if (ma + mb + 1 > kFp32Precision && ma >= 1 && mb >= 1 && fp32_out) {
    Layout L;
    L.p = {(1 + p2(-ma)) * (1 + p2(-mb))};
    L.literal = {Operands{float(1 + p2(-ma)), float(1 + p2(-mb))}};
    L.c = -(1 + p2(-ma) + p2(-mb));
    L.outs = {p2(-ma - mb)};
    Case cs;
    Res r;
    if (bench.attempt(L, cs, r, 0)) {
      const bool exact = unit(r.r, cs.B) == p2(-ma - mb);
      out.add("P1", "product rounding", summary(L, cs.B), observed(r, cs.B),
              exact ? "products exact (fused)" : "products rounded to FP32 before the sum");
      return exact ? ProductRounding::exact : ProductRounding::rounded;
    }
  }
  const FinalRounding& fr = f.final_rounding;
  if (fp32_out && fr.observed && fr.mode == Rounding::rne &&
      f.structure.c_first) {  // C must meet the product in one step
    const int sub = kFp32MinSubnormalExp;
    const std::optional<Operands> o = bench.split.split(p2(sub - 1), bench.subnormal_inputs);
    const double c = p2(kFp32Emin) + p2(sub);
    if (o) {
      Case cs;
      cs.a = {o->a};
      cs.b = {o->b};
      cs.c = float(c);
      if (const std::optional<Res> r = bench.run(cs)) {
        const double v = double(r->r);
        const bool exact = v == c + p2(sub), rounded = v == c;
        const std::string half = std::string("2^").append(std::to_string(sub - 1));
        out.add("P1", "product rounding",
                std::string("c=2^")
                    .append(std::to_string(kFp32Emin))
                    .append("+2^")
                    .append(std::to_string(sub))
                    .append(", a*b=[")
                    .append(half)
                    .append("]"),
                observed(*r, 0),
                exact     ? std::string("products exact (one rounding of c + a*b)")
                : rounded ? std::string("products rounded to FP32 first (").append(half).append(" -> 0)")
                          : std::string("unexpected value"));
        if (!exact && !rounded) return ProductRounding::unobservable;
        return exact ? ProductRounding::exact : ProductRounding::rounded;
      }
    }
  }
  out.not_run("P1", "product rounding", "not observable: every product of these formats is an exact FP32 number");
  return ProductRounding::unobservable;
}

bool sequential_is_fp32_arithmetic(const Findings& f) {
  return f.structure.shape == Shape::sequential && !f.structure.fp32_arithmetic && !f.window.exact &&
         f.final_rounding.observed && f.final_rounding.mode == Rounding::rne;
}

}  // namespace fpsim::probe::detail
