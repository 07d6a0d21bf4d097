// S1-S5 and Z1: NaN and infinity operands and C, and the sign of an exact
// zero sum, checked against docs/mma.md, "The block-FMA model". They fit
// nothing: the model has one rule for special values.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

bool same_kind(float x, float expected) {
  if (std::isnan(expected)) return std::isnan(x);
  return x == expected;
}

// One special-value case and the model's answer for it and its mirror.
void expect_special(Bench& bench, Outcomes& out, const char* id, const char* property, std::vector<float> a,
                    std::vector<float> b, float c, const std::string& inputs, float expected, float expected_mirrored) {
  Case cs;
  cs.a = std::move(a);
  cs.b = std::move(b);
  cs.c = c;
  const std::optional<Res> r = bench.run(cs);
  if (!r) return;
  const bool ok = same_kind(r->r, expected) && same_kind(r->m, expected_mirrored);
  const std::string described = pretty(double(expected));
  out.add(id, property, inputs, observed(*r, 0),
          ok ? std::string("as docs/mma.md, The block-FMA model (").append(described).append(")")
             : std::string("differs from docs/mma.md, The block-FMA model (expected ").append(described).append(")"));
}

}  // namespace

void probe_special_values(Bench& bench, Outcomes& out) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  expect_special(bench, out, "S1", "NaN operand", {nan}, {1.0f}, 0.0f, "a0=NaN, b0=1", nan, nan);
  const bool inf_a = bench.fa.has_inf(), inf_b = bench.fb.has_inf();
  if (inf_a || inf_b) {
    std::vector<float> a = {inf_a ? inf : 1.0f}, b = {inf_a ? 1.0f : inf};
    expect_special(bench, out, "S2", "inf operand", a, b, 1.0f, inf_a ? "a0=+inf, b0=1, c=1" : "a0=1, b0=+inf, c=1",
                   inf, -inf);
    std::vector<float> a3 = {a[0], inf_a ? -inf : 1.0f}, b3 = {b[0], inf_a ? 1.0f : -inf};
    expect_special(bench, out, "S3", "+inf and -inf", a3, b3, 0.0f, "products +inf and -inf", nan, nan);
    std::vector<float> a4 = {inf_a ? inf : 0.0f}, b4 = {inf_a ? 0.0f : inf};
    expect_special(bench, out, "S4", "0 * inf", a4, b4, 0.0f, inf_a ? "a0=+inf, b0=0" : "a0=0, b0=+inf", nan, nan);
  } else {
    expect_special(bench, out, "S2", "inf operand", {1.0f}, {1.0f}, inf, "c=+inf (the input formats have no inf)", inf,
                   -inf);
    out.not_run("S3", "+inf and -inf", "not applicable: the input formats have no inf");
    out.not_run("S4", "0 * inf", "not applicable: the input formats have no inf");
  }
  expect_special(bench, out, "S5", "NaN C", {1.0f}, {1.0f}, nan, "a0=b0=1, c=NaN", nan, nan);
  // Z1 (docs/mma.md, "Open questions" Q6): the sign of an exact zero sum.
  Case z;
  z.a = {-1.0f};
  z.b = {1.0f};
  z.c = 1.0f;
  if (const std::optional<Res> r = bench.run(z)) {
    const bool plus = r->r == 0.0f && !std::signbit(r->r) && r->m == 0.0f && !std::signbit(r->m);
    out.add("Z1", "sign of an exact zero", "c=1, a*b=[-1]", observed(*r, 0),
            plus ? "+0 for both signs (the model's choice; Q6 unverified)" : "not +0 for both signs");
  }
}

}  // namespace fpsim::probe::detail
