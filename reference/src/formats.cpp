// The reference's own transcription of docs/formats.md §1 (built-in rows and
// aliases) and of the §1.1 user-format grammar. Kept apart from sim/'s table on
// purpose: a test compares the two, so a wrong entry cannot hide in both.
#include <cctype>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "fpsim_ref/reference.hpp"

namespace fpsim_ref {
namespace {

using S = RefFormat::Specials;

struct Row {
  const char* name;
  int bits, exp_bits, man_bits, bias;
  S specials;
  bool has_sign;
  const char* aliases;  // space separated
};

// docs/formats.md §1, row by row.
constexpr Row kRows[] = {
    {"fp64", 64, 11, 52, 1023, S::ieee, true, "f64 float64 double"},
    {"fp32", 32, 8, 23, 127, S::ieee, true, "f32 float32 float"},
    {"tf32", 19, 8, 10, 127, S::ieee, true, "e8m10"},
    {"bf16", 16, 8, 7, 127, S::ieee, true, "bfloat16 e8m7"},
    {"fp16", 16, 5, 10, 15, S::ieee, true, "f16 half float16 e5m10"},
    {"e4m3", 8, 4, 3, 7, S::fn, true, "e4m3fn float8_e4m3fn"},
    {"e4m3fnuz", 8, 4, 3, 8, S::fnuz, true, "float8_e4m3fnuz"},
    {"e5m2", 8, 5, 2, 15, S::ieee, true, "float8_e5m2"},
    {"e5m2fnuz", 8, 5, 2, 16, S::fnuz, true, "float8_e5m2fnuz"},
    {"e3m4", 8, 3, 4, 3, S::ieee, true, "float8_e3m4"},
    {"e2m3", 6, 2, 3, 1, S::finite, true, "e2m3fn float6_e2m3fn"},
    {"e3m2", 6, 3, 2, 3, S::finite, true, "e3m2fn float6_e3m2fn"},
    {"e2m1", 4, 2, 1, 1, S::finite, true, "e2m1fn fp4 float4_e2m1fn"},
    {"e8m0", 8, 8, 0, 127, S::e8m0, false, "ue8m0 e8m0fnu float8_e8m0fnu"},
    {"ue4m3", 8, 4, 3, 7, S::fn, false, ""},
    {"int8", 8, 0, 0, 0, S::int8, true, "s8"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Fills the derived fields from name/bits/E/M/bias/specials/has_sign.
RefFormat finish(RefFormat f) {
  const int E = f.exp_bits, M = f.man_bits;
  const uint64_t field_ones = (uint64_t{1} << E) - 1;
  const uint64_t man_ones = (uint64_t{1} << M) - 1;
  // 2^64 wraps to 0 for fp64, meaning "every uint64_t is a code".
  f.code_count = f.has_sign || f.specials == S::e8m0 ? uint64_t{1} << (f.bits - 1) << 1 : uint64_t{1} << (f.bits - 1);
  switch (f.specials) {
    case S::int8:
      f.max_code = 127;
      f.max_finite = 127;
      f.min_normal = 1;
      return f;
    case S::e8m0:
      f.has_nan = true;
      f.nan_code = 0xFF;
      f.max_code = 0xFE;
      f.emin = -127;
      f.emax = 127;
      f.max_finite = std::ldexp(1.0, 127);
      f.min_normal = std::ldexp(1.0, -127);
      return f;
    case S::ieee:
      f.has_inf = f.has_nan = f.has_neg_zero = true;
      f.nan_code = (field_ones << M) | (uint64_t{1} << (M - 1));
      f.max_code = ((field_ones - 1) << M) | man_ones;
      break;
    case S::fn:
      f.has_nan = true;
      f.has_neg_zero = f.has_sign;
      f.nan_code = (field_ones << M) | man_ones;
      f.max_code = f.nan_code - 1;
      break;
    case S::fnuz:
      f.has_nan = true;
      f.nan_code = uint64_t{1} << (f.bits - 1);
      f.max_code = (field_ones << M) | man_ones;
      break;
    case S::finite:
      f.has_neg_zero = true;
      f.max_code = (field_ones << M) | man_ones;
      break;
  }
  f.has_subnormals = M >= 1;
  f.emin = 1 - f.bias;
  f.emax = static_cast<int>(f.max_code >> M) - f.bias;
  const double max_sig = 1.0 + std::ldexp(static_cast<double>(f.max_code & man_ones), -M);
  f.max_finite = std::ldexp(max_sig, f.emax);
  f.min_normal = std::ldexp(1.0, f.emin);
  f.min_subnormal = f.has_subnormals ? std::ldexp(1.0, f.emin - M) : 0.0;
  return f;
}

RefFormat from_row(const Row& r) {
  RefFormat f;
  f.name = r.name;
  f.bits = r.bits;
  f.exp_bits = r.exp_bits;
  f.man_bits = r.man_bits;
  f.bias = r.bias;
  f.specials = r.specials;
  f.has_sign = r.has_sign;
  return finish(f);
}

// Reads decimal digits at s[pos...] into *out (at most 6 digits); false if none.
bool read_int(const std::string& s, size_t& pos, int* out) {
  size_t start = pos;
  long v = 0;
  while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) && pos - start < 6) {
    v = v * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos == start || (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])))) return false;
  *out = static_cast<int>(v);
  return true;
}

[[noreturn]] void bad(const std::string& name, const std::string& why) {
  throw std::invalid_argument("unknown format '" + name + "': " + why +
                              " (expected a built-in name or e<X>m<Y>[fn|fnuz][b<N>], 2<=X<=11, 0<=Y<=52)");
}

// §1.1: e<X>m<Y>[fn|fnuz][b<N>].
RefFormat parse_user(const std::string& name) {
  size_t pos = 0;
  int X = 0, Y = 0;
  if (name.empty() || name[pos++] != 'e' || !read_int(name, pos, &X)) bad(name, "no e<X>");
  if (pos >= name.size() || name[pos++] != 'm' || !read_int(name, pos, &Y)) bad(name, "no m<Y>");
  S specials = S::ieee;
  if (name.compare(pos, 4, "fnuz") == 0) {
    specials = S::fnuz;
    pos += 4;
  } else if (name.compare(pos, 2, "fn") == 0) {
    specials = S::fn;
    pos += 2;
  }
  int bias = specials == S::fnuz ? (1 << (X - 1)) : (1 << (X - 1)) - 1;
  if (pos < name.size()) {
    if (name[pos++] != 'b' || !read_int(name, pos, &bias)) bad(name, "bad bias suffix");
    if (pos != name.size()) bad(name, "trailing characters");
  }
  if (X < 2 || X > 11) bad(name, "X out of range");
  if (Y < 0 || Y > 52) bad(name, "Y out of range");
  if (Y == 0 && specials == S::ieee) bad(name, "Y = 0 needs fn or fnuz");
  RefFormat f;
  f.name = name;
  f.bits = 1 + X + Y;
  f.exp_bits = X;
  f.man_bits = Y;
  f.bias = bias;
  f.specials = specials;
  f.has_sign = true;
  f = finish(f);
  // Every value must be exact in fp64: subnormal quantum >= 2^-1074, top binade <= 2^1023.
  if (f.emin - Y < -1074 || f.emax > 1023) bad(name, "values not exact in fp64");
  if (f.max_code == 0) bad(name, "no positive finite value");
  return f;
}

struct Registry {
  std::vector<RefFormat> builtins;
  std::map<std::string, const RefFormat*, std::less<>> by_name;
  std::mutex user_mutex;
  std::map<std::string, std::unique_ptr<RefFormat>, std::less<>> users;

  Registry() {
    builtins.reserve(std::size(kRows));
    for (const Row& r : kRows) builtins.push_back(from_row(r));
    for (size_t i = 0; i < std::size(kRows); ++i) {
      by_name[builtins[i].name] = &builtins[i];
      std::string_view aliases = kRows[i].aliases;
      while (!aliases.empty()) {
        size_t sp = aliases.find(' ');
        by_name[std::string(aliases.substr(0, sp))] = &builtins[i];
        aliases = sp == std::string_view::npos ? std::string_view{} : aliases.substr(sp + 1);
      }
    }
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

const RefFormat& ref_format(std::string_view name) {
  Registry& reg = registry();
  const std::string key = lower(name);
  if (auto it = reg.by_name.find(key); it != reg.by_name.end()) return *it->second;
  std::lock_guard<std::mutex> lock(reg.user_mutex);
  if (auto it = reg.users.find(key); it != reg.users.end()) return *it->second;
  auto f = std::make_unique<RefFormat>(parse_user(key));
  const RefFormat& ref = *f;
  reg.users.emplace(key, std::move(f));
  return ref;
}

std::vector<std::string> ref_builtin_names() {
  std::vector<std::string> names;
  for (const RefFormat& f : registry().builtins) names.push_back(f.name);
  return names;
}

}  // namespace fpsim_ref
