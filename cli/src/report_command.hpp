// `fpsim report`: the divergence report of a sweep directory, merged from
// its shards (docs/cli.md; docs/training.md "Divergence report").
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fpsim::cli {

struct ReportOptions {
  std::string dir;                     // the sweep directory; report.md/.csv/.json are written into it
  std::vector<std::string> extra_dirs;  // shard directories whose runs/ are merged in
  std::string format = "md";           // what goes to stdout: md, csv or json
};

// Builds and writes the report; prints it on `out` in the chosen format, and
// the missing runs and problems on `err`. Returns 0 when every run is there
// and readable, 1 when some are missing or had problems (the report covers the
// rest) or a file could not be written, 2 for bad input (not a sweep directory,
// another format version, shards of another sweep).
int run_report(const ReportOptions& options, std::ostream& out, std::ostream& err);

void add_report_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
