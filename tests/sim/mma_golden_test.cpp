// Real tensor-core outputs (tests/data/gpu-golden/, from Khattak & Mikaitis'
// MATLAB-tensor-core model_validation/, BSD-2-Clause) through the matching
// presets: every file must match bit for bit (docs/mma.md, "Facts to reproduce", §7), except
// FP8 inputs with FP16 output, which no public model explains (§6 Q2): there
// the count our best model reaches is pinned and documented in docs/mma.md.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fpsim/bulk/mma_gemm_bulk.hpp"
#include "fpsim/mma.hpp"
#include "mma_files.hpp"

namespace fpsim {
namespace {

struct GoldenCase {
  const char* gpu;     // folder and file tag: V100, A100, H100
  const char* input;   // folder and file tag: fp16, bf16, tf32, E4M3, E5M2
  const char* output;  // fp32 or fp16: the d file
  const char* preset;
  int k;
  bool c_used;  // false: the GPU computed D = A·B with C = 0 (H100 FP8, FP32 out; golden README)
};

struct GoldenResult {
  size_t rows = 0;
  size_t matched = 0;
  std::vector<uint32_t> matched_rows;  // 1-based, ascending
  std::string first_mismatch;
};

std::string dir_of(const GoldenCase& g) {
  return std::string(FPSIM_TEST_DATA_DIR) + "/gpu-golden/" + g.gpu + "/" + g.input + "/";
}

// The evaluator a golden case runs through: the definition, or the SIMD
// GEMM (issue 15) with each row as a 1×K by K×1 product.
enum class Evaluator { mma_dot, bulk_gemm };

GoldenResult run_case(const GoldenCase& g, bool use_c, Evaluator how = Evaluator::mma_dot) {
  const std::string dir = dir_of(g), tag = std::string("_") + g.gpu + "_";
  const auto a = cli::read_hex_rows(dir + "a" + tag + g.input + ".txt.gz", g.k);
  const auto b = cli::read_hex_rows(dir + "b" + tag + g.input + ".txt.gz", g.k);
  const auto c = cli::read_binary_words(dir + "c" + tag + "fp32.txt.gz");
  const auto d = cli::read_binary_words(dir + "d" + tag + g.output + ".txt.gz");
  // A short or missing file must fail the test, not shorten the loop below
  // (or read past a shorter file).
  if (a.size() != 5000u || b.size() != a.size() || c.size() != a.size() || d.size() != a.size())
    throw std::runtime_error(dir + ": expected 5000 rows in every file, read a " + std::to_string(a.size()) + ", b " +
                             std::to_string(b.size()) + ", c " + std::to_string(c.size()) + ", d " +
                             std::to_string(d.size()));
  const MmaModel m = mma_preset(g.preset);
  GoldenResult r;
  std::vector<float> av(size_t(g.k)), bv(size_t(g.k));
  for (size_t i = 0; i < a.size(); ++i) {
    for (int k = 0; k < g.k; ++k) {
      av[size_t(k)] = std::bit_cast<float>(a[i][size_t(k)]);
      bv[size_t(k)] = std::bit_cast<float>(b[i][size_t(k)]);
    }
    const float cv = use_c ? std::bit_cast<float>(c[i]) : 0.0f;
    float result = 0.0f;
    if (how == Evaluator::mma_dot) {
      result = mma_dot(m, av, bv, cv);
    } else {
      const float cm[1] = {cv};
      bulk::mma_gemm(m, 1, 1, g.k, av, bv, cm, std::span<float>(&result, 1));
    }
    const uint32_t got = std::bit_cast<uint32_t>(result);
    ++r.rows;
    if (got == d[i]) {
      ++r.matched;
      r.matched_rows.push_back(uint32_t(i + 1));
    } else if (r.first_mismatch.empty()) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "row %zu: model 0x%08x, GPU 0x%08x", i + 1, got, d[i]);
      r.first_mismatch = buf;
    }
  }
  return r;
}

class GpuGolden : public testing::TestWithParam<GoldenCase> {};

TEST_P(GpuGolden, EveryRowMatchesBitForBit) {
  const GoldenCase& g = GetParam();
  const GoldenResult r = run_case(g, g.c_used);
  EXPECT_EQ(r.matched, r.rows) << g.preset << " on " << g.gpu << "/" << g.input << " d_" << g.output << ": "
                               << r.first_mismatch;
}

TEST_P(GpuGolden, EveryRowMatchesThroughTheSimdGemm) {
  const GoldenCase& g = GetParam();
  const GoldenResult r = run_case(g, g.c_used, Evaluator::bulk_gemm);
  EXPECT_EQ(r.matched, r.rows) << g.preset << " on " << g.gpu << "/" << g.input << " d_" << g.output << ": "
                               << r.first_mismatch;
}

// tests/data/gpu-golden/README.md: K = 4 for V100 fp16 and for tf32, 8 for A100 fp16/bf16, 16
// for H100 fp16/bf16, 32 for FP8.
INSTANTIATE_TEST_SUITE_P(
    Files, GpuGolden,
    testing::Values(GoldenCase{"V100", "fp16", "fp32", "v100-fp16-fp32", 4, true},
                    GoldenCase{"V100", "fp16", "fp16", "v100-fp16-fp16", 4, true},
                    GoldenCase{"A100", "fp16", "fp32", "a100-fp16-fp32", 8, true},
                    GoldenCase{"A100", "fp16", "fp16", "a100-fp16-fp16", 8, true},
                    GoldenCase{"A100", "bf16", "fp32", "a100-bf16-fp32", 8, true},
                    GoldenCase{"A100", "tf32", "fp32", "a100-tf32-fp32", 4, true},
                    GoldenCase{"H100", "fp16", "fp32", "h100-fp16-fp32", 16, true},
                    GoldenCase{"H100", "fp16", "fp16", "h100-fp16-fp16", 16, true},
                    GoldenCase{"H100", "bf16", "fp32", "h100-bf16-fp32", 16, true},
                    GoldenCase{"H100", "tf32", "fp32", "h100-tf32-fp32", 4, true},
                    GoldenCase{"H100", "E4M3", "fp32", "h100-e4m3-fp32", 32, false},
                    GoldenCase{"H100", "E5M2", "fp32", "h100-e5m2-fp32", 32, false}),
    [](const testing::TestParamInfo<GoldenCase>& info) {
      return std::string(info.param.gpu) + "_" + info.param.input + "_to_" + info.param.output;
    });

// The golden README says the FP8 FP32-output runs used C = 0: with the c file
// the model matches no row, so the claim is checked, not assumed.
TEST(GpuGoldenFp8, FP32OutputRunsIgnoredTheCFile) {
  const GoldenCase g{"H100", "E4M3", "fp32", "h100-e4m3-fp32", 32, false};
  EXPECT_EQ(run_case(g, true).matched, 0u);
}

// Row numbers as ranges: "1-3 5 9-12".
std::string row_ranges(const std::vector<uint32_t>& rows) {
  std::string out;
  for (size_t i = 0; i < rows.size();) {
    size_t j = i;
    while (j + 1 < rows.size() && rows[j + 1] == rows[j] + 1) ++j;
    if (!out.empty()) out += ' ';
    out += std::to_string(rows[i]);
    if (j > i) out += '-' + std::to_string(rows[j]);
    i = j + 1;
  }
  return out;
}

// The pinned rows (tests/data/gpu-golden/H100/fp8_fp16_matching_rows.txt):
// one line per case, "NAME: ranges".
std::map<std::string, std::string> pinned_rows() {
  const std::string path = std::string(FPSIM_TEST_DATA_DIR) + "/gpu-golden/H100/fp8_fp16_matching_rows.txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::map<std::string, std::string> pins;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(": ");
    if (colon == std::string::npos) throw std::runtime_error(path + ": bad line '" + line + "'");
    pins[line.substr(0, colon)] = line.substr(colon + 2);
  }
  return pins;
}

// docs/mma.md, "Open questions" Q2, an open question: FP8 inputs with FP16 output. Our best
// model (the §2 model, n = 32, neab = 2, RNE to FP16, C rounded to FP16 and
// USED — unlike the FP32-output runs) matches 3120/5000 (E4M3) and 3356/5000
// (E5M2); with C = 0 it matches 7 and 4 rows, the "about 10" of the spec.
// docs/mma.md records the search. The rows that match are pinned, not only
// their count, so a change that swaps which rows match fails too; a better
// model should raise the counts and rewrite the pin file (the failure
// message prints the new ranges).
TEST(GpuGoldenFp8, Fp16OutputIsAnOpenQuestionWithPinnedRows) {
  const GoldenCase e4m3{"H100", "E4M3", "fp16", "h100-e4m3-fp16", 32, true};
  const GoldenCase e5m2{"H100", "E5M2", "fp16", "h100-e5m2-fp16", 32, true};
  const std::map<std::string, std::string> pins = pinned_rows();
  struct Pin {
    const char* name;
    const GoldenCase* g;
    bool use_c;
    Evaluator how;
    size_t count;
  };
  for (const Pin& p : {Pin{"e4m3 with c", &e4m3, true, Evaluator::mma_dot, 3120},
                       Pin{"e5m2 with c", &e5m2, true, Evaluator::mma_dot, 3356},
                       Pin{"e4m3 c = 0", &e4m3, false, Evaluator::mma_dot, 7},
                       Pin{"e5m2 c = 0", &e5m2, false, Evaluator::mma_dot, 4},
                       // The SIMD GEMM gives the same rows.
                       Pin{"e4m3 with c", &e4m3, true, Evaluator::bulk_gemm, 3120},
                       Pin{"e5m2 with c", &e5m2, true, Evaluator::bulk_gemm, 3356}}) {
    const GoldenResult r = run_case(*p.g, p.use_c, p.how);
    EXPECT_EQ(r.matched, p.count) << p.name;
    ASSERT_TRUE(pins.count(p.name)) << "no pin for '" << p.name << "'";
    EXPECT_EQ(row_ranges(r.matched_rows), pins.at(p.name)) << p.name << " (evaluator " << int(p.how) << ")";
  }
}

}  // namespace
}  // namespace fpsim
