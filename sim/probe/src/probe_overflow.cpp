// O1: overflow under directed rounding (docs/mma.md, "Open questions" Q5):
// a block sum of exactly 2^(emax+1) gives inf under RNE anyway; under RZ
// (and RDN for a positive, RUP for a negative sum) IEEE rounding gives the
// largest finite number, the model's overflow_to_inf gives inf. Needs the
// final rounding (D1) and the block structure.
#include <cmath>
#include <string>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

OverflowFinding probe_overflow(Bench& bench, const Findings& f, Outcomes& out) {
  OverflowFinding o;
  const FinalRounding& fr = f.final_rounding;
  if (!f.structure.block_fma()) {
    out.not_run("O1", "overflow", "not applicable: an FP32-arithmetic kind (IEEE overflow)");
    o.note = "not a parameter of this kind";
    return o;
  }
  if (!fr.observed || fr.mode == Rounding::rne) {
    out.not_run("O1", "overflow", "not observable: RNE overflows to inf either way");
    o.note = "RNE final rounding overflows to inf either way";
    return o;
  }
  const int emax = bench.emax_out;
  const double sign = fr.mode == Rounding::rup ? -1.0 : 1.0;
  Case cs;
  std::string inputs;
  const double half = p2(emax);
  const std::optional<Operands> big = bench.split.split(sign * half, bench.subnormal_inputs);
  const std::optional<Operands> quarter = bench.split.split(sign * half / 2, bench.subnormal_inputs);
  if (big && f.structure.block_size >= 2) {
    cs.a = {big->a, big->a};
    cs.b = {big->b, big->b};
    inputs =
        std::string("a*b=[2^").append(std::to_string(emax)).append(", 2^").append(std::to_string(emax)).append("]");
  } else if (quarter && f.structure.promotion_interval == 0) {
    cs.a = {quarter->a};
    cs.b = {quarter->b};
    cs.c = float(sign * 1.5 * half);
    inputs = std::string("c=1.5*2^")
                 .append(std::to_string(emax))
                 .append(", a*b=[2^")
                 .append(std::to_string(emax - 1))
                 .append("]");
  } else {
    out.not_run("O1", "overflow", "not observable: no product of these formats reaches the output's overflow");
    o.note = "no product of these formats reaches the output's overflow";
    return o;
  }
  if (sign < 0) inputs.append(" (negative: RUP)");
  const std::optional<Res> r = bench.run(cs);
  if (!r) return o;
  const float v = r->r;
  if (std::isinf(v)) {
    o.to_inf = true;
    o.observed = true;
  } else if (std::isfinite(v) && std::fabs(double(v)) < p2(emax + 1) && std::fabs(double(v)) >= half) {
    o.to_inf = false;
    o.observed = true;
  }
  out.add("O1", "overflow under directed rounding", inputs, observed(*r, 0),
          o.observed ? (o.to_inf ? "inf (overflow_to_inf)" : "largest finite (IEEE directed rounding)") : "unexpected");
  return o;
}

}  // namespace fpsim::probe::detail
