// fuzz_number: fpsim::parse_number and the CLI's parse_input_number on
// arbitrary text, against an independent oracle.
//
// - The grammar of fpsim/decimal.hpp, written out again below: sim accepts a
//   text exactly when it fits the grammar (so a text MPFR reads and the
//   grammar allows, but sim refuses, is a finding, and so is a text sim
//   accepts outside the grammar). Refusals are ParseErrors whose message is
//   safe to print.
// - Every accepted text, rounded by fpsim::round into fp64, fp32, fp16, bf16,
//   e5m2 and e3m4 in rne, rtz, rup and rdn, equals MPFR's correctly rounded
//   mpfr_strtofr of the same text (exponent range and subnormals through
//   mpfr_set_emin/emax + mpfr_subnormalize), bit for bit (the sign of zero
//   and ±inf included), with the same inexact flag. MPFR's value is turned
//   into a code by this file's own encoder, not by sim. NaN spellings give a
//   NaN with the text's sign.
// - parse_input_number refuses exactly the hex integers (0x digits without
//   '.' or 'p') and otherwise returns parse_number's value.
// - format_decimal_value(code, f) read back by parse_number and rounded to f
//   with rne gives the code again (NaN: a NaN of the same sign), for a code
//   taken from the input in every built-in format.
#include <gmp.h>
#include <mpfr.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "code_text.hpp"
#include "fpsim/decimal.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/round.hpp"
#include "fuzz_check.hpp"
#include "fuzz_targets.hpp"

namespace {

using fpsim_fuzz::fail;
using fpsim_fuzz::shown;

constexpr const char* kTarget = "number";

// ---- the grammar of decimal.hpp ---------------------------------------------
//   [+-] digits [. [digits]] [(e|E) [+-] digits]     also [+-] . digits [...]
//   [+-] 0x hexdigits [. [hexdigits]] [(p|P) [+-] digits]   (also 0x.hexdigits)
//   [+-] inf | infinity | nan            case-insensitive, nothing around it

enum class Kind { none, decimal, hex, inf, nan };

bool ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool ascii_hex_digit(char c) { return ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool equals_ignoring_case(std::string_view s, std::string_view lower_word) {
  if (s.size() != lower_word.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    if (c != lower_word[i]) return false;
  }
  return true;
}

Kind grammar_kind(std::string_view t, bool& negative) {
  size_t p = 0;
  negative = false;
  if (p < t.size() && (t[p] == '+' || t[p] == '-')) negative = t[p++] == '-';
  const std::string_view r = t.substr(p);
  if (equals_ignoring_case(r, "inf") || equals_ignoring_case(r, "infinity")) return Kind::inf;
  if (equals_ignoring_case(r, "nan")) return Kind::nan;
  const bool hex = r.size() >= 2 && r[0] == '0' && (r[1] == 'x' || r[1] == 'X');
  size_t i = hex ? 2 : 0;
  auto digits = [&](bool hex_digits) {
    size_t n = 0;
    while (i < r.size() && (hex_digits ? ascii_hex_digit(r[i]) : ascii_digit(r[i]))) ++i, ++n;
    return n;
  };
  size_t mantissa_digits = digits(hex);
  if (i < r.size() && r[i] == '.') {
    ++i;
    mantissa_digits += digits(hex);
  }
  if (mantissa_digits == 0) return Kind::none;
  if (i < r.size() && (hex ? (r[i] == 'p' || r[i] == 'P') : (r[i] == 'e' || r[i] == 'E'))) {
    ++i;
    if (i < r.size() && (r[i] == '+' || r[i] == '-')) ++i;
    if (digits(false) == 0) return Kind::none;
  }
  if (i != r.size()) return Kind::none;
  return hex ? Kind::hex : Kind::decimal;
}

// ---- the MPFR oracle -------------------------------------------------------

// An IEEE-style format (inf and NaN in the top exponent field) as MPFR sees
// it: precision M + 1, mantissas in [1/2, 1), smallest subnormal
// 2^(emin - 1), largest finite value below 2^emax.
struct Target {
  fpsim::Format f;
  int prec;
  mpfr_exp_t emin;
  mpfr_exp_t emax;
};

Target target_of(const fpsim::Format& f) {
  return {f, f.man_bits + 1, mpfr_exp_t{2} - f.bias - f.man_bits, (mpfr_exp_t{1} << f.exp_bits) - 1 - f.bias};
}

const Target kTargets[] = {target_of(fpsim::formats::fp64), target_of(fpsim::formats::fp32),
                           target_of(fpsim::formats::fp16), target_of(fpsim::formats::bf16),
                           target_of(fpsim::formats::e5m2), target_of(fpsim::formats::e3m4)};

struct Mode {
  fpsim::Rounding sim;
  mpfr_rnd_t mpfr;
  const char* name;
};
const Mode kModes[] = {{fpsim::Rounding::rne, MPFR_RNDN, "rne"},
                       {fpsim::Rounding::rtz, MPFR_RNDZ, "rtz"},
                       {fpsim::Rounding::rup, MPFR_RNDU, "rup"},
                       {fpsim::Rounding::rdn, MPFR_RNDD, "rdn"}};

// The code of d (a value of t's format: MPFR has rounded it there) in t's
// IEEE layout, computed here without sim.
uint64_t encode(double d, const Target& t) {
  const int E = t.f.exp_bits, M = t.f.man_bits, bias = t.f.bias;
  const uint64_t sign = std::signbit(d) ? uint64_t{1} << (E + M) : 0;
  const double a = std::fabs(d);
  if (std::isinf(a)) return sign | (((uint64_t{1} << E) - 1) << M);
  if (a == 0) return sign;
  int e = 0;
  (void)std::frexp(a, &e);  // a = m * 2^e, m in [1/2, 1): leading bit at 2^(e - 1)
  const int emin = 1 - bias;
  if (e - 1 >= emin) {
    const double frac = std::ldexp(a, M - (e - 1)) - std::ldexp(1.0, M);  // exact
    return sign | (uint64_t(e - 1 + bias) << M) | uint64_t(frac);
  }
  return sign | uint64_t(std::ldexp(a, M - emin));  // subnormal: a / 2^(emin - M)
}

bool is_nan_code(uint64_t code, const Target& t) {
  const int E = t.f.exp_bits, M = t.f.man_bits;
  const uint64_t exp_field = (code >> M) & ((uint64_t{1} << E) - 1);
  return exp_field == (uint64_t{1} << E) - 1 && (code & ((uint64_t{1} << M) - 1)) != 0;
}

// MPFR 4.2.0's mpfr_strtofr gets texts wrong whose exponent is near or
// beyond 2^63 once the fraction digits are counted in (the sum wraps:
// "0.01e-9223372036854775808" reads as +inf). An exponent of more than 15
// digits is certainly beyond every format for texts shorter than 10^14
// characters, so the oracle is given 10^15 (same sign) instead: the same
// rounded value and inexact flag.
std::string mpfr_text(const std::string& text, Kind kind) {
  const size_t start = kind == Kind::hex ? text.find_first_of("xX") + 1 : 0;
  const size_t mark = text.find_first_of(kind == Kind::hex ? "pP" : "eE", start);
  if (mark == std::string::npos) return text;
  size_t digits = mark + 1;
  if (digits < text.size() && (text[digits] == '+' || text[digits] == '-')) ++digits;
  const size_t significant = text.find_first_not_of('0', digits);
  if (significant == std::string::npos || text.size() - significant <= 15) return text;
  return text.substr(0, digits) + "1000000000000000";
}

struct Rounded {
  bool nan;
  uint64_t code;  // not for NaN
  bool inexact;
};

Rounded mpfr_rounded(const std::string& text, const Target& t, mpfr_rnd_t rnd) {
  const mpfr_exp_t old_emin = mpfr_get_emin(), old_emax = mpfr_get_emax();
  mpfr_set_emin(t.emin);
  mpfr_set_emax(t.emax);
  mpfr_t x;
  mpfr_init2(x, t.prec);
  char* end = nullptr;
  int ternary = mpfr_strtofr(x, text.c_str(), &end, 0, rnd);
  const bool read_all = end == text.c_str() + text.size();
  ternary = mpfr_subnormalize(x, ternary, rnd);
  Rounded r{mpfr_nan_p(x) != 0, 0, ternary != 0};
  if (!r.nan) r.code = encode(mpfr_get_d(x, MPFR_RNDN), t);  // exact: every value of t is a double
  mpfr_clear(x);
  mpfr_set_emin(old_emin);
  mpfr_set_emax(old_emax);
  if (!read_all)
    fail(kTarget, "MPFR did not read all of the grammar's text '" + shown(text) + "' (stopped at byte " +
                      std::to_string(end - text.c_str()) + ")");
  return r;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool same(const fpsim::Unpacked& a, const fpsim::Unpacked& b) {
  return a.sign == b.sign && a.cls == b.cls && a.exp == b.exp && a.sig == b.sig && a.sticky == b.sticky;
}

void check_against_mpfr(const std::string& text, Kind kind, const fpsim::Unpacked& u, bool negative) {
  const std::string oracle_text = mpfr_text(text, kind);
  for (const Target& t : kTargets) {
    for (const Mode& m : kModes) {
      fpsim::RoundingSpec spec;
      spec.rounding = m.sim;
      fpsim::Flags fl;
      const uint64_t got = fpsim::round(u, t.f, spec, fl);
      const Rounded want = mpfr_rounded(oracle_text, t, m.mpfr);
      const std::string where = std::string(t.f.name) + " " + m.name + " of '" + shown(text) + "'";
      if (want.nan) {
        if (!is_nan_code(got, t)) fail(kTarget, where + ": MPFR gives NaN, sim " + hex(got));
        const bool sign = (got >> (t.f.exp_bits + t.f.man_bits)) & 1;
        if (sign != negative) fail(kTarget, where + ": NaN sign " + std::to_string(sign) + " for the text's sign");
        continue;
      }
      if (got != want.code) fail(kTarget, where + ": sim " + hex(got) + ", MPFR " + hex(want.code));
      if (fl.test(fpsim::Flags::inexact) != want.inexact)
        fail(kTarget, where + ": sim inexact " + std::to_string(fl.test(fpsim::Flags::inexact)) + ", MPFR " +
                          std::to_string(want.inexact));
    }
  }
}

// ---- format_decimal_value round trip ----------------------------------------

void check_decimal_round_trip(uint64_t bits) {
  int i = 0;
  for (const fpsim::Format& f : fpsim::builtin_formats()) {
    const uint64_t rotated = std::rotl(bits, 7 * i++);
    const uint64_t code = f.value_bits() >= 64 ? rotated : rotated & (f.code_count() - 1);
    std::string text;
    try {
      text = fpsim::cli::format_decimal_value(code, f);
      const fpsim::Unpacked u = fpsim::parse_number(text);
      fpsim::Flags fl;
      const uint64_t back = fpsim::round(u, f, fpsim::RoundingSpec{}, fl);
      const std::string where =
          std::string(f.name) + " code " + hex(code) + " -> '" + shown(text) + "' -> " + hex(back);
      if (f.is_nan_code(code)) {
        if (!f.is_nan_code(back)) fail(kTarget, where + ": a NaN did not read back as NaN");
        if (f.has_signed_nan() && (code & f.sign_mask()) != (back & f.sign_mask()))
          fail(kTarget, where + ": the NaN's sign changed");
      } else if (back != code) {
        fail(kTarget, where + ": not the same code");
      }
    } catch (const fpsim::Error& e) {
      fail(kTarget, std::string(f.name) + " code " + hex(code) + " -> '" + shown(text) + "': " + e.what());
    }
  }
}

}  // namespace

int fuzz_number(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  bool negative = false;
  const Kind kind = grammar_kind(text, negative);
  try {
    fpsim::Unpacked u;
    bool accepted = false;
    try {
      u = fpsim::parse_number(text);
      accepted = true;
    } catch (const fpsim::ParseError& e) {
      fpsim_fuzz::check_message(kTarget, e.what(), text);
      if (kind != Kind::none) fail(kTarget, "sim refuses '" + shown(text) + "', which fits the grammar: " + e.what());
    }
    if (accepted) {
      if (kind == Kind::none) fail(kTarget, "sim accepts '" + shown(text) + "', which is outside the grammar");
      const bool sim_nan = u.is_nan();
      if (sim_nan != (kind == Kind::nan) || (u.cls == fpsim::ValueClass::inf) != (kind == Kind::inf) ||
          u.sign != negative)
        fail(kTarget, "class or sign of '" + shown(text) + "' differs from the grammar's reading");
      check_against_mpfr(text, kind, u, negative);
    }

    // parse_input_number: parse_number minus the hex integers.
    std::string_view body = text;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
    const bool hex_integer = body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') &&
                             body.find_first_of(".pP") == std::string_view::npos;
    try {
      const fpsim::Unpacked v = fpsim::cli::parse_input_number(text, "--bits");
      if (hex_integer) fail(kTarget, "parse_input_number accepts the hex integer '" + shown(text) + "'");
      if (!accepted || !same(u, v))
        fail(kTarget, "parse_input_number and parse_number differ on '" + shown(text) + "'");
    } catch (const fpsim::ParseError& e) {
      fpsim_fuzz::check_message(kTarget, e.what(), text);
      if (accepted && !hex_integer)
        fail(kTarget, "parse_input_number refuses '" + shown(text) + "', which parse_number accepts: " + e.what());
    }

    uint64_t bits = 0;
    if (size) std::memcpy(&bits, data, size < 8 ? size : 8);
    check_decimal_round_trip(bits);
  } catch (...) {
    fpsim_fuzz::fail_on_unexpected(kTarget, text);
  }
  return 0;
}
