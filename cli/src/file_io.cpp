#include "file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fpsim::cli {

void write_atomically(const std::string& path, const std::string& text) {
  auto failure = [&](const std::string& what, const std::string& file) {
    return IoFailure(
        std::string("cannot ").append(what).append(" ").append(file).append(": ").append(std::strerror(errno)));
  };
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = path;
    tmp.append(".tmp.").append(std::to_string(::getpid())).append(".").append(std::to_string(attempt));
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt >= 100)) throw failure("create", tmp);
  }
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const IoFailure e = failure("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw e;
    }
    p += n;
    left -= size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const IoFailure e = failure("write", tmp);
    ::unlink(tmp.c_str());
    throw e;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const IoFailure e = failure("rename the output to", path);
    ::unlink(tmp.c_str());
    throw e;
  }
}

}  // namespace fpsim::cli
