// fuzz_sweep_toml: the sweep-file reader (docs/training.md, "Sweep files"):
// experiments' parse_sweep_config on the bytes as TOML text named fuzz.toml.
//
// - Accepted: the canonical text (sweep_config_to_toml) parses again to the
//   same canonical text (the writer loses nothing the reader keeps); fp32 is
//   among the recipes; the run list is models × seeds × recipes plus models
//   × seeds × noise seeds, with unique directory names; every run's
//   configuration validates.
// - Refused: a ConfigError, or an IoError for a recipe file that cannot be
//   read (no other exception), whose message is one line, shorter than
//   2,000 bytes whatever the input's length, with every control byte and
//   invalid UTF-8 escaped.
//
// The target reads no file but the built-in recipes: an input whose
// `recipes` name a file (a string holding '/' or ending in .toml) is skipped
// before parse_sweep_config sees it.
#include <toml++/toml.h>

#include <set>
#include <string>
#include <string_view>

#include "fpsim/error.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/sweep.hpp"
#include "fuzz_check.hpp"
#include "fuzz_targets.hpp"

namespace {

using fpsim_fuzz::fail;
using fpsim_fuzz::shown;
namespace ex = fpsim::experiments;

constexpr const char* kTarget = "sweep_toml";

// Whether the sweep file names only built-in recipes (or is not TOML, or
// has no recipe list of strings: then it reads no file).
bool reads_no_file(std::string_view text) {
  toml::table doc;
  try {
    doc = toml::parse(text, std::string_view("fuzz.toml"));
  } catch (const toml::parse_error&) {
    return true;
  }
  const toml::node* r = doc.get("recipes");
  if (r == nullptr || !r->is_array()) return true;
  for (const toml::node& e : *r->as_array()) {
    if (!e.is_string()) continue;
    const std::string_view s = *e.value<std::string_view>();
    if (s.find('/') != std::string_view::npos || s.ends_with(".toml")) return false;
  }
  return true;
}

void check_accepted(const ex::SweepConfig& c, std::string_view input) {
  const std::string first = ex::sweep_config_to_toml(c);
  ex::SweepConfig again;
  try {
    again = ex::parse_sweep_config(first, "canonical.toml");
  } catch (const fpsim::Error& e) {
    fail(kTarget, "the canonical text is refused (" + std::string(e.what()) + "): '" + shown(first) +
                      "' from input '" + shown(input) + "'");
  }
  const std::string second = ex::sweep_config_to_toml(again);
  if (second != first)
    fail(kTarget, "the canonical text reads back as another sweep: '" + shown(first) + "' -> '" + shown(second) + "'");
  bool fp32 = false;
  for (const std::string& r : c.recipes) fp32 = fp32 || r == "fp32";
  if (!fp32) fail(kTarget, "accepted a sweep without the fp32 reference: '" + shown(input) + "'");
  const std::vector<ex::SweepRun> runs = ex::sweep_runs(c);
  const size_t want = c.models.size() * c.seeds.size() * (c.recipes.size() + c.noise_data_seeds.size());
  if (runs.size() != want)
    fail(kTarget, "run list of " + std::to_string(runs.size()) + " runs, not " + std::to_string(want));
  std::set<std::string> ids;
  for (const ex::SweepRun& r : runs) {
    if (!ids.insert(r.id).second) fail(kTarget, "two runs share the directory '" + shown(r.id) + "'");
    try {
      (void)ex::sweep_run_config(c, r);
    } catch (const fpsim::Error& e) {
      fail(kTarget, "accepted sweep's run " + shown(r.id) + " does not validate (" + e.what() + ")");
    }
  }
}

}  // namespace

int fuzz_sweep_toml(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    if (!reads_no_file(input)) return 0;
    try {
      check_accepted(ex::parse_sweep_config(input, "fuzz.toml"), input);
    } catch (const ex::ConfigError& e) {
      fpsim_fuzz::check_message(kTarget, e.what(), input);
    } catch (const fpsim::IoError& e) {
      fpsim_fuzz::check_message(kTarget, e.what(), input);
    }
  } catch (...) {
    fpsim_fuzz::fail_on_unexpected(kTarget, input);
  }
  return 0;
}
