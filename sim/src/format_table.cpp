#include "fpsim/format_table.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <charconv>
#include <cstdio>

#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim {

namespace {

constexpr std::array kBuiltins = {formats::fp64, formats::fp32,     formats::tf32,     formats::bf16,
                                  formats::fp16, formats::e4m3,     formats::e4m3fnuz, formats::e5m2,
                                  formats::e5m2fnuz, formats::e3m4, formats::e2m3,     formats::e3m2,
                                  formats::e2m1, formats::e8m0,     formats::ue4m3,    formats::int8};

struct Alias {
  std::string_view alias;
  std::string_view canonical;
};

// docs/formats.md §1, "Aliases".
constexpr Alias kAliases[] = {
    {"f64", "fp64"},         {"float64", "fp64"},
    {"double", "fp64"},      {"f32", "fp32"},
    {"float32", "fp32"},     {"float", "fp32"},
    {"e8m10", "tf32"},       {"bfloat16", "bf16"},
    {"e8m7", "bf16"},        {"f16", "fp16"},
    {"half", "fp16"},        {"float16", "fp16"},
    {"e5m10", "fp16"},       {"e4m3fn", "e4m3"},
    {"float8_e4m3fn", "e4m3"}, {"float8_e4m3fnuz", "e4m3fnuz"},
    {"float8_e5m2", "e5m2"}, {"float8_e5m2fnuz", "e5m2fnuz"},
    {"float8_e3m4", "e3m4"}, {"e2m3fn", "e2m3"},
    {"float6_e2m3fn", "e2m3"}, {"e3m2fn", "e3m2"},
    {"float6_e3m2fn", "e3m2"}, {"e2m1fn", "e2m1"},
    {"fp4", "e2m1"},         {"float4_e2m1fn", "e2m1"},
    {"ue8m0", "e8m0"},       {"e8m0fnu", "e8m0"},
    {"float8_e8m0fnu", "e8m0"}, {"s8", "int8"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const Format* find_builtin(std::string_view canonical) {
  for (const Format& f : kBuiltins)
    if (canonical == f.name) return &f;
  return nullptr;
}

// Reads a decimal number at s[pos...]; false when there is none.
bool read_number(std::string_view s, size_t& pos, int& value) {
  const char* begin = s.data() + pos;
  const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), value);
  if (ec != std::errc() || end == begin) return false;
  pos += size_t(end - begin);
  return true;
}

[[noreturn]] void bad_format(std::string_view name, std::string_view why) {
  throw FormatError("unknown format " + quoted_text(name) + ": " + std::string(why) +
                    " (expected a built-in name such as fp32, bf16, e4m3, e2m1, e8m0, or eXmY[fn|fnuz][bN]; "
                    "see `fpsim formats`)");
}

// The user grammar of docs/formats.md §1.1.
Format parse_user_format(std::string_view original, std::string_view s) {
  size_t pos = 0;
  int e = 0, m = 0;
  if (s.empty() || s[pos] != 'e') bad_format(original, "not a format name");
  ++pos;
  if (!read_number(s, pos, e) || pos >= s.size() || s[pos] != 'm') bad_format(original, "not a format name");
  ++pos;
  if (!read_number(s, pos, m)) bad_format(original, "missing mantissa width");
  Specials specials = Specials::ieee;
  if (s.substr(pos, 4) == "fnuz") {
    specials = Specials::fnuz;
    pos += 4;
  } else if (s.substr(pos, 2) == "fn") {
    specials = Specials::fn;
    pos += 2;
  }
  if (e < 2 || e > 11) bad_format(original, "exponent width must be 2..11");
  if (m < 0 || m > 52) bad_format(original, "mantissa width must be 0..52");
  int bias = specials == Specials::fnuz ? (1 << (e - 1)) : (1 << (e - 1)) - 1;
  if (pos < s.size() && s[pos] == 'b') {
    ++pos;
    if (pos < s.size() && s[pos] == '-') bad_format(original, "the bias must be a non-negative integer");
    if (!read_number(s, pos, bias)) bad_format(original, "missing bias after 'b'");
  }
  if (pos != s.size()) bad_format(original, "unexpected text after the format");
  if (m == 0 && specials == Specials::ieee) bad_format(original, "M = 0 needs fn or fnuz (inf and NaN would coincide)");
  Format f{};
  std::snprintf(f.name, sizeof f.name, "%s", std::string(s).c_str());
  f.bits = uint8_t(1 + e + m);
  f.exp_bits = uint8_t(e);
  f.man_bits = uint8_t(m);
  f.bias = bias;
  f.specials = specials;
  f.has_sign = true;
  f.container_shift = 0;
  // Every value must be exact in fp64 (docs/formats.md §1.1).
  const int top_exp = int((uint64_t{1} << e) - 1) - (specials == Specials::ieee ? 1 : 0) - bias;
  if (top_exp > 1023) bad_format(original, "largest value exceeds fp64 (bias too small)");
  // In 64 bits: emin - m overflows int for a bias near INT_MAX ("e3m4fnb2147483647").
  if (int64_t{f.emin()} - m < -1074) bad_format(original, "smallest value is below fp64's (bias too large)");
  return f;
}

}  // namespace

std::span<const Format> builtin_formats() { return kBuiltins; }

Format parse_format(std::string_view name) {
  const std::string s = lower(name);
  if (const Format* f = find_builtin(s)) return *f;
  for (const Alias& a : kAliases)
    if (s == a.alias) return *find_builtin(a.canonical);
  if (s.size() >= sizeof(Format{}.name)) bad_format(name, "name too long");
  return parse_user_format(name, s);
}

std::vector<std::string_view> format_aliases(const Format& f) {
  std::vector<std::string_view> out;
  for (const Alias& a : kAliases)
    if (a.canonical == f.name) out.push_back(a.alias);
  return out;
}

void parse_rounding(std::string_view name, RoundingSpec& spec) {
  const std::string s = lower(name);
  constexpr std::pair<std::string_view, Rounding> kModes[] = {
      {"rne", Rounding::rne}, {"rna", Rounding::rna}, {"rtz", Rounding::rtz}, {"rup", Rounding::rup},
      {"rdn", Rounding::rdn}, {"rto", Rounding::rto}, {"sr", Rounding::sr}};
  for (const auto& [mode_name, mode] : kModes) {
    if (s == mode_name) {
      spec.rounding = mode;
      spec.sr_bits = 0;
      return;
    }
  }
  if (s.size() > 2 && s.starts_with("sr")) {
    size_t pos = 2;
    int r = 0;
    if (read_number(s, pos, r) && pos == s.size() && r >= 1 && r <= 64) {
      spec.rounding = Rounding::sr;
      spec.sr_bits = uint8_t(r);
      return;
    }
    throw OptionError("unknown rounding mode " + quoted_text(name) + ": sr<R> needs 1 <= R <= 64");
  }
  if (s == "nearest")
    throw OptionError("rounding mode 'nearest' is ambiguous (it means ties-away in some libraries): use rne or rna");
  throw OptionError("unknown rounding mode " + quoted_text(name) +
                    " (expected rne, rna, rtz, rup, rdn, rto, sr or sr<R> with 1 <= R <= 64)");
}

std::string rounding_name(const RoundingSpec& spec) {
  switch (spec.rounding) {
    case Rounding::rne:
      return "rne";
    case Rounding::rna:
      return "rna";
    case Rounding::rtz:
      return "rtz";
    case Rounding::rup:
      return "rup";
    case Rounding::rdn:
      return "rdn";
    case Rounding::rto:
      return "rto";
    case Rounding::sr:
      break;
  }
  return spec.sr_bits == 0 ? "sr" : "sr" + std::to_string(spec.sr_bits);
}

Overflow parse_overflow(std::string_view name) {
  const std::string s = lower(name);
  if (s == "ieee") return Overflow::ieee;
  if (s == "saturate") return Overflow::saturate;
  throw OptionError("unknown overflow policy " + quoted_text(name) + " (expected ieee or saturate)");
}

std::string_view overflow_name(Overflow o) { return o == Overflow::ieee ? "ieee" : "saturate"; }

Tininess parse_tininess(std::string_view name) {
  const std::string s = lower(name);
  if (s == "after") return Tininess::after;
  if (s == "before") return Tininess::before;
  throw OptionError("unknown tininess mode " + quoted_text(name) + " (expected after or before)");
}

std::string_view tininess_name(Tininess t) { return t == Tininess::after ? "after" : "before"; }

int hex_digits(const Format& f) { return (f.bits + f.container_shift + 3) / 4; }

std::string format_hex_code(uint64_t code, const Format& f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*llx", hex_digits(f), static_cast<unsigned long long>(code << f.container_shift));
  return buf;
}

namespace {

std::string_view kind_name(Specials s) {
  switch (s) {
    case Specials::ieee:
      return "ieee";
    case Specials::fn:
      return "fn";
    case Specials::fnuz:
      return "fnuz";
    case Specials::finite:
      return "finite";
    case Specials::unsigned_scale:
      return "unsigned_scale";
    case Specials::integer:
      break;
  }
  return "integer";
}

}  // namespace

FormatProperties describe(const Format& f) {
  FormatProperties p;
  p.kind = std::string(kind_name(f.specials));
  p.max_code = f.max_code();
  p.max_finite = to_double(f.max_code(), f);
  p.has_inf = f.has_inf();
  p.has_nan = f.has_nan();
  p.has_negative_zero = f.has_negative_zero();
  if (f.is_integer()) {
    p.min_normal = 1;
    p.epsilon = 1;
  } else if (f.is_scale()) {
    p.min_normal = to_double(0, f);
    p.epsilon = 1;  // neighbouring values differ by a factor of 2
  } else {
    p.min_normal = to_double(uint64_t{1} << f.man_bits, f);
    p.epsilon = std::ldexp(1.0, -f.man_bits);
    if (f.has_subnormals()) p.min_subnormal = to_double(1, f);
  }
  p.inf_codes = f.has_inf() ? format_hex_code(f.inf_code(false), f) + " " + format_hex_code(f.inf_code(true), f) : "none";
  if (!f.has_nan())
    p.nan_codes = "none";
  else if (f.has_signed_nan())
    p.nan_codes = format_hex_code(f.nan_code(false), f) + " " + format_hex_code(f.nan_code(true), f);
  else
    p.nan_codes = format_hex_code(f.nan_code(false), f);
  return p;
}

}  // namespace fpsim
