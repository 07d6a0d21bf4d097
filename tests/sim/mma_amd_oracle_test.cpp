// AMD matrix-core oracle rows (tests/data/amd-oracle/: outputs of Khattak & Mikaitis' published MATLAB
// models of MI100, MI210 and MI300, BSD-2-Clause) through the matching presets: every row must match
// bit for bit through the definition (mma_dot), the scalar GEMM (fpsim::mma_gemm) and the SIMD GEMM
// (fpsim::bulk::mma_gemm, which hands these models to the scalar GEMM's AMD fast paths; docs/mma.md,
// "AMD matrix cores").
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "fpsim/bulk/mma_gemm_bulk.hpp"
#include "fpsim/mma.hpp"
#include "mma_files.hpp"

namespace fpsim {
namespace {

struct OracleCase {
  const char* unit;    // folder and file tag: MI100, MI210, MI300
  const char* input;   // folder and file tag: fp16, bf16, tf32, e4m3fnuz, e5m2fnuz
  const char* preset;  // the preset that must reproduce it
  int k;               // tests/data/amd-oracle/README.md
};

enum class Evaluator { mma_dot, scalar_gemm, bulk_gemm };

// Rows matched, and the first mismatch in words.
std::pair<size_t, std::string> run_case(const OracleCase& o, const std::string& preset, Evaluator how) {
  const std::string dir = std::string(FPSIM_TEST_DATA_DIR) + "/amd-oracle/" + o.unit + "/" + o.input + "/";
  const std::string tag = std::string("_") + o.unit + "_";
  const auto a = cli::read_hex_rows(dir + "a" + tag + o.input + ".txt.gz", o.k);
  const auto b = cli::read_hex_rows(dir + "b" + tag + o.input + ".txt.gz", o.k);
  const auto c = cli::read_binary_words(dir + "c" + tag + "fp32.txt.gz");
  const auto d = cli::read_binary_words(dir + "d" + tag + "fp32.txt.gz");
  if (a.size() != 2000u || b.size() != a.size() || c.size() != a.size() || d.size() != a.size())
    throw std::runtime_error(dir + ": expected 2000 rows in every file");
  const MmaModel m = mma_preset(preset);
  size_t matched = 0;
  std::string first;
  std::vector<float> av(size_t(o.k)), bv(size_t(o.k));
  for (size_t i = 0; i < a.size(); ++i) {
    for (int k = 0; k < o.k; ++k) {
      av[size_t(k)] = std::bit_cast<float>(a[i][size_t(k)]);
      bv[size_t(k)] = std::bit_cast<float>(b[i][size_t(k)]);
    }
    const float cv = std::bit_cast<float>(c[i]);
    float result = 0.0f;
    const float cm[1] = {cv};
    if (how == Evaluator::mma_dot) result = mma_dot(m, av, bv, cv);
    if (how == Evaluator::scalar_gemm) fpsim::mma_gemm(m, 1, 1, o.k, av, bv, cm, std::span<float>(&result, 1));
    if (how == Evaluator::bulk_gemm) bulk::mma_gemm(m, 1, 1, o.k, av, bv, cm, std::span<float>(&result, 1));
    const uint32_t got = std::bit_cast<uint32_t>(result);
    if (got == d[i]) {
      ++matched;
    } else if (first.empty()) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "row %zu: preset 0x%08x, oracle 0x%08x", i + 1, got, d[i]);
      first = buf;
    }
  }
  return {matched, first};
}

class AmdOracle : public testing::TestWithParam<OracleCase> {};

TEST_P(AmdOracle, EveryRowMatchesThroughEveryEvaluator) {
  const OracleCase& o = GetParam();
  for (Evaluator how : {Evaluator::mma_dot, Evaluator::scalar_gemm, Evaluator::bulk_gemm}) {
    const auto [matched, first] = run_case(o, o.preset, how);
    EXPECT_EQ(matched, 2000u) << o.preset << " on " << o.unit << "/" << o.input << " (evaluator " << int(how)
                              << "): " << first;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, AmdOracle,
                         testing::Values(OracleCase{"MI100", "fp16", "mi100-fp16-fp32", 32},
                                         OracleCase{"MI100", "bf16", "mi100-bf16-fp32", 32},
                                         OracleCase{"MI210", "fp16", "mi210-fp16-fp32", 32},
                                         OracleCase{"MI210", "bf16", "mi210-bf16-fp32", 32},
                                         OracleCase{"MI210", "fp16", "mi250-fp16-fp32", 32},
                                         OracleCase{"MI210", "bf16", "mi250-bf16-fp32", 32},
                                         OracleCase{"MI300", "fp16", "mi300x-fp16-fp32", 32},
                                         OracleCase{"MI300", "bf16", "mi300x-bf16-fp32", 32},
                                         OracleCase{"MI300", "tf32", "mi300x-tf32-fp32", 16},
                                         OracleCase{"MI300", "e4m3fnuz", "mi300x-e4m3fnuz-fp32", 64},
                                         OracleCase{"MI300", "e5m2fnuz", "mi300x-e5m2fnuz-fp32", 64},
                                         OracleCase{"MI300", "fp16", "mi300a-fp16-fp32", 32},
                                         OracleCase{"MI300", "e4m3fnuz", "mi300a-e4m3fnuz-fp32", 64}),
                         [](const testing::TestParamInfo<OracleCase>& info) {
                           std::string name = info.param.preset;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace fpsim
