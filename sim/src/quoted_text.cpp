#include "fpsim/quoted_text.hpp"

#include <cstdint>

namespace fpsim {

namespace {

// The length of the well-formed UTF-8 sequence at s[i] that encodes a
// printable character (not a C1 control), or 0 (RFC 3629 table 3-7 ranges).
size_t printable_utf8_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return k < s.size() ? uint8_t(s[k]) : uint8_t{0}; };
  const auto cont = [&](size_t k, uint8_t lo = 0x80, uint8_t hi = 0xBF) {
    const uint8_t b = byte(k);
    return b >= lo && b <= hi;
  };
  const uint8_t b0 = byte(i);
  if (b0 == 0xC2) return cont(i + 1, 0xA0, 0xBF) ? 2 : 0;  // U+0080..U+009F are the C1 controls
  if (b0 >= 0xC3 && b0 <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b0 == 0xE0) return cont(i + 1, 0xA0, 0xBF) && cont(i + 2) ? 3 : 0;
  if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) return cont(i + 1) && cont(i + 2) ? 3 : 0;
  if (b0 == 0xED) return cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0;  // no surrogates
  if (b0 == 0xF0) return cont(i + 1, 0x90, 0xBF) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  if (b0 >= 0xF1 && b0 <= 0xF3) return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  if (b0 == 0xF4) return cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  return 0;
}

// Escapes text from the start until max_chars characters are written;
// returns how many bytes of `text` that took.
size_t escape_into(std::string& out, std::string_view text, size_t max_chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t chars = 0;
  size_t i = 0;
  while (i < text.size() && chars < max_chars) {
    const auto c = uint8_t(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\') out += '\\';
      out += char(c);
      ++i;
    } else if (c == '\t' || c == '\n' || c == '\r') {
      out += '\\';
      out += c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
      ++i;
    } else if (const size_t n = c >= 0x80 ? printable_utf8_length(text, i) : 0; n != 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    }
    ++chars;
  }
  return i;
}

}  // namespace

std::string quoted_text(std::string_view text, size_t max_chars) {
  std::string out = "'";
  const size_t used = escape_into(out, text, max_chars);
  if (used == text.size()) return out + "'";
  return out.append("...' (").append(std::to_string(text.size())).append(" bytes)");
}

std::string escaped_text(std::string_view text, size_t max_chars) {
  std::string out;
  if (escape_into(out, text, max_chars) < text.size()) out.append("...");
  return out;
}

}  // namespace fpsim
