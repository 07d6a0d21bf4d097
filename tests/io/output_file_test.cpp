// fpsim::io::OutputFile and write_output_file: the contract in
// fpsim/io/output_file.hpp (docs/architecture.md, "Writing files"), one case per kind of
// path, the error messages to the letter, and what is left on disk after a
// success, a failure and a discard.
#include "fpsim/io/output_file.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fpsim/error.hpp"
#include "temporary_directory.hpp"

namespace fpsim::io {
namespace {

using test::file_content;
using test::lstat_of;
using test::names_in;
using test::put_file;
using test::TemporaryDirectory;
using Names = std::vector<std::string>;

// The uid and gid of "nobody" on Linux distributions.
constexpr uid_t kNobody = 65534;

mode_t current_umask() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

std::string error_of_writing(const std::string& path, const std::string& bytes = "x\n") {
  try {
    write_output_file(path, bytes);
  } catch (const IoError& e) {
    return e.what();
  }
  return "no error";
}

// The error of writing `path` with no power over permissions: in a child
// process that becomes "nobody" when the test runs as root, since root may
// write into any directory. nullopt when the child cannot become nobody.
std::optional<std::string> error_of_writing_without_root(const std::string& path) {
  if (::geteuid() != 0) return error_of_writing(path);
  constexpr int kCannotBecomeNobody = 77;
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(kCannotBecomeNobody);
    const std::string message = error_of_writing(path);
    const ssize_t written = ::write(pipe_fds[1], message.data(), message.size());
    ::_exit(written == ssize_t(message.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, size_t(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == kCannotBecomeNobody) return std::nullopt;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return message;
}

// A device on which every write fails with ENOSPC. Root gets a private one
// (c 1 7) in `dir`: a writer that wrongly replaced devices would otherwise
// replace the system's /dev/full. nullopt when root cannot make one.
std::optional<std::string> full_device(const TemporaryDirectory& dir) {
  if (::geteuid() != 0) return "/dev/full";
  if (::mknod((dir / "full").c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) return std::nullopt;
  return dir / "full";
}

// Whether `directory` is on a file system with O_TMPFILE: there a temporary
// has no name until commit().
bool has_unnamed_temporaries(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_TMPFILE | O_WRONLY, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// ---- Regular files ----

TEST(OutputFile, NewFileGetsTheContentAndTheUmaskMode) {
  const TemporaryDirectory dir;
  write_output_file(dir / "q.csv", "a,b\n1,2\n");
  EXPECT_EQ(file_content(dir / "q.csv"), "a,b\n1,2\n");
  EXPECT_EQ(lstat_of(dir / "q.csv").st_mode & 07777, 0666 & ~current_umask());
  EXPECT_EQ(names_in(dir.path()), Names{"q.csv"});
}

TEST(OutputFile, ReplacedFileKeepsItsMode) {
  const TemporaryDirectory dir;
  for (const mode_t mode : {0600, 0640, 0755, 0444}) {
    SCOPED_TRACE(mode);
    put_file(dir / "kept", "old content that is longer than the new one\n");
    ASSERT_EQ(::chmod((dir / "kept").c_str(), mode), 0);
    const ino_t old_inode = lstat_of(dir / "kept").st_ino;
    write_output_file(dir / "kept", "new\n");
    EXPECT_EQ(file_content(dir / "kept"), "new\n");
    EXPECT_NE(lstat_of(dir / "kept").st_ino, old_inode) << "overwritten in place, not replaced";
    EXPECT_EQ(lstat_of(dir / "kept").st_mode & 07777, mode);
    EXPECT_EQ(names_in(dir.path()), Names{"kept"});
  }
}

TEST(OutputFile, ReplacedFileKeepsItsOwnerWhenRootWrites) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root may give a file to another owner";
  const TemporaryDirectory dir;
  put_file(dir / "owned", "old\n");
  ASSERT_EQ(::chown((dir / "owned").c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::chmod((dir / "owned").c_str(), 0640), 0);
  write_output_file(dir / "owned", "new\n");
  const struct stat status = lstat_of(dir / "owned");
  EXPECT_EQ(status.st_uid, kNobody);
  EXPECT_EQ(status.st_gid, kNobody);
  EXPECT_EQ(status.st_mode & 07777, 0640u);
  EXPECT_EQ(file_content(dir / "owned"), "new\n");
}

TEST(OutputFile, PiecesBecomeVisibleOnlyAtCommit) {
  const TemporaryDirectory dir;
  put_file(dir / "metrics.csv", "old\n");
  std::string expected = "step,loss\n";
  OutputFile file(dir / "metrics.csv");
  file.write("step,loss\n");
  for (int step = 0; step < 20000; ++step) {  // ~300 KB: several buffer flushes
    const std::string line = std::to_string(step) + "," + std::to_string(1.0 / (step + 1)) + "\n";
    file.write(line);
    expected += line;
  }
  const std::string large(200000, 'z');  // larger than the buffer: written straight through
  file.write(large);
  expected += large;
  EXPECT_EQ(file_content(dir / "metrics.csv"), "old\n");
  if (has_unnamed_temporaries(dir.path())) {
    EXPECT_EQ(names_in(dir.path()), Names{"metrics.csv"});
  }
  file.commit();
  EXPECT_EQ(file_content(dir / "metrics.csv"), expected);
  EXPECT_EQ(names_in(dir.path()), Names{"metrics.csv"});
}

TEST(OutputFile, EmptyContentMakesAnEmptyFile) {
  const TemporaryDirectory dir;
  put_file(dir / "e", "old\n");
  write_output_file(dir / "e", "");
  EXPECT_EQ(file_content(dir / "e"), "");
  EXPECT_EQ(lstat_of(dir / "e").st_size, 0);
}

TEST(OutputFile, NameNearNameMaxStillGetsATemporary) {
  const TemporaryDirectory dir;
  const std::string name(250, 'n');
  write_output_file(dir / name, "long\n");
  EXPECT_EQ(file_content(dir / name), "long\n");
  EXPECT_EQ(names_in(dir.path()), Names{name});
}

TEST(OutputFile, RelativePathIsWrittenInTheWorkingDirectory) {
  const TemporaryDirectory dir;
  const std::string old_directory = std::filesystem::current_path();
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  write_output_file("here.txt", "here\n");
  ASSERT_EQ(::chdir(old_directory.c_str()), 0);
  EXPECT_EQ(file_content(dir / "here.txt"), "here\n");
}

// ---- Symlinks ----

TEST(OutputFile, SymlinkTargetIsReplacedAndTheLinkStays) {
  const TemporaryDirectory dir;
  put_file(dir / "target", "old and longer\n");
  ASSERT_EQ(::chmod((dir / "target").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("target", (dir / "link").c_str()), 0);
  const ino_t old_inode = lstat_of(dir / "target").st_ino;
  write_output_file(dir / "link", "new\n");
  EXPECT_NE(lstat_of(dir / "target").st_ino, old_inode) << "overwritten in place, not replaced";
  EXPECT_TRUE(S_ISLNK(lstat_of(dir / "link").st_mode));
  EXPECT_EQ(std::filesystem::read_symlink(dir / "link"), "target");
  EXPECT_EQ(file_content(dir / "target"), "new\n");
  EXPECT_EQ(lstat_of(dir / "target").st_mode & 07777, 0600u);
  EXPECT_EQ(names_in(dir.path()), (Names{"link", "target"}));
}

TEST(OutputFile, ChainOfTwoSymlinksReplacesTheFinalTarget) {
  const TemporaryDirectory dir;
  put_file(dir / "target", "old and longer\n");
  ASSERT_EQ(::symlink((dir / "target").c_str(), (dir / "second").c_str()), 0);  // absolute
  ASSERT_EQ(::symlink("second", (dir / "first").c_str()), 0);                   // relative
  write_output_file(dir / "first", "new\n");
  EXPECT_EQ(std::filesystem::read_symlink(dir / "first"), "second");
  EXPECT_EQ(std::filesystem::read_symlink(dir / "second"), dir / "target");
  EXPECT_EQ(file_content(dir / "target"), "new\n");
  EXPECT_EQ(names_in(dir.path()), (Names{"first", "second", "target"}));
}

TEST(OutputFile, RelativeSymlinkIsFollowedFromItsOwnDirectory) {
  const TemporaryDirectory dir;
  std::filesystem::create_directory(dir / "links");
  std::filesystem::create_directory(dir / "data");
  put_file(dir / "data/file", "old and longer\n");
  ASSERT_EQ(::symlink("../data/file", (dir / "links/file").c_str()), 0);
  write_output_file(dir / "links/file", "new\n");
  EXPECT_EQ(file_content(dir / "data/file"), "new\n");
  EXPECT_EQ(names_in(dir / "data"), Names{"file"});  // replaced in the target's directory
  EXPECT_EQ(names_in(dir / "links"), Names{"file"});
  EXPECT_TRUE(S_ISLNK(lstat_of(dir / "links/file").st_mode));
}

TEST(OutputFile, DanglingSymlinkCreatesItsTarget) {
  const TemporaryDirectory dir;
  ASSERT_EQ(::symlink("created", (dir / "link").c_str()), 0);
  write_output_file(dir / "link", "new\n");
  EXPECT_EQ(file_content(dir / "created"), "new\n");
  EXPECT_TRUE(S_ISLNK(lstat_of(dir / "link").st_mode));
  EXPECT_EQ(names_in(dir.path()), (Names{"created", "link"}));
}

TEST(OutputFile, SymlinkToADirectoryIsAnErrorNamingTheLink) {
  const TemporaryDirectory dir;
  std::filesystem::create_directory(dir / "sub");
  ASSERT_EQ(::symlink("sub", (dir / "link").c_str()), 0);
  EXPECT_EQ(error_of_writing(dir / "link"), "cannot write " + (dir / "link") + ": Is a directory");
  EXPECT_EQ(names_in(dir / "sub"), Names{});
}

TEST(OutputFile, SymlinkLoopIsAnErrorNamingTheLink) {
  const TemporaryDirectory dir;
  ASSERT_EQ(::symlink("b", (dir / "a").c_str()), 0);
  ASSERT_EQ(::symlink("a", (dir / "b").c_str()), 0);
  EXPECT_EQ(error_of_writing(dir / "a"), "cannot write " + (dir / "a") + ": Too many levels of symbolic links");
}

// ---- Devices, FIFOs, stdout ----

TEST(OutputFile, FifoIsWrittenThroughAndStaysAFifo) {
  const TemporaryDirectory dir;
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  // Opened before the writer and polled with a timeout, so that a writer that replaced the FIFO fails the test
  // instead of leaving the reader waiting for ever.
  const int reader_fd = ::open((dir / "fifo").c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader_fd, 0);
  std::string received;
  std::thread reader([&] {
    pollfd ready{.fd = reader_fd, .events = POLLIN, .revents = 0};
    char buffer[4096];
    while (::poll(&ready, 1, 10000) == 1) {
      const ssize_t n = ::read(reader_fd, buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EAGAIN)) break;
      if (n > 0) received.append(buffer, size_t(n));
    }
    ::close(reader_fd);
  });
  const std::string bytes(100000, 'f');  // more than a pipe buffer holds
  write_output_file(dir / "fifo", bytes);
  reader.join();
  EXPECT_EQ(received, bytes);
  EXPECT_TRUE(S_ISFIFO(lstat_of(dir / "fifo").st_mode));
  EXPECT_EQ(names_in(dir.path()), Names{"fifo"});
}

TEST(OutputFile, CharacterDeviceIsWrittenThroughAndStaysADevice) {
  const TemporaryDirectory dir;
  if (::mknod((dir / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "cannot make a null device here (mknod: " << std::strerror(errno) << ")";
  write_output_file(dir / "null", "into the void\n");
  const struct stat status = lstat_of(dir / "null");
  EXPECT_TRUE(S_ISCHR(status.st_mode));
  EXPECT_EQ(status.st_rdev, makedev(1, 3));
  EXPECT_EQ(names_in(dir.path()), Names{"null"});
}

TEST(OutputFile, FullDeviceReportsNoSpaceNamingThePath) {
  const TemporaryDirectory dir;
  const std::optional<std::string> full = full_device(dir);
  if (!full) GTEST_SKIP() << "running as root and cannot make a private full device (mknod)";
  EXPECT_EQ(error_of_writing(*full), "cannot write " + *full + ": No space left on device");
  ASSERT_TRUE(S_ISCHR(lstat_of(*full).st_mode)) << "the device was replaced; /dev/full is left alone";
  EXPECT_EQ(error_of_writing("/dev/full"), "cannot write /dev/full: No space left on device");
}

TEST(OutputFile, DashWritesToStandardOutput) {
  const TemporaryDirectory dir;
  std::fflush(stdout);
  const int saved_stdout = ::dup(STDOUT_FILENO);
  const int captured = ::open((dir / "captured").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(captured, 0);
  ::dup2(captured, STDOUT_FILENO);
  ::close(captured);
  OutputFile out("-");
  out.write("to ");
  out.write("stdout\n");
  out.commit();
  ::dup2(saved_stdout, STDOUT_FILENO);
  ::close(saved_stdout);
  EXPECT_EQ(file_content(dir / "captured"), "to stdout\n");
}

TEST(OutputFile, StandardOutputErrorNamesStdout) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ::close(pipe_fds[0]);  // nobody reads: EPIPE
  std::fflush(stdout);
  const int saved_stdout = ::dup(STDOUT_FILENO);
  ::dup2(pipe_fds[1], STDOUT_FILENO);
  ::close(pipe_fds[1]);
  const auto old_handler = ::signal(SIGPIPE, SIG_IGN);
  const std::string error = error_of_writing("-");
  ::signal(SIGPIPE, old_handler);
  ::dup2(saved_stdout, STDOUT_FILENO);
  ::close(saved_stdout);
  EXPECT_EQ(error, "cannot write stdout: Broken pipe");
}

// ---- Paths that cannot be written ----

TEST(OutputFile, EmptyPathIsAnOptionError) {
  try {
    write_output_file("", "x");
    ADD_FAILURE() << "no error for an empty path";
  } catch (const OptionError& e) {
    EXPECT_STREQ(e.what(), "empty output file name");
  }
}

TEST(OutputFile, DirectoryIsAnErrorNamingIt) {
  const TemporaryDirectory dir;
  EXPECT_EQ(error_of_writing(dir.path()), "cannot write " + dir.path() + ": Is a directory");
  EXPECT_EQ(names_in(dir.path()), Names{});
}

TEST(OutputFile, MissingDirectoryIsAnErrorNamingThePath) {
  const TemporaryDirectory dir;
  EXPECT_EQ(error_of_writing(dir / "missing/x.csv"), "cannot create a file in " + (dir / "missing") + " (for " +
                                                         (dir / "missing/x.csv") + "): No such file or directory");
  EXPECT_EQ(names_in(dir.path()), Names{});
}

TEST(OutputFile, TrailingSlashOnAMissingNameIsAnError) {
  const TemporaryDirectory dir;
  EXPECT_EQ(error_of_writing(dir / "new/"), "cannot write " + (dir / "new/") + ": Is a directory");
  EXPECT_EQ(names_in(dir.path()), Names{});
}

TEST(OutputFile, FileUsedAsADirectoryIsAnErrorNamingThePath) {
  const TemporaryDirectory dir;
  put_file(dir / "file", "x");
  EXPECT_EQ(error_of_writing(dir / "file/x.csv"), "cannot write " + (dir / "file/x.csv") + ": Not a directory");
}

TEST(OutputFile, ReadOnlyDirectoryIsAnErrorAndStaysEmpty) {
  const TemporaryDirectory dir;
  std::filesystem::create_directory(dir / "ro");
  ASSERT_EQ(::chmod((dir / "ro").c_str(), 0555), 0);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);  // so that "nobody" reaches ro/ when root runs the test
  const std::optional<std::string> error = error_of_writing_without_root(dir / "ro/x.csv");
  if (!error) GTEST_SKIP() << "running as root and cannot become nobody to lose root's write access";
  EXPECT_EQ(*error, "cannot create a file in " + (dir / "ro") + " (for " + (dir / "ro/x.csv") + "): Permission denied");
  EXPECT_EQ(names_in(dir / "ro"), Names{});
}

// sysfs has no O_TMPFILE, so the writer falls back to a named temporary,
// which sysfs refuses even to root.
TEST(OutputFile, NamedTemporaryFallbackReportsThePathAndLeavesNothing) {
  struct stat status {};
  if (::stat("/sys/kernel", &status) != 0) GTEST_SKIP() << "no sysfs at /sys";
  const std::string path = "/sys/fpsim-io-test-" + std::to_string(::getpid()) + ".csv";
  const std::string error = error_of_writing(path);
  EXPECT_EQ(error.rfind("cannot create a file in /sys (for " + path + "): ", 0), 0u) << error;
  EXPECT_EQ(error.find("fpsim-tmp"), std::string::npos) << error;
  for (const std::string& name : names_in("/sys")) EXPECT_EQ(name.find("fpsim-tmp"), std::string::npos) << name;
}

// ---- Failures and discards leave the old file ----

TEST(OutputFile, DestroyedWithoutCommitLeavesTheOldFile) {
  const TemporaryDirectory dir;
  put_file(dir / "kept", "old\n");
  {
    OutputFile file(dir / "kept");
    file.write(std::string(300000, 'n'));
  }
  EXPECT_EQ(file_content(dir / "kept"), "old\n");
  EXPECT_EQ(names_in(dir.path()), Names{"kept"});
}

TEST(OutputFile, DestroyedWithoutCommitCreatesNothing) {
  const TemporaryDirectory dir;
  {
    OutputFile file(dir / "never");
    file.write("never\n");
  }
  EXPECT_EQ(names_in(dir.path()), Names{});
}

TEST(OutputFile, MovedFileCommitsThroughItsNewOwner) {
  const TemporaryDirectory dir;
  OutputFile first(dir / "moved");
  first.write("one ");
  OutputFile second = std::move(first);
  second.write("two\n");
  second.commit();
  EXPECT_EQ(file_content(dir / "moved"), "one two\n");
  EXPECT_THROW(second.write("more"), std::logic_error);
}

TEST(OutputFile, ProcessKilledMidWriteLeavesNoTemporary) {
  const TemporaryDirectory dir;
  if (!has_unnamed_temporaries(dir.path())) GTEST_SKIP() << "no O_TMPFILE here: a killed writer leaves its temporary";
  put_file(dir / "kept", "old\n");
  const pid_t child = ::fork();
  if (child == 0) {
    try {
      OutputFile file(dir / "kept");
      file.write(std::string(300000, 'n'));
      ::raise(SIGKILL);
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  EXPECT_EQ(file_content(dir / "kept"), "old\n");
  EXPECT_EQ(names_in(dir.path()), Names{"kept"});
}

// The names that appear in `dir` (inotify: created or moved in) while `write` runs.
template <class Write>
Names names_appearing_in(const std::string& dir, Write write) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return {"(no inotify: " + std::string(std::strerror(errno)) + ")"};
  ::inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MOVED_TO);
  write();
  Names seen;
  alignas(inotify_event) char buf[8192];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
    for (char* p = buf; p < buf + n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(p);
      seen.push_back(std::string(e->mask & IN_MOVED_TO ? "moved:" : "created:") + (e->len ? e->name : ""));
      p += sizeof(inotify_event) + e->len;
    }
  }
  ::close(fd);
  return seen;
}

TEST(OutputFile, NewFileAppearsUnderItsOwnNameOnly) {
  const TemporaryDirectory dir;
  if (!has_unnamed_temporaries(dir.path())) GTEST_SKIP() << "no O_TMPFILE here: a new file starts as a named temporary";
  EXPECT_EQ(names_appearing_in(dir.path(), [&] { write_output_file(dir / "fresh", "new\n"); }),
            Names{"created:fresh"});
  EXPECT_EQ(file_content(dir / "fresh"), "new\n");
}

// A replacement names its temporary before the rename: the one moment a
// killed writer leaves a file behind, under a name is_temporary_name knows.
TEST(OutputFile, ReplacementTemporaryIsNamedAsIsTemporaryNameSays) {
  const TemporaryDirectory dir;
  put_file(dir / "kept", "old\n");
  const Names seen = names_appearing_in(dir.path(), [&] { write_output_file(dir / "kept", "new\n"); });
  ASSERT_EQ(seen.size(), 2u) << ::testing::PrintToString(seen);
  ASSERT_EQ(seen[0].rfind("created:", 0), 0u);
  EXPECT_TRUE(is_temporary_name(seen[0].substr(8))) << seen[0];
  EXPECT_EQ(seen[1], "moved:kept");
  EXPECT_FALSE(is_temporary_name("kept"));
  EXPECT_EQ(file_content(dir / "kept"), "new\n");
}

TEST(OutputFile, IsTemporaryNameRejectsOtherHiddenFiles) {
  EXPECT_TRUE(is_temporary_name(".metrics.csv.fpsim-tmp.4242.17"));
  EXPECT_TRUE(is_temporary_name(".a.fpsim-tmp.1.0"));
  for (const char* name : {"metrics.csv", ".metrics.csv", ".fpsim-tmp.1.2", "a.fpsim-tmp.1.2", ".a.fpsim-tmp.1",
                           ".a.fpsim-tmp.1.", ".a.fpsim-tmp..2", ".a.fpsim-tmp.1.2x", ".a.fpsim-tmp.-1.2", ""})
    EXPECT_FALSE(is_temporary_name(name)) << name;
}

// RLIMIT_FSIZE makes write(2) fail with EFBIG part way through, as a full disk would.
TEST(OutputFile, FailedWriteLeavesTheOldFileAndNoTemporary) {
  const TemporaryDirectory dir;
  put_file(dir / "kept", "old\n");
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  const rlimit small_limit{.rlim_cur = 100000, .rlim_max = old_limit.rlim_max};
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small_limit), 0);
  const std::string error = error_of_writing(dir / "kept", std::string(300000, 'n'));
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(error, "cannot write " + (dir / "kept") + ": File too large");
  EXPECT_EQ(file_content(dir / "kept"), "old\n");
  EXPECT_EQ(names_in(dir.path()), Names{"kept"});
}

TEST(OutputFile, FailedWriteMakesTheObjectUnusable) {
  const TemporaryDirectory dir;
  const std::optional<std::string> full = full_device(dir);
  if (!full) GTEST_SKIP() << "running as root and cannot make a private full device (mknod)";
  OutputFile file(*full);
  EXPECT_THROW(file.write(std::string(100000, 'x')), IoError);
  EXPECT_THROW(file.commit(), std::logic_error);
}

// ---- Threads ----

TEST(OutputFile, ConcurrentWritersInOneDirectory) {
  const TemporaryDirectory dir;
  constexpr int kThreads = 8;
  constexpr int kFilesPerThread = 50;
  // append() rather than "literal" + string: GCC 12 at -O3 takes the latter for an overlapping memcpy (-Wrestrict).
  auto name_of = [](int thread, int file) {
    return std::string("f").append(std::to_string(thread)).append("_").append(std::to_string(file));
  };
  auto content_of = [&](int thread, int file) {
    return name_of(thread, file).append("\n").append(size_t(thread * 1000 + file), 'c');
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        for (int f = 0; f < kFilesPerThread; ++f) write_output_file(dir / name_of(t, f), content_of(t, f));
      } catch (const IoError& e) {
        ADD_FAILURE() << e.what();
      }
    });
  for (std::thread& thread : threads) thread.join();
  Names expected_names;
  for (int t = 0; t < kThreads; ++t)
    for (int f = 0; f < kFilesPerThread; ++f) {
      const std::string name = name_of(t, f);
      EXPECT_EQ(file_content(dir / name), content_of(t, f)) << name;
      expected_names.push_back(name);
    }
  std::sort(expected_names.begin(), expected_names.end());
  EXPECT_EQ(names_in(dir.path()), expected_names);
}

}  // namespace
}  // namespace fpsim::io
