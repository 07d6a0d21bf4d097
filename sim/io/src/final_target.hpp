// Where a write to a path lands: the path itself, or the end of the chain of
// symlinks it names (as realpath would resolve the final component). Writers
// replace that file, so a link stays a link (docs/architecture.md, "Writing files").
#pragma once

#include <sys/stat.h>

#include <string>

namespace fpsim::io {

struct FinalTarget {
  std::string path;  // not a symlink; may not exist yet
  bool exists = false;
  struct stat status {};  // lstat of `path`, when it exists
};

// Throws IoError naming `user_path` when the chain cannot be followed
// (permissions, a loop, a file used as a directory).
FinalTarget resolve_final_target(const std::string& user_path);

}  // namespace fpsim::io
