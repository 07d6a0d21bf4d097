// fuzz_recipe_toml: the precision-recipe reader of the training runner
// (docs/training.md, "Recipe files"): experiments' parse_recipe on the bytes
// as TOML text, named as the file fuzz.toml in the built-in recipes' folder
// (so an `extends` of a built-in's name or of a sibling file resolves
// there, and extends = "fuzz.toml" is a cycle).
//
// - Accepted: recipe_to_toml of the recipe (every field resolved, no
//   `extends`) parses again, and that recipe's TOML is the same text (the
//   header comment's "(it extends ...)" aside): the writer loses nothing the
//   reader keeps. Each of its four GEMM policies passes
//   validate_gemm_policy, as the reader's checks promise; its `extends`
//   holds no NUL byte (open() would have read a shorter path).
// - Refused: a ConfigError, or an IoError for an `extends` file that cannot
//   be read (no other exception, fpsim::Error's other subclasses included),
//   whose message is one line, shorter than 2,000 bytes whatever the
//   input's length, with every control byte and invalid UTF-8 escaped.
//
// The target reads no file but the built-in recipes: an input whose
// top-level `extends` is a path (it contains '/' or ends in .toml) that is
// absolute or has a ".." component is skipped before parse_recipe sees it,
// so every path it can name lies in the recipes' folder (a NUL byte, where
// open() would stop, is refused by parse_recipe itself). The input is parsed with toml++ first to find that
// value exactly (escapes and all); nested `extends` come from the built-in
// files only.
#include <toml++/toml.h>

#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "fpsim/error.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fuzz_check.hpp"
#include "fuzz_targets.hpp"

namespace {

using fpsim_fuzz::fail;
using fpsim_fuzz::shown;
namespace ex = fpsim::experiments;

constexpr const char* kTarget = "recipe_toml";

// Whether parse_recipe may see `text`: its `extends`, if it names a file,
// stays in the recipes' folder (see above). Text that is not TOML, or whose
// `extends` is no string, reads no file and is parsed.
bool extends_stays_in_folder(std::string_view text) {
  toml::table doc;
  try {
    doc = toml::parse(text, std::string_view("fuzz.toml"));
  } catch (const toml::parse_error&) {
    return true;
  }
  const toml::node* e = doc.get("extends");
  if (e == nullptr || !e->is_string()) return true;
  const std::string_view parent = *e->value<std::string_view>();
  // recipe_toml.cpp's rule for a path (docs/training.md, "Recipe files").
  if (parent.find('/') == std::string_view::npos && !parent.ends_with(".toml")) return true;
  if (parent.starts_with('/')) return false;
  for (size_t pos = 0; pos <= parent.size();) {
    size_t end = parent.find('/', pos);
    if (end == std::string_view::npos) end = parent.size();
    if (parent.substr(pos, end - pos) == "..") return false;
    pos = end + 1;
  }
  return true;
}

// The TOML of `r` with the header comment's "(it extends ...)" left out:
// what recipe_to_toml writes for the same fields and no parent.
std::string written(ex::Recipe r) {
  r.extends.clear();
  return ex::recipe_to_toml(r);
}

void check_accepted(const ex::Recipe& r, std::string_view input, const std::string& source) {
  if (r.extends.find('\0') != std::string::npos)
    fail(kTarget, "accepted a NUL byte in extends '" + shown(r.extends) + "' (open() reads a shorter path)");
  const std::pair<const char*, const ex::GemmPolicy*> policies[] = {
      {"fprop", &r.fprop}, {"dgrad", &r.dgrad}, {"wgrad", &r.wgrad}, {"attention", &r.attention}};
  for (const auto& [role, policy] : policies) {
    try {
      ex::validate_gemm_policy(*policy, role);
    } catch (const ex::ConfigError& e) {
      fail(kTarget, std::string("accepted recipe's ") + role + " policy does not validate (" + e.what() +
                        ") for input '" + shown(input) + "'");
    }
  }
  const std::string first = written(r);
  ex::Recipe again;
  try {
    again = ex::parse_recipe(first, source);
  } catch (const fpsim::Error& e) {
    fail(kTarget, "recipe_to_toml's text is refused (" + std::string(e.what()) + "): '" + shown(first) +
                      "' from input '" + shown(input) + "'");
  }
  if (!again.extends.empty()) fail(kTarget, "recipe_to_toml's text has an extends: '" + shown(first) + "'");
  const std::string second = written(again);
  if (second != first)
    fail(kTarget, "recipe_to_toml's text reads back as another recipe: '" + shown(first) + "' -> '" + shown(second) +
                      "' from input '" + shown(input) + "'");
}

}  // namespace

int fuzz_recipe_toml(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    if (!extends_stays_in_folder(input)) return 0;
    // Built once: the folder builtin_recipe_dir() names (FPSIM_RECIPES_DIR
    // or the source tree's experiments/recipes).
    static const std::string source = (ex::builtin_recipe_dir() / "fuzz.toml").string();
    try {
      const ex::Recipe r = ex::parse_recipe(input, source);
      if (r.name != "fuzz") fail(kTarget, "recipe named '" + shown(r.name) + "', not after its file 'fuzz'");
      check_accepted(r, input, source);
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
