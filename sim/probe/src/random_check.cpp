// The check of the fit: random dot products, the target against the fitted
// model, bit for bit. The K values straddle the block boundaries the
// structure probes found; the values are narrow (near 1), wide (the whole
// range) or cancel C, with the seed of ProbeOptions (std::mt19937_64).
#include <algorithm>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "probe_phases.hpp"

namespace fpsim::probe::detail {

namespace {

bool same_result(float x, float y) {
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  return std::bit_cast<uint32_t>(x) == std::bit_cast<uint32_t>(y);
}

// A value of f: mode 0 exponents -6..6, mode 1 f's whole range; one in 16 is zero.
float random_value(const Format& f, std::mt19937_64& rng, int mode) {
  const uint64_t r = rng();
  if ((r & 15) == 0) return 0.0f;
  const bool neg = (r >> 4) & 1;
  int lo = -6, hi = 6;
  if (mode == 1) {
    lo = f.emin() - f.man_bits;
    hi = floor_log2(max_finite(f));
  }
  lo = std::max(lo, f.emin() - f.man_bits);
  hi = std::min(hi, floor_log2(max_finite(f)));
  const int e = lo + int((r >> 8) % uint64_t(hi - lo + 1));
  const double m = 1 + std::ldexp(double(rng() >> 11), -53);
  RoundingSpec rs;
  rs.rounding = Rounding::rtz;
  rs.overflow = Overflow::saturate;
  Flags ignored;
  const double x = to_double(from_double(std::ldexp(m, e), f, rs, ignored), f);
  return float(neg ? -x : x);
}

// The K values: around one, two and three blocks, the promotion interval, and a few larger ones.
std::vector<int> random_ks(const Structure& st, int max_k) {
  const int n = st.block_size, promo = st.promotion_interval;
  std::vector<int> ks = {1, 2, 3, n - 1, n, n + 1, 2 * n - 1, 2 * n, 2 * n + 1, 3 * n + 2, 4 * n + 3, 33, 64, 100};
  if (promo > 0) {
    ks.push_back(promo + 1);
    ks.push_back(2 * promo + 3);
  }
  std::vector<int> use;
  for (int k : ks) {
    if (k < 1 || k > 600 || (max_k > 0 && k > max_k)) continue;
    if (std::find(use.begin(), use.end(), k) == use.end()) use.push_back(k);
  }
  std::sort(use.begin(), use.end());
  return use;
}

std::string mismatch_text(const std::vector<float>& a, const std::vector<float>& b, float c, float x, float y) {
  std::ostringstream s;
  s << "K=" << a.size() << " a=[";
  for (size_t k = 0; k < a.size(); ++k) s << (k ? " " : "") << hex32(a[k]);
  s << "] b=[";
  for (size_t k = 0; k < b.size(); ++k) s << (k ? " " : "") << hex32(b[k]);
  s << "] c=" << hex32(c) << ": target " << hex32(x) << ", fitted " << hex32(y);
  return s.str();
}

}  // namespace

RandomCheck random_check(Bench& bench, const Findings& f, const MmaModel& fitted, const ProbeOptions& options) {
  RandomCheck check;
  check.ks = random_ks(f.structure, bench.max_k);
  try {
    validate_mma_model(fitted);
  } catch (const Error& e) {
    check.examples.push_back(std::string("the fitted model is not valid: ").append(e.what()));
    return check;
  }
  ModelTarget model(fitted);
  std::mt19937_64 rng(options.seed);
  for (int v = 0; v < options.random_vectors; ++v) {
    const int K = check.ks[size_t(v) % check.ks.size()];
    const int mode = int(rng() % 8);  // 0-5 narrow, 6 wide, 7 cancelling C
    const int value_mode = mode == 6 ? 1 : 0;
    std::vector<float> a(static_cast<size_t>(K)), b(static_cast<size_t>(K));
    double sum = 0;
    for (int k = 0; k < K; ++k) {
      a[size_t(k)] = random_value(bench.fa, rng, value_mode);
      b[size_t(k)] = random_value(bench.fb, rng, value_mode);
      sum += double(a[size_t(k)]) * double(b[size_t(k)]);
    }
    float c = 0.0f;
    if (mode == 7) {
      Flags ignored;
      c = float(to_double(from_double(-sum, bench.fo, RoundingSpec{}, ignored), bench.fo));
      if (!std::isfinite(c)) c = 0.0f;
    } else if (rng() % 8 != 0) {
      c = random_value(bench.fo, rng, value_mode);
    }
    const float x = bench.target.dot(a, b, c), y = model.dot(a, b, c);
    ++check.checks;
    if (same_result(x, y)) continue;
    ++check.mismatches;
    if (check.examples.size() < 5) check.examples.push_back(mismatch_text(a, b, c, x, y));
  }
  return check;
}

}  // namespace fpsim::probe::detail
