// gpu/'s golden-data sets and files (gpu/include/fpsim/gpu/golden_files.hpp),
// read back with the CLI's own golden-file parser.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/gpu/golden_files.hpp"
#include "fpsim/gpu/mma_config.hpp"
#include "fpsim/mma.hpp"
#include "mma_files.hpp"

namespace fpsim::gpu {
namespace {

bool is_value_of(uint32_t bits, const Format& f) {
  const double v = std::bit_cast<float>(bits);
  Flags fl;
  return to_double(from_double(v, f, RoundingSpec{}, fl), f) == v;
}

TEST(GpuGoldenSets, EveryOperandIsAValueOfItsFormatAndSetsAreReproducible) {
  for (const MmaConfig& c : all_configs()) {
    const std::vector<GoldenSet> sets = golden_input_sets(c, 200, 7);
    const std::vector<GoldenSet> again = golden_input_sets(c, 200, 7);
    ASSERT_EQ(sets.size(), again.size());
    const bool fp8 = c.input == MmaInput::e4m3 || c.input == MmaInput::e5m2;
    EXPECT_EQ(sets.size(), size_t(2) + (fp8 ? 1 : 0) + (fp8 && c.accumulator == MmaAccumulator::fp16 ? 1 : 0))
        << config_name(c);
    for (size_t s = 0; s < sets.size(); ++s) {
      const GoldenSet& g = sets[s];
      EXPECT_EQ(g.a, again[s].a);
      EXPECT_EQ(g.c, again[s].c);
      ASSERT_EQ(g.a.size(), size_t(g.rows) * g.k);
      ASSERT_EQ(g.b.size(), g.a.size());
      ASSERT_EQ(g.c.size(), size_t(g.rows));
      for (uint32_t v : g.a) ASSERT_TRUE(is_value_of(v, input_format(c))) << config_name(c) << " " << g.name;
      for (uint32_t v : g.b) ASSERT_TRUE(is_value_of(v, input_format(c))) << config_name(c) << " " << g.name;
      int zero_c = 0;
      for (uint32_t v : g.c) {
        ASSERT_TRUE(is_value_of(v, output_format(c))) << config_name(c) << " " << g.name;
        zero_c += (v & 0x7fffffffu) == 0;
      }
      if (g.name == "zero-c")
        EXPECT_EQ(zero_c, g.rows);
      else
        EXPECT_EQ(zero_c, 0) << config_name(c) << " " << g.name;
      EXPECT_EQ(g.k, instruction_k(c) * (g.name == "chained" ? 4 : 1));
    }
  }
}

// fp16 accumulators: the exact sum of every random row stays finite in fp16,
// so the rows test rounding, not overflow.
TEST(GpuGoldenSets, Fp16OutputRowsStayInRange) {
  for (const MmaConfig& c : all_configs()) {
    if (c.accumulator != MmaAccumulator::fp16) continue;
    const GoldenSet g = golden_input_sets(c, 500, 11).front();
    int overflow = 0;
    for (int r = 0; r < g.rows; ++r) {
      double sum = std::bit_cast<float>(g.c[size_t(r)]);
      for (int j = 0; j < g.k; ++j)
        sum += double(std::bit_cast<float>(g.a[size_t(r) * g.k + j])) * std::bit_cast<float>(g.b[size_t(r) * g.k + j]);
      overflow += std::fabs(sum) >= 65520.0;
    }
    EXPECT_EQ(overflow, 0) << config_name(c);
  }
}

TEST(GpuGoldenFiles, WrittenFilesReadBackAndModelMatchesAreCounted) {
  const MmaConfig c = parse_config("wgmma-e4m3-fp32");
  const GoldenSet g = golden_input_sets(c, 50, 3).front();
  const MmaModel m = mma_preset(model_preset(c));
  std::vector<uint32_t> d(size_t(g.rows));
  for (int r = 0; r < g.rows; ++r) {
    std::vector<float> a(size_t(g.k)), b(size_t(g.k));
    for (int j = 0; j < g.k; ++j) {
      a[size_t(j)] = std::bit_cast<float>(g.a[size_t(r) * g.k + j]);
      b[size_t(j)] = std::bit_cast<float>(g.b[size_t(r) * g.k + j]);
    }
    d[size_t(r)] = std::bit_cast<uint32_t>(mma_dot(m, a, b, std::bit_cast<float>(g.c[size_t(r)])));
  }
  EXPECT_EQ(count_model_matches(m, g, d), g.rows);
  d[7] ^= 1;  // one bit off in one row
  EXPECT_EQ(count_model_matches(m, g, d), g.rows - 1);

  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "fpsim_gpu_golden_test";
  std::filesystem::create_directories(dir);
  write_golden_files(dir.string(), "H200", c, g, d);
  const auto a_rows = cli::read_hex_rows((dir / "a_H200_e4m3.txt").string(), g.k);
  const auto b_rows = cli::read_hex_rows((dir / "b_H200_e4m3.txt").string(), g.k);
  ASSERT_EQ(a_rows.size(), size_t(g.rows));
  for (int r = 0; r < g.rows; ++r)
    for (int j = 0; j < g.k; ++j) {
      ASSERT_EQ(a_rows[size_t(r)][size_t(j)], g.a[size_t(r) * g.k + j]);
      ASSERT_EQ(b_rows[size_t(r)][size_t(j)], g.b[size_t(r) * g.k + j]);
    }
  EXPECT_EQ(cli::read_binary_words((dir / "c_H200_fp32.txt").string()), g.c);
  EXPECT_EQ(cli::read_binary_words((dir / "d_H200_fp32.txt").string()), d);
  EXPECT_THROW(write_golden_files(dir.string(), "H200", c, g, std::span<const uint32_t>(d).first(3)), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fpsim::gpu
