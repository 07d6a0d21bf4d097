// `fpsim gpu cublaslt`: cuBLASLt FP8 GEMM (e4m3 × e4m3 → fp32 / bf16, fast
// accumulation on and off) against the MMA model with and without promotion
// (docs/gpu.md, "cuBLASLt FP8 GEMM"). `--replay` reruns the comparison of a
// raw file on any CPU; the GEMMs themselves need a CUDA build and a Hopper GPU.
#include <CLI/CLI.hpp>
#include <bit>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "command_errors.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/gpu/cublaslt_fp8.hpp"
#include "gpu_command.hpp"
#include "json_number.hpp"
#include "option_values.hpp"
#ifdef FPSIM_HAVE_GPU
#include "fpsim/gpu/device_info.hpp"
#endif

namespace fpsim::cli {
namespace {

using nlohmann::ordered_json;
using namespace fpsim::gpu;

constexpr uint64_t kMaxRawBytes = uint64_t(8) << 20;  // output files stay under 8 MB (docs/gpu.md)

struct CublasLtOptions {
  std::string out;
  std::string raw;
  std::string replay;
  int max_k = 8192;
  int mn = 64;
  uint64_t seed = 1;
  int threads = 0;
};

// A float's bit pattern, "0x3f800000".
std::string hex32(float x) { return format_hex_code(std::bit_cast<uint32_t>(x), formats::fp32); }

std::string distribution_text(const std::string& d) {
  if (d == "sym") return "random sign, exponent uniform in [-3, 3], random 3-bit mantissa (|x| in [0.125, 15])";
  if (d == "mixed")
    return "magnitude codes 0x01..0x6F uniform (subnormals 2^-9 up to 120), positive with probability 3/4";
  return "synthetic";
}

ordered_json distributions_json() {
  ordered_json dists = ordered_json::object();
  for (std::string_view d : lt_distributions()) dists[std::string(d)] = distribution_text(std::string(d));
  return dists;
}

#ifdef FPSIM_HAVE_GPU
// "13.1.0" from cublasLtGetVersion's major·10000 + minor·100 + patch.
std::string version_text(uint64_t v) {
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}
#endif

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  if (!f) throw IoError("cannot write " + path);
  f << text;
  f.close();
  if (!f) throw IoError("cannot write " + path);
}

ordered_json algo_json(const LtAlgoInfo& a) {
  return {{"algo_id", a.algo_id},
          {"tile_id", a.tile_id},
          {"stages_id", a.stages_id},
          {"split_k", a.split_k},
          {"reduction_scheme", a.reduction_scheme},
          {"cta_swizzling", a.swizzle},
          {"custom_option", a.custom_option},
          {"cluster_shape_id", a.cluster_shape_id},
          {"workspace_bytes", a.workspace_bytes},
          {"waves", json_number(a.waves)}};
}

// "h100-e4m3-fp32:promote128 splitK=2 -> bf16 rne" without " splitK=2".
std::string without_split(std::string name) {
  const size_t at = name.find(" splitK=");
  if (at == std::string::npos) return name;
  size_t end = at + 8;
  while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
  return name.erase(at, end - at);
}

// The per-case results, a per-(fast, output) summary, and one line per case
// on stdout.
ordered_json results_json(const LtRawData& data, const std::vector<LtCaseResult>& results, std::ostream& log) {
  ordered_json cases = ordered_json::array();
  // (fast, output) -> candidates matching in every case, and the answers.
  struct Summary {
    std::map<std::string, int> matches;
    int cases = 0;
    ordered_json answers = ordered_json::array();
  };
  std::map<std::pair<bool, int>, Summary> summary;
  for (size_t i = 0; i < data.runs.size(); ++i) {
    const LtRun& run = data.runs[i];
    const LtCaseResult& r = results[i];
    const LtInputs& in = data.inputs[size_t(run.input_index)];
    ordered_json c = {{"distribution", in.distribution},
                      {"M", in.M},
                      {"N", in.N},
                      {"K", in.K},
                      {"fast_accum", run.fast_accum},
                      {"output", std::string(lt_output_name(run.output))},
                      {"algo", algo_json(run.algo)},
                      {"answer", r.answer}};
    if (!r.error.empty()) c["error"] = r.error;
    c["matching"] = r.matching;
    ordered_json cands = ordered_json::array();
    for (const LtCandidateResult& cr : r.candidates)
      cands.push_back({{"name", cr.name},
                       {"promotion", cr.candidate.promotion},
                       {"split_k", cr.candidate.split_k},
                       {"exact", cr.exact},
                       {"of", int64_t(in.M) * in.N},
                       {"max_ulp", json_number(cr.max_ulp)},
                       {"mean_ulp", json_number(cr.mean_ulp)},
                       {"max_ulp_of_output_type", json_number(cr.max_ulp_out)}});
    c["candidates"] = cands;
    if (r.best >= 0) c["best"] = r.candidates[size_t(r.best)].name;
    ordered_json ex = ordered_json::array();
    for (const LtMismatch& m : r.examples)
      ex.push_back({{"row", m.row},
                    {"col", m.col},
                    {"gpu", json_number(m.gpu)},
                    {"model", json_number(m.model)},
                    {"gpu_bits", hex32(m.gpu)},
                    {"model_bits", hex32(m.model)},
                    {"ulp", json_number(m.ulp)}});
    c["mismatch_examples"] = ex;
    cases.push_back(c);

    Summary& s = summary[{run.fast_accum, int(run.output)}];
    ++s.cases;
    // A promotion interval counts as matching a case with or without the
    // split-K the algorithm reported there.
    std::set<std::string> names;
    for (const std::string& name : r.matching) names.insert(without_split(name));
    for (const std::string& name : names) ++s.matches[name];
    s.answers.push_back(in.distribution + " K=" + std::to_string(in.K) + ": " + r.answer);
    log << in.distribution << " K=" << in.K << " fast=" << int(run.fast_accum) << " " << lt_output_name(run.output)
        << " [" << run.algo.text() << "]: " << r.answer << '\n';
  }
  ordered_json sums = ordered_json::array();
  for (const auto& [key, s] : summary) {
    std::vector<std::string> always;
    for (const auto& [name, n] : s.matches)
      if (n == s.cases) always.push_back(name);
    sums.push_back({{"fast_accum", key.first},
                    {"output", std::string(lt_output_name(LtOutput(key.second)))},
                    {"cases", s.cases},
                    {"matching_every_case", always},
                    {"answers", s.answers}});
  }
  return {{"cases", cases}, {"summary", sums}};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run_replay(const CublasLtOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const LtRawData data = read_lt_raw(o.replay);
  const std::vector<LtCaseResult> results = compare_lt_runs(data.inputs, data.runs, o.threads);
  ordered_json j = {{"command", "fpsim gpu cublaslt --replay"}, {"replayed_from", o.replay}};
  ordered_json meta = ordered_json::parse(data.meta, nullptr, false);
  j["meta"] = meta.is_discarded() ? ordered_json(data.meta) : meta;
  j["distributions"] = distributions_json();
  ordered_json r = results_json(data, results, std::cout);
  j["summary"] = r["summary"];
  j["cases"] = r["cases"];
  j["compare_seconds"] = seconds_since(t0);
  write_file(o.out, j.dump(1) + "\n");
  return 0;
}

#ifdef FPSIM_HAVE_GPU
int run_device(const CublasLtOptions& o) {
  ordered_json j = {{"command", "fpsim gpu cublaslt"}, {"status", "ok"}};
  auto fail = [&](const std::string& why, int code) {
    j["status"] = "error";
    j["error"] = why;
    write_file(o.out, j.dump(1) + "\n");
    std::cerr << "fpsim gpu cublaslt: " << why << '\n';
    return code;
  };
  std::string why_not;
  if (!hopper_device_available(&why_not)) return fail(why_not, 2);
  j["device"] = device_description();

  std::vector<int> ks;
  for (int k = 32; k <= o.max_k; k *= 2) ks.push_back(k);
  LtRawData data;
  for (std::string_view d : lt_distributions())
    for (int k : ks) data.inputs.push_back(make_lt_inputs(d, o.mn, o.mn, k, o.seed));
  const std::vector<LtConfig> configs = {
      {true, LtOutput::fp32}, {false, LtOutput::fp32}, {true, LtOutput::bf16}, {false, LtOutput::bf16}};

  const auto t0 = std::chrono::steady_clock::now();
  LtLibraryInfo lib;
  try {
    data.runs = run_cublaslt_gemms(data.inputs, configs, &lib);
  } catch (const CublasLtUnavailable& e) {
    return fail(e.what(), 2);
  }
  const double gpu_seconds = seconds_since(t0);
  j["cublaslt"] = {{"library", lib.library}, {"version", lib.version}, {"version_text", version_text(lib.version)}};
  j["mn"] = o.mn;
  j["seed"] = o.seed;
  j["distributions"] = distributions_json();
  j["raw_file"] = o.raw;
  data.meta = ordered_json{{"device", j["device"]}, {"cublaslt", j["cublaslt"]}, {"mn", o.mn}, {"seed", o.seed}}.dump();
  write_lt_raw(o.raw, data);

  const auto t1 = std::chrono::steady_clock::now();
  const std::vector<LtCaseResult> results = compare_lt_runs(data.inputs, data.runs, o.threads);
  ordered_json r = results_json(data, results, std::cout);
  j["summary"] = r["summary"];
  j["cases"] = r["cases"];
  j["gpu_seconds"] = gpu_seconds;
  j["compare_seconds"] = seconds_since(t1);
  int failed = 0;
  for (const LtRun& run : data.runs) failed += run.error.empty() ? 0 : 1;
  if (failed > 0) {
    j["status"] = "error";
    j["error"] = std::to_string(failed) + " of " + std::to_string(data.runs.size()) + " GEMMs failed (see cases)";
    std::cerr << "fpsim gpu cublaslt: " << j["error"].get<std::string>() << '\n';
  }
  write_file(o.out, j.dump(1) + "\n");
  return failed > 0 ? 1 : 0;
}
#endif

int run_cublaslt(CublasLtOptions o) {
  return exit_status_of("gpu cublaslt", std::cerr, [&]() -> int {
    if (!o.replay.empty()) return run_replay(o);
    if (o.raw.empty()) {
      const bool json = o.out.size() > 5 && o.out.compare(o.out.size() - 5, 5, ".json") == 0;
      o.raw = (json ? o.out.substr(0, o.out.size() - 5) : o.out) + ".raw";
    }
    // The raw file's size is known before anything runs: refuse what would
    // pass the limit (inputs: 2 distributions × 2·mn·K bytes; D: 4 runs × 4·mn² bytes per K).
    uint64_t bytes = 0;
    for (int k = 32; k <= o.max_k; k *= 2)
      bytes += 2 * (2 * uint64_t(o.mn) * uint64_t(k) + 4 * 4 * uint64_t(o.mn) * uint64_t(o.mn));
    if (bytes > kMaxRawBytes)
      throw OptionError("--mn " + std::to_string(o.mn) + " --max-k " + std::to_string(o.max_k) + " would write a " +
                        std::to_string(bytes >> 20) + " MiB raw file (limit 8 MiB): lower --max-k or --mn");
#ifdef FPSIM_HAVE_GPU
    return run_device(o);
#else
    ordered_json j = {{"command", "fpsim gpu cublaslt"},
                      {"status", "error"},
                      {"error", "this fpsim was built without CUDA"}};
    write_file(o.out, j.dump(1) + "\n");
    std::cerr << "fpsim gpu cublaslt: this fpsim was built without CUDA\n";
    return 2;
#endif
  });
}

}  // namespace

void add_gpu_cublaslt_command(CLI::App& gpu, int& exit_code) {
  auto o = std::make_shared<CublasLtOptions>();
  CLI::App* cmd = gpu.add_subcommand(
      "cublaslt",
      "cuBLASLt FP8 GEMM (e4m3 x e4m3 -> fp32 and bf16, fast accumulation on and off; M = N = --mn, K = 32, 64, "
      "... up to --max-k; two input distributions) compared bit for bit with the MMA model h100-e4m3-fp32 with "
      "and without promotion (docs/gpu.md). Writes one JSON and a raw file of the inputs and results; --replay "
      "reruns the comparison of a raw file on the CPU (any build).");
  cmd->add_option("--out", o->out, "JSON results file")->required();
  cmd->add_option("--raw", o->raw, "raw inputs and GPU results (default: --out with .raw for .json)");
  cmd->add_option("--replay", o->replay, "compare the runs of this raw file on the CPU; no GPU needed");
  add_whole_number_option(cmd, "--max-k", o->max_k, 32, 65536, "largest K (powers of 2 from 32; default 8192)");
  add_whole_number_option(cmd, "--mn", o->mn, 16, 256, "M = N (a multiple of 16; default 64)");
  add_whole_number_option(cmd, "--seed", o->seed, 0, UINT64_MAX, "input seed (default 1)");
  add_whole_number_option(cmd, "--threads", o->threads, 0, 1024, "threads for the model (0: all; default 0)");
  cmd->callback([o, &exit_code] {
    exit_code = exit_status_of("gpu cublaslt", std::cerr, [&]() -> int {
      if (o->mn % 16 != 0) throw OptionError("--mn must be a multiple of 16 (cuBLASLt FP8 alignment)");
      if (o->out.empty() || o->out == "-") throw OptionError("--out needs a file name");
      return run_cublaslt(*o);
    });
  });
}

}  // namespace fpsim::cli
