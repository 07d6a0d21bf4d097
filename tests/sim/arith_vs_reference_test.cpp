// Exhaustive against the MPFR reference: every operand pair of every 8-bit
// format (e4m3, e5m2, e4m3fnuz, e5m2fnuz, e3m4) for add, sub, mul and div,
// every operand of sqrt, in all six deterministic modes with both overflow
// policies, plus ftz / daz / tininess-before variants; stochastic rounding
// must give one of the reference's two candidates with its flags. The
// comparisons and min/max over every pair. fma on random triples, half of
// them cancelling (every e4m3 triple in every mode is the `long` test
// cli_verify_e4m3_fma_every_triple_every_mode, tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/operation.hpp"
#include "fpsim_ref/reference.hpp"
#include "reference_bridge.hpp"
#include "test_random.hpp"

namespace fpsim {
namespace {

using test::mix64;
using test::ref_spec_of;
using test::SpecCase;

const char* const kEightBit[] = {"e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m4"};

// sim's ArithOp and the reference's RefOp list the operations in the same order.
static_assert(int(ArithOp::add) == int(fpsim_ref::RefOp::add) && int(ArithOp::sub) == int(fpsim_ref::RefOp::sub) &&
              int(ArithOp::mul) == int(fpsim_ref::RefOp::mul) && int(ArithOp::div) == int(fpsim_ref::RefOp::div) &&
              int(ArithOp::fma) == int(fpsim_ref::RefOp::fma) && int(ArithOp::sqrt) == int(fpsim_ref::RefOp::sqrt));
fpsim_ref::RefOp ref_op_of(ArithOp op) { return fpsim_ref::RefOp(int(op)); }

std::vector<SpecCase> spec_cases() {
  std::vector<SpecCase> out;
  const Rounding modes[] = {Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::rup, Rounding::rdn, Rounding::rto};
  for (Rounding m : modes)
    for (Overflow ov : {Overflow::ieee, Overflow::saturate}) out.push_back({m, ov, false, false, Tininess::after});
  for (Rounding m : {Rounding::rne, Rounding::rup, Rounding::rto}) {
    out.push_back({m, Overflow::ieee, true, false, Tininess::after});
    out.push_back({m, Overflow::ieee, false, true, Tininess::after});
    out.push_back({m, Overflow::ieee, false, false, Tininess::before});
    out.push_back({m, Overflow::saturate, true, true, Tininess::before});
  }
  return out;
}

struct Tally {
  uint64_t checked = 0, failed = 0, cancelling = 0;
  std::ostringstream first;
  void mismatch(const std::string& what) {
    if (failed++ < 10) first << what << '\n';
  }
};

template <class... T>
std::string cat(const T&... parts) {
  std::ostringstream o;
  (o << ... << parts);
  return o.str();
}

std::string hex(uint64_t v) {
  std::ostringstream o;
  o << "0x" << std::hex << v;
  return o.str();
}

struct Case {
  std::string format;
  ArithOp op;
};

std::string case_name(const testing::TestParamInfo<Case>& info) {
  Operation o;
  o.arith = info.param.op;
  return info.param.format + "_" + o.name();
}

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (const char* f : kEightBit)
    for (ArithOp op : {ArithOp::add, ArithOp::sub, ArithOp::mul, ArithOp::div, ArithOp::sqrt}) out.push_back({f, op});
  return out;
}

class ArithEveryPair : public testing::TestWithParam<Case> {};

TEST_P(ArithEveryPair, MatchesReferenceInEveryMode) {
  const Format f = parse_format(GetParam().format);
  const auto& rf = fpsim_ref::ref_format(GetParam().format);
  const ArithOp op = GetParam().op;
  const uint64_t n = f.code_count();
  const uint64_t second_count = arity(op) == 2 ? n : 1;
  Tally t;
  for (const SpecCase& sc : spec_cases()) {
    const RoundingSpec rs = sc.sim();
    const fpsim_ref::RefSpec ref = ref_spec_of(sc);
    for (uint64_t a = 0; a < n; ++a) {
      for (uint64_t b = 0; b < second_count; ++b) {
        Flags fl;
        const uint64_t got = arith(op, a, b, 0, f, f, rs, fl);
        const fpsim_ref::RefOperand ops[2] = {{a, &rf}, {b, &rf}};
        const auto want = fpsim_ref::ref_arith(ref_op_of(op), std::span(ops, size_t(arity(op))), rf, ref);
        ++t.checked;
        if (got != want.code || fl.bits != want.flags)
          t.mismatch(cat("[", sc.name(), "] (", hex(a), ", ", hex(b), "): got ", hex(got), " flags ", hex(fl.bits),
                         ", reference ", hex(want.code), " flags ", hex(want.flags)));
      }
    }
  }
  // Stochastic rounding, exact and with 3 random bits: one of the two
  // candidates, with its flags, and never a candidate of probability zero.
  for (uint8_t bits : {uint8_t{0}, uint8_t{3}}) {
    RoundingSpec rs;
    rs.rounding = Rounding::sr;
    rs.sr_bits = bits;
    rs.seed = 7;
    for (uint64_t a = 0; a < n; ++a) {
      for (uint64_t b = 0; b < second_count; ++b) {
        Flags fl;
        const uint64_t index = a * n + b;
        const uint64_t got = arith(op, a, b, 0, f, f, rs, fl, index);
        const fpsim_ref::RefOperand ops[2] = {{a, &rf}, {b, &rf}};
        const auto want =
            fpsim_ref::ref_arith_stochastic(ref_op_of(op), std::span(ops, size_t(arity(op))), rf, {}, bits);
        ++t.checked;
        const bool toward = got == want.toward_zero.code && fl.bits == want.toward_zero.flags;
        const bool away = got == want.away.code && fl.bits == want.away.flags;
        const bool possible = (toward && want.p_away < 1.0) || (away && want.p_away > 0.0) || (toward && away);
        if (!possible)
          t.mismatch(cat("[sr", std::to_string(bits), "] (", hex(a), ", ", hex(b), "): got ", hex(got), " flags ",
                         hex(fl.bits), ", candidates ", hex(want.toward_zero.code), "/", hex(want.toward_zero.flags),
                         " and ", hex(want.away.code), "/", hex(want.away.flags), " P(away) ", want.p_away_exact));
      }
    }
  }
  EXPECT_EQ(t.failed, 0u) << t.failed << " of " << t.checked << " differ; first:\n" << t.first.str();
  EXPECT_GT(t.checked, 0u);
}

INSTANTIATE_TEST_SUITE_P(EightBit, ArithEveryPair, testing::ValuesIn(all_cases()), case_name);

// Comparisons (quiet and signaling) and min/max over every pair, with and
// without daz.
class CompareMinMaxEveryPair : public testing::TestWithParam<std::string> {};

TEST_P(CompareMinMaxEveryPair, MatchesReference) {
  const Format f = parse_format(GetParam());
  const auto& rf = fpsim_ref::ref_format(GetParam());
  const uint64_t n = f.code_count();
  Tally t;
  for (bool daz : {false, true}) {
    RoundingSpec rs;
    rs.daz = daz;
    fpsim_ref::RefSpec ref;
    ref.daz = daz;
    for (uint64_t a = 0; a < n; ++a) {
      for (uint64_t b = 0; b < n; ++b) {
        const fpsim_ref::RefOperand ra{a, &rf}, rb{b, &rf};
        for (Comparison c : {Comparison::eq, Comparison::lt, Comparison::le, Comparison::unordered}) {
          for (bool signaling : {false, true}) {
            Flags fl;
            const bool got = compare(c, signaling, a, f, b, f, rs, fl);
            const auto want = fpsim_ref::ref_compare(fpsim_ref::RefPredicate(int(c)), signaling, ra, rb, ref);
            ++t.checked;
            if (got != want.value || fl.bits != want.flags)
              t.mismatch(cat("compare ", std::to_string(int(c)), (signaling ? " signaling" : " quiet"),
                             (daz ? " daz" : ""), " (", hex(a), ", ", hex(b), "): got ", std::to_string(got), " flags ",
                             hex(fl.bits), ", reference ", std::to_string(want.value), " flags ", hex(want.flags)));
          }
        }
        for (MinMax m : {MinMax::minimum, MinMax::maximum, MinMax::minimum_number, MinMax::maximum_number}) {
          Flags fl;
          const uint64_t got = min_max(m, a, f, b, f, f, rs, fl);
          const auto want = fpsim_ref::ref_min_max(fpsim_ref::RefMinMax(int(m)), ra, rb, rf, ref);
          ++t.checked;
          if (got != want.code || fl.bits != want.flags)
            t.mismatch(cat("min_max ", std::to_string(int(m)), (daz ? " daz" : ""), " (", hex(a), ", ", hex(b),
                           "): got ", hex(got), " flags ", hex(fl.bits), ", reference ", hex(want.code), " flags ",
                           hex(want.flags)));
        }
      }
    }
  }
  EXPECT_EQ(t.failed, 0u) << t.failed << " of " << t.checked << " differ; first:\n" << t.first.str();
}

INSTANTIATE_TEST_SUITE_P(EightBit, CompareMinMaxEveryPair,
                         testing::ValuesIn(std::vector<std::string>(std::begin(kEightBit), std::end(kEightBit))));

// The enums' order is what the casts above rely on.
static_assert(int(Comparison::eq) == int(fpsim_ref::RefPredicate::eq) &&
              int(Comparison::unordered) == int(fpsim_ref::RefPredicate::unordered));
static_assert(int(MinMax::maximum_number) == int(fpsim_ref::RefMinMax::maximum_number));

// fma on random triples of every 8-bit format, every mode and policy, and
// mixed formats (the tensor-core shape: narrow factors, a wide addend).
struct FmaShape {
  const char* a;
  const char* b;
  const char* c;
  const char* out;
};

class FmaRandomTriples : public testing::TestWithParam<FmaShape> {};

TEST_P(FmaRandomTriples, MatchesReference) {
  const FmaShape s = GetParam();
  const Format fa = parse_format(s.a), fb = parse_format(s.b), fc = parse_format(s.c), fo = parse_format(s.out);
  const auto &ra = fpsim_ref::ref_format(s.a), &rb = fpsim_ref::ref_format(s.b), &rc = fpsim_ref::ref_format(s.c),
             &ro = fpsim_ref::ref_format(s.out);
  Tally t;
  const auto code_of = [](uint64_t r, const Format& f) { return f.code_count() == 0 ? r : r % f.code_count(); };
  uint64_t seed = 12345;
  for (const SpecCase& sc : spec_cases()) {
    const RoundingSpec rs = sc.sim();
    const fpsim_ref::RefSpec ref = ref_spec_of(sc);
    for (int i = 0; i < 20000; ++i) {
      const uint64_t a = code_of(mix64(++seed), fa), b = code_of(mix64(++seed), fb);
      // Half the addends are -a*b rounded to c's format (every other one then
      // moved by one code), so the sum cancels wholly or in part, in every
      // shape, mixed formats included; the rest are random codes.
      uint64_t c = code_of(mix64(++seed), fc);
      const uint64_t pick = mix64(++seed);
      if (pick & 1) {
        const double p = to_double(a, fa) * to_double(b, fb);
        if (std::isfinite(p)) {
          Flags ignored;
          c = from_double(-p, fc, RoundingSpec{}, ignored) ^ ((pick >> 1) & 1);
          ++t.cancelling;
        }
      }
      Flags fl;
      const uint64_t got = fma(a, fa, b, fb, c, fc, fo, rs, fl);
      const fpsim_ref::RefOperand ops[3] = {{a, &ra}, {b, &rb}, {c, &rc}};
      const auto want = fpsim_ref::ref_arith(fpsim_ref::RefOp::fma, ops, ro, ref);
      ++t.checked;
      if (got != want.code || fl.bits != want.flags)
        t.mismatch(cat("[", sc.name(), "] fma(", hex(a), ", ", hex(b), ", ", hex(c), "): got ", hex(got), " flags ",
                       hex(fl.bits), ", reference ", hex(want.code), " flags ", hex(want.flags)));
    }
  }
  EXPECT_EQ(t.failed, 0u) << t.failed << " of " << t.checked << " differ; first:\n" << t.first.str();
  // The cancelling addends were drawn: at least a third of the triples (half
  // minus those whose product is not finite).
  EXPECT_GT(t.cancelling * 3, t.checked) << t.cancelling << " of " << t.checked;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FmaRandomTriples,
    testing::Values(FmaShape{"e4m3", "e4m3", "e4m3", "e4m3"}, FmaShape{"e5m2", "e5m2", "e5m2", "e5m2"},
                    FmaShape{"e4m3fnuz", "e4m3fnuz", "e4m3fnuz", "e4m3fnuz"},
                    FmaShape{"e5m2fnuz", "e5m2fnuz", "e5m2fnuz", "e5m2fnuz"}, FmaShape{"e3m4", "e3m4", "e3m4", "e3m4"},
                    FmaShape{"fp16", "fp16", "fp32", "fp32"}, FmaShape{"e4m3", "e5m2", "fp32", "fp32"},
                    FmaShape{"bf16", "bf16", "fp32", "bf16"}, FmaShape{"fp32", "fp32", "fp32", "fp32"},
                    FmaShape{"fp64", "fp64", "fp64", "fp64"}));

}  // namespace
}  // namespace fpsim
