#include "fpsim/io/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>
#include <utility>

#include "cannot.hpp"
#include "final_target.hpp"
#include "replacement_file.hpp"
#include "unique_fd.hpp"

namespace fpsim::io {
namespace {

// Small writes (a metrics line) collect up to this many bytes before one write(2).
constexpr size_t kBufferBytes = size_t{1} << 16;

// 0 once every byte is out, else the errno of the failed write.
int write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return errno;
    bytes.remove_prefix(size_t(written));
  }
  return 0;
}

}  // namespace

// Where the bytes go: standard output, a written-through device, FIFO or
// socket, or a ReplacementFile; the buffer in front of it.
class OutputFile::Destination {
 public:
  explicit Destination(std::string path) : name_(std::move(path)) {
    if (name_.empty()) throw OptionError("empty output file name");
    if (name_ == "-") {
      name_ = "stdout";
      fd_ = STDOUT_FILENO;
      return;
    }
    const FinalTarget target = resolve_final_target(name_);
    if (target.exists && S_ISDIR(target.status.st_mode)) throw cannot("write", name_, EISDIR);
    if (target.exists && !S_ISREG(target.status.st_mode)) {
      // No O_CREAT, no O_TRUNC: /dev/null stays a device, a FIFO stays a FIFO (opening one waits for a reader).
      write_through_ = open_unique(target.path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
      if (!write_through_) throw cannot("write", name_, errno);
      fd_ = write_through_.get();
      return;
    }
    replacement_.emplace(name_, target);
    fd_ = replacement_->fd();
  }

  void write(std::string_view bytes) {
    if (buffer_.size() + bytes.size() <= kBufferBytes) {
      buffer_.append(bytes);
      return;
    }
    flush();
    if (bytes.size() < kBufferBytes)
      buffer_.append(bytes);
    else
      write_out(bytes);
  }

  void commit() {
    flush();
    if (replacement_) replacement_->publish();
    if (write_through_ && ::close(write_through_.release()) != 0) throw cannot("write", name_, errno);
  }

 private:
  void flush() {
    write_out(buffer_);
    buffer_.clear();
  }

  void write_out(std::string_view bytes) const {
    if (const int failed = write_all(fd_, bytes)) throw cannot("write", name_, failed);
  }

  std::string name_;  // the user's path, or "stdout" for "-"
  int fd_ = -1;       // where the bytes go: stdout, write_through_ or the replacement's temporary
  UniqueFd write_through_;
  std::optional<ReplacementFile> replacement_;
  std::string buffer_;
};

OutputFile::OutputFile(std::string path) : destination_(std::make_unique<Destination>(std::move(path))) {}
OutputFile::OutputFile(OutputFile&&) noexcept = default;
OutputFile& OutputFile::operator=(OutputFile&&) noexcept = default;
OutputFile::~OutputFile() = default;

void OutputFile::write(std::string_view bytes) {
  if (!destination_) throw std::logic_error("fpsim::io::OutputFile::write after commit(), a failure or a move");
  try {
    destination_->write(bytes);
  } catch (...) {
    destination_.reset();
    throw;
  }
}

void OutputFile::commit() {
  if (!destination_) throw std::logic_error("fpsim::io::OutputFile::commit after commit(), a failure or a move");
  try {
    destination_->commit();
  } catch (...) {
    destination_.reset();
    throw;
  }
  destination_.reset();
}

void write_output_file(const std::string& path, std::string_view bytes) {
  OutputFile file(path);
  file.write(bytes);
  file.commit();
}

}  // namespace fpsim::io
