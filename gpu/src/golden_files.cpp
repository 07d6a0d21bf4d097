// Golden-data input sets, files and model comparison (golden_files.hpp).
#include "fpsim/gpu/golden_files.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <string>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/io/output_file.hpp"

namespace fpsim::gpu {
namespace {

// A value of `f` with unbiased exponent in [lo, hi] (normal), a random
// significand and sign; with `subnormal`, a random subnormal of f instead.
float random_value(const Format& f, std::mt19937_64& rng, int lo, int hi, bool subnormal) {
  const int emin = 1 - f.bias;
  for (;;) {
    const int m = f.man_bits;
    const uint64_t frac = m == 0 ? 0 : rng() & ((uint64_t{1} << m) - 1);
    const bool negative = rng() & 1;
    double v;
    if (subnormal) {
      v = std::ldexp(static_cast<double>(frac == 0 ? 1 : frac), emin - m);
    } else {
      const int e = lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
      v = std::ldexp(1.0 + std::ldexp(static_cast<double>(frac), -m), e);
    }
    if (negative) v = -v;
    // Keep only exact values of f (an exponent band outside f's range, or
    // e4m3's NaN code S.1111.111, is drawn again).
    Flags flags;
    const RoundingSpec rne;
    const uint64_t code = from_double(v, f, rne, flags);
    const double back = to_double(code, f);
    if (back == v && std::isfinite(back)) return static_cast<float>(v);
  }
}

struct Band {
  int lo, hi;
};

// Operand exponents that keep every product and the sum of K of them finite
// in the output format (fp16: below 2^15 / K), and products of the same band
// comparable to C.
Band operand_band(const MmaConfig& c) {
  const Format in = input_format(c);
  const int emin = 1 - in.bias, emax = in.bias;  // IEEE-style range of the input format's normals
  if (c.accumulator == MmaAccumulator::fp16) return {std::max(emin, -7), std::min(emax, 5)};
  return {std::max(emin, -20), std::min(emax, 20)};
}

std::string hex8(uint32_t w) {
  static const char* digits = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, w >>= 4) s[static_cast<size_t>(i)] = digits[w & 15];
  return s;
}

std::string binary32(uint32_t w) {
  std::string s(32, '0');
  for (int i = 31; i >= 0; --i, w >>= 1) s[static_cast<size_t>(i)] = (w & 1) ? '1' : '0';
  return s;
}

GoldenSet make_set(const MmaConfig& c, std::string name, int k, int rows, std::mt19937_64& rng, int c_mode) {
  const Format in = input_format(c), out = output_format(c);
  const Band band = operand_band(c);
  GoldenSet s;
  s.name = std::move(name);
  s.k = k;
  s.rows = rows;
  s.a.resize(static_cast<size_t>(rows) * k);
  s.b.resize(static_cast<size_t>(rows) * k);
  s.c.resize(static_cast<size_t>(rows));
  const bool has_sub = in.has_subnormals();
  auto operand = [&](int lo, int hi) -> float {
    const uint64_t r = rng() % 32;
    if (r == 0) return 0.0f;
    return random_value(in, rng, lo, hi, has_sub && r < 3);
  };
  const int out_lo = 1 - out.bias, out_hi = out.bias;
  for (int row = 0; row < rows; ++row) {
    if (c_mode == 2) {
      // separate-fp16: C in [2^-6, 2^7); products within 2^-12..2^2 of C.
      const int ec = -6 + static_cast<int>(rng() % 13);
      s.c[static_cast<size_t>(row)] = std::bit_cast<uint32_t>(random_value(out, rng, ec, ec, false));
      for (int j = 0; j < k; ++j) {
        const int ep = ec - 12 + static_cast<int>(rng() % 15);
        const int ea = std::clamp(ep / 2, band.lo, band.hi);
        const int eb = std::clamp(ep - ea, band.lo, band.hi);
        s.a[static_cast<size_t>(row) * k + j] = std::bit_cast<uint32_t>(random_value(in, rng, ea, ea, false));
        s.b[static_cast<size_t>(row) * k + j] = std::bit_cast<uint32_t>(random_value(in, rng, eb, eb, false));
      }
      continue;
    }
    for (int j = 0; j < k; ++j) {
      s.a[static_cast<size_t>(row) * k + j] = std::bit_cast<uint32_t>(operand(band.lo, band.hi));
      s.b[static_cast<size_t>(row) * k + j] = std::bit_cast<uint32_t>(operand(band.lo, band.hi));
    }
    if (c_mode == 0) {
      s.c[static_cast<size_t>(row)] = 0;
    } else {
      const int lo = std::max(out_lo, 2 * band.lo), hi = std::min(out_hi - 5, 2 * band.hi);
      s.c[static_cast<size_t>(row)] = std::bit_cast<uint32_t>(random_value(out, rng, lo, hi, false));
    }
  }
  return s;
}

}  // namespace

std::vector<GoldenSet> golden_input_sets(const MmaConfig& config, int rows, uint64_t seed) {
  if (rows < 1) throw OptionError("golden data needs at least one row per set");
  std::mt19937_64 rng(seed ^ (static_cast<uint64_t>(config.input) << 8) ^ static_cast<uint64_t>(config.accumulator));
  const int k = instruction_k(config);
  const bool fp8 = config.input == MmaInput::e4m3 || config.input == MmaInput::e5m2;
  const Band band = operand_band(config);
  const std::string band_text = "operand exponents " + std::to_string(band.lo) + ".." + std::to_string(band.hi) +
                                ", random significands and signs, 1/16 subnormal, 1/32 zero";
  std::vector<GoldenSet> sets;
  sets.push_back(make_set(config, "random", k, rows, rng, 1));
  sets.back().distribution = band_text + "; C a random non-zero " + output_format(config).name + " value";
  if (fp8) {
    sets.push_back(make_set(config, "zero-c", k, rows, rng, 0));
    sets.back().distribution = band_text + "; C = 0";
  }
  if (fp8 && config.accumulator == MmaAccumulator::fp16) {
    sets.push_back(make_set(config, "separate-fp16", k, rows, rng, 2));
    sets.back().distribution =
        "C an fp16 value with exponent -6..6; each product's exponent within C's -12..+2, mixed signs";
  }
  sets.push_back(make_set(config, "chained", 4 * k, std::max(1, rows / 5), rng, 1));
  sets.back().distribution = band_text + "; K = 4 instructions chained through the accumulator";
  return sets;
}

void write_golden_files(const std::string& dir, const std::string& tag, const MmaConfig& config,
                        const GoldenSet& set, std::span<const uint32_t> d) {
  if (d.size() != static_cast<size_t>(set.rows))
    throw OptionError("D has " + std::to_string(d.size()) + " values for " + std::to_string(set.rows) + " rows");
  const std::string in = input_format(config).name, out = output_format(config).name;
  std::string a_text, b_text, c_text, d_text;
  for (int r = 0; r < set.rows; ++r) {
    for (int j = 0; j < set.k; ++j) {
      const size_t i = static_cast<size_t>(r) * set.k + j;
      a_text.append(j ? " " : "").append(hex8(set.a[i]));
      b_text.append(j ? " " : "").append(hex8(set.b[i]));
    }
    a_text.push_back('\n');
    b_text.push_back('\n');
    c_text.append(binary32(set.c[static_cast<size_t>(r)])).push_back('\n');
    d_text.append(binary32(d[static_cast<size_t>(r)])).push_back('\n');
  }
  io::write_output_file(dir + "/a_" + tag + "_" + in + ".txt", a_text);
  io::write_output_file(dir + "/b_" + tag + "_" + in + ".txt", b_text);
  io::write_output_file(dir + "/c_" + tag + "_" + out + ".txt", c_text);
  io::write_output_file(dir + "/d_" + tag + "_" + out + ".txt", d_text);
}

int count_model_matches(const MmaModel& model, const GoldenSet& set, std::span<const uint32_t> d) {
  int matches = 0;
  std::vector<float> a(static_cast<size_t>(set.k)), b(static_cast<size_t>(set.k));
  for (int r = 0; r < set.rows; ++r) {
    for (int j = 0; j < set.k; ++j) {
      a[static_cast<size_t>(j)] = std::bit_cast<float>(set.a[static_cast<size_t>(r) * set.k + j]);
      b[static_cast<size_t>(j)] = std::bit_cast<float>(set.b[static_cast<size_t>(r) * set.k + j]);
    }
    const float got = mma_dot(model, a, b, std::bit_cast<float>(set.c[static_cast<size_t>(r)]));
    const float want = std::bit_cast<float>(d[static_cast<size_t>(r)]);
    if ((std::isnan(got) && std::isnan(want)) || std::bit_cast<uint32_t>(got) == d[static_cast<size_t>(r)]) ++matches;
  }
  return matches;
}

}  // namespace fpsim::gpu
