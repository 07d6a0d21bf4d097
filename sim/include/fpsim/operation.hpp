// Operations by name, for the command line and for tests that sweep every
// operation: the six arithmetic operations, the IEEE 754 comparisons and
// minimum/maximum(Number) (docs/arithmetic-semantics.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/flags.hpp"
#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim {

enum class OpKind : uint8_t { arith, compare, min_max };

struct Operation {
  OpKind kind = OpKind::arith;
  ArithOp arith = ArithOp::add;             // kind == arith
  Comparison comparison = Comparison::eq;   // kind == compare
  bool signaling = false;                   // kind == compare
  MinMax min_max = MinMax::minimum;         // kind == min_max

  int arity() const;
  // Canonical name: "add", "fma", "eq", "lt" (signaling), "lt_quiet",
  // "eq_signaling", "minimum_number", ...
  std::string name() const;
  // True when the result is a code of the output format (false for
  // comparisons, whose result is 0 or 1).
  bool returns_code() const { return kind != OpKind::compare; }
};

// Canonical names and aliases: add sub mul div fma (also mulAdd) sqrt;
// eq (quiet), lt and le (signaling, as IEEE 754's compareSignalingLess and
// C's <), unordered (quiet), with explicit _quiet / _signaling variants;
// minimum maximum minimum_number maximum_number. Throws OptionError naming
// the valid names.
Operation parse_operation(std::string_view name);
std::vector<std::string> operation_names();

// Applies op to operands[0 .. arity) of format f, result in `out`;
// comparisons return 0 or 1.
uint64_t evaluate(const Operation& op, const uint64_t* operands, const Format& f, const Format& out,
                  const RoundingSpec& rs, Flags& fl, uint64_t index = 0);

}  // namespace fpsim
