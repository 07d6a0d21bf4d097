// The oracles `fpsim verify` compares sim with (docs/verification.md): the
// MPFR reference, the fast oracle (exact double arithmetic with an
// independent rounding) and this CPU's own arithmetic, behind one interface.
// Separate from verify_command.cpp, which plans, runs and reports the cases
// and does not care which oracle answers.
#pragma once

#include <cstdint>
#include <memory>

#include "fpsim/format.hpp"
#include "fpsim/operation.hpp"
#include "fpsim/rounding_spec.hpp"
#include "fpsim_ref/reference.hpp"
#include "option_values.hpp"

namespace fpsim::cli::verify {

// What the oracle expects for one case: one outcome, or (stochastic
// rounding) either of two.
struct Expected {
  uint64_t code = 0;
  uint32_t flags = 0;
  bool has_second = false;
  uint64_t code2 = 0;
  uint32_t flags2 = 0;
};

// One verification setting: operation, formats and rounding spec.
struct Setting {
  Operation op;
  Format from{};
  Format to{};
  RoundingSpec spec;
  fpsim_ref::RefSpec ref_spec;
  const fpsim_ref::RefFormat* ref_from = nullptr;
  const fpsim_ref::RefFormat* ref_to = nullptr;
};

class Oracle {
 public:
  virtual ~Oracle() = default;
  virtual Expected expect(const uint64_t* operands) const = 0;
  // Whether NaN results match any NaN and only the five IEEE flags count
  // (a hardware oracle's NaN encodings and extra flags are its own).
  virtual bool ieee_view_only() const { return false; }
};

// sr: the reference's stochastic entry points ignore the mode.
fpsim_ref::RefMode ref_mode(Rounding r);

// --oracle: which oracle answers.
enum class OracleKind { mpfr, fast, hw };
constexpr NamedValue<OracleKind> kOracleNames[] = {
    {"mpfr", OracleKind::mpfr}, {"fast", OracleKind::fast}, {"hw", OracleKind::hw}};

// The oracle of `kind` for setting `s`. Throws OptionError, with the reason,
// when that oracle cannot check this operation, format or mode.
std::unique_ptr<Oracle> make_oracle(OracleKind kind, const Setting& s);

}  // namespace fpsim::cli::verify
