// The training runner's typed errors (docs/architecture.md, "Errors"). Both are bad
// input (the CLI's exit status 2); file failures are fpsim::IoError (1).
#pragma once

#include "fpsim/error.hpp"

namespace fpsim::experiments {

// A recipe, model or run configuration that is malformed or cannot apply:
// unknown key or name, wrong TOML type, a block size that does not divide a
// dimension. The message names the file, line and key where there is one.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A data set that is missing, corrupt (SHA-256 mismatch) or malformed; the
// message names the file and, when missing, the command that fetches it.
class DataError : public Error {
 public:
  using Error::Error;
};

}  // namespace fpsim::experiments
