// The CPU matrix units behind the probe interface (issue 5): AMX-BF16
// (tdpbf16ps) and AVX512-BF16 (vdpbf16ps).
//
// The operand layouts are pure functions, checked on every host against
// layouts written out by hand from the SDM. The units themselves are
// checked only where the CPU has them (exact small-integer sums, the
// documented denormal handling, bit-exact agreement with a transcription of
// the SDM pseudo-code and with the model the probe suite fits); elsewhere
// each such test is skipped with the missing CPU feature in its message.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/probe/cpu_matrix_targets.hpp"
#include "fpsim/probe/probe_suite.hpp"
#include "cpu_matrix_dots.hpp"
#include "test_random.hpp"

namespace fpsim::probe {
namespace {

float bf16_value(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

// ---- Layouts (every host) ----

TEST(CpuMatrixLayout, Bf16BitsOfReadsTheUpperHalf) {
  EXPECT_EQ(bf16_bits_of(1.0f, "a", 0), 0x3f80);
  EXPECT_EQ(bf16_bits_of(-2.5f, "a", 0), 0xc020);
  EXPECT_EQ(bf16_bits_of(std::ldexp(1.0f, -133), "a", 0), 0x0001);  // smallest bf16 subnormal
  EXPECT_EQ(bf16_bits_of(-0.0f, "b", 0), 0x8000);
  EXPECT_EQ(bf16_bits_of(INFINITY, "b", 0), 0x7f80);
}

TEST(CpuMatrixLayout, Bf16BitsOfRejectsValuesWiderThanBf16) {
  // 1 + 2^-8 needs 8 fraction bits; bf16 has 7.
  try {
    bf16_bits_of(1.0f + std::ldexp(1.0f, -8), "a", 3);
    FAIL() << "1 + 2^-8 was accepted as a bf16 value";
  } catch (const OptionError& e) {
    EXPECT_NE(std::string(e.what()).find("a[3] = 1.00390625 (0x3f808000) is not a bf16 value"), std::string::npos)
        << e.what();
  }
}

TEST(CpuMatrixLayout, TileConfigIsPalette1WithTheDotShapes) {
  // LDTILECFG operand (SDM vol. 2, LDTILECFG: the tile configuration): byte 0 palette,
  // byte 1 start_row, 16 + 2t colsb (uint16 LE), 48 + t rows.
  std::array<uint8_t, 64> want{};
  want[0] = 1;
  want[16] = 4;   // tmm0 C: 4 bytes
  want[18] = 64;  // tmm1 A: 64 bytes
  want[20] = 4;   // tmm2 B: 4 bytes
  want[48] = 1;
  want[49] = 1;
  want[50] = 16;
  EXPECT_EQ(amx_tile_config(kAmxDotTiles), want);
}

TEST(CpuMatrixLayout, TileConfigRejectsShapesOutsidePalette1) {
  const std::vector<std::vector<TileShape>> bad = {{{17, 4}}, {{0, 4}}, {{1, 68}},
                                                   {{1, 6}},  {{1, 0}}, std::vector<TileShape>(9, TileShape{1, 4})};
  for (const auto& tiles : bad) EXPECT_THROW(amx_tile_config(tiles), OptionError);
  const std::vector<TileShape> wide = {{16, 64}, {16, 64}};
  const auto cfg = amx_tile_config(wide);
  EXPECT_EQ(cfg[16], 64);
  EXPECT_EQ(cfg[17], 0);
  EXPECT_EQ(cfg[49], 16);
}

TEST(CpuMatrixLayout, VnniInterleavesPairsOfRows) {
  // B = [[1 2] [3 4] [5 6]] (K = 3, N = 2): row r of the VNNI layout holds
  // (B[2r][n], B[2r+1][n]) for n = 0, 1; the odd K is padded with 0xeeee.
  const std::vector<uint16_t> b = {1, 2, 3, 4, 5, 6};
  const std::vector<uint16_t> want = {1, 3, 2, 4, 5, 0xeeee, 6, 0xeeee};
  EXPECT_EQ(pack_vnni_bf16(b, 3, 2, 0xeeee), want);
  EXPECT_THROW(pack_vnni_bf16(b, 4, 2, 0), OptionError);
}

TEST(CpuMatrixLayout, AmxDotChunksBy32AndPadsWithPlusZeroTimesMinusZero) {
  std::vector<float> a(33), b(33);
  for (int k = 0; k < 33; ++k) {
    a[k] = static_cast<float>(k + 1);  // bf16 exact up to 256
    b[k] = static_cast<float>(-(k + 1));
  }
  const AmxDotOperands ops = pack_amx_dot(a, b);
  ASSERT_EQ(ops.chunks, 2);
  ASSERT_EQ(ops.a.size(), 64u);
  ASSERT_EQ(ops.b.size(), 64u);
  for (int k = 0; k < 33; ++k) {
    EXPECT_EQ(bf16_value(ops.a[k]), k + 1) << k;
    EXPECT_EQ(bf16_value(ops.b[k]), -(k + 1)) << k;  // N = 1: VNNI row r = (b[2r], b[2r+1]) is memory order
  }
  for (int k = 33; k < 64; ++k) {
    EXPECT_EQ(ops.a[k], 0x0000) << k;
    EXPECT_EQ(ops.b[k], 0x8000) << k;
  }
  const AmxDotOperands empty = pack_amx_dot({}, {});
  EXPECT_EQ(empty.chunks, 1);  // K = 0 still runs one tdpbf16ps on C
  EXPECT_EQ(empty.a, std::vector<uint16_t>(32, 0x0000));
  EXPECT_EQ(empty.b, std::vector<uint16_t>(32, 0x8000));
  EXPECT_THROW(pack_amx_dot(a, std::vector<float>(32, 1.0f)), OptionError);
  a[7] = 1.0f + std::ldexp(1.0f, -9);
  EXPECT_THROW(pack_amx_dot(a, b), OptionError);
}

TEST(CpuMatrixLayout, Avx512PairsPutTheEarlierElementInTheHighHalf) {
  // SDM VDPBF16PS: the lane's first FMA takes bf16[2i+1], the high half of
  // dword i; so x[2j] goes high and runs first.
  const std::vector<float> x = {1.0f, 2.0f, 3.0f};
  const std::vector<uint32_t> want = {0x3f804000u, 0x4040abcdu};
  EXPECT_EQ(pack_avx512_lane_pairs(x, 0xabcd, "a"), want);
  EXPECT_EQ(pack_avx512_lane_pairs({}, 0x8000, "b"), std::vector<uint32_t>{0x80008000u});
  const std::vector<float> bad = {1.0f, 0.1f};
  EXPECT_THROW(pack_avx512_lane_pairs(bad, 0, "a"), OptionError);
}

// ---- Detection (every host) ----

// The flags of /proc/cpuinfo's first processor; empty where there is none.
std::set<std::string> cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string w; words >> w;) flags.insert(w);
    return flags;
  }
  return {};
}

std::string hex(float x) {
  std::ostringstream s;
  s << std::hex << std::setw(8) << std::setfill('0') << std::bit_cast<uint32_t>(x);
  return s.str();
}

struct Unit {
  std::string name;
  std::vector<std::string> cpuinfo_flags;  // what Linux reports when the CPU and kernel support the unit
  std::function<bool(std::string*)> available;
  std::function<std::unique_ptr<MmaTarget>()> make;
  std::function<float(std::span<const float>, std::span<const float>, float)> sdm;
};

// gtest prints a parameter into the CTest names; the name keeps them stable.
void PrintTo(const Unit& u, std::ostream* os) { *os << u.name; }

const Unit kUnits[] = {
    {"amx-bf16", {"amx_tile", "amx_bf16"}, amx_bf16_available, make_amx_bf16_target, sdm_amx_dot},
    {"avx512-bf16", {"avx512f", "avx512_bf16"}, avx512_bf16_available, make_avx512_bf16_target, sdm_avx512_dot},
};

class CpuMatrixUnit : public ::testing::TestWithParam<Unit> {
 protected:
  // The unit, or nullptr after GTEST_SKIP() naming what is missing.
  std::unique_ptr<MmaTarget> unit_or_skip() {
    std::string why;
    if (!GetParam().available(&why)) return nullptr;
    return GetParam().make();
  }
  std::string why_not() const {
    std::string why;
    GetParam().available(&why);
    return why;
  }
};

TEST_P(CpuMatrixUnit, AvailabilityAgreesWithProcCpuinfo) {
#if defined(__linux__) && defined(__x86_64__)
  const std::set<std::string> flags = cpuinfo_flags();
  ASSERT_FALSE(flags.empty()) << "no flags line in /proc/cpuinfo";
  std::string missing;
  for (const std::string& f : GetParam().cpuinfo_flags) {
    if (flags.contains(f)) continue;
    if (!missing.empty()) missing += ' ';
    missing += f;
  }
  std::string why;
  const bool available = GetParam().available(&why);
  if (!missing.empty()) {
    EXPECT_FALSE(available) << GetParam().name << " reported available but /proc/cpuinfo lacks " << missing;
    EXPECT_FALSE(why.empty());
    std::cout << GetParam().name << ": absent (/proc/cpuinfo lacks " << missing << "): " << why << "\n";
  } else if (!available) {
    // The CPU has it but this process may not use it (e.g. AMX permission refused).
    EXPECT_FALSE(why.empty());
    std::cout << GetParam().name << ": in /proc/cpuinfo but unavailable: " << why << "\n";
  } else {
    EXPECT_TRUE(why.empty()) << why;
  }
#else
  GTEST_SKIP() << "/proc/cpuinfo is read only on x86-64 Linux";
#endif
}

TEST_P(CpuMatrixUnit, FactoryThrowsTheReasonWhenAbsent) {
  std::string why;
  if (GetParam().available(&why)) {
    const auto unit = GetParam().make();
    EXPECT_EQ(unit->name(), GetParam().name);
    EXPECT_EQ(unit->input_format_a().name, std::string("bf16"));
    EXPECT_EQ(unit->input_format_b().name, std::string("bf16"));
    EXPECT_EQ(unit->output_format().name, std::string("fp32"));
    EXPECT_EQ(unit->max_k(), 0);
    return;
  }
  try {
    GetParam().make();
    FAIL() << GetParam().name << " was made although unavailable";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

// ---- The units (skipped where absent) ----

TEST_P(CpuMatrixUnit, SmallIntegerDotsAreExact) {
  const auto unit = unit_or_skip();
  if (!unit) GTEST_SKIP() << GetParam().name << " absent: " << why_not();
  // Products and every partial sum are integers below 2^24, exact in FP32
  // whatever the order and rounding: the exact sum is the only answer.
  uint64_t n = 0;
  for (int K : {0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 64, 100, 257}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> a(K), b(K);
      int64_t exact = static_cast<int64_t>(test::mix64(++n) % 201) - 100;
      const float c = static_cast<float>(exact);
      for (int k = 0; k < K; ++k) {
        const int64_t x = static_cast<int64_t>(test::mix64(++n) % 33) - 16;
        const int64_t y = static_cast<int64_t>(test::mix64(++n) % 33) - 16;
        a[k] = static_cast<float>(x);
        b[k] = static_cast<float>(y);
        exact += x * y;
      }
      const float d = unit->dot(a, b, c);
      EXPECT_EQ(d, static_cast<float>(exact)) << GetParam().name << " K=" << K << " trial " << trial;
    }
  }
  const std::vector<float> two = {1.0f, 2.0f};
  EXPECT_THROW(unit->dot(two, std::vector<float>{1.0f}, 0.0f), OptionError);
  EXPECT_THROW(unit->dot(two, std::vector<float>{1.0f, 0.1f}, 0.0f), OptionError);
}

TEST_P(CpuMatrixUnit, DocumentedDenormalHandling) {
  const auto unit = unit_or_skip();
  if (!unit) GTEST_SKIP() << GetParam().name << " absent: " << why_not();
  // SDM (TDPBF16PS, VDPBF16PS): "input denormals are always treated as
  // zero" and "output denormals are always flushed to zero".
  const float sub_in = std::ldexp(1.0f, -130);  // a bf16 subnormal
  const std::vector<float> a1 = {sub_in}, b1 = {std::ldexp(1.0f, 20)};
  EXPECT_EQ(unit->dot(a1, b1, 0.0f), 0.0f) << "2^-130 · 2^20 = 2^-110: a subnormal input was not read as zero";
  const std::vector<float> a2 = {std::ldexp(1.0f, -70)}, b2 = {std::ldexp(1.0f, -70)};
  EXPECT_EQ(unit->dot(a2, b2, 0.0f), 0.0f) << "2^-70 · 2^-70 = 2^-140: a subnormal result was not flushed";
  // Control: the same magnitudes as normal numbers pass.
  const std::vector<float> a3 = {std::ldexp(1.0f, -60)}, b3 = {std::ldexp(1.0f, -60)};
  EXPECT_EQ(unit->dot(a3, b3, 0.0f), std::ldexp(1.0f, -120));
}

TEST_P(CpuMatrixUnit, MatchesTheSdmPseudoCodeOn100000RandomDots) {
  const auto unit = unit_or_skip();
  if (!unit) GTEST_SKIP() << GetParam().name << " absent: " << why_not();
  // Measured on an Intel Xeon with AMX-BF16 and AVX512-BF16 (Sapphire
  // Rapids class; docs/mma.md "CPU matrix units"): 240,000 of 240,000 per
  // unit matched before this test was written.
  long mismatches = 0, total = 0;
  for (int K : {0, 1, 2, 3, 4, 16, 31, 32, 33, 64, 100}) {
    for (uint64_t i = 0; i < 9091; ++i, ++total) {
      const RandomDot d = random_dot(K, i);
      const float got = unit->dot(d.a, d.b, d.c);
      const float want = GetParam().sdm(d.a, d.b, d.c);
      if (std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(want)) continue;
      if (++mismatches <= 5) {
        ADD_FAILURE() << GetParam().name << " K=" << K << " dot " << i << ": unit " << hex(got) << ", SDM " << hex(want)
                      << " (c = " << hex(d.c) << ")";
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << total;
  std::cout << GetParam().name << ": " << total - mismatches << " of " << total << " match the SDM pseudo-code\n";
}

// The acceptance test: probe the unit, fit a model, and compare the
// fitted model with the unit on 100,002 random dot products.
TEST_P(CpuMatrixUnit, FittedModelAgreesOn100000RandomDots) {
  const auto unit = unit_or_skip();
  if (!unit) GTEST_SKIP() << GetParam().name << " absent: " << why_not();
  const ProbeReport report = run_probes(*unit);
  std::cout << GetParam().name << " fitted: " << describe_mma_model(report.fitted) << "\n"
            << "  probe suite's own random check: " << report.random_checks - report.random_mismatches << " of "
            << report.random_checks << "\n";
  long mismatches = 0, total = 0;
  for (int K : {1, 2, 16, 32, 64, 100}) {
    for (uint64_t i = 0; i < 16667; ++i, ++total) {
      const RandomDot d = random_dot(K, i);
      const float got = unit->dot(d.a, d.b, d.c);
      const float want = mma_dot(report.fitted, d.a, d.b, d.c);
      if (std::bit_cast<uint32_t>(got) == std::bit_cast<uint32_t>(want)) continue;
      if (++mismatches <= 5) {
        ADD_FAILURE() << GetParam().name << " K=" << K << " dot " << i << ": unit " << hex(got) << ", fitted model "
                      << hex(want) << " (c = " << hex(d.c) << ")";
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << total << " (model " << describe_mma_model(report.fitted) << ")";
  std::cout << GetParam().name << ": " << total - mismatches << " of " << total << " match the fitted model\n";
}

INSTANTIATE_TEST_SUITE_P(Units, CpuMatrixUnit, ::testing::ValuesIn(kUnits),
                         [](const ::testing::TestParamInfo<Unit>& info) {
                           return info.param.name == "amx-bf16" ? std::string("AmxBf16") : std::string("Avx512Bf16");
                         });

}  // namespace
}  // namespace fpsim::probe
