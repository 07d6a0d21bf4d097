#include "testfloat_check.hpp"

#include <istream>
#include <ostream>

#include "code_text.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::cli {

std::string TestFloatFunction::name() const {
  std::string n(from.name);
  if (is_conversion) {
    n += "_to_";
    n += to.name;
  } else {
    n += '_';
    n += op.name();
  }
  return n;
}

TestFloatFunction parse_testfloat_function(std::string_view name) {
  TestFloatFunction fn;
  const size_t sep = name.find("_to_");
  if (sep != std::string_view::npos) {
    fn.from = parse_format(name.substr(0, sep));
    fn.to = parse_format(name.substr(sep + 4));
    return fn;
  }
  const size_t underscore = name.find('_');
  if (underscore == std::string_view::npos)
    throw OptionError("unknown TestFloat function " + quoted_text(name) +
                      " (expected a conversion such as f32_to_f16 or an operation such as f16_add, f32_mulAdd, "
                      "f16_eq, f32_lt_quiet)");
  fn.is_conversion = false;
  fn.from = parse_format(name.substr(0, underscore));
  fn.to = fn.from;
  fn.op = parse_operation(name.substr(underscore + 1));
  return fn;
}

namespace {

// TestFloat's option names (docs/cli.md, "fpsim testfloat").
struct ModeName {
  std::string_view option;
  Rounding mode;
};
constexpr ModeName kModeNames[] = {{"-rnear_even", Rounding::rne}, {"-rnear_maxMag", Rounding::rna},
                                   {"-rminMag", Rounding::rtz},    {"-rmin", Rounding::rdn},
                                   {"-rmax", Rounding::rup},       {"-rodd", Rounding::rto}};
struct TininessName {
  std::string_view option;
  Tininess tininess;
};
constexpr TininessName kTininessNames[] = {{"-tininessafter", Tininess::after}, {"-tininessbefore", Tininess::before}};

}  // namespace

TestFloatOption apply_testfloat_option(std::string_view option, RoundingSpec& spec) {
  for (const ModeName& n : kModeNames) {
    if (option == n.option) {
      spec.rounding = n.mode;
      return TestFloatOption::rounding;
    }
  }
  for (const TininessName& n : kTininessNames) {
    if (option == n.option) {
      spec.tininess = n.tininess;
      return TestFloatOption::tininess;
    }
  }
  return TestFloatOption::unknown;
}

std::string testfloat_option_list() {
  std::string list;
  for (const ModeName& n : kModeNames) list.append(list.empty() ? "" : " ").append(n.option);
  for (const TininessName& n : kTininessNames) list.append(" ").append(n.option);
  return list;
}

std::string testfloat_layout(const TestFloatFunction& fn) {
  if (fn.is_conversion) return "input hex, result hex, flags as two hex digits";
  const bool returns_code = fn.op.returns_code();
  return std::to_string(fn.operand_count()) + " operand" + (fn.operand_count() > 1 ? "s" : "") + " in hex, " +
         (returns_code ? "result hex" : "result 0 or 1") + ", flags as two hex digits";
}

namespace {

// The hex words of a line; false when a token is not hex.
bool split_hex_words(std::string_view line, std::vector<uint64_t>& words) {
  words.clear();
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    if (pos == line.size()) break;
    size_t end = pos;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
    uint64_t v = 0;
    if (!read_hex_digits(line.substr(pos, end - pos), v)) return false;
    words.push_back(v);
    pos = end;
  }
  return true;
}

}  // namespace

TestFloatTally check_testfloat_vectors(std::istream& in, const TestFloatFunction& fn, const RoundingSpec& spec,
                                       std::ostream& report, uint64_t max_reported) {
  TestFloatTally tally;
  std::string raw;
  std::vector<uint64_t> words;
  uint64_t line_number = 0;
  uint64_t reported = 0;
  const bool returns_code = fn.is_conversion || fn.op.returns_code();
  const std::string expected_layout = testfloat_layout(fn);
  while (std::getline(in, raw)) {
    ++line_number;
    const std::string_view line = trim(raw);
    const size_t n = size_t(fn.operand_count());
    bool valid = split_hex_words(line, words) && words.size() == n + 2 && words[n + 1] <= 0xFF;
    for (size_t i = 0; valid && i < n; ++i) valid = fn.from.valid_code(words[i]);
    if (valid) valid = returns_code ? fn.to.valid_code(words[n]) : words[n] <= 1;
    if (!valid) {
      ++tally.malformed;
      if (reported++ < max_reported)
        report << "stdin line " << line_number << ": malformed vector " << quoted_text(line)
               << " (expected: " << expected_layout << ")\n";
      continue;
    }
    Flags fl;
    const uint64_t got = fn.is_conversion ? convert(words[0], fn.from, fn.to, spec, fl)
                                          : evaluate(fn.op, words.data(), fn.from, fn.to, spec, fl);
    const uint32_t got_flags = fl.bits & Flags::ieee_mask;
    const bool both_nan = returns_code && fn.to.is_nan_code(got) && fn.to.is_nan_code(words[n]);
    if ((got == words[n] || both_nan) && got_flags == words[n + 1]) {
      ++tally.passed;
      continue;
    }
    ++tally.failed;
    if (reported++ < max_reported) {
      report << "stdin line " << line_number << ": " << fn.name() << "(";
      for (size_t i = 0; i < n; ++i) report << (i ? ", " : "") << format_hex_code(words[i], fn.from);
      if (returns_code)
        report << ") = " << format_hex_code(got, fn.to) << " expected " << format_hex_code(words[n], fn.to);
      else
        report << ") = " << got << " expected " << words[n];
      report << ", flags " << flags_hex(got_flags) << " expected " << flags_hex(uint32_t(words[n + 1])) << '\n';
    }
  }
  return tally;
}

}  // namespace fpsim::cli
