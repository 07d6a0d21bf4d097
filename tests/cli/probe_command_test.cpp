// `fpsim probe`: the contract of docs/cli.md, driven in-process. Expected
// parameters are the presets' own (docs/mma.md, "Per-GPU parameters and their evidence").
#include "probe_command.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "fpsim/probe/cpu_matrix_targets.hpp"

namespace fpsim::cli {
namespace {

struct Outcome {
  int status = 0;
  std::string out, err;
};

Outcome run(const std::string& target, bool json = false, int64_t random = 200) {
  ProbeCommandOptions o;
  o.target = target;
  o.json = json;
  o.random = random;
  std::ostringstream out, err;
  const int status = run_probe_command(o, out, err);
  return {status, out.str(), err.str()};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(ProbeCommand, PrintsTheTableTheFitAndTheRandomCheck) {
  const Outcome r = run("model:v100-fp16-fp32");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(contains(r.out, "target model:v100-fp16-fp32: fp16 x fp16 -> fp32\n"));
  EXPECT_TRUE(contains(r.out, "\nid   property"));
  EXPECT_TRUE(contains(r.out, "\nH3   block size (HPEC)"));
  EXPECT_TRUE(contains(r.out, "n = 4\n"));
  EXPECT_TRUE(contains(r.out, "\nF9   guard bit "));
  // The fit: V100 is n = 4, no extra bit, RZ (docs/mma.md, "Per-GPU parameters and their evidence").
  EXPECT_TRUE(contains(r.out, "\nfitted: kind=block_fma in=fp16xfp16 out=fp32 n=4 neab=0 align=truncate round=rtz "));
  EXPECT_TRUE(contains(r.out, "\n  block_size          4          observed: N1\n"));
  EXPECT_TRUE(contains(r.out, "\n  min_exp             none       unobservable: "));
  EXPECT_TRUE(
      contains(r.out, "\nrandom check: 200 vectors (K = 1, 2, 3, 4, 5, 7, 8, 9, 14, 19, 33, 64, 100), 0 mismatches\n"));
}

TEST(ProbeCommand, JsonCarriesEveryOutcomeAndParameter) {
  const Outcome r = run("model:h100-e4m3-fp32", true, 100);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), 1);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["target"], "model:h100-e4m3-fp32");
  EXPECT_EQ(j["input_a"], "e4m3");
  EXPECT_EQ(j["output"], "fp32");
  ASSERT_TRUE(j["outcomes"].is_array());
  bool saw_w1 = false;
  for (const auto& o : j["outcomes"]) {
    for (const char* key : {"id", "property", "inputs", "observed", "conclusion"}) EXPECT_TRUE(o.contains(key));
    if (o["id"] == "W1") {
      saw_w1 = true;
      EXPECT_EQ(o["conclusion"], "kept bits = 13");  // EMU: H100 FP8 keeps 13 bits
    }
  }
  EXPECT_TRUE(saw_w1);
  bool saw_neab = false;
  for (const auto& p : j["parameters"])
    if (p["name"] == "extra_bits") {
      saw_neab = true;
      EXPECT_EQ(p["value"], "-10");
      EXPECT_EQ(p["observable"], true);
    }
  EXPECT_TRUE(saw_neab);
  EXPECT_EQ(j["random"]["checks"], 100);
  EXPECT_EQ(j["random"]["mismatches"], 0);
  EXPECT_TRUE(contains(j["fitted"].get<std::string>(), "n=32 neab=-10"));
}

TEST(ProbeCommand, CpuOrderModels) {
  const Outcome r = run("model:fp32-fma-blocked", false, 50);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "\nfitted: kind=fp32_fma_blocked in=fp32xfp32 out=fp32 block=16 chains=1\n")) << r.out;
  // The AMX preset (Intel SDM TDPBF16PS): two interleaved chains per 32, DAZ and FTZ.
  const Outcome amx = run("model:amx-bf16-fp32", false, 50);
  EXPECT_EQ(amx.status, 0) << amx.err;
  EXPECT_TRUE(
      contains(amx.out, "\nfitted: kind=fp32_fma_blocked in=bf16xbf16 out=fp32 block=32 chains=2 subnormals=daz/ftz\n"))
      << amx.out;
}

TEST(ProbeCommand, UnknownPresetOrTargetIsOneLineAndExit2) {
  Outcome r = run("model:h900-fp16-fp32");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines(r.err), 1);
  EXPECT_EQ(r.err.rfind("fpsim probe: unknown MMA preset 'h900-fp16-fp32'; known: ", 0), 0u) << r.err;
  r = run("tpu-v5");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(lines(r.err), 1);
  EXPECT_EQ(r.err.rfind("fpsim probe: unknown target 'tpu-v5' (expected model:PRESET, amx-bf16, avx512-bf16 or gpu:CONFIG", 0), 0u)
      << r.err;
}

TEST(ProbeCommand, BadOptionValuesExit2) {
  Outcome r = run("model:v100-fp16-fp32", false, -1);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "fpsim probe: --random -1 is out of range (expected 0..10000000)\n");
}

// The CPU units: probed where present, a one-line reason and exit 2 where not.
TEST(ProbeCommand, CpuMatrixUnitsRunOrSayWhyNot) {
  struct Unit {
    const char* name;
    bool available;
  };
  const Unit units[] = {{"amx-bf16", probe::amx_bf16_available()}, {"avx512-bf16", probe::avx512_bf16_available()}};
  for (const Unit& u : units) {
    SCOPED_TRACE(u.name);
    const Outcome r = run(u.name, false, 100);
    if (u.available) {
      EXPECT_NE(r.status, 2) << r.err;
      EXPECT_TRUE(contains(r.out, "\nfitted: ")) << r.out;
    } else {
      EXPECT_EQ(r.status, 2);
      EXPECT_EQ(lines(r.err), 1);
      EXPECT_EQ(r.err.rfind(std::string("fpsim probe: ").append(u.name).append(" is not available on this CPU ("), 0),
                0u)
          << r.err;
      GTEST_LOG_(INFO) << u.name << " absent: " << r.err;
    }
  }
}

}  // namespace
}  // namespace fpsim::cli
