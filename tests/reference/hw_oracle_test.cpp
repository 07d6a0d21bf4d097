// Pins fpsim_ref::HwOracle (the host CPU as the oracle of `fpsim verify
// --oracle hw`) to Berkeley TestFloat's fp32 / fp16 arithmetic vectors in the
// four modes the hardware has, and its comparisons to IEEE 754-2019 §5.11:
// -0 equals +0; a NaN is unordered with everything (itself included), so eq,
// lt and le are false and unordered is true; quiet predicates raise invalid
// only for a signaling NaN operand, signaling predicates for any NaN.
#include "fpsim_ref/hw_oracle.hpp"

#include <gtest/gtest.h>

#include <cfenv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "fpsim_ref/reference.hpp"
#include "testfloat_vectors.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define FPSIM_TEST_X86 1
#else
#define FPSIM_TEST_X86 0
#endif

namespace {

using fpsim_ref::HwOracle;
using fpsim_ref::ref_decode_to_double;
using fpsim_ref::ref_format;
using fpsim_ref::ref_is_nan;
using fpsim_ref::RefCompareResult;
using fpsim_ref::RefFormat;
using fpsim_ref::RefMode;
using fpsim_ref::RefOp;
using fpsim_ref::RefPredicate;
using fpsim_ref::RefResult;
using fpsim_ref::RefSpec;
namespace flag = fpsim_ref::flag;

RefSpec with_mode(RefMode m) {
  RefSpec s;
  s.mode = m;
  return s;
}

// ----------------------------------------------------------- TestFloat

using fpsim_ref::test::read_testfloat_vectors;
using fpsim_ref::test::TestFloatFile;
using fpsim_ref::test::TestFloatVector;

class HwOracleTestFloat : public ::testing::TestWithParam<TestFloatFile> {};

TEST_P(HwOracleTestFloat, EveryVectorBitExactWithFlags) {
  const TestFloatFile& c = GetParam();
  const RefFormat& f = ref_format(c.format);
  const RefSpec spec = with_mode(c.mode.mode);
  std::string why;
  if (!HwOracle::available(c.func.op, f, spec, &why)) GTEST_SKIP() << why;
  const HwOracle oracle(c.func.op, f, spec);
  const std::string file = c.file_name();
  std::vector<TestFloatVector> vectors;
  ASSERT_TRUE(read_testfloat_vectors(c, &vectors));
  size_t count = 0, bad = 0;
  for (const TestFloatVector& v : vectors) {
    const RefResult r = oracle(v.operand[0], v.operand[1], v.operand[2]);
    const bool code_ok = ref_is_nan(v.expected, f) ? r.code == f.nan_code : r.code == v.expected;
    ++count;
    if (!code_ok || r.flags != v.flags) {
      if (++bad <= 10)
        ADD_FAILURE() << file << ":" << v.line << ": vector '" << v.text << "' got " << std::hex << r.code << " flags "
                      << r.flags;
    }
  }
  EXPECT_EQ(bad, 0u) << file << ": " << bad << " of " << count << " vectors disagree";
  EXPECT_GE(count, c.min_vectors()) << file;
}

// The four modes the hardware has (MXCSR): no rnear_maxMag, no rodd.
INSTANTIATE_TEST_SUITE_P(AllFiles, HwOracleTestFloat,
                         ::testing::ValuesIn(fpsim_ref::test::testfloat_arith_files({RefMode::rne, RefMode::rtz,
                                                                                     RefMode::rup, RefMode::rdn})),
                         fpsim_ref::test::testfloat_test_name);

// ----------------------------------------------------------- availability

TEST(HwOracleAvailability, RefusalsSayWhy) {
  const RefFormat& fp32 = ref_format("fp32");
  std::string why;
  EXPECT_FALSE(HwOracle::available(RefOp::add, fp32, with_mode(RefMode::rna), &why));
  EXPECT_NE(why.find("round-to-nearest-away"), std::string::npos) << why;
  EXPECT_FALSE(HwOracle::available(RefOp::add, fp32, with_mode(RefMode::rto), &why));
  EXPECT_NE(why.find("round-to-odd"), std::string::npos) << why;
  RefSpec s{};
  s.saturate = true;
  EXPECT_FALSE(HwOracle::available(RefOp::add, fp32, s, &why));
  s = {};
  s.ftz = true;
  EXPECT_FALSE(HwOracle::available(RefOp::add, fp32, s, &why));
  s = {};
  s.tininess_before = true;
  EXPECT_FALSE(HwOracle::available(RefOp::add, fp32, s, &why));
  EXPECT_FALSE(HwOracle::available(RefOp::add, ref_format("bf16"), RefSpec{}, &why));
  EXPECT_NE(why.find("bf16"), std::string::npos) << why;
  s = {};
  s.daz = true;
  EXPECT_FALSE(HwOracle::compare_available(fp32, s, &why));
  EXPECT_THROW(HwOracle(RefOp::add, fp32, with_mode(RefMode::rna)), std::invalid_argument);

  const bool fp16 = HwOracle::available(RefOp::add, ref_format("fp16"), RefSpec{}, &why);
  EXPECT_EQ(fp16, HwOracle::cpu_has_avx512fp16());
  if (!fp16) {
    EXPECT_NE(why.find("AVX512-FP16"), std::string::npos) << why;
  }
  std::printf("host: fma %d, f16c %d, avx512fp16 %d\n", HwOracle::cpu_has_fma(), HwOracle::cpu_has_f16c(),
              HwOracle::cpu_has_avx512fp16());
#if FPSIM_TEST_X86
  EXPECT_TRUE(HwOracle::available(RefOp::add, fp32, RefSpec{}, &why)) << why;
#endif
}

// The caller's rounding mode and MXCSR are left as they were.
TEST(HwOracleAvailability, LeavesTheCallersModeAlone) {
#if FPSIM_TEST_X86
  const RefFormat& fp32 = ref_format("fp32");
  ASSERT_EQ(std::fesetround(FE_UPWARD), 0);
  const unsigned before = _mm_getcsr();
  for (RefMode m : {RefMode::rne, RefMode::rtz, RefMode::rup, RefMode::rdn}) {
    const HwOracle o(RefOp::div, fp32, with_mode(m));
    EXPECT_EQ(o(0x3F800000, 0x40400000).flags, flag::inexact);  // 1/3
    EXPECT_EQ(o(0x3F800000, 0).flags, flag::infinite);
  }
  EXPECT_EQ(HwOracle::compare(RefPredicate::lt, true, 0x7FC00000, 0, fp32).flags, flag::invalid);
  EXPECT_EQ(_mm_getcsr(), before);
  EXPECT_EQ(std::fegetround(), FE_UPWARD);
  std::fesetround(FE_TONEAREST);
  // 1/3 in the four modes: rne and rdn/rtz give 0x3EAAAAAB / 0x3EAAAAAA.
  EXPECT_EQ(HwOracle(RefOp::div, fp32, with_mode(RefMode::rne))(0x3F800000, 0x40400000).code, 0x3EAAAAABu);
  EXPECT_EQ(HwOracle(RefOp::div, fp32, with_mode(RefMode::rtz))(0x3F800000, 0x40400000).code, 0x3EAAAAAAu);
  EXPECT_EQ(HwOracle(RefOp::div, fp32, with_mode(RefMode::rup))(0x3F800000, 0x40400000).code, 0x3EAAAAABu);
  EXPECT_EQ(HwOracle(RefOp::div, fp32, with_mode(RefMode::rdn))(0xBF800000, 0x40400000).code, 0xBEAAAAABu);
#else
  GTEST_SKIP() << "not an x86 host";
#endif
}

// ----------------------------------------------------------- comparisons

bool is_snan(uint64_t code, const RefFormat& f) {
  const int M = f.man_bits;
  const uint64_t ones = (uint64_t{1} << f.exp_bits) - 1, mant = code & ((uint64_t{1} << M) - 1);
  return ((code >> M) & ones) == ones && mant != 0 && ((mant >> (M - 1)) & 1) == 0;
}

// §5.11 written out: the expected answer from the operands' values.
RefCompareResult expected(RefPredicate p, bool signaling, uint64_t a, uint64_t b, const RefFormat& f) {
  const double x = ref_decode_to_double(a, f), y = ref_decode_to_double(b, f);
  const bool nan = std::isnan(x) || std::isnan(y);
  RefCompareResult r;
  switch (p) {
    case RefPredicate::eq:
      r.value = !nan && x == y;
      break;
    case RefPredicate::lt:
      r.value = !nan && x < y;
      break;
    case RefPredicate::le:
      r.value = !nan && x <= y;
      break;
    case RefPredicate::unordered:
      r.value = nan;
      break;
  }
  if (is_snan(a, f) || is_snan(b, f) || (signaling && nan)) r.flags = flag::invalid;
  return r;
}

const RefPredicate kPreds[] = {RefPredicate::eq, RefPredicate::lt, RefPredicate::le, RefPredicate::unordered};

void check_compares(const RefFormat& f, const std::vector<uint64_t>& codes) {
  std::string why;
  if (!HwOracle::compare_available(f, RefSpec{}, &why)) GTEST_SKIP() << why;
  size_t bad = 0;
  for (uint64_t a : codes)
    for (uint64_t b : codes)
      for (RefPredicate p : kPreds)
        for (bool sig : {false, true}) {
          const RefCompareResult got = HwOracle::compare(p, sig, a, b, f);
          const RefCompareResult want = expected(p, sig, a, b, f);
          if (got != want && bad++ < 10)
            ADD_FAILURE() << f.name << std::hex << " " << a << " " << b << " pred " << static_cast<int>(p)
                          << (sig ? " signaling" : " quiet") << ": got " << got.value << "/" << got.flags << " want "
                          << want.value << "/" << want.flags;
        }
  EXPECT_EQ(bad, 0u);
}

TEST(HwOracleCompare, Fp32NamedCases) {
  const RefFormat& f = ref_format("fp32");
  std::string why;
  if (!HwOracle::compare_available(f, RefSpec{}, &why)) GTEST_SKIP() << why;
  const auto cmp = [&](RefPredicate p, bool s, uint64_t a, uint64_t b) { return HwOracle::compare(p, s, a, b, f); };
  const uint64_t pz = 0, nz = 0x80000000, one = 0x3F800000, qnan = 0x7FC00000, snan = 0x7F800001;
  EXPECT_EQ(cmp(RefPredicate::eq, false, pz, nz), (RefCompareResult{true, 0}));  // -0 == +0
  EXPECT_EQ(cmp(RefPredicate::lt, true, nz, pz), (RefCompareResult{false, 0}));  // not -0 < +0
  EXPECT_EQ(cmp(RefPredicate::le, true, nz, pz), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(RefPredicate::eq, false, qnan, qnan), (RefCompareResult{false, 0}));  // NaN != NaN, quiet: no flag
  EXPECT_EQ(cmp(RefPredicate::eq, true, qnan, one), (RefCompareResult{false, flag::invalid}));
  EXPECT_EQ(cmp(RefPredicate::lt, false, one, qnan), (RefCompareResult{false, 0}));
  EXPECT_EQ(cmp(RefPredicate::lt, true, one, qnan), (RefCompareResult{false, flag::invalid}));
  EXPECT_EQ(cmp(RefPredicate::unordered, false, qnan, one), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(RefPredicate::unordered, false, snan, one), (RefCompareResult{true, flag::invalid}));
  EXPECT_EQ(cmp(RefPredicate::eq, false, snan, snan), (RefCompareResult{false, flag::invalid}));
  EXPECT_EQ(cmp(RefPredicate::le, false, 0x7F800000, 0x7F800000), (RefCompareResult{true, 0}));  // inf <= inf
}

TEST(HwOracleCompare, Fp16NamedCases) {
  const RefFormat& f = ref_format("fp16");
  std::string why;
  if (!HwOracle::compare_available(f, RefSpec{}, &why)) GTEST_SKIP() << why;
  const auto cmp = [&](RefPredicate p, bool s, uint64_t a, uint64_t b) { return HwOracle::compare(p, s, a, b, f); };
  EXPECT_EQ(cmp(RefPredicate::eq, false, 0x0000, 0x8000), (RefCompareResult{true, 0}));
  EXPECT_EQ(cmp(RefPredicate::lt, false, 0x0001, 0x0002), (RefCompareResult{true, 0}));  // subnormals exact
  EXPECT_EQ(cmp(RefPredicate::eq, false, 0x7E00, 0x3C00), (RefCompareResult{false, 0}));
  EXPECT_EQ(cmp(RefPredicate::eq, true, 0x7E00, 0x3C00), (RefCompareResult{false, flag::invalid}));
  // A signaling NaN raises invalid for the quiet predicates too (F16C's widening raises it).
  EXPECT_EQ(cmp(RefPredicate::eq, false, 0x7D00, 0x3C00), (RefCompareResult{false, flag::invalid}));
  EXPECT_EQ(cmp(RefPredicate::unordered, false, 0x3C00, 0xFC01), (RefCompareResult{true, flag::invalid}));
}

std::vector<uint64_t> special_codes(const RefFormat& f, size_t random_count) {
  const bool half = f.bits == 16;
  std::vector<uint64_t> v =
      half ? std::vector<uint64_t>{0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xBC00, 0x3C01, 0x7BFF,
                                   0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7FFF, 0x7D00, 0x7C01, 0xFD00, 0xFC01}
           : std::vector<uint64_t>{0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007FFFFF, 0x00800000, 0x3F800000,
                                   0xBF800000, 0x3F800001, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000,
                                   0xFFC00000, 0x7FFFFFFF, 0x7F800001, 0x7FA00000, 0xFF800001, 0xFFBFFFFF};
  std::mt19937_64 rng(99);
  const uint64_t mask = half ? 0xFFFF : 0xFFFFFFFF;
  for (size_t i = 0; i < random_count; ++i) {
    uint64_t c = rng() & mask;
    if (i % 4 == 0) c = v[i % v.size()] ^ (rng() & 3);  // near a special
    v.push_back(c);
  }
  return v;
}

TEST(HwOracleCompare, Fp32AgainstIeee754Section511) {
  check_compares(ref_format("fp32"), special_codes(ref_format("fp32"), 200));
}
TEST(HwOracleCompare, Fp16AgainstIeee754Section511) {
  check_compares(ref_format("fp16"), special_codes(ref_format("fp16"), 200));
}

// ----------------------------------------------------------- throughput (informational)


}  // namespace
