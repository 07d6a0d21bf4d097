#include "command_errors.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "fpsim/error.hpp"

namespace fpsim::cli {

namespace {
std::atomic<bool> thrown{false};
}  // namespace

void throw_stdout_failure() {
  const int err = errno;
  thrown = true;
  throw IoError(std::string("cannot write to stdout: ") + (err ? std::strerror(err) : "write error"));
}

bool stdout_failure_thrown() { return thrown; }

}  // namespace fpsim::cli
