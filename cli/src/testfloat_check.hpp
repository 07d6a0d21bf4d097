// Checking Berkeley TestFloat vectors (testfloat_gen output) for conversion
// functions: "<input hex> <expected hex> <flags hex>" per line. A NaN result
// matches any NaN; every other result must match bit for bit, and the five
// IEEE flags exactly (shared/conformance/README.md).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim::cli {

struct TestFloatFunction {
  Format from{};
  Format to{};
};

// "f32_to_f16", "bf16_to_f32", ...: any two formats fpsim knows. Throws
// FormatError / OptionError.
TestFloatFunction parse_testfloat_function(std::string_view name);

// "-rnear_even" ... "-rodd", "-tininessbefore", "-tininessafter" applied to spec.
// Returns false for an unknown option.
bool apply_testfloat_option(std::string_view option, RoundingSpec& spec);

struct TestFloatTally {
  uint64_t passed = 0;
  uint64_t failed = 0;     // wrong result or flags
  uint64_t malformed = 0;  // lines that are not vectors
};

// Reads vectors from `in`, writes one line per mismatch or malformed line to
// `report` (at most max_reported of each), returns the counts.
TestFloatTally check_testfloat_vectors(std::istream& in, const TestFloatFunction& fn, const RoundingSpec& spec,
                                       std::ostream& report, uint64_t max_reported = 100);

}  // namespace fpsim::cli
