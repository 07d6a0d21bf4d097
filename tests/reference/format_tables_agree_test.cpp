// sim/ and reference/ keep separate transcriptions of the format table
// (docs/architecture.md, "reference/"): a wrong entry cannot hide in both, because this
// test compares them row by row.
#include <gtest/gtest.h>

#include "fpsim/convert.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim_ref/reference.hpp"

namespace fpsim {
namespace {

TEST(FormatTables, SimAndReferenceListTheSameBuiltins) {
  std::vector<std::string> sim_names;
  for (const Format& f : builtin_formats()) sim_names.push_back(f.name);
  EXPECT_EQ(sim_names, fpsim_ref::ref_builtin_names());
}

void expect_same(const Format& f, const fpsim_ref::RefFormat& r) {
  SCOPED_TRACE(f.name);
  EXPECT_EQ(f.bits, r.bits);
  EXPECT_EQ(f.exp_bits, r.exp_bits);
  EXPECT_EQ(f.man_bits, r.man_bits);
  EXPECT_EQ(f.bias, r.bias);
  EXPECT_EQ(f.has_sign, r.has_sign);
  EXPECT_EQ(f.has_inf(), r.has_inf);
  EXPECT_EQ(f.has_nan(), r.has_nan);
  EXPECT_EQ(f.has_negative_zero(), r.has_neg_zero);
  EXPECT_EQ(f.max_code(), r.max_code);
  if (f.has_nan()) {
    EXPECT_EQ(f.nan_code(false), r.nan_code);
  }
  const FormatProperties p = describe(f);
  EXPECT_EQ(p.max_finite, r.max_finite);
  EXPECT_EQ(p.min_normal, r.min_normal);
  EXPECT_EQ(p.min_subnormal, r.min_subnormal);
  if (f.bits <= 16) {
    EXPECT_EQ(f.code_count(), r.code_count);
    for (uint64_t c = 0; c < f.code_count(); ++c) {
      EXPECT_EQ(f.is_nan_code(c), fpsim_ref::ref_is_nan(c, r)) << c;
      if (!f.is_nan_code(c)) {
        EXPECT_EQ(to_double(c, f), fpsim_ref::ref_decode_to_double(c, r)) << c;
      }
    }
  }
}

TEST(FormatTables, EveryBuiltinRowAgrees) {
  for (const Format& f : builtin_formats()) expect_same(f, fpsim_ref::ref_format(f.name));
}

TEST(FormatTables, UserFormatsAndAliasesAgree) {
  for (const char* name : {"e6m9", "e3m2b5", "e5m3fnuz", "e4m0fn", "e11m40", "e2m5fn", "e4m3b7", "E5M2", "bfloat16",
                           "float8_e4m3fnuz", "fp4", "ue8m0"}) {
    expect_same(parse_format(name), fpsim_ref::ref_format(name));
  }
}

}  // namespace
}  // namespace fpsim
