#include "fpsim/io/input_file.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <new>

#include "cannot.hpp"
#include "unique_fd.hpp"

namespace fpsim::io {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 16;

// Appends up to kChunkBytes read from `fd`; returns how many (0 at the end).
size_t read_some(int fd, std::string& into, const std::string& name) {
  const size_t old_size = into.size();
  into.resize(old_size + kChunkBytes);
  ssize_t got = 0;
  while ((got = ::read(fd, into.data() + old_size, kChunkBytes)) < 0 && errno == EINTR) {
  }
  if (got < 0) {
    const int failed = errno;
    into.resize(old_size);
    throw cannot("read", name, failed);
  }
  into.resize(old_size + size_t(got));
  return size_t(got);
}

bool starts_like_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// A zlib inflate stream for gzip members, ended on every path.
class GzipInflater {
 public:
  GzipInflater() {
    // 16 + MAX_WBITS: a gzip header and trailer around the deflate data (zlib.h, inflateInit2).
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  }
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;
  ~GzipInflater() { inflateEnd(&stream_); }

  z_stream& stream() { return stream_; }

 private:
  z_stream stream_{};
};

// The decompressed content of gzip data, of which `input` is the start and
// `fd` the rest. Members follow one another as in `cat a.gz b.gz`.
std::string gunzip(int fd, std::string input, const std::string& name) {
  GzipInflater inflater;
  z_stream& stream = inflater.stream();
  stream.next_in = reinterpret_cast<Bytef*>(input.data());
  stream.avail_in = uInt(input.size());
  std::string text;
  std::array<char, kChunkBytes> out;
  bool member_ended = false;
  for (;;) {
    if (stream.avail_in == 0) {
      input.clear();
      if (read_some(fd, input, name) == 0) break;
      stream.next_in = reinterpret_cast<Bytef*>(input.data());
      stream.avail_in = uInt(input.size());
    }
    if (member_ended) {
      inflateReset(&stream);
      member_ended = false;
    }
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = uInt(out.size());
    const int status = inflate(&stream, Z_NO_FLUSH);
    text.append(out.data(), out.size() - stream.avail_out);
    if (status == Z_STREAM_END) {
      member_ended = true;
    } else if (status == Z_MEM_ERROR) {
      throw std::bad_alloc();
    } else if (status != Z_OK && status != Z_BUF_ERROR) {
      throw cannot("read", name,
                   std::string("invalid gzip data (").append(stream.msg ? stream.msg : "corrupt stream").append(")"));
    }
  }
  if (!member_ended) throw cannot("read", name, "unexpected end of gzip data");
  return text;
}

}  // namespace

std::string read_input_fd(int fd, const std::string& name) {
  // Reading on after the end would wait for more on a terminal: each loop stops at the first empty read.
  std::string head;
  bool at_end = false;
  while (head.size() < 2 && !at_end) at_end = read_some(fd, head, name) == 0;
  if (starts_like_gzip(head)) return gunzip(fd, std::move(head), name);
  while (!at_end) at_end = read_some(fd, head, name) == 0;
  return head;
}

std::string read_input_file(const std::string& path) {
  if (path.empty()) throw OptionError("empty input file name");
  if (path == "-") return read_input_fd(STDIN_FILENO, "stdin");
  const UniqueFd file = open_unique(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (!file) throw cannot("open", path, errno);
  return read_input_fd(file.get(), path);
}

}  // namespace fpsim::io
