// Every Berkeley TestFloat vector in tests/data/testfloat (conversions and the
// f16 / f32 operations add sub mul div sqrt mulAdd, every mode) passes:
// result bit for bit (any NaN matches any NaN) and the five IEEE flags
// (shared/conformance/README.md). The vectors are an external, independently
// written oracle (SoftFloat 3e, x86 SSE specialization, tininess after).
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <sstream>
#include <tuple>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/rounding_spec.hpp"
#include "testfloat_check.hpp"
#include "testfloat_command.hpp"

namespace fpsim::cli {
namespace {

namespace fs = std::filesystem;

std::string gunzip(const fs::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw std::runtime_error("cannot open " + path.string());
  std::string text;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(file, buf, sizeof buf)) > 0) text.append(buf, size_t(n));
  gzclose(file);
  return text;
}

struct VectorFile {
  std::string function;
  std::string mode_option;  // "" for exact conversions
  fs::path path;
};

std::vector<VectorFile> vector_files(bool conversions) {
  std::vector<VectorFile> files;
  for (const auto& entry : fs::directory_iterator(fs::path(FPSIM_TEST_DATA_DIR) / "testfloat")) {
    const std::string name = entry.path().filename().string();
    if ((name.find("_to_") != std::string::npos) != conversions || !name.ends_with(".txt.gz")) continue;
    const std::string stem = name.substr(0, name.size() - 7);
    const size_t dot = stem.find('.');
    VectorFile file{stem.substr(0, dot), "", entry.path()};
    if (dot != std::string::npos) file.mode_option.append("-").append(stem, dot + 1);
    files.push_back(file);
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return files;
}

std::vector<VectorFile> conversion_files() { return vector_files(true); }
std::vector<VectorFile> operation_files() { return vector_files(false); }

void PrintTo(const VectorFile& f, std::ostream* os) { *os << f.path.filename().string(); }

class TestFloatConversion : public testing::TestWithParam<VectorFile> {};

TEST_P(TestFloatConversion, AllVectorsPass) {
  const VectorFile& file = GetParam();
  RoundingSpec spec;
  if (!file.mode_option.empty()) {
    ASSERT_EQ(apply_testfloat_option(file.mode_option, spec), TestFloatOption::rounding) << file.mode_option;
  }
  std::istringstream in(gunzip(file.path));
  std::ostringstream report;
  const TestFloatTally tally = check_testfloat_vectors(in, parse_testfloat_function(file.function), spec, report);
  EXPECT_GE(tally.passed, 10000u) << file.path;
  EXPECT_EQ(tally.failed, 0u) << report.str();
  EXPECT_EQ(tally.malformed, 0u) << report.str();
}

class TestFloatOperation : public testing::TestWithParam<VectorFile> {};

TEST_P(TestFloatOperation, AllVectorsPass) {
  const VectorFile& file = GetParam();
  RoundingSpec spec;
  ASSERT_EQ(apply_testfloat_option(file.mode_option, spec), TestFloatOption::rounding) << file.mode_option;
  std::istringstream in(gunzip(file.path));
  std::ostringstream report;
  const TestFloatTally tally = check_testfloat_vectors(in, parse_testfloat_function(file.function), spec, report);
  EXPECT_GE(tally.passed, file.function.ends_with("sqrt") ? 400u : 40000u) << file.path;
  EXPECT_EQ(tally.failed, 0u) << report.str();
  EXPECT_EQ(tally.malformed, 0u) << report.str();
}

TEST(TestFloatData, EveryOperationAndModeIsPresent) {
  // f16 and f32 x add sub mul div sqrt mulAdd x six modes.
  EXPECT_EQ(operation_files().size(), 2u * 6u * 6u);
}

// Wrong operand counts, non-hex tokens, codes too wide for the format and
// comparison results other than 0/1 are malformed lines, each reported with
// its number and content; nothing is skipped silently.
TEST(TestFloatCheck, MalformedOperationLinesAreReportedWithLineNumbers) {
  std::istringstream in(
      "3C00 3C00 4000 00\n"       // 1: f16 1 + 1 = 2, passes
      "3C00 4000 00\n"            // 2: one operand short
      "3C00 3C00 3C00 4000 00\n"  // 3: one operand too many
      "3C00 zz 4000 00\n"         // 4: not hex
      "13C00 3C00 4000 00\n"      // 5: not a 16-bit code
      "3C00 3C00 4000 100\n");    // 6: flags beyond a byte
  std::ostringstream report;
  const TestFloatTally t = check_testfloat_vectors(in, parse_testfloat_function("f16_add"), RoundingSpec{}, report);
  EXPECT_EQ(t.passed, 1u);
  EXPECT_EQ(t.malformed, 5u);
  for (const char* expected :
       {"line 2: malformed vector '3C00 4000 00' (expected: 2 operands in hex, result hex, flags as two hex digits)",
        "line 3: malformed vector '3C00 3C00 3C00 4000 00'", "line 4: malformed vector '3C00 zz 4000 00'",
        "line 5: malformed vector '13C00 3C00 4000 00'", "line 6: malformed vector '3C00 3C00 4000 100'"})
    EXPECT_NE(report.str().find(expected), std::string::npos) << expected << "\n" << report.str();
  std::istringstream cmp("3C00 3C00 2 00\n7E00 3C00 0 00\n7E00 3C00 0 10\n");
  std::ostringstream report2;
  const TestFloatTally t2 =
      check_testfloat_vectors(cmp, parse_testfloat_function("f16_lt"), RoundingSpec{}, report2);
  EXPECT_EQ(t2.malformed, 1u);  // a comparison result must be 0 or 1
  EXPECT_NE(report2.str().find("result 0 or 1"), std::string::npos) << report2.str();
  EXPECT_EQ(t2.failed, 1u);  // lt is signaling: a quiet NaN raises invalid (0x10)
  EXPECT_EQ(t2.passed, 1u);
}

TEST(TestFloatCheck, UnknownFunctionsAreClearErrors) {
  EXPECT_THROW(parse_testfloat_function("f16_frobnicate"), OptionError);
  EXPECT_THROW(parse_testfloat_function("f17_add"), FormatError);
  EXPECT_THROW(parse_testfloat_function("add"), OptionError);
}

// Every function and mode the conformance README lists is present.
TEST(TestFloatData, EveryConversionFunctionAndModeIsPresent) {
  const auto files = conversion_files();
  size_t rounded = 0, exact = 0;
  for (const auto& f : files) (f.mode_option.empty() ? exact : rounded)++;
  EXPECT_EQ(rounded, 4u * 6u);  // f32_to_f16, f32_to_bf16, f64_to_f16, f64_to_f32 in six modes
  EXPECT_EQ(exact, 4u);         // f16_to_f32, bf16_to_f32, f16_to_f64, f32_to_f64
}

// A vector file whose expectations are wrong must fail: the checker is not
// vacuous.
TEST(TestFloatCheck, WrongExpectationsAndMalformedLinesAreCounted) {
  std::istringstream in("3C00 3F800000 00\n3C00 3F800001 00\n3C00 3F800000 01\nnot a vector\n3C00 3F800000\n");
  std::ostringstream report;
  const TestFloatTally t = check_testfloat_vectors(in, parse_testfloat_function("f16_to_f32"), RoundingSpec{}, report);
  EXPECT_EQ(t.passed, 1u);
  EXPECT_EQ(t.failed, 2u);
  EXPECT_EQ(t.malformed, 2u);
  EXPECT_NE(report.str().find("line 4: malformed vector 'not a vector'"), std::string::npos) << report.str();
}

std::string file_test_name(const testing::TestParamInfo<VectorFile>& info) {
  std::string name = info.param.function;
  if (!info.param.mode_option.empty()) name.append("_").append(info.param.mode_option, 1);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Vectors, TestFloatConversion, testing::ValuesIn(conversion_files()), file_test_name);
INSTANTIATE_TEST_SUITE_P(Vectors, TestFloatOperation, testing::ValuesIn(operation_files()), file_test_name);


// `gzip -dc missing.gz | fpsim testfloat f16_add` passed with "0 passed, 0
// failed"; two rounding modes silently took the last (issue 11).
TEST(TestFloatCommand, NoVectorsAndContradictingModesAreUsageErrors) {
  const auto run = [](std::vector<std::string> options, const std::string& input) {
    std::istringstream in(input);
    std::ostringstream out, err;
    const int status = run_testfloat(TestFloatOptions{"f16_add", std::move(options)}, in, out, err);
    return std::make_tuple(status, out.str(), err.str());
  };
  const auto [empty_status, empty_out, empty_err] = run({}, "");
  EXPECT_EQ(empty_status, 2);
  EXPECT_EQ(empty_out, "");
  EXPECT_EQ(empty_err.rfind("fpsim testfloat: no vectors on stdin", 0), 0u) << empty_err;
  const auto [two_status, two_out, two_err] = run({"-rmin", "-rmax"}, "3C00 3C00 4000 00\n");
  EXPECT_EQ(two_status, 2);
  EXPECT_EQ(two_err, "fpsim testfloat: -rmin and -rmax contradict each other (give one rounding mode)\n");
  const auto [ok_status, ok_out, ok_err] = run({"-rmin", "-tininessbefore"}, "3C00 3C00 4000 00\n");
  EXPECT_EQ(ok_status, 0) << ok_err;
  EXPECT_EQ(ok_out, "1 passed, 0 failed\n");
  const auto [bad_status, bad_out, bad_err] = run({"-rfoo"}, "3C00 3C00 4000 00\n");
  EXPECT_EQ(bad_status, 2);
  EXPECT_EQ(bad_err.rfind("fpsim testfloat: unknown testfloat option '-rfoo' (expected one of -rnear_even", 0), 0u)
      << bad_err;
}

}  // namespace
}  // namespace fpsim::cli
