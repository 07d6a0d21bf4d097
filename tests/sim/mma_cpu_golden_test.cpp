// Real CPU matrix-unit outputs (tests/data/cpu-golden: Intel AMX tdpbf16ps
// and AVX512-BF16 vdpbf16ps on a Xeon, 240,000 dot products each, recorded
// through sim/probe's targets; README there) against
//   - the presets amx-bf16-fp32 and avx512-bf16-fp32 (the MMA model), and
//   - the Intel SDM pseudo-code transcribed on std::fmaf (cpu_matrix_dots.hpp),
// so the CPU units' arithmetic is checked in every CI run, not only on
// machines that have the units.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cpu_matrix_dots.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/probe/mma_target.hpp"
#include "fpsim/probe/probe_suite.hpp"
#include "mma_files.hpp"

namespace fpsim::probe {
namespace {

struct Recorded {
  int k;
  uint64_t i;
  uint32_t d;
};

std::vector<Recorded> read_recorded(const std::string& unit) {
  const std::string path = std::string(FPSIM_TEST_DATA_DIR) + "/cpu-golden/" + unit + ".txt.gz";
  std::istringstream in(io::read_input_file(path));
  std::vector<Recorded> rows;
  Recorded r{};
  std::string hex;
  while (in >> r.k >> r.i >> hex) {
    r.d = uint32_t(std::stoul(hex, nullptr, 16));
    rows.push_back(r);
  }
  return rows;
}

struct Unit {
  const char* name;     // file name and target name
  const char* preset;   // the model of it
  float (*sdm)(std::span<const float>, std::span<const float>, float);
};

class CpuGolden : public testing::TestWithParam<Unit> {};

// The targets run one instruction even for K = 0, on padding (+0 · −0): the
// model sees that padding as one product, which changes nothing for K >= 1
// (x + −0 = x) and gives the unit's answer for K = 0 (C read under DAZ).
TEST_P(CpuGolden, PresetAndSdmPseudoCodeReproduceEveryRecordedDot) {
  const Unit& u = GetParam();
  const std::vector<Recorded> rows = read_recorded(u.name);
  ASSERT_EQ(rows.size(), std::size(kRecordedK) * kRecordedPerK);
  const MmaModel m = mma_preset(u.preset);
  size_t row = 0, model_ok = 0, sdm_ok = 0;
  std::string first;
  for (int K : kRecordedK) {
    for (uint64_t i = 0; i < kRecordedPerK; ++i, ++row) {
      ASSERT_EQ(rows[row].k, K);
      ASSERT_EQ(rows[row].i, i);
      RandomDot d = random_dot(K, i);
      sdm_ok += std::bit_cast<uint32_t>(u.sdm(d.a, d.b, d.c)) == rows[row].d;
      if (K == 0) {
        d.a = {0.0f};
        d.b = {-0.0f};
      }
      const uint32_t got = std::bit_cast<uint32_t>(mma_dot(m, d.a, d.b, d.c));
      if (got == rows[row].d) {
        ++model_ok;
      } else if (first.empty()) {
        std::ostringstream s;
        s << "K=" << K << " i=" << i << ": model 0x" << std::hex << got << ", unit 0x" << rows[row].d;
        first = s.str();
      }
    }
  }
  EXPECT_EQ(model_ok, rows.size()) << u.preset << "; first mismatch " << first;
  EXPECT_EQ(sdm_ok, rows.size()) << "SDM transcription";
}

// The acceptance chain without the hardware at hand: the probe suite
// runs on the SDM transcription (which reproduces every recorded dot of the
// real unit, above), fits a model, and that fitted model — not the preset —
// must reproduce every recorded dot of the real unit.
class SdmTarget final : public MmaTarget {
 public:
  explicit SdmTarget(const Unit& u) : unit_(u) {}
  std::string name() const override { return std::string("sdm:") + unit_.name; }
  Format input_format_a() const override { return formats::bf16; }
  Format input_format_b() const override { return formats::bf16; }
  Format output_format() const override { return formats::fp32; }
  float dot(std::span<const float> a, std::span<const float> b, float c) override { return unit_.sdm(a, b, c); }

 private:
  Unit unit_;
};

TEST_P(CpuGolden, ModelFittedByTheProbesReproducesEveryRecordedDot) {
  const Unit& u = GetParam();
  SdmTarget target(u);
  ProbeOptions options;
  options.random_vectors = 2000;
  const ProbeReport report = run_probes(target, options);
  EXPECT_EQ(report.random_mismatches, 0);
  const MmaModel& fit = report.fitted;
  const MmaModel preset = mma_preset(u.preset);
  EXPECT_EQ(describe_mma_model(fit), describe_mma_model(preset));
  const std::vector<Recorded> rows = read_recorded(u.name);
  size_t row = 0, ok = 0, compared = 0;
  for (int K : kRecordedK) {
    for (uint64_t i = 0; i < kRecordedPerK; ++i, ++row) {
      if (K == 0) continue;  // one instruction on padding: a property of the target, not of the arithmetic
      const RandomDot d = random_dot(K, i);
      ok += std::bit_cast<uint32_t>(mma_dot(fit, d.a, d.b, d.c)) == rows[row].d;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 220000u);
  EXPECT_EQ(ok, compared) << "fitted: " << describe_mma_model(fit);
}

INSTANTIATE_TEST_SUITE_P(Units, CpuGolden,
                         testing::Values(Unit{"amx-bf16", "amx-bf16-fp32", sdm_amx_dot},
                                         Unit{"avx512-bf16", "avx512-bf16-fp32", sdm_avx512_dot}),
                         [](const testing::TestParamInfo<Unit>& info) {
                           std::string s = info.param.name;
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace fpsim::probe
