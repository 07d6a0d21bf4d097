// Typed exceptions (docs/architecture.md, "Errors"): library code throws these and never
// aborts on user input. Every subclass but IoError is bad input or usage (the
// CLI's exit status 2); IoError is a failure to read or write a file (exit
// status 1, docs/cli.md).
#pragma once

#include <stdexcept>
#include <string>

namespace fpsim {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An unknown or malformed format name.
class FormatError : public Error {
 public:
  using Error::Error;
};

// An unknown rounding mode or a bad option value.
class OptionError : public Error {
 public:
  using Error::Error;
};

// Text that is not a number or not a valid bit pattern.
class ParseError : public Error {
 public:
  using Error::Error;
};

// A file could not be read or written (exit status 1, unlike the bad-input
// errors above); the message names the user's path and the system's reason.
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace fpsim
