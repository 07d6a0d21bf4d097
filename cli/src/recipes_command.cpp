#include "recipes_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <vector>

#include "command_errors.hpp"
#include "fpsim/experiments/recipe.hpp"

namespace fpsim::cli {

int run_recipes(const RecipesOptions& options, std::ostream& out, std::ostream& err) {
  return exit_status_of("recipes", err, [&] {
    if (options.show) {
      out << experiments::recipe_to_toml(experiments::load_recipe(*options.show));
      return 0;
    }
    const std::vector<std::string> names = experiments::builtin_recipe_names();
    size_t width = 0;
    for (const std::string& n : names) width = std::max(width, n.size());
    for (const std::string& n : names)
      out << n << std::string(width + 2 - n.size(), ' ') << experiments::load_recipe(n).description << '\n';
    return 0;
  });
}

void add_recipes_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RecipesOptions>();
  CLI::App* cmd = app.add_subcommand(
      "recipes",
      "List the built-in precision recipes (docs/training.md, \"Recipes\") with their descriptions. With --show, "
      "print one recipe, a built-in or a TOML file, resolved (its `extends` chain applied) as TOML with every "
      "field.");
  cmd->add_option_function<std::string>(
         "--show", [o](const std::string& v) { o->show = v; },
         "a built-in recipe name or a path to a .toml file (one containing '/' or ending in .toml)")
      ->type_name("NAME|FILE");
  cmd->callback([o, &exit_code] { exit_code = run_recipes(*o, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
