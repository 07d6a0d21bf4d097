// Checking Berkeley TestFloat vectors (testfloat_gen output) for conversions
// ("<input> <expected> <flags>") and operations ("<a> <b> [<c>] <expected>
// <flags>", comparisons with expected 0 or 1), all in hex. A NaN result
// matches any NaN; every other result must match bit for bit, and the five
// IEEE flags exactly (docs/cli.md, "fpsim testfloat").
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/format.hpp"
#include "fpsim/operation.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim::cli {

struct TestFloatFunction {
  bool is_conversion = true;
  Format from{};  // conversions: the source; operations: the operands' format
  Format to{};    // the result's format
  Operation op{};  // operations only

  int operand_count() const { return is_conversion ? 1 : op.arity(); }
  std::string name() const;
};

// "f32_to_f16", "bf16_to_f32", ...: a conversion between any two formats
// fpsim knows; "f16_add", "f32_mulAdd", "f16_eq", "f32_lt_quiet", ...: an
// operation (fpsim::parse_operation) on one format. Throws FormatError /
// OptionError.
TestFloatFunction parse_testfloat_function(std::string_view name);

enum class TestFloatOption { unknown, rounding, tininess };

// "-rnear_even" ... "-rodd", "-tininessbefore", "-tininessafter" applied to
// spec; says which kind of option it was (unknown: spec unchanged).
TestFloatOption apply_testfloat_option(std::string_view option, RoundingSpec& spec);

// Every option apply_testfloat_option knows, for messages.
std::string testfloat_option_list();

// What a vector line of `fn` holds, for messages.
std::string testfloat_layout(const TestFloatFunction& fn);

struct TestFloatTally {
  uint64_t passed = 0;
  uint64_t failed = 0;     // wrong result or flags
  uint64_t malformed = 0;  // lines that are not vectors
};

// Reads vectors from `in`, writes one line per mismatch or malformed line to
// `report` (at most max_reported in all; "stdin line N: ..."), returns the counts.
TestFloatTally check_testfloat_vectors(std::istream& in, const TestFloatFunction& fn, const RoundingSpec& spec,
                                       std::ostream& report, uint64_t max_reported = 100);

}  // namespace fpsim::cli
