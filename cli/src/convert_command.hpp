// `fpsim convert`: the batch conversion contract (docs/cli.md).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fpsim::cli {

struct ConvertOptions {
  std::string to;
  std::string from;  // default: f32 for hex input
  std::string rounding = "rne";
  std::string overflow = "ieee";
  std::string tininess = "after";
  bool ftz = false;
  bool daz = false;
  uint32_t seed = 0;
  std::string in = "dec";
  std::string out = "hex";
  bool flags = false;
  std::vector<std::string> values;  // empty: read stdin
};

// Runs one batch. Returns the exit status: 0, or 2 when any input was bad
// (each bad line is reported on `err` and answered with "error" on `out`, so
// output line i always answers input line i).
int run_convert(const ConvertOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

void add_convert_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
