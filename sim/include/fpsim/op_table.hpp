// Generated lookup tables for binary operations on formats of at most 8 bits
// (docs/architecture.md: 8-bit formats may use lookup tables when that is faster, as
// long as the tables are generated from the core and tested against it).
// A BinaryOpTable is filled at construction by calling fpsim::arith for every
// pair of codes; nothing in it is written by hand. Only deterministic
// rounding: stochastic rounding draws a fresh random number per element
// (keyed by the element index), so one table entry cannot stand for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fpsim/arith.hpp"
#include "fpsim/flags.hpp"
#include "fpsim/format.hpp"
#include "fpsim/rounding_spec.hpp"

namespace fpsim {

class BinaryOpTable {
 public:
  // op is add, sub, mul or div; `in` is the operands' format and `out` the
  // result's, both of at most 8 bits (FormatError otherwise); rs.rounding
  // must not be sr (OptionError). fma and sqrt are not binary (OptionError).
  BinaryOpTable(ArithOp op, const Format& in, const Format& out, const RoundingSpec& rs);
  BinaryOpTable(ArithOp op, const Format& f, const RoundingSpec& rs) : BinaryOpTable(op, f, f, rs) {}

  // The core's result for codes a, b of the input format (each below
  // 2^in.value_bits(); higher bits are ignored), raising the core's flags.
  uint64_t apply(uint64_t a, uint64_t b, Flags& fl) const {
    const uint16_t e = entries_[index(a, b)];
    fl.raise(e >> 8);
    return e & 0xFF;
  }

  // out[i] = apply(a[i], b[i]) for i < n; the flags of all elements are
  // ORed into fl.
  void apply(const uint8_t* a, const uint8_t* b, uint8_t* out, size_t n, Flags& fl) const;

  ArithOp op() const { return op_; }
  const Format& input_format() const { return in_; }
  const Format& output_format() const { return out_; }
  const RoundingSpec& rounding_spec() const { return rs_; }

 private:
  size_t index(uint64_t a, uint64_t b) const { return ((size_t(a) & mask_) << shift_) | (size_t(b) & mask_); }

  ArithOp op_;
  Format in_;
  Format out_;
  RoundingSpec rs_;
  int shift_ = 0;    // in_.value_bits()
  size_t mask_ = 0;  // 2^shift_ - 1
  // Result code in the low byte, the flags (all fit in 7 bits) in the high
  // byte: one load per lookup.
  std::vector<uint16_t> entries_;
};

}  // namespace fpsim
