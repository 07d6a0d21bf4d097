// Pins the MPFR arithmetic reference (ref_arith, ref_arith_stochastic,
// ref_compare, ref_min_max) to facts it does not compute itself: every
// Berkeley TestFloat arithmetic vector in tests/data/testfloat, and named cases
// worked out by hand from IEEE 754-2019, docs/arithmetic-semantics.md and
// docs/conversion-semantics.md.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "fpsim_ref/reference.hpp"
#include "testfloat_vectors.hpp"

namespace {

using fpsim_ref::ref_arith;
using fpsim_ref::ref_arith_stochastic;
using fpsim_ref::ref_compare;
using fpsim_ref::ref_format;
using fpsim_ref::ref_is_nan;
using fpsim_ref::ref_min_max;
using fpsim_ref::RefCompareResult;
using fpsim_ref::RefFormat;
using fpsim_ref::RefMinMax;
using fpsim_ref::RefMode;
using fpsim_ref::RefOp;
using fpsim_ref::RefOperand;
using fpsim_ref::RefPredicate;
using fpsim_ref::RefResult;
using fpsim_ref::RefSpec;
using fpsim_ref::RefStochastic;
namespace flag = fpsim_ref::flag;

const RefFormat& F(const char* name) { return ref_format(name); }

RefSpec mode(RefMode m) {
  RefSpec s;
  s.mode = m;
  return s;
}
RefSpec sat(RefMode m = RefMode::rne) {
  RefSpec s = mode(m);
  s.saturate = true;
  return s;
}

RefOperand op(uint64_t code, const char* fmt) { return {code, &ref_format(fmt)}; }

RefResult arith(RefOp o, std::initializer_list<RefOperand> ops, const char* to, RefSpec spec = {}) {
  const std::vector<RefOperand> v(ops);
  return ref_arith(o, v, ref_format(to), spec);
}

// ----------------------------------------------------------- TestFloat

using fpsim_ref::test::read_testfloat_vectors;
using fpsim_ref::test::TestFloatFile;
using fpsim_ref::test::TestFloatVector;

class RefArithTestFloat : public ::testing::TestWithParam<TestFloatFile> {};

TEST_P(RefArithTestFloat, EveryVectorBitExactWithFlags) {
  const TestFloatFile& c = GetParam();
  const std::string file = c.file_name();
  std::vector<TestFloatVector> vectors;
  ASSERT_TRUE(read_testfloat_vectors(c, &vectors));
  const RefFormat& f = ref_format(c.format);
  const int n = fpsim_ref::ref_arity(c.func.op);
  ASSERT_EQ(n, c.arity());
  const RefSpec spec = mode(c.mode.mode);  // tininess after rounding, as the vectors
  size_t count = 0, bad = 0;
  std::vector<RefOperand> ops(static_cast<size_t>(n), RefOperand{0, &f});
  for (const TestFloatVector& v : vectors) {
    for (int i = 0; i < n; ++i) ops[static_cast<size_t>(i)].code = v.operand[i];
    const RefResult r = ref_arith(c.func.op, ops, f, spec);
    const bool code_ok = ref_is_nan(v.expected, f) ? ref_is_nan(r.code, f) : r.code == v.expected;
    const bool flags_ok = (r.flags & 0x1F) == v.flags;
    ++count;
    if (!code_ok || !flags_ok) {
      if (++bad <= 10) {
        ADD_FAILURE() << file << ":" << v.line << ": vector '" << v.text << "' got " << std::hex << r.code << " flags "
                      << (r.flags & 0x1F);
      }
    }
  }
  EXPECT_EQ(bad, 0u) << file << ": " << bad << " of " << count << " vectors disagree";
  EXPECT_GE(count, c.min_vectors()) << file;
  RecordProperty("vectors", static_cast<int>(count));
}

INSTANTIATE_TEST_SUITE_P(Vectors, RefArithTestFloat, ::testing::ValuesIn(fpsim_ref::test::testfloat_arith_files()),
                         fpsim_ref::test::testfloat_test_name);

// --------------------------------------------------- named cases (fp32)

constexpr uint64_t kOne = 0x3F800000, kNegOne = 0xBF800000, kTwo = 0x40000000, kThree = 0x40400000;
constexpr uint64_t kPosZero = 0x00000000, kNegZero = 0x80000000;
constexpr uint64_t kInf = 0x7F800000, kNegInf = 0xFF800000;
constexpr uint64_t kQNaN = 0x7FC00000, kSNaN = 0x7F800001;

TEST(RefArithNamed, SpecRegressionFmaIsOneRounding) {
  // (1 + 2^-23)(1 - 2^-23) - 1 = -2^-46 exactly: 2^-46 = 2^(81 - 127).
  EXPECT_EQ(arith(RefOp::fma, {op(0x3F800001, "fp32"), op(0x3F7FFFFE, "fp32"), op(kNegOne, "fp32")}, "fp32"),
            (RefResult{0xA8800000, 0}));
  // Multiply then add: 1 - 2^-46 rounds to 1 (inexact), and 1 - 1 = +0.
  const RefResult m = arith(RefOp::mul, {op(0x3F800001, "fp32"), op(0x3F7FFFFE, "fp32")}, "fp32");
  EXPECT_EQ(m, (RefResult{kOne, flag::inexact}));
  EXPECT_EQ(arith(RefOp::add, {op(m.code, "fp32"), op(kNegOne, "fp32")}, "fp32"), (RefResult{kPosZero, 0}));
}

TEST(RefArithNamed, SignsOfZero) {
  const auto f = [](uint64_t c) { return op(c, "fp32"); };
  EXPECT_EQ(arith(RefOp::sub, {f(kOne), f(kOne)}, "fp32"), (RefResult{kPosZero, 0}));
  EXPECT_EQ(arith(RefOp::sub, {f(kOne), f(kOne)}, "fp32", mode(RefMode::rdn)), (RefResult{kNegZero, 0}));
  EXPECT_EQ(arith(RefOp::add, {f(kOne), f(kNegOne)}, "fp32", mode(RefMode::rup)), (RefResult{kPosZero, 0}));
  EXPECT_EQ(arith(RefOp::add, {f(kNegZero), f(kNegZero)}, "fp32"), (RefResult{kNegZero, 0}));
  EXPECT_EQ(arith(RefOp::add, {f(kPosZero), f(kNegZero)}, "fp32"), (RefResult{kPosZero, 0}));
  EXPECT_EQ(arith(RefOp::add, {f(kPosZero), f(kNegZero)}, "fp32", mode(RefMode::rdn)), (RefResult{kNegZero, 0}));
  EXPECT_EQ(arith(RefOp::sub, {f(kNegZero), f(kPosZero)}, "fp32"), (RefResult{kNegZero, 0}));
  EXPECT_EQ(arith(RefOp::sub, {f(kPosZero), f(kPosZero)}, "fp32"), (RefResult{kPosZero, 0}));
  EXPECT_EQ(arith(RefOp::mul, {f(kNegZero), f(kThree)}, "fp32"), (RefResult{kNegZero, 0}));
  EXPECT_EQ(arith(RefOp::div, {f(kPosZero), f(kNegOne)}, "fp32"), (RefResult{kNegZero, 0}));
  EXPECT_EQ(arith(RefOp::div, {f(kOne), f(kNegInf)}, "fp32"), (RefResult{kNegZero, 0}));
  EXPECT_EQ(arith(RefOp::sqrt, {f(kNegZero)}, "fp32"), (RefResult{kNegZero, 0}));
  // fma: product -0 plus addend -0 is -0; product +0 plus -0 is +0.
  EXPECT_EQ(arith(RefOp::fma, {f(kNegZero), f(kOne), f(kNegZero)}, "fp32"), (RefResult{kNegZero, 0}));
  EXPECT_EQ(arith(RefOp::fma, {f(kPosZero), f(kOne), f(kNegZero)}, "fp32"), (RefResult{kPosZero, 0}));
  // A non-zero result that rounds to zero keeps its sign: -2^-149 * 2^-1.
  EXPECT_EQ(arith(RefOp::mul, {f(0x80000001), f(0x3F000000)}, "fp32"),
            (RefResult{kNegZero, flag::inexact | flag::underflow}));
}

TEST(RefArithNamed, SpecialValues) {
  const auto f = [](uint64_t c) { return op(c, "fp32"); };
  const RefResult s = arith(RefOp::sqrt, {f(kNegOne)}, "fp32");
  EXPECT_TRUE(ref_is_nan(s.code, F("fp32")));
  EXPECT_EQ(s.flags, flag::invalid);
  EXPECT_EQ(arith(RefOp::div, {f(kOne), f(kPosZero)}, "fp32"), (RefResult{kInf, flag::infinite}));
  EXPECT_EQ(arith(RefOp::div, {f(kOne), f(kNegZero)}, "fp32"), (RefResult{kNegInf, flag::infinite}));
  EXPECT_EQ(arith(RefOp::div, {f(kPosZero), f(kPosZero)}, "fp32"), (RefResult{kQNaN, flag::invalid}));
  EXPECT_EQ(arith(RefOp::div, {f(kInf), f(kNegInf)}, "fp32"), (RefResult{kQNaN, flag::invalid}));
  EXPECT_EQ(arith(RefOp::sub, {f(kInf), f(kInf)}, "fp32"), (RefResult{kQNaN, flag::invalid}));
  EXPECT_EQ(arith(RefOp::add, {f(kInf), f(kInf)}, "fp32"), (RefResult{kInf, 0}));
  EXPECT_EQ(arith(RefOp::mul, {f(kPosZero), f(kNegInf)}, "fp32"), (RefResult{kQNaN, flag::invalid}));
  EXPECT_EQ(arith(RefOp::mul, {f(kNegOne), f(kInf)}, "fp32"), (RefResult{kNegInf, 0}));
  EXPECT_EQ(arith(RefOp::div, {f(kInf), f(kPosZero)}, "fp32"), (RefResult{kInf, 0}));
  EXPECT_EQ(arith(RefOp::sqrt, {f(kInf)}, "fp32"), (RefResult{kInf, 0}));
  EXPECT_EQ(arith(RefOp::sqrt, {f(kNegInf)}, "fp32"), (RefResult{kQNaN, flag::invalid}));
  // NaN operands: the default NaN; invalid only for a signaling one.
  EXPECT_EQ(arith(RefOp::add, {f(0xFFC00001), f(kOne)}, "fp32"), (RefResult{kQNaN, 0}));
  EXPECT_EQ(arith(RefOp::mul, {f(kOne), f(kSNaN)}, "fp32"), (RefResult{kQNaN, flag::invalid}));
  // fma(0, inf, qNaN) and fma(inf, 0, qNaN) are invalid; fma(1, inf, qNaN) is not.
  EXPECT_EQ(arith(RefOp::fma, {f(kPosZero), f(kInf), f(kQNaN)}, "fp32"), (RefResult{kQNaN, flag::invalid}));
  EXPECT_EQ(arith(RefOp::fma, {f(kNegInf), f(kPosZero), f(kQNaN)}, "fp32"), (RefResult{kQNaN, flag::invalid}));
  EXPECT_EQ(arith(RefOp::fma, {f(kOne), f(kInf), f(kQNaN)}, "fp32"), (RefResult{kQNaN, 0}));
  EXPECT_EQ(arith(RefOp::fma, {f(kOne), f(kInf), f(kNegInf)}, "fp32"), (RefResult{kQNaN, flag::invalid}));
  EXPECT_EQ(arith(RefOp::fma, {f(kTwo), f(kThree), f(kInf)}, "fp32"), (RefResult{kInf, 0}));
  // Exact: 2 * 3 = 6; 1 / 3 rounds; sqrt(2) rounds.
  EXPECT_EQ(arith(RefOp::mul, {f(kTwo), f(kThree)}, "fp32"), (RefResult{0x40C00000, 0}));
  // 1/3 = 0x3EAAAAAB in rne (…AAA|AAA… rounds up), 0x3EAAAAAA toward zero.
  EXPECT_EQ(arith(RefOp::div, {f(kOne), f(kThree)}, "fp32"), (RefResult{0x3EAAAAAB, flag::inexact}));
  EXPECT_EQ(arith(RefOp::div, {f(kOne), f(kThree)}, "fp32", mode(RefMode::rtz)),
            (RefResult{0x3EAAAAAA, flag::inexact}));
  // sqrt(2) = 1.6A09E667F3BCC9… (hex): 23 fraction bits 0x3504F3|3… → 0x3FB504F3.
  EXPECT_EQ(arith(RefOp::sqrt, {f(kTwo)}, "fp32"), (RefResult{0x3FB504F3, flag::inexact}));
  EXPECT_EQ(arith(RefOp::sqrt, {f(0x40800000)}, "fp32"), (RefResult{kTwo, 0}));  // sqrt(4) = 2
}

TEST(RefArithNamed, DeliveryIntoNarrowFormats) {
  const auto e = [](uint64_t c) { return op(c, "e4m3"); };
  // e4m3 1 / 0 (1 = 0x38): inf is delivered as a conversion would.
  EXPECT_EQ(arith(RefOp::div, {e(0x38), e(0x00)}, "e4m3"), (RefResult{0x7F, flag::infinite | flag::invalid}));
  EXPECT_EQ(arith(RefOp::div, {e(0x38), e(0x80)}, "e4m3"), (RefResult{0xFF, flag::infinite | flag::invalid}));
  EXPECT_EQ(arith(RefOp::div, {e(0x38), e(0x00)}, "e4m3", sat()), (RefResult{0x7E, flag::infinite | flag::saturated}));
  // 448 + 32 = 480 = 1.111b * 2^8: above max 448 on the unbounded grid: overflow.
  EXPECT_EQ(arith(RefOp::add, {e(0x7E), e(0x60)}, "e4m3"), (RefResult{0x7F, flag::overflow | flag::inexact}));
  EXPECT_EQ(arith(RefOp::add, {e(0x7E), e(0x60)}, "e4m3", sat()),
            (RefResult{0x7E, flag::overflow | flag::inexact | flag::saturated}));
  EXPECT_EQ(arith(RefOp::add, {e(0x7E), e(0x60)}, "e4m3", mode(RefMode::rtz)),
            (RefResult{0x7E, flag::overflow | flag::inexact}));
  // 448 + 16 = 464: the midpoint of 448 and 480, ties to even (448): no overflow.
  EXPECT_EQ(arith(RefOp::add, {e(0x7E), e(0x58)}, "e4m3"), (RefResult{0x7E, flag::inexact}));
  // e2m1 (no inf, no NaN): 0 / 0 is +max 6 (0x7) with invalid; 1 / 0 also
  // raises infinite, and inf -> e2m1 is +max with invalid | saturated.
  EXPECT_EQ(arith(RefOp::div, {op(0x0, "e2m1"), op(0x0, "e2m1")}, "e2m1"), (RefResult{0x7, flag::invalid}));
  EXPECT_EQ(arith(RefOp::div, {op(0x2, "e2m1"), op(0x0, "e2m1")}, "e2m1"),
            (RefResult{0x7, flag::infinite | flag::invalid | flag::saturated}));
  // e2m1 4 + 2 = 6 exact; 6 + 1 = 7 rounds to even 8: overflow -> +max saturated.
  EXPECT_EQ(arith(RefOp::add, {op(0x6, "e2m1"), op(0x4, "e2m1")}, "e2m1"), (RefResult{0x7, 0}));
  EXPECT_EQ(arith(RefOp::add, {op(0x7, "e2m1"), op(0x2, "e2m1")}, "e2m1"),
            (RefResult{0x7, flag::overflow | flag::inexact | flag::saturated}));
  // ue4m3 (unsigned): 1 - 2 is negative: NaN 0x7F with invalid.
  EXPECT_EQ(arith(RefOp::sub, {op(0x38, "ue4m3"), op(0x40, "ue4m3")}, "ue4m3"), (RefResult{0x7F, flag::invalid}));
  // int8: -3 + 5 = 2; 100 + 100 = 200 clamps to 127 with invalid | saturated;
  // 7 / 2 = 3.5 ties to even 4.
  EXPECT_EQ(arith(RefOp::add, {op(0xFD, "int8"), op(0x05, "int8")}, "int8"), (RefResult{0x02, 0}));
  EXPECT_EQ(arith(RefOp::add, {op(100, "int8"), op(100, "int8")}, "int8"),
            (RefResult{0x7F, flag::invalid | flag::saturated}));
  EXPECT_EQ(arith(RefOp::div, {op(7, "int8"), op(2, "int8")}, "int8"), (RefResult{0x04, flag::inexact}));
  // e8m0 operands read 2^(k - 127): 2 * 3 = 6 in fp32; sqrt(2^2) = 2.
  EXPECT_EQ(arith(RefOp::mul, {op(128, "e8m0"), op(kThree, "fp32")}, "fp32"), (RefResult{0x40C00000, 0}));
  EXPECT_EQ(arith(RefOp::sqrt, {op(129, "e8m0")}, "e8m0"), (RefResult{128, 0}));
  // e8m0 NaN (0xFF) is a quiet NaN operand.
  EXPECT_EQ(arith(RefOp::add, {op(0xFF, "e8m0"), op(kOne, "fp32")}, "fp32"), (RefResult{kQNaN, 0}));
}

TEST(RefArithNamed, FtzDazAndTininess) {
  // fp32: 2^-126 * 2^-1 = 2^-127, an exact subnormal (0x00400000).
  const auto f = [](uint64_t c) { return op(c, "fp32"); };
  EXPECT_EQ(arith(RefOp::mul, {f(0x00800000), f(0x3F000000)}, "fp32"), (RefResult{0x00400000, 0}));
  RefSpec ftz;
  ftz.ftz = true;
  EXPECT_EQ(arith(RefOp::mul, {f(0x00800000), f(0x3F000000)}, "fp32", ftz),
            (RefResult{kPosZero, flag::underflow | flag::inexact | flag::flushed}));
  RefSpec daz;
  daz.daz = true;
  // daz: the subnormal 2^-149 reads as +0: 2^-149 + 1 = 1 exactly, flushed only.
  EXPECT_EQ(arith(RefOp::add, {f(0x00000001), f(kOne)}, "fp32", daz), (RefResult{kOne, flag::flushed}));
  // daz: 1 / (-2^-149) is 1 / -0 = -inf with infinite.
  EXPECT_EQ(arith(RefOp::div, {f(kOne), f(0x80000001)}, "fp32", daz),
            (RefResult{kNegInf, flag::infinite | flag::flushed}));
  // Without daz: 1 + 2^-149 rounds to 1, inexact.
  EXPECT_EQ(arith(RefOp::add, {f(0x00000001), f(kOne)}, "fp32"), (RefResult{kOne, flag::inexact}));
  // (2^-126 - 2^-149) * (1 + 2^-23): exact value 2^-126 - 2^-172 rounds to
  // 2^-126 in rne; tiny after rounding? rounded at p = 24 unbounded it is
  // 2^-126, not tiny: no underflow; tiny before rounding: underflow.
  EXPECT_EQ(arith(RefOp::mul, {f(0x007FFFFF), f(0x3F800001)}, "fp32"), (RefResult{0x00800000, flag::inexact}));
  RefSpec before;
  before.tininess_before = true;
  EXPECT_EQ(arith(RefOp::mul, {f(0x007FFFFF), f(0x3F800001)}, "fp32", before),
            (RefResult{0x00800000, flag::inexact | flag::underflow}));
}

TEST(RefArithNamed, MixedFormatsRoundOnce) {
  // fp16 factors (1 + 2^-10 = 0x3C01), fp32 addend -1: (1 + 2^-10)^2 - 1 =
  // 2^-9 + 2^-20, exact in fp32: 2^-9 (1 + 2^-11) = 0x3B000000 | 1 << 12.
  const RefOperand a = op(0x3C01, "fp16"), c = op(kNegOne, "fp32");
  EXPECT_EQ(arith(RefOp::fma, {a, a, c}, "fp32"), (RefResult{0x3B001000, 0}));
  // Into fp16 the 2^-20 is half an ulp of 2^-9 (ulp 2^-19): ties to even 2^-9 = 0x1800.
  EXPECT_EQ(arith(RefOp::fma, {a, a, c}, "fp16"), (RefResult{0x1800, flag::inexact}));
  EXPECT_EQ(arith(RefOp::fma, {a, a, c}, "fp16", mode(RefMode::rup)), (RefResult{0x1801, flag::inexact}));
  // fp16 65504 + fp32 65504 = 131008 fits fp32, overflows fp16.
  EXPECT_EQ(arith(RefOp::add, {op(0x7BFF, "fp16"), op(0x477FE000, "fp32")}, "fp32"), (RefResult{0x47FFE000, 0}));
  EXPECT_EQ(arith(RefOp::add, {op(0x7BFF, "fp16"), op(0x477FE000, "fp32")}, "fp16"),
            (RefResult{0x7C00, flag::overflow | flag::inexact}));
  // fp64 operands 2000 binades apart: 2^1000 - 2^-1000 is 2^1000 in rne and
  // its predecessor in rtz. 2^1000 = (1000 + 1023) << 52, 2^-1000 = 23 << 52.
  const RefOperand big = op(0x7E70000000000000ull, "fp64");
  const RefOperand tiny = op(0x0170000000000000ull, "fp64");
  EXPECT_EQ(arith(RefOp::sub, {big, tiny}, "fp64"), (RefResult{0x7E70000000000000ull, flag::inexact}));
  EXPECT_EQ(arith(RefOp::sub, {big, tiny}, "fp64", mode(RefMode::rtz)),
            (RefResult{0x7E6FFFFFFFFFFFFFull, flag::inexact}));
  // fma across the whole fp64 range: 2^1000 * 2^-1000 + 2^-1074 = 1 + 2^-1074:
  // rne 1 (0x3FF0000000000000), rup its successor; both inexact.
  const RefOperand min_sub = op(1, "fp64");
  EXPECT_EQ(arith(RefOp::fma, {big, tiny, min_sub}, "fp64"), (RefResult{0x3FF0000000000000ull, flag::inexact}));
  EXPECT_EQ(arith(RefOp::fma, {big, tiny, min_sub}, "fp64", mode(RefMode::rup)),
            (RefResult{0x3FF0000000000001ull, flag::inexact}));
}

TEST(RefArithNamed, Stochastic) {
  // fp32 1 + 2^-9 (0x3B000000) into bf16: ulp of 1 is 2^-7, f = 1/4.
  const std::vector<RefOperand> ops = {op(kOne, "fp32"), op(0x3B000000, "fp32")};
  const RefStochastic s = ref_arith_stochastic(RefOp::add, ops, F("bf16"), {}, 0);
  EXPECT_EQ(s.toward_zero, (RefResult{0x3F80, flag::inexact}));
  EXPECT_EQ(s.away, (RefResult{0x3F81, flag::inexact}));
  EXPECT_EQ(s.p_away_exact, "1/4");
  EXPECT_EQ(s.p_away, 0.25);
  EXPECT_EQ(ref_arith_stochastic(RefOp::add, ops, F("bf16"), {}, 1).p_away_exact, "0");  // floor(2/4)/2
  EXPECT_EQ(ref_arith_stochastic(RefOp::add, ops, F("bf16"), {}, 2).p_away_exact, "1/4");
  // Negative: -1 + -2^-9 = -(1 + 2^-9): the same f = 1/4, negative candidates.
  const std::vector<RefOperand> neg = {op(kNegOne, "fp32"), op(0xBB000000, "fp32")};
  const RefStochastic sn = ref_arith_stochastic(RefOp::add, neg, F("bf16"), {}, 0);
  EXPECT_EQ(sn.toward_zero, (RefResult{0xBF80, flag::inexact}));
  EXPECT_EQ(sn.away, (RefResult{0xBF81, flag::inexact}));
  EXPECT_EQ(sn.p_away_exact, "1/4");
  // fma far below the ulp: 1 * 1 + 2^-40 into bf16: f = 2^-33, exact.
  const std::vector<RefOperand> f3 = {op(kOne, "fp32"), op(kOne, "fp32"), op(0x2B800000, "fp32")};
  EXPECT_EQ(ref_arith_stochastic(RefOp::fma, f3, F("bf16"), {}, 0).p_away_exact, "1/2^33");
  // Exact results round nowhere: P = 0, both candidates the value.
  const std::vector<RefOperand> same = {op(kOne, "fp32"), op(kOne, "fp32")};
  const RefStochastic z = ref_arith_stochastic(RefOp::sub, same, F("fp32"), mode(RefMode::rdn), 0);
  EXPECT_EQ(z.toward_zero, (RefResult{kPosZero, 0}));  // cancellation under SR: +0 (mode ignored)
  EXPECT_EQ(z.away, (RefResult{kPosZero, 0}));
  EXPECT_EQ(z.p_away_exact, "0");
  // 1 / 3 into bf16: 1/3 = 170.666… * 2^-9, so 0x3EAA / 0x3EAB and P = 2/3
  // (the 256-bit round-to-odd value's fraction, within 2^-200 of 2/3).
  const std::vector<RefOperand> third = {op(kOne, "fp32"), op(kThree, "fp32")};
  const RefStochastic t = ref_arith_stochastic(RefOp::div, third, F("bf16"), {}, 0);
  EXPECT_EQ(t.toward_zero, (RefResult{0x3EAA, flag::inexact}));
  EXPECT_EQ(t.away, (RefResult{0x3EAB, flag::inexact}));
  EXPECT_NEAR(t.p_away, 2.0 / 3.0, 1e-15);
  // sr<4>: floor(2/3 * 16) / 16 = 10/16 = 5/8.
  EXPECT_EQ(ref_arith_stochastic(RefOp::div, third, F("bf16"), {}, 4).p_away_exact, "5/8");
  // 1 / 0 under SR: inf with infinite, both candidates.
  const std::vector<RefOperand> inf = {op(kOne, "fp32"), op(kPosZero, "fp32")};
  const RefStochastic i = ref_arith_stochastic(RefOp::div, inf, F("fp32"), {}, 0);
  EXPECT_EQ(i.toward_zero, (RefResult{kInf, flag::infinite}));
  EXPECT_EQ(i.away, (RefResult{kInf, flag::infinite}));
  EXPECT_EQ(i.p_away_exact, "0");
}

// ---------------------------------------------------------- comparisons

RefCompareResult cmp(RefPredicate p, bool signaling, RefOperand a, RefOperand b, RefSpec spec = {}) {
  return ref_compare(p, signaling, a, b, spec);
}

TEST(RefCompareNamed, Ieee754Section511) {
  const auto f = [](uint64_t c) { return op(c, "fp32"); };
  using P = RefPredicate;
  EXPECT_EQ(cmp(P::eq, false, f(kNegZero), f(kPosZero)), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(P::lt, true, f(kNegZero), f(kPosZero)), (RefCompareResult{false, 0}));
  EXPECT_EQ(cmp(P::le, true, f(kNegZero), f(kPosZero)), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(P::lt, true, f(kOne), f(kTwo)), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(P::lt, false, f(kTwo), f(kOne)), (RefCompareResult{false, 0}));
  EXPECT_EQ(cmp(P::le, false, f(kNegInf), f(kInf)), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(P::unordered, false, f(kOne), f(kInf)), (RefCompareResult{false, 0}));
  // NaN: quiet eq raises nothing; signaling lt raises invalid for a quiet NaN;
  // a signaling NaN raises invalid even for quiet predicates.
  EXPECT_EQ(cmp(P::eq, false, f(kQNaN), f(kOne)), (RefCompareResult{false, 0}));
  EXPECT_EQ(cmp(P::eq, false, f(kQNaN), f(kQNaN)), (RefCompareResult{false, 0}));
  EXPECT_EQ(cmp(P::lt, true, f(kQNaN), f(kOne)), (RefCompareResult{false, flag::invalid}));
  EXPECT_EQ(cmp(P::le, false, f(kOne), f(kQNaN)), (RefCompareResult{false, 0}));
  EXPECT_EQ(cmp(P::eq, false, f(kSNaN), f(kOne)), (RefCompareResult{false, flag::invalid}));
  EXPECT_EQ(cmp(P::eq, true, f(kQNaN), f(kOne)), (RefCompareResult{false, flag::invalid}));
  EXPECT_EQ(cmp(P::unordered, false, f(kQNaN), f(kOne)), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(P::unordered, false, f(kOne), f(kSNaN)), (RefCompareResult{true, flag::invalid}));
  // Different formats compare exactly: fp16 1 == fp32 1; fp16 2^-24 (0x0001)
  // == fp32 2^-24 (0x33800000); fp16 1 + 2^-10 > fp32 1 + 2^-11.
  EXPECT_EQ(cmp(P::eq, false, op(0x3C00, "fp16"), f(kOne)), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(P::eq, false, op(0x0001, "fp16"), f(0x33800000)), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(P::lt, false, f(0x3F801000), op(0x3C01, "fp16")), (RefCompareResult{true, 0}));
  // daz: the fp16 subnormal reads as +0 and raises flushed.
  RefSpec daz;
  daz.daz = true;
  EXPECT_EQ(cmp(P::eq, false, op(0x0001, "fp16"), f(kNegZero), daz), (RefCompareResult{true, flag::flushed}));
  // e4m3 NaN 0x7F is quiet (fn formats have no signaling NaNs).
  EXPECT_EQ(cmp(P::eq, false, op(0x7F, "e4m3"), op(0x38, "e4m3")), (RefCompareResult{false, 0}));
}

// -------------------------------------------------------------- min/max

RefResult mm(RefMinMax o, RefOperand a, RefOperand b, const char* to = "fp32", RefSpec spec = {}) {
  return ref_min_max(o, a, b, ref_format(to), spec);
}

TEST(RefMinMaxNamed, Ieee754Section96) {
  const auto f = [](uint64_t c) { return op(c, "fp32"); };
  using M = RefMinMax;
  EXPECT_EQ(mm(M::minimum, f(kNegZero), f(kPosZero)), (RefResult{kNegZero, 0}));
  EXPECT_EQ(mm(M::minimum, f(kPosZero), f(kNegZero)), (RefResult{kNegZero, 0}));
  EXPECT_EQ(mm(M::maximum, f(kNegZero), f(kPosZero)), (RefResult{kPosZero, 0}));
  EXPECT_EQ(mm(M::maximum, f(kPosZero), f(kNegZero)), (RefResult{kPosZero, 0}));
  EXPECT_EQ(mm(M::minimum_number, f(kPosZero), f(kNegZero)), (RefResult{kNegZero, 0}));
  EXPECT_EQ(mm(M::minimum, f(kOne), f(kTwo)), (RefResult{kOne, 0}));
  EXPECT_EQ(mm(M::maximum, f(kOne), f(kTwo)), (RefResult{kTwo, 0}));
  EXPECT_EQ(mm(M::maximum, f(kNegInf), f(kThree)), (RefResult{kThree, 0}));
  EXPECT_EQ(mm(M::minimum, f(kNegInf), f(kThree)), (RefResult{kNegInf, 0}));
  // NaN handling.
  EXPECT_EQ(mm(M::minimum_number, f(kQNaN), f(kOne)), (RefResult{kOne, 0}));
  EXPECT_EQ(mm(M::maximum_number, f(kOne), f(kQNaN)), (RefResult{kOne, 0}));
  EXPECT_EQ(mm(M::minimum_number, f(kSNaN), f(kOne)), (RefResult{kOne, flag::invalid}));
  EXPECT_EQ(mm(M::minimum, f(kQNaN), f(kOne)), (RefResult{kQNaN, 0}));
  EXPECT_EQ(mm(M::maximum, f(kOne), f(0xFFC00000)), (RefResult{kQNaN, 0}));  // default NaN is positive
  EXPECT_EQ(mm(M::minimum, f(kSNaN), f(kOne)), (RefResult{kQNaN, flag::invalid}));
  EXPECT_EQ(mm(M::minimum_number, f(kQNaN), f(kQNaN)), (RefResult{kQNaN, 0}));
  EXPECT_EQ(mm(M::maximum_number, f(kQNaN), f(kSNaN)), (RefResult{kQNaN, flag::invalid}));
  // The chosen operand is delivered like a conversion: same format, exact code.
  EXPECT_EQ(mm(M::maximum, op(0x0001, "fp16"), op(0x8001, "fp16"), "fp16"), (RefResult{0x0001, 0}));
  // Into a narrower format it rounds: max(fp32 1 + 2^-23, 0) into fp16 = 1, inexact.
  EXPECT_EQ(mm(M::maximum, f(0x3F800001), f(kPosZero), "fp16"), (RefResult{0x3C00, flag::inexact}));
  // Mixed formats: min(fp16 1 + 2^-10, fp32 1 + 2^-11) is the fp32 one.
  EXPECT_EQ(mm(M::minimum, op(0x3C01, "fp16"), f(0x3F801000)), (RefResult{0x3F801000, 0}));
  // daz: the fp16 subnormal reads as +0.
  RefSpec daz;
  daz.daz = true;
  EXPECT_EQ(mm(M::minimum, op(0x0001, "fp16"), op(0x3C00, "fp16"), "fp16", daz), (RefResult{0x0000, flag::flushed}));
  // NaN into e2m1 (no NaN): +max with invalid.
  EXPECT_EQ(mm(M::minimum, f(kQNaN), f(kOne), "e2m1"), (RefResult{0x7, flag::invalid}));
}

// --------------------------------------------------------------- throws

TEST(RefArithThrows, WrongArityNullFormatInvalidCode) {
  const RefOperand one = op(kOne, "fp32");
  const std::vector<RefOperand> v1 = {one}, v2 = {one, one}, v3 = {one, one, one};
  const RefFormat& fp32 = F("fp32");
  EXPECT_EQ(fpsim_ref::ref_arity(RefOp::add), 2);
  EXPECT_EQ(fpsim_ref::ref_arity(RefOp::fma), 3);
  EXPECT_EQ(fpsim_ref::ref_arity(RefOp::sqrt), 1);
  EXPECT_THROW(ref_arith(RefOp::add, v1, fp32, {}), std::invalid_argument);
  EXPECT_THROW(ref_arith(RefOp::add, v3, fp32, {}), std::invalid_argument);
  EXPECT_THROW(ref_arith(RefOp::fma, v2, fp32, {}), std::invalid_argument);
  EXPECT_THROW(ref_arith(RefOp::sqrt, v2, fp32, {}), std::invalid_argument);
  EXPECT_THROW(ref_arith(RefOp::sqrt, std::span<const RefOperand>{}, fp32, {}), std::invalid_argument);
  EXPECT_THROW(ref_arith_stochastic(RefOp::mul, v3, fp32, {}, 0), std::invalid_argument);
  EXPECT_THROW(ref_arith_stochastic(RefOp::mul, v2, fp32, {}, 65), std::invalid_argument);
  EXPECT_THROW(ref_arith_stochastic(RefOp::mul, v2, fp32, {}, -1), std::invalid_argument);
  const std::vector<RefOperand> null_fmt = {one, RefOperand{0, nullptr}};
  EXPECT_THROW(ref_arith(RefOp::add, null_fmt, fp32, {}), std::invalid_argument);
  const std::vector<RefOperand> bad16 = {op(0x10000, "fp16"), op(0x3C00, "fp16")};
  EXPECT_THROW(ref_arith(RefOp::mul, bad16, fp32, {}), std::invalid_argument);
  const std::vector<RefOperand> bad4 = {op(0x10, "e2m1")};
  EXPECT_THROW(ref_arith(RefOp::sqrt, bad4, fp32, {}), std::invalid_argument);
  const std::vector<RefOperand> badu = {op(0x80, "ue4m3"), op(0x38, "ue4m3")};
  EXPECT_THROW(ref_arith(RefOp::add, badu, fp32, {}), std::invalid_argument);
  EXPECT_THROW(ref_compare(RefPredicate::eq, false, one, RefOperand{0, nullptr}, {}), std::invalid_argument);
  EXPECT_THROW(ref_compare(RefPredicate::eq, false, op(0x100, "e4m3"), one, {}), std::invalid_argument);
  EXPECT_THROW(ref_min_max(RefMinMax::minimum, one, op(0x100, "e4m3"), fp32, {}), std::invalid_argument);
  EXPECT_THROW(ref_min_max(RefMinMax::maximum, RefOperand{0, nullptr}, one, fp32, {}), std::invalid_argument);
}

}  // namespace
