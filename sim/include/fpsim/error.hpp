// Typed exceptions for bad user input (design.md, "Errors"): library code
// throws these and never aborts on user input.
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

}  // namespace fpsim
