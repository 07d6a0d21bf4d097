// The `fpsim` command (docs/cli.md); everything happens in run_fpsim.
#include <string>
#include <vector>

#include "command_line.hpp"

int main(int argc, char** argv) { return fpsim::cli::run_fpsim(std::vector<std::string>(argv + 1, argv + argc)); }
