// A recipe's policies per layer, its names and its checks (docs/training.md,
// "Recipes"). Reading and writing TOML is recipe_toml.cpp.
#include "fpsim/experiments/recipe.hpp"

#include <cstdlib>
#include <string>

#include "fpsim/error.hpp"
#include "fpsim/mma.hpp"

// The source tree's recipes/ folder, set by experiments/CMakeLists.txt; the
// fallback serves a build run from the repository's root.
#ifndef FPSIM_BUILTIN_RECIPES_DIR
#define FPSIM_BUILTIN_RECIPES_DIR "experiments/recipes"
#endif

namespace fpsim::experiments {

std::string_view update_rounding_name(UpdateRounding u) {
  switch (u) {
    case UpdateRounding::rne:
      return "rne";
    case UpdateRounding::sr:
      return "sr";
    case UpdateRounding::kahan:
      break;
  }
  return "kahan";
}

void apply_operand_patch(const OperandPatch& patch, OperandPolicy& p) {
  if (patch.format) p.format = *patch.format;
  if (patch.scaling) p.scaling = *patch.scaling;
  if (patch.block) p.block = *patch.block;
  if (patch.block_2d) p.block_2d = *patch.block_2d;
  if (patch.rounding) {
    p.rounding.rounding = patch.rounding->rounding;
    p.rounding.sr_bits = patch.rounding->sr_bits;
  }
  if (patch.overflow) p.rounding.overflow = *patch.overflow;
  if (patch.e8m0_rule) p.e8m0_rule = *patch.e8m0_rule;
  if (patch.pow2_scales) p.pow2_scales = *patch.pow2_scales;
  if (patch.amax_epsilon) p.amax_epsilon = *patch.amax_epsilon;
  if (patch.hadamard) p.hadamard = *patch.hadamard;
  if (patch.arith) p.arith = *patch.arith;
  if (patch.four_over_six) p.four_over_six = *patch.four_over_six;
  if (patch.row_scaled) p.row_scaled = *patch.row_scaled;
  if (patch.amax_history_len) p.amax_history_len = *patch.amax_history_len;
  if (patch.amax_algo) p.amax_algo = *patch.amax_algo;
  if (patch.margin) p.margin = *patch.margin;
}

bool layer_glob_matches(std::string_view glob, std::string_view name) {
  // Greedy matching with one backtrack point, the last '*' seen: a later
  // mismatch lets that '*' take one more character (linear in practice,
  // never exponential).
  size_t g = 0, n = 0;
  size_t star = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (g < glob.size() && (glob[g] == '?' || glob[g] == name[n])) {
      ++g;
      ++n;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      star_n = n;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

GemmPolicy Recipe::policy_for(std::string_view layer, GemmRole role) const {
  GemmPolicy p = role == GemmRole::fprop ? fprop : role == GemmRole::dgrad ? dgrad : wgrad;
  for (const GemmOverride& o : overrides) {
    if ((o.gemm && *o.gemm != role) || !layer_glob_matches(o.layer_glob, layer)) continue;
    if (!o.operand || *o.operand == 'a') apply_operand_patch(o.patch, p.a);
    if (!o.operand || *o.operand == 'b') apply_operand_patch(o.patch, p.b);
    if (o.accumulate) p.accumulate = *o.accumulate;
    if (o.output) p.output = *o.output;
  }
  return p;
}

namespace detail {

namespace {

bool is_block_scaling(OperandScaling s) {
  return s == OperandScaling::mx || s == OperandScaling::nvfp4 || s == OperandScaling::block;
}

std::optional<PolicyProblem> operand_problem(const OperandPolicy& p, const std::string& operand) {
  const std::string scaling = "scaling '" + std::string(operand_scaling_name(p.scaling)) + "'";
  const std::string format = "format '" + std::string(p.format.name) + "'";
  // Scale formats (e8m0, ue4m3) are unsigned and hold no zero: they scale
  // operands, they are not operands. MXINT8 (OCP MX v1.0 §5) is the one
  // integer element.
  if (p.format.is_scale() || !p.format.has_sign)
    return PolicyProblem{operand + ".format", "", format + " is an unsigned scale format, not an operand format"};
  if (p.format.is_integer() && p.scaling != OperandScaling::mx)
    return PolicyProblem{operand + ".format", operand + ".scaling",
                         format + " is an integer format: only scaling 'mx' (MXINT8) takes it, not " + scaling};
  if (p.scaling != OperandScaling::none && p.format.bits > 8)
    return PolicyProblem{operand + ".format", operand + ".scaling",
                         scaling + " quantizes to an element of at most 8 bits, got " + format +
                             " (use scaling 'none' for a plain cast)"};
  if (is_block_scaling(p.scaling) && p.block < 1)
    return PolicyProblem{operand + ".block", operand + ".scaling", scaling + " needs block >= 1, got 0"};
  if ((p.four_over_six != FourOverSix::off || p.row_scaled) && p.scaling != OperandScaling::nvfp4)
    return PolicyProblem{operand + (p.row_scaled ? ".row_scaled" : ".four_over_six"), operand + ".scaling",
                         "4over6 and row-scaled are nvfp4 options, got " + scaling};
  if (p.four_over_six != FourOverSix::off && p.arith != ScaleArith::fp32)
    return PolicyProblem{operand + ".four_over_six", operand + ".arith",
                         "4over6 follows TE's FP32 arithmetic: it needs arith = \"fp32\""};
  if (p.row_scaled && p.block_2d)
    return PolicyProblem{operand + ".row_scaled", operand + ".block_2d",
                         "row-scaled nvfp4 needs 1-D blocks (one scale per row)"};
  if (p.hadamard && p.scaling == OperandScaling::none)
    return PolicyProblem{
        operand + ".hadamard", operand + ".scaling",
        "hadamard = true needs a scaled operand (the transform is taken before the scales), got " + scaling};
  return std::nullopt;
}

}  // namespace

std::optional<PolicyProblem> policy_problem(const GemmPolicy& p) {
  if (auto problem = operand_problem(p.a, "a")) return problem;
  if (auto problem = operand_problem(p.b, "b")) return problem;
  // Float8BlockScaling (spec: "a 2-D x 2-D GEMM is not allowed"; TE
  // recipe/__init__.py): 2-D blocks are for weights, one side of a GEMM.
  if (is_block_scaling(p.a.scaling) && p.a.block_2d && is_block_scaling(p.b.scaling) && p.b.block_2d)
    return PolicyProblem{"b.block_2d", "a.block_2d", "both operands have 2-D blocks; at most one may (the weight)"};
  if (p.accumulate != "fp32") {
    try {
      (void)mma_preset(p.accumulate);
    } catch (const OptionError& e) {
      return PolicyProblem{"accumulate", "", std::string(e.what()) + " (or \"fp32\" for the plain FP32 sum)"};
    }
  }
  if (p.output.is_scale() || p.output.is_integer() || !p.output.has_sign)
    return PolicyProblem{"output", "",
                         "format '" + std::string(p.output.name) +
                             "' cannot hold a GEMM's output (expected a "
                             "signed float format such as fp32, bf16, fp16)"};
  return std::nullopt;
}

}  // namespace detail

void validate_gemm_policy(const GemmPolicy& p, std::string_view where) {
  if (const auto problem = detail::policy_problem(p))
    throw ConfigError(std::string(where) + ": " + problem->field + ": " + problem->message);
}

std::vector<std::string> builtin_recipe_names() {
  return {"fp32",        "tf32",        "fp16-amp", "bf16-amp",  "bf16-pure-rne", "bf16-pure-sr", "bf16-pure-kahan",
          "fp8-delayed", "fp8-current", "mxfp8",    "fp8-block", "nvfp4"};
}

std::filesystem::path builtin_recipe_dir() {
  if (const char* dir = std::getenv("FPSIM_RECIPES_DIR"); dir != nullptr && *dir != '\0') return dir;
  return FPSIM_BUILTIN_RECIPES_DIR;
}

}  // namespace fpsim::experiments
