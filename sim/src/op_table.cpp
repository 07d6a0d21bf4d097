#include "fpsim/op_table.hpp"

#include <string>

#include "fpsim/error.hpp"

namespace fpsim {

namespace {

// Every flag fpsim raises fits the entry's high byte.
static_assert((Flags::inexact | Flags::underflow | Flags::overflow | Flags::infinite | Flags::invalid |
               Flags::saturated | Flags::flushed) <= 0xFF);

void require_small(const Format& f, const char* role) {
  if (f.bits > 8 || f.value_bits() > 8)
    throw FormatError(std::string("operation tables need formats of at most 8 bits; the ") + role + " format '" +
                      f.name + "' has " + std::to_string(int(f.bits)));
}

}  // namespace

BinaryOpTable::BinaryOpTable(ArithOp op, const Format& in, const Format& out, const RoundingSpec& rs)
    : op_(op), in_(in), out_(out), rs_(rs) {
  if (arity(op) != 2) throw OptionError("operation tables are for the binary operations add, sub, mul and div");
  if (rs.rounding == Rounding::sr)
    throw OptionError(
        "operation tables need a deterministic rounding mode: stochastic rounding draws a random number per "
        "element");
  require_small(in, "input");
  require_small(out, "output");
  shift_ = in.value_bits();
  mask_ = (size_t{1} << shift_) - 1;
  const uint64_t n = in.code_count();
  entries_.resize(size_t(n) * size_t(n));
  for (uint64_t a = 0; a < n; ++a)
    for (uint64_t b = 0; b < n; ++b) {
      Flags fl;
      const uint64_t code = arith(op, a, b, 0, in, out, rs, fl);
      entries_[index(a, b)] = uint16_t(code | (uint64_t{fl.bits} << 8));
    }
}

void BinaryOpTable::apply(const uint8_t* a, const uint8_t* b, uint8_t* out, size_t n, Flags& fl) const {
  const uint16_t* table = entries_.data();
  uint32_t flags = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint16_t e = table[index(a[i], b[i])];
    flags |= e;
    out[i] = uint8_t(e);
  }
  fl.raise(flags >> 8);
}

}  // namespace fpsim
