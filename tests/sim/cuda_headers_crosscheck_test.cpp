// Cross-check of fpsim's conversions against NVIDIA's own host conversion
// code: the C++ host paths of the CUDA toolkit headers cuda_fp8.h, cuda_fp6.h,
// cuda_fp4.h, cuda_bf16.h and cuda_fp16.h (no GPU, no nvcc: the headers'
// `#else` / NV_IF_ELSE_TARGET host branches, compiled by the host compiler).
//
// Every NVIDIA function is paired with the fpsim conversion that should agree
// (same source and target format, the matching RoundingSpec: rn -> rne,
// rz -> rtz, ru/rp -> rup, rd -> rdn, __NV_SATFINITE -> Overflow::saturate,
// __NV_NOSAT -> Overflow::ieee) and run over the same inputs; the two codes
// must be equal bit for bit. Flags are not compared (NVIDIA has none).
//
// Where NVIDIA's choice differs from docs/formats.md, fpsim is not weakened:
// each such difference is a named class below (DocumentedDifference), with
// NVIDIA's value and fpsim's value for exactly those inputs and the spec
// section that decides it; the sweeps assert both values for every input of
// the class and count it separately, and the NvidiaDifference tests pin each
// class with concrete inputs. Every other input must match bit for bit.
// The table of differences is docs/nvidia-differences.md.
//
// Built against the headers when tests/CMakeLists.txt finds
// ${FPSIM_CUDA_INCLUDE_DIR}/cuda_fp8.h at configure time; otherwise every case
// skips with a visible message.
#include <gtest/gtest.h>

#ifndef FPSIM_CUDA_INCLUDE_DIR
#define FPSIM_CUDA_INCLUDE_DIR "/usr/local/cuda/include"
#endif

#if defined(FPSIM_HAVE_CUDA_HEADERS) && FPSIM_HAVE_CUDA_HEADERS

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp4.h>
#include <cuda_fp6.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fpsim/convert.hpp"

namespace fpsim {
namespace {

// ---------------------------------------------------------------------------
// Bookkeeping

// A documented difference: for an input of this class NVIDIA returns `nv`
// and fpsim returns `fp`; `name` says which class (docs/nvidia-differences.md).
struct DocumentedDifference {
  const char* name;
  uint64_t nv;
  uint64_t fp;
};

// Decides whether an input (source bits) belongs to a documented class.
using Rule = std::function<std::optional<DocumentedDifference>(uint64_t)>;

struct Tally {
  std::string function;
  uint64_t inputs = 0;
  uint64_t matches = 0;
  std::map<std::string, uint64_t> documented;
  uint64_t unexpected = 0;

  uint64_t documented_total() const {
    uint64_t n = 0;
    for (const auto& [name, count] : documented) n += count;
    return n;
  }
};

std::vector<Tally>& all_tallies() {
  static std::vector<Tally> t;
  return t;
}

void print_tally(const Tally& t) {
  std::string classes;
  for (const auto& [name, count] : t.documented) {
    classes += (classes.empty() ? " (" : ", ") + name + ": " + std::to_string(count);
  }
  if (!classes.empty()) classes += ")";
  std::printf("[nvidia] %-58s %9" PRIu64 " inputs, %9" PRIu64 " bit-exact, %6" PRIu64
              " documented differences%s%s\n",
              t.function.c_str(), t.inputs, t.matches, t.documented_total(), classes.c_str(),
              t.unexpected ? (", " + std::to_string(t.unexpected) + " UNEXPECTED").c_str() : "");
}

// Prints every tally once more, as one table, when the whole binary ran.
class SummaryEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    if (all_tallies().empty()) return;
    std::printf("\n[nvidia] summary: fpsim vs CUDA %d.%d host conversion code\n", CUDART_VERSION / 1000,
                (CUDART_VERSION % 1000) / 10);
    for (const Tally& t : all_tallies()) print_tally(t);
  }
};
[[maybe_unused]] ::testing::Environment* const summary_env =
    ::testing::AddGlobalTestEnvironment(new SummaryEnvironment);

// Describes a source value for failure messages.
std::string describe(uint64_t bits, const Format& src) {
  char buf[96];
  if (src.bits == 64 || src.bits == 32 || src.bits == 16) {
    std::snprintf(buf, sizeof buf, "%s 0x%0*" PRIx64 " (%a)", src.name, src.bits / 4, bits,
                  to_double(bits, src));
  } else {
    std::snprintf(buf, sizeof buf, "%s code 0x%02" PRIx64 " (%a)", src.name, bits, to_double(bits, src));
  }
  return buf;
}

// Runs one NVIDIA function and its fpsim counterpart over `inputs` (bits of
// format `src`) and records the outcome.
template <class Nv, class Fp>
Tally run_check(const std::string& function, const Format& src, const std::vector<uint64_t>& inputs, Nv nv,
                Fp fp, const Rule& rule = nullptr) {
  Tally t;
  t.function = function;
  int reported = 0;
  for (const uint64_t x : inputs) {
    ++t.inputs;
    const uint64_t n = nv(x);
    const uint64_t f = fp(x);
    const std::optional<DocumentedDifference> d = rule ? rule(x) : std::nullopt;
    if (d) {
      if (n == d->nv && f == d->fp) {
        ++t.documented[d->name];
        continue;
      }
    } else if (n == f) {
      ++t.matches;
      continue;
    }
    ++t.unexpected;
    if (reported < 20) {
      ++reported;
      ADD_FAILURE() << function << ": input " << describe(x, src) << std::hex << ": NVIDIA 0x" << n
                    << ", fpsim 0x" << f
                    << (d ? std::string(" (documented class ") + d->name + " expects NVIDIA 0x" +
                                [&] {
                                  char b[64];
                                  std::snprintf(b, sizeof b, "%" PRIx64 ", fpsim 0x%" PRIx64, d->nv, d->fp);
                                  return std::string(b);
                                }() + ")"
                          : std::string());
    }
  }
  print_tally(t);
  all_tallies().push_back(t);
  EXPECT_EQ(t.unexpected, 0u) << function;
  EXPECT_EQ(t.inputs, t.matches + t.documented_total() + t.unexpected);
  return t;
}

RoundingSpec spec(Rounding r, Overflow o = Overflow::ieee) {
  RoundingSpec rs;
  rs.rounding = r;
  rs.overflow = o;
  return rs;
}

uint64_t fpsim_convert(uint64_t bits, const Format& from, const Format& to, const RoundingSpec& rs) {
  Flags fl;  // not compared: NVIDIA's host code has no flags
  return convert(bits, from, to, rs, fl);
}

bool is_nan(uint64_t bits, const Format& f) { return f.is_nan_code(bits); }
bool is_negative(uint64_t bits, const Format& f) { return (bits & f.sign_mask()) != 0; }

// ---------------------------------------------------------------------------
// Inputs

constexpr uint32_t kStride = 4099;  // odd, so the sweep visits every residue class of the low bits

// Every 4099th f32 bit pattern through all 2^32 (about 1.05 million values).
const std::vector<uint64_t>& strided_f32() {
  static const std::vector<uint64_t> v = [] {
    std::vector<uint64_t> r;
    for (uint64_t b = 0; b < (uint64_t{1} << 32); b += kStride) r.push_back(b);
    return r;
  }();
  return v;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

const std::vector<uint64_t>& f32_specials() {
  static const std::vector<uint64_t> v = {
      0x00000000, 0x80000000,              // +-0
      0x7F800000, 0xFF800000,              // +-inf
      0x7FC00000, 0xFFC00000,              // default quiet NaN, both signs
      0x7FFFFFFF, 0xFFFFFFFF,              // all-ones payload
      0x7F800001, 0xFF800001, 0x7FBFFFFF,  // signaling NaNs
      0x7FA00000, 0x7FE00000, 0x7FD00000,  // payload variants
      0x7F7FFFFF, 0xFF7FFFFF,              // fp32 max
      0x00800000, 0x80800000,              // fp32 min normal
      0x00000001, 0x80000001,              // fp32 min subnormal
      0x007FFFFF, 0x807FFFFF,              // fp32 max subnormal
      0x00400000, 0x00400001, 0x003FFFFF,  // 2^-127 and neighbours (e8m0 code 0)
      0x00200000, 0x00600000,              // 2^-128, 1.5 * 2^-127
      0x3F800000, 0xBF800000, 0x40400000, 0xC0400000, 0x40C00000,  // 1, 3, 6
  };
  return v;
}

const std::vector<uint64_t>& f64_specials() {
  static const std::vector<uint64_t> v = [] {
    std::vector<uint64_t> r = {
        0x0000000000000000, 0x8000000000000000,  // +-0
        0x7FF0000000000000, 0xFFF0000000000000,  // +-inf
        0x7FF8000000000000, 0xFFF8000000000000,  // default quiet NaN
        0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF,  // all-ones payload
        0x7FFC000000000000, 0xFFFC000000000000,  // top two payload bits set
        0x7FF4000000000000, 0x7FF0000000000001,  // signaling NaNs
        0xFFF4000000000000, 0x7FF8000000000001,
        0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF,  // fp64 max
        0x0010000000000000, 0x0000000000000001,  // fp64 min normal, min subnormal
        0x8000000000000001, 0x000FFFFFFFFFFFFF,
    };
    for (const double d : {1e300, -1e300, 1e-300, -1e-300, 3.0, -3.0, 6.0, 1.0,
                           // fp32 max, just above it, halfway to 2^128, 2^128
                           3.4028234663852886e38, 3.4028235e38 * (1 + 0x1p-30), 0x1.ffffffp127, 0x1p128,
                           // docs/formats.md §9.4 double-rounding regressions
                           -431.99999999999994, 1.0 + 0x1p-8 + 0x1p-40, 0x1p-1074, 0x1p-150, 0x1p-149 * 1.5}) {
      r.push_back(std::bit_cast<uint64_t>(d));
      r.push_back(std::bit_cast<uint64_t>(-d));
    }
    return r;
  }();
  return v;
}

// The largest finite positive value of f, and the "phantom" value one ulp
// above it (where the next code would be with an unbounded exponent).
double max_value(const Format& f) { return to_double(f.max_code(), f); }
double phantom_above_max(const Format& f) {
  const double m = max_value(f);
  return m + std::ldexp(1.0, std::ilogb(m) - f.man_bits);
}

// Every positive finite value of f, ascending.
std::vector<double> positive_values(const Format& f) {
  std::vector<double> v;
  for (uint64_t c = 0; c < f.code_count(); ++c) {
    if (is_negative(c, f) || f.is_nan_code(c) || f.is_inf_code(c)) continue;
    const double x = to_double(c, f);
    if (x > 0) v.push_back(x);
  }
  std::sort(v.begin(), v.end());
  return v;
}

// The decision points of conversions to f: every representable value (the
// boundaries of rtz/rup/rdn) and every midpoint between neighbours (the
// boundaries of rne), 0 below the smallest and the phantom above the largest
// included.
std::vector<double> decision_points(const Format& f) {
  const std::vector<double> v = positive_values(f);
  std::vector<double> p;
  double prev = 0;
  for (const double x : v) {
    p.push_back(x);
    p.push_back((prev + x) / 2);
    prev = x;
  }
  p.push_back((prev + phantom_above_max(f)) / 2);
  p.push_back(phantom_above_max(f));
  return p;
}

// How many source ulps either side of each decision point: all f32 within
// +-64 ulps for targets of 8 bits or fewer, +-4 for the 16-bit targets (whose
// 60 000 decision points would otherwise dominate the run) plus +-64 around
// the binade edges, the overflow threshold and the subnormal range.
int neighbourhood(const Format& f, double point) {
  if (f.bits <= 8) return 64;
  const bool binade_edge = point > 0 && std::ldexp(1.0, std::ilogb(point)) == point;
  const bool top = point >= max_value(f);
  const bool tiny = point <= std::ldexp(1.0, f.emin() + 1);
  return (binade_edge || top || tiny) ? 64 : 4;
}

void add_neighbours(std::vector<uint64_t>& out, uint64_t center, int k, uint64_t sign_bit) {
  for (int d = -k; d <= k; ++d) {
    if (d < 0 && center < uint64_t(-d)) continue;
    const uint64_t b = center + uint64_t(int64_t{d});
    out.push_back(b);
    out.push_back(b | sign_bit);
  }
}

void sort_unique(std::vector<uint64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// f32 inputs for a conversion to `target`: the strided sweep, the
// neighbourhoods of every decision point, and the special values.
std::vector<uint64_t> f32_inputs(const Format& target) {
  std::vector<uint64_t> in = strided_f32();
  for (const double p : decision_points(target)) {
    const float pf = static_cast<float>(p);
    if (static_cast<double>(pf) != p || std::isinf(pf)) continue;  // not an f32 (e.g. 2^128)
    add_neighbours(in, std::bit_cast<uint32_t>(pf), neighbourhood(target, p), 0x80000000u);
  }
  in.insert(in.end(), f32_specials().begin(), f32_specials().end());
  sort_unique(in);
  return in;
}

// f64 inputs for a conversion to `target`: every strided f32 widened, the same
// with random low bits below f32 precision (sticky bits NVIDIA's double paths
// must carry), +-64 (+-4 for 16-bit targets) f64 ulps around every decision
// point, and the f64 special values.
std::vector<uint64_t> f64_inputs(const Format& target) {
  std::vector<uint64_t> in;
  uint64_t rng = 0x5EED0F5EEDULL ^ target.bits;
  for (const uint64_t b : strided_f32()) {
    const double d = static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(b)));
    const uint64_t db = std::bit_cast<uint64_t>(d);
    in.push_back(db);
    if (std::isfinite(d) && d != 0) in.push_back(db ^ (splitmix64(rng) & ((uint64_t{1} << 29) - 1)));
  }
  for (const double p : decision_points(target)) {
    add_neighbours(in, std::bit_cast<uint64_t>(p), neighbourhood(target, p), uint64_t{1} << 63);
  }
  in.insert(in.end(), f64_specials().begin(), f64_specials().end());
  sort_unique(in);
  return in;
}

// Every code of a 16-bit (or narrower) format.
std::vector<uint64_t> all_codes(const Format& f) {
  std::vector<uint64_t> v(f.code_count());
  for (uint64_t c = 0; c < v.size(); ++c) v[c] = c;
  return v;
}

// ---------------------------------------------------------------------------
// NVIDIA wrappers (host paths), all returning the result's bits

float as_float(uint64_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b)); }
double as_double(uint64_t b) { return std::bit_cast<double>(b); }
__half_raw as_half_raw(uint64_t b) {
  __half_raw h;
  h.x = static_cast<unsigned short>(b);
  return h;
}
__nv_bfloat16_raw as_bf16_raw(uint64_t b) {
  __nv_bfloat16_raw h;
  h.x = static_cast<unsigned short>(b);
  return h;
}
uint64_t bits_of(__half h) { return static_cast<__half_raw>(h).x; }
uint64_t bits_of(__nv_bfloat16 h) { return static_cast<__nv_bfloat16_raw>(h).x; }
uint64_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }

const char* sat_name(__nv_saturation_t s) { return s == __NV_SATFINITE ? "SATFINITE" : "NOSAT"; }
Overflow overflow_of(__nv_saturation_t s) { return s == __NV_SATFINITE ? Overflow::saturate : Overflow::ieee; }
const char* mode_name(cudaRoundMode m) {
  switch (m) {
    case cudaRoundNearest:
      return "cudaRoundNearest";
    case cudaRoundZero:
      return "cudaRoundZero";
    case cudaRoundPosInf:
      return "cudaRoundPosInf";
    case cudaRoundMinInf:
      return "cudaRoundMinInf";
  }
  return "?";
}
Rounding rounding_of(cudaRoundMode m) {
  switch (m) {
    case cudaRoundNearest:
      return Rounding::rne;
    case cudaRoundZero:
      return Rounding::rtz;
    case cudaRoundPosInf:
      return Rounding::rup;
    case cudaRoundMinInf:
      return Rounding::rdn;
  }
  return Rounding::rne;
}

// ---------------------------------------------------------------------------
// The documented differences (docs/nvidia-differences.md). Each returns the
// class for exactly the inputs where NVIDIA and fpsim differ, with both values.

// fp8 from f32/f16/bf16 sources. NVIDIA's host __nv_cvt_float_to_fp8 replaces
// any NaN by the positive all-ones NaN 0x7FFFFFFF before converting (and the
// f16/bf16 paths widen to float first), so the NaN sign is dropped and e5m2
// gets the all-ones payload 0x7F. docs/formats.md §7: conversions return the
// target's default NaN (e4m3 0x7F, e5m2 0x7E) with the input's sign (§9.13:
// fp32 -NaN -> e4m3 0xFF).
Rule fp8_nan_rule_narrow_source(const Format& src, const Format& fp8) {
  return [&src, &fp8](uint64_t x) -> std::optional<DocumentedDifference> {
    if (!is_nan(x, src)) return std::nullopt;
    const bool neg = is_negative(x, src);
    if (&fp8 == &formats::e4m3) {
      if (!neg) return std::nullopt;  // both 0x7F
      return DocumentedDifference{"nan-sign-dropped", 0x7F, 0xFF};
    }
    return DocumentedDifference{"nan-canonical-0x7F", 0x7F, neg ? 0xFEu : 0x7Eu};
  };
}

// fp8 from f64. __nv_cvt_double_to_fp8 keeps the sign; e4m3 gets 0x7F|sign
// (= fpsim), e5m2 gets 0x7E | (top two payload bits) | sign, so a NaN whose
// second payload bit (f64 bit 50) is set maps to 0x7F|sign instead of the
// default 0x7E|sign (§7: payloads are not preserved).
Rule fp8_nan_rule_f64_source(const Format& fp8) {
  return [&fp8](uint64_t x) -> std::optional<DocumentedDifference> {
    if (&fp8 != &formats::e5m2 || !is_nan(x, formats::fp64)) return std::nullopt;
    if (((x >> 50) & 1) == 0) return std::nullopt;
    const uint64_t s = is_negative(x, formats::fp64) ? 0x80 : 0;
    return DocumentedDifference{"nan-payload-bit-kept", 0x7F | s, 0x7E | s};
  };
}

// Decoding a NaN code to a wider IEEE format: NVIDIA returns the positive
// all-ones NaN (f16 0x7FFF, bf16 0x7FFF, f32 0x7FFFFFFF), fpsim the target's
// default NaN with the source's sign (§7: fp16 0x7E00, bf16 0x7FC0, fp32
// 0x7FC00000; e8m0 has no sign).
Rule nan_decode_rule(const Format& src, const Format& dst, uint64_t nv_nan) {
  return [&src, &dst, nv_nan](uint64_t x) -> std::optional<DocumentedDifference> {
    if (!is_nan(x, src)) return std::nullopt;
    return DocumentedDifference{"nan-all-ones-unsigned", nv_nan, dst.nan_code(is_negative(x, src))};
  };
}

// __bfloat162float widens by shifting, keeping the NaN's sign and payload
// (a signaling bf16 NaN stays signaling); fpsim returns the default NaN with
// the sign (§7). Only NaNs other than the default 0x7FC0/0xFFC0 differ.
Rule bf16_to_float_nan_rule() {
  return [](uint64_t x) -> std::optional<DocumentedDifference> {
    if (!is_nan(x, formats::bf16) || (x & 0x7FFF) == 0x7FC0) return std::nullopt;
    return DocumentedDifference{"nan-payload-kept", x << 16, formats::fp32.nan_code(is_negative(x, formats::bf16))};
  };
}

// ---------------------------------------------------------------------------
// fp8 (e4m3, e5m2)

const Format& fp8_format(__nv_fp8_interpretation_t k) { return k == __NV_E4M3 ? formats::e4m3 : formats::e5m2; }
const char* fp8_name(__nv_fp8_interpretation_t k) { return k == __NV_E4M3 ? "E4M3" : "E5M2"; }
constexpr __nv_fp8_interpretation_t kFp8Kinds[] = {__NV_E4M3, __NV_E5M2};
constexpr __nv_saturation_t kSats[] = {__NV_SATFINITE, __NV_NOSAT};

TEST(NvidiaFp8, FloatToFp8) {
  for (const auto k : kFp8Kinds) {
    const Format& to = fp8_format(k);
    const std::vector<uint64_t> in = f32_inputs(to);
    for (const auto s : kSats) {
      const RoundingSpec rs = spec(Rounding::rne, overflow_of(s));
      run_check(
          std::string("__nv_cvt_float_to_fp8(") + fp8_name(k) + ", " + sat_name(s) + ")", formats::fp32, in,
          [&](uint64_t x) { return uint64_t{__nv_cvt_float_to_fp8(as_float(x), s, k)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::fp32, to, rs); },
          fp8_nan_rule_narrow_source(formats::fp32, to));
    }
  }
}

TEST(NvidiaFp8, DoubleToFp8) {
  for (const auto k : kFp8Kinds) {
    const Format& to = fp8_format(k);
    const std::vector<uint64_t> in = f64_inputs(to);
    for (const auto s : kSats) {
      const RoundingSpec rs = spec(Rounding::rne, overflow_of(s));
      run_check(
          std::string("__nv_cvt_double_to_fp8(") + fp8_name(k) + ", " + sat_name(s) + ")", formats::fp64, in,
          [&](uint64_t x) { return uint64_t{__nv_cvt_double_to_fp8(as_double(x), s, k)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::fp64, to, rs); }, fp8_nan_rule_f64_source(to));
    }
  }
}

TEST(NvidiaFp8, HalfrawToFp8Exhaustive) {
  const std::vector<uint64_t> in = all_codes(formats::fp16);
  for (const auto k : kFp8Kinds) {
    const Format& to = fp8_format(k);
    for (const auto s : kSats) {
      const RoundingSpec rs = spec(Rounding::rne, overflow_of(s));
      run_check(
          std::string("__nv_cvt_halfraw_to_fp8(") + fp8_name(k) + ", " + sat_name(s) + ")", formats::fp16, in,
          [&](uint64_t x) { return uint64_t{__nv_cvt_halfraw_to_fp8(as_half_raw(x), s, k)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::fp16, to, rs); },
          fp8_nan_rule_narrow_source(formats::fp16, to));
    }
  }
}

TEST(NvidiaFp8, Bfloat16rawToFp8Exhaustive) {
  const std::vector<uint64_t> in = all_codes(formats::bf16);
  for (const auto k : kFp8Kinds) {
    const Format& to = fp8_format(k);
    for (const auto s : kSats) {
      const RoundingSpec rs = spec(Rounding::rne, overflow_of(s));
      run_check(
          std::string("__nv_cvt_bfloat16raw_to_fp8(") + fp8_name(k) + ", " + sat_name(s) + ")", formats::bf16,
          in, [&](uint64_t x) { return uint64_t{__nv_cvt_bfloat16raw_to_fp8(as_bf16_raw(x), s, k)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::bf16, to, rs); },
          fp8_nan_rule_narrow_source(formats::bf16, to));
    }
  }
}

TEST(NvidiaFp8, Fp8ToHalfrawAllCodes) {
  for (const auto k : kFp8Kinds) {
    const Format& from = fp8_format(k);
    run_check(
        std::string("__nv_cvt_fp8_to_halfraw(") + fp8_name(k) + ")", from, all_codes(from),
        [&](uint64_t x) { return uint64_t{__nv_cvt_fp8_to_halfraw(static_cast<__nv_fp8_storage_t>(x), k).x}; },
        [&](uint64_t x) { return fpsim_convert(x, from, formats::fp16, RoundingSpec{}); },
        nan_decode_rule(from, formats::fp16, 0x7FFF));
  }
}

// ---------------------------------------------------------------------------
// e8m0. The host code accepts cudaRoundZero and cudaRoundPosInf (it asserts
// on anything else), with __NV_SATFINITE or __NV_NOSAT.

constexpr cudaRoundMode kE8m0Modes[] = {cudaRoundZero, cudaRoundPosInf};

std::string e8m0_name(const char* fn, cudaRoundMode m, __nv_saturation_t s) {
  return std::string(fn) + "(" + sat_name(s) + ", " + mode_name(m) + ")";
}

TEST(NvidiaE8m0, FloatToE8m0) {
  const std::vector<uint64_t> in = f32_inputs(formats::e8m0);
  for (const auto m : kE8m0Modes) {
    for (const auto s : kSats) {
      const RoundingSpec rs = spec(rounding_of(m), overflow_of(s));
      run_check(
          e8m0_name("__nv_cvt_float_to_e8m0", m, s), formats::fp32, in,
          [&](uint64_t x) { return uint64_t{__nv_cvt_float_to_e8m0(as_float(x), s, m)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::fp32, formats::e8m0, rs); });
    }
  }
}

TEST(NvidiaE8m0, DoubleToE8m0) {
  const std::vector<uint64_t> in = f64_inputs(formats::e8m0);
  for (const auto m : kE8m0Modes) {
    for (const auto s : kSats) {
      const RoundingSpec rs = spec(rounding_of(m), overflow_of(s));
      run_check(
          e8m0_name("__nv_cvt_double_to_e8m0", m, s), formats::fp64, in,
          [&](uint64_t x) { return uint64_t{__nv_cvt_double_to_e8m0(as_double(x), s, m)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::fp64, formats::e8m0, rs); });
    }
  }
}

TEST(NvidiaE8m0, Bfloat16rawToE8m0Exhaustive) {
  const std::vector<uint64_t> in = all_codes(formats::bf16);
  for (const auto m : kE8m0Modes) {
    for (const auto s : kSats) {
      const RoundingSpec rs = spec(rounding_of(m), overflow_of(s));
      run_check(
          e8m0_name("__nv_cvt_bfloat16raw_to_e8m0", m, s), formats::bf16, in,
          [&](uint64_t x) { return uint64_t{__nv_cvt_bfloat16raw_to_e8m0(as_bf16_raw(x), s, m)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::bf16, formats::e8m0, rs); });
    }
  }
}

TEST(NvidiaE8m0, E8m0ToBf16rawAllCodes) {
  run_check(
      "__nv_cvt_e8m0_to_bf16raw", formats::e8m0, all_codes(formats::e8m0),
      [](uint64_t x) { return uint64_t{__nv_cvt_e8m0_to_bf16raw(static_cast<__nv_fp8_storage_t>(x)).x}; },
      [](uint64_t x) { return fpsim_convert(x, formats::e8m0, formats::bf16, RoundingSpec{}); },
      nan_decode_rule(formats::e8m0, formats::bf16, 0x7FFF));
}

// ---------------------------------------------------------------------------
// fp6 (e2m3, e3m2) and fp4 (e2m1). The host code accepts cudaRoundNearest
// and cudaRoundZero; there is no saturation parameter (the formats have no
// inf and no NaN: out-of-range and +-inf always give +-max, NaN gives +max,
// docs/formats.md §4). fpsim runs with the default (ieee) overflow policy,
// under which these formats saturate by themselves.

constexpr cudaRoundMode kFp6Modes[] = {cudaRoundNearest, cudaRoundZero};

const Format& fp6_format(__nv_fp6_interpretation_t k) { return k == __NV_E2M3 ? formats::e2m3 : formats::e3m2; }
const char* fp6_name(__nv_fp6_interpretation_t k) { return k == __NV_E2M3 ? "E2M3" : "E3M2"; }
constexpr __nv_fp6_interpretation_t kFp6Kinds[] = {__NV_E2M3, __NV_E3M2};

TEST(NvidiaFp6, FloatToFp6) {
  for (const auto k : kFp6Kinds) {
    const Format& to = fp6_format(k);
    const std::vector<uint64_t> in = f32_inputs(to);
    for (const auto m : kFp6Modes) {
      const RoundingSpec rs = spec(rounding_of(m));
      run_check(
          std::string("__nv_cvt_float_to_fp6(") + fp6_name(k) + ", " + mode_name(m) + ")", formats::fp32, in,
          [&](uint64_t x) { return uint64_t{__nv_cvt_float_to_fp6(as_float(x), k, m)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::fp32, to, rs); });
    }
  }
}

TEST(NvidiaFp6, DoubleToFp6) {
  for (const auto k : kFp6Kinds) {
    const Format& to = fp6_format(k);
    const std::vector<uint64_t> in = f64_inputs(to);
    for (const auto m : kFp6Modes) {
      const RoundingSpec rs = spec(rounding_of(m));
      run_check(
          std::string("__nv_cvt_double_to_fp6(") + fp6_name(k) + ", " + mode_name(m) + ")", formats::fp64, in,
          [&](uint64_t x) { return uint64_t{__nv_cvt_double_to_fp6(as_double(x), k, m)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::fp64, to, rs); });
    }
  }
}

TEST(NvidiaFp6, HalfrawAndBfloat16rawToFp6Exhaustive) {
  for (const auto k : kFp6Kinds) {
    const Format& to = fp6_format(k);
    for (const auto m : kFp6Modes) {
      const RoundingSpec rs = spec(rounding_of(m));
      run_check(
          std::string("__nv_cvt_halfraw_to_fp6(") + fp6_name(k) + ", " + mode_name(m) + ")", formats::fp16,
          all_codes(formats::fp16),
          [&](uint64_t x) { return uint64_t{__nv_cvt_halfraw_to_fp6(as_half_raw(x), k, m)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::fp16, to, rs); });
      run_check(
          std::string("__nv_cvt_bfloat16raw_to_fp6(") + fp6_name(k) + ", " + mode_name(m) + ")", formats::bf16,
          all_codes(formats::bf16),
          [&](uint64_t x) { return uint64_t{__nv_cvt_bfloat16raw_to_fp6(as_bf16_raw(x), k, m)}; },
          [&](uint64_t x) { return fpsim_convert(x, formats::bf16, to, rs); });
    }
  }
}

TEST(NvidiaFp6, Fp6ToHalfrawAllCodes) {
  for (const auto k : kFp6Kinds) {
    const Format& from = fp6_format(k);
    run_check(
        std::string("__nv_cvt_fp6_to_halfraw(") + fp6_name(k) + ")", from, all_codes(from),
        [&](uint64_t x) { return uint64_t{__nv_cvt_fp6_to_halfraw(static_cast<__nv_fp6_storage_t>(x), k).x}; },
        [&](uint64_t x) { return fpsim_convert(x, from, formats::fp16, RoundingSpec{}); });
  }
}

TEST(NvidiaFp4, FloatAndDoubleToFp4) {
  const std::vector<uint64_t> in32 = f32_inputs(formats::e2m1);
  const std::vector<uint64_t> in64 = f64_inputs(formats::e2m1);
  for (const auto m : kFp6Modes) {
    const RoundingSpec rs = spec(rounding_of(m));
    run_check(
        std::string("__nv_cvt_float_to_fp4(E2M1, ") + mode_name(m) + ")", formats::fp32, in32,
        [&](uint64_t x) { return uint64_t{__nv_cvt_float_to_fp4(as_float(x), __NV_E2M1, m)}; },
        [&](uint64_t x) { return fpsim_convert(x, formats::fp32, formats::e2m1, rs); });
    run_check(
        std::string("__nv_cvt_double_to_fp4(E2M1, ") + mode_name(m) + ")", formats::fp64, in64,
        [&](uint64_t x) { return uint64_t{__nv_cvt_double_to_fp4(as_double(x), __NV_E2M1, m)}; },
        [&](uint64_t x) { return fpsim_convert(x, formats::fp64, formats::e2m1, rs); });
  }
}

TEST(NvidiaFp4, HalfrawAndBfloat16rawToFp4Exhaustive) {
  for (const auto m : kFp6Modes) {
    const RoundingSpec rs = spec(rounding_of(m));
    run_check(
        std::string("__nv_cvt_halfraw_to_fp4(E2M1, ") + mode_name(m) + ")", formats::fp16,
        all_codes(formats::fp16),
        [&](uint64_t x) { return uint64_t{__nv_cvt_halfraw_to_fp4(as_half_raw(x), __NV_E2M1, m)}; },
        [&](uint64_t x) { return fpsim_convert(x, formats::fp16, formats::e2m1, rs); });
    run_check(
        std::string("__nv_cvt_bfloat16raw_to_fp4(E2M1, ") + mode_name(m) + ")", formats::bf16,
        all_codes(formats::bf16),
        [&](uint64_t x) { return uint64_t{__nv_cvt_bfloat16raw_to_fp4(as_bf16_raw(x), __NV_E2M1, m)}; },
        [&](uint64_t x) { return fpsim_convert(x, formats::bf16, formats::e2m1, rs); });
  }
}

TEST(NvidiaFp4, Fp4ToHalfrawAllCodes) {
  run_check(
      "__nv_cvt_fp4_to_halfraw(E2M1)", formats::e2m1, all_codes(formats::e2m1),
      [](uint64_t x) { return uint64_t{__nv_cvt_fp4_to_halfraw(static_cast<__nv_fp4_storage_t>(x), __NV_E2M1).x}; },
      [](uint64_t x) { return fpsim_convert(x, formats::e2m1, formats::fp16, RoundingSpec{}); });
}

// ---------------------------------------------------------------------------
// bf16 and fp16

TEST(NvidiaBf16, FloatToBfloat16) {
  const std::vector<uint64_t> in = f32_inputs(formats::bf16);
  const Rule nan_rule = nan_decode_rule(formats::fp32, formats::bf16, 0x7FFF);
  struct Fn {
    const char* name;
    __nv_bfloat16 (*f)(float);
    Rounding r;
  };
  for (const Fn& fn : {Fn{"__float2bfloat16", __float2bfloat16, Rounding::rne},
                       Fn{"__float2bfloat16_rn", __float2bfloat16_rn, Rounding::rne},
                       Fn{"__float2bfloat16_rz", __float2bfloat16_rz, Rounding::rtz},
                       Fn{"__float2bfloat16_ru", __float2bfloat16_ru, Rounding::rup},
                       Fn{"__float2bfloat16_rd", __float2bfloat16_rd, Rounding::rdn}}) {
    const RoundingSpec rs = spec(fn.r);
    run_check(
        fn.name, formats::fp32, in, [&](uint64_t x) { return bits_of(fn.f(as_float(x))); },
        [&](uint64_t x) { return fpsim_convert(x, formats::fp32, formats::bf16, rs); }, nan_rule);
  }
}

TEST(NvidiaBf16, DoubleToBfloat16) {
  run_check(
      "__double2bfloat16", formats::fp64, f64_inputs(formats::bf16),
      [](uint64_t x) { return bits_of(__double2bfloat16(as_double(x))); },
      [](uint64_t x) { return fpsim_convert(x, formats::fp64, formats::bf16, RoundingSpec{}); },
      nan_decode_rule(formats::fp64, formats::bf16, 0x7FFF));
}

TEST(NvidiaBf16, Bfloat16ToFloatAllCodes) {
  run_check(
      "__bfloat162float", formats::bf16, all_codes(formats::bf16),
      [](uint64_t x) {
        __nv_bfloat16 h = as_bf16_raw(x);
        return bits_of(__bfloat162float(h));
      },
      [](uint64_t x) { return fpsim_convert(x, formats::bf16, formats::fp32, RoundingSpec{}); },
      bf16_to_float_nan_rule());
}

TEST(NvidiaFp16, FloatToHalf) {
  const std::vector<uint64_t> in = f32_inputs(formats::fp16);
  const Rule nan_rule = nan_decode_rule(formats::fp32, formats::fp16, 0x7FFF);
  struct Fn {
    const char* name;
    __half (*f)(float);
    Rounding r;
  };
  for (const Fn& fn : {Fn{"__float2half", __float2half, Rounding::rne},
                       Fn{"__float2half_rn", __float2half_rn, Rounding::rne},
                       Fn{"__float2half_rz", __float2half_rz, Rounding::rtz},
                       Fn{"__float2half_ru", __float2half_ru, Rounding::rup},
                       Fn{"__float2half_rd", __float2half_rd, Rounding::rdn}}) {
    const RoundingSpec rs = spec(fn.r);
    run_check(
        fn.name, formats::fp32, in, [&](uint64_t x) { return bits_of(fn.f(as_float(x))); },
        [&](uint64_t x) { return fpsim_convert(x, formats::fp32, formats::fp16, rs); }, nan_rule);
  }
}

TEST(NvidiaFp16, DoubleToHalf) {
  run_check(
      "__double2half", formats::fp64, f64_inputs(formats::fp16),
      [](uint64_t x) { return bits_of(__double2half(as_double(x))); },
      [](uint64_t x) { return fpsim_convert(x, formats::fp64, formats::fp16, RoundingSpec{}); },
      nan_decode_rule(formats::fp64, formats::fp16, 0x7FFF));
}

TEST(NvidiaFp16, HalfToFloatAllCodes) {
  run_check(
      "__half2float", formats::fp16, all_codes(formats::fp16),
      [](uint64_t x) {
        __half h = as_half_raw(x);
        return bits_of(__half2float(h));
      },
      [](uint64_t x) { return fpsim_convert(x, formats::fp16, formats::fp32, RoundingSpec{}); },
      nan_decode_rule(formats::fp16, formats::fp32, 0x7FFFFFFF));
}

// ---------------------------------------------------------------------------
// Each documented difference, pinned with concrete inputs: NVIDIA's value and
// fpsim's value, and why fpsim keeps its own (docs/nvidia-differences.md).

uint64_t fp_f32(float x, const Format& to, RoundingSpec rs = {}) {
  return fpsim_convert(std::bit_cast<uint32_t>(x), formats::fp32, to, rs);
}
uint64_t fp_f64(double x, const Format& to, RoundingSpec rs = {}) {
  return fpsim_convert(std::bit_cast<uint64_t>(x), formats::fp64, to, rs);
}
const float kNegQNaN = std::bit_cast<float>(0xFFC00000u);
const float kPosQNaN = std::bit_cast<float>(0x7FC00000u);

// §7 (and §9.13 "fp32 −NaN → e4m3 0xFF"): conversions keep a NaN's sign
// where the target has signed NaNs. NVIDIA's host float/half/bf16 -> fp8 path
// canonicalises NaN to +0x7FFFFFFF first and so drops the sign.
TEST(NvidiaDifference, Fp8E4m3FromNegativeNaNDropsSign) {
  for (const auto s : kSats) {
    EXPECT_EQ(__nv_cvt_float_to_fp8(kNegQNaN, s, __NV_E4M3), 0x7F);
    EXPECT_EQ(__nv_cvt_halfraw_to_fp8(as_half_raw(0xFE00), s, __NV_E4M3), 0x7F);
    EXPECT_EQ(__nv_cvt_bfloat16raw_to_fp8(as_bf16_raw(0xFFC0), s, __NV_E4M3), 0x7F);
    EXPECT_EQ(fp_f32(kNegQNaN, formats::e4m3, spec(Rounding::rne, overflow_of(s))), 0xFFu);
    EXPECT_EQ(fpsim_convert(0xFE00, formats::fp16, formats::e4m3, spec(Rounding::rne, overflow_of(s))), 0xFFu);
    // The double path keeps the sign, as fpsim does.
    EXPECT_EQ(__nv_cvt_double_to_fp8(-std::numeric_limits<double>::quiet_NaN(), s, __NV_E4M3), 0xFF);
  }
}

// §7: the e5m2 default NaN is 0x7E (with the input's sign). NVIDIA's host
// float/half/bf16 path yields 0x7F (the all-ones payload of its canonical
// NaN) for every NaN, sign dropped.
TEST(NvidiaDifference, Fp8E5m2FromNaNIsAllOnesPayload) {
  for (const auto s : kSats) {
    EXPECT_EQ(__nv_cvt_float_to_fp8(kPosQNaN, s, __NV_E5M2), 0x7F);
    EXPECT_EQ(__nv_cvt_float_to_fp8(kNegQNaN, s, __NV_E5M2), 0x7F);
    EXPECT_EQ(__nv_cvt_halfraw_to_fp8(as_half_raw(0x7E00), s, __NV_E5M2), 0x7F);
    EXPECT_EQ(fp_f32(kPosQNaN, formats::e5m2, spec(Rounding::rne, overflow_of(s))), 0x7Eu);
    EXPECT_EQ(fp_f32(kNegQNaN, formats::e5m2, spec(Rounding::rne, overflow_of(s))), 0xFEu);
  }
}

// §7: payloads are not preserved. __nv_cvt_double_to_fp8(E5M2) ORs the top
// two f64 payload bits into 0x7E: the default f64 NaN gives 0x7E (= fpsim),
// a NaN with payload bit 50 set gives 0x7F.
TEST(NvidiaDifference, Fp8E5m2FromDoubleNaNKeepsPayloadBit) {
  const double q = std::bit_cast<double>(uint64_t{0x7FF8000000000000});
  const double q3 = std::bit_cast<double>(uint64_t{0xFFFC000000000000});
  for (const auto s : kSats) {
    EXPECT_EQ(__nv_cvt_double_to_fp8(q, s, __NV_E5M2), 0x7E);
    EXPECT_EQ(fp_f64(q, formats::e5m2, spec(Rounding::rne, overflow_of(s))), 0x7Eu);
    EXPECT_EQ(__nv_cvt_double_to_fp8(q3, s, __NV_E5M2), 0xFF);
    EXPECT_EQ(fp_f64(q3, formats::e5m2, spec(Rounding::rne, overflow_of(s))), 0xFEu);
  }
}

// §7: NaN results are the target's default NaN with the input's sign (fp16
// 0x7E00, bf16 0x7FC0, fp32 0x7FC00000). NVIDIA's host decoders and
// narrowing conversions return the positive all-ones NaN.
TEST(NvidiaDifference, NaNResultsInIeeeTargetsAreAllOnesUnsigned) {
  EXPECT_EQ(__nv_cvt_fp8_to_halfraw(0xFF, __NV_E4M3).x, 0x7FFF);
  EXPECT_EQ(fpsim_convert(0xFF, formats::e4m3, formats::fp16, {}), 0xFE00u);
  EXPECT_EQ(__nv_cvt_fp8_to_halfraw(0x7D, __NV_E5M2).x, 0x7FFF);  // e5m2 signaling NaN
  EXPECT_EQ(fpsim_convert(0x7D, formats::e5m2, formats::fp16, {}), 0x7E00u);
  EXPECT_EQ(__nv_cvt_e8m0_to_bf16raw(0xFF).x, 0x7FFF);
  EXPECT_EQ(fpsim_convert(0xFF, formats::e8m0, formats::bf16, {}), 0x7FC0u);
  EXPECT_EQ(bits_of(__float2bfloat16_rn(kNegQNaN)), 0x7FFFu);
  EXPECT_EQ(fp_f32(kNegQNaN, formats::bf16), 0xFFC0u);
  EXPECT_EQ(bits_of(__float2bfloat16_rz(kPosQNaN)), 0x7FFFu);
  EXPECT_EQ(fp_f32(kPosQNaN, formats::bf16, spec(Rounding::rtz)), 0x7FC0u);
  EXPECT_EQ(bits_of(__double2bfloat16(-std::numeric_limits<double>::quiet_NaN())), 0x7FFFu);
  EXPECT_EQ(fp_f64(-std::numeric_limits<double>::quiet_NaN(), formats::bf16), 0xFFC0u);
  EXPECT_EQ(bits_of(__float2half_rn(kPosQNaN)), 0x7FFFu);
  EXPECT_EQ(fp_f32(kPosQNaN, formats::fp16), 0x7E00u);
  EXPECT_EQ(bits_of(__double2half(-std::numeric_limits<double>::quiet_NaN())), 0x7FFFu);
  EXPECT_EQ(fp_f64(-std::numeric_limits<double>::quiet_NaN(), formats::fp16), 0xFE00u);
  __half h = as_half_raw(0xFE01);
  EXPECT_EQ(bits_of(__half2float(h)), 0x7FFFFFFFu);
  EXPECT_EQ(fpsim_convert(0xFE01, formats::fp16, formats::fp32, {}), 0xFFC00000u);
}

// §7: payloads are not preserved and signaling NaNs are quieted. NVIDIA's
// host __bfloat162float is a shift and keeps both.
TEST(NvidiaDifference, Bfloat16ToFloatKeepsNaNPayload) {
  __nv_bfloat16 snan = as_bf16_raw(0x7F81);
  EXPECT_EQ(bits_of(__bfloat162float(snan)), 0x7F810000u);
  EXPECT_EQ(fpsim_convert(0x7F81, formats::bf16, formats::fp32, {}), 0x7FC00000u);
}

// Decisions where the spec follows NVIDIA's host code (not differences; the
// sweeps count these inputs as matches). Pinned so a toolkit change shows.
TEST(NvidiaAgreement, SpecDecisionsTakenFromNvidia) {
  // §4: fp4/fp6 NaN of either sign -> +max (CUDA 13.0), inf -> +-max.
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto m : kFp6Modes) {
    EXPECT_EQ(__nv_cvt_float_to_fp4(kNegQNaN, __NV_E2M1, m), 0x7);
    EXPECT_EQ(fp_f32(kNegQNaN, formats::e2m1, spec(rounding_of(m))), 0x7u);
    EXPECT_EQ(__nv_cvt_float_to_fp6(kNegQNaN, __NV_E2M3, m), 0x1F);
    EXPECT_EQ(fp_f32(kNegQNaN, formats::e2m3, spec(rounding_of(m))), 0x1Fu);
    EXPECT_EQ(__nv_cvt_float_to_fp6(-inf, __NV_E3M2, m), 0x3F);
    EXPECT_EQ(fp_f32(-inf, formats::e3m2, spec(rounding_of(m))), 0x3Fu);
  }
  // §1 decisions: a negative input to e8m0 is read by magnitude (-3 -> code of 3).
  EXPECT_EQ(__nv_cvt_float_to_e8m0(-3.0f, __NV_NOSAT, cudaRoundZero), 128);
  EXPECT_EQ(fp_f32(-3.0f, formats::e8m0, spec(Rounding::rtz)), 128u);
  EXPECT_EQ(__nv_cvt_float_to_e8m0(-3.0f, __NV_NOSAT, cudaRoundPosInf), 129);
  EXPECT_EQ(fp_f32(-3.0f, formats::e8m0, spec(Rounding::rup)), 129u);
  // §4: e8m0 inf -> NaN 0xFF without saturation, 0xFE (max) with it; ±0 -> code 0 (§1).
  EXPECT_EQ(__nv_cvt_float_to_e8m0(inf, __NV_NOSAT, cudaRoundPosInf), 0xFF);
  EXPECT_EQ(fp_f32(inf, formats::e8m0, spec(Rounding::rup)), 0xFFu);
  EXPECT_EQ(__nv_cvt_float_to_e8m0(inf, __NV_SATFINITE, cudaRoundPosInf), 0xFE);
  EXPECT_EQ(fp_f32(inf, formats::e8m0, spec(Rounding::rup, Overflow::saturate)), 0xFEu);
  EXPECT_EQ(__nv_cvt_float_to_e8m0(-0.0f, __NV_NOSAT, cudaRoundZero), 0);
  EXPECT_EQ(fp_f32(-0.0f, formats::e8m0, spec(Rounding::rtz)), 0u);
  // §4/§9.1: e4m3 NOSAT overflow is NaN (0x7F, sign kept), SATFINITE 448.
  EXPECT_EQ(__nv_cvt_float_to_fp8(465.0f, __NV_NOSAT, __NV_E4M3), 0x7F);
  EXPECT_EQ(fp_f32(465.0f, formats::e4m3), 0x7Fu);
  EXPECT_EQ(__nv_cvt_float_to_fp8(-inf, __NV_NOSAT, __NV_E4M3), 0xFF);
  EXPECT_EQ(fp_f32(-inf, formats::e4m3), 0xFFu);
  EXPECT_EQ(__nv_cvt_float_to_fp8(464.0f, __NV_NOSAT, __NV_E4M3), 0x7E);
  EXPECT_EQ(__nv_cvt_float_to_fp8(61440.0f, __NV_NOSAT, __NV_E5M2), 0x7C);
  EXPECT_EQ(__nv_cvt_float_to_fp8(61440.0f, __NV_SATFINITE, __NV_E5M2), 0x7B);
  // §9.4: no double rounding on the f64 path.
  EXPECT_EQ(__nv_cvt_double_to_fp8(-431.99999999999994, __NV_NOSAT, __NV_E4M3), 0xFD);  // -416
  EXPECT_EQ(fp_f64(-431.99999999999994, formats::e4m3), 0xFDu);
}

}  // namespace
}  // namespace fpsim

#else  // no CUDA toolkit headers at configure time

namespace {

#define FPSIM_NVIDIA_SKIP(suite)                                                                          \
  TEST(suite, CudaHeadersNotFound) {                                                                      \
    GTEST_SKIP() << "CUDA toolkit headers not found at " FPSIM_CUDA_INCLUDE_DIR "; skipping the NVIDIA " \
                    "cross-check";                                                                        \
  }

FPSIM_NVIDIA_SKIP(NvidiaFp8)
FPSIM_NVIDIA_SKIP(NvidiaE8m0)
FPSIM_NVIDIA_SKIP(NvidiaFp6)
FPSIM_NVIDIA_SKIP(NvidiaFp4)
FPSIM_NVIDIA_SKIP(NvidiaBf16)
FPSIM_NVIDIA_SKIP(NvidiaFp16)
FPSIM_NVIDIA_SKIP(NvidiaDifference)
FPSIM_NVIDIA_SKIP(NvidiaAgreement)

}  // namespace

#endif
