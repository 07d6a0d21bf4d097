#include "probe_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "fpsim/error.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/probe/cpu_matrix_targets.hpp"
#include "fpsim/probe/mma_target.hpp"
#include "fpsim/probe/probe_suite.hpp"
#include "fpsim/quoted_text.hpp"
#if FPSIM_HAVE_GPU
#include "fpsim/gpu/device_mma_target.hpp"
#endif
#include "fpsim/gpu/mma_config.hpp"
#include "command_errors.hpp"
#include "option_values.hpp"

namespace fpsim::cli {

namespace {

constexpr int64_t kMaxRandom = 10'000'000;

// The target named on the command line; throws fpsim::Error with a
// one-line reason.
std::unique_ptr<probe::MmaTarget> make_target(const std::string& name) {
  const std::string_view model_prefix = "model:";
  if (name.compare(0, model_prefix.size(), model_prefix) == 0)
    return std::make_unique<probe::ModelTarget>(mma_preset(name.substr(model_prefix.size())));
  const std::string_view gpu_prefix = "gpu:";
  if (name.compare(0, gpu_prefix.size(), gpu_prefix) == 0) {
    const gpu::MmaConfig config = gpu::parse_config(name.substr(gpu_prefix.size()));
#if FPSIM_HAVE_GPU
    return gpu::make_device_mma_target(config);
#else
    (void)config;
    throw Error("target " + quoted_text(name) + " needs a CUDA-enabled build (gpu/ is built when CMake finds nvcc)");
#endif
  }
  std::string why;
  if (name == "amx-bf16") {
    if (!probe::amx_bf16_available(&why))
      throw Error(std::string("amx-bf16 is not available on this CPU (").append(why).append(")"));
    return probe::make_amx_bf16_target();
  }
  if (name == "avx512-bf16") {
    if (!probe::avx512_bf16_available(&why))
      throw Error(std::string("avx512-bf16 is not available on this CPU (").append(why).append(")"));
    return probe::make_avx512_bf16_target();
  }
  throw OptionError(
      std::string("unknown target ")
          .append(quoted_text(name))
          .append(" (expected model:PRESET, amx-bf16, avx512-bf16 or gpu:CONFIG; `fpsim mma --list` lists the presets, "
                  "`fpsim gpu info` the GPU configurations)"));
}

std::string padded(const std::string& s, size_t width) {
  std::string out = s;
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

std::string ks_text(const std::vector<int>& ks) {
  std::string s;
  for (size_t i = 0; i < ks.size(); ++i) s.append(i ? ", " : "").append(std::to_string(ks[i]));
  return s;
}

void print_text(const probe::ProbeReport& r, const probe::MmaTarget& t, std::ostream& out) {
  out << "target " << r.target << ": " << t.input_format_a().name << " x " << t.input_format_b().name << " -> "
      << t.output_format().name << "\n\n";
  size_t wid = 2, wprop = 8, wobs = 8;
  for (const probe::ProbeOutcome& o : r.outcomes) {
    wid = std::max(wid, o.id.size());
    wprop = std::max(wprop, o.property.size());
    wobs = std::max(wobs, std::min<size_t>(o.observed.size(), 44));
  }
  out << padded("id", wid) << "  " << padded("property", wprop) << "  " << padded("observed", wobs) << "  conclusion\n";
  for (const probe::ProbeOutcome& o : r.outcomes)
    out << padded(o.id, wid) << "  " << padded(o.property, wprop) << "  " << padded(o.observed, wobs) << "  "
        << o.conclusion << '\n';
  out << "\nfitted: " << describe_mma_model(r.fitted) << '\n';
  size_t wname = 4, wvalue = 5;
  for (const probe::FittedParameter& p : r.parameters) {
    wname = std::max(wname, p.name.size());
    wvalue = std::max(wvalue, p.value.size());
  }
  for (const probe::FittedParameter& p : r.parameters)
    out << "  " << padded(p.name, wname) << "  " << padded(p.value, wvalue) << "  "
        << (p.observable ? "observed: " : "unobservable: ") << p.note << '\n';
  out << "\nrandom check: " << r.random_checks << " vectors (K = " << ks_text(r.random_ks) << "), "
      << r.random_mismatches << (r.random_mismatches == 1 ? " mismatch\n" : " mismatches\n");
  for (const std::string& e : r.mismatch_examples) out << "  " << e << '\n';
}

void print_json(const probe::ProbeReport& r, const probe::MmaTarget& t, std::ostream& out) {
  nlohmann::ordered_json j;
  j["target"] = r.target;
  j["input_a"] = t.input_format_a().name;
  j["input_b"] = t.input_format_b().name;
  j["output"] = t.output_format().name;
  nlohmann::ordered_json outcomes = nlohmann::ordered_json::array();
  for (const probe::ProbeOutcome& o : r.outcomes)
    outcomes.push_back({{"id", o.id},
                        {"property", o.property},
                        {"inputs", o.inputs_summary},
                        {"observed", o.observed},
                        {"conclusion", o.conclusion}});
  j["outcomes"] = outcomes;
  j["fitted"] = describe_mma_model(r.fitted);
  nlohmann::ordered_json params = nlohmann::ordered_json::array();
  for (const probe::FittedParameter& p : r.parameters)
    params.push_back({{"name", p.name}, {"value", p.value}, {"observable", p.observable}, {"note", p.note}});
  j["parameters"] = params;
  j["random"] = {{"checks", r.random_checks},
                 {"mismatches", r.random_mismatches},
                 {"k", r.random_ks},
                 {"examples", r.mismatch_examples}};
  out << j.dump() << '\n';
}

}  // namespace

int run_probe_command(const ProbeCommandOptions& o, std::ostream& out, std::ostream& err) {
  return exit_status_of("probe", err, [&] {
    if (o.random < 0 || o.random > kMaxRandom)
      throw OptionError(
          std::string("--random ").append(std::to_string(o.random)).append(" is out of range (expected 0..10000000)"));
    std::unique_ptr<probe::MmaTarget> target = make_target(o.target);
    probe::ProbeOptions po;
    po.random_vectors = int(o.random);
    po.seed = o.seed;
    const probe::ProbeReport report = probe::run_probes(*target, po);
    if (o.json)
      print_json(report, *target, out);
    else
      print_text(report, *target, out);
    return report.random_mismatches == 0 ? 0 : 1;
  });
}

void add_probe_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ProbeCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "probe",
      "Run the MMA feature-detection probes (docs/mma.md, \"Probes\") on a target, print what they detect, the "
      "fitted model parameter set and the check of the fit on random dot products (exit 1 when any differs).");
  cmd->add_option("--target", o->target, "model:PRESET (e.g. model:h100-e4m3-fp32), amx-bf16, avx512-bf16 or gpu:CONFIG (e.g. "
                  "gpu:wgmma-e4m3-fp32, a CUDA-enabled build on an H100/H200)")
      ->required();
  add_whole_number_option(cmd, "--random", o->random, 0, uint64_t(kMaxRandom),
                          "random dot products checked against the fitted model (default 10000)");
  add_whole_number_option(cmd, "--seed", o->seed, 0, UINT64_MAX, "seed of the random dot products (default 0)");
  cmd->add_flag("--json", o->json, "print one JSON object instead of text");
  add_renamed_option(cmd, "--format", "print JSON with --json (text is the default)");
  cmd->callback([o, &exit_code] { exit_code = run_probe_command(*o, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
