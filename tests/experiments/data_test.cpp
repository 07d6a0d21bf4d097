// SHA-256, the data sets and the data order (docs/training.md, "Data sets"
// and "Data order"). Parsers are checked on small files written here; the
// real files only when scripts/fetch_data.sh has put them in the data
// directory (the tests say so and skip otherwise), with expected values
// computed from the files by Python's gzip module, independently of fpsim.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "../io/temporary_directory.hpp"
#include "fpsim/error.hpp"
#include "fpsim/experiments/data_order.hpp"
#include "fpsim/experiments/datasets.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/sha256.hpp"
#include "fpsim/philox.hpp"

#include "message_of.hpp"

namespace fpsim::experiments {
namespace {

using io::test::put_file;
using io::test::TemporaryDirectory;

using test::message_of;

// `text` as a gzip member (RFC 1952); with `dictzip_extra`, with an FEXTRA
// field as dictzip writes one (subfield "RA", RFC 1952 §2.3.1.1), which a
// gzip reader skips.
std::string gzip(const std::string& text, bool dictzip_extra = false) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  gz_header header{};
  std::array<Bytef, 10> extra = {'R', 'A', 6, 0, 1, 0, 0, 0x40, 1, 0};
  if (dictzip_extra) {
    header.extra = extra.data();
    header.extra_len = extra.size();
    EXPECT_EQ(deflateSetHeader(&z, &header), Z_OK);
  }
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = uInt(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// ---------------------------------------------------------------- SHA-256

// NIST FIPS 180-4 examples (csrc.nist.gov, "SHA256.pdf", and the "Example
// Algorithms" page): "abc" (one block), the 448-bit message (two blocks)
// and one million 'a'; the empty message from NIST's SHA-256 test vectors.
TEST(Sha256, MatchesNistExamples) {
  EXPECT_EQ(sha256_hex(std::string_view("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(std::string_view("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha256_hex(std::string_view("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjk"
                                        "lmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

// The padding boundaries of FIPS 180-4 §5.1.1: 55 bytes still fit one block
// with the length, 56 need a second; 63 and 64 around a full block.
// Expected values from Python's hashlib.sha256.
TEST(Sha256, PaddingBoundariesMatchHashlib) {
  EXPECT_EQ(sha256_hex(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(sha256_hex(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(sha256_hex(std::string(63, 'a')), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  EXPECT_EQ(sha256_hex(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256, ByteAndTextOverloadsAgree) {
  const std::vector<uint8_t> bytes = {'a', 'b', 'c'};
  EXPECT_EQ(sha256_hex(bytes), sha256_hex(std::string_view("abc")));
}

// ---------------------------------------------------------------- data files

TEST(ReadDataFile, MissingFileNamesThePathAndTheFetchCommand) {
  TemporaryDirectory dir;
  const std::string msg = message_of<DataError>([&] { read_data_file(dir.path(), digits_file); });
  EXPECT_NE(msg.find(dir / "digits.csv.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("scripts/fetch_data.sh"), std::string::npos) << msg;
}

TEST(ReadDataFile, HashMismatchNamesFileExpectedAndActualHash) {
  TemporaryDirectory dir;
  put_file(dir / "digits.csv.gz", "abc");
  const std::string msg = message_of<DataError>([&] { read_data_file(dir.path(), digits_file); });
  EXPECT_NE(msg.find(dir / "digits.csv.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string(digits_file.sha256)), std::string::npos) << msg;
  // SHA-256("abc"), FIPS 180-4's example.
  EXPECT_NE(msg.find("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), std::string::npos) << msg;
}

TEST(ReadDataFile, UnreadableFileIsAnIoErrorNamingThePath) {
  TemporaryDirectory dir;
  std::filesystem::create_directory(dir / "digits.csv.gz");
  const std::string msg = message_of<IoError>([&] { read_data_file(dir.path(), digits_file); });
  EXPECT_NE(msg.find(dir / "digits.csv.gz"), std::string::npos) << msg;
}

// The hash is of the stored (compressed) bytes; the content comes back unpacked, dictzip's FEXTRA field skipped.
TEST(ReadDataFile, ChecksStoredBytesAndUnpacksGzip) {
  TemporaryDirectory dir;
  const std::string stored = gzip("hello\n", /*dictzip_extra=*/true);
  put_file(dir / "x.dz", stored);
  const std::string hash = sha256_hex(stored);
  EXPECT_EQ(read_data_file(dir.path(), DataFile{"x.dz", hash}), "hello\n");
  put_file(dir / "plain.txt", "abc");
  EXPECT_EQ(read_data_file(dir.path(),
                           DataFile{"plain.txt", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}),
            "abc");
}

TEST(DataDir, EnvironmentOverridesTheDefault) {
  const char* old = std::getenv("FPSIM_DATA_DIR");
  const std::string saved = old ? old : "";
  ::setenv("FPSIM_DATA_DIR", "/some/where", 1);
  EXPECT_EQ(data_dir(), "/some/where");
  ::setenv("FPSIM_DATA_DIR", "", 1);
  EXPECT_NE(data_dir(), "");  // empty means unset: the build's default
  if (old)
    ::setenv("FPSIM_DATA_DIR", saved.c_str(), 1);
  else
    ::unsetenv("FPSIM_DATA_DIR");
}

// ---------------------------------------------------------------- digits

// A digits row: pixels p0..p63 from `pixel(k)`, then the label.
std::string digits_row(int label, int base) {
  std::string row;
  for (int k = 0; k < 64; ++k) row += std::to_string((base + k) % 17) + ",";
  return row + std::to_string(label) + "\n";
}

TEST(Digits, FeaturesArePixelsOverSixteenAndTheLastFifthIsTest) {
  std::string csv;
  for (int i = 0; i < 7; ++i) csv += digits_row(i % 10, i);
  TemporaryDirectory dir;
  const std::string stored = gzip(csv);
  put_file(dir / "d.csv.gz", stored);
  const ClassificationData d =
      parse_digits_csv(read_data_file(dir.path(), DataFile{"d.csv.gz", sha256_hex(stored)}), "d.csv.gz");
  // 7 rows: floor(7/5) = 1 test row (the last), 6 train rows.
  ASSERT_EQ(d.features, 64u);
  ASSERT_EQ(d.classes, 10u);
  ASSERT_EQ(d.train_y, (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(d.test_y, (std::vector<int32_t>{6}));
  ASSERT_EQ(d.train_x.size(), 6u * 64);
  ASSERT_EQ(d.test_x.size(), 64u);
  // Row 2, pixel 15: (2 + 15) % 17 = 0; pixel 14: 16 -> 1.0; row 6 pixel 0: 6 -> 0.375.
  EXPECT_EQ(d.train_x[2 * 64 + 15], 0.0f);
  EXPECT_EQ(d.train_x[2 * 64 + 14], 1.0f);
  EXPECT_EQ(d.train_x[1 * 64 + 0], 0.0625f);
  EXPECT_EQ(d.test_x[0], 0.375f);
}

TEST(Digits, LastLineMayLackItsNewline) {
  std::string csv;
  for (int i = 0; i < 5; ++i) csv += digits_row(i, i);
  csv.pop_back();
  const ClassificationData d = parse_digits_csv(csv, "d.csv");
  EXPECT_EQ(d.train_size(), 4u);
  EXPECT_EQ(d.test_size(), 1u);
}

TEST(Digits, MalformedRowsNameLineAndColumn) {
  std::string good;
  for (int i = 0; i < 5; ++i) good += digits_row(i, i);
  const auto error_for = [&](const std::string& bad_row) {
    return message_of<DataError>([&] { parse_digits_csv(good + bad_row + good, "d.csv"); });
  };
  std::string row = digits_row(3, 0);
  // Pixel 17 in column 1.
  std::string bad = row;
  bad.replace(0, 1, "17");
  EXPECT_NE(error_for(bad).find("d.csv: line 6, column 1: expected a pixel 0-16, got '17'"), std::string::npos)
      << error_for(bad);
  // Label 10 in column 65.
  bad = row.substr(0, row.rfind(',') + 1) + "10\n";
  EXPECT_NE(error_for(bad).find("line 6, column 65: expected a label 0-9, got '10'"), std::string::npos);
  // A sign, a fraction, an empty field, a CR of a CRLF line end.
  for (const std::string_view field : {"-1", "+1", "1.5", "", " 1", "1e1"}) {
    bad = row;
    bad.replace(0, 1, field);
    EXPECT_NE(error_for(bad).find("line 6, column 1: expected a pixel"), std::string::npos) << field;
  }
  bad = row;
  bad.insert(bad.size() - 1, "\r");
  EXPECT_NE(error_for(bad).find("line 6, column 65: expected a label 0-9, got '3\\r'"), std::string::npos)
      << error_for(bad);
  // Field counts.
  EXPECT_NE(error_for(row.substr(row.find(',') + 1)).find("line 6: expected 65 comma-separated integers, got 64"),
            std::string::npos);
  EXPECT_NE(error_for("0," + row).find("got 66 fields"), std::string::npos);
  EXPECT_NE(error_for("\n").find("line 6: expected 65 comma-separated integers, got an empty line"), std::string::npos);
}

TEST(Digits, FewerThanFiveRowsHaveNoTestSet) {
  std::string csv;
  for (int i = 0; i < 4; ++i) csv += digits_row(i, i);
  EXPECT_NE(message_of<DataError>([&] { parse_digits_csv(csv, "d.csv"); }).find("4 rows, expected at least 5"),
            std::string::npos);
}

// The real file: counts and sums from Python (gzip + csv), independent of fpsim.
TEST(Digits, RealFileHasTheDocumentedSplit) {
  const std::string dir = data_dir();
  if (!std::filesystem::exists(dir + "/digits.csv.gz"))
    GTEST_SKIP() << dir << "/digits.csv.gz not present: run scripts/fetch_data.sh to include this test";
  const ClassificationData d = load_digits(dir);
  ASSERT_EQ(d.train_size(), 1438u);
  ASSERT_EQ(d.test_size(), 359u);
  ASSERT_EQ(d.train_x.size(), 1438u * 64);
  ASSERT_EQ(d.test_x.size(), 359u * 64);
  // Row 0: 0,0,5,13,9,1,... label 0; the last row's label is 8.
  EXPECT_EQ(d.train_x[2], 5.0f / 16);
  EXPECT_EQ(d.train_x[3], 13.0f / 16);
  EXPECT_EQ(d.train_y[0], 0);
  EXPECT_EQ(d.test_y.back(), 8);
  // Pixel sums (exact: every partial sum is a multiple of 1/16 below 2^24/16).
  EXPECT_EQ(std::accumulate(d.train_x.begin(), d.train_x.end(), 0.0) * 16, 449719.0);
  EXPECT_EQ(std::accumulate(d.test_x.begin(), d.test_x.end(), 0.0) * 16, 111999.0);
  // The split point: row 1437 (label 2) is the last training row, row 1438 (0,1,12,15,...) the first test row.
  EXPECT_EQ(d.train_y.back(), 2);
  EXPECT_EQ(d.test_x[2], 12.0f / 16);
  EXPECT_EQ(d.test_x[3], 15.0f / 16);
  std::map<int32_t, int> test_counts;
  for (int32_t y : d.test_y) ++test_counts[y];
  EXPECT_EQ(test_counts,
            (std::map<int32_t, int>{
                {0, 35}, {1, 36}, {2, 34}, {3, 37}, {4, 37}, {5, 37}, {6, 37}, {7, 36}, {8, 33}, {9, 37}}));
}

// ---------------------------------------------------------------- The Devil's Dictionary

// A dictfmt file in the shape of devil.dict: header entries, two entries,
// the alphabet line. The header has lines that are almost headword lines:
// capitals without ", ", one capital and ", ", "S.J., " (the real preface's
// line 64).
const std::string kDictHeader =
    "00-database-dictfmt-1.13.0\n"
    "http://example.org/devils.txt\n"
    "00-database-short\n"
    "THE TEST DICTIONARY\n"
    "I, the author, A.B.,\n"
    "S.J., whose lines.\n"
    "                A.B.\n"
    "\n";
const std::string kDictBody =
    "AB, n.  Ab ba.\n"
    "\n"
    "BA, v.  Ba!\n"
    "\n";
const std::string kDictTrailer = " abcdefghijklmnopqrstuvwxyz\n";

TEST(Devil, TextIsTheEntriesBetweenHeaderAndAlphabet) {
  TemporaryDirectory dir;
  const std::string stored = gzip(kDictHeader + kDictBody + kDictTrailer, /*dictzip_extra=*/true);
  put_file(dir / "t.dict.dz", stored);
  const TextData d =
      parse_devil_dict(read_data_file(dir.path(), DataFile{"t.dict.dz", sha256_hex(stored)}), "t.dict.dz");
  // Body: "AB, n.  Ab ba.\n\nBA, v.  Ba!\n\n", 29 bytes; distinct bytes sorted.
  ASSERT_EQ(d.vocab_chars, std::string("\n !,.ABabnv"));
  ASSERT_EQ(d.vocab, 11u);
  // floor(29 * 9 / 10) = 26 train tokens, 3 validation.
  ASSERT_EQ(d.train.size(), 26u);
  ASSERT_EQ(d.val.size(), 3u);
  std::string decoded;
  for (int32_t t : d.train) decoded += d.vocab_chars.at(size_t(t));
  for (int32_t t : d.val) decoded += d.vocab_chars.at(size_t(t));
  EXPECT_EQ(decoded, kDictBody);
  EXPECT_EQ(d.train[0], 5);                           // 'A'
  EXPECT_EQ(d.val, (std::vector<int32_t>{2, 0, 0}));  // "!\n\n"
}

TEST(Devil, MalformedFilesAreDataErrors) {
  const auto error_for = [](const std::string& text) {
    return message_of<DataError>([&] { parse_devil_dict(text, "t.dict"); });
  };
  EXPECT_NE(error_for("AB, n.  x\n" + kDictTrailer).find("t.dict: not a dictfmt file"), std::string::npos);
  EXPECT_NE(error_for(kDictHeader + "Ab, n.  x\n\n" + kDictTrailer).find("no dictionary entry"), std::string::npos);
  EXPECT_NE(error_for(kDictHeader + kDictBody).find("00-database-alphabet"), std::string::npos);
  EXPECT_NE(error_for(kDictHeader + kDictBody + " abc").find("end with a newline"), std::string::npos);
  EXPECT_NE(error_for(kDictHeader + kDictBody + "ABC\n").find("00-database-alphabet"), std::string::npos);
  // The only line after the header is the headword itself: no alphabet line after it.
  EXPECT_NE(error_for(kDictHeader + "AB, abc\n").find("00-database-alphabet"), std::string::npos);
}

// Bytes outside '\n' and 0x20-0x7e are refused, never dropped: line and column count in the whole file.
TEST(Devil, NonAsciiNulAndControlBytesNameLineAndColumn) {
  const size_t header_lines = 8;
  for (const auto& [byte, hex] : std::vector<std::pair<char, std::string>>{
           {'\xc3', "0xc3"}, {'\0', "0x00"}, {'\t', "0x09"}, {'\r', "0x0d"}, {'\x7f', "0x7f"}}) {
    std::string body = kDictBody;
    body.insert(body.find("Ba!") + 2, 1, byte);  // line 3 of the body, column 11
    const std::string msg =
        message_of<DataError>([&] { parse_devil_dict(kDictHeader + body + kDictTrailer, "t.dict"); });
    EXPECT_NE(msg.find("t.dict: line " + std::to_string(header_lines + 3) + ", column 11: byte " + hex),
              std::string::npos)
        << msg;
  }
}

// The real file: offsets and counts from Python (gzip.open(...).read()[2944:383628]), independent of fpsim.
TEST(Devil, RealFileHasTheDocumentedTextAndSplit) {
  const std::string dir = data_dir();
  if (!std::filesystem::exists(dir + "/devil.dict.dz"))
    GTEST_SKIP() << dir << "/devil.dict.dz not present: run scripts/fetch_data.sh to include this test";
  const TextData d = load_devil(dir);
  EXPECT_EQ(d.vocab_chars, "\n !\"$&'(),-.0123456789:;=?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz{}");
  EXPECT_EQ(d.vocab, 83u);
  ASSERT_EQ(d.train.size(), 342615u);
  ASSERT_EQ(d.val.size(), 38069u);
  const auto decode = [&](const std::vector<int32_t>& tokens, size_t from, size_t n) {
    std::string s;
    for (size_t i = from; i < from + n; ++i) s += d.vocab_chars.at(size_t(tokens[i]));
    return s;
  };
  EXPECT_EQ(decode(d.train, 0, 20), "ABASEMENT, n.  A dec");
  EXPECT_EQ(decode(d.train, d.train.size() - 10, 10), "ly agreed ");
  EXPECT_EQ(decode(d.val, 0, 10), "to grant\n ");
  EXPECT_EQ(decode(d.val, d.val.size() - 20, 20), "n every two years.\n\n");
  EXPECT_EQ(std::accumulate(d.train.begin(), d.train.end(), int64_t{0}), 16147570);
  EXPECT_EQ(std::accumulate(d.val.begin(), d.val.end(), int64_t{0}), 1849478);
}

// ---------------------------------------------------------------- bounded integers and data order

// The rule of data_order.hpp, written again from its comment: attempt a
// takes word 0 of Philox at counter (c0, c1, purpose, a) and is accepted
// below 2^32 - (2^32 mod range).
uint32_t uniform_below_oracle(uint64_t range, uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t purpose,
                              uint32_t* attempts_used = nullptr) {
  const uint64_t limit = (uint64_t(1) << 32) - ((uint64_t(1) << 32) % range);
  for (uint32_t a = 0;; ++a) {
    const uint32_t counter[4] = {c0, c1, purpose, a};
    const uint64_t x = philox4x32_10(counter, k0, k1).w[0];
    if (x < limit) {
      if (attempts_used) *attempts_used = a + 1;
      return uint32_t(x % range);
    }
  }
}

// range 2^31 + 1 rejects almost half of all words, so a few hundred draws
// exercise the second and third attempts.
TEST(PhiloxUniformBelow, RejectsWordsAboveTheLargestMultipleOfTheRange) {
  const uint32_t range = (1u << 31) + 1;
  int retried = 0;
  for (uint32_t c0 = 0; c0 < 400; ++c0) {
    uint32_t attempts = 0;
    const uint32_t want = uniform_below_oracle(range, 7, 9, c0, 3, 1, &attempts);
    retried += attempts > 1;
    ASSERT_EQ(philox_uniform_below(range, 7, 9, c0, 3, PhiloxPurpose::window), want) << c0;
  }
  EXPECT_GT(retried, 100);  // expectation ~ 200
  for (uint32_t c0 = 0; c0 < 100; ++c0) {
    EXPECT_EQ(philox_uniform_below(1, 1, 2, c0, 0, PhiloxPurpose::shuffle), 0u);
    EXPECT_EQ(philox_uniform_below(0xffffffffu, 1, 2, c0, 0, PhiloxPurpose::shuffle),
              uniform_below_oracle(0xffffffffu, 1, 2, c0, 0, 0));
  }
}

bool is_permutation_of_range(std::vector<int32_t> v) {
  std::sort(v.begin(), v.end());
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != int32_t(i)) return false;
  return true;
}

TEST(DataOrder, EpochPermutationIsAPermutation) {
  for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(10), size_t(1438)})
    for (uint32_t epoch : {0u, 1u, 77u}) EXPECT_TRUE(is_permutation_of_range(epoch_permutation(5, epoch, n))) << n;
}

// Fisher-Yates from the header's description, with the oracle above.
TEST(DataOrder, EpochPermutationMatchesTheDocumentedFisherYates) {
  for (uint32_t seed : {0u, 1u, 123456789u}) {
    std::vector<int32_t> want(50);
    std::iota(want.begin(), want.end(), 0);
    for (uint32_t i = 49; i >= 1; --i) std::swap(want[i], want[uniform_below_oracle(i + 1, seed, 3, i, 0, 0)]);
    EXPECT_EQ(epoch_permutation(seed, 3, 50), want);
  }
}

// Unbiased: the 6 permutations of 3 items are equally likely over data seeds.
// 60000 draws, 10000 expected each, standard deviation sqrt(60000 (1/6)(5/6))
// = 91; the bound 500 is 5.5 standard deviations.
TEST(DataOrder, EveryPermutationOfThreeIsEquallyLikely) {
  std::map<std::vector<int32_t>, int> counts;
  for (uint32_t seed = 0; seed < 60000; ++seed) ++counts[epoch_permutation(seed, 0, 3)];
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [perm, count] : counts) EXPECT_NEAR(count, 10000, 500);
}

TEST(DataOrder, MlpBatchesCutTheStreamOfEpochPermutations) {
  const std::vector<int32_t> order = mlp_batch_order(42, 10, 4, 7);  // 28 positions: epochs 0, 1, 2 (8 of it)
  ASSERT_EQ(order.size(), 28u);
  std::vector<int32_t> stream;
  for (uint32_t e = 0; e < 3; ++e) {
    const std::vector<int32_t> p = epoch_permutation(42, e, 10);
    EXPECT_TRUE(is_permutation_of_range(p));
    stream.insert(stream.end(), p.begin(), p.end());
  }
  stream.resize(28);
  EXPECT_EQ(order, stream);
  EXPECT_NE(epoch_permutation(42, 0, 10), epoch_permutation(42, 1, 10));
  // Deterministic, and a function of the data seed.
  EXPECT_EQ(mlp_batch_order(42, 10, 4, 7), order);
  EXPECT_NE(mlp_batch_order(43, 10, 4, 7), order);
  // A longer run starts with the same batches.
  const std::vector<int32_t> longer = mlp_batch_order(42, 10, 4, 9);
  EXPECT_TRUE(std::equal(order.begin(), order.end(), longer.begin()));
}

TEST(DataOrder, BadMlpArgumentsAreConfigErrors) {
  EXPECT_THROW(mlp_batch_order(0, 0, 4, 1), ConfigError);
  EXPECT_THROW(mlp_batch_order(0, 10, 0, 1), ConfigError);
  EXPECT_THROW(epoch_permutation(0, 0, size_t(1) << 31), ConfigError);
  EXPECT_TRUE(mlp_batch_order(0, 10, 4, 0).empty());
}

TEST(DataOrder, GptWindowsAreUniformOverAllValidOffsets) {
  // n_train = context + 2: offsets 0 and 1 only, both used.
  const std::vector<int32_t> two = gpt_window_offsets(1, 66, 64, 8, 50);
  ASSERT_EQ(two.size(), 400u);
  std::set<int32_t> seen(two.begin(), two.end());
  EXPECT_EQ(seen, (std::set<int32_t>{0, 1}));
  // n_train = context + 1: the one window is the whole set.
  for (int32_t o : gpt_window_offsets(1, 65, 64, 4, 3)) EXPECT_EQ(o, 0);
  // Entry (s, b) follows the documented key (data_seed, s) and counter (b, 0, window, attempt).
  const std::vector<int32_t> w = gpt_window_offsets(9, 1000, 64, 3, 4);
  for (uint32_t s = 0; s < 4; ++s)
    for (uint32_t b = 0; b < 3; ++b) {
      EXPECT_EQ(w[s * 3 + b], int32_t(uniform_below_oracle(936, 9, s, b, 0, 1))) << s << " " << b;
      EXPECT_LE(w[s * 3 + b], 1000 - 64 - 1);
    }
  EXPECT_EQ(gpt_window_offsets(9, 1000, 64, 3, 4), w);
  EXPECT_NE(gpt_window_offsets(10, 1000, 64, 3, 4), w);
}

TEST(DataOrder, BadGptArgumentsAreConfigErrors) {
  EXPECT_NE(message_of<ConfigError>([] {
              gpt_window_offsets(0, 64, 64, 1, 1);
            }).find("context 64 needs at least 65 training tokens, the data set has 64"),
            std::string::npos);
  EXPECT_THROW(gpt_window_offsets(0, 100, 0, 1, 1), ConfigError);
  EXPECT_THROW(gpt_window_offsets(0, 100, 4, 0, 1), ConfigError);
  EXPECT_THROW(gpt_window_offsets(0, 100, 4, 1, (uint64_t(1) << 32) + 1), ConfigError);
}

TEST(DataOrder, ValidationWindowsTileFromTheStart) {
  EXPECT_EQ(gpt_val_offsets(10, 3, 3), (std::vector<int32_t>{0, 3, 6}));  // window 2 is tokens [6, 10)
  EXPECT_NE(message_of<ConfigError>([] { gpt_val_offsets(10, 3, 4); }).find("4 windows of context 3 need"),
            std::string::npos);
  EXPECT_THROW(gpt_val_offsets(0, 3, 1), ConfigError);
  EXPECT_THROW(gpt_val_offsets(10, 0, 1), ConfigError);
  EXPECT_THROW(gpt_val_offsets(10, 3, 0), ConfigError);
}

// ---------------------------------------------------------------- synthetic sets

TEST(SyntheticDigits, ShapeRangeAndSplit) {
  const ClassificationData d = synthetic_digits(3, 23);
  EXPECT_EQ(d.features, 64u);
  EXPECT_EQ(d.classes, 10u);
  EXPECT_EQ(d.train_size(), 19u);  // 23 - floor(23/5)
  EXPECT_EQ(d.test_size(), 4u);
  for (const auto* xs : {&d.train_x, &d.test_x})
    for (float x : *xs) {
      EXPECT_GE(x, 0.0f);
      EXPECT_LE(x, 1.0f);
      EXPECT_EQ(x * 16, std::floor(x * 16));
    }
  for (int32_t y : d.train_y) EXPECT_TRUE(y >= 0 && y < 10);
  EXPECT_THROW(synthetic_digits(0, 4), ConfigError);
}

TEST(SyntheticDigits, DeterministicPerSeed) {
  const ClassificationData a = synthetic_digits(11, 100), b = synthetic_digits(11, 100), c = synthetic_digits(12, 100);
  EXPECT_EQ(a.train_x, b.train_x);
  EXPECT_EQ(a.test_y, b.test_y);
  EXPECT_NE(a.train_x, c.train_x);
  // Row i does not depend on n: a longer set starts with the same rows.
  const ClassificationData longer = synthetic_digits(11, 200);
  EXPECT_TRUE(std::equal(a.train_x.begin(), a.train_x.end(), longer.train_x.begin()));
}

// Learnable: the nearest class mean of the training rows labels > 90% of the
// test rows (prototype pixels differ by 5.7 on average, the noise is at most 3).
TEST(SyntheticDigits, NearestClassMeanLearnsIt) {
  const ClassificationData d = synthetic_digits(5, 1000);
  std::vector<std::array<double, 64>> mean(10);
  std::vector<int> count(10);
  for (size_t i = 0; i < d.train_size(); ++i) {
    ++count[size_t(d.train_y[i])];
    for (size_t k = 0; k < 64; ++k) mean[size_t(d.train_y[i])][k] += d.train_x[i * 64 + k];
  }
  size_t correct = 0;
  for (size_t i = 0; i < d.test_size(); ++i) {
    size_t best = 0;
    double best_dist = 1e300;
    for (size_t c = 0; c < 10; ++c) {
      double dist = 0;
      for (size_t k = 0; k < 64; ++k) {
        const double diff = d.test_x[i * 64 + k] - mean[c][k] / std::max(count[c], 1);
        dist += diff * diff;
      }
      if (dist < best_dist) {
        best_dist = dist;
        best = c;
      }
    }
    correct += int32_t(best) == d.test_y[i];
  }
  EXPECT_GT(double(correct) / double(d.test_size()), 0.9);
}

// The chain follows (5t + 3) mod 16 with probability 49/64: over 99999
// transitions the standard deviation of the fraction is 0.0013; bound 0.007.
TEST(SyntheticText, FollowsItsMarkovRuleAtTheDocumentedRate) {
  const TextData d = synthetic_text(7, 100000);
  EXPECT_EQ(d.vocab, 16u);
  EXPECT_EQ(d.vocab_chars, "abcdefghijklmnop");
  ASSERT_EQ(d.train.size(), 90000u);
  ASSERT_EQ(d.val.size(), 10000u);
  std::vector<int32_t> all = d.train;
  all.insert(all.end(), d.val.begin(), d.val.end());
  size_t follows = 0;
  for (size_t i = 1; i < all.size(); ++i) {
    ASSERT_TRUE(all[i] >= 0 && all[i] < 16);
    follows += all[i] == (5 * all[i - 1] + 3) % 16;
  }
  EXPECT_NEAR(double(follows) / double(all.size() - 1), 49.0 / 64, 0.007);
  EXPECT_EQ(synthetic_text(7, 100000).train, d.train);
  EXPECT_NE(synthetic_text(8, 100000).train, d.train);
  EXPECT_THROW(synthetic_text(0, 9), ConfigError);
}

}  // namespace
}  // namespace fpsim::experiments
