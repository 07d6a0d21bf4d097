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

std::string stdout_failure_message(int errnum) {
  return std::string("cannot write to stdout: ") + std::strerror(errnum ? errnum : EIO);
}

void throw_stdout_failure() {
  const int err = errno;
  thrown = true;
  throw IoError(stdout_failure_message(err));
}

bool stdout_failure_thrown() { return thrown; }

}  // namespace fpsim::cli
