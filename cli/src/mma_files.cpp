#include "mma_files.hpp"

#include "code_text.hpp"
#include "fpsim/error.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::cli {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// The lines of `text` without their '\n' and a trailing '\r'; blank lines at
// the end are dropped. Line i of the result is line i + 1 of the file.
std::vector<std::string_view> content_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  auto blank = [](std::string_view l) {
    for (char c : l)
      if (!is_blank(c)) return false;
    return true;
  };
  while (!lines.empty() && blank(lines.back())) lines.pop_back();
  return lines;
}

// An FP32 encoding: 1 to 8 hex digits, optionally after 0x.
bool parse_hex_word(std::string_view token, uint32_t& word) {
  const std::string_view digits = without_0x(token);
  uint64_t v = 0;
  if (digits.size() > 8 || !read_hex_digits(digits, v)) return false;
  word = uint32_t(v);
  return true;
}

std::string expected_values(int k) {
  return k > 0 ? std::string("expected K=").append(std::to_string(k)).append(" hex values")
               : std::string("expected hex values");
}

}  // namespace

std::vector<std::vector<uint32_t>> parse_hex_rows(std::string_view text, const std::string& name, int k) {
  if (k < 0) throw OptionError(std::string("K must be positive, got ").append(std::to_string(k)));
  std::vector<std::vector<uint32_t>> rows;
  const std::vector<std::string_view> lines = content_lines(text);
  for (size_t li = 0; li < lines.size(); ++li) {
    const std::string_view line = lines[li];
    std::vector<uint32_t> row;
    size_t i = 0;
    while (i < line.size()) {
      if (is_blank(line[i])) {
        ++i;
        continue;
      }
      const size_t start = i;
      while (i < line.size() && !is_blank(line[i])) ++i;
      const std::string_view token = line.substr(start, i - start);
      uint32_t word = 0;
      if (!parse_hex_word(token, word))
        throw ParseError(input_position(name, li + 1, start + 1)
                             .append(" (value ")
                             .append(std::to_string(row.size() + 1))
                             .append("): ")
                             .append(quoted_text(token))
                             .append(" is not a hex FP32 encoding (expected up to 8 hex digits, optionally after 0x)"));
      row.push_back(word);
    }
    if (k == 0 && !rows.empty()) k = int(rows.front().size());
    if (row.empty() || (k > 0 && row.size() != size_t(k)))
      throw ParseError(input_position(name, li + 1)
                           .append(": ")
                           .append(expected_values(k))
                           .append(", got ")
                           .append(std::to_string(row.size()))
                           .append(row.empty() ? " (an empty line)" : ""));
    rows.push_back(std::move(row));
  }
  if (rows.empty())
    throw ParseError(std::string(name).append(" has no rows (").append(expected_values(k)).append(" per line)"));
  return rows;
}

std::vector<std::vector<uint32_t>> read_hex_rows(const std::string& path, int k) {
  return parse_hex_rows(io::read_input_file(path), path, k);
}

std::vector<uint32_t> parse_binary_words(std::string_view text, const std::string& name) {
  std::vector<uint32_t> words;
  const std::vector<std::string_view> lines = content_lines(text);
  for (size_t li = 0; li < lines.size(); ++li) {
    std::string_view line = lines[li];
    while (!line.empty() && is_blank(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
    const std::string expected = "expected a 32-character binary string of 0s and 1s (an FP32 bit pattern)";
    uint32_t word = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] != '0' && line[i] != '1')
        throw ParseError(input_position(name, li + 1)
                             .append(": ")
                             .append(expected)
                             .append(", got ")
                             .append(quoted_text(line))
                             .append(" (character ")
                             .append(std::to_string(i + 1))
                             .append(" is ")
                             .append(quoted_text(line.substr(i, 1)))
                             .append(")"));
      word = (word << 1) | uint32_t(line[i] - '0');
    }
    if (line.size() != 32)
      throw ParseError(input_position(name, li + 1)
                           .append(": ")
                           .append(expected)
                           .append(", got ")
                           .append(std::to_string(line.size()))
                           .append(line.size() == 1 ? " character" : " characters"));
    words.push_back(word);
  }
  if (words.empty())
    throw ParseError(std::string(name).append(" has no rows (expected a 32-character binary string per line)"));
  return words;
}

std::vector<uint32_t> read_binary_words(const std::string& path) {
  return parse_binary_words(io::read_input_file(path), path);
}

std::string binary_word(uint32_t word) {
  std::string s(32, '0');
  for (int i = 0; i < 32; ++i)
    if ((word >> (31 - i)) & 1) s[size_t(i)] = '1';
  return s;
}

std::string binary_words_text(std::span<const uint32_t> words) {
  std::string text;
  text.reserve(words.size() * 33);
  for (uint32_t w : words) text.append(binary_word(w)).append("\n");
  return text;
}

void require_same_rows(const std::string& name, size_t rows, const std::string& reference_name, size_t reference_rows) {
  if (rows == reference_rows) return;
  std::string what = name;
  what.append(" has ")
      .append(std::to_string(rows))
      .append(rows == 1 ? " row, " : " rows, ")
      .append(reference_name)
      .append(" has ")
      .append(std::to_string(reference_rows))
      .append(" (every file holds one row per dot product; ");
  if (rows < reference_rows)
    what.append(input_position(name, rows + 1)).append(" is missing)");
  else
    what.append("the rows from ").append(input_position(name, reference_rows + 1)).append(" on are extra)");
  throw ParseError(what);
}

}  // namespace fpsim::cli
