// fpsim_ref::FastOracle: a fast, exact oracle for one arithmetic operation
// (`fpsim verify --oracle fast`), for operand and result formats whose
// significands have at most 24 bits.
//
// It shares no code with sim/ and none with the MPFR oracle's rounding: the
// operation is computed in host doubles with an exact error term (TwoSum,
// exact products, fma residuals), turned into a 53-bit round-to-odd value, and
// rounded into the result format by a table / neighbour-and-midpoint search of
// its own. The argument why this is exact is at the top of
// reference/src/fast_oracle.cpp. The contract is docs/arithmetic-semantics.md.
//
// Thread safety: a FastOracle is immutable after construction; operator() and
// sr_candidates may be called from any number of threads at once. It needs
// the host's default rounding mode (round to nearest) while it runs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fpsim_ref/reference.hpp"

namespace fpsim_ref {

class FastOracle {
 public:
  // True when the oracle handles `op` from operand format `from` (all
  // operands) to result format `to` under `spec`; otherwise false with a
  // sentence in *why (when why is not null).
  static bool supports(RefOp op, const RefFormat& from, const RefFormat& to, const RefSpec& spec,
                       std::string* why = nullptr);

  // Throws std::invalid_argument with supports()'s reason when unsupported.
  // Builds the decode and value tables (up to 2^16 entries each): construct
  // once, call many times.
  FastOracle(RefOp op, const RefFormat& from, const RefFormat& to, const RefSpec& spec);

  // op(a, b, c) rounded with spec.mode: add a+b, sub a-b, mul a*b, div a/b,
  // fma a*b+c, sqrt(a); unused operands are ignored. Throws
  // std::invalid_argument for a code outside `from`.
  RefResult operator()(uint64_t a, uint64_t b = 0, uint64_t c = 0) const;

  // Stochastic rounding's two outcomes (spec.mode ignored): {toward zero,
  // away from zero}. Both equal when the result is exact or special. Each
  // draw that overflows follows the rne row of the overflow table, also a
  // draw toward zero that lands above max; tininess after rounding uses the
  // drawn direction; an exact cancellation gives +0.
  std::pair<RefResult, RefResult> sr_candidates(uint64_t a, uint64_t b = 0, uint64_t c = 0) const;

  RefOp op() const { return op_; }
  const RefFormat& from() const { return from_; }
  const RefFormat& to() const { return to_; }
  const RefSpec& spec() const { return spec_; }

 private:
  enum class Dir : uint8_t { nearest_even, nearest_away, toward_zero, away, odd };
  struct How {
    bool sr = false;
    bool sr_away = false;
  };
  // The operation's outcome before rounding into `to`.
  struct Exact {
    double v = 0;      // 53-bit round-to-odd of the exact result; ±0, ±inf as such
    uint32_t fl = 0;   // flags raised by reading the operands and by the op
    bool nan = false;  // the result is the default NaN
  };

  double decode(uint64_t code, uint32_t& fl) const;
  double decode_bits(uint64_t code) const;
  [[noreturn]] void bad_code(uint64_t code) const;
  bool is_snan(uint64_t code) const;
  Exact evaluate(uint64_t a, uint64_t b, uint64_t c, bool rdn_zero) const;
  RefResult deliver(const Exact& x, How how) const;
  RefResult round_finite(double v, uint32_t fl, How how) const;
  Dir dir_for(bool neg, How how) const;
  static bool take_hi(Dir dir, double a, double lo, double hi, bool lo_odd);
  bool overflow_to_max(bool neg, How how) const;
  RefResult overflow_result(bool neg, uint32_t fl, How how) const;
  RefResult inf_result(bool neg, uint32_t fl) const;
  RefResult default_nan(uint32_t fl) const;
  uint64_t zero_code(bool neg) const;
  uint64_t signed_code(uint64_t mag, bool neg) const { return mag | (neg ? to_sign_ : 0); }
  void neighbours(double a, double& lo, double& hi, uint64_t& lo_mag, bool& lo_odd) const;

  RefOp op_;
  RefFormat from_, to_;
  RefSpec spec_;

  // Operand decoding.
  enum class Decode : uint8_t { table, fp32, tf32, bits } decode_kind_ = Decode::table;
  std::vector<double> decode_table_;  // 2^bits values (NaN / ±inf included), bits <= 16
  uint64_t from_count_ = 0;           // number of valid operand codes

  // Result grid.
  bool to_table_ = true;         // <= 16 bits: sorted table; else quantum arithmetic
  std::vector<double> to_vals_;  // to_vals_[m] = value of magnitude code m, m = 0 .. max_code
  double max_ = 0;               // largest finite value
  double phantom_ = 0;           // the grid value above max (code max_code + 1)
  double min_normal_ = 0;
  double below_min_normal_ = 0;  // largest p-bit value below min_normal (unbounded exponent)
  bool below_min_normal_odd_ = false;
  uint64_t to_sign_ = 0;
};

}  // namespace fpsim_ref
