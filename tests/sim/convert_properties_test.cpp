// Properties against the MPFR reference for f32 and f64 inputs into every
// built-in format, with boundary-biased RapidCheck generators: zeros,
// subnormals, powers of two, the target's values, ties between them,
// max-finite and its neighbours, specials, and random bit patterns.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "fpsim/convert.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim_ref/reference.hpp"
#include "reference_bridge.hpp"

namespace fpsim {
namespace {

using test::ref_spec_of;
using test::SpecCase;

// A random finite non-NaN value of `f` as a double (its exact value).
rc::Gen<double> target_value(const Format& f) {
  return rc::gen::map(rc::gen::inRange<uint64_t>(0, f.is_integer() ? 256 : f.code_count()), [f](uint64_t code) {
    const double v = to_double(code, f);
    return std::isfinite(v) ? v : 0.0;
  });
}

// Doubles that sit where rounding into `f` is delicate.
rc::Gen<double> boundary_double(const Format& f) {
  const double max = describe(f).max_finite;
  const double ulp_at_max = f.is_integer() || f.is_scale() ? max / 2 : std::ldexp(max, -f.man_bits - 1);
  return rc::gen::oneOf(
      rc::gen::element(0.0, -0.0, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                       std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::denorm_min(),
                       std::numeric_limits<double>::max(), max, -max, max + ulp_at_max / 2, -(max + ulp_at_max / 2),
                       std::nextafter(max + ulp_at_max / 2, 0.0), std::nextafter(max + ulp_at_max / 2, 1e308)),
      rc::gen::map(rc::gen::inRange(-1100, 1030), [](int k) { return std::ldexp(1.0, k); }),
      rc::gen::map(rc::gen::arbitrary<uint64_t>(), [](uint64_t bits) { return std::bit_cast<double>(bits); }),
      rc::gen::map(rc::gen::inRange<uint64_t>(1, uint64_t{1} << 52),
                   [](uint64_t m) { return std::bit_cast<double>(m); }),  // fp64 subnormals
      target_value(f),
      // a tie between two neighbouring values of f, and its neighbours
      rc::gen::map(rc::gen::pair(target_value(f), rc::gen::inRange(-1, 2)),
                   [f](std::pair<double, int> p) {
                     const double a = p.first;
                     Flags fl;
                     RoundingSpec up;
                     up.rounding = Rounding::rup;
                     const double b = to_double(from_double(std::nextafter(a, 1e308), f, up, fl), f);
                     const double mid = std::isfinite(b) ? a / 2 + b / 2 : a;
                     return p.second == 0 ? mid : std::nextafter(mid, p.second * 1e308);
                   }),
      rc::gen::map(rc::gen::pair(target_value(f), rc::gen::element(-1.0, 1.0)),
                   [](std::pair<double, double> p) { return std::nextafter(p.first, p.second * 1e308); }));
}

std::vector<SpecCase> all_spec_cases() {
  std::vector<SpecCase> out;
  for (Rounding m : {Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::rup, Rounding::rdn, Rounding::rto})
    for (Overflow ov : {Overflow::ieee, Overflow::saturate}) {
      out.push_back({m, ov, false, false, Tininess::after});
      out.push_back({m, ov, true, false, Tininess::before});
    }
  return out;
}

// sim's conversion of x: from_float for a float (its own fp32 decoding path),
// from_double for a double. The reference always reads the exact value as a
// double (every float is one).
template <class T>
uint64_t sim_convert(T x, const Format& f, const RoundingSpec& rs, Flags& fl, uint64_t index = 0) {
  if constexpr (std::is_same_v<T, float>)
    return from_float(x, f, rs, fl, index);
  else
    return from_double(x, f, rs, fl, index);
}

template <class T>
void check_value(T x, const Format& f) {
  const auto& rf = fpsim_ref::ref_format(f.name);
  for (const SpecCase& sc : all_spec_cases()) {
    Flags fl;
    const uint64_t got = sim_convert(x, f, sc.sim(), fl);
    const auto want = fpsim_ref::ref_from_double(x, rf, ref_spec_of(sc));
    RC_ASSERT(got == want.code);
    RC_ASSERT(fl.bits == want.flags);
  }
  for (int sr_bits : {0, 4, 16}) {
    RoundingSpec rs;
    rs.rounding = Rounding::sr;
    rs.sr_bits = uint8_t(sr_bits);
    Flags fl;
    const uint64_t got = sim_convert(x, f, rs, fl, std::bit_cast<uint64_t>(double(x)));
    const auto want = fpsim_ref::ref_stochastic_double(x, rf, fpsim_ref::RefSpec{}, sr_bits);
    const bool down = got == want.toward_zero.code && fl.bits == want.toward_zero.flags && want.p_away < 1;
    const bool up = got == want.away.code && fl.bits == want.away.flags && want.p_away > 0;
    RC_ASSERT(down || up);
  }
}

class ConvertProperties : public testing::TestWithParam<std::string> {};

TEST_P(ConvertProperties, DoubleInputsMatchMpfrReference) {
  const Format f = parse_format(GetParam());
  EXPECT_TRUE(rc::check("f64 -> " + GetParam(), [f] { check_value(*boundary_double(f), f); }));
}

TEST_P(ConvertProperties, FloatInputsMatchMpfrReference) {
  const Format f = parse_format(GetParam());
  EXPECT_TRUE(rc::check("f32 -> " + GetParam(), [f] {
    const float x = float(*boundary_double(f));  // the nearest float to a delicate double
    const bool nudge = *rc::gen::arbitrary<bool>();
    check_value(nudge ? std::nextafter(x, 1e30f) : x, f);
  }));
}

std::vector<std::string> target_names() {
  std::vector<std::string> out;
  for (const Format& f : builtin_formats()) out.push_back(f.name);
  for (const char* user : {"e6m9", "e3m2b5", "e5m3fnuz", "e4m0fn", "e11m40", "e2m5fn"}) out.push_back(user);
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllTargets, ConvertProperties, testing::ValuesIn(target_names()),
                         [](const testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace fpsim
