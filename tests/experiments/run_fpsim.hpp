// Test helper: runs the built `fpsim` binary (FPSIM_BINARY, a compile
// definition of experiments_test) through sh with its output captured, for
// the commands' end-to-end tests (train_test.cpp, sweep_test.cpp).
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fpsim::experiments::test {

struct CommandResult {
  int status;  // exit status (-1: killed by a signal)
  std::string out, err;
};

// `prefix` goes before the binary on the sh command line (e.g. "VAR=x ").
// stdout and stderr pass through files in `dir`, removed afterwards.
inline CommandResult run_fpsim(const std::string& args, const std::string& dir, const std::string& prefix = "") {
  const std::string out = dir + "/.stdout", err = dir + "/.stderr";
  const std::string cmd = prefix + FPSIM_BINARY + std::string(" ") + args + " >" + out + " 2>" + err;
  const int raw = std::system(("sh -c '" + cmd + "'").c_str());
  auto text = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  CommandResult r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, text(out), text(err)};
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace fpsim::experiments::test
