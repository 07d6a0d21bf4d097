// The training runner's data sets (docs/training.md, "Data sets"): UCI
// handwritten digits for the MLP and The Devil's Dictionary (Ambrose Bierce,
// 1911) as characters for the GPT, both read offline from files that
// scripts/fetch_data.sh extracts from Debian bookworm packages and checks
// against pinned SHA-256 hashes; and synthetic sets of the same shape, for
// tests that need no files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fpsim::experiments {

// A classification set: row-major features [n x features], labels in
// [0, classes).
struct ClassificationData {
  std::vector<float> train_x, test_x;
  std::vector<int32_t> train_y, test_y;
  size_t features = 0;
  size_t classes = 0;
  size_t train_size() const { return train_y.size(); }
  size_t test_size() const { return test_y.size(); }
};

// A character-level text: tokens are indices into vocab_chars (vocab =
// vocab_chars.size(), sorted by byte value).
struct TextData {
  std::vector<int32_t> train, val;
  size_t vocab = 0;
  std::string vocab_chars;
};

// A data file of the cache directory and the SHA-256 of its stored bytes.
struct DataFile {
  std::string_view name;
  std::string_view sha256;
};

// sklearn 1.2.1 (Debian python3-sklearn 1.2.1+dfsg-1),
// sklearn/datasets/data/digits.csv.gz.
inline constexpr DataFile digits_file{"digits.csv.gz",
                                      "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a"};
// Debian dict-devil 1.0-13.1, usr/share/dictd/devil.dict.dz.
inline constexpr DataFile devil_file{"devil.dict.dz",
                                     "995ca92760d677965cb2780e78b808e982f9d49e8c12d795c1854476bbf13819"};

// The cache directory: $FPSIM_DATA_DIR when set and not empty, else the
// repository's data/ (the build's FPSIM_DEFAULT_DATA_DIR).
std::string data_dir();

// The content of dir/file.name, gunzipped when it is gzip data (dictzip is
// gzip), after checking the SHA-256 of the stored bytes. Throws DataError
// "data file P not found: run scripts/fetch_data.sh ..." when it does not
// exist, DataError naming the file, the expected and the actual hash when
// they differ, and IoError for any other read failure.
std::string read_data_file(const std::string& dir, const DataFile& file);

// The digits: 1797 rows of 65 integers, 64 pixels (0-16, an 8x8 image row by
// row) then the label (0-9). features = pixel / 16 (exact in float).
// Split in file order: the first n - floor(n/5) rows train, the last
// floor(n/5) test (1438 / 359). The file cycles through the labels, so an
// "every fifth row" rule would follow the cycle (i % 5 == 4 gives 21 to 52
// test rows per class); the tail is balanced (33 to 37 per class).
ClassificationData load_digits(const std::string& dir = data_dir());
// The same from CSV text (`name` is the file's name in messages). Lines end
// in '\n' (the last one may lack it); a line that is not 65 comma-separated
// unsigned decimal integers in range throws DataError naming the line and
// the column (1-based). At least 5 rows (a non-empty test set).
ClassificationData parse_digits_csv(std::string_view csv, const std::string& name);

// The Devil's Dictionary: the dictionary entries of devil.dict.dz, as bytes.
// The dictfmt file holds, in order: the header entries 00-database-dictfmt-*,
// -url, -short and -info (the Wiretap notice and Bierce's preface), the
// entries "ABASEMENT, n. ..." to "ZOOLOGY, n. ...", then the
// 00-database-alphabet entry as the last line. The text used is from the
// start of the first line that begins with two or more ASCII capitals and
// ", " (a headword line) to the start of the last line (bytes 2944 to 383628
// of the 383656-byte file: 380684 bytes, 83 distinct). Every byte of it must
// be '\n' or printable ASCII (0x20-0x7e), else DataError naming line and
// column: no byte is dropped or replaced. Tokens: first floor(9n/10) train,
// the rest validation (342615 / 38069).
TextData load_devil(const std::string& dir = data_dir());
// The same from the unpacked text. Throws DataError when it does not begin
// with "00-database-", has no headword line, its last line (after the
// headword line) is not an alphabet line (spaces and a-z, '\n'-terminated),
// or a byte is not allowed.
TextData parse_devil_dict(std::string_view text, const std::string& name);

// A learnable stand-in for the digits, no files: n rows, 64 features in
// [0, 1] that are multiples of 1/16, 10 classes, split as the digits (the
// last floor(n/5) rows test). With key (seed, 0x64696769) and philox_uniform_below
// (data_order.hpp): class c's prototype pixel k is P[c][k] =
// uniform_below(17; c0 = 64c + k, c1 = 0, digit_prototype); row i's label is
// y = uniform_below(10; i, 0, digit_label) and its pixel k is
// clamp(P[y][k] + uniform_below(7; i, k, digit_noise) - 3, 0, 16), feature =
// pixel / 16. Throws ConfigError when n < 5.
ClassificationData synthetic_digits(uint32_t seed, size_t n);

// A learnable stand-in for the text, no files: n_chars tokens over the 16
// symbols "abcdefghijklmnop", a Markov chain whose next symbol is
// (5 t + 3) mod 16 with probability 3/4 + 1/64 and each other symbol with
// probability 1/64 (the ideal cross-entropy is
// -(49/64) ln(49/64) - (15/64) ln(1/64) = 1.1792 nats, against ln 16 = 2.7726
// for guessing). With key (seed, 0x74657874): t_0 = uniform_below(16; 0, 0,
// text_first); for i >= 1, t_i = (5 t_{i-1} + 3) mod 16 when
// uniform_below(4; i, 0, text_keep) != 0, else uniform_below(16; i, 0,
// text_random). Split as the Devil's Dictionary (first floor(9n/10) train).
// Throws ConfigError when n_chars < 10.
TextData synthetic_text(uint32_t seed, size_t n_chars);

}  // namespace fpsim::experiments
