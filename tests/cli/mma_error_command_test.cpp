// `fpsim mma-error` (docs/cli.md, docs/mma.md "Error against the exact dot
// product"), driven in-process. Where a figure is asserted, the bound comes
// from the arithmetic (a single rounding, Higham's gamma_K bound, the spec's
// exact products), not from a previous run.
#include "mma_error_command.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "fpsim/error.hpp"

namespace fpsim::cli {
namespace {

MmaErrorOptions options(const std::string& model, int64_t k, int64_t trials, const std::string& dist = "normal") {
  MmaErrorOptions o;
  o.model = model;
  o.k = k;
  o.trials = trials;
  o.dist = dist;
  return o;
}

struct Outcome {
  int status;
  std::string out;
  std::string err;
};

Outcome run(const MmaErrorOptions& o) {
  std::ostringstream out, err;
  const int status = run_mma_error(o, out, err);
  return {status, out.str(), err.str()};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// u = 2^-24, the unit roundoff of FP32 rne.
const double kU = std::ldexp(1.0, -24);

// K = 1, fp32-fma-sequential: d = fma(a, b, 0) = RN32(a*b), one rounding, so
// |d - ab| / |ab| <= u / (1 + u) < u.
TEST(MmaError, Fp32FmaSequentialOneProductIsOneRounding) {
  const MmaErrorReport r = mma_error_report(options("fp32-fma-sequential", 1, 200));
  EXPECT_LT(r.relative.max, kU);
  EXPECT_EQ(r.relative.max, r.vs_abs_sum.max);  // one term: the two measures agree
}

// fp32-fma-sequential at small K: K roundings of a recursive sum, so
// |d - exact| <= gamma_K * sum |a_k b_k| with gamma_K = K u / (1 - K u)
// (Higham, Accuracy and Stability of Numerical Algorithms, §3.1).
TEST(MmaError, Fp32FmaSequentialSmallKHasTinyError) {
  for (const char* dist : {"normal", "uniform", "uniform01"}) {
    const MmaErrorReport r = mma_error_report(options("fp32-fma-sequential", 8, 200, dist));
    const double gamma8 = 8 * kU / (1 - 8 * kU);
    EXPECT_LE(r.vs_abs_sum.max, gamma8) << dist;
    EXPECT_LE(r.vs_abs_sum.median, r.vs_abs_sum.max) << dist;
    EXPECT_LE(r.relative.median, r.relative.p99) << dist;
    EXPECT_LE(r.relative.p99, r.relative.max) << dist;
    // Uniform in (0, 1): no cancellation, the relative error obeys the bound too.
    if (std::string(dist) == "uniform01") {
      EXPECT_LE(r.relative.max, gamma8);
    }
  }
}

// One FP8 product (≤ 8 significant bits) or one bf16 product (≤ 16 bits) fits
// the block's 13-bit (Hopper FP8) or 25-bit (bf16) window: with c = 0 the
// block returns it exactly (docs/mma.md, "The block-FMA model": products exact; §1 kept bits).
TEST(MmaError, SingleLowPrecisionProductsAreExact) {
  for (const char* model : {"h100-e4m3-fp32", "h100-e5m2-fp32", "h100-bf16-fp32", "a100-fp16-fp32"}) {
    const MmaErrorReport r = mma_error_report(options(model, 1, 100));
    EXPECT_EQ(r.exact_results, 100) << model;
    EXPECT_EQ(r.relative.max, 0.0) << model;
    EXPECT_EQ(r.vs_abs_sum.max, 0.0) << model;
  }
}

// DS3 (docs/mma.md, "Facts to reproduce"): promotion into an FP32 accumulator every 128
// elements shrinks the error of FP8 GEMM at K = 4096.
TEST(MmaError, PromotionReducesErrorForH100E4m3AtK4096) {
  for (const char* dist : {"normal", "uniform01"}) {
    MmaErrorOptions fast = options("h100-e4m3-fp32", 4096, 12, dist);
    fast.promote = 0;
    MmaErrorOptions promoted = fast;
    promoted.promote = 128;
    const MmaErrorReport f = mma_error_report(fast);
    const MmaErrorReport p = mma_error_report(promoted);
    EXPECT_EQ(f.model.promotion_interval, 0);
    EXPECT_EQ(p.model.promotion_interval, 128);
    EXPECT_LT(p.relative.max, f.relative.max) << dist;
    EXPECT_LT(p.vs_abs_sum.max, f.vs_abs_sum.max / 2) << dist;
    EXPECT_LT(p.vs_abs_sum.mean, f.vs_abs_sum.mean / 2) << dist;
  }
}

TEST(MmaError, PromoteOptionEqualsPresetSuffix) {
  MmaErrorOptions a = options("h100-e4m3-fp32", 300, 5);
  a.promote = 128;
  MmaErrorOptions b = options("h100-e4m3-fp32:promote128", 300, 5);
  a.json = b.json = true;
  const Outcome ra = run(a), rb = run(b);
  ASSERT_EQ(ra.status, 0) << ra.err;
  ASSERT_EQ(rb.status, 0) << rb.err;
  const auto ja = nlohmann::json::parse(ra.out), jb = nlohmann::json::parse(rb.out);
  EXPECT_EQ(ja["relative_error"], jb["relative_error"]);
  EXPECT_EQ(ja["error_vs_abs_sum"], jb["error_vs_abs_sum"]);
  EXPECT_EQ(ja["promotion_interval"], 128);
}

TEST(MmaError, SameSeedSameReportOtherSeedOtherReport) {
  MmaErrorOptions o = options("h100-bf16-fp32", 64, 20);
  o.json = true;
  o.seed = 7;
  const Outcome first = run(o), second = run(o);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.out, second.out);
  o.seed = 8;
  const Outcome other = run(o);
  ASSERT_EQ(other.status, 0);
  EXPECT_NE(first.out, other.out);
}

TEST(MmaError, JsonNamesEveryParameter) {
  MmaErrorOptions o = options("h100-e4m3-fp32", 64, 10, "uniform");
  o.promote = 32;
  o.seed = 3;
  o.json = true;
  const Outcome r = run(o);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"], "h100-e4m3-fp32");
  EXPECT_TRUE(contains(j["parameters"].get<std::string>(), "n=32"));
  EXPECT_EQ(j["k"], 64);
  EXPECT_EQ(j["promotion_interval"], 32);
  EXPECT_EQ(j["dist"], "uniform");
  EXPECT_EQ(j["input_a"], "e4m3");
  EXPECT_EQ(j["input_b"], "e4m3");
  EXPECT_EQ(j["c"], 0);
  EXPECT_EQ(j["trials"], 10);
  EXPECT_EQ(j["seed"], 3);
  for (const char* measure : {"relative_error", "error_vs_abs_sum"})
    for (const char* stat : {"max", "median", "mean", "p99"}) EXPECT_TRUE(j[measure][stat].is_number()) << measure;
  EXPECT_TRUE(j["exact_results"].is_number_integer());
}

TEST(MmaError, TextPrintsParametersAndTable) {
  MmaErrorOptions o = options("h100-e4m3-fp32", 64, 10);
  const Outcome r = run(o);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "model               h100-e4m3-fp32\n"));
  EXPECT_TRUE(contains(r.out, "k                   64\n"));
  EXPECT_TRUE(contains(r.out, "promotion_interval  0 (none)\n"));
  EXPECT_TRUE(contains(r.out, "inputs              a_k, b_k ~ N(0,1) rounded (rne) to e4m3, c = 0\n"));
  EXPECT_TRUE(contains(r.out, "trials              10\n"));
  EXPECT_TRUE(contains(r.out, "seed                0\n"));
  EXPECT_TRUE(contains(r.out, "measure             max         median      mean        p99\n"));
  EXPECT_TRUE(contains(r.out, "\nrelative_error      "));
  EXPECT_TRUE(contains(r.out, "\nerror_vs_abs_sum    "));
  EXPECT_TRUE(contains(r.out, "exact_results       "));
  EXPECT_TRUE(r.err.empty());
}

// Bad input: status 2, one line on stderr naming the option, nothing on stdout.
TEST(MmaError, BadInputIsOneLineAndStatus2) {
  struct Case {
    MmaErrorOptions o;
    std::string expected;
  };
  auto with = [](auto edit) {
    MmaErrorOptions o = options("h100-e4m3-fp32", 16, 4);
    edit(o);
    return o;
  };
  const Case cases[] = {
      {with([](MmaErrorOptions& o) { o.model = "h900-e4m3-fp32"; }), "unknown MMA preset 'h900-e4m3-fp32'"},
      {with([](MmaErrorOptions& o) { o.k = 0; }), "--k 0: expected a dot-product length 1.."},
      {with([](MmaErrorOptions& o) { o.k = -5; }), "--k -5:"},
      {with([](MmaErrorOptions& o) { o.promote = -1; }), "--promote -1: expected a promotion interval >= 0"},
      {with([](MmaErrorOptions& o) { o.dist = "gauss"; }), "--dist 'gauss': expected normal, uniform or uniform01"},
      {with([](MmaErrorOptions& o) { o.model = "h100-e4m3-fp32:promote128"; o.promote = 64; }),
       "--promote 64 and the suffix of --model 'h100-e4m3-fp32:promote128' both set the promotion interval"},
      {with([](MmaErrorOptions& o) { o.trials = 0; }), "--trials 0: expected 1.."},
      {with([](MmaErrorOptions& o) {
         o.model = "fp32-fma-sequential";
         o.promote = 128;
       }),
       "promotion applies to block-FMA models"},
  };
  for (const Case& c : cases) {
    const Outcome r = run(c.o);
    EXPECT_EQ(r.status, 2) << c.expected;
    EXPECT_TRUE(r.out.empty()) << c.expected;
    EXPECT_EQ(r.err.rfind("fpsim mma-error: ", 0), 0u) << r.err;
    EXPECT_TRUE(contains(r.err, c.expected)) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
  EXPECT_THROW(mma_error_report(options("h100-e4m3-fp32", 0, 1)), OptionError);
}

// The generator: ranges, independence of (trial, operand, index), and the
// first two moments over many draws (N(0,1): mean 0, variance 1; U(-1,1):
// variance 1/3; U(0,1): mean 1/2, variance 1/12). Tolerances are 6 standard
// errors.
TEST(MmaError, DrawsHaveTheirDistributions) {
  const int n = 40000;
  struct Expect {
    MmaErrorDist dist;
    double mean, var, lo, hi;
  };
  const Expect expects[] = {{MmaErrorDist::normal, 0.0, 1.0, -HUGE_VAL, HUGE_VAL},
                            {MmaErrorDist::uniform, 0.0, 1.0 / 3, -1.0, 1.0},
                            {MmaErrorDist::uniform01, 0.5, 1.0 / 12, 0.0, 1.0}};
  for (const Expect& e : expects) {
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; ++i) {
      const double x = mma_error_draw(e.dist, 1, uint32_t(i / 200), uint32_t(i / 100 % 2), uint32_t(i % 100));
      ASSERT_TRUE(std::isfinite(x));
      ASSERT_GE(x, e.lo);
      ASSERT_LT(x, e.hi);
      sum += x;
      sum2 += (x - e.mean) * (x - e.mean);
    }
    const double mean = sum / n, var = sum2 / n;
    EXPECT_NEAR(mean, e.mean, 6 * std::sqrt(e.var / n)) << int(e.dist);
    // var(x^2) <= 2 var^2 for the normal, less for the uniforms.
    EXPECT_NEAR(var, e.var, 6 * std::sqrt(2.0 / n) * e.var) << int(e.dist);
  }
  // Deterministic, and every coordinate of the counter and key matters.
  const double x = mma_error_draw(MmaErrorDist::normal, 5, 2, 0, 9);
  EXPECT_EQ(x, mma_error_draw(MmaErrorDist::normal, 5, 2, 0, 9));
  EXPECT_NE(x, mma_error_draw(MmaErrorDist::normal, 6, 2, 0, 9));
  EXPECT_NE(x, mma_error_draw(MmaErrorDist::normal, 5, 3, 0, 9));
  EXPECT_NE(x, mma_error_draw(MmaErrorDist::normal, 5, 2, 1, 9));
  EXPECT_NE(x, mma_error_draw(MmaErrorDist::normal, 5, 2, 0, 10));
  EXPECT_NE(x, mma_error_draw(MmaErrorDist::normal, uint64_t{5} | (uint64_t{1} << 32), 2, 0, 9));
}

}  // namespace
}  // namespace fpsim::cli
