// `fpsim verify`: the summary contract, that a wrong implementation is
// caught and reported in full, sharding that covers every case exactly once,
// and clear refusals for bad options and unsupported oracles.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

#include "fpsim/error.hpp"
#include "fpsim_ref/hw_oracle.hpp"
#include "verify_command.hpp"

namespace fpsim::cli {
namespace {

struct VerifyRun {
  int status = 0;
  std::string out, progress;
};

VerifyRun run(VerifyOptions o, const VerifyHooks* hooks = nullptr) {
  std::ostringstream out, progress;
  o.threads = 2;
  VerifyRun r;
  r.status = run_verify(o, out, progress, hooks);
  r.out = out.str();
  r.progress = progress.str();
  return r;
}

std::string last_line(const std::string& text) {
  const size_t end = text.find_last_not_of('\n');
  const size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

TEST(VerifyCommand, ExhaustiveEightBitAddPassesAgainstMpfr) {
  VerifyOptions o;
  o.op = "add";
  o.format = "e4m3";
  o.exhaustive = true;
  const VerifyRun r = run(o);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(last_line(r.out), "65536 passed, 0 failed");
}

TEST(VerifyCommand, AllModesWithTheFastOracle) {
  VerifyOptions o;
  o.op = "mul";
  o.format = "e5m2";
  o.exhaustive = true;
  o.rounding = "all";
  o.oracle = "fast";
  const VerifyRun r = run(o);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("sr: 65536 passed, 0 failed"), std::string::npos) << r.out;
  EXPECT_EQ(last_line(r.out), "458752 passed, 0 failed");
}

TEST(VerifyCommand, AWrongImplementationIsReportedInFull) {
  VerifyOptions o;
  o.op = "add";
  o.format = "fp16";
  o.samples = 5000;
  o.max_report = 3;
  VerifyHooks hooks;
  // Corrupt every result whose first operand is 1.0 (0x3c00) or is odd.
  hooks.corrupt = [](const uint64_t* v, uint64_t& code, uint32_t&) {
    if (v[0] == 0x3C00 || (v[0] & 1)) code ^= 1;
  };
  const VerifyRun r = run(o, &hooks);
  EXPECT_EQ(r.status, 1);
  const std::regex summary("^([0-9]+) passed, ([1-9][0-9]*) failed$");
  std::smatch m;
  const std::string last = last_line(r.out);
  ASSERT_TRUE(std::regex_match(last, m, summary)) << last;
  EXPECT_EQ(std::stoull(m[1]) + std::stoull(m[2]), 5000u);
  // The first three mismatches in full: operands, expected, got, flags.
  const std::regex line(R"(mismatch \[rne\] case [0-9]+: add\(0x[0-9a-f]{4}, 0x[0-9a-f]{4}\) expected 0x[0-9a-f]{4} flags [0-9a-f]{2}, got 0x[0-9a-f]{4} flags [0-9a-f]{2})");
  size_t count = 0;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);)
    if (l.rfind("mismatch", 0) == 0) {
      ++count;
      EXPECT_TRUE(std::regex_match(l, line)) << l;
    }
  EXPECT_EQ(count, 3u);
}

TEST(VerifyCommand, ShardsCoverEveryCaseOnce) {
  uint64_t total = 0;
  for (int i = 0; i < 3; ++i) {
    VerifyOptions o;
    o.op = "sub";
    o.format = "e3m4";
    o.exhaustive = true;
    o.oracle = "fast";
    o.shard = std::to_string(i) + "/3";
    const VerifyRun r = run(o);
    const std::string last = last_line(r.out);
    total += std::stoull(last.substr(0, last.find(' ')));
  }
  EXPECT_EQ(total, 65536u);
}

TEST(VerifyCommand, ProgressGoesToTheProgressStream) {
  VerifyOptions o;
  o.op = "div";
  o.format = "bf16";
  o.samples = 200000;
  o.oracle = "mpfr";
  o.progress_seconds = 0.05;
  const VerifyRun r = run(o);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.progress.find("cases/s"), std::string::npos) << r.progress;
  EXPECT_EQ(r.out.find("cases/s"), std::string::npos);
}

TEST(VerifyCommand, BadOptionsAreClearErrors) {
  VerifyOptions o;
  o.op = "frobnicate";
  o.format = "fp16";
  EXPECT_THROW(run(o), OptionError);
  o.op = "add";
  o.format = "fp17";
  EXPECT_THROW(run(o), FormatError);
  o.format = "fp16";
  o.shard = "3/3";
  EXPECT_THROW(run(o), OptionError);
  o.shard = "0/1";
  o.format = "fp32";
  o.exhaustive = true;  // 2^64 pairs
  EXPECT_THROW(run(o), OptionError);
  o.exhaustive = false;
  o.oracle = "fast";
  o.op = "eq";
  EXPECT_THROW(run(o), OptionError);  // the fast oracle has no comparisons
  o.oracle = "psychic";
  EXPECT_THROW(run(o), OptionError);
}

TEST(VerifyCommand, HardwareOracleRefusesClearlyWhereTheCpuCannot) {
  VerifyOptions o;
  o.op = "add";
  o.format = "fp16";
  o.oracle = "hw";
  o.samples = 100000;
  if (fpsim_ref::HwOracle::cpu_has_avx512fp16()) {
    EXPECT_EQ(run(o).status, 0);
  } else {
    try {
      run(o);
      ADD_FAILURE() << "expected a refusal";
    } catch (const OptionError& e) {
      EXPECT_NE(std::string(e.what()).find("AVX512-FP16"), std::string::npos) << e.what();
    }
  }
  o.rounding = "rna";  // no host mode for ties-away
  o.format = "fp32";
  EXPECT_THROW(run(o), OptionError);
}

TEST(VerifyCommand, HardwareOracleAgreesForFp32) {
  if (!fpsim_ref::HwOracle::cpu_has_fma()) GTEST_SKIP() << "this CPU has no FMA";
  for (const char* op : {"add", "mul", "div", "fma", "sqrt", "lt", "eq_signaling"}) {
    VerifyOptions o;
    o.op = op;
    o.format = "fp32";
    o.oracle = "hw";
    o.rounding = "rtz";
    o.samples = 100000;
    EXPECT_EQ(run(o).status, 0) << op;
  }
}

}  // namespace
}  // namespace fpsim::cli
