// Stochastic rounding: observed frequencies of rounding away from zero match
// the exact probabilities computed by the MPFR reference, and results do not
// depend on threads (docs/formats.md §2, §9.11).
//
// Statistics: each input is rounded with 10^6 counter-based draws (element
// indices 0..10^6-1, the input's number as the Philox stream). The count of
// "away" outcomes is tested against Binomial(10^6, p) with a two-sided test
// at alpha = 1e-7 per input (exact binomial tails when n·p·(1-p) < 50, the
// normal approximation otherwise); over the ~3,000 inputs of this file the
// family-wise false-alarm rate is below 0.03 %. Seeds are fixed, so a run is
// reproducible bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim_ref/reference.hpp"

namespace fpsim {
namespace {

constexpr uint64_t kDraws = 1000000;
constexpr double kAlpha = 1e-7;

// log P(X = k) for X ~ Binomial(n, p).
double log_pmf(uint64_t n, uint64_t k, double p) {
  return std::lgamma(double(n) + 1) - std::lgamma(double(k) + 1) - std::lgamma(double(n - k) + 1) +
         double(k) * std::log(p) + double(n - k) * std::log1p(-p);
}

// Two-sided p-value of observing `k` away-roundings out of n.
double binomial_p_value(uint64_t n, uint64_t k, double p) {
  if (p <= 0) return k == 0 ? 1 : 0;
  if (p >= 1) return k == n ? 1 : 0;
  const double mean = double(n) * p;
  const double var = mean * (1 - p);
  if (var >= 50) return std::erfc(std::fabs(double(k) - mean) / std::sqrt(2 * var));
  // Exact: sum the pmf over outcomes at least as unlikely as k (small mean,
  // so the mass sits in a short range near 0 or near n).
  const double log_pk = log_pmf(n, k, p);
  const uint64_t centre = uint64_t(mean);
  const uint64_t span = uint64_t(60 + 20 * std::sqrt(var + 1));
  const uint64_t lo = centre > span ? centre - span : 0;
  const uint64_t hi = std::min(n, centre + span);
  if (k < lo || k > hi) return 0;
  double total = 0;
  for (uint64_t j = lo; j <= hi; ++j) {
    const double lp = log_pmf(n, j, p);
    if (lp <= log_pk + 1e-9) total += std::exp(lp);
  }
  return std::min(1.0, total);
}

struct Observed {
  uint64_t away = 0;
  uint64_t other = 0;  // results that are neither candidate (must be 0)
};

// Candidates are told apart by code and flags: beyond the largest value of
// a format without inf or NaN both are ±max, but only "away" overflowed.
Observed draw(double x, const Format& f, const RoundingSpec& rs, const fpsim_ref::RefStochastic& want) {
  Observed o;
  const bool distinct = want.away != want.toward_zero;
  for (uint64_t i = 0; i < kDraws; ++i) {
    Flags fl;
    const fpsim_ref::RefResult got{from_double(x, f, rs, fl, i), fl.bits};
    if (distinct && got == want.away)
      ++o.away;
    else if (got != want.toward_zero)
      ++o.other;
  }
  return o;
}

// The spec's exact probabilities (§9.11), checked in the reference and by
// frequency in sim.
struct KnownCase {
  const char* format;
  double x;
  double p_away;
  double away_value;
};

TEST(StochasticRounding, SpecProbabilitiesAreMetExactlyAndObserved) {
  const KnownCase cases[] = {
      {"bf16", 1 + std::ldexp(1, -9), 0.25, 1 + std::ldexp(1, -7)},
      {"bf16", 2 - std::ldexp(1, -9), 0.75, 2.0},
      {"e4m3", std::ldexp(1, -11), 0.25, std::ldexp(1, -9)},
      {"e4m3", 456, 0.25, std::nan("")},  // the away candidate overflows: NaN under ieee
  };
  for (const KnownCase& c : cases) {
    const Format f = parse_format(c.format);
    const auto want = fpsim_ref::ref_stochastic_double(c.x, fpsim_ref::ref_format(c.format), {}, 0);
    EXPECT_EQ(want.p_away, c.p_away) << c.format << " " << c.x;
    const double away = to_double(want.away.code, f);
    if (std::isnan(c.away_value))
      EXPECT_TRUE(std::isnan(away));
    else
      EXPECT_EQ(away, c.away_value);
    RoundingSpec rs;
    rs.rounding = Rounding::sr;
    rs.seed = 7;
    const Observed o = draw(c.x, f, rs, want);
    EXPECT_EQ(o.other, 0u);
    EXPECT_GT(binomial_p_value(kDraws, o.away, c.p_away), kAlpha) << c.format << " " << c.x << ": " << o.away;
  }
}

TEST(StochasticRounding, RepresentableValuesAndZerosNeverMove) {
  RoundingSpec rs;
  rs.rounding = Rounding::sr;
  for (const Format& f : builtin_formats()) {
    for (double x : {2.0, 0.0, -0.0, 1.0}) {
      Flags fl;
      const uint64_t first = from_double(x, f, rs, fl, 0);
      for (uint64_t i = 1; i < 100000; ++i) {
        Flags g;
        ASSERT_EQ(from_double(x, f, rs, g, i), first) << f.name << " " << x;
      }
    }
  }
}

// sr4 keeps only the top four discarded bits: f < 2^-4 never rounds up.
TEST(StochasticRounding, Sr4NeverRoundsUpBelowItsResolution) {
  RoundingSpec rs;
  rs.rounding = Rounding::sr;
  rs.sr_bits = 4;
  const double x = 1 + std::ldexp(1, -7) * (std::ldexp(1, -4) - std::ldexp(1, -10));  // bf16 ulp 2^-7, f < 2^-4
  for (uint64_t i = 0; i < 200000; ++i) {
    Flags fl;
    ASSERT_EQ(from_double(x, formats::bf16, rs, fl, i), 0x3F80u);
  }
}

// Inputs per format: values strictly between two neighbours of the target
// at assorted fractions, in the normal and subnormal ranges and at the top.
std::vector<double> inputs_for(const Format& f, std::mt19937_64& rng) {
  std::vector<double> xs;
  std::uniform_real_distribution<double> frac(0.0, 1.0);
  const uint64_t codes = f.is_integer() ? 128 : f.max_code() + 1;
  std::uniform_int_distribution<uint64_t> pick(0, codes - 2);
  const double fractions[] = {0.25, 0.5, 0.75, 1.0 / 3, std::ldexp(1, -12), 1 - std::ldexp(1, -12), 0.015625};
  while (xs.size() < 200) {
    uint64_t code = xs.size() < 8 ? codes - 2 - xs.size() % 2 : pick(rng);  // the top binade first
    if (xs.size() % 7 == 1) code = xs.size() % 5;                            // the bottom (subnormals)
    const double a = to_double(code, f), b = to_double(code + 1, f);
    if (!std::isfinite(a) || !std::isfinite(b) || !(b > a)) continue;
    const double t = xs.size() % 3 == 0 ? frac(rng) : fractions[xs.size() % 7];
    const double x = a + (b - a) * t;
    if (x > a && x < b) xs.push_back(xs.size() % 2 && f.has_sign ? -x : x);
  }
  // Beyond max (overflow candidates): half an ulp past max in 1/4 steps.
  const double max = describe(f).max_finite;
  const double next = f.is_scale() ? 2 * max : max + (max - to_double(f.max_code() - 1, f));
  for (double t : {0.125, 0.25, 0.5, 0.75}) xs.push_back(max + (next - max) * t);
  return xs;
}

class StochasticFrequencies : public testing::TestWithParam<std::string> {};

TEST_P(StochasticFrequencies, MatchExactMpfrProbabilities) {
  const Format f = parse_format(GetParam());
  const auto& rf = fpsim_ref::ref_format(GetParam());
  std::mt19937_64 rng(2024);
  const std::vector<double> xs = inputs_for(f, rng);
  int bad = 0;
  for (int sr_bits : {0, 8}) {
    for (size_t n = 0; n < xs.size(); ++n) {
      if (sr_bits == 8 && n % 4 != 0) continue;  // sr8 on a quarter of the inputs
      RoundingSpec rs;
      rs.rounding = Rounding::sr;
      rs.sr_bits = uint8_t(sr_bits);
      rs.seed = 99;
      rs.stream = uint32_t(n);
      const auto want = fpsim_ref::ref_stochastic_double(xs[n], rf, {}, sr_bits);
      const Observed o = draw(xs[n], f, rs, want);
      const double pv = binomial_p_value(kDraws, o.away, want.p_away);
      if (o.other != 0 || pv <= kAlpha) {
        if (bad++ < 10)
          ADD_FAILURE() << f.name << " sr" << sr_bits << " x=" << xs[n] << ": " << o.away << " away of " << kDraws
                        << ", exact p=" << want.p_away_exact << ", p-value " << pv << ", other " << o.other;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, StochasticFrequencies,
                         testing::Values("fp32", "tf32", "bf16", "fp16", "e4m3", "e4m3fnuz", "e5m2", "e5m2fnuz",
                                         "e3m4", "e2m3", "e3m2", "e2m1", "e8m0", "ue4m3", "int8"),
                         [](const testing::TestParamInfo<std::string>& i) { return i.param; });

// The same batch rounded by one thread and by two threads splitting it gives
// identical bits.
TEST(StochasticRounding, IdenticalBitsForOneAndTwoThreads) {
  std::vector<double> xs(1 << 20);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0, 3);
  for (double& x : xs) x = normal(rng);
  RoundingSpec rs;
  rs.rounding = Rounding::sr;
  rs.seed = 42;
  auto run = [&](size_t begin, size_t end, std::vector<uint64_t>& out) {
    for (size_t i = begin; i < end; ++i) {
      Flags fl;
      out[i] = from_double(xs[i], formats::e4m3, rs, fl, i);
    }
  };
  std::vector<uint64_t> one(xs.size()), two(xs.size());
  run(0, xs.size(), one);
  std::thread a([&] { run(0, xs.size() / 3, two); });
  std::thread b([&] { run(xs.size() / 3, xs.size(), two); });
  a.join();
  b.join();
  EXPECT_EQ(one, two);
}

}  // namespace
}  // namespace fpsim
