// `fpsim convert`: the batch contract of docs/cli.md. Decimal input is
// checked against the MPFR reference's own decimal conversion
// (mpfr_strtofr), an oracle independent of sim's parser and rounding core.
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "convert_command.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim_ref/reference.hpp"

namespace fpsim::cli {
namespace {

struct BatchRun {
  int status;
  std::vector<std::string> out;
  std::string err;
};

BatchRun run(ConvertOptions o, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  const int status = run_convert(o, in, out, err);
  BatchRun r{status, {}, err.str()};
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) r.out.push_back(line);
  return r;
}

ConvertOptions opts(const std::string& to) {
  ConvertOptions o;
  o.to = to;
  return o;
}

TEST(ConvertCommand, PrintsHexDecimalAndFlagsPerTheContract) {
  ConvertOptions o = opts("e4m3");
  o.print = "both";
  o.flags = true;
  o.values = {"448", "464", "465", "-1e-30", "0x1p-9"};
  const BatchRun r = run(o);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, (std::vector<std::string>{"0x7e 448 00", "0x7e 448 01", "0x7f nan 05", "0x80 -0 03",
                                             "0x01 0.001953125 00"}));
}

TEST(ConvertCommand, HexInputUsesTheSourceFormatAndTf32Container) {
  ConvertOptions o = opts("tf32");
  o.bits = true;
  const BatchRun r = run(o, "3f800000\n0x3f801000\n3f800fff\n");  // 1, 1+2^-11 (tie -> even), just below the tie
  EXPECT_EQ(r.out, (std::vector<std::string>{"0x3f800000", "0x3f800000", "0x3f800000"}));
  ConvertOptions back = opts("fp32");
  back.bits = true;
  back.from = "tf32";
  EXPECT_EQ(run(back, "3f802000\n").out, std::vector<std::string>{"0x3f802000"});
  const BatchRun bad = run(back, "3f800001\n");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("low 13 bits must be zero"), std::string::npos) << bad.err;
}

// Bad lines do not stop the batch: each answers "error", stderr names it,
// and the exit status is 2 (docs/cli.md).
TEST(ConvertCommand, BadLinesAreReportedAndTheBatchContinues) {
  ConvertOptions o = opts("bf16");
  o.bits = true;
  const BatchRun r = run(o, "3f800000\nzz\n123456789\n\n40000000\n");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, (std::vector<std::string>{"0x3f80", "error", "error", "error", "0x4000"}));
  EXPECT_NE(r.err.find("stdin line 2: 'zz' is not a hex bit pattern"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stdin line 3: '123456789' is out of range for fp32"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stdin line 4: empty line"), std::string::npos) << r.err;
  ConvertOptions d = opts("e4m3");
  const BatchRun rd = run(d, "1.5\n1.5.2\nabc\n2\n");
  EXPECT_EQ(rd.out, (std::vector<std::string>{"0x3c", "error", "error", "0x40"}));
  EXPECT_NE(rd.err.find("'abc' is not a number"), std::string::npos) << rd.err;
}

TEST(ConvertCommand, UnknownNamesStopBeforeAnyOutput) {
  const auto refused = [](ConvertOptions o, const std::string& message) {
    o.values = {"1"};
    const BatchRun r = run(o);
    EXPECT_EQ(r.status, 2) << message;
    EXPECT_TRUE(r.out.empty()) << message;
    EXPECT_EQ(r.err.rfind("fpsim convert: " + message, 0), 0u) << r.err;
  };
  refused(opts("e9m9x"), "unknown format 'e9m9x'");
  ConvertOptions o = opts("e4m3");
  o.rounding = "nearest";
  refused(o, "rounding mode 'nearest' is ambiguous");
  o = opts("e4m3");
  o.overflow = "clamp";
  refused(o, "unknown overflow policy 'clamp'");
  o = opts("e4m3");
  o.tininess = "early";
  refused(o, "unknown tininess mode 'early'");
  o = opts("e4m3");
  o.from = "bf16";  // --from with decimal input
  refused(o, "--from 'bf16' applies to --bits input only");
  o = opts("e4m3");
  o.print = "octal";
  refused(o, "--print 'octal': expected hex, dec or both");
  o = opts("e4m3");
  o.seed = 1;  // without sr
  refused(o, "--seed keys stochastic rounding");
}

// With sr the element index is the line number (from 0), stream 0.
TEST(ConvertCommand, StochasticRoundingUsesTheLineNumberAsIndex) {
  ConvertOptions o = opts("bf16");
  o.rounding = "sr";
  o.seed = 77;
  std::string text;
  for (int i = 0; i < 64; ++i) text += "1.00390625\n";  // 1 + 2^-8: P(up) = 1/2
  const BatchRun a = run(o, text), b = run(o, text);
  EXPECT_EQ(a.out, b.out);
  RoundingSpec rs;
  rs.rounding = Rounding::sr;
  rs.seed = 77;
  int ups = 0;
  for (size_t i = 0; i < a.out.size(); ++i) {
    Flags fl;
    const uint64_t want = from_double(1.00390625, formats::bf16, rs, fl, i);
    EXPECT_EQ(a.out[i], want == 0x3f81 ? "0x3f81" : "0x3f80") << i;
    ups += a.out[i] == "0x3f81";
  }
  EXPECT_GT(ups, 10);
  EXPECT_LT(ups, 54);
}

std::string random_decimal(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> digits(1, 30), digit(0, 9), exp(-60, 60), coin(0, 1);
  std::string s = coin(rng) ? "-" : "";
  const int n = digits(rng);
  for (int i = 0; i < n; ++i) {
    s += char('0' + digit(rng));
    if (i == 0 && coin(rng)) s += '.';
  }
  s += 'e';
  s += std::to_string(exp(rng));
  return s;
}

// Decimal text is rounded once into the target, exactly as MPFR's decimal
// conversion (mpfr_strtofr at the target precision) rounds it.
TEST(ConvertCommand, DecimalInputMatchesTheMpfrReference) {
  std::mt19937_64 rng(11);
  std::vector<std::string> texts;
  for (int i = 0; i < 3000; ++i) texts.push_back(random_decimal(rng));
  for (const char* edge : {"464", "465", "61439.99999999999999999999", "61440", "0.00048828125", "1e-45", "7e-46",
                           "3.4028235677973366e38", "3.4028235677973367e38", "1.00000005960464477539062500000001",
                           "65520", "65519.999999999999999999"})
    texts.push_back(edge);
  const std::pair<const char*, fpsim_ref::RefMode> modes[] = {{"rne", fpsim_ref::RefMode::rne},
                                                              {"rna", fpsim_ref::RefMode::rna},
                                                              {"rtz", fpsim_ref::RefMode::rtz},
                                                              {"rup", fpsim_ref::RefMode::rup},
                                                              {"rdn", fpsim_ref::RefMode::rdn},
                                                              {"rto", fpsim_ref::RefMode::rto}};
  for (const char* target : {"fp32", "bf16", "fp16", "e4m3", "e5m2", "e2m1", "e8m0", "int8", "tf32"}) {
    for (const auto& [mode, ref_mode] : modes) {
      for (bool saturate : {false, true}) {
        ConvertOptions o = opts(target);
        o.rounding = mode;
        o.overflow = saturate ? "saturate" : "ieee";
        o.flags = true;
        o.values = texts;
        const BatchRun r = run(o);
        ASSERT_EQ(r.status, 0) << r.err;
        const Format f = parse_format(target);
        fpsim_ref::RefSpec spec;
        spec.mode = ref_mode;
        spec.saturate = saturate;
        int failures = 0;
        for (size_t i = 0; i < texts.size(); ++i) {
          const auto want = fpsim_ref::ref_from_decimal(texts[i], fpsim_ref::ref_format(target), spec);
          char expected[64];
          std::snprintf(expected, sizeof expected, "0x%0*llx %02x", hex_digits(f),
                        static_cast<unsigned long long>(want.code << f.container_shift), want.flags);
          if (r.out[i] != expected && failures++ < 5)
            ADD_FAILURE() << target << " " << mode << " '" << texts[i] << "': got " << r.out[i] << ", reference "
                          << expected;
        }
      }
    }
  }
}

}  // namespace
}  // namespace fpsim::cli
