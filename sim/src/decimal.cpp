// Exact number parsing: the digits become a big integer D and the value
// D * 10^k (or H * 2^e for hex) is brought to 128 significand bits plus a
// sticky bit with integer arithmetic only. See decimal.hpp for the grammar.
#include "fpsim/decimal.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim {

namespace {

// ---------------------------------------------------------------------------
// A small arbitrary-precision unsigned integer: little-endian 32-bit limbs,
// no high zero limbs (zero is the empty vector).
class BigUint {
 public:
  BigUint() = default;
  explicit BigUint(uint32_t v) {
    if (v) limbs_.push_back(v);
  }

  bool is_zero() const { return limbs_.empty(); }

  int64_t bit_length() const {
    if (limbs_.empty()) return 0;
    uint32_t top = limbs_.back();
    int n = 0;
    while (top) {
      top >>= 1;
      ++n;
    }
    return int64_t(limbs_.size() - 1) * 32 + n;
  }

  bool bit(int64_t i) const {
    const size_t limb = size_t(i / 32);
    return limb < limbs_.size() && ((limbs_[limb] >> (i % 32)) & 1) != 0;
  }

  void set_bit(int64_t i) {
    const size_t limb = size_t(i / 32);
    if (limbs_.size() <= limb) limbs_.resize(limb + 1, 0);
    limbs_[limb] |= uint32_t{1} << (i % 32);
  }

  // this = this * m + a
  void mul_add_small(uint32_t m, uint32_t a) {
    uint64_t carry = a;
    for (uint32_t& limb : limbs_) {
      const uint64_t t = uint64_t(limb) * m + carry;
      limb = uint32_t(t);
      carry = t >> 32;
    }
    if (carry) limbs_.push_back(uint32_t(carry));
    trim();
  }
  void mul_small(uint32_t m) { mul_add_small(m, 0); }
  void add_small(uint32_t a) { mul_add_small(1, a); }

  void shift_left(int64_t bits) {
    if (limbs_.empty() || bits == 0) return;
    const size_t limb_shift = size_t(bits / 32);
    const int bit_shift = int(bits % 32);
    std::vector<uint32_t> out(limbs_.size() + limb_shift + 1, 0);
    for (size_t i = 0; i < limbs_.size(); ++i) {
      const uint64_t v = uint64_t(limbs_[i]) << bit_shift;
      out[i + limb_shift] |= uint32_t(v);
      out[i + limb_shift + 1] |= uint32_t(v >> 32);
    }
    limbs_ = std::move(out);
    trim();
  }

  void shift_right_one() {
    for (size_t i = 0; i < limbs_.size(); ++i) {
      const uint32_t next = i + 1 < limbs_.size() ? limbs_[i + 1] : 0;
      limbs_[i] = (limbs_[i] >> 1) | (next << 31);
    }
    trim();
  }

  friend int compare(const BigUint& a, const BigUint& b) {
    if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size() ? -1 : 1;
    for (size_t i = a.limbs_.size(); i-- > 0;) {
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
    }
    return 0;
  }

  // this -= b; requires this >= b.
  void subtract(const BigUint& b) {
    int64_t borrow = 0;
    for (size_t i = 0; i < limbs_.size(); ++i) {
      int64_t t = int64_t(limbs_[i]) - borrow - (i < b.limbs_.size() ? int64_t(b.limbs_[i]) : 0);
      borrow = t < 0 ? 1 : 0;
      if (t < 0) t += int64_t{1} << 32;
      limbs_[i] = uint32_t(t);
    }
    trim();
  }

  // Quotient of this / d (d != 0) by restoring binary long division; this
  // becomes the remainder. Costs O(bits of the quotient * limbs), and every
  // caller arranges for a quotient of about 130 bits.
  BigUint divide(const BigUint& d) {
    BigUint q;
    const int64_t qbits = bit_length() - d.bit_length() + 1;
    if (qbits <= 0) return q;
    BigUint t = d;
    t.shift_left(qbits - 1);
    for (int64_t j = qbits - 1; j >= 0; --j) {
      if (compare(*this, t) >= 0) {
        subtract(t);
        q.set_bit(j);
      }
      t.shift_right_one();
    }
    return q;
  }

  // Bits [lo, lo + 128) as an integer, and whether any bit below lo is set.
  u128 bits_from(int64_t lo, bool& below_nonzero) const {
    u128 v = 0;
    for (int i = 127; i >= 0; --i) v = (v << 1) | (bit(lo + i) ? 1 : 0);
    below_nonzero = false;
    for (int64_t i = 0; i < lo && !below_nonzero; ++i) {
      if (i % 32 == 0 && i + 32 <= lo) {
        below_nonzero = limbs_[size_t(i / 32)] != 0;  // lo <= bit_length, so the limb exists
        i += 31;
      } else {
        below_nonzero = bit(i);
      }
    }
    return v;
  }

 private:
  void trim() {
    while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  }

  std::vector<uint32_t> limbs_;
};

BigUint pow10(int64_t k) {
  BigUint p(1);
  for (; k >= 9; k -= 9) p.mul_small(1000000000u);
  for (; k > 0; --k) p.mul_small(10);
  return p;
}

// Decimal digit text (no leading zeros) as an integer.
BigUint from_decimal(std::string_view digits) {
  BigUint v;
  size_t i = 0;
  while (i < digits.size()) {
    const size_t n = std::min<size_t>(9, digits.size() - i);
    uint32_t chunk = 0, scale = 1;
    for (size_t j = 0; j < n; ++j) {
      chunk = chunk * 10 + uint32_t(digits[i + j] - '0');
      scale *= 10;
    }
    v.mul_add_small(scale, chunk);
    i += n;
  }
  return v;
}

// ---------------------------------------------------------------------------

// Values with a leading-bit exponent beyond +-kExactExp are certainly outside
// every format (fp64: 2^-1074 .. 2^1024) and come back capped.
constexpr int64_t kExactExp = 2000;

// Exponents in the text saturate here: far beyond any cap, far from overflow.
constexpr int64_t kExponentSaturation = int64_t{1} << 50;

// Decimal digits are kept down to the place 10^-kDecimalKeep; anything below
// is replaced by one non-zero digit. That is exact for Unpacked: an uncapped
// result has exp >= -2004 (value >= 10^-603), so every 128-bit grid point
// 2^(exp - 127) is a multiple of 10^-2131 and no grid point lies strictly
// between the kept digits and the full value.
constexpr int64_t kDecimalKeep = 2200;

// The decimal place of the leading digit beyond which a value is certainly
// above 2^2000 (10^603 > 2^2003) or below 2^-2000 (10^-603 < 2^-2003).
constexpr int64_t kDecimalCapHigh = 603;
constexpr int64_t kDecimalCapLow = -604;

Unpacked capped(bool sign, bool high) {
  Unpacked u;
  u.sign = sign;
  u.cls = ValueClass::finite;
  u.exp = high ? parse_cap_exp : -parse_cap_exp;
  u.sig = u128{1} << 127;
  u.sticky = true;
  return u;
}

// The exact value (-1)^sign * x * 2^e2 (plus a non-zero tail below x when
// sticky) as an Unpacked.
Unpacked from_big(bool sign, const BigUint& x, int64_t e2, bool sticky) {
  Unpacked u;
  u.sign = sign;
  if (x.is_zero()) return u;  // callers never pass a zero with a sticky tail
  const int64_t len = x.bit_length();
  const int64_t exp = e2 + len - 1;
  if (exp > kExactExp) return capped(sign, true);
  if (exp < -kExactExp) return capped(sign, false);
  u.cls = ValueClass::finite;
  u.exp = int32_t(exp);
  if (len >= 128) {
    bool below = false;
    u.sig = x.bits_from(len - 128, below);
    u.sticky = sticky || below;
  } else {
    bool below = false;
    u.sig = x.bits_from(0, below) << (128 - len);
    u.sticky = sticky;
  }
  return u;
}

[[noreturn]] void fail(std::string_view text, const std::string& why) {
  throw ParseError(quoted_text(text) + " is not a number: " + why);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool equals_lower(std::string_view s, std::string_view word) {
  if (s.size() != word.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (lower(s[i]) != word[i]) return false;
  return true;
}

std::string describe(std::string_view text, size_t pos) {
  const auto c = uint8_t(text[pos]);
  std::string shown;
  if (c >= 0x20 && c < 0x7F) {
    shown = std::string(1, char(c));
  } else {
    constexpr char hex[] = "0123456789abcdef";
    shown = std::string("\\x") + hex[c >> 4] + hex[c & 15];
  }
  return "unexpected '" + shown + "' at position " + std::to_string(pos);
}

// Reads [+-] digits at pos (after an 'e' or 'p'), saturating the magnitude.
int64_t read_exponent(std::string_view text, size_t& pos) {
  bool negative = false;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) negative = text[pos++] == '-';
  const size_t start = pos;
  int64_t v = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    v = std::min(kExponentSaturation, v * 10 + (text[pos] - '0'));
    ++pos;
  }
  if (pos == start) {
    if (pos < text.size()) fail(text, "exponent has no digits (" + describe(text, pos) + ")");
    fail(text, "exponent has no digits");
  }
  return negative ? -v : v;
}

int64_t saturating_add(int64_t a, int64_t b) {
  return std::clamp(a + b, -kExponentSaturation * 4, kExponentSaturation * 4);  // |a|,|b| < 2^61 here
}

void expect_end(std::string_view text, size_t pos) {
  if (pos != text.size()) fail(text, describe(text, pos));
}

Unpacked parse_hex(std::string_view text, size_t pos, bool sign) {
  // Significant hex digits: at most 33 (132 bits) are kept exactly, the rest
  // only as a sticky bit, each dropped digit adding 4 to the binary exponent.
  BigUint mantissa;
  int kept = 0;
  bool sticky = false;
  int64_t e2 = 0;
  size_t digit_count = 0;
  bool in_fraction = false;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    const int h = hex_value(c);
    if (h < 0) break;
    ++digit_count;
    if (kept == 0 && h == 0) {
      if (in_fraction) e2 -= 4;
      continue;
    }
    if (kept < 33) {
      mantissa.mul_add_small(16, uint32_t(h));
      ++kept;
      if (in_fraction) e2 -= 4;
    } else {
      sticky = sticky || h != 0;
      if (!in_fraction) e2 += 4;
    }
  }
  if (digit_count == 0) fail(text, pos < text.size() ? "no hex digits (" + describe(text, pos) + ")" : "no hex digits");
  if (pos < text.size() && (text[pos] == 'p' || text[pos] == 'P')) {
    ++pos;
    e2 = saturating_add(e2, read_exponent(text, pos));
  }
  expect_end(text, pos);
  return from_big(sign, mantissa, e2, sticky);
}

Unpacked parse_decimal(std::string_view text, size_t pos, bool sign) {
  std::string digits;  // significant digits: no leading zeros
  int64_t k = 0;       // value = digits * 10^k
  size_t digit_count = 0;
  bool in_fraction = false;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (!is_digit(c)) break;
    ++digit_count;
    if (in_fraction) --k;
    if (digits.empty() && c == '0') continue;
    digits.push_back(c);
  }
  if (digit_count == 0) fail(text, pos < text.size() ? "no digits (" + describe(text, pos) + ")" : "no digits");
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    k = saturating_add(k, read_exponent(text, pos));
  }
  expect_end(text, pos);

  Unpacked zero;
  zero.sign = sign;
  if (digits.empty()) return zero;
  // Trailing zeros belong in the exponent.
  const size_t last = digits.find_last_not_of('0');
  k += int64_t(digits.size() - 1 - last);
  digits.resize(last + 1);

  // The leading digit's place: value in [10^lead, 10^(lead + 1)).
  const int64_t lead = int64_t(digits.size()) - 1 + k;
  if (lead >= kDecimalCapHigh) return capped(sign, true);
  if (lead <= kDecimalCapLow) return capped(sign, false);

  // Digits below 10^-kDecimalKeep: keep only that there are some (the last
  // digit is non-zero, so any dropped part is non-zero).
  const int64_t keep = lead + kDecimalKeep + 1;
  if (int64_t(digits.size()) > keep) {
    digits.resize(size_t(keep));
    digits.push_back('1');
    k = lead - keep;
  }

  BigUint d = from_decimal(digits);
  if (k >= 0) {  // at most 603 digits in all: d * 10^k directly
    for (int64_t r = k; r >= 9; r -= 9) d.mul_small(1000000000u);
    for (int64_t r = k % 9; r > 0; --r) d.mul_small(10);
    return from_big(sign, d, 0, false);
  }
  // d / 10^-k: scale so the quotient has about 130 bits, divide exactly.
  BigUint m = pow10(-k);
  const int64_t s = m.bit_length() - d.bit_length() + 130;
  if (s >= 0) {
    d.shift_left(s);
  } else {
    m.shift_left(-s);
  }
  const BigUint q = d.divide(m);  // d is now the remainder
  return from_big(sign, q, -s, !d.is_zero());
}

}  // namespace

Unpacked parse_number(std::string_view text) {
  if (text.empty()) fail(text, "empty text");
  size_t pos = 0;
  bool sign = false;
  if (text[0] == '+' || text[0] == '-') {
    sign = text[0] == '-';
    ++pos;
  }
  const std::string_view rest = text.substr(pos);
  if (equals_lower(rest, "inf") || equals_lower(rest, "infinity")) {
    Unpacked u;
    u.sign = sign;
    u.cls = ValueClass::inf;
    return u;
  }
  if (equals_lower(rest, "nan")) {
    Unpacked u;
    u.sign = sign;
    u.cls = ValueClass::quiet_nan;
    return u;
  }
  if (rest.size() >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X')) return parse_hex(text, pos + 2, sign);
  return parse_decimal(text, pos, sign);
}

}  // namespace fpsim
