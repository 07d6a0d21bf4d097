// Shared by the fuzz targets (fuzz/fuzz_*.cpp): how a target reports a
// violated property, the checks every message that echoes outside input must
// pass, and a reader that splits the fuzzer's bytes into choices and text.
//
// A violated property prints one line naming the target and what failed,
// then aborts: libFuzzer saves the input as a crash file, and the replay
// test (fuzz/corpus_replay_test.cpp) dies with the same line. An exception
// the parser does not document (anything but its fpsim::Error subclasses) is
// a finding too (fail_on_unexpected).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

namespace fpsim_fuzz {

// Printable text for a failure message: bytes outside ASCII 0x20..0x7e as
// \xNN, long text cut in the middle.
inline std::string shown(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  auto append = [&](std::string_view part) {
    for (const char ch : part) {
      const auto c = static_cast<unsigned char>(ch);
      if (c >= 0x20 && c < 0x7f && c != '\\') {
        out += ch;
      } else {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
  };
  if (s.size() <= 300) {
    append(s);
  } else {
    append(s.substr(0, 150));
    out += "...(" + std::to_string(s.size()) + " bytes)...";
    append(s.substr(s.size() - 100));
  }
  return out;
}

[[noreturn]] inline void fail(const char* target, const std::string& what) {
  std::fprintf(stderr, "fuzz_%s: property violated: %s\n", target, what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Call from a catch (...) block after the handlers of the exceptions the
// parser may throw.
[[noreturn]] inline void fail_on_unexpected(const char* target, std::string_view input) {
  std::string what = "an unexpected exception";
  try {
    throw;
  } catch (const std::exception& e) {
    what += " (" + std::string(typeid(e).name()) + ": " + e.what() + ")";
  } catch (...) {
    what += " (not a std::exception)";
  }
  fail(target, what + " on input '" + shown(input) + "'");
}

// Why `message` (one line of a message or report that may repeat outside
// input) is unsafe to print, or "" when it is fine: every byte below 0x20
// and DEL, the C1 controls (U+0080..U+009F as UTF-8) and bytes that are not
// well-formed UTF-8 must have been escaped (fpsim/quoted_text.hpp), and the
// line must stay short whatever the input's length.
inline std::string unsafe_text(std::string_view message, size_t max_bytes = 2000) {
  if (message.size() >= max_bytes) return "longer than " + std::to_string(max_bytes) + " bytes";
  for (size_t i = 0; i < message.size();) {
    const auto c = static_cast<unsigned char>(message[i]);
    if (c < 0x20 || c == 0x7f) return "raw control byte at " + std::to_string(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Well-formed UTF-8 (RFC 3629), no C1 controls.
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return "byte that cannot start UTF-8 at " + std::to_string(i);
    }
    if (i + len > message.size()) return "truncated UTF-8 at " + std::to_string(i);
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(message[i + k]);
      if ((b & 0xc0) != 0x80) return "malformed UTF-8 at " + std::to_string(i);
      cp = (cp << 6) | (b & 0x3f);
    }
    const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min_cp || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return "invalid UTF-8 at " + std::to_string(i);
    if (cp <= 0x9f) return "raw C1 control at " + std::to_string(i);
    i += len;
  }
  return "";
}

inline void check_message(const char* target, std::string_view message, std::string_view input) {
  const std::string why = unsafe_text(message);
  if (!why.empty())
    fail(target, "message unsafe to print (" + why + "): '" + shown(message) + "' for input '" + shown(input) + "'");
}

// The fuzzer's bytes: leading bytes as choices, the rest as text.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  // The next byte, or 0 when none is left.
  uint8_t byte() {
    if (pos_ >= size_) return 0;
    return data_[pos_++];
  }
  // The next n bytes (fewer at the end) as text.
  std::string_view take(size_t n) {
    const size_t k = n < size_ - pos_ ? n : size_ - pos_;
    const std::string_view s(reinterpret_cast<const char*>(data_ + pos_), k);
    pos_ += k;
    return s;
  }
  std::string_view rest() { return take(size_ - pos_); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace fpsim_fuzz
