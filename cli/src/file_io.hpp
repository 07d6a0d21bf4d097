// Whole-file output shared by the subcommands, and the exception that
// separates "a file could not be read or written" (exit status 1) from bad
// input and usage errors (fpsim::Error: exit status 2), docs/cli.md.
#pragma once

#include <stdexcept>
#include <string>

namespace fpsim::cli {

// Reading an input file or writing the output failed.
class IoFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `text` to a temporary file next to `path`, then renames it over
// `path`: readers see the old file or the whole new one, never a part, and a
// failure leaves an existing `path` as it was. Throws IoFailure.
void write_atomically(const std::string& path, const std::string& text);

}  // namespace fpsim::cli
