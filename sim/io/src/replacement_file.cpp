#include "replacement_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "cannot.hpp"
#include "fpsim/io/output_file.hpp"

namespace fpsim::io {
namespace {

// Tries of unique names before giving up on EEXIST: each try takes a fresh
// counter value, so only leftovers of earlier processes with this pid clash.
constexpr int kNameTries = 1000;
// Keeps `.NAME.fpsim-tmp.PID.N` under NAME_MAX (255) when NAME is long.
constexpr size_t kNameStemBytes = 200;

// Unique within the process (the counter) and among processes (the pid);
// hidden so that directory listings and globs skip it.
std::string unique_temporary_name(const std::string& name) {
  static std::atomic<unsigned long long> counter{0};
  return std::string(".")
      .append(name.substr(0, kNameStemBytes))
      .append(".fpsim-tmp.")
      .append(std::to_string(::getpid()))
      .append(".")
      .append(std::to_string(counter.fetch_add(1)));
}

}  // namespace

bool is_temporary_name(std::string_view file_name) {
  // ".NAME.fpsim-tmp.PID.N": a dot, a non-empty stem, the marker, two decimal numbers.
  constexpr std::string_view kMarker = ".fpsim-tmp.";
  if (file_name.size() < 2 || file_name[0] != '.') return false;
  const size_t marker = file_name.rfind(kMarker);
  if (marker == std::string_view::npos || marker < 2) return false;
  const std::string_view numbers = file_name.substr(marker + kMarker.size());
  const size_t dot = numbers.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == numbers.size()) return false;
  for (size_t i = 0; i < numbers.size(); ++i)
    if (i != dot && (numbers[i] < '0' || numbers[i] > '9')) return false;
  return true;
}

namespace {

bool unnamed_temporaries_unsupported(int errnum) {
  // EISDIR and EINVAL: kernels and file systems from before O_TMPFILE (open(2)).
  return errnum == EOPNOTSUPP || errnum == EISDIR || errnum == EINVAL;
}

int sync_file(int fd) {
  while (::fsync(fd) != 0)
    if (errno != EINTR) return errno;
  return 0;
}

}  // namespace

ReplacementFile::ReplacementFile(std::string user_path, const FinalTarget& target)
    : user_path_(std::move(user_path)), replaces_existing_(target.exists), replaced_(target.status) {
  const size_t slash = target.path.rfind('/');
  directory_ = slash == std::string::npos ? "." : slash == 0 ? "/" : target.path.substr(0, slash);
  name_ = slash == std::string::npos ? target.path : target.path.substr(slash + 1);
  // "new/" names a directory that does not exist: no file can be written there, as open(2) says.
  if (name_.empty()) throw cannot("write", user_path_, EISDIR);

  directory_fd_ = UniqueFd(::open(directory_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!directory_fd_) throw cannot_create(errno);
  // An unnamed temporary vanishes with the process, even one killed by SIGKILL mid-write.
  file_ = UniqueFd(::openat(directory_fd_.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666));
  if (file_) return;
  if (!unnamed_temporaries_unsupported(errno)) throw cannot_create(errno);
  create_named_temporary();
}

ReplacementFile::~ReplacementFile() {
  if (!temporary_name_.empty()) ::unlinkat(directory_fd_.get(), temporary_name_.c_str(), 0);
}

void ReplacementFile::publish() {
  if (replaces_existing_) keep_owner_and_mode();
  if (const int failed = sync_file(file_.get())) throw cannot("write", user_path_, failed);
  // A new file: the unnamed temporary is linked under the final name itself,
  // so a process killed at any moment leaves no named temporary behind.
  // EEXIST (another writer created the file meanwhile): replace it as below.
  if (temporary_name_.empty() && !replaces_existing_ && link_unnamed_temporary(name_) == 0) {
    if (::close(file_.release()) != 0) {
      const int failed = errno;
      ::unlinkat(directory_fd_.get(), name_.c_str(), 0);
      throw cannot("write", user_path_, failed);
    }
    sync_directory();
    return;
  }
  if (temporary_name_.empty()) name_unnamed_temporary();
  // close() reports the errors of file systems that write back late (NFS).
  if (::close(file_.release()) != 0) throw cannot("write", user_path_, errno);
  if (::renameat(directory_fd_.get(), temporary_name_.c_str(), directory_fd_.get(), name_.c_str()) != 0)
    throw cannot("replace", user_path_, errno);
  temporary_name_.clear();
  sync_directory();
}

void ReplacementFile::create_named_temporary() {
  for (int tries = 0; tries < kNameTries; ++tries) {
    temporary_name_ = unique_temporary_name(name_);
    file_ =
        UniqueFd(::openat(directory_fd_.get(), temporary_name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
    if (file_) return;
    const int failed = errno;
    temporary_name_.clear();
    if (failed != EEXIST) throw cannot_create(failed);
  }
  throw cannot_create(EEXIST);
}

int ReplacementFile::link_unnamed_temporary(const std::string& name) const {
  const std::string self = "/proc/self/fd/" + std::to_string(file_.get());
  int linked = ::linkat(AT_FDCWD, self.c_str(), directory_fd_.get(), name.c_str(), AT_SYMLINK_FOLLOW);
  // Without /proc mounted, AT_EMPTY_PATH links the descriptor itself (where the kernel allows it, linkat(2)).
  if (linked != 0 && errno == ENOENT) linked = ::linkat(file_.get(), "", directory_fd_.get(), name.c_str(), AT_EMPTY_PATH);
  return linked == 0 ? 0 : errno;
}

void ReplacementFile::name_unnamed_temporary() {
  for (int tries = 0; tries < kNameTries; ++tries) {
    const std::string name = unique_temporary_name(name_);
    const int failed = link_unnamed_temporary(name);
    if (failed == 0) {
      temporary_name_ = name;
      return;
    }
    if (failed != EEXIST) throw cannot_create(failed);
  }
  throw cannot_create(EEXIST);
}

void ReplacementFile::keep_owner_and_mode() {
  // Only root may give a file away; a member of the old group may still keep the group.
  if (::fchown(file_.get(), replaced_.st_uid, replaced_.st_gid) != 0) {
    if (errno != EPERM) throw cannot("write", user_path_, errno);
    if (::fchown(file_.get(), uid_t(-1), replaced_.st_gid) != 0 && errno != EPERM)
      throw cannot("write", user_path_, errno);
  }
  // After fchown, which clears the set-user-ID and set-group-ID bits.
  if (::fchmod(file_.get(), replaced_.st_mode & 07777) != 0) throw cannot("write", user_path_, errno);
}

// Makes the rename durable; best effort, since some file systems cannot sync a directory and the file is in place.
void ReplacementFile::sync_directory() const {
  const UniqueFd directory(::openat(directory_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory) sync_file(directory.get());
}

IoError ReplacementFile::cannot_create(int errnum) const {
  return cannot("create a file in", directory_ + " (for " + user_path_ + ")", errnum);
}

}  // namespace fpsim::io
