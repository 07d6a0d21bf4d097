// A file descriptor closed when its owner goes away, so that every error path
// of the readers and writers closes what it opened.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

namespace fpsim::io {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// open(2) of `path`, again when a signal interrupts the wait (opening a FIFO
// waits for its other end); an empty UniqueFd with errno set on failure.
inline UniqueFd open_unique(const std::string& path, int flags) {
  int fd = -1;
  while ((fd = ::open(path.c_str(), flags)) < 0 && errno == EINTR) {
  }
  return UniqueFd(fd);
}

}  // namespace fpsim::io
