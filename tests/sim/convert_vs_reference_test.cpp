// Exhaustive: every code of every built-in format of 16 bits or fewer,
// converted to every built-in format in every mode and both overflow
// policies (plus ftz / daz / tininess-before variants), equals the MPFR
// reference bit for bit, flags included. Stochastic rounding: the result is
// one of the reference's two candidates, with that candidate's flags, and
// only a candidate of non-zero probability.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim_ref/reference.hpp"
#include "reference_bridge.hpp"

namespace fpsim {
namespace {

using test::ref_spec_of;
using test::SpecCase;

struct Pair {
  std::string from;
  std::string to;
};

std::vector<Pair> pairs(bool sixteen_bit_sources) {
  std::vector<Pair> out;
  for (const Format& from : builtin_formats()) {
    if (from.bits > 16 || (from.bits == 16) != sixteen_bit_sources) continue;
    for (const Format& to : builtin_formats()) out.push_back({from.name, to.name});
  }
  return out;
}

// The rounding variants checked for a source format: all six deterministic
// modes with both overflow policies, and subnormal/tininess options (all
// modes for narrow sources, rne and rup for 16-bit ones).
std::vector<SpecCase> spec_cases(bool narrow_source) {
  std::vector<SpecCase> out;
  const Rounding modes[] = {Rounding::rne, Rounding::rna, Rounding::rtz, Rounding::rup, Rounding::rdn, Rounding::rto};
  for (Rounding m : modes)
    for (Overflow ov : {Overflow::ieee, Overflow::saturate}) out.push_back({m, ov, false, false, Tininess::after});
  for (Rounding m : modes) {
    if (!narrow_source && m != Rounding::rne && m != Rounding::rup) continue;
    out.push_back({m, Overflow::ieee, true, false, Tininess::after});
    out.push_back({m, Overflow::ieee, false, true, Tininess::after});
    out.push_back({m, Overflow::ieee, false, false, Tininess::before});
    out.push_back({m, Overflow::saturate, true, true, Tininess::before});
  }
  return out;
}

class ConvertEveryCode : public testing::TestWithParam<Pair> {
 protected:
  void check_all() {
    const Format from = parse_format(GetParam().from);
    const Format to = parse_format(GetParam().to);
    const auto& rfrom = fpsim_ref::ref_format(GetParam().from);
    const auto& rto = fpsim_ref::ref_format(GetParam().to);
    uint64_t checked = 0, failed = 0;
    std::ostringstream first;
    auto mismatch = [&](uint64_t code, const std::string& what, uint64_t got, uint32_t got_flags, uint64_t want,
                        uint32_t want_flags) {
      if (failed++ < 10)
        first << from.name << " 0x" << std::hex << code << " -> " << to.name << " [" << what << "]: got 0x" << got
              << " flags 0x" << got_flags << ", reference 0x" << want << " flags 0x" << want_flags << std::dec
              << '\n';
    };
    for (const SpecCase& sc : spec_cases(from.bits <= 8)) {
      const RoundingSpec rs = sc.sim();
      const fpsim_ref::RefSpec ref = ref_spec_of(sc);
      for (uint64_t code = 0; code < from.code_count(); ++code) {
        Flags fl;
        const uint64_t got = convert(code, from, to, rs, fl);
        const fpsim_ref::RefResult want = fpsim_ref::ref_convert(code, rfrom, rto, ref);
        ++checked;
        if (got != want.code || fl.bits != want.flags) mismatch(code, sc.name(), got, fl.bits, want.code, want.flags);
      }
    }
    // Stochastic rounding, exact and with R random bits.
    for (const int sr_bits : {0, 1, 8}) {
      for (Overflow ov : {Overflow::ieee, Overflow::saturate}) {
        SpecCase sc{Rounding::sr, ov, false, false, Tininess::after};
        RoundingSpec rs = sc.sim();
        rs.sr_bits = uint8_t(sr_bits);
        rs.seed = 12345;
        for (uint64_t code = 0; code < from.code_count(); ++code) {
          Flags fl;
          const uint64_t got = convert(code, from, to, rs, fl, code);
          const auto want = fpsim_ref::ref_stochastic(code, rfrom, rto, ref_spec_of(sc), sr_bits);
          ++checked;
          const bool is_down = got == want.toward_zero.code && fl.bits == want.toward_zero.flags && want.p_away < 1;
          const bool is_up = got == want.away.code && fl.bits == want.away.flags && want.p_away > 0;
          if (!is_down && !is_up)
            mismatch(code, "sr" + std::to_string(sr_bits) + " " + std::string(overflow_name(ov)), got, fl.bits,
                     want.toward_zero.code, want.toward_zero.flags);
        }
      }
    }
    EXPECT_EQ(failed, 0u) << "of " << checked << " conversions; first mismatches:\n" << first.str();
    EXPECT_GT(checked, 0u);
  }
};

using ConvertEveryNarrowCode = ConvertEveryCode;
using ConvertEvery16BitCode = ConvertEveryCode;

TEST_P(ConvertEveryNarrowCode, MatchesMpfrReference) { check_all(); }
TEST_P(ConvertEvery16BitCode, MatchesMpfrReference) { check_all(); }

std::string pair_name(const testing::TestParamInfo<Pair>& info) { return info.param.from + "_to_" + info.param.to; }

INSTANTIATE_TEST_SUITE_P(Exhaustive, ConvertEveryNarrowCode, testing::ValuesIn(pairs(false)), pair_name);
INSTANTIATE_TEST_SUITE_P(Exhaustive, ConvertEvery16BitCode, testing::ValuesIn(pairs(true)), pair_name);

}  // namespace
}  // namespace fpsim
