// The `fpsim` command. Exit status: 0 success, 1 a check failed, 2 a usage
// error or bad input (design.md, "Errors").
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "convert_command.hpp"
#include "formats_command.hpp"
#include "mma_command.hpp"
#include "mma_error_command.hpp"
#include "probe_command.hpp"
#include "quantize_command.hpp"
#include "verify_command.hpp"
#include "fpsim/error.hpp"
#include "testfloat_check.hpp"

namespace {

void add_testfloat_command(CLI::App& app, int& exit_code) {
  auto function = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "testfloat",
      "Check Berkeley TestFloat vectors (testfloat_gen output) read from stdin for a FUNCTION: a conversion such as "
      "f32_to_f16, f32_to_bf16, f64_to_f32, f16_to_f32, or an operation such as f16_add, f32_sub, f16_mul, "
      "f32_mulAdd, f16_div, f32_sqrt, f16_eq, f32_le, f16_lt, f32_eq_signaling, f16_le_quiet, f32_lt_quiet. Options: "
      "-rnear_even (default) -rnear_maxMag -rminMag -rmin -rmax -rodd, -tininessafter (default) -tininessbefore. "
      "Prints each mismatch and ends with 'N passed, M failed'; exit 1 when anything failed.");
  cmd->add_option("FUNCTION", *function, "e.g. f32_to_f16 or f16_mulAdd")->required();
  cmd->allow_extras();
  cmd->callback([cmd, function, &exit_code] {
    fpsim::RoundingSpec spec;
    for (const std::string& option : cmd->remaining()) {
      if (!fpsim::cli::apply_testfloat_option(option, spec))
        throw fpsim::OptionError("unknown testfloat option '" + option +
                                 "' (expected -rnear_even -rnear_maxMag -rminMag -rmin -rmax -rodd -tininessbefore "
                                 "-tininessafter)");
    }
    const auto fn = fpsim::cli::parse_testfloat_function(*function);
    const auto tally = fpsim::cli::check_testfloat_vectors(std::cin, fn, spec, std::cout);
    std::cout << tally.passed << " passed, " << (tally.failed + tally.malformed) << " failed\n";
    exit_code = tally.malformed ? 2 : (tally.failed ? 1 : 0);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fpsim: bit-exact low-precision arithmetic for machine learning"};
  app.require_subcommand(1);
  int exit_code = 0;
  fpsim::cli::add_formats_command(app, exit_code);
  fpsim::cli::add_convert_command(app, exit_code);
  add_testfloat_command(app, exit_code);
  fpsim::cli::add_verify_command(app, exit_code);
  fpsim::cli::add_quantize_command(app, exit_code);
  fpsim::cli::add_mma_command(app, exit_code);
  fpsim::cli::add_mma_error_command(app, exit_code);
  fpsim::cli::add_probe_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : 2;
  } catch (const fpsim::Error& e) {
    std::cerr << "fpsim: " << e.what() << '\n';
    return 2;
  }
  return exit_code;
}
