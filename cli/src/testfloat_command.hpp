// `fpsim testfloat`: Berkeley TestFloat vectors (testfloat_gen output) on
// stdin checked against sim (docs/cli.md; the checking is testfloat_check.hpp).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fpsim::cli {

struct TestFloatOptions {
  std::string function;              // f32_to_f16, f16_mulAdd, ...
  std::vector<std::string> options;  // TestFloat's own: one rounding mode, one tininess mode
};

// Checks the vectors read from `in`; mismatches and the closing
// "N passed, M failed" go to `out`, a problem to `err` as one line. Returns
// 0 all passed, 1 a mismatch, 2 bad options, a malformed line or no vectors
// at all (an empty or broken pipe is not a pass).
int run_testfloat(const TestFloatOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

void add_testfloat_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
