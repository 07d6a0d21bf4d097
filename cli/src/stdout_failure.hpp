// Output lost on stdout (a full disk, a closed pipe) is a failure, exit
// status 1, reported once: by the command that notices it while writing,
// or else by run_fpsim's final flush (docs/cli.md, exit statuses).
#pragma once

namespace fpsim::cli {

// Throws IoError("cannot write to stdout: <reason>") with the reason errno
// gives, and remembers that the failure is being reported.
[[noreturn]] void throw_stdout_failure();

// Whether throw_stdout_failure() ran in this process.
bool stdout_failure_thrown();

}  // namespace fpsim::cli
