// A Linear layer's three GEMM sites under a recipe: where the recipe meets
// the layer (docs/training.md, "GEMM"). Models call this; layers never see
// the recipe.
#pragma once

#include <string>

#include "fpsim/experiments/layers/linear.hpp"
#include "fpsim/experiments/recipe.hpp"

namespace fpsim::experiments {

// fprop: A = x, B = w; dgrad: A = dy, B = w; wgrad: A = dy, B = x, each with
// recipe.policy_for(layer, role).
LinearSites linear_sites(const Recipe& recipe, const std::string& layer);

}  // namespace fpsim::experiments
