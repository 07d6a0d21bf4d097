// fuzz_mma_files: the golden-data readers of fpsim mma (docs/cli.md, Files):
// parse_hex_rows (A and B files, K from the first byte, 0..8) and
// parse_binary_words (C and D files) on arbitrary text, and fpsim_io's
// read_input_fd, which gunzips by content.
//
// - The text gzip-compressed in memory (one member, or two concatenated
//   members split where a byte says; compression level from a byte) and read
//   through read_input_fd from a memfd gives back exactly the text, so both
//   parsers give identical results or identical errors; the same stream
//   with its end cut off is an IoError, never a partial text.
// - The raw bytes through read_input_fd: the text itself unless it starts
//   with gzip's magic 1f 8b; then (corrupt gzip, as a rule) an IoError or
//   the gunzipped content, which both parsers then read.
// - Accepted hex rows are non-empty, all K long (K = 0: the first row's
//   length); written back as 8-digit hex they parse to the same rows.
//   Accepted binary words written by binary_words_text parse to the same
//   words, one 32-character line each.
// - Errors are fpsim::ParseError (OptionError for a bad K) / IoError, with
//   messages safe to print.
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/io/input_file.hpp"
#include "fuzz_check.hpp"
#include "fuzz_targets.hpp"
#include "mma_files.hpp"

namespace {

using fpsim_fuzz::fail;
using fpsim_fuzz::shown;

constexpr const char* kTarget = "mma_files";

// A parser's outcome: its result, or the message of its error.
template <typename T>
struct Outcome {
  bool ok = false;
  T value{};
  std::string error;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

template <typename T, typename F>
Outcome<T> outcome(const std::string_view input, F&& parse) {
  Outcome<T> o;
  try {
    o.value = parse();
    o.ok = true;
  } catch (const fpsim::ParseError& e) {
    o.error = std::string("ParseError: ") + e.what();
    fpsim_fuzz::check_message(kTarget, e.what(), input);
  } catch (const fpsim::OptionError& e) {
    o.error = std::string("OptionError: ") + e.what();
    fpsim_fuzz::check_message(kTarget, e.what(), input);
  }
  return o;
}

using Rows = std::vector<std::vector<uint32_t>>;
using Words = std::vector<uint32_t>;

struct Parsed {
  Outcome<Rows> rows;
  Outcome<Words> words;
};

Parsed parse_both(std::string_view text, int k) {
  return {outcome<Rows>(text, [&] { return fpsim::cli::parse_hex_rows(text, "a.txt", k); }),
          outcome<Words>(text, [&] { return fpsim::cli::parse_binary_words(text, "c.txt"); })};
}

void check_round_trips(const Parsed& p, std::string_view text, int k) {
  if (p.rows.ok) {
    const Rows& rows = p.rows.value;
    std::string written;
    for (const auto& row : rows) {
      if (row.empty() || (k > 0 && row.size() != size_t(k)) || row.size() != rows.front().size())
        fail(kTarget, "hex rows of '" + shown(text) + "' have the wrong lengths");
      for (size_t i = 0; i < row.size(); ++i) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%s%08x", i ? " " : "", row[i]);
        written += buf;
      }
      written += '\n';
    }
    const Outcome<Rows> back = outcome<Rows>(written, [&] { return fpsim::cli::parse_hex_rows(written, "a.txt", k); });
    if (!back.ok || back.value != rows) fail(kTarget, "hex rows of '" + shown(text) + "' do not read back");
  }
  if (p.words.ok) {
    const std::string written = fpsim::cli::binary_words_text(p.words.value);
    if (written.size() != 33 * p.words.value.size()) fail(kTarget, "binary_words_text has the wrong length");
    const Outcome<Words> back =
        outcome<Words>(written, [&] { return fpsim::cli::parse_binary_words(written, "c.txt"); });
    if (!back.ok || back.value != p.words.value)
      fail(kTarget, "binary words of '" + shown(text) + "' do not read back");
  }
}

// deflate's gzip wrapper: one member holding `text`.
std::string gzip_member(std::string_view text, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) fail(kTarget, "deflateInit2");
  std::string out(deflateBound(&zs, uLong(text.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = uInt(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) fail(kTarget, "deflate did not finish");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// read_input_fd on `bytes` in a memfd: the content, or the IoError's message.
Outcome<std::string> read_through_fd(std::string_view bytes) {
  const int fd = memfd_create("fuzz_mma_files", MFD_CLOEXEC);
  if (fd < 0) fail(kTarget, "memfd_create failed");
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) fail(kTarget, "write to the memfd failed");
    done += size_t(n);
  }
  if (lseek(fd, 0, SEEK_SET) != 0) fail(kTarget, "lseek failed");
  Outcome<std::string> o;
  try {
    o.value = fpsim::io::read_input_fd(fd, "a.txt");
    o.ok = true;
  } catch (const fpsim::IoError& e) {
    o.error = e.what();
    fpsim_fuzz::check_message(kTarget, e.what(), bytes);
  }
  close(fd);
  return o;
}

}  // namespace

int fuzz_mma_files(const uint8_t* data, size_t size) {
  fpsim_fuzz::Bytes in(data, size);
  const uint8_t k_byte = in.byte();
  const uint8_t gz_byte = in.byte();
  const std::string_view text = in.rest();
  try {
    const int k = k_byte % 9;
    const Parsed direct = parse_both(text, k);
    check_round_trips(direct, text, k);

    // Compressed: one member, or two (split at a point the byte picks).
    const int level = gz_byte % 10;
    std::string gz;
    if (gz_byte & 0x80) {
      const size_t split = text.empty() ? 0 : (size_t(gz_byte) * 131) % (text.size() + 1);
      gz = gzip_member(text.substr(0, split), level) + gzip_member(text.substr(split), level);
    } else {
      gz = gzip_member(text, level);
    }
    const Outcome<std::string> unzipped = read_through_fd(gz);
    if (!unzipped.ok || unzipped.value != text) {
      std::string what = "gzip of '" + shown(text) + "' reads back as ";
      what += unzipped.ok ? std::string("'").append(shown(unzipped.value)).append("'") : "an error: " + unzipped.error;
      fail(kTarget, what);
    }
    const Parsed via_gzip = parse_both(unzipped.value, k);
    if (!(via_gzip.rows == direct.rows) || !(via_gzip.words == direct.words))
      fail(kTarget, "'" + shown(text) + "' parses differently through gzip");

    // The same stream cut short: an error, never a partial text.
    const size_t cut = 1 + gz_byte % 8;
    const Outcome<std::string> truncated = read_through_fd(std::string_view(gz).substr(0, gz.size() - cut));
    if (truncated.ok)
      fail(kTarget, "gzip of '" + shown(text) + "' without its last " + std::to_string(cut) + " bytes reads as '" +
                        shown(truncated.value) + "'");

    // The raw bytes: plain text, or (starting 1f 8b) whatever gunzip makes of them.
    const Outcome<std::string> raw = read_through_fd(text);
    const bool magic = text.size() >= 2 && uint8_t(text[0]) == 0x1f && uint8_t(text[1]) == 0x8b;
    if (!magic && (!raw.ok || raw.value != text)) fail(kTarget, "plain '" + shown(text) + "' does not read back");
    if (magic && raw.ok) {
      const Parsed gunzipped = parse_both(raw.value, k);
      check_round_trips(gunzipped, raw.value, k);
    }
  } catch (...) {
    fpsim_fuzz::fail_on_unexpected(kTarget, text);
  }
  return 0;
}
