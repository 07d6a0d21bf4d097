// `fpsim formats [--json]`: the format table with its properties.
#pragma once

#include <iosfwd>

namespace CLI {
class App;
}

namespace fpsim::cli {

void print_formats(std::ostream& out, bool json);
void add_formats_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
