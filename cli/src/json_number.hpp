// Numbers in the subcommands' JSON output. JSON has no inf or NaN: those are
// the strings "inf", "-inf" and "nan" (code_text.hpp's names), everything
// else a JSON number (nlohmann writes the shortest form that reads back).
// Separate from code_text.hpp, which the fuzz build compiles without JSON.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>

#include "code_text.hpp"

namespace fpsim::cli {

inline nlohmann::ordered_json json_number(double v) {
  if (std::isfinite(v)) return v;
  return nonfinite_text(v, NanSign::hidden);
}

}  // namespace fpsim::cli
