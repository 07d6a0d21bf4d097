#include "final_target.hpp"

#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "cannot.hpp"

namespace fpsim::io {
namespace {

// Linux gives up on a path with more than 40 links too (path_resolution(7)).
constexpr int kMaxSymlinks = 40;

std::string read_symlink(const std::string& link, const std::string& user_path) {
  std::string text(PATH_MAX, '\0');
  const ssize_t n = ::readlink(link.c_str(), text.data(), text.size());
  if (n < 0) throw cannot("write", user_path, errno);
  if (size_t(n) == text.size()) throw cannot("write", user_path, ENAMETOOLONG);
  text.resize(size_t(n));
  return text;
}

// A relative link is relative to the directory that holds the link.
std::string link_destination(const std::string& link, const std::string& text) {
  const size_t slash = link.rfind('/');
  if (text.starts_with('/') || slash == std::string::npos) return text;
  return link.substr(0, slash + 1) + text;
}

}  // namespace

FinalTarget resolve_final_target(const std::string& user_path) {
  FinalTarget target{.path = user_path};
  for (int links = 0;; ++links) {
    if (::lstat(target.path.c_str(), &target.status) != 0) {
      if (errno != ENOENT) throw cannot("write", user_path, errno);
      target.exists = false;
      return target;
    }
    if (!S_ISLNK(target.status.st_mode)) {
      target.exists = true;
      return target;
    }
    if (links == kMaxSymlinks) throw cannot("write", user_path, ELOOP);
    target.path = link_destination(target.path, read_symlink(target.path, user_path));
  }
}

}  // namespace fpsim::io
