// Stochastic rounding of arithmetic results happens with the exact
// probability: for random operands whose result is inexact, the frequency of
// rounding away over 100,000 element indices matches the MPFR reference's
// P(away) (exact sr and sr<R>) in a two-sided binomial test at alpha = 1e-7
// per case; the result is always one of the two candidates.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fpsim/arith.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim_ref/reference.hpp"
#include "test_random.hpp"

namespace fpsim {
namespace {

using test::mix64;

struct SrCase {
  const char* format;
  ArithOp op;
  uint8_t sr_bits;
};

std::string name_of(const testing::TestParamInfo<SrCase>& info) {
  const char* ops[] = {"add", "sub", "mul", "div", "fma", "sqrt"};
  return std::string(info.param.format) + "_" + ops[int(info.param.op)] + "_sr" + std::to_string(info.param.sr_bits);
}

class ArithStochastic : public testing::TestWithParam<SrCase> {};

TEST_P(ArithStochastic, FrequencyMatchesExactProbability) {
  const SrCase c = GetParam();
  const Format f = parse_format(c.format);
  const auto& rf = fpsim_ref::ref_format(c.format);
  const uint64_t one = uint64_t(f.bias) << f.man_bits;
  constexpr int kDraws = 100000;
  constexpr double kZ = 5.33;  // two-sided alpha = 1e-7
  int cases = 0;
  for (uint64_t seed = 1; cases < 12 && seed < 100000; ++seed) {
    // Operands of moderate size (near one), so results are finite and inexact.
    uint64_t v[3];
    for (int j = 0; j < 3; ++j) {
      const uint64_t h = mix64(seed * 3 + uint64_t(j));
      v[j] = (one + (h % (8 * (uint64_t{1} << f.man_bits)))) ^ ((h >> 40) & 1 ? f.sign_mask() : 0);
    }
    if (c.op == ArithOp::sqrt) v[0] &= f.magnitude_mask();
    for (uint64_t& x : v) x &= f.code_count() - 1;
    const fpsim_ref::RefOperand ops[3] = {{v[0], &rf}, {v[1], &rf}, {v[2], &rf}};
    const auto want = fpsim_ref::ref_arith_stochastic(fpsim_ref::RefOp(int(c.op)),
                                                      std::span(ops, size_t(arity(c.op))), rf, {}, c.sr_bits);
    // Only cases with two distinct outcomes (beyond max both draws overflow alike).
    if (!(want.p_away > 0.0 && want.p_away < 1.0) || want.toward_zero == want.away) continue;
    ++cases;
    RoundingSpec rs;
    rs.rounding = Rounding::sr;
    rs.sr_bits = c.sr_bits;
    rs.seed = uint32_t(seed);
    int away = 0;
    for (int i = 0; i < kDraws; ++i) {
      Flags fl;
      const uint64_t got = arith(c.op, v[0], v[1], v[2], f, f, rs, fl, uint64_t(i));
      if (got == want.away.code && fl.bits == want.away.flags) {
        ++away;
      } else {
        ASSERT_TRUE(got == want.toward_zero.code && fl.bits == want.toward_zero.flags)
            << "not a candidate: " << got << " flags " << fl.bits;
      }
    }
    const double p = want.p_away;
    const double z = (away - kDraws * p) / std::sqrt(kDraws * p * (1 - p));
    EXPECT_LT(std::abs(z), kZ) << c.format << " operands " << v[0] << " " << v[1] << " " << v[2] << ": " << away
                               << " of " << kDraws << " away, P = " << want.p_away_exact;
  }
  EXPECT_EQ(cases, 12);
}

INSTANTIATE_TEST_SUITE_P(
    Ops, ArithStochastic,
    testing::Values(SrCase{"fp16", ArithOp::add, 0}, SrCase{"fp16", ArithOp::mul, 0}, SrCase{"fp16", ArithOp::div, 0},
                    SrCase{"fp16", ArithOp::fma, 0}, SrCase{"fp16", ArithOp::sqrt, 0}, SrCase{"bf16", ArithOp::add, 0},
                    SrCase{"bf16", ArithOp::div, 0}, SrCase{"bf16", ArithOp::sqrt, 0}, SrCase{"e4m3", ArithOp::mul, 0},
                    SrCase{"e4m3", ArithOp::fma, 0}, SrCase{"e5m2", ArithOp::sub, 0}, SrCase{"fp16", ArithOp::add, 4},
                    SrCase{"bf16", ArithOp::mul, 8}, SrCase{"e4m3", ArithOp::div, 2}, SrCase{"fp32", ArithOp::div, 0},
                    SrCase{"fp32", ArithOp::sqrt, 13}),
    name_of);

}  // namespace
}  // namespace fpsim
