// Generated 8-bit operation tables (fpsim/op_table.hpp) against the core
// they are generated from: every pair of codes, several rounding modes,
// overflow policies and subnormal options, result and flags.
#include "fpsim/op_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format.hpp"

namespace fpsim {
namespace {

constexpr ArithOp kBinaryOps[] = {ArithOp::add, ArithOp::sub, ArithOp::mul, ArithOp::div};

const char* op_name(ArithOp op) {
  switch (op) {
    case ArithOp::add:
      return "add";
    case ArithOp::sub:
      return "sub";
    case ArithOp::mul:
      return "mul";
    case ArithOp::div:
      return "div";
    case ArithOp::fma:
      return "fma";
    case ArithOp::sqrt:
      return "sqrt";
  }
  return "?";
}

std::vector<RoundingSpec> specs() {
  std::vector<RoundingSpec> v;
  RoundingSpec rs;  // rne, ieee
  v.push_back(rs);
  rs.rounding = Rounding::rtz;
  rs.overflow = Overflow::saturate;
  v.push_back(rs);
  rs = RoundingSpec{};
  rs.rounding = Rounding::rdn;  // -0 from exact cancellation
  rs.ftz = true;
  rs.daz = true;
  v.push_back(rs);
  rs = RoundingSpec{};
  rs.rounding = Rounding::rup;
  rs.tininess = Tininess::before;
  rs.overflow = Overflow::saturate;
  v.push_back(rs);
  rs = RoundingSpec{};
  rs.rounding = Rounding::rna;
  v.push_back(rs);
  rs = RoundingSpec{};
  rs.rounding = Rounding::rto;
  v.push_back(rs);
  return v;
}

std::string describe(ArithOp op, const Format& in, const Format& out, const RoundingSpec& rs) {
  return std::string(op_name(op)) + " " + in.name + "->" + out.name + " mode " + std::to_string(int(rs.rounding)) +
         " overflow " + std::to_string(int(rs.overflow)) + (rs.ftz ? " ftz" : "") + (rs.daz ? " daz" : "") +
         (rs.tininess == Tininess::before ? " before" : "");
}

// Every pair of codes: the table's code and flags are the core's.
void expect_table_matches_core(ArithOp op, const Format& in, const Format& out, const RoundingSpec& rs) {
  const BinaryOpTable table(op, in, out, rs);
  const uint64_t n = in.code_count();
  uint64_t mismatches = 0;
  for (uint64_t a = 0; a < n; ++a)
    for (uint64_t b = 0; b < n; ++b) {
      Flags want_fl, got_fl;
      const uint64_t want = arith(op, a, b, 0, in, out, rs, want_fl);
      const uint64_t got = table.apply(a, b, got_fl);
      if (want != got || want_fl.bits != got_fl.bits) {
        if (++mismatches <= 5)
          ADD_FAILURE() << describe(op, in, out, rs) << ": a=" << a << " b=" << b << " table " << got << " flags "
                        << got_fl.bits << ", core " << want << " flags " << want_fl.bits;
      }
    }
  EXPECT_EQ(mismatches, 0u) << describe(op, in, out, rs);
}

TEST(OpTable, EveryPairMatchesTheCore) {
  const Format small[] = {formats::e4m3, formats::e5m2, formats::e4m3fnuz, formats::e5m2fnuz, formats::e3m4,
                          formats::e2m1, formats::e3m2, formats::e2m3,     formats::ue4m3,    formats::e8m0};
  for (const Format& f : small)
    for (ArithOp op : kBinaryOps)
      for (const RoundingSpec& rs : specs()) expect_table_matches_core(op, f, f, rs);
}

TEST(OpTable, MixedInputAndOutputFormats) {
  RoundingSpec rs;
  for (ArithOp op : kBinaryOps) {
    expect_table_matches_core(op, formats::e4m3, formats::e5m2, rs);
    expect_table_matches_core(op, formats::e2m1, formats::e4m3, rs);
    expect_table_matches_core(op, formats::e5m2, formats::e2m1, rs);
  }
}

TEST(OpTable, BulkApplyMatchesScalarLookupAndOrsTheFlags) {
  const BinaryOpTable table(ArithOp::mul, formats::e4m3, RoundingSpec{});
  std::vector<uint8_t> a, b;
  for (unsigned x = 0; x < 256; ++x)
    for (unsigned y = 0; y < 256; y += 7) {
      a.push_back(uint8_t(x));
      b.push_back(uint8_t(y));
    }
  std::vector<uint8_t> out(a.size());
  Flags bulk_fl;
  table.apply(a.data(), b.data(), out.data(), a.size(), bulk_fl);
  Flags want_fl;
  for (size_t i = 0; i < a.size(); ++i) {
    Flags one;
    ASSERT_EQ(out[i], table.apply(a[i], b[i], one)) << i;
    want_fl.raise(one.bits);
  }
  EXPECT_EQ(bulk_fl.bits, want_fl.bits);
  // 448 * 448 overflows e4m3 (no inf): NaN with overflow | invalid | inexact.
  EXPECT_TRUE(bulk_fl.test(Flags::overflow));
}

TEST(OpTable, RejectsStochasticRounding) {
  RoundingSpec rs;
  rs.rounding = Rounding::sr;
  EXPECT_THROW(BinaryOpTable(ArithOp::add, formats::e4m3, rs), OptionError);
  rs.sr_bits = 8;
  EXPECT_THROW(BinaryOpTable(ArithOp::mul, formats::e5m2, rs), OptionError);
}

TEST(OpTable, RejectsWideFormats) {
  const RoundingSpec rs;
  EXPECT_THROW(BinaryOpTable(ArithOp::add, formats::fp16, rs), FormatError);
  EXPECT_THROW(BinaryOpTable(ArithOp::mul, formats::bf16, rs), FormatError);
  EXPECT_THROW(BinaryOpTable(ArithOp::add, formats::e4m3, formats::fp16, rs), FormatError);
  EXPECT_THROW(BinaryOpTable(ArithOp::add, formats::fp32, formats::e4m3, rs), FormatError);
}

TEST(OpTable, RejectsNonBinaryOperations) {
  const RoundingSpec rs;
  EXPECT_THROW(BinaryOpTable(ArithOp::fma, formats::e4m3, rs), OptionError);
  EXPECT_THROW(BinaryOpTable(ArithOp::sqrt, formats::e4m3, rs), OptionError);
}

TEST(OpTable, KnowsItsParameters) {
  RoundingSpec rs;
  rs.rounding = Rounding::rtz;
  const BinaryOpTable table(ArithOp::div, formats::e4m3, formats::e5m2, rs);
  EXPECT_EQ(table.op(), ArithOp::div);
  EXPECT_STREQ(table.input_format().name, "e4m3");
  EXPECT_STREQ(table.output_format().name, "e5m2");
  EXPECT_EQ(table.rounding_spec().rounding, Rounding::rtz);
}

}  // namespace
}  // namespace fpsim
