// `fpsim convert`: the batch conversion contract (docs/cli.md).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fpsim::cli {

struct ConvertOptions {
  std::string to;
  std::string from;  // the format of --bits input; default f32
  std::string rounding = "rne";
  std::string overflow = "ieee";
  std::string tininess = "after";
  bool ftz = false;
  bool daz = false;
  std::optional<uint32_t> seed;  // the Philox key of sr (default 0); refused with any other mode
  bool bits = false;             // values are bit patterns of --from, in hex
  std::string print = "hex";     // what each output line shows: hex, dec or both
  bool flags = false;
  std::string in = "-";                // a file (gzip read transparently), or - for stdin
  std::string out = "-";               // a file (written as docs/cli.md "Output files" says), or - for stdout
  std::vector<std::string> values;     // values given on the command line (then --in is not read)
};

// Runs one batch. Returns the exit status: 0; 2 when any input was bad (each
// bad line is reported on `err` and answered with "error" on the output, so
// output line i always answers input line i) or an option is bad (nothing is
// converted); 1 when a file cannot be read or written.
int run_convert(const ConvertOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

void add_convert_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
