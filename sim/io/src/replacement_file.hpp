// The new content of a regular file (or of a file still to be created),
// written beside it and published by one rename() (a new file: by linking
// the unnamed temporary under its name), so that readers see the old file or
// the whole new one (docs/architecture.md, "Writing files").
#pragma once

#include <string>

#include "final_target.hpp"
#include "fpsim/error.hpp"
#include "unique_fd.hpp"

namespace fpsim::io {

class ReplacementFile {
 public:
  // Opens the temporary in the target's directory. `user_path` is the name
  // every error message gives.
  ReplacementFile(std::string user_path, const FinalTarget& target);
  ReplacementFile(const ReplacementFile&) = delete;
  ReplacementFile& operator=(const ReplacementFile&) = delete;
  // Before publish() (or after it failed): removes the temporary.
  ~ReplacementFile();

  // Where the new bytes go.
  int fd() const { return file_.get(); }
  // Gives the temporary the replaced file's mode and owner, makes it durable
  // and renames it over the target.
  void publish();

 private:
  void create_named_temporary();
  // linkat(2) of the unnamed temporary under `name` in directory_: 0 or errno.
  int link_unnamed_temporary(const std::string& name) const;
  void name_unnamed_temporary();
  void keep_owner_and_mode();
  void sync_directory() const;
  IoError cannot_create(int errnum) const;

  std::string user_path_;
  std::string directory_;  // the target's directory
  std::string name_;       // the target's name in it
  bool replaces_existing_ = false;
  struct stat replaced_ {};  // the old file's owner and mode, when it exists
  UniqueFd directory_fd_;
  UniqueFd file_;
  // The temporary's name in directory_, while it has one: always after an
  // O_TMPFILE fallback, and from publish() on otherwise.
  std::string temporary_name_;
};

}  // namespace fpsim::io
