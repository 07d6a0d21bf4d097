// The golden-data text formats of docs/mma.md (tests/data/gpu-golden/README.md),
// read and written by `fpsim mma` and by the golden-data tests:
//
// - A and B files: one row per dot product, K FP32 encodings in hex separated
//   by blanks (`3f7aa000 3f87c000 ...`; up to 8 hex digits, optionally after
//   0x, either case).
// - C and D files: one line per dot product, the FP32 bit pattern as a
//   32-character binary string (`00111111011111110100000110001100`); FP16
//   results are FP16 values widened to FP32.
//
// Row i is line i + 1: a blank line is an error, except blank lines at the end
// of a file, which are ignored. A trailing carriage return is ignored. Files
// compressed with gzip are read transparently (by content, not by name).
// Every error on the content is a fpsim::ParseError naming the file, the line
// (1-based) and what was expected; a file that cannot be opened or read is an
// fpsim::IoError (fpsim/io/input_file.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fpsim::cli {

// Rows of exactly k hex FP32 encodings; k = 0 takes K from the first row and
// requires it of every other row. `name` is the file name used in messages.
std::vector<std::vector<uint32_t>> parse_hex_rows(std::string_view text, const std::string& name, int k);
std::vector<std::vector<uint32_t>> read_hex_rows(const std::string& path, int k);

// One 32-character binary string per line.
std::vector<uint32_t> parse_binary_words(std::string_view text, const std::string& name);
std::vector<uint32_t> read_binary_words(const std::string& path);

// `word` as a 32-character binary string, most significant bit first.
std::string binary_word(uint32_t word);
// One binary string per line, each ending in '\n': the content of a C or D file.
std::string binary_words_text(std::span<const uint32_t> words);

// Throws ParseError unless `rows` (of the file `name`) equals the row count of
// the file `reference_name`: every file holds one row per dot product.
void require_same_rows(const std::string& name, size_t rows, const std::string& reference_name, size_t reference_rows);

}  // namespace fpsim::cli
