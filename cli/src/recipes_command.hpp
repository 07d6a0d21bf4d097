// `fpsim recipes`: the built-in precision recipes with their descriptions,
// or one recipe (a built-in or a TOML file, `extends` resolved) printed as
// TOML with every field (docs/cli.md; docs/training.md, "Recipes").
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace fpsim::cli {

struct RecipesOptions {
  std::optional<std::string> show;  // a built-in name or a path to a .toml file
};

// Prints the list (name and description, one built-in a line) or, with
// `show`, the resolved recipe as TOML. Returns 0; 2 for bad input (unknown
// name, a malformed recipe: one line "fpsim recipes: ..." on `err`); 1 when
// a file cannot be read.
int run_recipes(const RecipesOptions& options, std::ostream& out, std::ostream& err);

void add_recipes_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
