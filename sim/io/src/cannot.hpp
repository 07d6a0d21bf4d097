// The one shape of every IoError message: "cannot <action> <path>: <reason>",
// naming the user's path (docs/library.md, "Reading and writing files").
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "fpsim/error.hpp"

namespace fpsim::io {

inline IoError cannot(std::string_view action, std::string_view path, std::string_view reason) {
  return IoError(std::string("cannot ").append(action).append(" ").append(path).append(": ").append(reason));
}

// Callers pass `errno` itself: no argument allocates, so nothing can change errno before it is read.
// generic_category().message is strerror_r underneath: safe from several threads, unlike strerror.
inline IoError cannot(std::string_view action, std::string_view path, int errnum) {
  return cannot(action, path, std::generic_category().message(errnum));
}

}  // namespace fpsim::io
