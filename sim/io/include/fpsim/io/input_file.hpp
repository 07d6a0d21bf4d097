// One helper reads every input file (docs/library.md, "Reading and writing
// files"): the whole content, gunzipped when it is gzip data (known by its
// 1f 8b magic, whatever the name). Concatenated gzip members are read one
// after another, as gzip -d does.
#pragma once

#include <string>

namespace fpsim::io {

// The content of `path`; "-" is standard input. Throws OptionError for an
// empty path and IoError naming the path for anything that cannot be read:
// "cannot open P: No such file or directory", "cannot read P: Is a
// directory", "cannot read P: unexpected end of gzip data" (a truncated or
// corrupt gzip stream never gives a partial result).
std::string read_input_file(const std::string& path);

// The same for an open descriptor, read to its end and left open; `name` is
// what error messages call it ("stdin" for fd 0).
std::string read_input_fd(int fd, const std::string& name);

}  // namespace fpsim::io
