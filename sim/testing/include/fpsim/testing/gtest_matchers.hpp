// GoogleMock matchers for comparing tensors bit for bit or within a number
// of units in the last place (docs/mma.md, "Kernel regression testing"):
//
//   EXPECT_THAT(kernel_output, fpsim::testing::BitExactTo(model_output));
//   EXPECT_THAT(kernel_output, fpsim::testing::WithinUlps(model_output, 2));
//
// Both take the expected values as any range (std::vector, std::span,
// std::array, a braced list) and match any range of the same element type and
// length. Element types and the format their bits are read in:
//   float -> fp32, double -> fp64, uint32_t -> fp32 codes,
//   uint16_t -> fp16 codes, uint8_t -> e4m3 codes;
// the overloads with a fpsim::Format read unsigned codes in that format
// instead (BitExactTo(codes, fpsim::formats::bf16)). A code is the format's
// own code (tf32: the 19-bit code, not its 32-bit container).
//
// BitExactTo: every element has the same bits. NaN matches only the same NaN
// code; +0 and -0 differ.
// WithinUlps(expected, n): every element is at most n codes away from the
// expected one in signed-magnitude order: neighbouring codes are 1 ulp apart,
// +0 and -0 are 0 ulps apart (both are zero), the smallest positive and
// negative subnormals 2 apart, the largest finite value and inf 1 apart. A
// NaN matches any NaN and nothing else.
//
// A failure lists the first 10 differing elements (index, expected and actual
// bits in hex with their exact decimal values, ULP distance) and counts the
// rest.
#pragma once

#include <gmock/gmock.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <ostream>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fpsim/convert.hpp"
#include "fpsim/format.hpp"

namespace fpsim::testing {

namespace detail {

// The format an element type is read in when no format is given.
template <typename T>
constexpr Format default_format() {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, uint32_t>) {
    return formats::fp32;
  } else if constexpr (std::is_same_v<T, double>) {
    return formats::fp64;
  } else if constexpr (std::is_same_v<T, uint16_t>) {
    return formats::fp16;
  } else {
    static_assert(std::is_same_v<T, uint8_t>,
                  "fpsim matchers compare ranges of float, double, uint32_t, uint16_t or uint8_t");
    return formats::e4m3;
  }
}

template <typename T>
uint64_t code_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return std::bit_cast<uint32_t>(x);
  } else if constexpr (std::is_same_v<T, double>) {
    return std::bit_cast<uint64_t>(x);
  } else {
    return uint64_t(x);
  }
}

// Signed-magnitude order: -0 and +0 are both 0.
inline int64_t ordinal(uint64_t code, const Format& f) {
  const int64_t magnitude = int64_t(code & f.magnitude_mask());
  return (code & f.sign_mask()) ? -magnitude : magnitude;
}

inline uint64_t ulps_apart(uint64_t x, uint64_t y, const Format& f) {
  const int64_t a = ordinal(x, f), b = ordinal(y, f);
  return a > b ? uint64_t(a) - uint64_t(b) : uint64_t(b) - uint64_t(a);
}

inline std::string hex_code(uint64_t code, const Format& f) {
  static const char digits[] = "0123456789abcdef";
  const int width = (f.bits + 3) / 4;
  std::string s = "0x";
  for (int i = width - 1; i >= 0; --i) s.push_back(digits[(code >> (4 * i)) & 15]);
  return s;
}

// The exact value of a code: the shortest decimal that reads back to it.
inline std::string decimal_value(uint64_t code, const Format& f) {
  const double v = to_double(code, f);
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  return std::string(buf, end);
}

constexpr size_t kListed = 10;  // differing elements shown in a failure

template <typename T>
class CodesMatcher {
 public:
  // max_ulps: nullopt for BitExactTo.
  CodesMatcher(std::vector<T> expected, const Format& f, std::optional<uint64_t> max_ulps)
      : expected_(std::move(expected)), format_(f), max_ulps_(max_ulps) {}

  template <typename Range>
  bool MatchAndExplain(const Range& actual, ::testing::MatchResultListener* listener) const {
    using Element = std::remove_cv_t<std::ranges::range_value_t<Range>>;
    static_assert(std::is_same_v<Element, T>,
                  "the actual range must have the element type of the expected values (compare float with float, "
                  "codes with codes of the same width)");
    const size_t size = size_t(std::ranges::distance(actual));
    if (size != expected_.size()) {
      *listener << "which has " << size << (size == 1 ? " element" : " elements") << ", expected " << expected_.size();
      return false;
    }
    size_t differing = 0, i = 0;
    std::string listed;
    for (const auto& element : actual) {
      const uint64_t got = code_of<T>(element), want = code_of<T>(expected_[i]);
      std::string verdict;
      if (!element_matches(want, got, verdict)) {
        if (++differing <= kListed)
          listed.append("\n  [")
              .append(std::to_string(i))
              .append("] expected ")
              .append(hex_code(want, format_))
              .append(" (")
              .append(decimal_value(want, format_))
              .append("), actual ")
              .append(hex_code(got, format_))
              .append(" (")
              .append(decimal_value(got, format_))
              .append("), ")
              .append(verdict);
      }
      ++i;
    }
    if (differing == 0) return true;
    *listener << "which differs in " << differing << " of " << size << (size == 1 ? " element" : " elements") << listed;
    if (differing > kListed) *listener << "\n  ... and " << (differing - kListed) << " more";
    return false;
  }

  void DescribeTo(std::ostream* os) const { describe(os, false); }
  void DescribeNegationTo(std::ostream* os) const { describe(os, true); }

 private:
  bool element_matches(uint64_t want, uint64_t got, std::string& verdict) const {
    const bool want_nan = format_.is_nan_code(want), got_nan = format_.is_nan_code(got);
    if (want_nan || got_nan) {
      if (want_nan && got_nan) {
        if (max_ulps_ || want == got) return true;
        verdict = "another NaN";
      } else {
        verdict = "NaN vs a number";
      }
      return false;
    }
    const uint64_t ulps = ulps_apart(want, got, format_);
    const bool ok = max_ulps_ ? ulps <= *max_ulps_ : want == got;
    if (!ok) {
      verdict = std::to_string(ulps).append(ulps == 1 ? " ulp" : " ulps");
      if (ulps == 0) verdict.append(" (the sign of zero differs)");
    }
    return ok;
  }

  void describe(std::ostream* os, bool negated) const {
    *os << (negated ? "is not " : "is ");
    if (max_ulps_)
      *os << "within " << *max_ulps_ << (*max_ulps_ == 1 ? " ulp" : " ulps") << " (" << format_.name << ") of";
    else
      *os << "bit-exact to";
    *os << " the " << expected_.size() << " expected " << format_.name
        << (expected_.size() == 1 ? " value" : " values");
  }

  std::vector<T> expected_;
  Format format_;
  std::optional<uint64_t> max_ulps_;
};

template <typename Range>
using ElementOf = std::remove_cv_t<std::ranges::range_value_t<Range>>;

template <typename Range>
std::vector<ElementOf<Range>> copy_of(const Range& r) {
  return std::vector<ElementOf<Range>>(std::ranges::begin(r), std::ranges::end(r));
}

template <typename T>
::testing::PolymorphicMatcher<CodesMatcher<T>> make(std::vector<T> expected, const Format& f,
                                                    std::optional<uint64_t> max_ulps) {
  return ::testing::MakePolymorphicMatcher(CodesMatcher<T>(std::move(expected), f, max_ulps));
}

}  // namespace detail

template <std::ranges::input_range Range>
auto BitExactTo(const Range& expected) {
  using T = detail::ElementOf<Range>;
  return detail::make<T>(detail::copy_of(expected), detail::default_format<T>(), std::nullopt);
}
template <typename T>
auto BitExactTo(std::initializer_list<T> expected) {
  return detail::make<T>(std::vector<T>(expected), detail::default_format<T>(), std::nullopt);
}
// Unsigned codes read in format f.
template <std::ranges::input_range Range>
auto BitExactTo(const Range& expected, const Format& f) {
  static_assert(std::is_unsigned_v<detail::ElementOf<Range>>, "a format applies to unsigned codes only");
  return detail::make<detail::ElementOf<Range>>(detail::copy_of(expected), f, std::nullopt);
}

template <std::ranges::input_range Range>
auto WithinUlps(const Range& expected, uint64_t n) {
  using T = detail::ElementOf<Range>;
  return detail::make<T>(detail::copy_of(expected), detail::default_format<T>(), n);
}
template <typename T>
auto WithinUlps(std::initializer_list<T> expected, uint64_t n) {
  return detail::make<T>(std::vector<T>(expected), detail::default_format<T>(), n);
}
template <std::ranges::input_range Range>
auto WithinUlps(const Range& expected, uint64_t n, const Format& f) {
  static_assert(std::is_unsigned_v<detail::ElementOf<Range>>, "a format applies to unsigned codes only");
  return detail::make<detail::ElementOf<Range>>(detail::copy_of(expected), f, n);
}

}  // namespace fpsim::testing
