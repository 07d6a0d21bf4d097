#include "testfloat_command.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "command_errors.hpp"
#include "fpsim/error.hpp"
#include "fpsim/quoted_text.hpp"
#include "testfloat_check.hpp"

namespace fpsim::cli {

namespace {

// Applies TestFloat's options; two rounding modes (or two tininess modes)
// contradict each other and are refused rather than letting the last win.
RoundingSpec testfloat_spec(const std::vector<std::string>& options) {
  RoundingSpec spec;
  std::string rounding_given, tininess_given;
  for (const std::string& option : options) {
    const TestFloatOption kind = apply_testfloat_option(option, spec);
    if (kind == TestFloatOption::unknown)
      throw OptionError("unknown testfloat option " + quoted_text(option) + " (expected one of " +
                        testfloat_option_list() + ")");
    std::string& given = kind == TestFloatOption::rounding ? rounding_given : tininess_given;
    if (!given.empty())
      throw OptionError(given + " and " + option + " contradict each other (give one " +
                        (kind == TestFloatOption::rounding ? "rounding mode" : "tininess mode") + ")");
    given = option;
  }
  return spec;
}

}  // namespace

int run_testfloat(const TestFloatOptions& o, std::istream& in, std::ostream& out, std::ostream& err) {
  return exit_status_of("testfloat", err, [&] {
    const RoundingSpec spec = testfloat_spec(o.options);
    const TestFloatFunction fn = parse_testfloat_function(o.function);
    const TestFloatTally tally = check_testfloat_vectors(in, fn, spec, out);
    if (tally.passed + tally.failed + tally.malformed == 0)
      throw ParseError("no vectors on stdin (expected testfloat_gen output: " + testfloat_layout(fn) +
                       "; an empty or failed pipe is not a pass)");
    out << tally.passed << " passed, " << (tally.failed + tally.malformed) << " failed\n";
    return tally.malformed ? 2 : (tally.failed ? 1 : 0);
  });
}

void add_testfloat_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TestFloatOptions>();
  CLI::App* cmd = app.add_subcommand(
      "testfloat",
      "Check Berkeley TestFloat vectors (testfloat_gen output) read from stdin for FUNCTION. Prints each mismatch "
      "and ends with 'N passed, M failed'; exit 1 when anything failed, 2 for a malformed line or no vectors.");
  cmd->add_option("FUNCTION", o->function,
                  "a conversion A_to_B of any two fpsim formats (f32_to_f16, f32_to_bf16, f64_to_f32, f16_to_f32, "
                  "...) or an operation on one format: f16_add, f32_sub, f16_mul, f32_mulAdd, f16_div, f32_sqrt, "
                  "f16_eq, f32_le, f16_lt, f32_eq_signaling, f16_le_quiet, f32_lt_quiet, or any operation of fpsim "
                  "verify --op (bf16_fma, e4m3_minimum, ...)")
      ->required();
  cmd->allow_extras();
  cmd->footer(
      "TestFloat's options, at most one of each kind:\n"
      "  rounding mode: -rnear_even (default), -rnear_maxMag, -rminMag, -rmin, -rmax, -rodd\n"
      "  tininess: -tininessafter (default), -tininessbefore");
  cmd->callback([cmd, o, &exit_code] {
    o->options = cmd->remaining();
    exit_code = run_testfloat(*o, std::cin, std::cout, std::cerr);
  });
}

}  // namespace fpsim::cli
