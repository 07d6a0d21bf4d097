// Test helper: one rounding variant expressed both as sim's RoundingSpec and
// as the reference's RefSpec, so the two sides are driven identically.
#pragma once

#include <string>

#include "fpsim/format_table.hpp"
#include "fpsim/rounding_spec.hpp"
#include "fpsim_ref/reference.hpp"

namespace fpsim::test {

struct SpecCase {
  Rounding rounding;
  Overflow overflow;
  bool ftz;
  bool daz;
  Tininess tininess;

  RoundingSpec sim() const {
    RoundingSpec rs;
    rs.rounding = rounding;
    rs.overflow = overflow;
    rs.ftz = ftz;
    rs.daz = daz;
    rs.tininess = tininess;
    return rs;
  }
  std::string name() const {
    RoundingSpec rs = sim();
    return rounding_name(rs) + " " + std::string(overflow_name(overflow)) + (ftz ? " ftz" : "") + (daz ? " daz" : "") +
           (tininess == Tininess::before ? " tininess-before" : "");
  }
};

inline fpsim_ref::RefMode ref_mode_of(Rounding r) {
  switch (r) {
    case Rounding::rne:
      return fpsim_ref::RefMode::rne;
    case Rounding::rna:
      return fpsim_ref::RefMode::rna;
    case Rounding::rtz:
      return fpsim_ref::RefMode::rtz;
    case Rounding::rup:
      return fpsim_ref::RefMode::rup;
    case Rounding::rdn:
      return fpsim_ref::RefMode::rdn;
    case Rounding::rto:
    case Rounding::sr:  // the reference takes sr through ref_stochastic; the mode is unused there
      break;
  }
  return fpsim_ref::RefMode::rto;
}

inline fpsim_ref::RefSpec ref_spec_of(const SpecCase& sc) {
  fpsim_ref::RefSpec r;
  r.mode = ref_mode_of(sc.rounding);
  r.saturate = sc.overflow == Overflow::saturate;
  r.ftz = sc.ftz;
  r.daz = sc.daz;
  r.tininess_before = sc.tininess == Tininess::before;
  return r;
}

}  // namespace fpsim::test
