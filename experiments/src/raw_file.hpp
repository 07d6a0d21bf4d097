// Reading a file's bytes exactly as stored (private to experiments/src).
// fpsim::io::read_input_file unpacks anything that begins with the gzip magic
// 1f 8b, which is right for data sets but wrong for a hash of the stored
// bytes and for binary formats whose first bytes are a length: a safetensors
// file whose header length ends in 0x8b1f would be taken for gzip.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "fpsim/error.hpp"

namespace fpsim::experiments::raw_file {

// IoError "cannot <action> <path>: <strerror>", the shape of fpsim_io's messages.
inline IoError cannot(const std::string& action, const std::string& path, int errnum) {
  return IoError("cannot " + action + " " + path + ": " + std::generic_category().message(errnum));
}

// A read-only descriptor, closed with its owner.
class Fd {
 public:
  // Opens `path`; on failure is_open() is false and open_errno() says why.
  explicit Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC)) {
    if (fd_ < 0) errno_ = errno;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool is_open() const { return fd_ >= 0; }
  int open_errno() const { return errno_; }
  int get() const { return fd_; }

 private:
  int fd_;
  int errno_ = 0;
};

// Everything from the descriptor's position to its end; `path` names it in
// errors ("cannot read P: Is a directory").
inline std::string read_to_end(int fd, const std::string& path) {
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) return bytes;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw cannot("read", path, errno);
    }
    bytes.append(buffer, size_t(n));
  }
}

// The whole stored content of `path`.
inline std::string read_bytes(const std::string& path) {
  const Fd file(path);
  if (!file.is_open()) throw cannot("open", path, file.open_errno());
  return read_to_end(file.get(), path);
}

}  // namespace fpsim::experiments::raw_file
