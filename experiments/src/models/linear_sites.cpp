#include "fpsim/experiments/models/linear_sites.hpp"

namespace fpsim::experiments {

LinearSites linear_sites(const Recipe& recipe, const std::string& layer) {
  LinearSites s;
  s.fprop = GemmSite{layer, GemmRole::fprop, "x", "w", recipe.policy_for(layer, GemmRole::fprop)};
  s.dgrad = GemmSite{layer, GemmRole::dgrad, "dy", "w", recipe.policy_for(layer, GemmRole::dgrad)};
  s.wgrad = GemmSite{layer, GemmRole::wgrad, "dy", "x", recipe.policy_for(layer, GemmRole::wgrad)};
  return s;
}

}  // namespace fpsim::experiments
