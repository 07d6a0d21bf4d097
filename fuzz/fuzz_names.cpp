// fuzz_names: the parsers of names and option values. The first byte picks
// the parser, the rest is the text:
//   0 parse_format          1 parse_rounding       2 parse_overflow
//   3 parse_tininess        4 parse_operation      5 parse_quant_scheme
//   6 parse_e8m0_rule       7 parse_scale_arith    8 mma_preset
//   9 parse_testfloat_function                    10 apply_testfloat_option
//  11 parse_dims (--shape N or RxC; --block RxC)  12 parse_whole_number
//     (parse_shard when the second selector, choice / 13 % 16, is 12 or more)
//
// Accepted: the canonical name (or text) of the result parses back to the
// same thing (e.g. parse_format(f.name) has every field of f; a scheme's
// name rebuilt from its fields gives the same scheme). A format's values
// are all exact in fp64 (docs/formats.md §1.1): a few codes of every
// accepted format go to fp64 and back unchanged and exactly. parse_dims and
// parse_whole_number are compared with their documented contracts, read
// again here.
// Refused: a fpsim::Error (no other exception) whose message is one line,
// shorter than 2,000 bytes whatever the input's length, with every control
// byte and invalid UTF-8 escaped.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "code_text.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/operation.hpp"
#include "fpsim/quantize.hpp"
#include "fuzz_check.hpp"
#include "fuzz_targets.hpp"
#include "option_values.hpp"
#include "quantize_input.hpp"
#include "testfloat_check.hpp"

namespace {

using fpsim_fuzz::fail;
using fpsim_fuzz::shown;

constexpr const char* kTarget = "names";

bool same_format(const fpsim::Format& a, const fpsim::Format& b) {
  return std::string_view(a.name) == std::string_view(b.name) && a.bits == b.bits && a.exp_bits == b.exp_bits &&
         a.man_bits == b.man_bits && a.bias == b.bias && a.specials == b.specials && a.has_sign == b.has_sign &&
         a.container_shift == b.container_shift;
}

void check_format(std::string_view name) {
  const fpsim::Format f = fpsim::parse_format(name);
  const std::string where = "format '" + shown(name) + "' -> '" + shown(f.name) + "'";
  if (!same_format(f, fpsim::parse_format(f.name))) fail(kTarget, where + ": its name parses to another format");
  if (f.bits == 0 || f.bits > 64 || f.value_bits() > 64) fail(kTarget, where + ": bad width");
  (void)fpsim::describe(f);
  // Codes that probe the edges: zeros, the smallest subnormal and normal,
  // the largest finite value, inf and NaN, with both signs.
  const uint64_t s = f.sign_mask();
  const uint64_t probes[] = {0,
                             1,
                             uint64_t{1} << f.man_bits,
                             f.max_code(),
                             s,
                             s | 1,
                             s | f.max_code(),
                             f.has_inf() ? f.inf_code(false) : 0,
                             f.has_nan() ? f.nan_code(false) : 0};
  for (const uint64_t code : probes) {
    if (!f.valid_code(code)) continue;
    fpsim::Flags there, back;
    const uint64_t wide = fpsim::convert(code, f, fpsim::formats::fp64, fpsim::RoundingSpec{}, there);
    const uint64_t again = fpsim::convert(wide, fpsim::formats::fp64, f, fpsim::RoundingSpec{}, back);
    const bool nan = f.is_nan_code(code);
    if (nan ? !f.is_nan_code(again) : again != code)
      fail(kTarget, where + ": code " + std::to_string(code) + " -> fp64 -> " + std::to_string(again));
    if (!nan && ((there.bits | back.bits) & fpsim::Flags::inexact))
      fail(kTarget, where + ": code " + std::to_string(code) + " is not exact in fp64");
  }
}

void check_rounding(std::string_view name) {
  fpsim::RoundingSpec a;
  fpsim::parse_rounding(name, a);
  const std::string canonical = fpsim::rounding_name(a);
  fpsim::RoundingSpec b;
  fpsim::parse_rounding(canonical, b);
  if (a.rounding != b.rounding || a.sr_bits != b.sr_bits || fpsim::rounding_name(b) != canonical)
    fail(kTarget, "rounding '" + shown(name) + "' -> '" + canonical + "' parses to another mode");
  if (a.rounding == fpsim::Rounding::sr && a.sr_bits > 64)
    fail(kTarget, "rounding '" + shown(name) + "': sr_bits > 64");
}

void check_operation(std::string_view name) {
  const fpsim::Operation a = fpsim::parse_operation(name);
  const std::string canonical = a.name();
  const fpsim::Operation b = fpsim::parse_operation(canonical);
  if (b.name() != canonical || a.kind != b.kind || a.arity() != b.arity() || a.returns_code() != b.returns_code())
    fail(kTarget, "operation '" + shown(name) + "' -> '" + canonical + "' parses to another operation");
}

std::string scheme_name(const fpsim::QuantScheme& q) {
  switch (q.kind) {
    case fpsim::ScaleKind::per_tensor:
      return std::string("per-tensor-") + q.element.name;
    case fpsim::ScaleKind::mx:
      return std::string("mx-") + q.element.name;
    case fpsim::ScaleKind::nvfp4:
      return q.block == fpsim::BlockShape{1, 16} ? "nvfp4" : "nvfp4-2d";
    case fpsim::ScaleKind::fp32_block:
      return "block-" + std::to_string(q.block.rows) + "x" + std::to_string(q.block.cols) + "-" + q.element.name;
  }
  return "?";
}

void check_quant_scheme(std::string_view name) {
  const fpsim::QuantScheme a = fpsim::parse_quant_scheme(name);
  const std::string canonical = scheme_name(a);
  const std::string where = "scheme '" + shown(name) + "' -> '" + shown(canonical) + "'";
  if (a.element.bits > 8) fail(kTarget, where + ": element wider than 8 bits");
  if (a.kind != fpsim::ScaleKind::per_tensor && (a.block.rows == 0 || a.block.cols == 0))
    fail(kTarget, where + ": empty block");
  fpsim::QuantScheme b;
  try {
    b = fpsim::parse_quant_scheme(canonical);
  } catch (const fpsim::Error& e) {
    fail(kTarget, where + ": the canonical name is refused: " + e.what());
  }
  if (a.kind != b.kind || !same_format(a.element, b.element) || a.block != b.block || a.e8m0_rule != b.e8m0_rule ||
      a.pow2_scales != b.pow2_scales || a.arith != b.arith || a.amax_epsilon != b.amax_epsilon ||
      a.rounding.rounding != b.rounding.rounding || a.rounding.overflow != b.rounding.overflow)
    fail(kTarget, where + ": parses to another scheme");
}

void check_mma_preset(std::string_view name) {
  const fpsim::MmaModel a = fpsim::mma_preset(name);
  const std::string where = "MMA preset '" + shown(name) + "' -> '" + shown(a.name) + "'";
  try {
    fpsim::validate_mma_model(a);
  } catch (const fpsim::Error& e) {
    fail(kTarget, where + ": the preset does not validate: " + e.what());
  }
  fpsim::MmaModel b;
  try {
    b = fpsim::mma_preset(a.name);
  } catch (const fpsim::Error& e) {
    fail(kTarget, where + ": its name is refused: " + e.what());
  }
  if (b.name != a.name || fpsim::describe_mma_model(a) != fpsim::describe_mma_model(b) ||
      a.promotion_interval != b.promotion_interval)
    fail(kTarget, where + ": its name gives another model");
}

void check_testfloat_function(std::string_view name) {
  const fpsim::cli::TestFloatFunction a = fpsim::cli::parse_testfloat_function(name);
  const std::string canonical = a.name();
  const std::string where = "TestFloat function '" + shown(name) + "' -> '" + shown(canonical) + "'";
  fpsim::cli::TestFloatFunction b;
  try {
    b = fpsim::cli::parse_testfloat_function(canonical);
  } catch (const fpsim::Error& e) {
    fail(kTarget, where + ": its name is refused: " + e.what());
  }
  if (b.name() != canonical || a.is_conversion != b.is_conversion || !same_format(a.from, b.from) ||
      !same_format(a.to, b.to) || a.operand_count() != b.operand_count())
    fail(kTarget, where + ": its name gives another function");
}

void check_testfloat_option(std::string_view option) {
  fpsim::RoundingSpec spec;
  spec.rounding = fpsim::Rounding::sr;  // neither a TestFloat mode nor the default
  spec.tininess = fpsim::Tininess::after;
  const fpsim::cli::TestFloatOption kind = fpsim::cli::apply_testfloat_option(option, spec);
  const std::string list(fpsim::cli::testfloat_option_list());
  // The option is one of the listed words exactly when it is known.
  bool listed = false;
  for (size_t pos = 0; pos <= list.size();) {
    size_t end = list.find(' ', pos);
    if (end == std::string::npos) end = list.size();
    listed = listed || std::string_view(list).substr(pos, end - pos) == option;
    pos = end + 1;
  }
  const bool changed = spec.rounding != fpsim::Rounding::sr || spec.tininess != fpsim::Tininess::after;
  const bool unknown = kind == fpsim::cli::TestFloatOption::unknown;
  if (unknown == listed) fail(kTarget, "TestFloat option '" + shown(option) + "': listed and known disagree");
  if (kind == fpsim::cli::TestFloatOption::rounding && spec.rounding == fpsim::Rounding::sr)
    fail(kTarget, "TestFloat option '" + shown(option) + "' is a mode but set none");
  if (unknown && changed) fail(kTarget, "unknown TestFloat option '" + shown(option) + "' changed the spec");
}

// parse_dims' contract: "RxC" (or, when single, "N" for 1 x N), decimal
// sizes without sign, both positive, the product representable.
std::optional<fpsim::TensorShape> expected_dims(std::string_view t, bool single) {
  auto number = [](std::string_view s) -> std::optional<size_t> {
    if (s.empty()) return std::nullopt;
    size_t v = 0;
    for (const char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      const auto d = size_t(c - '0');
      if (v > (SIZE_MAX - d) / 10) return std::nullopt;
      v = v * 10 + d;
    }
    return v;
  };
  const size_t x = t.find_first_of("xX");
  std::optional<size_t> r, c;
  if (x == std::string_view::npos) {
    if (!single) return std::nullopt;
    r = 1;
    c = number(t);
  } else {
    r = number(t.substr(0, x));
    c = number(t.substr(x + 1));
  }
  if (!r || !c || *r == 0 || *c == 0 || *c > SIZE_MAX / *r) return std::nullopt;
  return fpsim::TensorShape{*r, *c};
}

void check_dims(std::string_view text, bool single) {
  const std::optional<fpsim::TensorShape> want = expected_dims(text, single);
  const std::string where = std::string(single ? "--shape" : "--block") + " '" + shown(text) + "'";
  try {
    const fpsim::TensorShape got = fpsim::cli::parse_dims(text, single ? "--shape" : "--block", single);
    if (!want) fail(kTarget, where + ": accepted, the contract refuses it");
    if (got != *want) fail(kTarget, where + ": read differently from the contract");
    const std::string canonical = std::to_string(got.rows) + "x" + std::to_string(got.cols);
    if (fpsim::cli::parse_dims(canonical, "--block", false) != got)
      fail(kTarget, where + ": '" + canonical + "' reads back differently");
  } catch (const fpsim::OptionError& e) {
    fpsim_fuzz::check_message(kTarget, e.what(), text);
    if (want) fail(kTarget, where + ": refused, the contract accepts it: " + e.what());
  }
}

// parse_whole_number's contract: decimal digits only, a value in [min, max].
void check_whole_number(std::string_view text, uint64_t min, uint64_t max) {
  bool ok = !text.empty();  // digits only, and no more than 2^64 - 1
  uint64_t v = 0;
  for (const char c : text) {
    const auto d = uint64_t(c - '0');
    if (c < '0' || c > '9' || v > (UINT64_MAX - d) / 10) {
      ok = false;
      break;
    }
    v = v * 10 + d;
  }
  const bool want = ok && v >= min && v <= max;
  const std::string where =
      "whole number '" + shown(text) + "' in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  try {
    const uint64_t got = fpsim::cli::parse_whole_number("--n", text, min, max);
    if (!want) fail(kTarget, where + ": accepted, the contract refuses it");
    if (got != v) fail(kTarget, where + ": read as " + std::to_string(got));
  } catch (const fpsim::OptionError& e) {
    fpsim_fuzz::check_message(kTarget, e.what(), text);
    if (want) fail(kTarget, where + ": refused, the contract accepts it: " + e.what());
  }
}

// parse_shard's contract: "i/n", both whole numbers (check_whole_number's
// reading), 0 <= i < n.
void check_shard(std::string_view text) {
  const size_t slash = text.find('/');
  const auto whole = [](std::string_view t, uint64_t& v) {
    v = 0;
    if (t.empty()) return false;
    for (const char c : t) {
      const auto d = uint64_t(c - '0');
      if (c < '0' || c > '9' || v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
    return true;
  };
  uint64_t i = 0, n = 0;
  const bool want = slash != std::string_view::npos && whole(text.substr(0, slash), i) &&
                    whole(text.substr(slash + 1), n) && i < n;
  const std::string where = "shard '" + shown(text) + "'";
  try {
    const fpsim::cli::Shard got = fpsim::cli::parse_shard("--shard", text);
    if (!want) fail(kTarget, where + ": accepted, the contract refuses it");
    if (got.index != i || got.count != n) fail(kTarget, where + ": read as another shard");
  } catch (const fpsim::OptionError& e) {
    fpsim_fuzz::check_message(kTarget, e.what(), text);
    if (want) fail(kTarget, where + ": refused, the contract accepts it: " + e.what());
  }
}

void check_names(uint8_t choice, uint8_t extra, std::string_view name) {
  switch (choice % 13) {
    case 0:
      return check_format(name);
    case 1:
      return check_rounding(name);
    case 2: {
      const fpsim::Overflow o = fpsim::parse_overflow(name);
      if (fpsim::parse_overflow(fpsim::overflow_name(o)) != o) fail(kTarget, "overflow name does not round-trip");
      return;
    }
    case 3: {
      const fpsim::Tininess t = fpsim::parse_tininess(name);
      if (fpsim::parse_tininess(fpsim::tininess_name(t)) != t) fail(kTarget, "tininess name does not round-trip");
      return;
    }
    case 4:
      return check_operation(name);
    case 5:
      return check_quant_scheme(name);
    case 6: {
      const fpsim::E8m0Rule r = fpsim::parse_e8m0_rule(name);
      if (fpsim::parse_e8m0_rule(fpsim::e8m0_rule_name(r)) != r) fail(kTarget, "E8M0 rule name does not round-trip");
      return;
    }
    case 7: {
      const fpsim::ScaleArith a = fpsim::parse_scale_arith(name);
      if (fpsim::parse_scale_arith(fpsim::scale_arith_name(a)) != a)
        fail(kTarget, "scale arith name does not round-trip");
      return;
    }
    case 8:
      return check_mma_preset(name);
    case 9:
      return check_testfloat_function(name);
    case 10:
      return check_testfloat_option(name);
    case 11:
      return check_dims(name, (extra & 1) != 0);
    default: {
      if (extra >= 12) return check_shard(name);
      // The ranges the subcommands use, and the extremes.
      static constexpr std::pair<uint64_t, uint64_t> kRanges[] = {{1, 1000000000000000}, {0, UINT64_MAX}, {1, 64},
                                                                  {0, 0xffffffff},       {1, UINT64_MAX}, {0, 0}};
      const auto& [min, max] = kRanges[extra % std::size(kRanges)];
      return check_whole_number(name, min, max);
    }
  }
}

}  // namespace

int fuzz_names(const uint8_t* data, size_t size) {
  fpsim_fuzz::Bytes in(data, size);
  const uint8_t choice = in.byte();
  const uint8_t extra = (choice / 13) % 16;
  const std::string_view name = in.rest();
  try {
    try {
      check_names(choice, extra, name);
    } catch (const fpsim::Error& e) {
      fpsim_fuzz::check_message(kTarget, e.what(), name);
    }
  } catch (...) {
    fpsim_fuzz::fail_on_unexpected(kTarget, name);
  }
  return 0;
}
