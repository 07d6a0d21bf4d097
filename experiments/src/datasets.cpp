#include "fpsim/experiments/datasets.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>

#include "fpsim/experiments/data_order.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/sha256.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/quoted_text.hpp"
#include "raw_file.hpp"

// CMake sets this to the repository's data/ directory; a build without it
// looks in ./data.
#ifndef FPSIM_DEFAULT_DATA_DIR
#define FPSIM_DEFAULT_DATA_DIR "data"
#endif

namespace fpsim::experiments {

namespace {

constexpr size_t kDigitPixels = 64;
constexpr size_t kDigitClasses = 10;
constexpr uint32_t kDigitMaxPixel = 16;
constexpr uint32_t kSyntheticDigitsKey = 0x64696769;  // "digi"
constexpr uint32_t kSyntheticTextKey = 0x74657874;    // "text"

// A digits-shaped set from all its rows in order: the first n - floor(n/5)
// rows train, the last floor(n/5) test (docs/training.md, "Data sets").
ClassificationData split_rows(const std::vector<float>& x, const std::vector<int32_t>& y) {
  ClassificationData d;
  d.features = kDigitPixels;
  d.classes = kDigitClasses;
  const size_t n_train = y.size() - y.size() / 5;
  d.train_x.assign(x.begin(), x.begin() + ptrdiff_t(n_train * kDigitPixels));
  d.test_x.assign(x.begin() + ptrdiff_t(n_train * kDigitPixels), x.end());
  d.train_y.assign(y.begin(), y.begin() + ptrdiff_t(n_train));
  d.test_y.assign(y.begin() + ptrdiff_t(n_train), y.end());
  return d;
}

// Puts token i into train when i < floor(9n/10), into val otherwise (docs/training.md, "Data sets").
void split_tokens(TextData& d, size_t n, auto token_at) {
  const size_t n_train = n * 9 / 10;
  d.train.reserve(n_train);
  d.val.reserve(n - n_train);
  for (size_t i = 0; i < n; ++i) (i < n_train ? d.train : d.val).push_back(token_at(i));
}

// Tokens of `text` over its sorted distinct bytes.
TextData tokenize(std::string_view text) {
  std::array<bool, 256> present{};
  for (char c : text) present[static_cast<unsigned char>(c)] = true;
  TextData d;
  std::array<int32_t, 256> token{};
  for (size_t b = 0; b < 256; ++b)
    if (present[b]) {
      token[b] = int32_t(d.vocab_chars.size());
      d.vocab_chars += char(b);
    }
  d.vocab = d.vocab_chars.size();
  split_tokens(d, text.size(), [&](size_t i) { return token[static_cast<unsigned char>(text[i])]; });
  return d;
}

// The stored bytes, gunzipped by fpsim_io's reader when they are gzip data:
// handed over through an anonymous memory file so that what is unpacked is
// exactly what was hashed.
std::string unpack(const std::string& stored, const std::string& path) {
  const int fd = ::memfd_create("fpsim-data", MFD_CLOEXEC);
  if (fd < 0) throw raw_file::cannot("unpack", path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  for (size_t done = 0; done < stored.size();) {
    const ssize_t n = ::write(fd, stored.data() + done, stored.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw raw_file::cannot("unpack", path, n < 0 ? errno : EIO);
    done += size_t(n);
  }
  if (::lseek(fd, 0, SEEK_SET) != 0) throw raw_file::cannot("unpack", path, errno);
  return io::read_input_fd(fd, path);
}

}  // namespace

std::string data_dir() {
  const char* env = std::getenv("FPSIM_DATA_DIR");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(FPSIM_DEFAULT_DATA_DIR);
}

std::string read_data_file(const std::string& dir, const DataFile& file) {
  const std::string path = dir + "/" + std::string(file.name);
  const raw_file::Fd fd(path);
  if (!fd.is_open()) {
    if (fd.open_errno() == ENOENT)
      throw DataError("data file " + path +
                      " not found: run scripts/fetch_data.sh (or set FPSIM_DATA_DIR to the directory that holds it)");
    throw raw_file::cannot("open", path, fd.open_errno());
  }
  const std::string stored = raw_file::read_to_end(fd.get(), path);
  const std::string actual = sha256_hex(stored);
  if (actual != file.sha256)
    throw DataError("data file " + path + " has SHA-256 " + actual + ", expected " + std::string(file.sha256) +
                    ": corrupt or another version (run scripts/fetch_data.sh to fetch it again)");
  return unpack(stored, path);
}

ClassificationData parse_digits_csv(std::string_view csv, const std::string& name) {
  std::vector<float> xs;
  std::vector<int32_t> ys;
  size_t row = 0;
  size_t pos = 0;
  while (pos < csv.size()) {
    size_t end = csv.find('\n', pos);
    if (end == std::string_view::npos) end = csv.size();
    const std::string_view line = csv.substr(pos, end - pos);
    const std::string where = name + ": line " + std::to_string(row + 1);
    size_t fields = 1;
    for (char c : line) fields += c == ',';
    if (line.empty()) throw DataError(where + ": expected 65 comma-separated integers, got an empty line");
    if (fields != kDigitPixels + 1)
      throw DataError(where + ": expected 65 comma-separated integers, got " + std::to_string(fields) + " fields");
    size_t field_start = 0;
    for (size_t col = 0; col <= kDigitPixels; ++col) {
      size_t field_end = line.find(',', field_start);
      if (field_end == std::string_view::npos) field_end = line.size();
      const std::string_view field = line.substr(field_start, field_end - field_start);
      const bool is_label = col == kDigitPixels;
      const uint32_t max_value = is_label ? kDigitClasses - 1 : kDigitMaxPixel;
      uint32_t v = 0;
      const auto r = std::from_chars(field.data(), field.data() + field.size(), v);
      if (field.empty() || r.ec != std::errc() || r.ptr != field.data() + field.size() || v > max_value)
        throw DataError(where + ", column " + std::to_string(col + 1) + ": expected " +
                        (is_label ? "a label 0-9" : "a pixel 0-16") + ", got " + quoted_text(field));
      // v / 16 with v <= 16 is exact in float.
      if (is_label)
        ys.push_back(int32_t(v));
      else
        xs.push_back(float(v) / 16.0f);
      field_start = field_end + 1;
    }
    ++row;
    pos = end + 1;
  }
  if (row < 5) throw DataError(name + ": " + std::to_string(row) + " rows, expected at least 5 (one test row)");
  return split_rows(xs, ys);
}

ClassificationData load_digits(const std::string& dir) {
  return parse_digits_csv(read_data_file(dir, digits_file), dir + "/" + std::string(digits_file.name));
}

TextData parse_devil_dict(std::string_view text, const std::string& name) {
  if (!text.starts_with("00-database-"))
    throw DataError(name + ": not a dictfmt file: expected it to begin with \"00-database-\"");
  // The first headword line: two or more of A-Z, then ", " (docs/training.md, "Data sets").
  size_t start = std::string_view::npos;
  for (size_t line = 0; line < text.size();) {
    size_t caps = 0;
    while (line + caps < text.size() && text[line + caps] >= 'A' && text[line + caps] <= 'Z') ++caps;
    if (caps >= 2 && text.substr(line + caps, 2) == ", ") {
      start = line;
      break;
    }
    const size_t newline = text.find('\n', line);
    if (newline == std::string_view::npos) break;
    line = newline + 1;
  }
  if (start == std::string_view::npos)
    throw DataError(name + ": no dictionary entry: expected a line beginning with a headword in capitals and \", \"");
  // The 00-database-alphabet entry: the last line, spaces and a-z.
  if (!text.ends_with('\n'))
    throw DataError(name + ": expected the last line (the 00-database-alphabet entry) to end with a newline");
  const size_t last = text.rfind('\n', text.size() - 2) + 1;  // npos + 1 == 0
  const std::string_view alphabet = text.substr(last, text.size() - 1 - last);
  bool is_alphabet = last > start && !alphabet.empty();
  for (char c : alphabet) is_alphabet = is_alphabet && (c == ' ' || (c >= 'a' && c <= 'z'));
  if (!is_alphabet)
    throw DataError(name + ": expected the last line to be the 00-database-alphabet entry (spaces and a-z), got " +
                    quoted_text(alphabet));
  const std::string_view body = text.substr(start, last - start);
  // Line and column (1-based) of a rejected byte, counted in the whole file.
  size_t line_no = 1 + size_t(std::count(text.begin(), text.begin() + start, '\n'));
  size_t line_start = start;
  for (size_t i = 0; i < body.size(); ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    if (c == '\n') {
      ++line_no;
      line_start = start + i + 1;
    } else if (c < 0x20 || c > 0x7e) {
      static constexpr char kHex[] = "0123456789abcdef";
      throw DataError(name + ": line " + std::to_string(line_no) + ", column " +
                      std::to_string(start + i - line_start + 1) + ": byte 0x" + kHex[c >> 4] + kHex[c & 0xf] +
                      ", expected printable ASCII or a newline");
    }
  }
  return tokenize(body);
}

TextData load_devil(const std::string& dir) {
  return parse_devil_dict(read_data_file(dir, devil_file), dir + "/" + std::string(devil_file.name));
}

ClassificationData synthetic_digits(uint32_t seed, size_t n) {
  if (n < 5) throw ConfigError("synthetic digits: " + std::to_string(n) + " rows, expected at least 5");
  if (n > (uint64_t(1) << 32))
    throw ConfigError("synthetic digits: " + std::to_string(n) + " rows, expected at most 2^32");
  std::array<std::array<uint32_t, kDigitPixels>, kDigitClasses> prototype{};
  for (uint32_t c = 0; c < kDigitClasses; ++c)
    for (uint32_t k = 0; k < kDigitPixels; ++k)
      prototype[c][k] = philox_uniform_below(kDigitMaxPixel + 1, seed, kSyntheticDigitsKey, 64 * c + k, 0,
                                             PhiloxPurpose::digit_prototype);
  std::vector<float> xs;
  std::vector<int32_t> ys;
  xs.reserve(n * kDigitPixels);
  ys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t y =
        philox_uniform_below(kDigitClasses, seed, kSyntheticDigitsKey, uint32_t(i), 0, PhiloxPurpose::digit_label);
    for (uint32_t k = 0; k < kDigitPixels; ++k) {
      const int noise =
          int(philox_uniform_below(7, seed, kSyntheticDigitsKey, uint32_t(i), k, PhiloxPurpose::digit_noise)) - 3;
      const int pixel = std::clamp(int(prototype[y][k]) + noise, 0, int(kDigitMaxPixel));
      xs.push_back(float(pixel) / 16.0f);
    }
    ys.push_back(int32_t(y));
  }
  return split_rows(xs, ys);
}

TextData synthetic_text(uint32_t seed, size_t n_chars) {
  if (n_chars < 10)
    throw ConfigError("synthetic text: " + std::to_string(n_chars) + " characters, expected at least 10");
  if (n_chars > (uint64_t(1) << 32))
    throw ConfigError("synthetic text: " + std::to_string(n_chars) + " characters, expected at most 2^32");
  // Every symbol is in the vocabulary, seen or not: token = symbol index.
  static constexpr std::string_view kSymbols = "abcdefghijklmnop";
  std::vector<int32_t> tokens(n_chars);
  uint32_t t = philox_uniform_below(16, seed, kSyntheticTextKey, 0, 0, PhiloxPurpose::text_first);
  tokens[0] = int32_t(t);
  for (size_t i = 1; i < n_chars; ++i) {
    const bool keep = philox_uniform_below(4, seed, kSyntheticTextKey, uint32_t(i), 0, PhiloxPurpose::text_keep) != 0;
    t = keep ? (5 * t + 3) % 16
             : philox_uniform_below(16, seed, kSyntheticTextKey, uint32_t(i), 0, PhiloxPurpose::text_random);
    tokens[i] = int32_t(t);
  }
  TextData d;
  d.vocab_chars = std::string(kSymbols);
  d.vocab = kSymbols.size();
  split_tokens(d, n_chars, [&](size_t i) { return tokens[i]; });
  return d;
}

}  // namespace fpsim::experiments
