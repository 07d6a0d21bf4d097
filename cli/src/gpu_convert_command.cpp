// `fpsim gpu convert`: every Hopper `cvt` between the ML formats on all of
// its inputs, hardware against sim compiled as device code (docs/gpu.md,
// "Conversions on the device"). One summary line per conversion on stdout,
// the JSON report in --out. Exit 0: no mismatch; 1: a mismatch or a CUDA
// error (also in the report); 2: usage, or no CUDA / no Hopper device.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "command_errors.hpp"
#include "fpsim/error.hpp"
#include "fpsim/gpu/conversion_checks.hpp"
#include "gpu_command.hpp"
#include "option_values.hpp"

namespace fpsim::cli {

namespace {

struct GpuConvertOptions {
  std::string only;
  uint64_t limit = 0;
  int keep = 16;
  int time_budget_s = 45;
  std::string out;
};

#if defined(FPSIM_HAVE_GPU) && FPSIM_HAVE_GPU
int run_gpu_convert(const GpuConvertOptions& o, std::ostream& out, std::ostream& err) {
  return exit_status_of("gpu convert", err, [&] {
    check_path_option("--out", o.out, "stdout");
    gpu::ConversionRunOptions options;
    if (!o.only.empty()) options.only = gpu::parse_conversion_list(o.only);
    options.limit = o.limit;
    options.keep = o.keep;
    options.time_budget_s = o.time_budget_s;
    const gpu::ConversionRun run = gpu::run_conversion_checks(options);
    // The report goes out first, so that any CUDA error is in the file too.
    gpu::write_conversion_report(run, o.out);
    if (run.device.empty()) {  // no usable Hopper device: an environment error
      err << "fpsim gpu convert: " << run.error << '\n';
      return 2;
    }
    std::ostream& summary = o.out == "-" ? err : out;  // stdout may carry the report
    summary << "device: " << run.device << '\n';
    for (const gpu::ConversionResult& r : run.results) summary << gpu::conversion_summary_line(r) << '\n';
    if (run.stopped_by_time_budget)
      summary << "stopped by the time budget (" << o.time_budget_s << " s): some conversions are incomplete\n";
    if (!run.error.empty()) err << "fpsim gpu convert: CUDA error: " << run.error << '\n';
    summary << (run.passed() ? "PASS" : "FAIL") << " (" << run.seconds << " s)\n";
    out.flush();
    if (!out) throw_stdout_failure();
    return run.passed() ? 0 : 1;
  });
}
#else
int run_gpu_convert(const GpuConvertOptions&, std::ostream&, std::ostream& err) {
  err << "fpsim gpu convert: this fpsim was built without CUDA (gpu/ needs nvcc)\n";
  return 2;
}
#endif

}  // namespace

void add_gpu_convert_command(CLI::App& gpu, int& exit_code) {
  auto o = std::make_shared<GpuConvertOptions>();
  CLI::App* cmd = gpu.add_subcommand(
      "convert",
      "Run every Hopper cvt between f32/f16/bf16/tf32/e4m3/e5m2 on all of its inputs (2^32 or 2^16) on the GPU and "
      "compare each result with sim compiled as device code (docs/gpu.md, \"Conversions on the device\"); exit 1 "
      "on any mismatch.");
  cmd->add_option("--only", o->only, "comma-separated conversion names (default: all; e.g. f32-e4m3x2-rn-satfinite)")
      ->type_name("NAME,...");
  add_whole_number_option(cmd, "--limit", o->limit, 1, uint64_t{1} << 32,
                          "inputs per conversion, evenly strided (default: all)");
  add_whole_number_option(cmd, "--keep", o->keep, 0, uint64_t(gpu::kMaxKeptExamples),
                          "mismatching inputs kept in full per conversion (default 16)");
  add_whole_number_option(cmd, "--time-budget", o->time_budget_s, 1, 3600,
                          "seconds after which no new round of inputs starts; the report marks what is incomplete "
                          "(default 45)");
  cmd->add_option("--out", o->out, "the JSON report (- for stdout)")->required()->type_name("FILE");
  cmd->callback([o, &exit_code] { exit_code = run_gpu_convert(*o, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
