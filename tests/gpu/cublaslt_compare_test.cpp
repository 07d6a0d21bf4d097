// The cuBLASLt FP8 comparison on synthetic data (cublaslt_fp8.hpp): D made
// by the model itself must be identified as the candidate that made it; a
// perturbed D matches nothing and reports its distance; the raw file round-
// trips and a malformed one is refused with a clear message.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/gpu/cublaslt_fp8.hpp"

namespace {

using namespace fpsim::gpu;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(testing::TempDir()) / ("cublaslt_" + name)).string();
}

// Mixed magnitudes, positive-biased, K = 1024: long enough that fast
// accumulation and every promotion interval give different D somewhere.
const LtInputs& inputs() {
  static const LtInputs in = make_lt_inputs("mixed", 16, 16, 1024, 7);
  return in;
}

LtRun model_run(const LtCandidate& c, LtOutput o = LtOutput::fp32) {
  LtRun run;
  run.output = o;
  run.fast_accum = c.promotion == 0;
  run.algo.split_k = c.split_k;
  run.D = lt_model_gemm(inputs(), c, 2);
  for (float& x : run.D) x = lt_round_output(x, o);
  return run;
}

LtCaseResult compare_one(const LtRun& run) {
  const std::vector<LtRun> runs = {run};
  const auto results = compare_lt_runs(std::span(&inputs(), 1), runs, 2);
  EXPECT_EQ(results.size(), 1u);
  return results.at(0);
}

TEST(CublasLtCompare, InputsAreDeterministicE4m3Values) {
  const LtInputs a = make_lt_inputs("sym", 8, 4, 64, 3), b = make_lt_inputs("sym", 8, 4, 64, 3);
  EXPECT_EQ(a.A, b.A);
  EXPECT_EQ(a.B, b.B);
  EXPECT_NE(make_lt_inputs("sym", 8, 4, 64, 4).A, a.A);
  EXPECT_NO_THROW(e4m3_codes(a.A));
  for (float x : a.A) EXPECT_TRUE(std::fabs(x) >= 0.125f && std::fabs(x) <= 15.0f) << x;
  const LtInputs m = make_lt_inputs("mixed", 16, 16, 1024, 7);
  EXPECT_NO_THROW(e4m3_codes(m.B));
  const auto positives = std::count_if(m.A.begin(), m.A.end(), [](float x) { return x > 0; });
  EXPECT_GT(positives, int64_t(m.A.size()) * 6 / 10);
  EXPECT_THROW(make_lt_inputs("normal", 8, 8, 8, 0), fpsim::OptionError);
  EXPECT_THROW(e4m3_codes(std::vector<float>{1.0f, 1.0625f}), fpsim::OptionError);  // 1 + 2^-4: not e4m3
}

TEST(CublasLtCompare, UlpDistance) {
  EXPECT_EQ(lt_ulp_distance(1.0f, std::nextafter(1.0f, 2.0f)), 1.0);
  EXPECT_EQ(lt_ulp_distance(1.0f, 1.0f + 3 * std::ldexp(1.0f, -23)), 3.0);
  EXPECT_EQ(lt_ulp_distance(0.0f, -0.0f), 0.0);
  EXPECT_EQ(lt_ulp_distance(2.0f, 2.0f), 0.0);
  EXPECT_TRUE(std::isinf(lt_ulp_distance(NAN, 1.0f)));
}

TEST(CublasLtCompare, TheCandidatesDifferOnTheseInputs) {
  const auto fast = lt_model_gemm(inputs(), {0, 1});
  for (int p : {32, 64, 128, 256, 512}) EXPECT_NE(lt_model_gemm(inputs(), {p, 1}), fast) << p;
  EXPECT_NE(lt_model_gemm(inputs(), {128, 1}), lt_model_gemm(inputs(), {256, 1}));
  // Threads split rows only: the result does not depend on them.
  EXPECT_EQ(lt_model_gemm(inputs(), {128, 1}, 1), lt_model_gemm(inputs(), {128, 1}, 3));
}

TEST(CublasLtCompare, PromotedDIsIdentifiedAsPromote128) {
  const LtCaseResult r = compare_one(model_run({128, 1}));
  EXPECT_TRUE(contains(r.matching, "h100-e4m3-fp32:promote128")) << r.answer;
  EXPECT_FALSE(contains(r.matching, "h100-e4m3-fp32")) << r.answer;
  EXPECT_EQ(r.answer.rfind("match: ", 0), 0u) << r.answer;
  EXPECT_EQ(r.candidates.size(), lt_promotions().size());
  EXPECT_TRUE(r.examples.empty());
}

TEST(CublasLtCompare, FastDIsIdentifiedAsFast) {
  const LtCaseResult r = compare_one(model_run({0, 1}));
  EXPECT_TRUE(contains(r.matching, "h100-e4m3-fp32")) << r.answer;
  EXPECT_FALSE(contains(r.matching, "h100-e4m3-fp32:promote128")) << r.answer;
  // Fast against promote128: some elements differ, by at least one ulp.
  const auto& p128 = r.candidates[3];
  ASSERT_EQ(p128.name, "h100-e4m3-fp32:promote128");
  EXPECT_LT(p128.exact, 256);
  EXPECT_GE(p128.max_ulp, 1.0);
}

TEST(CublasLtCompare, Bf16OutputIsTheFp32ResultRoundedOnce) {
  const LtCaseResult r = compare_one(model_run({0, 1}, LtOutput::bf16));
  EXPECT_TRUE(contains(r.matching, "h100-e4m3-fp32 -> bf16 rne")) << r.answer;
  // ulps of bf16 are 2^16 ulps of FP32.
  for (const auto& c : r.candidates) {
    if (c.max_ulp > 0) {
      EXPECT_DOUBLE_EQ(c.max_ulp, c.max_ulp_out * 65536.0) << c.name;
    }
  }
}

TEST(CublasLtCompare, SplitKCandidatesComeWithTheAlgorithmsSplit) {
  const LtCaseResult r = compare_one(model_run({64, 4}));
  EXPECT_EQ(r.candidates.size(), 2 * lt_promotions().size());
  EXPECT_TRUE(contains(r.matching, "h100-e4m3-fp32:promote64 splitK=4")) << r.answer;
  EXPECT_FALSE(contains(r.matching, "h100-e4m3-fp32 splitK=4")) << r.answer;
}

TEST(CublasLtCompare, PerturbedDMatchesNothingAndReportsTheDistance) {
  LtRun run = model_run({128, 1});
  run.D[37] = run.D[37] + 3 * float(std::ldexp(1.0, std::ilogb(run.D[37]) - 23));  // +3 ulps
  const LtCaseResult r = compare_one(run);
  EXPECT_TRUE(r.matching.empty()) << r.answer;
  ASSERT_GE(r.best, 0);
  const auto& b = r.candidates[size_t(r.best)];
  EXPECT_EQ(b.name, "h100-e4m3-fp32:promote128");
  EXPECT_EQ(b.exact, 255);
  EXPECT_EQ(b.max_ulp, 3.0);
  EXPECT_DOUBLE_EQ(b.mean_ulp, 3.0 / 256);
  EXPECT_EQ(r.answer, "none, best = h100-e4m3-fp32:promote128 with 255/256 exact, max ulp 3");
  ASSERT_EQ(r.examples.size(), 1u);
  EXPECT_EQ(r.examples[0].row, 2);
  EXPECT_EQ(r.examples[0].col, 5);
  EXPECT_EQ(r.examples[0].ulp, 3.0);
}

TEST(CublasLtCompare, FailedRunsAreReportedNotCompared) {
  LtRun run;
  run.error = "cublasLtMatmul: CUBLAS_STATUS_NOT_SUPPORTED";
  const LtCaseResult r = compare_one(run);
  EXPECT_EQ(r.answer, "not run: cublasLtMatmul: CUBLAS_STATUS_NOT_SUPPORTED");
  EXPECT_TRUE(r.candidates.empty());
  LtRun bad = model_run({0, 1});
  bad.D.pop_back();
  EXPECT_THROW(compare_one(bad), fpsim::OptionError);
}

TEST(CublasLtCompare, RawFileRoundTrips) {
  LtRawData data;
  data.meta = R"({"device":"test"})";
  data.inputs = {inputs(), make_lt_inputs("sym", 16, 16, 64, 1)};
  data.runs = {model_run({0, 1}), model_run({128, 1}, LtOutput::bf16)};
  data.runs[1].fast_accum = false;
  data.runs[1].algo = {66, 20, 22, 1, 0, 1, 0, 3, 4096, 0.25f};
  LtRun failed;
  failed.input_index = 1;
  failed.error = "no algorithm";
  data.runs.push_back(failed);
  const std::string path = temp_path("roundtrip.raw");
  write_lt_raw(path, data);
  EXPECT_EQ(std::filesystem::file_size(path), lt_raw_size(data));
  const LtRawData back = read_lt_raw(path);
  EXPECT_EQ(back.meta, data.meta);
  ASSERT_EQ(back.inputs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.inputs[i].distribution, data.inputs[i].distribution);
    EXPECT_EQ(back.inputs[i].K, data.inputs[i].K);
    EXPECT_EQ(back.inputs[i].seed, data.inputs[i].seed);
    EXPECT_EQ(back.inputs[i].A, data.inputs[i].A);
    EXPECT_EQ(back.inputs[i].B, data.inputs[i].B);
  }
  ASSERT_EQ(back.runs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.runs[i].input_index, data.runs[i].input_index);
    EXPECT_EQ(back.runs[i].fast_accum, data.runs[i].fast_accum);
    EXPECT_EQ(back.runs[i].output, data.runs[i].output);
    EXPECT_EQ(back.runs[i].error, data.runs[i].error);
    ASSERT_EQ(back.runs[i].D.size(), data.runs[i].D.size());
    for (size_t j = 0; j < data.runs[i].D.size(); ++j)
      EXPECT_EQ(std::bit_cast<uint32_t>(back.runs[i].D[j]), std::bit_cast<uint32_t>(data.runs[i].D[j]));
  }
  EXPECT_EQ(back.runs[1].algo.text(), data.runs[1].algo.text());
  const auto r = compare_lt_runs(back.inputs, back.runs, 2);
  EXPECT_TRUE(contains(r[1].matching, "h100-e4m3-fp32:promote128 -> bf16 rne")) << r[1].answer;
  std::filesystem::remove(path);
}

TEST(CublasLtCompare, MalformedRawFilesAreRefusedClearly) {
  LtRawData data;
  data.inputs = {make_lt_inputs("sym", 16, 16, 32, 1)};
  data.runs = {LtRun{}};
  data.runs[0].D.assign(256, 1.0f);
  const std::string good = temp_path("good.raw");
  write_lt_raw(good, data);
  std::ifstream f(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto expect_parse_error = [](const std::string& name, const std::string& content, const std::string& what) {
    const std::string p = temp_path(name);
    std::ofstream(p, std::ios::binary) << content;
    try {
      read_lt_raw(p);
      ADD_FAILURE() << name << " was accepted";
    } catch (const fpsim::ParseError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(p), std::string::npos) << msg;
      EXPECT_NE(msg.find("not a valid fpsim cuBLASLt raw file"), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
    std::filesystem::remove(p);
  };
  expect_parse_error("magic.raw", "FPSIMXX1" + bytes.substr(8), "wrong magic");
  expect_parse_error("short.raw", bytes.substr(0, bytes.size() - 5), "truncated: D");
  expect_parse_error("empty.raw", "", "truncated: magic");
  expect_parse_error("trailing.raw", bytes + "x", "trailing bytes");
  std::string zero_m = bytes;
  const size_t m_at = 8 + 4 + 0 + 8 + 4 + 3;  // magic, meta "", counts, distribution "sym"
  zero_m[m_at] = 0;
  expect_parse_error("zero_m.raw", zero_m, "M = 0 outside 1..65536");
  EXPECT_THROW(read_lt_raw(temp_path("does_not_exist.raw")), fpsim::IoError);
  std::filesystem::remove(good);
}

}  // namespace
