// fpsim/gpu/golden_dump.hpp, the dumper a kernel engineer copies into their
// own host code (docs/gpu.md, "Your own kernel"): the files it writes are read
// by `fpsim mma --expect` (run in-process through run_mma) and pass against
// the model that computed D, and a one-bit change of one D is reported as one
// failure on the right row.
#include "fpsim/gpu/golden_dump.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/mma.hpp"
#include "mma_command.hpp"

namespace fpsim::gpu {
namespace {

namespace fs = std::filesystem;

// A made-up GEMM: M = 3, N = 5, K = 40 (two and a half blocks of the H100's
// 16, so the files exercise the chaining and the short last block), fp16
// operands of mixed exponents (integers of at most 11 bits over powers of
// two: fp16 values by construction), non-zero FP32 C; D from the model.
struct Gemm {
  int m = 3, n = 5, k = 40;
  std::vector<float> a, b, c, d;
};

Gemm make_gemm(const MmaModel& model) {
  Gemm g;
  uint64_t state = 0x9e3779b97f4a7c15u;
  const auto next = [&state] {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return uint32_t(state >> 33);
  };
  const auto fp16_value = [&next] {
    const int significand = int(next() % 2047) - 1023;  // |s| < 2^10
    const int exponent = int(next() % 12);               // 2^-10 .. 2^-21 scale
    return float(significand) / float(1 << (10 + exponent / 2)) / float(1 << (exponent - exponent / 2));
  };
  for (int i = 0; i < g.m * g.k; ++i) g.a.push_back(fp16_value());
  for (int i = 0; i < g.k * g.n; ++i) g.b.push_back(fp16_value());
  for (int i = 0; i < g.m * g.n; ++i) g.c.push_back(float(int(next() % 2001) - 1000) / 997.0f);
  g.d.assign(size_t(g.m * g.n), 0.0f);
  mma_gemm(model, g.m, g.n, g.k, g.a, g.b, g.c, g.d);
  return g;
}

GoldenGemm view(const Gemm& g) {
  GoldenGemm v;
  v.m = g.m;
  v.n = g.n;
  v.k = g.k;
  v.a = g.a.data();
  v.b = g.b.data();
  v.c = g.c.data();
  v.d = g.d.data();
  return v;
}

std::string hex8(float x) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", std::bit_cast<uint32_t>(x));
  return buf;
}

std::string binary32(float x) {
  std::string s;
  for (int i = 31; i >= 0; --i) s += ((std::bit_cast<uint32_t>(x) >> i) & 1) ? '1' : '0';
  return s;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

class GoldenDump : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / (std::string("fpsim_golden_dump_test_") + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  struct Outcome {
    int status;
    std::string out, err;
  };
  // `fpsim mma --model h100-fp16-fp32 --k K --a .. --b .. --c .. --expect ..`
  static Outcome expect(const GoldenFiles& f, int k, const std::string& model = "h100-fp16-fp32") {
    cli::MmaOptions o;
    o.model = model;
    o.k = k;
    o.a = f.a;
    o.b = f.b;
    o.c = f.c;
    o.expect = f.d;
    std::ostringstream out, err;
    const int status = cli::run_mma(o, out, err);
    return {status, out.str(), err.str()};
  }

  fs::path dir_;
  const MmaModel model_ = mma_preset("h100-fp16-fp32");
};

TEST_F(GoldenDump, EveryOutputPassesAgainstTheModelThatComputedIt) {
  const Gemm g = make_gemm(model_);
  const GoldenFiles f = golden_files_in(dir_.string());
  const GoldenDumpResult r = write_golden_files(f, view(g));
  ASSERT_TRUE(r) << r.message;
  EXPECT_EQ(r.rows, 15u);
  EXPECT_EQ(r.message, "");
  const Outcome o = expect(f, g.k);
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("15 passed, 0 failed\n"), std::string::npos) << o.out;
  EXPECT_EQ(o.err, "");
}

TEST_F(GoldenDump, OneFlippedBitOfOneOutputIsOneFailureOnItsRow) {
  Gemm g = make_gemm(model_);
  // D[1][2] is row 1·5 + 2 = 7, line 8: fpsim's "row 8".
  g.d[7] = std::bit_cast<float>(std::bit_cast<uint32_t>(g.d[7]) ^ 1u);
  const GoldenFiles f = golden_files_in(dir_.string() + "/");  // a trailing slash is fine
  ASSERT_TRUE(write_golden_files(f, view(g)));
  EXPECT_EQ(f.d, (dir_ / "d.txt").string());
  const Outcome o = expect(f, g.k);
  EXPECT_EQ(o.status, 1) << o.out << o.err;
  EXPECT_NE(o.out.find("14 passed, 1 failed\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("\nrow 8: expected 0x" + hex8(g.d[7])), std::string::npos) << o.out;
  EXPECT_EQ(count(o.out, "\nrow "), 1u) << o.out;
  EXPECT_NE(o.out.find("1 ulp (fp32)"), std::string::npos) << o.out;
  EXPECT_EQ(lines_of(f.rows)[7], "1 2");
}

TEST_F(GoldenDump, RowsHoldTheARowTheBColumnCAndD) {
  const Gemm g = make_gemm(model_);
  const GoldenFiles f = golden_files_in(dir_.string());
  ASSERT_TRUE(write_golden_files(f, view(g)));
  const std::vector<std::string> a = lines_of(f.a), b = lines_of(f.b), c = lines_of(f.c), d = lines_of(f.d),
                                 rows = lines_of(f.rows);
  ASSERT_EQ(a.size(), 15u);
  ASSERT_EQ(b.size(), 15u);
  ASSERT_EQ(c.size(), 15u);
  ASSERT_EQ(d.size(), 15u);
  ASSERT_EQ(rows.size(), 15u);
  for (int i = 0; i < g.m; ++i)
    for (int j = 0; j < g.n; ++j) {
      const size_t r = size_t(i * g.n + j);
      std::string a_row, b_col;
      for (int s = 0; s < g.k; ++s) {
        if (s) {
          a_row += ' ';
          b_col += ' ';
        }
        a_row += hex8(g.a[size_t(i * g.k + s)]);
        b_col += hex8(g.b[size_t(s * g.n + j)]);
      }
      EXPECT_EQ(a[r], a_row) << r;
      EXPECT_EQ(b[r], b_col) << r;
      EXPECT_EQ(c[r], binary32(g.c[r])) << r;
      EXPECT_EQ(d[r], binary32(g.d[r])) << r;
      EXPECT_EQ(rows[r], std::to_string(i) + " " + std::to_string(j)) << r;
    }
}

TEST_F(GoldenDump, ASubsetOfOutputsInTheGivenOrder) {
  const Gemm g = make_gemm(model_);
  GoldenFiles f = golden_files_in(dir_.string());
  const GoldenDumpResult r = write_golden_files(f, view(g), {{2, 4}, {0, 0}, {1, 3}});
  ASSERT_TRUE(r) << r.message;
  EXPECT_EQ(r.rows, 3u);
  EXPECT_EQ(lines_of(f.rows), (std::vector<std::string>{"2 4", "0 0", "1 3"}));
  EXPECT_EQ(lines_of(f.d), (std::vector<std::string>{binary32(g.d[14]), binary32(g.d[0]), binary32(g.d[8])}));
  const Outcome o = expect(f, g.k);
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("3 passed, 0 failed\n"), std::string::npos) << o.out;
}

TEST_F(GoldenDump, LeadingDimensionsAndATransposedBWriteTheSameFiles) {
  const Gemm g = make_gemm(model_);
  const GoldenFiles packed = golden_files_in((dir_ / "packed").string());
  const GoldenFiles strided = golden_files_in((dir_ / "strided").string());
  fs::create_directories(dir_ / "packed");
  fs::create_directories(dir_ / "strided");
  ASSERT_TRUE(write_golden_files(packed, view(g)));
  // A with 3 padding columns, B stored N×K ("TN") with 1, C and D with 2.
  const size_t lda = size_t(g.k) + 3, ldb = size_t(g.k) + 1, ldc = size_t(g.n) + 2;
  std::vector<float> a(size_t(g.m) * lda, -7.0f), bt(size_t(g.n) * ldb, -7.0f), c(size_t(g.m) * ldc, -7.0f),
      d(size_t(g.m) * ldc, -7.0f);
  for (int i = 0; i < g.m; ++i)
    for (int s = 0; s < g.k; ++s) a[size_t(i) * lda + size_t(s)] = g.a[size_t(i * g.k + s)];
  for (int s = 0; s < g.k; ++s)
    for (int j = 0; j < g.n; ++j) bt[size_t(j) * ldb + size_t(s)] = g.b[size_t(s * g.n + j)];
  for (int i = 0; i < g.m; ++i)
    for (int j = 0; j < g.n; ++j) {
      c[size_t(i) * ldc + size_t(j)] = g.c[size_t(i * g.n + j)];
      d[size_t(i) * ldc + size_t(j)] = g.d[size_t(i * g.n + j)];
    }
  GoldenGemm v = view(g);
  v.a = a.data();
  v.b = bt.data();
  v.c = c.data();
  v.d = d.data();
  v.lda = lda;
  v.ldb = ldb;
  v.ldc = v.ldd = ldc;
  v.b_transposed = true;
  ASSERT_TRUE(write_golden_files(strided, v));
  for (auto [p, s] : {std::pair{packed.a, strided.a}, {packed.b, strided.b}, {packed.c, strided.c},
                      {packed.d, strided.d}, {packed.rows, strided.rows}})
    EXPECT_EQ(lines_of(p), lines_of(s)) << s;
}

TEST_F(GoldenDump, WithoutCTheCFileHoldsZerosAndRowsIsOptional) {
  Gemm g = make_gemm(model_);
  g.c.clear();
  mma_gemm(model_, g.m, g.n, g.k, g.a, g.b, g.c, g.d);  // C empty: zero
  GoldenGemm v = view(g);
  v.c = nullptr;
  GoldenFiles f = golden_files_in(dir_.string());
  f.rows.clear();
  ASSERT_TRUE(write_golden_files(f, v));
  EXPECT_FALSE(fs::exists(dir_ / "rows.txt"));
  EXPECT_EQ(lines_of(f.c), std::vector<std::string>(15, std::string(32, '0')));
  const Outcome o = expect(f, g.k);
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("15 passed, 0 failed\n"), std::string::npos) << o.out;
}

TEST_F(GoldenDump, ProblemsAreReportedByValueWithAMessage) {
  const Gemm g = make_gemm(model_);
  const std::string missing = (dir_ / "no-such-dir").string();
  GoldenDumpResult r = write_golden_files(golden_files_in(missing), view(g));
  EXPECT_FALSE(r);
  EXPECT_EQ(r.message, "cannot open " + missing + "/a.txt for writing: No such file or directory");
  // No file is written when another cannot be opened (d.txt here).
  GoldenFiles f = golden_files_in(dir_.string());
  f.d = missing + "/d.txt";
  r = write_golden_files(f, view(g));
  EXPECT_FALSE(r);
  EXPECT_EQ(r.message, "cannot open " + missing + "/d.txt for writing: No such file or directory");
  EXPECT_EQ(fs::file_size(f.a), 0u);

  r = write_golden_files(golden_files_in(dir_.string()), view(g), {{0, 0}, {3, 0}});
  EXPECT_FALSE(r);
  EXPECT_EQ(r.message, "output 1 is D[3][0], outside the 3x5 D");
  r = write_golden_files(golden_files_in(dir_.string()), view(g), {});
  EXPECT_FALSE(r);
  EXPECT_EQ(r.message, "no outputs to write (fpsim mma needs at least one row)");
  GoldenGemm v = view(g);
  v.k = 0;
  EXPECT_EQ(write_golden_files(golden_files_in(dir_.string()), v).message,
            "the GEMM is 3x5, K=0: M, N and K must be at least 1");
  v = view(g);
  v.d = nullptr;
  EXPECT_EQ(write_golden_files(golden_files_in(dir_.string()), v).message,
            "A, B and D must be given (C may be null: C = 0)");
  if (fs::exists("/dev/full")) {  // a full disk shows when the buffers are flushed
    f = golden_files_in(dir_.string());
    f.b = "/dev/full";
    r = write_golden_files(f, view(g));
    EXPECT_FALSE(r);
    EXPECT_EQ(r.message, "cannot write /dev/full: No space left on device");
  }
}

TEST(GoldenExpectCommand, NamesTheFilesAndQuotesOddPaths) {
  EXPECT_EQ(golden_expect_command(golden_files_in("out"), "h100-fp16-fp32", 256),
            "fpsim mma --model h100-fp16-fp32 --k 256 --a out/a.txt --b out/b.txt --c out/c.txt --expect out/d.txt");
  EXPECT_EQ(golden_expect_command(golden_files_in("/tmp/my run's"), "h100-bf16-fp32", 64),
            "fpsim mma --model h100-bf16-fp32 --k 64 --a '/tmp/my run'\\''s/a.txt' --b '/tmp/my run'\\''s/b.txt' "
            "--c '/tmp/my run'\\''s/c.txt' --expect '/tmp/my run'\\''s/d.txt'");
}

}  // namespace
}  // namespace fpsim::gpu
