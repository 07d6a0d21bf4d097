#include "testfloat_check.hpp"

#include <charconv>
#include <cstdio>
#include <istream>
#include <ostream>

#include "code_text.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"

namespace fpsim::cli {

TestFloatFunction parse_testfloat_function(std::string_view name) {
  const size_t sep = name.find("_to_");
  if (sep == std::string_view::npos)
    throw OptionError("unknown TestFloat function '" + std::string(name) +
                      "' (expected a conversion such as f32_to_f16, f32_to_bf16, f64_to_f32, f16_to_f32)");
  return {parse_format(name.substr(0, sep)), parse_format(name.substr(sep + 4))};
}

bool apply_testfloat_option(std::string_view option, RoundingSpec& spec) {
  // TestFloat's mode names (spec/formats.md §6).
  struct Name {
    std::string_view option;
    Rounding mode;
  };
  constexpr Name kModes[] = {{"-rnear_even", Rounding::rne}, {"-rnear_maxMag", Rounding::rna},
                             {"-rminMag", Rounding::rtz},    {"-rmax", Rounding::rup},
                             {"-rmin", Rounding::rdn},       {"-rodd", Rounding::rto}};
  for (const Name& n : kModes) {
    if (option == n.option) {
      spec.rounding = n.mode;
      return true;
    }
  }
  if (option == "-tininessbefore") {
    spec.tininess = Tininess::before;
    return true;
  }
  if (option == "-tininessafter") {
    spec.tininess = Tininess::after;
    return true;
  }
  return false;
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
    const auto [p, ec] = std::from_chars(line.data() + pos, line.data() + end, v, 16);
    if (ec != std::errc() || p != line.data() + end) return false;
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
  while (std::getline(in, raw)) {
    ++line_number;
    const std::string_view line = trim(raw);
    if (!split_hex_words(line, words) || words.size() != 3 || !fn.from.valid_code(words[0]) ||
        !fn.to.valid_code(words[1]) || words[2] > 0xFF) {
      ++tally.malformed;
      if (reported++ < max_reported)
        report << "line " << line_number << ": malformed vector '" << line
               << "' (expected: input hex, result hex, flags as two hex digits)\n";
      continue;
    }
    Flags fl;
    const uint64_t got = convert(words[0], fn.from, fn.to, spec, fl);
    const uint32_t got_flags = fl.bits & Flags::ieee_mask;
    const bool both_nan = fn.to.is_nan_code(got) && fn.to.is_nan_code(words[1]);
    if ((got == words[1] || both_nan) && got_flags == words[2]) {
      ++tally.passed;
      continue;
    }
    ++tally.failed;
    if (reported++ < max_reported) {
      char flags_text[32];
      std::snprintf(flags_text, sizeof flags_text, "%02x expected %02llx", got_flags,
                    static_cast<unsigned long long>(words[2]));
      report << "line " << line_number << ": " << fn.from.name << "_to_" << fn.to.name << "("
             << format_hex_code(words[0], fn.from) << ") = " << format_hex_code(got, fn.to) << " expected "
             << format_hex_code(words[1], fn.to) << ", flags " << flags_text << '\n';
    }
  }
  return tally;
}

}  // namespace fpsim::cli
