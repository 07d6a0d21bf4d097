// One helper writes every output file (docs/architecture.md, "Writing files";
// docs/library.md, "Reading and writing files").
//
// The contract, for `path`:
//   - ""  : OptionError("empty output file name").
//   - "-" : standard output (fd 1), written through; commit() flushes. Errors
//           name "stdout".
//   - a directory, or a symlink to one: IoError "cannot write PATH: Is a
//     directory".
//   - a regular file, or nothing yet: the bytes go to an unnamed temporary
//     file (Linux O_TMPFILE; where the file system lacks it, a hidden
//     `.NAME.fpsim-tmp.PID.N`) in the same directory; commit() gives it the
//     old file's mode (and owner, where the process may), fsyncs it, renames
//     it over the file and fsyncs the directory. Readers see the old file or
//     the whole new one. A new file gets 0666 & ~umask; an unnamed temporary
//     becoming a new file is linked under its name directly (no rename), so
//     only a replacement killed between naming its temporary and the rename
//     can leave a `.NAME.fpsim-tmp.PID.N` behind (is_temporary_name).
//   - a symlink (or a chain of them): followed; its final target is replaced
//     as above, in the target's own directory, and the link stays as it was.
//     A dangling link's target is created.
//   - a device, FIFO or socket: opened for writing (no create, no truncate)
//     and written through; no temporary, no rename.
// Errors are IoError "cannot <what> PATH: <strerror>" naming the user's path,
// never a temporary one. After any failure, and when an OutputFile is
// destroyed without commit(), nothing of the new bytes remains at or beside
// `path` (written-through targets keep what already went out). Different
// OutputFiles may be used from different threads at the same time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace fpsim::io {

// Whether a file name is one of the writer's temporaries
// (".NAME.fpsim-tmp.PID.N"): what a process killed mid-replacement may leave
// beside NAME, and what the owner of a directory may remove on restart.
bool is_temporary_name(std::string_view file_name);

// Writes `bytes` as the whole content of `path`: an OutputFile written once
// and committed.
void write_output_file(const std::string& path, std::string_view bytes);

// A file written piece by piece (metrics files, large tables) and published
// as a whole by commit(). write() buffers; an IoError from write() or
// commit() discards the file, and the object may not be used after it.
class OutputFile {
 public:
  // Checks `path` and opens the temporary (or the write-through target).
  explicit OutputFile(std::string path);
  OutputFile(OutputFile&&) noexcept;
  OutputFile& operator=(OutputFile&&) noexcept;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  // Without commit(): discards everything written (removes the temporary).
  ~OutputFile();

  void write(std::string_view bytes);
  // Makes the whole content visible at `path`; the last call on the object.
  void commit();

 private:
  class Destination;
  std::unique_ptr<Destination> destination_;
};

}  // namespace fpsim::io
