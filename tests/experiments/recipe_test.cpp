// Precision recipes as data (docs/training.md, "Recipes"): the built-ins
// against the recipe table of the spec (written out here field by field, not
// taken from the TOML files), `extends`, overrides, the way back to TOML, and
// every error with the file, line and key it must name.
#include "fpsim/experiments/recipe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cfloat>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "../io/temporary_directory.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"

namespace fpsim::experiments {
namespace {

using io::test::put_file;
using io::test::TemporaryDirectory;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// ---- comparing ----------------------------------------------------------------------

void expect_format(const Format& actual, const Format& expected, const std::string& what) {
  EXPECT_STREQ(actual.name, expected.name) << what;
  EXPECT_EQ(actual.bits, expected.bits) << what;
  EXPECT_EQ(actual.exp_bits, expected.exp_bits) << what;
  EXPECT_EQ(actual.man_bits, expected.man_bits) << what;
  EXPECT_EQ(actual.bias, expected.bias) << what;
  EXPECT_EQ(actual.specials, expected.specials) << what;
  EXPECT_EQ(actual.has_sign, expected.has_sign) << what;
  EXPECT_EQ(actual.container_shift, expected.container_shift) << what;
}

void expect_same_operand(const OperandPolicy& a, const OperandPolicy& b, const std::string& what) {
  expect_format(a.format, b.format, what + ".format");
  EXPECT_EQ(a.scaling, b.scaling) << what;
  EXPECT_EQ(a.block, b.block) << what;
  EXPECT_EQ(a.block_2d, b.block_2d) << what;
  EXPECT_EQ(a.rounding.rounding, b.rounding.rounding) << what;
  EXPECT_EQ(a.rounding.sr_bits, b.rounding.sr_bits) << what;
  EXPECT_EQ(a.rounding.overflow, b.rounding.overflow) << what;
  EXPECT_EQ(a.e8m0_rule, b.e8m0_rule) << what;
  EXPECT_EQ(a.pow2_scales, b.pow2_scales) << what;
  // Bit patterns: the round trip must give the same FP32 value, -0 and all.
  uint32_t ea = 0, eb = 0;
  std::memcpy(&ea, &a.amax_epsilon, 4);
  std::memcpy(&eb, &b.amax_epsilon, 4);
  EXPECT_EQ(ea, eb) << what << ".amax_epsilon " << a.amax_epsilon << " vs " << b.amax_epsilon;
  EXPECT_EQ(a.hadamard, b.hadamard) << what;
  EXPECT_EQ(a.arith, b.arith) << what;
  EXPECT_EQ(a.amax_history_len, b.amax_history_len) << what;
  EXPECT_EQ(a.amax_algo, b.amax_algo) << what;
  EXPECT_EQ(a.margin, b.margin) << what;
  EXPECT_EQ(a.four_over_six, b.four_over_six) << what;
  EXPECT_EQ(a.row_scaled, b.row_scaled) << what;
}

void expect_same_policy(const GemmPolicy& a, const GemmPolicy& b, const std::string& what) {
  expect_same_operand(a.a, b.a, what + ".a");
  expect_same_operand(a.b, b.b, what + ".b");
  EXPECT_EQ(a.accumulate, b.accumulate) << what;
  expect_format(a.output, b.output, what + ".output");
}

template <typename T>
void expect_same_optional(const std::optional<T>& a, const std::optional<T>& b, const std::string& what) {
  ASSERT_EQ(a.has_value(), b.has_value()) << what;
  if (a) {
    EXPECT_EQ(*a, *b) << what;
  }
}

void expect_same_patch(const OperandPatch& a, const OperandPatch& b, const std::string& what) {
  ASSERT_EQ(a.format.has_value(), b.format.has_value()) << what;
  if (a.format) expect_format(*a.format, *b.format, what + ".format");
  expect_same_optional(a.scaling, b.scaling, what + ".scaling");
  expect_same_optional(a.block, b.block, what + ".block");
  expect_same_optional(a.block_2d, b.block_2d, what + ".block_2d");
  ASSERT_EQ(a.rounding.has_value(), b.rounding.has_value()) << what;
  if (a.rounding) {
    EXPECT_EQ(a.rounding->rounding, b.rounding->rounding) << what;
    EXPECT_EQ(a.rounding->sr_bits, b.rounding->sr_bits) << what;
  }
  expect_same_optional(a.overflow, b.overflow, what + ".overflow");
  expect_same_optional(a.e8m0_rule, b.e8m0_rule, what + ".e8m0_rule");
  expect_same_optional(a.pow2_scales, b.pow2_scales, what + ".pow2_scales");
  expect_same_optional(a.amax_epsilon, b.amax_epsilon, what + ".amax_epsilon");
  expect_same_optional(a.hadamard, b.hadamard, what + ".hadamard");
  expect_same_optional(a.arith, b.arith, what + ".arith");
  expect_same_optional(a.amax_history_len, b.amax_history_len, what + ".amax_history_len");
  expect_same_optional(a.amax_algo, b.amax_algo, what + ".amax_algo");
  expect_same_optional(a.margin, b.margin, what + ".margin");
  expect_same_optional(a.four_over_six, b.four_over_six, what + ".four_over_six");
  expect_same_optional(a.row_scaled, b.row_scaled, what + ".row_scaled");
}

// Every field but the name and `extends`.
void expect_same_recipe(const Recipe& a, const Recipe& b) {
  EXPECT_EQ(a.description, b.description);
  expect_same_policy(a.fprop, b.fprop, "fprop");
  expect_same_policy(a.dgrad, b.dgrad, "dgrad");
  expect_same_policy(a.wgrad, b.wgrad, "wgrad");
  expect_same_policy(a.attention, b.attention, "attention");
  expect_format(a.fp32_ops_format, b.fp32_ops_format, "fp32_ops_format");
  expect_format(a.master_format, b.master_format, "master_format");
  expect_format(a.optimizer_state_format, b.optimizer_state_format, "optimizer_state_format");
  EXPECT_EQ(a.update_rounding, b.update_rounding);
  EXPECT_EQ(a.loss_scaling.enabled, b.loss_scaling.enabled);
  EXPECT_EQ(a.loss_scaling.init_scale, b.loss_scaling.init_scale);
  EXPECT_EQ(a.loss_scaling.growth_factor, b.loss_scaling.growth_factor);
  EXPECT_EQ(a.loss_scaling.backoff_factor, b.loss_scaling.backoff_factor);
  EXPECT_EQ(a.loss_scaling.growth_interval, b.loss_scaling.growth_interval);
  ASSERT_EQ(a.overrides.size(), b.overrides.size());
  for (size_t i = 0; i < a.overrides.size(); ++i) {
    const std::string what = "override " + std::to_string(i);
    EXPECT_EQ(a.overrides[i].layer_glob, b.overrides[i].layer_glob) << what;
    expect_same_optional(a.overrides[i].gemm, b.overrides[i].gemm, what + ".gemm");
    expect_same_optional(a.overrides[i].operand, b.overrides[i].operand, what + ".operand");
    expect_same_patch(a.overrides[i].patch, b.overrides[i].patch, what);
    expect_same_optional(a.overrides[i].accumulate, b.overrides[i].accumulate, what + ".accumulate");
    ASSERT_EQ(a.overrides[i].output.has_value(), b.overrides[i].output.has_value()) << what;
    if (a.overrides[i].output) expect_format(*a.overrides[i].output, *b.overrides[i].output, what + ".output");
  }
}

// ---- the spec's table, written out ---------------------------------------------------

// One operand as the spec's recipe table and paragraphs describe it. Fields
// the spec does not constrain for a recipe are left unchecked (nullopt).
struct Op {
  Format format;
  OperandScaling scaling = OperandScaling::none;
  size_t block = 0;
  bool block_2d = false;
  Rounding rounding = Rounding::rne;
  std::optional<Overflow> overflow;
  bool hadamard = false;
  bool pow2_scales = false;
};

struct Gemm {
  Op a, b;
  std::string accumulate;
  Format output;
};

void expect_operand(const OperandPolicy& p, const Op& e, const std::string& what) {
  expect_format(p.format, e.format, what + ".format");
  EXPECT_EQ(p.scaling, e.scaling) << what;
  const bool blocked =
      e.scaling == OperandScaling::mx || e.scaling == OperandScaling::nvfp4 || e.scaling == OperandScaling::block;
  if (blocked) {
    EXPECT_EQ(p.block, e.block) << what;
    EXPECT_EQ(p.block_2d, e.block_2d) << what;
  }
  EXPECT_EQ(p.rounding.rounding, e.rounding) << what;
  EXPECT_EQ(p.rounding.sr_bits, 0) << what << ": SR in recipes is exact SR";
  if (e.overflow) {
    EXPECT_EQ(p.rounding.overflow, *e.overflow) << what;
  }
  EXPECT_EQ(p.hadamard, e.hadamard) << what;
  if (e.scaling != OperandScaling::none) {
    EXPECT_EQ(p.pow2_scales, e.pow2_scales) << what;
    EXPECT_EQ(p.amax_epsilon, 0.0f) << what << ": TE's amax_epsilon default";
    EXPECT_EQ(p.arith, ScaleArith::fp32) << what << ": the GPU kernels' FP32 order";
  }
  if (e.scaling == OperandScaling::delayed) {
    // TE DelayedScaling defaults (spec fp8-delayed).
    EXPECT_EQ(p.amax_history_len, 1024u) << what;
    EXPECT_EQ(p.amax_algo, AmaxAlgo::max) << what;
    EXPECT_EQ(p.margin, 0) << what;
  }
  if (e.scaling == OperandScaling::mx) {
    EXPECT_EQ(p.e8m0_rule, E8m0Rule::ceil) << what << ": TE MXFP8's rule";
  }
}

void expect_gemm(const GemmPolicy& p, const Gemm& e, const std::string& what) {
  expect_operand(p.a, e.a, what + ".a");
  expect_operand(p.b, e.b, what + ".b");
  EXPECT_EQ(p.accumulate, e.accumulate) << what;
  expect_format(p.output, e.output, what + ".output");
}

struct Expected {
  Gemm fprop, dgrad, wgrad, attention;
  Format fp32_ops = formats::fp32;
  Format master = formats::fp32;
  Format optimizer = formats::fp32;
  UpdateRounding update = UpdateRounding::rne;
  bool loss_scaling = false;
  // The output head kept in bf16 (docs/training.md, "Built-in recipes": the
  // block-scaled recipes cannot reduce over a 10-class head, and DeepSeek-V3
  // and the NVFP4 paper keep the head in BF16).
  bool bf16_head = false;
};

void expect_recipe(const std::string& name, const Expected& e) {
  SCOPED_TRACE(name);
  const Recipe r = load_recipe(name);
  EXPECT_EQ(r.name, name);
  EXPECT_FALSE(r.description.empty());
  EXPECT_EQ(r.description.find('\n'), std::string::npos) << "one line";
  expect_gemm(r.fprop, e.fprop, "fprop");
  expect_gemm(r.dgrad, e.dgrad, "dgrad");
  expect_gemm(r.wgrad, e.wgrad, "wgrad");
  expect_gemm(r.attention, e.attention, "attention");
  expect_format(r.fp32_ops_format, e.fp32_ops, "fp32_ops_format");
  expect_format(r.master_format, e.master, "master_format");
  expect_format(r.optimizer_state_format, e.optimizer, "optimizer_state_format");
  EXPECT_EQ(r.update_rounding, e.update);
  EXPECT_EQ(r.loss_scaling.enabled, e.loss_scaling);
  if (!e.bf16_head) {
    EXPECT_TRUE(r.overrides.empty());
    return;
  }
  ASSERT_EQ(r.overrides.size(), 1u);
  const GemmOverride& o = r.overrides[0];
  EXPECT_EQ(o.layer_glob, "*head");
  EXPECT_FALSE(o.gemm.has_value());
  EXPECT_FALSE(o.operand.has_value());
  for (const char* layer : {"head", "lm_head"}) {
    for (GemmRole role : {GemmRole::fprop, GemmRole::dgrad, GemmRole::wgrad}) {
      const GemmPolicy p = r.policy_for(layer, role);
      for (const OperandPolicy* op : {&p.a, &p.b}) {
        expect_format(op->format, formats::bf16, "head operand");
        EXPECT_EQ(op->scaling, OperandScaling::none);
        EXPECT_EQ(op->rounding.rounding, Rounding::rne);
        EXPECT_EQ(op->rounding.overflow, Overflow::ieee);
      }
      EXPECT_EQ(p.accumulate, "fp32");
    }
  }
  // Other layers keep the recipe's policies.
  EXPECT_EQ(r.policy_for("fc1", GemmRole::fprop).a.scaling, r.fprop.a.scaling);
}

// A GEMM whose two operands are plain casts to `f` (16-bit and wider casts
// overflow to inf: docs/training.md, "Common rules", saturates FP8/FP4 casts only), FP32 accumulation.
Gemm cast_gemm(const Format& f, const Format& output) {
  const std::optional<Overflow> overflow =
      std::strcmp(f.name, "fp32") == 0 ? std::nullopt : std::optional<Overflow>(Overflow::ieee);
  const Op op{f, OperandScaling::none, 0, false, Rounding::rne, overflow, false, false};
  return {op, op, "fp32", output};
}

Expected all_casts(const Format& f, const Format& output) {
  Expected e;
  e.fprop = e.dgrad = e.wgrad = e.attention = cast_gemm(f, output);
  return e;
}

constexpr Overflow kSat = Overflow::saturate;

// ---- the built-ins ---------------------------------------------------------------------

TEST(BuiltinRecipes, NamesAreTheTwelveOfTheSpecInItsOrder) {
  EXPECT_EQ(builtin_recipe_names(),
            (std::vector<std::string>{"fp32", "tf32", "fp16-amp", "bf16-amp", "bf16-pure-rne", "bf16-pure-sr",
                                      "bf16-pure-kahan", "fp8-delayed", "fp8-current", "mxfp8", "fp8-block", "nvfp4"}));
}

TEST(BuiltinRecipes, Fp32IsFp32Everywhere) { expect_recipe("fp32", all_casts(formats::fp32, formats::fp32)); }

TEST(BuiltinRecipes, Tf32RoundsMatmulInputsToTf32AndKeepsEverythingElseFp32) {
  // Decision (docs/training.md): tf32 operands rounded rne by default.
  expect_recipe("tf32", all_casts(formats::tf32, formats::fp32));
}

TEST(BuiltinRecipes, Fp16AmpCastsToFp16WithFp32MasterAndGradScaler) {
  Expected e = all_casts(formats::fp16, formats::fp16);
  e.loss_scaling = true;
  expect_recipe("fp16-amp", e);
  // torch/amp/grad_scaler.py defaults: 2^16, 2.0, 0.5, 2000.
  const LossScaling ls = load_recipe("fp16-amp").loss_scaling;
  EXPECT_EQ(ls.init_scale, 65536.0f);
  EXPECT_EQ(ls.growth_factor, 2.0f);
  EXPECT_EQ(ls.backoff_factor, 0.5f);
  EXPECT_EQ(ls.growth_interval, 2000);
}

TEST(BuiltinRecipes, Bf16AmpCastsToBf16WithFp32MasterAndNoScaler) {
  expect_recipe("bf16-amp", all_casts(formats::bf16, formats::bf16));
}

TEST(BuiltinRecipes, Bf16PureKeepsEverythingInBf16AndDiffersOnlyInUpdateRounding) {
  const std::pair<const char*, UpdateRounding> variants[] = {{"bf16-pure-rne", UpdateRounding::rne},
                                                             {"bf16-pure-sr", UpdateRounding::sr},
                                                             {"bf16-pure-kahan", UpdateRounding::kahan}};
  for (const auto& [name, update] : variants) {
    Expected e = all_casts(formats::bf16, formats::bf16);
    e.fp32_ops = e.master = e.optimizer = formats::bf16;
    e.update = update;
    expect_recipe(name, e);
  }
}

// HYBRID (spec fp8-delayed / fp8-current): E4M3 forward, E5M2 gradients;
// fprop fast accumulation, dgrad / wgrad promoted; bf16 outputs; attention bf16.
Expected hybrid_fp8(OperandScaling s) {
  const Op e4m3{formats::e4m3, s, 0, false, Rounding::rne, kSat, false, false};
  const Op e5m2{formats::e5m2, s, 0, false, Rounding::rne, kSat, false, false};
  Expected e;
  e.fprop = {e4m3, e4m3, "h100-e4m3-fp32", formats::bf16};             // X, W
  e.dgrad = {e5m2, e4m3, "h100-e4m3-fp32:promote128", formats::bf16};  // dY, W
  e.wgrad = {e5m2, e4m3, "h100-e4m3-fp32:promote128", formats::bf16};  // dY, X
  e.attention = cast_gemm(formats::bf16, formats::bf16);
  return e;
}

TEST(BuiltinRecipes, Fp8DelayedIsHybridWithTeDelayedScalingDefaults) {
  expect_recipe("fp8-delayed", hybrid_fp8(OperandScaling::delayed));
}

TEST(BuiltinRecipes, Fp8CurrentIsHybridWithPerTensorCurrentScaling) {
  expect_recipe("fp8-current", hybrid_fp8(OperandScaling::current));
}

TEST(BuiltinRecipes, Mxfp8IsE4m3In1x32BlocksAlongKWithCeilScales) {
  const Op mx{formats::e4m3, OperandScaling::mx, 32, false, Rounding::rne, kSat, false, false};
  Expected e;
  e.fprop = e.dgrad = e.wgrad = {mx, mx, "fp32", formats::bf16};
  e.attention = cast_gemm(formats::bf16, formats::bf16);
  e.bf16_head = true;
  expect_recipe("mxfp8", e);
}

TEST(BuiltinRecipes, Fp8BlockHas1x128ActivationsAnd128x128WeightsWithPow2Scales) {
  const Op tile{formats::e4m3, OperandScaling::block, 128, false, Rounding::rne, kSat, false, true};
  const Op weight{formats::e4m3, OperandScaling::block, 128, true, Rounding::rne, kSat, false, true};
  Expected e;
  e.fprop = {tile, weight, "h100-e4m3-fp32:promote128", formats::bf16};  // X 1x128, W 128x128
  e.dgrad = {tile, weight, "h100-e4m3-fp32:promote128", formats::bf16};  // dY 1x128, W 128x128
  // Spec table: "fp32 master and wgrad" (DeepSeek-V3 §3.3.3).
  e.wgrad = {tile, tile, "h100-e4m3-fp32:promote128", formats::fp32};  // dY 128x1, X 128x1
  e.attention = cast_gemm(formats::bf16, formats::bf16);
  e.optimizer = formats::bf16;  // bf16 Adam moments
  e.bf16_head = true;
  expect_recipe("fp8-block", e);
}

TEST(BuiltinRecipes, Nvfp4HasRhtOnWgradOperandsAndSrOnGradients) {
  const Op x_row{formats::e2m1, OperandScaling::nvfp4, 16, false, Rounding::rne, kSat, false, false};
  const Op w_2d{formats::e2m1, OperandScaling::nvfp4, 16, true, Rounding::rne, kSat, false, false};
  const Op dy_row{formats::e2m1, OperandScaling::nvfp4, 16, false, Rounding::sr, kSat, false, false};
  const Op dy_col{formats::e2m1, OperandScaling::nvfp4, 16, false, Rounding::sr, kSat, true, false};
  const Op x_col{formats::e2m1, OperandScaling::nvfp4, 16, false, Rounding::rne, kSat, true, false};
  Expected e;
  e.fprop = {x_row, w_2d, "fp32", formats::bf16};
  e.dgrad = {dy_row, w_2d, "fp32", formats::bf16};
  e.wgrad = {dy_col, x_col, "fp32", formats::bf16};
  e.attention = cast_gemm(formats::bf16, formats::bf16);
  e.bf16_head = true;
  expect_recipe("nvfp4", e);
}

TEST(BuiltinRecipes, OnlyFp16AmpScalesTheLoss) {
  for (const std::string& name : builtin_recipe_names())
    EXPECT_EQ(load_recipe(name).loss_scaling.enabled, name == "fp16-amp") << name;
}

TEST(BuiltinRecipes, LoadByPathGivesTheSameRecipeNamedAfterTheFile) {
  const std::string path = (builtin_recipe_dir() / "mxfp8.toml").string();
  const Recipe by_path = load_recipe(path);
  EXPECT_EQ(by_path.name, "mxfp8");
  expect_same_recipe(by_path, load_recipe("mxfp8"));
}

TEST(BuiltinRecipes, EveryBuiltinRoundTripsThroughRecipeToToml) {
  for (const std::string& name : builtin_recipe_names()) {
    SCOPED_TRACE(name);
    const Recipe r = load_recipe(name);
    const std::string text = recipe_to_toml(r);
    EXPECT_THAT(text, Not(HasSubstr("extends =")));
    const Recipe back = parse_recipe(text, name + ".toml");
    EXPECT_EQ(back.name, name);
    EXPECT_TRUE(back.extends.empty());
    expect_same_recipe(r, back);
    // A fixed point: the text of the parsed text is the text (but the
    // first line, which names what it extended).
    const std::string again = recipe_to_toml(back);
    EXPECT_EQ(again.substr(again.find('\n')), text.substr(text.find('\n')));
  }
}

TEST(BuiltinRecipes, RecipesDirComesFromTheEnvironmentWhenSet) {
  TemporaryDirectory dir;
  put_file(dir / "fp32.toml", "description = \"an installed copy\"\n");
  ASSERT_EQ(::setenv("FPSIM_RECIPES_DIR", dir.path().c_str(), 1), 0);
  const std::filesystem::path seen = builtin_recipe_dir();
  const std::string description = load_recipe("fp32").description;
  ::unsetenv("FPSIM_RECIPES_DIR");
  EXPECT_EQ(seen, dir.path());
  EXPECT_EQ(description, "an installed copy");
  EXPECT_NE(builtin_recipe_dir(), dir.path());
}

// ---- round trip of what the built-ins do not use ------------------------------------

TEST(RecipeToToml, RoundTripsEveryFieldOverridesAndOddText) {
  Recipe r;
  r.name = "odd";
  r.description = "quote \" backslash \\ newline \n tab \t bell \x07 del \x7f caf\xc3\xa9";
  r.fprop.a.format = parse_format("e4m3b8");  // a user format (IEEE-style, bias 8)
  r.fprop.a.scaling = OperandScaling::delayed;
  r.fprop.a.rounding.rounding = Rounding::sr;
  r.fprop.a.rounding.sr_bits = 8;
  r.fprop.a.rounding.overflow = Overflow::ieee;
  r.fprop.a.amax_history_len = 16;
  r.fprop.a.amax_algo = AmaxAlgo::most_recent;
  r.fprop.a.margin = 3;
  r.fprop.b.format = formats::e3m2;
  r.fprop.b.scaling = OperandScaling::mx;
  r.fprop.b.block = 32;
  r.fprop.b.e8m0_rule = E8m0Rule::floor;
  r.fprop.b.arith = ScaleArith::exact;
  r.dgrad.a.format = formats::e4m3;
  r.dgrad.a.scaling = OperandScaling::current;
  r.dgrad.a.amax_epsilon = 1e-12f;
  r.dgrad.a.pow2_scales = true;
  r.dgrad.accumulate = "h100-e4m3-fp32:promote64";
  r.wgrad.output = formats::fp16;
  r.attention.output = formats::bf16;
  r.fp32_ops_format = formats::bf16;
  r.master_format = formats::fp16;
  r.optimizer_state_format = formats::e5m2;
  r.update_rounding = UpdateRounding::kahan;
  r.loss_scaling = {true, 0.1f, 1.0000001f, 0.999f, 7};
  GemmOverride o;
  o.layer_glob = "h?.mlp.*";
  o.gemm = GemmRole::wgrad;
  o.operand = 'b';
  o.patch.format = formats::e2m1;
  o.patch.scaling = OperandScaling::nvfp4;
  o.patch.block = 16;
  o.patch.block_2d = true;
  o.patch.rounding = RoundingSpec{Rounding::sr, Overflow::ieee};
  o.patch.overflow = Overflow::saturate;
  o.patch.e8m0_rule = E8m0Rule::rne;
  o.patch.pow2_scales = false;
  o.patch.amax_epsilon = 5e-45f;  // a subnormal
  o.patch.hadamard = true;
  o.patch.arith = ScaleArith::exact;
  o.patch.amax_history_len = 2;
  o.patch.amax_algo = AmaxAlgo::most_recent;
  o.patch.margin = 126;
  // Set (so written and read back) at values the patch's exact arith and 2-D
  // blocks allow (4over6 needs fp32 arith, row scaling 1-D blocks).
  o.patch.four_over_six = FourOverSix::off;
  o.patch.row_scaled = false;
  o.accumulate = "fp32";
  o.output = formats::fp32;
  r.overrides.push_back(o);
  GemmOverride layer_only;
  layer_only.layer_glob = "head";
  layer_only.output = formats::bf16;
  r.overrides.push_back(layer_only);
  const Recipe back = parse_recipe(recipe_to_toml(r), "odd.toml");
  expect_same_recipe(r, back);
}

TEST(RecipeToToml, FloatsRoundTripBitExactly) {
  // Edge values, then 3000 FP32 values, normal and subnormal, from a fixed
  // LCG: each printed and read back must be the same bits (the printer's
  // shortest form, or the exact double form where a double rounding would
  // change it).
  std::vector<uint32_t> cases = {
      0x00000000u, 0x00000001u, 0x007fffffu, 0x00800000u, 0x3dcccccdu /* 0.1f */, 0x2b8cbcccu /* 1e-12f */,
      0x3f800000u, 0x7f7fffffu};
  uint64_t state = 12345;
  for (int i = 0; i < 3000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t bits = uint32_t(state >> 33) & 0x7fffffffu;  // non-negative
    if ((bits >> 23) == 0xff) bits &= 0x7f7fffffu;        // finite
    cases.push_back(bits);
  }
  for (const uint32_t bits : cases) {
    float f = 0;
    std::memcpy(&f, &bits, 4);
    Recipe r;
    r.fprop.a.amax_epsilon = f;
    const Recipe back = parse_recipe(recipe_to_toml(r), "f.toml");
    uint32_t got = 0;
    std::memcpy(&got, &back.fprop.a.amax_epsilon, 4);
    ASSERT_EQ(got, bits) << "value " << f;
  }
}

// ---- extends -------------------------------------------------------------------------

TEST(RecipeExtends, OneKeyOverridesOneFieldAndLeavesTheRest) {
  const Recipe child = parse_recipe(
      "extends = \"fp8-current\"\n"
      "[gemm.dgrad.a]\n"
      "format = \"e4m3\"\n",
      "child.toml");
  Recipe expected = load_recipe("fp8-current");
  ASSERT_STREQ(expected.dgrad.a.format.name, "e5m2");
  expected.dgrad.a.format = formats::e4m3;
  EXPECT_EQ(child.name, "child");
  EXPECT_EQ(child.extends, "fp8-current");
  expect_same_recipe(child, expected);
}

TEST(RecipeExtends, ChainsRelativePathsAndConcatenatesOverridesParentFirst) {
  TemporaryDirectory dir;
  std::filesystem::create_directory(dir / "sub");
  put_file(dir / "base.toml",
           "extends = \"bf16-amp\"\n"
           "description = \"base\"\n"
           "[[override]]\nlayer = \"head\"\nformat = \"fp32\"\n");
  put_file(dir / "sub/child.toml",
           "extends = \"../base.toml\"\n"
           "master_format = \"bf16\"\n"
           "[[override]]\nlayer = \"emb\"\noutput = \"fp32\"\n");
  const Recipe r = load_recipe(dir / "sub/child.toml");
  EXPECT_EQ(r.name, "child");
  EXPECT_EQ(r.extends, "../base.toml");
  EXPECT_EQ(r.description, "base");  // inherited
  EXPECT_STREQ(r.master_format.name, "bf16");
  EXPECT_STREQ(r.fprop.a.format.name, "bf16");  // from bf16-amp
  ASSERT_EQ(r.overrides.size(), 2u);
  EXPECT_EQ(r.overrides[0].layer_glob, "head");
  EXPECT_EQ(r.overrides[1].layer_glob, "emb");
}

TEST(RecipeExtends, ACycleIsAnErrorNamingTheChain) {
  TemporaryDirectory dir;
  put_file(dir / "a.toml", "extends = \"b.toml\"\n");
  put_file(dir / "b.toml", "description = \"b\"\nextends = \"a.toml\"\n");
  try {
    (void)load_recipe(dir / "a.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_THAT(m, StartsWith(dir / "b.toml" + ":2: extends: cycle: "));
    EXPECT_THAT(m, HasSubstr("a.toml -> "));
    EXPECT_THAT(m, HasSubstr("b.toml -> "));
  }
  put_file(dir / "self.toml", "extends = \"./self.toml\"\n");
  try {
    (void)load_recipe(dir / "self.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), StartsWith(dir / "self.toml" + ":1: extends: cycle: "));
  }
}

TEST(RecipeExtends, AnErrorInTheParentNamesTheParentFileAndLine) {
  TemporaryDirectory dir;
  put_file(dir / "parent.toml", "description = \"p\"\n\n[loss_scaling]\ngrowth_interval = 0\n");
  try {
    (void)parse_recipe("extends = \"parent.toml\"\n", dir / "child.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              dir / "parent.toml" + ":4: loss_scaling.growth_interval: must be between 1 and 2147483647, got 0");
  }
}

TEST(RecipeExtends, AMissingParentIsAnIoErrorNamingTheExtendsLine) {
  TemporaryDirectory dir;
  try {
    (void)parse_recipe("description = \"x\"\nextends = \"missing.toml\"\n", dir / "c.toml");
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), StartsWith(dir / "c.toml" + ":2: extends: cannot open "));
    EXPECT_THAT(e.what(), HasSubstr("missing.toml"));
  }
}

TEST(RecipeExtends, AnUnknownBuiltinIsAnErrorListingTheBuiltins) {
  try {
    (void)parse_recipe("extends = \"fp8-curent\"\n", "r.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), StartsWith("r.toml:1: extends: unknown recipe 'fp8-curent'; built-in recipes: fp32, tf32, "
                                     "fp16-amp, bf16-amp, bf16-pure-rne, bf16-pure-sr, bf16-pure-kahan, fp8-delayed, "
                                     "fp8-current, mxfp8, fp8-block, nvfp4"));
  }
}

// ---- overrides ------------------------------------------------------------------------

TEST(LayerGlob, StarMatchesAnyRunQuestionMarkOneCharacterTheRestItself) {
  EXPECT_TRUE(layer_glob_matches("*", ""));
  EXPECT_TRUE(layer_glob_matches("*", "h0.attn.qkv"));
  EXPECT_TRUE(layer_glob_matches("head", "head"));
  EXPECT_FALSE(layer_glob_matches("head", "head2"));
  EXPECT_FALSE(layer_glob_matches("head", "hea"));
  EXPECT_TRUE(layer_glob_matches("a*c", "ac"));
  EXPECT_TRUE(layer_glob_matches("a*c", "abbbc"));
  EXPECT_FALSE(layer_glob_matches("a*c", "abcb"));
  EXPECT_TRUE(layer_glob_matches("h?.mlp.*", "h3.mlp.fc1"));
  EXPECT_FALSE(layer_glob_matches("h?.mlp.*", "h12.mlp.fc1"));
  EXPECT_FALSE(layer_glob_matches("?", ""));
  EXPECT_TRUE(layer_glob_matches("**x", "x"));
  EXPECT_TRUE(layer_glob_matches("a*b*c", "aXbYbZc"));
  EXPECT_TRUE(layer_glob_matches("[ab]", "[ab]"));  // brackets are literal
  EXPECT_FALSE(layer_glob_matches("[ab]", "a"));
  EXPECT_FALSE(layer_glob_matches("a*a*a*a*a*a*b", std::string(200, 'a')));
}

TEST(RecipeOverrides, ApplyByLayerGlobGemmAndOperandInFileOrder) {
  const Recipe r = parse_recipe(
      "extends = \"fp8-current\"\n"
      "[[override]]\n"
      "layer = \"head\"\ngemm = \"wgrad\"\noperand = \"a\"\n"
      "format = \"bf16\"\nscaling = \"none\"\noverflow = \"ieee\"\n"
      "[[override]]\n"
      "layer = \"h?.mlp.*\"\naccumulate = \"fp32\"\noutput = \"fp32\"\n"
      "[[override]]\n"
      "layer = \"*\"\ngemm = \"dgrad\"\noperand = \"b\"\nrounding = \"sr\"\n"
      "[[override]]\n"
      "layer = \"h1.mlp.fc\"\ngemm = \"fprop\"\nformat = \"e5m2\"\naccumulate = \"h100-e5m2-fp32\"\n",
      "o.toml");
  const Recipe base = load_recipe("fp8-current");

  // head / wgrad: only operand a changes.
  const GemmPolicy head_w = r.policy_for("head", GemmRole::wgrad);
  EXPECT_STREQ(head_w.a.format.name, "bf16");
  EXPECT_EQ(head_w.a.scaling, OperandScaling::none);
  EXPECT_EQ(head_w.a.rounding.overflow, Overflow::ieee);
  EXPECT_EQ(head_w.a.rounding.rounding, Rounding::rne);  // overflow alone leaves the mode
  expect_same_operand(head_w.b, base.wgrad.b, "head wgrad b");
  EXPECT_EQ(head_w.accumulate, base.wgrad.accumulate);
  // head / fprop: untouched.
  expect_same_policy(r.policy_for("head", GemmRole::fprop), base.fprop, "head fprop");
  // "?" is one character: h1 matches, h10 does not.
  const GemmPolicy fc1 = r.policy_for("h1.mlp.fc", GemmRole::fprop);
  EXPECT_STREQ(fc1.a.format.name, "e5m2");  // no operand: both
  EXPECT_STREQ(fc1.b.format.name, "e5m2");
  EXPECT_EQ(fc1.a.scaling, OperandScaling::current);
  EXPECT_EQ(fc1.accumulate, "h100-e5m2-fp32");  // the later override wins
  expect_format(fc1.output, formats::fp32, "fc1 output");
  const GemmPolicy fc10 = r.policy_for("h10.mlp.fc", GemmRole::fprop);
  expect_same_policy(fc10, base.fprop, "h10 fprop");
  // Every layer's dgrad operand b is SR, keeping its overflow policy.
  const GemmPolicy emb_d = r.policy_for("emb", GemmRole::dgrad);
  EXPECT_EQ(emb_d.b.rounding.rounding, Rounding::sr);
  EXPECT_EQ(emb_d.b.rounding.overflow, Overflow::saturate);
  EXPECT_EQ(emb_d.a.rounding.rounding, Rounding::rne);
}

TEST(RecipeOverrides, ValidateGemmPolicyNamesTheFieldAtFault) {
  GemmPolicy p;
  p.b.format = formats::e4m3;
  p.b.scaling = OperandScaling::block;
  try {
    validate_gemm_policy(p, "fc1 fprop");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "fc1 fprop: b.block: scaling 'block' needs block >= 1, got 0");
  }
  p.b.block = 128;
  EXPECT_NO_THROW(validate_gemm_policy(p, "fc1 fprop"));
}

// 4over6 and row scaling are nvfp4 options (docs/training.md, the policy checks).
TEST(RecipeOverrides, FourOverSixAndRowScaledAreNvfp4Options) {
  GemmPolicy p;
  p.a.format = formats::e2m1;
  p.a.scaling = OperandScaling::mx;
  p.a.block = 32;
  p.a.four_over_six = FourOverSix::mae;
  auto message = [&] {
    try {
      validate_gemm_policy(p, "fc1 fprop");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(), "fc1 fprop: a.four_over_six: 4over6 and row-scaled are nvfp4 options, got scaling 'mx'");
  p.a.scaling = OperandScaling::nvfp4;
  p.a.block = 16;
  p.a.arith = ScaleArith::exact;
  EXPECT_EQ(message(), "fc1 fprop: a.four_over_six: 4over6 follows TE's FP32 arithmetic: it needs arith = \"fp32\"");
  p.a.arith = ScaleArith::fp32;
  p.a.row_scaled = true;
  EXPECT_EQ(message(), "no error");
  p.a.block_2d = true;
  EXPECT_EQ(message(), "fc1 fprop: a.row_scaled: row-scaled nvfp4 needs 1-D blocks (one scale per row)");
}

// ---- errors: one line each, naming file, line and key -------------------------------

std::string error_of(const std::string& text) {
  try {
    (void)parse_recipe(text, "r.toml");
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << "one line: " << m;
    return m;
  }
  ADD_FAILURE() << "no ConfigError for:\n" << text;
  return "";
}

TEST(RecipeErrors, UnknownKeyNamesFileLineKeyAndTheKnownKeys) {
  EXPECT_EQ(error_of("description = \"x\"\nfromat = 1\n"),
            "r.toml:2: unknown key 'fromat'; known keys: description, extends, fp32_ops_format, master_format, "
            "optimizer_state_format, update_rounding, loss_scaling, gemm, override");
  EXPECT_EQ(error_of("[gemm.fprop.a]\nformat = \"e4m3\"\nfromat = \"e4m3\"\n"),
            "r.toml:3: unknown key 'gemm.fprop.a.fromat'; known keys: format, scaling, block, block_2d, rounding, "
            "overflow, e8m0_rule, pow2_scales, amax_epsilon, hadamard, arith, amax_history_len, amax_algo, margin, "
            "four_over_six, row_scaled");
  EXPECT_EQ(error_of("\n[gemm.fprpo]\naccumulate = \"fp32\"\n"),
            "r.toml:2: unknown key 'gemm.fprpo'; known keys: fprop, dgrad, wgrad, attention");
  EXPECT_EQ(error_of("[gemm.wgrad]\nout = \"bf16\"\n"),
            "r.toml:2: unknown key 'gemm.wgrad.out'; known keys: accumulate, output, a, b");
  EXPECT_EQ(error_of("[loss_scaling]\nenable = true\n"),
            "r.toml:2: unknown key 'loss_scaling.enable'; known keys: enabled, init_scale, growth_factor, "
            "backoff_factor, growth_interval");
  EXPECT_THAT(error_of("[[override]]\nlayer = \"x\"\nformats = \"bf16\"\n"),
              StartsWith("r.toml:3: unknown key 'override[0].formats'; known keys: layer, gemm, operand, accumulate, "
                         "output, format, scaling, "));
}

// open() stops at a NUL: "bf16-amp.toml\u0000junk.toml" would silently
// extend bf16-amp.toml (found while writing fuzz/fuzz_recipe_toml.cpp).
TEST(RecipeErrors, ExtendsPathWithANulByteIsRefused) {
  const std::string m = error_of("extends = \"bf16-amp.toml\\u0000junk.toml\"\n");
  EXPECT_THAT(m, StartsWith("r.toml:1: "));
  EXPECT_THAT(m, HasSubstr("contains a NUL byte"));
  EXPECT_EQ(m.find('\0'), std::string::npos);
}

TEST(RecipeErrors, EchoedKeysAreQuotedSafely) {
  const std::string m = error_of("\"evil\\u001b[31m\" = 1\n");
  EXPECT_THAT(m, HasSubstr("unknown key 'evil\\x1b[31m'"));
  EXPECT_EQ(m.find('\x1b'), std::string::npos);
}

TEST(RecipeErrors, WrongTypeNamesKeyLineAndTheExpectedType) {
  EXPECT_EQ(error_of("[gemm.fprop.a]\nblock = \"32\"\n"),
            "r.toml:2: gemm.fprop.a.block: expected an integer, got a string");
  EXPECT_EQ(error_of("[gemm.fprop.b]\nblock_2d = 1\n"),
            "r.toml:2: gemm.fprop.b.block_2d: expected a boolean (true or false), got an integer");
  EXPECT_EQ(error_of("[loss_scaling]\ngrowth_interval = 2000.0\n"),
            "r.toml:2: loss_scaling.growth_interval: expected an integer, got a float");
  EXPECT_EQ(error_of("[loss_scaling]\ninit_scale = \"65536\"\n"),
            "r.toml:2: loss_scaling.init_scale: expected a number, got a string");
  EXPECT_EQ(error_of("gemm = 3\n"), "r.toml:1: gemm: expected a table, got an integer");
  EXPECT_EQ(error_of("description = [\"a\"]\n"), "r.toml:1: description: expected a string, got an array");
  EXPECT_EQ(error_of("[override]\nlayer = \"x\"\n"),
            "r.toml:1: override: expected an array of tables ([[override]] sections), got a table");
  EXPECT_EQ(error_of("\nextends = 1979-05-27\n"), "r.toml:2: extends: expected a string, got a date");
}

TEST(RecipeErrors, BadValueNamesKeyLineAndTheKnownValues) {
  EXPECT_THAT(error_of("[gemm.fprop.a]\nformat = \"e9m9x\"\n"),
              AllOf(StartsWith("r.toml:2: gemm.fprop.a.format: unknown format 'e9m9x'"), HasSubstr("fpsim formats")));
  EXPECT_EQ(error_of("[gemm.fprop.a]\nscaling = \"tensor\"\n"),
            "r.toml:2: gemm.fprop.a.scaling: unknown scaling 'tensor'; known: none, current, delayed, mx, nvfp4, "
            "block");
  EXPECT_THAT(error_of("[gemm.fprop.a]\nrounding = \"nearest\"\n"),
              AllOf(StartsWith("r.toml:2: gemm.fprop.a.rounding: "), HasSubstr("use rne or rna")));
  EXPECT_EQ(error_of("[gemm.fprop.a]\nrounding = \"up\"\n"),
            "r.toml:2: gemm.fprop.a.rounding: unknown rounding mode 'up' (expected rne, rna, rtz, rup, rdn, rto, sr "
            "or sr<R> with 1 <= R <= 64)");
  EXPECT_EQ(error_of("[gemm.fprop.a]\noverflow = \"clip\"\n"),
            "r.toml:2: gemm.fprop.a.overflow: unknown overflow policy 'clip' (expected ieee or saturate)");
  EXPECT_EQ(error_of("[gemm.fprop.a]\ne8m0_rule = \"up\"\n"),
            "r.toml:2: gemm.fprop.a.e8m0_rule: unknown E8M0 scale rule 'up'; known: floor, ceil, rne");
  EXPECT_EQ(error_of("[gemm.fprop.a]\narith = \"fp64\"\n"),
            "r.toml:2: gemm.fprop.a.arith: unknown scale arithmetic 'fp64'; known: fp32, exact, fp32-te-legacy");
  EXPECT_EQ(error_of("[gemm.fprop.a]\namax_algo = \"mean\"\n"),
            "r.toml:2: gemm.fprop.a.amax_algo: unknown amax algorithm 'mean'; known: max, most_recent");
  EXPECT_EQ(error_of("update_rounding = \"sr8\"\n"),
            "r.toml:1: update_rounding: unknown update rounding 'sr8'; known: rne, sr, kahan");
  EXPECT_EQ(error_of("master_format = \"e8m0\"\n"),
            "r.toml:1: master_format: format 'e8m0' cannot hold values here (expected a signed float format such "
            "as fp32, bf16, fp16)");
  EXPECT_EQ(error_of("[[override]]\nlayer = \"x\"\ngemm = \"attention\"\nformat = \"bf16\"\n"),
            "r.toml:3: override[0].gemm: unknown GEMM (attention has no overrides: set [gemm.attention] instead) "
            "'attention'; known: fprop, dgrad, wgrad");
  EXPECT_EQ(error_of("[[override]]\nlayer = \"x\"\noperand = \"c\"\nformat = \"bf16\"\n"),
            "r.toml:3: override[0].operand: unknown operand 'c'; known: a, b");
}

TEST(RecipeErrors, UnknownRecipeNameListsTheBuiltins) {
  try {
    (void)load_recipe("fp8-curent");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown recipe 'fp8-curent'; built-in recipes: fp32, tf32, fp16-amp, bf16-amp, bf16-pure-rne, "
              "bf16-pure-sr, bf16-pure-kahan, fp8-delayed, fp8-current, mxfp8, fp8-block, nvfp4 (or a path to a "
              ".toml file: one containing '/' or ending in .toml)");
  }
}

TEST(RecipeErrors, TomlSyntaxErrorsGiveFileLineColumnAndTheParsersReason) {
  EXPECT_THAT(error_of("description = \"x\"\na = \n"), StartsWith("r.toml:2:5: TOML syntax error: "));
  EXPECT_THAT(error_of("[loss_scaling]\nenabled = true\nenabled = false\n"),
              AllOf(StartsWith("r.toml:3:"), HasSubstr(": TOML syntax error: "), HasSubstr("'enabled'")));
  EXPECT_THAT(error_of("description = \"unterminated\n"), StartsWith("r.toml:1:"));
}

TEST(RecipeErrors, OutOfRangeValuesNameKeyLineAndTheRange) {
  EXPECT_EQ(error_of("[gemm.fprop.a]\nblock = -1\n"),
            "r.toml:2: gemm.fprop.a.block: must be between 0 and 16777216, got -1");
  EXPECT_EQ(error_of("[gemm.fprop.a]\namax_history_len = 0\n"),
            "r.toml:2: gemm.fprop.a.amax_history_len: must be between 1 and 1048576, got 0");
  EXPECT_EQ(error_of("[gemm.fprop.a]\nmargin = -1\n"),
            "r.toml:2: gemm.fprop.a.margin: must be between 0 and 126, got -1");
  EXPECT_EQ(error_of("[gemm.fprop.a]\nmargin = 127\n"),
            "r.toml:2: gemm.fprop.a.margin: must be between 0 and 126, got 127");
  EXPECT_EQ(error_of("[gemm.fprop.a]\namax_epsilon = -1e-3\n"),
            "r.toml:2: gemm.fprop.a.amax_epsilon: must be a finite number >= 0, got -0.001");
  EXPECT_EQ(error_of("[loss_scaling]\ngrowth_interval = 0\n"),
            "r.toml:2: loss_scaling.growth_interval: must be between 1 and 2147483647, got 0");
  EXPECT_EQ(error_of("[loss_scaling]\ninit_scale = 0\n"),
            "r.toml:2: loss_scaling.init_scale: must be a finite number > 0, got 0");
  EXPECT_EQ(error_of("[loss_scaling]\ninit_scale = inf\n"),
            "r.toml:2: loss_scaling.init_scale: must be a finite number > 0, got inf");
  EXPECT_EQ(error_of("[loss_scaling]\ninit_scale = 1e39\n"),
            "r.toml:2: loss_scaling.init_scale: must be a finite number > 0, got 1e+39");
  EXPECT_EQ(error_of("[loss_scaling]\ngrowth_factor = 1.0\n"),
            "r.toml:2: loss_scaling.growth_factor: must be a finite number > 1, got 1");
  EXPECT_EQ(error_of("[loss_scaling]\nbackoff_factor = 1\n"),
            "r.toml:2: loss_scaling.backoff_factor: must be a number in (0, 1), got 1");
  EXPECT_EQ(error_of("[loss_scaling]\nbackoff_factor = nan\n"),
            "r.toml:2: loss_scaling.backoff_factor: must be a number in (0, 1), got nan");
}

TEST(RecipeErrors, SemanticChecksNameTheLineThatSetTheField) {
  // block never set: the line of the scaling that needs it.
  EXPECT_EQ(error_of("[gemm.fprop.a]\nformat = \"e4m3\"\nscaling = \"mx\"\n"),
            "r.toml:3: gemm.fprop.a.block: scaling 'mx' needs block >= 1, got 0");
  EXPECT_EQ(error_of("[gemm.fprop.a]\nformat = \"e4m3\"\nscaling = \"mx\"\nblock = 0\n"),
            "r.toml:4: gemm.fprop.a.block: scaling 'mx' needs block >= 1, got 0");
  // format and scaling conflict: the later of the two lines.
  EXPECT_EQ(error_of("[gemm.wgrad.b]\nformat = \"bf16\"\nscaling = \"mx\"\nblock = 32\n"),
            "r.toml:3: gemm.wgrad.b.format: scaling 'mx' quantizes to an element of at most 8 bits, got format "
            "'bf16' (use scaling 'none' for a plain cast)");
  EXPECT_EQ(error_of("[gemm.dgrad.a]\nformat = \"e8m0\"\n"),
            "r.toml:2: gemm.dgrad.a.format: format 'e8m0' is an unsigned scale format, not an operand format");
  EXPECT_EQ(error_of("[gemm.dgrad.a]\nformat = \"int8\"\nscaling = \"current\"\n"),
            "r.toml:3: gemm.dgrad.a.format: format 'int8' is an integer format: only scaling 'mx' (MXINT8) takes "
            "it, not scaling 'current'");
  EXPECT_EQ(error_of("[gemm.fprop.a]\nhadamard = true\n"),
            "r.toml:2: gemm.fprop.a.hadamard: hadamard = true needs a scaled operand (the transform is taken "
            "before the scales), got scaling 'none'");
  EXPECT_EQ(error_of("extends = \"fp8-block\"\n[gemm.fprop.a]\nblock_2d = true\n"),
            "r.toml:3: gemm.fprop.b.block_2d: both operands have 2-D blocks; at most one may (the weight)");
  EXPECT_THAT(error_of("[gemm.attention]\naccumulate = \"h100-fp8\"\n"),
              AllOf(StartsWith("r.toml:2: gemm.attention.accumulate: unknown MMA preset 'h100-fp8'; known: "),
                    HasSubstr("h100-e4m3-fp32"), HasSubstr("(or \"fp32\" for the plain FP32 sum)")));
  EXPECT_EQ(error_of("[gemm.fprop]\noutput = \"int8\"\n"),
            "r.toml:2: gemm.fprop.output: format 'int8' cannot hold a GEMM's output (expected a signed float "
            "format such as fp32, bf16, fp16)");
}

TEST(RecipeErrors, OverridesAreCheckedOverThePoliciesTheyChange) {
  EXPECT_EQ(error_of("extends = \"bf16-amp\"\n\n[[override]]\nlayer = \"h*\"\ngemm = \"dgrad\"\nformat = "
                     "\"e4m3\"\nscaling = \"mx\"\n"),
            "r.toml:3: override of layer 'h*' on gemm.dgrad: a.block: scaling 'mx' needs block >= 1, got 0");
  EXPECT_EQ(error_of("[[override]]\ngemm = \"fprop\"\nformat = \"bf16\"\n"),
            "r.toml:1: override[0]: needs layer = \"GLOB\" (\"*\" for every layer)");
  EXPECT_THAT(error_of("[[override]]\nlayer = \"x\"\ngemm = \"fprop\"\n"),
              StartsWith("r.toml:1: override[0]: sets nothing; expected at least one of accumulate, output, format, "));
}

}  // namespace
}  // namespace fpsim::experiments
