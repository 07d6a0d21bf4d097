// How a command's errors become the exit statuses of docs/cli.md: one line
// "fpsim COMMAND: ..." on stderr, 1 for a failure of the system (an IoError:
// a file, stdout, threads), 2 for every other fpsim::Error (usage, bad
// input). Output lost on stdout is reported once: by the command that
// notices it while writing (write_command_output), or else by run_fpsim's
// final flush.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "fpsim/error.hpp"

namespace fpsim::cli {

// Runs `body`, which returns the exit status of a run that got through, and
// reports its fpsim::Error as above.
template <typename Body>
int exit_status_of(std::string_view command, std::ostream& err, Body&& body) {
  try {
    return body();
  } catch (const IoError& e) {
    err << "fpsim " << command << ": " << e.what() << '\n';
    return 1;
  } catch (const Error& e) {
    err << "fpsim " << command << ": " << e.what() << '\n';
    return 2;
  }
}

// "cannot write to stdout: <strerror(errnum)>" (EIO's text for errnum 0).
std::string stdout_failure_message(int errnum);

// Throws IoError(stdout_failure_message(errno)) and remembers that the
// failure is being reported.
[[noreturn]] void throw_stdout_failure();

// Whether throw_stdout_failure() ran in this process.
bool stdout_failure_thrown();

// A command's whole output: `text` to `out` when `path` is "-" (a failed
// write is throw_stdout_failure), else to the file `path`, which appears
// whole (io::write_output_file; docs/cli.md "Output files").
void write_command_output(const std::string& text, const std::string& path, std::ostream& out);

}  // namespace fpsim::cli
