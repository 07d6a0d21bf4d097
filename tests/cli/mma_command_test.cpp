// `fpsim mma` and the golden-data files (docs/cli.md, tests/data/gpu-golden/README.md), driven
// in-process. The expected results are exact sums worked out by hand: every
// product and partial sum below is exactly representable in FP32 (and FP16),
// so V100's block FMA (docs/mma.md, "Per-GPU parameters and their evidence": n = 4, RZ) adds them without rounding.
// Bit patterns: 0.5 = 0x3f000000, 1 = 0x3f800000, 1.5 = 0x3fc00000,
// 2 = 0x40000000, 3 = 0x40400000, 4 = 0x40800000; the sign bit is 0x80000000.
#include "mma_command.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/mma.hpp"
#include "mma_files.hpp"

namespace fpsim::cli {
namespace {

namespace fs = std::filesystem;

// Three dot products, K = 4 (fp16 values):
//   row 1: 1*1 + 2*1 + 0.5*2 + 0*1       + c 0    = 4
//   row 2: 1.5*2 + (-1)*1 + 0.25*4 + 3*(-1) + c 0.5  = 0.5
//   row 3: 0.5*0.5 * 4                   + c -3   = -2
const char* const kA =
    "3f800000 40000000 3f000000 00000000 \n"
    "3fc00000 bf800000 3e800000 40400000 \n"
    "3f000000 3f000000 3f000000 3f000000 \n";
const char* const kB =
    "3f800000 3f800000 40000000 3f800000\n"
    "40000000 3f800000 40800000 bf800000\n"
    "3f000000 3f000000 3f000000 3f000000\n";
const char* const kC =
    "00000000000000000000000000000000\n"   // 0
    "00111111000000000000000000000000\n"   // 0.5 = 0x3f000000
    "11000000010000000000000000000000\n";  // -3 = 0xc0400000
const char* const kD =
    "01000000100000000000000000000000\n"   // 4 = 0x40800000
    "00111111000000000000000000000000\n"   // 0.5
    "11000000000000000000000000000000\n";  // -2 = 0xc0000000

class MmaCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / (std::string("fpsim_mma_test_") + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  MmaOptions options(const std::string& model = "v100-fp16-fp32") {
    MmaOptions o;
    o.model = model;
    o.k = 4;
    o.a = file("a.txt", kA);
    o.b = file("b.txt", kB);
    o.c = file("c.txt", kC);
    return o;
  }

  struct Outcome {
    int status;
    std::string out, err;
  };
  static Outcome run(const MmaOptions& o) {
    std::ostringstream out, err;
    const int status = run_mma(o, out, err);
    return {status, out.str(), err.str()};
  }

  fs::path dir_;
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(MmaCommand, WritesHandDerivedSumsAsBinaryStrings) {
  const Outcome r = run(options());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kD);
  EXPECT_EQ(r.err, "");
}

TEST_F(MmaCommand, WithoutCTheAccumulatorIsZero) {
  MmaOptions o = options();
  o.c.reset();
  const Outcome r = run(o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "01000000100000000000000000000000\n"    // 4
            "00000000000000000000000000000000\n"    // 3 - 1 + 1 - 3 = exact zero: +0 (docs/mma.md, "The block-FMA model")
            "00111111100000000000000000000000\n");  // 1
}

TEST_F(MmaCommand, FP16OutputIsTheFP16ValueWidened) {
  const Outcome r = run(options("v100-fp16-fp16"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kD);  // 4, 0.5 and -2 are fp16 values
}

TEST_F(MmaCommand, OutFileIsWrittenWhole) {
  MmaOptions o = options();
  o.out = path("d.txt");
  const Outcome r = run(o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  std::ifstream in(*o.out, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), kD);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "b.txt", "c.txt", "d.txt"}));  // no temporary left
}

TEST_F(MmaCommand, RoundTripThroughTheReader) {
  MmaOptions o = options();
  o.out = path("d.txt");
  ASSERT_EQ(run(o).status, 0);
  EXPECT_EQ(read_binary_words(*o.out), (std::vector<uint32_t>{0x40800000, 0x3f000000, 0xc0000000}));
  MmaOptions check = options();
  check.expect = o.out;
  const Outcome r = run(check);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(r.out.ends_with("\n3 passed, 0 failed\n")) << r.out;
}

TEST_F(MmaCommand, ExpectWithOneFlippedBitFailsOneRowByOneUlp) {
  MmaOptions o = options();
  o.expect = file("kernel.txt",
                  "01000000100000000000000000000001\n"  // 0x40800001: 4 + 2^-21, one fp32 ulp above 4
                  "00111111000000000000000000000000\n"
                  "11000000000000000000000000000000\n");
  const Outcome r = run(o);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "fpsim mma: model v100-fp16-fp32, K=4, 3 rows, expected " + *o.expect +
                       "\n"
                       "row 1: expected 0x40800001 (4.0000005), got 0x40800000 (4), 1 ulp (fp32)\n"
                       "  a 3f800000 40000000 3f000000 00000000\n"
                       "  b 3f800000 3f800000 40000000 3f800000\n"
                       "  c 00000000\n"
                       "ULP histogram of the 1 mismatch (fp32 ulps):\n"
                       "  1: 1\n"
                       "  NaN: 0\n"
                       "2 passed, 1 failed\n");
}

TEST_F(MmaCommand, UlpsOfFP16OutputCountFP16Codes) {
  MmaOptions o = options("v100-fp16-fp16");
  // 0x40802000 = 4 + 2^-8: the next fp16 above 4 (fp16 spacing at 4 is 2^(2-10)).
  // 0xc0000001 is not an fp16 value: its distance is counted in fp32.
  o.expect = file("kernel.txt",
                  "01000000100000000010000000000000\n"
                  "00111111000000000000000000000000\n"
                  "11000000000000000000000000000001\n");
  const Outcome r = run(o);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.out, "row 1: expected 0x40802000 (4.0039062), got 0x40800000 (4), 1 ulp (fp16)\n")) << r.out;
  EXPECT_TRUE(contains(r.out,
                       "row 3: expected 0xc0000001 (-2.0000002), got 0xc0000000 (-2), 1 ulp (fp32), counted "
                       "in fp32: the expected value is not an fp16 value\n"))
      << r.out;
  // The histogram titled "(fp16 ulps)" counted the fp32-measured row too
  // (issue 11): each unit has its own histogram now.
  EXPECT_TRUE(r.out.ends_with("ULP histogram of the 1 mismatch (fp16 ulps):\n"
                              "  1: 1\n"
                              "  NaN: 0\n"
                              "ULP histogram of the 1 mismatch whose expected value is not an fp16 value (fp32 ulps):\n"
                              "  1: 1\n"
                              "1 passed, 2 failed\n"))
      << r.out;
}

TEST_F(MmaCommand, HistogramBucketsAndMaxReport) {
  MmaOptions o = options();
  o.max_report = 1;
  o.expect = file("kernel.txt",
                  "01000000100000000000000000000011\n"  // 0x40800003: 3 ulps from 4
                  "01111111100000000000000000000001\n"  // 0x7f800001: a NaN, the model gives 0.5
                  "11000000000000000000000000000000\n");
  const Outcome r = run(o);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.out, "row 1: expected 0x40800003 (4.0000014), got 0x40800000 (4), 3 ulps (fp32)\n")) << r.out;
  EXPECT_FALSE(contains(r.out, "row 2:")) << r.out;
  EXPECT_TRUE(contains(r.out,
                       "(1 more mismatch not shown; --max-report N shows more)\n"
                       "ULP histogram of the 2 mismatches (fp32 ulps):\n"
                       "  1: 0\n"
                       "  2: 0\n"
                       "  3-4: 1\n"
                       "  NaN: 1\n"
                       "1 passed, 2 failed\n"))
      << r.out;
}

TEST_F(MmaCommand, NaNMismatchAndNaNPayloads) {
  MmaOptions o = options();
  // Row 1 becomes inf * 0 = NaN (docs/mma.md, "The block-FMA model": 0*inf among the products -> NaN).
  o.a = file("a_nan.txt",
             "7f800000 40000000 3f000000 00000000\n"
             "3fc00000 bf800000 3e800000 40400000\n"
             "3f000000 3f000000 3f000000 3f000000\n");
  o.b = file("b_nan.txt",
             "00000000 3f800000 40000000 3f800000\n"
             "40000000 3f800000 40800000 bf800000\n"
             "3f000000 3f000000 3f000000 3f000000\n");
  o.expect = file("kernel.txt",
                  "01111111100000000000000000000001\n"  // 0x7f800001: a signalling NaN no model writes
                  "01111111110000000000000000000000\n"  // 0x7fc00000 where the model gives 0.5
                  "11000000000000000000000000000000\n");
  o.max_report = 100;
  Outcome r = run(o);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.out, "row 1: expected 0x7f800001 (nan), got 0x")) << r.out;
  EXPECT_TRUE(contains(r.out, "NaN payload differs\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "row 2: expected 0x7fc00000 (nan), got 0x3f000000 (0.5), NaN mismatch\n")) << r.out;
  EXPECT_TRUE(r.out.ends_with("  NaN: 2\n1 passed, 2 failed\n")) << r.out;
  o.any_nan = true;
  r = run(o);
  EXPECT_TRUE(r.out.ends_with("  NaN: 1\n2 passed, 1 failed\n")) << r.out;
}

TEST_F(MmaCommand, SignOfZeroIsAMismatchOfZeroUlps) {
  MmaOptions o = options();
  o.c.reset();  // row 2 is then an exact zero, +0 (docs/mma.md, "The block-FMA model")
  o.expect = file("kernel.txt",
                  "01000000100000000000000000000000\n"
                  "10000000000000000000000000000000\n"  // -0
                  "00111111100000000000000000000000\n");
  const Outcome r = run(o);
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.out, "row 2: expected 0x80000000 (-0), got 0x00000000 (0), 0 ulp (the sign of zero differs)"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "  0 (sign of zero): 1\n  NaN: 0\n2 passed, 1 failed\n")) << r.out;
}

// Bad input: one line on stderr naming the file, the line and what was
// expected; nothing on stdout; exit status 2.
class MmaBadInput : public MmaCommand {
 protected:
  void expect_error(const MmaOptions& o, const std::string& message, int status = 2) {
    const Outcome r = run(o);
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "fpsim mma: " + message + "\n");
  }
};

TEST_F(MmaBadInput, WrongNumberOfColumns) {
  MmaOptions o = options();
  o.a = file("a.txt", "3f800000 40000000 3f000000 00000000\n3fc00000 bf800000 3e800000\n");
  expect_error(o, *o.a + " line 2: expected K=4 hex values, got 3");
}

TEST_F(MmaBadInput, KThatDoesNotMatchTheFiles) {
  MmaOptions o = options();
  o.k = 8;
  expect_error(o, *o.a + " line 1: expected K=8 hex values, got 4");
}

TEST_F(MmaBadInput, EmptyLineInsideTheFile) {
  MmaOptions o = options();
  o.b = file("b.txt", "3f800000 3f800000 40000000 3f800000\n\n3f000000 3f000000 3f000000 3f000000\n");
  expect_error(o, *o.b + " line 2: expected K=4 hex values, got 0 (an empty line)");
}

TEST_F(MmaBadInput, NonHexTokenIsQuotedWithItsColumn) {
  MmaOptions o = options();
  o.b = file("b.txt",
             "3f800000 3f800000 40000000 3f800000\n"
             "40000000 3f80zz00 40800000 bf800000\n"
             "3f000000 3f000000 3f000000 3f000000\n");
  expect_error(o, *o.b +
                      " line 2, column 10 (value 2): '3f80zz00' is not a hex FP32 encoding (expected up to 8 hex "
                      "digits, optionally after 0x)");
}

TEST_F(MmaBadInput, HexTokenWiderThanFP32) {
  MmaOptions o = options();
  o.a = file("a.txt", "3f800000 40000000 3f000000 100000000\n");
  expect_error(o, *o.a +
                      " line 1, column 28 (value 4): '100000000' is not a hex FP32 encoding (expected up to 8 "
                      "hex digits, optionally after 0x)");
}

TEST_F(MmaBadInput, BinaryStringOfWrongLength) {
  MmaOptions o = options();
  o.c = file("c.txt",
             "00000000000000000000000000000000\n"
             "0011111100000000000000000000000\n"
             "11000000010000000000000000000000\n");
  expect_error(o, *o.c +
                      " line 2: expected a 32-character binary string of 0s and 1s (an FP32 bit pattern), got "
                      "31 characters");
}

TEST_F(MmaBadInput, BinaryStringWithAnotherCharacter) {
  MmaOptions o = options();
  o.expect = file("d.txt",
                  "01000000100000000000000000000000\n"
                  "00112111000000000000000000000000\n"
                  "11000000000000000000000000000000\n");
  expect_error(o, *o.expect +
                      " line 2: expected a 32-character binary string of 0s and 1s (an FP32 bit pattern), "
                      "got '00112111000000000000000000000000' (character 5 is '2')");
}

TEST_F(MmaBadInput, FilesWithDifferentRowCounts) {
  MmaOptions o = options();
  o.b = file("b.txt", "3f800000 3f800000 40000000 3f800000\n40000000 3f800000 40800000 bf800000\n");
  expect_error(o, *o.b + " has 2 rows, " + *o.a + " has 3 (every file holds one row per dot product; " + *o.b +
                      " line 3 is missing)");
  o = options();
  o.c = file("c.txt", std::string(kC) + "00000000000000000000000000000000\n00000000000000000000000000000000\n");
  expect_error(o, *o.c + " has 5 rows, " + *o.a + " has 3 (every file holds one row per dot product; the rows from " +
                      *o.c + " line 4 on are extra)");
}

TEST_F(MmaBadInput, InputThatIsNotAValueOfThePresetsFormat) {
  MmaOptions o = options();
  // 0x3f800001 = 1 + 2^-23 needs 23 fraction bits: not an fp16 value.
  o.a = file("a.txt",
             "3f800000 40000000 3f000000 00000000\n"
             "3fc00000 bf800000 3f800001 40400000\n"
             "3f000000 3f000000 3f000000 3f000000\n");
  expect_error(o, *o.a +
                      " line 2, value 3: 0x3f800001 (1.0000001) is not an fp16 value (preset 'v100-fp16-fp32' "
                      "takes fp16 A operands, already rounded)");
}

TEST_F(MmaBadInput, UnknownPresetListsTheKnownOnes) {
  MmaOptions o = options("h100-fp17-fp32");
  const Outcome r = run(o);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.starts_with("fpsim mma: unknown MMA preset 'h100-fp17-fp32'; known: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "h100-fp16-fp32")) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line";
}

TEST_F(MmaBadInput, MissingOptions) {
  MmaOptions o = options();
  o.model.clear();
  expect_error(o, "--model PRESET is required (fpsim mma --list shows the presets)");
  o = options();
  o.k.reset();
  expect_error(o, "--k K is required (values per row of the A and B files)");
  o = options();
  o.k = 0;
  expect_error(o, "--k 0: expected a whole number from 1 to 16777216");
  o = options();
  o.out = path("d.txt");
  o.expect = file("e.txt", kD);
  expect_error(o, "--out and --expect exclude each other (--expect compares instead of writing D)");
}

TEST_F(MmaBadInput, MissingFileIsAnIoFailure) {
  MmaOptions o = options();
  o.b = path("none.txt");
  expect_error(o, "cannot open " + *o.b + ": No such file or directory", 1);
}

// --- the reader on its own

TEST(MmaFiles, AcceptsTheGoldenFileStyleAndItsVariants) {
  // Trailing blanks (as in the golden files), 0x prefixes, upper case, CRLF,
  // fewer than 8 digits and blank lines at the end.
  const auto rows = parse_hex_rows("3f7aa000 3f87c000 \r\n0X3F800000\t0x0\nBF800000 1\n\n  \n", "x", 2);
  EXPECT_EQ(rows, (std::vector<std::vector<uint32_t>>{{0x3f7aa000, 0x3f87c000}, {0x3f800000, 0}, {0xbf800000, 1}}));
  const auto words =
      parse_binary_words("00111111100000000000000000000000\r\n  10000000000000000000000000000001 \n\n", "y");
  EXPECT_EQ(words, (std::vector<uint32_t>{0x3f800000, 0x80000001}));
}

TEST(MmaFiles, KZeroTakesTheFirstRowsLength) {
  EXPECT_EQ(parse_hex_rows("1 2 3\n4 5 6\n", "x", 0).size(), 2u);
  EXPECT_THROW(
      {
        try {
          parse_hex_rows("1 2 3\n4 5\n", "x", 0);
        } catch (const ParseError& e) {
          EXPECT_STREQ(e.what(), "x line 2: expected K=3 hex values, got 2");
          throw;
        }
      },
      ParseError);
}

TEST(MmaFiles, EmptyFileIsAnError) {
  EXPECT_THROW(parse_hex_rows("\n\n", "x", 4), ParseError);
  EXPECT_THROW(parse_binary_words("", "y"), ParseError);
}

TEST(MmaFiles, BinaryWordIsMostSignificantBitFirst) {
  EXPECT_EQ(binary_word(0x80000001), "10000000000000000000000000000001");
  EXPECT_EQ(binary_word(0x3f800000), "00111111100000000000000000000000");
  const std::vector<uint32_t> words = {0, 0xffffffff};
  EXPECT_EQ(binary_words_text(words), "00000000000000000000000000000000\n11111111111111111111111111111111\n");
}

TEST_F(MmaCommand, ReadsGzipFilesTransparently) {
  auto gzip = [&](const std::string& name, const std::string& content) {
    const std::string p = path(name);
    gzFile f = gzopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(gzwrite(f, content.data(), unsigned(content.size())), int(content.size()));
    gzclose(f);
    return p;
  };
  MmaOptions o = options();
  o.a = gzip("a.txt.gz", kA);
  o.c = gzip("c.bin", kC);  // by content, not by name
  o.expect = gzip("d.txt.gz", kD);
  const Outcome r = run(o);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(r.out.ends_with("\n3 passed, 0 failed\n")) << r.out;
}

TEST(MmaList, EveryPresetWithItsMarkerAndDescription) {
  MmaOptions o;
  o.list = true;
  std::ostringstream out, err;
  EXPECT_EQ(run_mma(o, out, err), 0);
  EXPECT_EQ(err.str(), "");
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  auto line_of = [&](const std::string& name) {
    for (const std::string& l : lines)
      if (l.starts_with(name + " ")) return l;
    return std::string("(missing)");
  };
  // The B200 FP8 fit is unverified (docs/mma.md, "Per-GPU parameters and their evidence" and Q8); V100 fp16 is
  // matched by the golden data (§7).
  EXPECT_TRUE(contains(line_of("b200-e4m3-fp32"), " unverified ")) << line_of("b200-e4m3-fp32");
  EXPECT_TRUE(contains(line_of("b200-e5m2-fp32"), " unverified ")) << line_of("b200-e5m2-fp32");
  EXPECT_TRUE(contains(line_of("v100-fp16-fp32"), " verified ")) << line_of("v100-fp16-fp32");
  // The fp32-* orders are fpsim's definitions, measured nowhere.
  EXPECT_TRUE(contains(line_of("fp32-pairwise"), " definition ")) << line_of("fp32-pairwise");
  EXPECT_TRUE(contains(line_of("amx-bf16-fp32"), " verified ")) << line_of("amx-bf16-fp32");
  for (const char* name : {"a100-bf16-fp32", "l40s-e4m3-fp32", "h100-e4m3-fp32", "h200-tf32-fp32", "ada-fp16-fp16",
                           "fp32-sequential", "fp32-pairwise", "fp32-fma-blocked"})
    EXPECT_NE(line_of(name), "(missing)") << name;
  for (const MmaModel& m : mma_presets()) EXPECT_TRUE(contains(line_of(m.name), describe_mma_model(m))) << m.name;
  EXPECT_EQ(lines.size(), mma_presets().size());
  o.model = "v100-fp16-fp32";
  std::ostringstream out2, err2;
  EXPECT_EQ(run_mma(o, out2, err2), 2);
  EXPECT_EQ(err2.str(), "fpsim mma: --list takes no other options\n");
}

}  // namespace
}  // namespace fpsim::cli
