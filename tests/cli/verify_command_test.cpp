// `fpsim verify`: the summary contract, that a wrong implementation is
// caught and reported in full, sharding that covers every case exactly once,
// and clear refusals for bad options and unsupported oracles.
#include <gtest/gtest.h>

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

// "N passed, M failed" -> {N, M}; false when the text has another shape.
bool parse_summary(const std::string& line, uint64_t& passed, uint64_t& failed) {
  std::istringstream in(line);
  std::string w1, w2;
  if (!(in >> passed >> w1 >> failed >> w2) || w1 != "passed," || w2 != "failed") return false;
  std::string rest;
  return !(in >> rest);
}

// Whether `text` is "0x" followed by `digits` lower-case hex digits.
bool is_hex_code(const std::string& text, size_t digits) {
  if (text.size() != digits + 2 || text.rfind("0x", 0) != 0) return false;
  return text.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

// A full mismatch line of an fp16 binary operation:
// "mismatch [rne] case N: add(0x3c00, 0x0001) expected 0x3c00 flags 01, got 0x3c01 flags 01".
bool is_full_mismatch_line(const std::string& line) {
  std::istringstream in(line);
  std::string word, mode, cse, number, call, second, expected, code1, flags1, f1, got, code2, flags2, f2;
  if (!(in >> word >> mode >> cse >> number >> call >> second >> expected >> code1 >> flags1 >> f1 >> got >> code2 >>
        flags2 >> f2))
    return false;
  return word == "mismatch" && mode == "[rne]" && cse == "case" && number.back() == ':' &&
         call.rfind("add(", 0) == 0 && call.back() == ',' && is_hex_code(call.substr(4, call.size() - 5), 4) &&
         second.back() == ')' && is_hex_code(second.substr(0, second.size() - 1), 4) && expected == "expected" &&
         is_hex_code(code1, 4) && flags1 == "flags" && f1.size() == 3 && f1.back() == ',' && got == "got" &&
         is_hex_code(code2, 4) && flags2 == "flags" && f2.size() == 2;
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
  uint64_t passed = 0, failed = 0;
  const std::string last = last_line(r.out);
  ASSERT_TRUE(parse_summary(last, passed, failed)) << last;
  EXPECT_GT(failed, 0u);
  EXPECT_EQ(passed + failed, 5000u);
  // The first three mismatches in full: operands, expected, got, flags.
  size_t count = 0;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);)
    if (l.rfind("mismatch", 0) == 0) {
      ++count;
      EXPECT_TRUE(is_full_mismatch_line(l)) << l;
    }
  EXPECT_EQ(count, 3u);
}

TEST(VerifyCommand, MaxReportZeroCountsMismatchesWithoutPrintingThem) {
  VerifyOptions o;
  o.op = "add";
  o.format = "fp16";
  o.samples = 5000;
  o.max_report = 0;
  VerifyHooks hooks;
  hooks.corrupt = [](const uint64_t* v, uint64_t& code, uint32_t&) {
    if (v[0] & 1) code ^= 1;
  };
  const VerifyRun r = run(o, &hooks);
  EXPECT_EQ(r.status, 1);
  uint64_t passed = 0, failed = 0;
  const std::string last = last_line(r.out);
  ASSERT_TRUE(parse_summary(last, passed, failed)) << last;
  EXPECT_GT(failed, 0u);
  EXPECT_EQ(passed + failed, 5000u);
  EXPECT_EQ(r.out.find("mismatch"), std::string::npos) << r.out;
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
