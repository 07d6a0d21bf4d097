// Test helper: Berkeley TestFloat's f16 / f32 arithmetic vector files in
// tests/data/testfloat (FPSIM_TESTFLOAT_DIR, set per test target): which files
// there are (f16 / f32 x add sub mul div sqrt mulAdd x the six rounding modes),
// gtest parameters naming them, and a reader for one file.
//
// A file's lines are "a [b [c]] result flags" in hex, as testfloat_gen writes
// them. The reader turns every line into a TestFloatVector; a line that is not
// that (wrong field count, a field that is not hex, an overlong field) makes
// the read fail with the file, the line number and the line, so a damaged
// file fails its test instead of being checked in part.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fpsim_ref/reference.hpp"

#ifndef FPSIM_TESTFLOAT_DIR
#error "FPSIM_TESTFLOAT_DIR must name tests/data/testfloat (target_compile_definitions)"
#endif

namespace fpsim_ref::test {

// TestFloat's name for a rounding mode: the suffix of its file names.
struct TestFloatMode {
  RefMode mode;
  const char* suffix;
};
inline constexpr TestFloatMode kTestFloatModes[] = {{RefMode::rne, "rnear_even"}, {RefMode::rna, "rnear_maxMag"},
                                                    {RefMode::rtz, "rminMag"},    {RefMode::rup, "rmax"},
                                                    {RefMode::rdn, "rmin"},       {RefMode::rto, "rodd"}};

// TestFloat's name for an operation.
struct TestFloatFunc {
  RefOp op;
  const char* name;
};
inline constexpr TestFloatFunc kTestFloatFuncs[] = {{RefOp::add, "add"}, {RefOp::sub, "sub"},   {RefOp::mul, "mul"},
                                                    {RefOp::div, "div"}, {RefOp::sqrt, "sqrt"}, {RefOp::fma, "mulAdd"}};

// One arithmetic vector file, e.g. f16_add.rnear_even.txt.gz; a test parameter.
struct TestFloatFile {
  const char* tf_format;  // "f16", "f32": TestFloat's name
  const char* format;     // "fp16", "fp32": ref_format's name
  TestFloatFunc func;
  TestFloatMode mode;

  // Operands per vector: 1 (sqrt), 3 (mulAdd) or 2.
  int arity() const { return func.op == RefOp::sqrt ? 1 : func.op == RefOp::fma ? 3 : 2; }
  // "f16_add.rnear_even.txt.gz"
  std::string file_name() const {
    std::string s(tf_format);
    s.append("_").append(func.name).append(".").append(mode.suffix).append(".txt.gz");
    return s;
  }
  std::string path() const {
    std::string s(FPSIM_TESTFLOAT_DIR);
    s.append("/").append(file_name());
    return s;
  }
  // The fewest vectors a whole file has: fewer means a truncated or wrong file.
  std::size_t min_vectors() const { return func.op == RefOp::sqrt ? 300u : 40000u; }
  // "f16_add_rnear_even": a gtest parameter name.
  std::string test_name() const {
    std::string s(tf_format);
    s.append("_").append(func.name).append("_").append(mode.suffix);
    return s;
  }
};

// Readable parameters in test listings: "f16_add rnear_even".
inline void PrintTo(const TestFloatFile& f, std::ostream* os) {
  *os << f.tf_format << "_" << f.func.name << " " << f.mode.suffix;
}

// The name generator for INSTANTIATE_TEST_SUITE_P: "f16_add_rnear_even".
inline std::string testfloat_test_name(const ::testing::TestParamInfo<TestFloatFile>& info) {
  return info.param.test_name();
}

// Every f16 / f32 arithmetic file, f16 first, in the modes given (all six when
// none are): 72 files, or 12 per mode.
inline std::vector<TestFloatFile> testfloat_arith_files(std::initializer_list<RefMode> modes = {}) {
  std::vector<TestFloatFile> v;
  for (const char* f : {"f16", "f32"})
    for (const TestFloatFunc& fn : kTestFloatFuncs)
      for (const TestFloatMode& m : kTestFloatModes) {
        bool wanted = modes.size() == 0;
        for (RefMode w : modes) wanted = wanted || w == m.mode;
        if (wanted) v.push_back({f, f[1] == '1' ? "fp16" : "fp32", fn, m});
      }
  return v;
}

// One line of a file.
struct TestFloatVector {
  uint64_t operand[3] = {};  // the unused ones 0
  uint64_t expected = 0;     // the result's code
  uint32_t flags = 0;        // TestFloat's flags: inexact 1, underflow 2, overflow 4, infinite 8, invalid 16
  std::size_t line = 0;      // 1-based line number in the file
  std::string text;          // the line as written, without its line end
};

namespace detail {

// "field 3 is not hex": built by appending (GCC 12 -Wrestrict and "literal" + std::string).
inline std::string field_problem(std::size_t field, const char* what) {
  std::string s("field ");
  s.append(std::to_string(field)).append(" ").append(what);
  return s;
}

// Splits a line into whitespace-separated hex fields; false (with why) when a
// field is not hex or does not fit 64 bits.
inline bool parse_hex_fields(std::string_view s, std::vector<uint64_t>& out, std::string& why) {
  const auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; };
  out.clear();
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && space(s[i])) ++i;
    if (i == s.size()) return true;
    uint64_t x = 0;
    std::size_t digits = 0;
    for (; i < s.size() && !space(s[i]); ++i, ++digits) {
      const char ch = s[i];
      int d = 0;
      if (ch >= '0' && ch <= '9')
        d = ch - '0';
      else if (ch >= 'a' && ch <= 'f')
        d = ch - 'a' + 10;
      else if (ch >= 'A' && ch <= 'F')
        d = ch - 'A' + 10;
      else {
        why = field_problem(out.size() + 1, "is not hex");
        return false;
      }
      if (digits == 16) {
        why = field_problem(out.size() + 1, "has more than 16 hex digits");
        return false;
      }
      x = x << 4 | static_cast<uint64_t>(d);
    }
    out.push_back(x);
  }
}

// Reads one line (without its line end) of any length; false at the end of the file.
inline bool read_line(gzFile gz, std::string& line) {
  char buf[256];
  line.clear();
  bool got = false;
  while (gzgets(gz, buf, sizeof buf) != nullptr) {
    got = true;
    line += buf;
    if (line.back() == '\n') break;
  }
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return got;
}

}  // namespace detail

// Reads every vector of `file` into `out` (cleared first). Blank lines are
// skipped. Fails, saying where, when the file cannot be opened or read to its
// end, or when a line is not arity() operands, a result and flags in hex.
// Use as ASSERT_TRUE(read_testfloat_vectors(file, &vectors)).
inline ::testing::AssertionResult read_testfloat_vectors(const TestFloatFile& file, std::vector<TestFloatVector>* out) {
  out->clear();
  const std::string path = file.path();
  const std::string name = file.file_name();
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) return ::testing::AssertionFailure() << "cannot open " << path;
  const auto fields_wanted = static_cast<std::size_t>(file.arity() + 2);
  std::vector<uint64_t> fields;
  std::string line, why;
  std::size_t number = 0;
  while (detail::read_line(gz, line)) {
    ++number;
    bool ok = detail::parse_hex_fields(line, fields, why);
    if (ok && fields.empty()) continue;  // a blank line
    if (ok && fields.size() != fields_wanted) {
      ok = false;
      why = std::to_string(fields.size());
      why.append(" fields, ").append(std::to_string(fields_wanted)).append(" expected");
    }
    if (!ok) {
      gzclose(gz);
      out->clear();
      return ::testing::AssertionFailure()
             << name << ":" << number << ": malformed line '" << line << "' (" << why << ")";
    }
    TestFloatVector v;
    for (std::size_t i = 0; i + 2 < fields_wanted; ++i) v.operand[i] = fields[i];
    v.expected = fields[fields_wanted - 2];
    v.flags = static_cast<uint32_t>(fields[fields_wanted - 1]);
    v.line = number;
    v.text = line;
    out->push_back(std::move(v));
  }
  int err = Z_OK;
  const char* msg = gzerror(gz, &err);
  const std::string zmsg = msg != nullptr ? msg : "";
  gzclose(gz);
  if (err != Z_OK && err != Z_STREAM_END) {
    out->clear();
    return ::testing::AssertionFailure() << name << ": read error after line " << number << ": " << zmsg;
  }
  return ::testing::AssertionSuccess() << name << ": " << out->size() << " vectors";
}

}  // namespace fpsim_ref::test
