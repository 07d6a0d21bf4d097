// Pins fpsim_ref::FastOracle (the double-arithmetic oracle of `fpsim verify`)
// to things it does not compute itself: every Berkeley TestFloat f16 / f32
// arithmetic vector in tests/data/testfloat, in every mode, and the MPFR
// arithmetic reference (ref_arith, ref_arith_stochastic) on small formats,
// exhaustively where that is cheap and on random operands elsewhere.
#include "fpsim_ref/fast_oracle.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim_ref/reference.hpp"
#include "testfloat_vectors.hpp"

namespace {

using fpsim_ref::FastOracle;
using fpsim_ref::ref_format;
using fpsim_ref::ref_is_nan;
using fpsim_ref::RefFormat;
using fpsim_ref::RefMode;
using fpsim_ref::RefOp;
using fpsim_ref::RefResult;
using fpsim_ref::RefSpec;
namespace flag = fpsim_ref::flag;

int arity(RefOp op) { return op == RefOp::sqrt ? 1 : op == RefOp::fma ? 3 : 2; }

RefSpec with_mode(RefMode m) {
  RefSpec s;
  s.mode = m;
  return s;
}

const char* mode_name(RefMode m) {
  switch (m) {
    case RefMode::rne:
      return "rne";
    case RefMode::rna:
      return "rna";
    case RefMode::rtz:
      return "rtz";
    case RefMode::rup:
      return "rup";
    case RefMode::rdn:
      return "rdn";
    case RefMode::rto:
      return "rto";
  }
  return "?";
}

const char* op_name(RefOp op) {
  switch (op) {
    case RefOp::add:
      return "add";
    case RefOp::sub:
      return "sub";
    case RefOp::mul:
      return "mul";
    case RefOp::div:
      return "div";
    case RefOp::fma:
      return "fma";
    case RefOp::sqrt:
      return "sqrt";
  }
  return "?";
}

const RefMode kAllModes[] = {RefMode::rne, RefMode::rna, RefMode::rtz, RefMode::rup, RefMode::rdn, RefMode::rto};
const RefOp kAllOps[] = {RefOp::add, RefOp::sub, RefOp::mul, RefOp::div, RefOp::fma, RefOp::sqrt};

// ----------------------------------------------------------- TestFloat

using fpsim_ref::test::read_testfloat_vectors;
using fpsim_ref::test::TestFloatFile;
using fpsim_ref::test::TestFloatVector;

class FastOracleTestFloat : public ::testing::TestWithParam<TestFloatFile> {};

TEST_P(FastOracleTestFloat, EveryVectorBitExactWithFlags) {
  const TestFloatFile& c = GetParam();
  const std::string file = c.file_name();
  std::vector<TestFloatVector> vectors;
  ASSERT_TRUE(read_testfloat_vectors(c, &vectors));
  const RefFormat& f = ref_format(c.format);
  const FastOracle oracle(c.func.op, f, f, with_mode(c.mode.mode));  // tininess after rounding, as the vectors
  size_t count = 0, bad = 0;
  for (const TestFloatVector& v : vectors) {
    const RefResult r = oracle(v.operand[0], v.operand[1], v.operand[2]);
    const bool code_ok = ref_is_nan(v.expected, f) ? ref_is_nan(r.code, f) : r.code == v.expected;
    ++count;
    if (!code_ok || (r.flags & 0x1F) != v.flags) {
      if (++bad <= 10)
        ADD_FAILURE() << file << ":" << v.line << ": vector '" << v.text << "' got " << std::hex << r.code << " flags "
                      << r.flags;
    }
  }
  EXPECT_EQ(bad, 0u) << file << ": " << bad << " of " << count << " vectors disagree";
  EXPECT_GE(count, c.min_vectors()) << file;
}

INSTANTIATE_TEST_SUITE_P(AllFiles, FastOracleTestFloat, ::testing::ValuesIn(fpsim_ref::test::testfloat_arith_files()),
                         fpsim_ref::test::testfloat_test_name);

// ----------------------------------------------------------- named cases

RefResult run(RefOp op, const char* fmt, RefSpec spec, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  const RefFormat& f = ref_format(fmt);
  return FastOracle(op, f, f, spec)(a, b, c);
}

TEST(FastOracleNamed, ContractExamples) {
  const RefSpec rne{};
  RefSpec sat{};
  sat.saturate = true;
  // e4m3 1 / 0: inf delivered into a format without inf.
  EXPECT_EQ(run(RefOp::div, "e4m3", rne, 0x38, 0x00), (RefResult{0x7F, flag::infinite | flag::invalid}));
  EXPECT_EQ(run(RefOp::div, "e4m3", sat, 0x38, 0x00), (RefResult{0x7E, flag::infinite | flag::saturated}));
  EXPECT_EQ(run(RefOp::div, "e4m3", rne, 0xB8, 0x00), (RefResult{0xFF, flag::infinite | flag::invalid}));
  // e4m3 448 + 32 = 480: the phantom; rne overflow is NaN (no invalid), rtz gives max.
  EXPECT_EQ(run(RefOp::add, "e4m3", rne, 0x7E, 0x60), (RefResult{0x7F, flag::overflow | flag::inexact}));
  EXPECT_EQ(run(RefOp::add, "e4m3", with_mode(RefMode::rtz), 0x7E, 0x60),
            (RefResult{0x7E, flag::overflow | flag::inexact}));
  // 448 + 16 = 464: the tie between 448 and the phantom 480 goes to 448 (even code 0x7E).
  EXPECT_EQ(run(RefOp::add, "e4m3", rne, 0x7E, 0x58), (RefResult{0x7E, flag::inexact}));
  EXPECT_EQ(run(RefOp::add, "e4m3", with_mode(RefMode::rna), 0x7E, 0x58),
            (RefResult{0x7F, flag::overflow | flag::inexact}));
  EXPECT_EQ(run(RefOp::add, "e4m3", with_mode(RefMode::rto), 0x7E, 0x58),
            (RefResult{0x7E, flag::overflow | flag::inexact}));
  // e2m1: no inf, no NaN. 0/0 -> +max, invalid; 1/0 -> +max, infinite | invalid | saturated.
  EXPECT_EQ(run(RefOp::div, "e2m1", rne, 0x0, 0x0), (RefResult{0x7, flag::invalid}));
  EXPECT_EQ(run(RefOp::div, "e2m1", rne, 0x2, 0x0), (RefResult{0x7, flag::infinite | flag::invalid | flag::saturated}));
  EXPECT_EQ(run(RefOp::div, "e2m1", rne, 0xA, 0x0), (RefResult{0xF, flag::infinite | flag::invalid | flag::saturated}));
  // Signs of zero: x - x = +0, under rdn -0; (+0) + (-0) = +0, rdn -0; (-0) + (-0) = -0.
  EXPECT_EQ(run(RefOp::sub, "fp16", rne, 0x3C00, 0x3C00), (RefResult{0x0000, 0}));
  EXPECT_EQ(run(RefOp::sub, "fp16", with_mode(RefMode::rdn), 0x3C00, 0x3C00), (RefResult{0x8000, 0}));
  EXPECT_EQ(run(RefOp::add, "fp16", rne, 0x0000, 0x8000), (RefResult{0x0000, 0}));
  EXPECT_EQ(run(RefOp::add, "fp16", with_mode(RefMode::rdn), 0x0000, 0x8000), (RefResult{0x8000, 0}));
  EXPECT_EQ(run(RefOp::add, "fp16", with_mode(RefMode::rup), 0x8000, 0x8000), (RefResult{0x8000, 0}));
  EXPECT_EQ(run(RefOp::add, "fp16", with_mode(RefMode::rdn), 0x0000, 0x0000), (RefResult{0x0000, 0}));
  EXPECT_EQ(run(RefOp::fma, "fp16", with_mode(RefMode::rdn), 0x3C00, 0x3C00, 0xBC00), (RefResult{0x8000, 0}));
  EXPECT_EQ(run(RefOp::sqrt, "fp16", rne, 0x8000), (RefResult{0x8000, 0}));
  // fnuz has no -0: x - x is +0 even under rdn.
  EXPECT_EQ(run(RefOp::sub, "e4m3fnuz", with_mode(RefMode::rdn), 0x40, 0x40), (RefResult{0x00, 0}));
  // fma(0, inf, qNaN) raises invalid; sNaN operand raises invalid; qNaN alone does not.
  EXPECT_EQ(run(RefOp::fma, "fp16", rne, 0x0000, 0x7C00, 0x7E00), (RefResult{0x7E00, flag::invalid}));
  EXPECT_EQ(run(RefOp::add, "fp16", rne, 0x7D00, 0x3C00), (RefResult{0x7E00, flag::invalid}));
  EXPECT_EQ(run(RefOp::add, "fp16", rne, 0xFE00, 0x3C00), (RefResult{0x7E00, 0}));
  // docs/formats.md §9.15: fp32 fma(1+2^-23, 1-2^-23, -1) = -2^-46.
  EXPECT_EQ(run(RefOp::fma, "fp32", rne, 0x3F800001, 0x3F7FFFFE, 0xBF800000), (RefResult{0xA8800000, 0}));
  // daz: a subnormal operand reads as zero and raises flushed only.
  RefSpec daz{};
  daz.daz = true;
  EXPECT_EQ(run(RefOp::add, "fp16", daz, 0x0001, 0x0000), (RefResult{0x0000, flag::flushed}));
  EXPECT_EQ(run(RefOp::mul, "fp16", daz, 0x8001, 0x3C00), (RefResult{0x8000, flag::flushed}));
  // ftz: fp16 2^-14 * 0.5 = 2^-15, an exact subnormal, is flushed.
  RefSpec ftz{};
  ftz.ftz = true;
  EXPECT_EQ(run(RefOp::mul, "fp16", ftz, 0x0400, 0x3800),
            (RefResult{0x0000, flag::underflow | flag::inexact | flag::flushed}));
  EXPECT_EQ(run(RefOp::mul, "fp16", RefSpec{}, 0x0400, 0x3800), (RefResult{0x0200, 0}));
  // Tininess: (1 - 2^-10) * 2^-14 (1 + 2^-10) = 2^-14 (1 - 2^-20) lies above 2^-14 (1 - 2^-11), the
  // largest 11-bit value below min normal: rounded (rne, unbounded exponent) it is 2^-14, not tiny;
  // before rounding it is tiny. rtz keeps it below: tiny either way.
  EXPECT_EQ(run(RefOp::mul, "fp16", RefSpec{}, 0x3BFE, 0x0401), (RefResult{0x0400, flag::inexact}));
  RefSpec before{};
  before.tininess_before = true;
  EXPECT_EQ(run(RefOp::mul, "fp16", before, 0x3BFE, 0x0401), (RefResult{0x0400, flag::inexact | flag::underflow}));
  EXPECT_EQ(run(RefOp::mul, "fp16", with_mode(RefMode::rtz), 0x3BFE, 0x0401),
            (RefResult{0x03FF, flag::inexact | flag::underflow}));
  // 2^-14 (1 - 2^-11) itself is an 11-bit value below min normal: tiny after rounding too.
  EXPECT_EQ(run(RefOp::mul, "fp16", RefSpec{}, 0x07FF, 0x3800), (RefResult{0x0400, flag::inexact | flag::underflow}));
}

TEST(FastOracleNamed, SupportsExplainsRefusals) {
  std::string why;
  for (const char* f : {"e8m0", "int8", "ue4m3", "fp64", "e11m2", "e5m30"}) {
    why.clear();
    EXPECT_FALSE(FastOracle::supports(RefOp::add, ref_format(f), ref_format("fp16"), RefSpec{}, &why)) << f;
    EXPECT_FALSE(why.empty()) << f;
    why.clear();
    EXPECT_FALSE(FastOracle::supports(RefOp::add, ref_format("fp16"), ref_format(f), RefSpec{}, &why)) << f;
    EXPECT_FALSE(why.empty()) << f;
  }
  for (const char* f : {"fp32", "tf32", "bf16", "fp16", "e4m3", "e4m3fnuz", "e5m2", "e5m2fnuz", "e3m4", "e2m3", "e3m2",
                        "e2m1", "e6m9", "e9m14", "e4m0fn"}) {
    EXPECT_TRUE(FastOracle::supports(RefOp::fma, ref_format(f), ref_format(f), RefSpec{}, &why)) << f << ": " << why;
  }
  EXPECT_THROW(FastOracle(RefOp::add, ref_format("e8m0"), ref_format("fp16"), RefSpec{}), std::invalid_argument);
  const FastOracle o(RefOp::add, ref_format("e4m3"), ref_format("e4m3"), RefSpec{});
  EXPECT_THROW(o(0x100, 0), std::invalid_argument);
}

// Exact results have equal stochastic candidates; inexact ones differ and bracket rtz.
TEST(FastOracleNamed, StochasticCandidates) {
  const RefFormat& f = ref_format("e4m3");
  for (RefOp op : kAllOps) {
    const FastOracle sr(op, f, f, RefSpec{});
    const FastOracle rtz(op, f, f, with_mode(RefMode::rtz));
    for (uint64_t a = 0; a < 256; ++a)
      for (uint64_t b = 0; b < 256; b += 3) {
        const uint64_t c = (a * 7 + b) & 0xFF;
        const auto [tz, away] = sr.sr_candidates(a, b, c);
        const RefResult t = rtz(a, b, c);
        if (!(t.flags & flag::inexact)) {
          EXPECT_EQ(tz, away) << op_name(op) << " " << a << " " << b;
          EXPECT_EQ(tz.code, t.code) << op_name(op) << " " << a << " " << b;
        } else if (!(t.flags & flag::overflow)) {
          EXPECT_EQ(tz, t) << op_name(op) << " " << a << " " << b;  // toward zero is rtz
        }
      }
  }
  // e4m3 456 (448 + 8): toward zero 448, away 480 overflows (rne row: NaN).
  const auto [tz, away] = FastOracle(RefOp::add, f, f, RefSpec{}).sr_candidates(0x7E, 0x50);
  EXPECT_EQ(tz, (RefResult{0x7E, flag::inexact}));
  EXPECT_EQ(away, (RefResult{0x7F, flag::overflow | flag::inexact}));
  // 448 + 64 = 512 >= phantom: both draws overflow.
  const auto [tz2, away2] = FastOracle(RefOp::add, f, f, RefSpec{}).sr_candidates(0x7E, 0x70);
  EXPECT_EQ(tz2, (RefResult{0x7F, flag::overflow | flag::inexact}));
  EXPECT_EQ(away2, tz2);
  // Exact cancellation under sr gives +0.
  const auto [z1, z2] = FastOracle(RefOp::sub, f, f, with_mode(RefMode::rdn)).sr_candidates(0x40, 0x40);
  EXPECT_EQ(z1, (RefResult{0x00, 0}));
  EXPECT_EQ(z2, z1);
}

// ----------------------------------------------------------- against ref_arith (MPFR)
#if FPSIM_HAVE_REF_ARITH
using fpsim_ref::RefOperand;

struct Mismatch {
  size_t count = 0;
  std::string first;
};

void check(const FastOracle& o, uint64_t a, uint64_t b, uint64_t c, Mismatch& m) {
  const RefOperand ops[3] = {{a, &o.from()}, {b, &o.from()}, {c, &o.from()}};
  const std::span<const RefOperand> sp(ops, static_cast<size_t>(arity(o.op())));
  const RefResult want = fpsim_ref::ref_arith(o.op(), sp, o.to(), o.spec());
  const RefResult got = o(a, b, c);
  if (got != want) {
    if (m.count++ < 5) {
      std::ostringstream s;
      s << std::hex << " [" << a << " " << b << " " << c << ": fast " << got.code << "/" << got.flags << " mpfr "
        << want.code << "/" << want.flags << "]";
      m.first += s.str();
    }
  }
}

std::string spec_name(const RefSpec& s) {
  std::string n = mode_name(s.mode);
  if (s.saturate) n += "+sat";
  if (s.ftz) n += "+ftz";
  if (s.daz) n += "+daz";
  if (s.tininess_before) n += "+before";
  return n;
}

std::vector<RefSpec> specs() {
  std::vector<RefSpec> v;
  for (RefMode m : kAllModes) v.push_back(with_mode(m));
  for (RefMode m : {RefMode::rne, RefMode::rup, RefMode::rto}) {
    RefSpec s = with_mode(m);
    s.saturate = true;
    s.ftz = true;
    v.push_back(s);
    s = with_mode(m);
    s.daz = true;
    s.tininess_before = true;
    v.push_back(s);
  }
  return v;
}

// Every pair (every triple for fma, sqrt every code) of a format with <= 8 bits; random for wider ones.
void against_mpfr(const char* from_name, const char* to_name, size_t random_count) {
  const RefFormat& from = ref_format(from_name);
  const RefFormat& to = ref_format(to_name);
  std::mt19937_64 rng(12345);
  const uint64_t n = from.code_count;
  for (const RefSpec& spec : specs()) {
    for (RefOp op : kAllOps) {
      const FastOracle o(op, from, to, spec);
      Mismatch m;
      if (random_count == 0) {
        if (op == RefOp::sqrt) {
          for (uint64_t a = 0; a < n; ++a) check(o, a, 0, 0, m);
        } else if (op == RefOp::fma && n > 16) {
          for (uint64_t i = 0; i < 65536; ++i) check(o, rng() % n, rng() % n, rng() % n, m);
        } else {
          for (uint64_t a = 0; a < n; ++a)
            for (uint64_t b = 0; b < n; ++b)
              if (op == RefOp::fma)
                for (uint64_t c = 0; c < n; ++c) check(o, a, b, c, m);
              else
                check(o, a, b, 0, m);
        }
      } else {
        // Half the tuples random codes; half with b (and c) a few codes from
        // a, of either sign: operands of near-equal magnitude, where sums
        // cancel and ties and exact results are common.
        for (size_t i = 0; i < random_count; ++i) {
          const uint64_t a = rng() % n;
          if (i % 2 == 0) {
            check(o, a, rng() % n, rng() % n, m);
          } else {
            const auto near = [&] { return ((a + rng() % 129 - 64) ^ (rng() % 2 == 0 ? 0 : n / 2)) % n; };
            const uint64_t b = near();
            check(o, a, b, near(), m);
          }
        }
      }
      EXPECT_EQ(m.count, 0u) << from_name << "->" << to_name << " " << op_name(op) << " " << spec_name(spec) << m.first;
    }
  }
}

TEST(FastOracleVsMpfr, E4m3Exhaustive) { against_mpfr("e4m3", "e4m3", 0); }
TEST(FastOracleVsMpfr, E5m2Exhaustive) { against_mpfr("e5m2", "e5m2", 0); }
TEST(FastOracleVsMpfr, E2m1Exhaustive) { against_mpfr("e2m1", "e2m1", 0); }
TEST(FastOracleVsMpfr, E4m3fnuzExhaustive) { against_mpfr("e4m3fnuz", "e4m3fnuz", 0); }
TEST(FastOracleVsMpfr, E3m2Exhaustive) { against_mpfr("e3m2", "e3m2", 0); }
// The fast oracle carries the exhaustive fp16 and bf16 runs (2^32 pairs per
// mode), so its cross-check with MPFR is 100,000 tuples per op and mode here.
TEST(FastOracleVsMpfr, Bf16Random) { against_mpfr("bf16", "bf16", 100000); }
TEST(FastOracleVsMpfr, Fp16Random) { against_mpfr("fp16", "fp16", 100000); }
TEST(FastOracleVsMpfr, MixedFormatsRandom) {
  against_mpfr("fp16", "e4m3", 3000);
  against_mpfr("bf16", "fp16", 3000);
  against_mpfr("e5m2", "tf32", 3000);  // wide result: quantum arithmetic
  against_mpfr("fp32", "bf16", 3000);
  against_mpfr("e6m12", "e6m9", 3000);  // > 16-bit operands: bit decoding
  against_mpfr("e4m0fn", "e4m0fn", 0);  // M = 0: the code's last bit is the exponent's
  against_mpfr("tf32", "tf32", 3000);
}

// The draws of stochastic rounding against ref_arith_stochastic's two candidates.
TEST(FastOracleVsMpfr, StochasticCandidates) {
  for (const char* name : {"e4m3", "e2m1", "e5m2"}) {
    const RefFormat& f = ref_format(name);
    for (RefOp op : kAllOps) {
      for (bool sat : {false, true}) {
        RefSpec spec{};
        spec.saturate = sat;
        const FastOracle o(op, f, f, spec);
        std::mt19937_64 rng(7);
        size_t bad = 0;
        for (int i = 0; i < 4000; ++i) {
          const uint64_t a = rng() % f.code_count, b = rng() % f.code_count, c = rng() % f.code_count;
          const RefOperand ops[3] = {{a, &f}, {b, &f}, {c, &f}};
          const auto want =
              fpsim_ref::ref_arith_stochastic(op, std::span<const RefOperand>(ops, arity(op)), f, spec, 0);
          const auto [tz, away] = o.sr_candidates(a, b, c);
          if ((tz != want.toward_zero || away != want.away) && bad++ < 3)
            ADD_FAILURE() << name << " " << op_name(op) << std::hex << " " << a << " " << b << " " << c << ": fast "
                          << tz.code << "/" << tz.flags << "," << away.code << "/" << away.flags << " mpfr "
                          << want.toward_zero.code << "/" << want.toward_zero.flags << "," << want.away.code << "/"
                          << want.away.flags;
        }
      }
    }
  }
}
#else
// The cross-check against the MPFR arithmetic reference is what the fast
// oracle's exhaustive claims rest on: a build without it fails instead of
// passing quietly (tests/CMakeLists.txt looks for src/arith.cpp among
// fpsim_reference's sources).
TEST(FastOracleVsMpfr, IsBuilt) {
  FAIL() << "the FastOracle-vs-MPFR cross-check was not compiled: tests/CMakeLists.txt did not find src/arith.cpp "
            "among fpsim_reference's sources (was the file renamed?)";
}
#endif

}  // namespace
