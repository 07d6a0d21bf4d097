// `fpsim gpu`: gpu/'s checks on a real Hopper GPU (docs/gpu.md). The command
// exists in every build; without CUDA its subcommands say so and exit 2.
#include "gpu_command.hpp"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command_errors.hpp"
#include "fpsim/error.hpp"
#include "fpsim/gpu/golden_files.hpp"
#include "fpsim/gpu/mma_config.hpp"
#include "fpsim/io/output_file.hpp"
#include "fpsim/mma.hpp"
#include "option_values.hpp"
#if FPSIM_HAVE_GPU
#include "fpsim/gpu/device_info.hpp"
#include "fpsim/gpu/device_mma.hpp"
#endif

namespace fpsim::cli {
namespace {

// The configurations named by --config (comma-separated, or "all").
std::vector<gpu::MmaConfig> selected_configs(const std::string& names) {
  std::vector<gpu::MmaConfig> out;
  if (names.empty() || names == "all") {
    for (const gpu::MmaConfig& c : gpu::all_configs()) out.push_back(c);
    return out;
  }
  size_t start = 0;
  while (start <= names.size()) {
    const size_t comma = names.find(',', start);
    const std::string one = names.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    out.push_back(gpu::parse_config(one));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

#if FPSIM_HAVE_GPU
void require_device() {
  std::string why;
  if (!gpu::hopper_device_available(&why)) throw Error(why);
}
#else
[[noreturn]] void require_device() {
  throw Error("this fpsim was built without CUDA (gpu/ is built when CMake finds nvcc)");
}
#endif

int run_info(std::ostream& out) {
  out << "configurations (instruction-input-accumulator, PTX, model preset):\n";
  for (const gpu::MmaConfig& c : gpu::all_configs())
    out << "  " << gpu::config_name(c) << "  " << gpu::instruction_text(c) << "  " << gpu::model_preset(c) << '\n';
#if FPSIM_HAVE_GPU
  std::string why;
  if (gpu::hopper_device_available(&why)) {
    out << "device: " << gpu::device_description() << '\n';
    return 0;
  }
  out << "device: none usable (" << why << ")\n";
  return 2;
#else
  out << "device: this fpsim was built without CUDA (gpu/ is built when CMake finds nvcc)\n";
  return 2;
#endif
}

int run_selftest(const std::string& configs, std::ostream& out) {
  const std::vector<gpu::MmaConfig> list = selected_configs(configs);
  require_device();
  int failed = 0;
#if !FPSIM_HAVE_GPU
  (void)out;  // require_device() has thrown
#else
  for (const gpu::MmaConfig& c : list) {
    std::string result;
    try {
      result = gpu::layout_self_test(c);
    } catch (const Error& e) {
      result = std::string("error: ") + e.what();
    }
    out << gpu::config_name(c) << ": "
        << (result.empty() ? "pass (operands: " + gpu::operand_layout_name(c) + ")" : "FAIL " + result) << '\n';
    if (!result.empty()) ++failed;
  }
#endif
  return failed ? 1 : 0;
}

struct GoldenOptions {
  std::string out;
  std::string configs = "all";
  std::string tag = "H200";
  int64_t rows = 5000;
  uint64_t seed = 20261206;
};

int run_golden(const GoldenOptions& o, std::ostream& out) {
  const std::vector<gpu::MmaConfig> list = selected_configs(o.configs);
  require_device();
  int failures = 0;
#if !FPSIM_HAVE_GPU
  (void)out;  // require_device() has thrown
#else
  std::string summary = "device: " + gpu::device_description() + "\nrows per set: " + std::to_string(o.rows) +
                        ", seed " + std::to_string(o.seed) + "\n";
  for (const gpu::MmaConfig& c : list) {
    const std::string name = gpu::config_name(c);
    const std::string self = gpu::layout_self_test(c);
    if (!self.empty()) {
      const std::string line = name + ": layout self-test FAILED, no golden data (" + self + ")\n";
      out << line;
      summary += line;
      ++failures;
      continue;
    }
    const MmaModel model = mma_preset(gpu::model_preset(c));
    for (const gpu::GoldenSet& set : gpu::golden_input_sets(c, static_cast<int>(o.rows), o.seed)) {
      const std::vector<uint32_t> d = gpu::run_dot_batch(c, set.k, set.a, set.b, set.c);
      const std::filesystem::path dir = std::filesystem::path(o.out) / std::string(gpu::instruction_name(c.instruction)) /
                                        (std::string(gpu::input_format(c).name) + "-" +
                                         gpu::output_format(c).name) /
                                        set.name;
      std::filesystem::create_directories(dir);
      gpu::write_golden_files(dir.string(), o.tag, c, set, d);
      const int matches = gpu::count_model_matches(model, set, d);
      const std::string line = name + " " + set.name + " (K=" + std::to_string(set.k) + "): " +
                               std::to_string(matches) + "/" + std::to_string(set.rows) + " match " + model.name +
                               "\n";
      out << line;
      summary += line + "  inputs: " + set.distribution + "\n";
    }
  }
  io::write_output_file((std::filesystem::path(o.out) / "summary.txt").string(), summary);
#endif
  return failures ? 1 : 0;
}

}  // namespace

void add_gpu_command(CLI::App& app, int& exit_code) {
  CLI::App* gpu = app.add_subcommand(
      "gpu",
      "Run gpu/'s checks on a real H100/H200 (docs/gpu.md): info, selftest, golden, convert, cublaslt; the probe "
      "suite runs as `fpsim probe --target gpu:CONFIG`. Needs a CUDA-enabled build.");
  gpu->require_subcommand(1);

  CLI::App* info = gpu->add_subcommand("info", "List the tensor-core configurations and the device (exit 2 if none)");
  info->callback([&exit_code] { exit_code = exit_status_of("gpu info", std::cerr, [] { return run_info(std::cout); }); });

  auto self = std::make_shared<std::string>("all");
  CLI::App* st = gpu->add_subcommand(
      "selftest", "Check the operand layouts of every configuration against exact integer products (exit 1 if any fails)");
  st->add_option("--config", *self, "configurations, comma-separated, or all (default)");
  st->callback([self, &exit_code] {
    exit_code = exit_status_of("gpu selftest", std::cerr, [&] { return run_selftest(*self, std::cout); });
  });

  auto g = std::make_shared<GoldenOptions>();
  CLI::App* golden = gpu->add_subcommand(
      "golden",
      "Run random dot products through every configuration and write golden files in the published format under "
      "--out, with the count of rows each H100 preset matches (exit 1 if a layout self-test fails)");
  golden->add_option("--out", g->out, "output folder (created)")->required();
  golden->add_option("--config", g->configs, "configurations, comma-separated, or all (default)");
  golden->add_option("--tag", g->tag, "the GPU's name in the file names (default H200)");
  add_whole_number_option(golden, "--rows", g->rows, 1, 1000000, "rows per set (default 5000)");
  add_whole_number_option(golden, "--seed", g->seed, 0, UINT64_MAX, "seed of the inputs (default 20261206)");
  golden->callback([g, &exit_code] {
    exit_code = exit_status_of("gpu golden", std::cerr, [&] { return run_golden(*g, std::cout); });
  });

  add_gpu_convert_command(*gpu, exit_code);
  add_gpu_cublaslt_command(*gpu, exit_code);
}

}  // namespace fpsim::cli
