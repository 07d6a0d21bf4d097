// Properties against the MPFR reference for fp16, bf16, tf32, fp32 and the
// user formats e6m9 and e3m2: add, sub, mul, div, fma and sqrt with
// boundary-biased operands (zeros, subnormals, the subnormal/normal
// boundary, one, the top of the range, specials, signaling NaNs, and
// near-cancelling partners), in every deterministic mode with both overflow
// policies and ftz / tininess-before variants; stochastic rounding (exact and
// sr<R>) must give one of the reference's two candidates.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim_ref/reference.hpp"
#include "reference_bridge.hpp"

namespace fpsim {
namespace {

using test::ref_spec_of;
using test::SpecCase;

// Magnitude codes where arithmetic is delicate.
std::vector<uint64_t> boundary_magnitudes(const Format& f) {
  const uint64_t one = uint64_t(f.bias) << f.man_bits;
  const uint64_t maxc = f.max_code();
  std::vector<uint64_t> m = {0,    1,       2,           f.man_mask() - 1, f.man_mask(), f.man_mask() + 1,
                             one - 1, one,  one + 1,     maxc - 1,         maxc,         maxc - f.man_mask(),
                             one + (uint64_t{1} << (f.man_bits - 1))};
  if (f.has_inf()) {
    m.push_back(f.inf_code(false));
    m.push_back(f.inf_code(false) + 1);  // signaling NaN
    m.push_back(f.nan_code(false));      // quiet NaN
  }
  return m;
}

rc::Gen<uint64_t> operand(const Format& f) {
  const uint64_t count = f.code_count();
  const uint64_t sign = f.sign_mask();
  return rc::gen::oneOf(
      rc::gen::inRange<uint64_t>(0, count),
      rc::gen::map(rc::gen::pair(rc::gen::elementOf(boundary_magnitudes(f)), rc::gen::arbitrary<bool>()),
                   [sign](std::pair<uint64_t, bool> p) { return p.first | (p.second ? sign : 0); }),
      // Around one: products and quotients near the ties.
      rc::gen::map(rc::gen::inRange<int64_t>(-64, 64), [f, count](int64_t d) {
        return uint64_t(int64_t(uint64_t(f.bias) << f.man_bits) + d) % count;
      }));
}

// b close to -a or a (cancellation, ties of sums) or unrelated.
rc::Gen<std::pair<uint64_t, uint64_t>> operand_pair(const Format& f) {
  const uint64_t count = f.code_count();
  const uint64_t sign = f.sign_mask();
  return rc::gen::oneOf(rc::gen::pair(operand(f), operand(f)),
                        rc::gen::map(rc::gen::tuple(operand(f), rc::gen::inRange<int64_t>(-3, 4),
                                                    rc::gen::arbitrary<bool>()),
                                     [count, sign](std::tuple<uint64_t, int64_t, bool> t) {
                                       const uint64_t a = std::get<0>(t);
                                       uint64_t b = uint64_t(int64_t(a) + std::get<1>(t)) % count;
                                       if (std::get<2>(t)) b ^= sign;
                                       return std::make_pair(a, b);
                                     }));
}

std::vector<SpecCase> spec_cases() {
  std::vector<SpecCase> out;
  for (Rounding m : {Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::rup, Rounding::rdn, Rounding::rto})
    for (Overflow ov : {Overflow::ieee, Overflow::saturate}) {
      out.push_back({m, ov, false, false, Tininess::after});
      out.push_back({m, ov, true, false, Tininess::before});
    }
  out.push_back({Rounding::rne, Overflow::ieee, false, true, Tininess::after});
  return out;
}

fpsim_ref::RefOp ref_op_of(ArithOp op) {
  constexpr fpsim_ref::RefOp table[] = {fpsim_ref::RefOp::add, fpsim_ref::RefOp::sub, fpsim_ref::RefOp::mul,
                                        fpsim_ref::RefOp::div, fpsim_ref::RefOp::fma, fpsim_ref::RefOp::sqrt};
  return table[int(op)];
}

void check(ArithOp op, const Format& f, uint64_t a, uint64_t b, uint64_t c) {
  const auto& rf = fpsim_ref::ref_format(f.name);
  const fpsim_ref::RefOperand ops[3] = {{a, &rf}, {b, &rf}, {c, &rf}};
  const std::span<const fpsim_ref::RefOperand> span(ops, size_t(arity(op)));
  for (const SpecCase& sc : spec_cases()) {
    Flags fl;
    const uint64_t got = arith(op, a, b, c, f, f, sc.sim(), fl);
    const auto want = fpsim_ref::ref_arith(ref_op_of(op), span, rf, ref_spec_of(sc));
    RC_ASSERT(got == want.code);
    RC_ASSERT(fl.bits == want.flags);
  }
  for (uint8_t sr_bits : {uint8_t{0}, uint8_t{5}, uint8_t{23}}) {
    RoundingSpec rs;
    rs.rounding = Rounding::sr;
    rs.sr_bits = sr_bits;
    rs.seed = uint32_t(a * 31 + b);
    Flags fl;
    const uint64_t got = arith(op, a, b, c, f, f, rs, fl, c);
    const auto want = fpsim_ref::ref_arith_stochastic(ref_op_of(op), span, rf, {}, sr_bits);
    const bool toward = got == want.toward_zero.code && fl.bits == want.toward_zero.flags;
    const bool away = got == want.away.code && fl.bits == want.away.flags;
    RC_ASSERT(toward || away);
    const bool possible = (toward && away) || (toward ? want.p_away < 1.0 : want.p_away > 0.0);
    RC_ASSERT(possible);
  }
}

void property_for(ArithOp op, const char* name) {
  const Format f = parse_format(name);
  if (arity(op) == 1) {
    EXPECT_TRUE(rc::check(std::string(name), [&] { check(op, f, *operand(f), 0, 0); }));
  } else if (arity(op) == 2) {
    EXPECT_TRUE(rc::check(std::string(name), [&] {
      const auto [a, b] = *operand_pair(f);
      check(op, f, a, b, 0);
    }));
  } else {
    EXPECT_TRUE(rc::check(std::string(name), [&] {
      const auto [a, b] = *operand_pair(f);
      // The addend: unrelated, or near -a*b's size (a's partner), for cancellation.
      const uint64_t c = *rc::gen::oneOf(operand(f), rc::gen::just(a ^ f.sign_mask()), rc::gen::just(b));
      check(op, f, a, b, c);
    }));
  }
}

const char* const kFormats[] = {"fp16", "bf16", "tf32", "fp32", "e6m9", "e3m2"};

TEST(ArithProperties, Add) {
  for (const char* f : kFormats) property_for(ArithOp::add, f);
}
TEST(ArithProperties, Sub) {
  for (const char* f : kFormats) property_for(ArithOp::sub, f);
}
TEST(ArithProperties, Mul) {
  for (const char* f : kFormats) property_for(ArithOp::mul, f);
}
TEST(ArithProperties, Div) {
  for (const char* f : kFormats) property_for(ArithOp::div, f);
}
TEST(ArithProperties, Fma) {
  for (const char* f : kFormats) property_for(ArithOp::fma, f);
}
TEST(ArithProperties, Sqrt) {
  for (const char* f : kFormats) property_for(ArithOp::sqrt, f);
}

}  // namespace
}  // namespace fpsim
