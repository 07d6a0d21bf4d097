// `fpsim recipes`: the list and --show, driven in-process (docs/cli.md).
#include "recipes_command.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/experiments/recipe.hpp"

namespace fpsim::cli {
namespace {

struct Outcome {
  int status = 0;
  std::string out, err;
};

Outcome run(std::optional<std::string> show) {
  RecipesOptions o;
  o.show = std::move(show);
  std::ostringstream out, err;
  const int status = run_recipes(o, out, err);
  return {status, out.str(), err.str()};
}

TEST(RecipesCommand, ListsTheTwelveBuiltinsOneALineWithTheirDescriptions) {
  const Outcome r = run(std::nullopt);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  std::istringstream lines(r.out);
  std::string line;
  size_t n = 0;
  const std::vector<std::string> names = experiments::builtin_recipe_names();
  while (std::getline(lines, line)) {
    ASSERT_LT(n, names.size());
    EXPECT_EQ(line.substr(0, names[n].size() + 1), names[n] + " ") << line;
    EXPECT_NE(line.find(experiments::load_recipe(names[n]).description), std::string::npos) << line;
    ++n;
  }
  EXPECT_EQ(n, 12u);
}

TEST(RecipesCommand, ShowPrintsTheResolvedRecipeAsToml) {
  const Outcome r = run("bf16-pure-sr");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("\nupdate_rounding = \"sr\"\n"), std::string::npos);
  EXPECT_NE(r.out.find("\nmaster_format = \"bf16\"\n"), std::string::npos);  // from bf16-pure-rne
  EXPECT_EQ(r.out.find("\nextends ="), std::string::npos);
}

TEST(RecipesCommand, UnknownNameIsExitTwoWithTheBuiltinsListed) {
  const Outcome r = run("fp8-curent");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("fpsim recipes: unknown recipe 'fp8-curent'; built-in recipes: fp32, tf32, ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line";
}

TEST(RecipesCommand, MissingFileIsExitOne) {
  const Outcome r = run("/nonexistent/dir/recipe.toml");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "fpsim recipes: cannot open /nonexistent/dir/recipe.toml: No such file or directory\n");
}

}  // namespace
}  // namespace fpsim::cli
