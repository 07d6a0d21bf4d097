// fpsim::io::read_input_file: plain and gzip content (known by its magic, not
// its name), stdin, and the error messages to the letter.
#include "fpsim/io/input_file.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <string>
#include <thread>

#include "fpsim/error.hpp"
#include "temporary_directory.hpp"

namespace fpsim::io {
namespace {

using test::file_content;
using test::put_file;
using test::TemporaryDirectory;

void put_gzip_file(const std::string& path, const std::string& content) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, content.data(), unsigned(content.size())), int(content.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

std::string error_of_reading(const std::string& path) {
  try {
    read_input_file(path);
  } catch (const IoError& e) {
    return e.what();
  }
  return "no error";
}

// Text that compresses well but spans many 64 KiB chunks when inflated.
std::string many_lines() {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += std::to_string(i * 7919 % 100003) + " 0x3f800000\n";
  return text;
}

TEST(InputFile, PlainFileIsReadAsItIs) {
  const TemporaryDirectory dir;
  const std::string text = many_lines();
  put_file(dir / "plain.txt", text);
  EXPECT_EQ(read_input_file(dir / "plain.txt"), text);
}

TEST(InputFile, GzipFileIsDecompressed) {
  const TemporaryDirectory dir;
  const std::string text = many_lines();
  put_gzip_file(dir / "a.txt.gz", text);
  ASSERT_LT(file_content(dir / "a.txt.gz").size(), text.size() / 2);
  EXPECT_EQ(read_input_file(dir / "a.txt.gz"), text);
}

TEST(InputFile, GzipIsKnownByContentNotByName) {
  const TemporaryDirectory dir;
  put_gzip_file(dir / "looks-plain.txt", "3f800000\n");
  EXPECT_EQ(read_input_file(dir / "looks-plain.txt"), "3f800000\n");
  put_file(dir / "looks-gzip.gz", "not gzip\n");
  EXPECT_EQ(read_input_file(dir / "looks-gzip.gz"), "not gzip\n");
}

TEST(InputFile, ConcatenatedGzipMembersAreReadInOrder) {
  const TemporaryDirectory dir;
  put_gzip_file(dir / "one.gz", "first\n");
  put_gzip_file(dir / "two.gz", "second\n");
  put_file(dir / "both.gz", file_content(dir / "one.gz") + file_content(dir / "two.gz"));
  EXPECT_EQ(read_input_file(dir / "both.gz"), "first\nsecond\n");
}

TEST(InputFile, TruncatedGzipIsAnErrorNamingThePath) {
  const TemporaryDirectory dir;
  put_gzip_file(dir / "whole.gz", many_lines());
  const std::string whole = file_content(dir / "whole.gz");
  for (const size_t kept : {size_t{2}, size_t{10}, whole.size() / 2, whole.size() - 1}) {
    SCOPED_TRACE(kept);
    put_file(dir / "cut.gz", whole.substr(0, kept));
    EXPECT_EQ(error_of_reading(dir / "cut.gz"), "cannot read " + (dir / "cut.gz") + ": unexpected end of gzip data");
  }
}

TEST(InputFile, CorruptGzipIsAnErrorNamingThePath) {
  const TemporaryDirectory dir;
  put_gzip_file(dir / "whole.gz", "3f800000\n40000000\n");
  std::string bytes = file_content(dir / "whole.gz");
  bytes[bytes.size() - 6] ^= 0x01;  // a bit of the CRC-32 in the trailer
  put_file(dir / "bad.gz", bytes);
  EXPECT_EQ(error_of_reading(dir / "bad.gz"),
            "cannot read " + (dir / "bad.gz") + ": invalid gzip data (incorrect data check)");
}

TEST(InputFile, DataAfterTheGzipStreamIsAnError) {
  const TemporaryDirectory dir;
  put_gzip_file(dir / "whole.gz", "3f800000\n");
  put_file(dir / "tail.gz", file_content(dir / "whole.gz") + "trailing text\n");
  const std::string error = error_of_reading(dir / "tail.gz");
  EXPECT_EQ(error.rfind("cannot read " + (dir / "tail.gz") + ": invalid gzip data (", 0), 0u) << error;
}

TEST(InputFile, OneByteLikeGzipMagicIsPlainContent) {
  const TemporaryDirectory dir;
  put_file(dir / "one", "\x1f");
  EXPECT_EQ(read_input_file(dir / "one"), "\x1f");
}

TEST(InputFile, EmptyFileIsEmpty) {
  const TemporaryDirectory dir;
  put_file(dir / "empty", "");
  EXPECT_EQ(read_input_file(dir / "empty"), "");
}

TEST(InputFile, DirectoryIsAnErrorNamingItOnce) {
  const TemporaryDirectory dir;
  EXPECT_EQ(error_of_reading(dir.path()), "cannot read " + dir.path() + ": Is a directory");
}

TEST(InputFile, MissingFileIsAnErrorNamingIt) {
  const TemporaryDirectory dir;
  EXPECT_EQ(error_of_reading(dir / "nothere.txt"),
            "cannot open " + (dir / "nothere.txt") + ": No such file or directory");
}

TEST(InputFile, EmptyPathIsAnOptionError) {
  try {
    read_input_file("");
    ADD_FAILURE() << "no error for an empty path";
  } catch (const OptionError& e) {
    EXPECT_STREQ(e.what(), "empty input file name");
  }
}

TEST(InputFile, DashReadsGzipFromStandardInput) {
  const TemporaryDirectory dir;
  put_gzip_file(dir / "in.gz", "from stdin\n");
  const int saved_stdin = ::dup(STDIN_FILENO);
  const int file = ::open((dir / "in.gz").c_str(), O_RDONLY);
  ASSERT_GE(file, 0);
  ::dup2(file, STDIN_FILENO);
  ::close(file);
  const std::string text = read_input_file("-");
  ::dup2(saved_stdin, STDIN_FILENO);
  ::close(saved_stdin);
  EXPECT_EQ(text, "from stdin\n");
}

// A pipe may hand over the magic one byte at a time.
TEST(InputFile, GzipArrivingByteByByteThroughAPipe) {
  const TemporaryDirectory dir;
  put_gzip_file(dir / "in.gz", "slow\n");
  const std::string bytes = file_content(dir / "in.gz");
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  std::thread writer([&] {
    for (const char byte : bytes) {
      if (::write(pipe_fds[1], &byte, 1) != 1) break;
      std::this_thread::yield();
    }
    ::close(pipe_fds[1]);
  });
  const std::string text = read_input_fd(pipe_fds[0], "pipe");
  writer.join();
  ::close(pipe_fds[0]);
  EXPECT_EQ(text, "slow\n");
}

TEST(InputFile, TruncatedGzipOnADescriptorNamesTheGivenName) {
  const TemporaryDirectory dir;
  put_gzip_file(dir / "in.gz", "3f800000\n");
  const std::string bytes = file_content(dir / "in.gz");
  put_file(dir / "cut.gz", bytes.substr(0, bytes.size() - 4));
  const int file = ::open((dir / "cut.gz").c_str(), O_RDONLY);
  ASSERT_GE(file, 0);
  try {
    read_input_fd(file, "stdin");
    ADD_FAILURE() << "no error for a truncated stream";
  } catch (const IoError& e) {
    EXPECT_STREQ(e.what(), "cannot read stdin: unexpected end of gzip data");
  }
  ::close(file);
}

}  // namespace
}  // namespace fpsim::io
