#include "command_errors.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "fpsim/error.hpp"
#include "fpsim/io/output_file.hpp"

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

void write_command_output(const std::string& text, const std::string& path, std::ostream& out) {
  if (path != "-") {
    io::write_output_file(path, text);
    return;
  }
  out << text;
  out.flush();
  if (!out) throw_stdout_failure();
}

}  // namespace fpsim::cli
