// Precision recipes as data (docs/training.md, "Recipes"): one TOML file per
// built-in under experiments/recipes/, a user file may `extends` a built-in
// and override any field. Layers and the step loop read a recipe's fields
// only, never its name.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/gemm.hpp"
#include "fpsim/format.hpp"

namespace fpsim::experiments {

// How the optimizer writes a parameter back in its master format
// (docs/training.md, "Updates in low precision").
enum class UpdateRounding : uint8_t {
  rne,    // w = round_rne(w + delta)
  sr,     // w = round_sr(fp32(w) + delta), keyed by run seed, parameter id and step
  kahan,  // compensated: c buffer in the master format
};
std::string_view update_rounding_name(UpdateRounding u);

// PyTorch's GradScaler (torch/amp/grad_scaler.py) and its defaults.
struct LossScaling {
  bool enabled = false;
  float init_scale = 65536.0f;
  float growth_factor = 2.0f;
  float backoff_factor = 0.5f;
  int growth_interval = 2000;
};

// Fields of an OperandPolicy an override sets; unset fields keep the policy's.
struct OperandPatch {
  std::optional<Format> format;
  std::optional<OperandScaling> scaling;
  std::optional<size_t> block;
  std::optional<bool> block_2d;
  std::optional<RoundingSpec> rounding;  // its mode and sr bits only
  std::optional<Overflow> overflow;
  std::optional<E8m0Rule> e8m0_rule;
  std::optional<bool> pow2_scales;
  std::optional<float> amax_epsilon;
  std::optional<bool> hadamard;
  std::optional<ScaleArith> arith;
  std::optional<FourOverSix> four_over_six;
  std::optional<bool> row_scaled;
  std::optional<size_t> amax_history_len;
  std::optional<AmaxAlgo> amax_algo;
  std::optional<int> margin;
};

// Sets the fields `patch` sets, leaves the others.
void apply_operand_patch(const OperandPatch& patch, OperandPolicy& p);

// [[override]] layer = "glob", gemm = "fprop"|"dgrad"|"wgrad" (absent: all),
// operand = "a"|"b" (absent: both), then operand fields and/or accumulate /
// output (TE debug tools' per-layer, per-GEMM controls). Applied in file order.
struct GemmOverride {
  std::string layer_glob;  // fnmatch-style: * and ?
  std::optional<GemmRole> gemm;
  std::optional<char> operand;
  OperandPatch patch;
  std::optional<std::string> accumulate;
  std::optional<Format> output;
};

struct Recipe {
  std::string name;  // the built-in's name or the file's stem
  std::string description;
  std::string extends;  // empty for a built-in without a parent

  // Linear layers' GEMMs (and the LM head).
  GemmPolicy fprop, dgrad, wgrad;
  // The attention core's batched matmuls (Q·Kᵀ, P·V and their gradients):
  // one policy for all of them (recipes keep attention in 16 bits or fp32).
  GemmPolicy attention;
  std::vector<GemmOverride> overrides;

  // Format of the outputs of ops on autocast's fp32 list (layer_norm,
  // softmax, log_softmax, cross_entropy): fp32 under AMP, bf16 in pure bf16.
  Format fp32_ops_format = formats::fp32;
  // Parameters: master weights (their gradients live in the same format, as
  // a PyTorch .grad has its parameter's dtype) and the optimizer's state
  // (moments, momentum, Kahan buffers).
  Format master_format = formats::fp32;
  Format optimizer_state_format = formats::fp32;
  UpdateRounding update_rounding = UpdateRounding::rne;
  LossScaling loss_scaling;

  // The policy of one GEMM of one layer: the role's policy with every
  // matching override applied in order.
  GemmPolicy policy_for(std::string_view layer, GemmRole role) const;
};

// Whether `name` matches an override's layer glob: `*` any run of
// characters (the empty one and '.' included), `?` one character, anything
// else itself (no brackets, no escapes), the whole name.
bool layer_glob_matches(std::string_view glob, std::string_view name);

// Checks a GEMM policy as a whole: each operand's format against its scaling
// (a scaled operand needs an element of at most 8 bits, a block scaling a
// block of at least 1, a Hadamard transform a scaling), not both operands in
// 2-D blocks, `accumulate` "fp32" or an MMA preset, `output` a signed float
// format. Throws ConfigError "<where>: <field>: <what>" (field "a.block",
// "accumulate", ...). Recipes are checked when loaded; a layer may check
// policy_for's result, which overrides can change per layer.
void validate_gemm_policy(const GemmPolicy& p, std::string_view where);

namespace detail {
// What validate_gemm_policy finds, apart: the field at fault ("a.block"),
// another field that explains it when the first was never set ("a.scaling"),
// and the message.
struct PolicyProblem {
  std::string field;
  std::string related_field;
  std::string message;
};
std::optional<PolicyProblem> policy_problem(const GemmPolicy& p);
}  // namespace detail

// Built-in names, in the order of docs/training.md.
std::vector<std::string> builtin_recipe_names();
// The directory holding the built-in TOML files (compiled in; overridable
// with FPSIM_RECIPES_DIR for an installed copy).
std::filesystem::path builtin_recipe_dir();

// The name load_recipe gives the recipe of `name_or_path` (summary.json's
// "recipe", the run id's part): a built-in's own name, a file's stem
// ("my/fp8-tuned.toml" -> "fp8-tuned").
std::string recipe_name(std::string_view name_or_path);

// NAME (a built-in) or a path to a .toml file (anything containing '/' or
// ending in .toml). Resolves `extends` chains. Throws ConfigError
// naming the file, line and key for unknown keys, wrong types and bad
// values, and listing the known names.
Recipe load_recipe(std::string_view name_or_path);
// The same from TOML text (tests, fuzzing); `source` names it in errors.
Recipe parse_recipe(std::string_view toml_text, std::string_view source);

// The fully resolved recipe as TOML (every field, no `extends`):
// parse_recipe(recipe_to_toml(r)) gives r back.
std::string recipe_to_toml(const Recipe& r);

}  // namespace fpsim::experiments
