// Recipes as TOML (docs/training.md, "Recipe files"): reading with toml++,
// `extends` chains, the checks and their messages, and the way back to TOML.
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/quoted_text.hpp"
#include "toml_text.hpp"

namespace fpsim::experiments {

namespace {

namespace fs = std::filesystem;

// ---- the schema ---------------------------------------------------------------------

constexpr std::string_view kTopKeys[] = {
    "description",  "extends", "fp32_ops_format", "master_format", "optimizer_state_format", "update_rounding",
    "loss_scaling", "gemm",    "override"};
constexpr std::string_view kLossScalingKeys[] = {"enabled", "init_scale", "growth_factor", "backoff_factor",
                                                 "growth_interval"};
constexpr std::string_view kGemmKeys[] = {"fprop", "dgrad", "wgrad", "attention"};
constexpr std::string_view kPolicyKeys[] = {"accumulate", "output", "a", "b"};
constexpr std::string_view kOperandKeys[] = {"format",   "scaling",          "block",       "block_2d",     "rounding",
                                             "overflow", "e8m0_rule",        "pow2_scales", "amax_epsilon", "hadamard",
                                             "arith",    "amax_history_len", "amax_algo",   "margin",
                                             "four_over_six", "row_scaled"};
constexpr std::string_view kOverrideOwnKeys[] = {"layer", "gemm", "operand", "accumulate", "output"};

constexpr OperandScaling kScalings[] = {OperandScaling::none, OperandScaling::current, OperandScaling::delayed,
                                        OperandScaling::mx,   OperandScaling::nvfp4,   OperandScaling::block};
constexpr GemmRole kRoles[] = {GemmRole::fprop, GemmRole::dgrad, GemmRole::wgrad};
constexpr UpdateRounding kUpdateRoundings[] = {UpdateRounding::rne, UpdateRounding::sr, UpdateRounding::kahan};

std::string_view amax_algo_name(AmaxAlgo a) { return a == AmaxAlgo::max ? "max" : "most_recent"; }

// Limits of the integer keys. A block longer than 2^24 elements would not
// fit any GEMM we run; fpsim::DelayedScaling divides by 2^margin as a
// normal FP32 number (margin <= 126), and a negative margin would aim the
// scale past the format's maximum; GradScaler's growth tracker is an int32
// (torch/amp/grad_scaler.py).
constexpr int64_t kMaxBlock = int64_t{1} << 24;
constexpr int64_t kMaxAmaxHistory = int64_t{1} << 20;
constexpr int64_t kMaxMargin = 126;
constexpr int64_t kMaxGrowthInterval = std::numeric_limits<int32_t>::max();

template <size_t N>
std::string joined(const std::string_view (&names)[N]) {
  std::string out;
  for (std::string_view n : names) out.append(out.empty() ? "" : ", ").append(n);
  return out;
}

std::string builtin_list() {
  std::string out;
  for (const std::string& n : builtin_recipe_names()) out.append(out.empty() ? "" : ", ").append(n);
  return out;
}

bool is_builtin(std::string_view name) {
  const std::vector<std::string> names = builtin_recipe_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A recipe is named by a path when it looks like one (docs/training.md).
bool names_a_file(std::string_view s) { return s.find('/') != std::string_view::npos || s.ends_with(".toml"); }

std::string unknown_recipe_message(std::string_view name) {
  return "unknown recipe " + quoted_text(name) + "; built-in recipes: " + builtin_list() +
         " (or a path to a .toml file: one containing '/' or ending in .toml)";
}


// ---- reading one file ----------------------------------------------------------------

// The file being read: its name in messages and the folder its relative
// `extends` paths start from.
struct Source {
  std::string name;
  fs::path dir;
};

// Where a field was last set: "file:line", and when: files in the order
// their keys apply (a parent before its child), then lines. (toml++ hands
// a table's keys over sorted by name, not in file order.)
struct Origin {
  std::string where;
  uint64_t order = 0;
};
class Origins {
 public:
  // Called as each file's keys start to apply.
  void next_file() { ++file_; }
  void set(const std::string& key, std::string where, uint32_t line) {
    by_key_[key] = {std::move(where), (file_ << 32) | line};
  }
  const Origin* find(const std::string& key) const {
    const auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, Origin> by_key_;
  uint64_t file_ = 0;
};

// Reads the keys of one TOML document into a Recipe that already holds its
// parent's values, remembering where each field was set (by dotted key) so
// that a later check can point at the line.
class DocumentReader {
 public:
  DocumentReader(const Source& source, Origins& origins, std::vector<std::string>& override_origins)
      : source_(source), origins_(origins), override_origins_(override_origins) {}

  void read(const toml::table& doc, Recipe& r) {
    origins_.next_file();
    for (auto&& [k, v] : doc) {
      const std::string key(k.str());
      if (key == "extends") continue;  // resolved before this file's keys apply
      note(key, v);
      if (key == "description") {
        r.description = text(v, key);
      } else if (key == "fp32_ops_format") {
        r.fp32_ops_format = value_format(v, key);
      } else if (key == "master_format") {
        r.master_format = value_format(v, key);
      } else if (key == "optimizer_state_format") {
        r.optimizer_state_format = value_format(v, key);
      } else if (key == "update_rounding") {
        r.update_rounding = update_rounding(v, key);
      } else if (key == "loss_scaling") {
        read_loss_scaling(table(v, key), r.loss_scaling);
      } else if (key == "gemm") {
        read_gemm(table(v, key), r);
      } else if (key == "override") {
        read_overrides(v, r.overrides);
      } else {
        unknown_key(k, key, joined(kTopKeys));
      }
    }
  }

  // The location of a node, for messages: "file:line".
  std::string at(const toml::source_region& where) const {
    return escaped_text(source_.name) + ":" + std::to_string(where.begin.line);
  }

  [[noreturn]] void fail(const toml::node& v, const std::string& key, const std::string& what) const {
    throw ConfigError(at(v.source()) + ": " + key + ": " + what);
  }

  std::string text(const toml::node& v, const std::string& key) const {
    if (!v.is_string()) wrong_type(v, key, "a string");
    return std::string(*v.value<std::string_view>());
  }

 private:
  void note(const std::string& key, const toml::node& v) { origins_.set(key, at(v.source()), v.source().begin.line); }

  [[noreturn]] void wrong_type(const toml::node& v, const std::string& key, const std::string& expected) const {
    fail(v, key, "expected " + expected + ", got " + toml_type_name(v.type()));
  }

  [[noreturn]] void unknown_key(const toml::key& k, const std::string& key, const std::string& known) const {
    throw ConfigError(at(k.source()) + ": unknown key " + quoted_text(key) + "; known keys: " + known);
  }

  const toml::table& table(const toml::node& v, const std::string& key) const {
    if (!v.is_table()) wrong_type(v, key, "a table");
    return *v.as_table();
  }

  bool boolean(const toml::node& v, const std::string& key) const {
    if (!v.is_boolean()) wrong_type(v, key, "a boolean (true or false)");
    return *v.value<bool>();
  }

  int64_t integer(const toml::node& v, const std::string& key, int64_t lo, int64_t hi) const {
    if (!v.is_integer()) wrong_type(v, key, "an integer");
    const int64_t i = *v.value<int64_t>();
    if (i < lo || i > hi)
      fail(v, key,
           "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + std::to_string(i));
    return i;
  }

  // A TOML float or integer stored as FP32 (rounded to nearest, as
  // PyTorch's and TE's FP32 scalars are); `ok` names the allowed range.
  template <typename Ok>
  float real(const toml::node& v, const std::string& key, Ok ok, const char* range) const {
    if (!v.is_floating_point() && !v.is_integer()) wrong_type(v, key, "a number");
    const double d = v.is_integer() ? double(*v.value<int64_t>()) : *v.value<double>();
    // Below FLT_MAX + half an ulp (0x1.ffffffp127) a double rounds to a
    // finite float; at or above it, to inf.
    if (!std::isfinite(d) || std::fabs(d) >= 0x1.ffffffp127 || !ok(float(d))) {
      char shown[64];
      std::snprintf(shown, sizeof shown, "%.9g", d);
      fail(v, key, std::string("must be ") + range + ", got " + shown);
    }
    return float(d);
  }

  // Runs a name parser of sim/ and puts its message on the key's line.
  template <typename Parse>
  auto named(const toml::node& v, const std::string& key, Parse parse) const {
    const std::string name = text(v, key);
    try {
      return parse(name);
    } catch (const Error& e) {
      fail(v, key, e.what());
    }
  }

  Format value_format(const toml::node& v, const std::string& key) const {
    const Format f = named(v, key, [](const std::string& s) { return parse_format(s); });
    if (f.is_scale() || f.is_integer() || !f.has_sign)
      fail(v, key,
           "format '" + std::string(f.name) +
               "' cannot hold values here (expected a signed float format such as "
               "fp32, bf16, fp16)");
    return f;
  }

  template <typename Enum, size_t N, typename NameOf>
  Enum keyword(const toml::node& v, const std::string& key, const Enum (&values)[N], NameOf name_of,
               const char* what) const {
    const std::string name = text(v, key);
    std::string known;
    for (Enum e : values) {
      if (name == name_of(e)) return e;
      known.append(known.empty() ? "" : ", ").append(name_of(e));
    }
    fail(v, key, std::string("unknown ") + what + " " + quoted_text(name) + "; known: " + known);
  }

  UpdateRounding update_rounding(const toml::node& v, const std::string& key) const {
    return keyword(v, key, kUpdateRoundings, update_rounding_name, "update rounding");
  }

  void read_loss_scaling(const toml::table& t, LossScaling& ls) {
    for (auto&& [k, v] : t) {
      const std::string key = "loss_scaling." + std::string(k.str());
      note(key, v);
      if (k == "enabled") {
        ls.enabled = boolean(v, key);
      } else if (k == "init_scale") {
        ls.init_scale = real(
            v, key, [](float x) { return x > 0; }, "a finite number > 0");
      } else if (k == "growth_factor") {
        // GradScaler asserts growth_factor > 1 and backoff_factor < 1.
        ls.growth_factor = real(
            v, key, [](float x) { return x > 1; }, "a finite number > 1");
      } else if (k == "backoff_factor") {
        ls.backoff_factor = real(
            v, key, [](float x) { return x > 0 && x < 1; }, "a number in (0, 1)");
      } else if (k == "growth_interval") {
        ls.growth_interval = int(integer(v, key, 1, kMaxGrowthInterval));
      } else {
        unknown_key(k, key, joined(kLossScalingKeys));
      }
    }
  }

  void read_gemm(const toml::table& t, Recipe& r) {
    for (auto&& [k, v] : t) {
      const std::string key = "gemm." + std::string(k.str());
      note(key, v);
      GemmPolicy* p = k == "fprop"       ? &r.fprop
                      : k == "dgrad"     ? &r.dgrad
                      : k == "wgrad"     ? &r.wgrad
                      : k == "attention" ? &r.attention
                                         : nullptr;
      if (p == nullptr) unknown_key(k, key, joined(kGemmKeys));
      read_policy(table(v, key), key, *p);
    }
  }

  void read_policy(const toml::table& t, const std::string& path, GemmPolicy& p) {
    for (auto&& [k, v] : t) {
      const std::string key = path + "." + std::string(k.str());
      note(key, v);
      if (k == "accumulate") {
        p.accumulate = text(v, key);
      } else if (k == "output") {
        p.output = named(v, key, [](const std::string& s) { return parse_format(s); });
      } else if (k == "a" || k == "b") {
        OperandPatch patch;
        for (auto&& [ok, ov] : table(v, key)) {
          const std::string okey = key + "." + std::string(ok.str());
          note(okey, ov);
          if (!read_operand_key(ok.str(), ov, okey, patch)) unknown_key(ok, okey, joined(kOperandKeys));
        }
        apply_operand_patch(patch, k == "a" ? p.a : p.b);
      } else {
        unknown_key(k, key, joined(kPolicyKeys));
      }
    }
  }

  // One operand key into `patch`; false when `name` is not an operand key.
  bool read_operand_key(std::string_view name, const toml::node& v, const std::string& key, OperandPatch& patch) {
    if (name == "format") {
      patch.format = named(v, key, [](const std::string& s) { return parse_format(s); });
    } else if (name == "scaling") {
      patch.scaling = keyword(v, key, kScalings, operand_scaling_name, "scaling");
    } else if (name == "block") {
      patch.block = size_t(integer(v, key, 0, kMaxBlock));
    } else if (name == "block_2d") {
      patch.block_2d = boolean(v, key);
    } else if (name == "rounding") {
      patch.rounding = named(v, key, [](const std::string& s) {
        RoundingSpec spec;
        parse_rounding(s, spec);
        return spec;
      });
    } else if (name == "overflow") {
      patch.overflow = named(v, key, [](const std::string& s) { return parse_overflow(s); });
    } else if (name == "e8m0_rule") {
      patch.e8m0_rule = named(v, key, [](const std::string& s) { return parse_e8m0_rule(s); });
    } else if (name == "pow2_scales") {
      patch.pow2_scales = boolean(v, key);
    } else if (name == "amax_epsilon") {
      patch.amax_epsilon = real(
          v, key, [](float x) { return x >= 0; }, "a finite number >= 0");
    } else if (name == "hadamard") {
      patch.hadamard = boolean(v, key);
    } else if (name == "arith") {
      patch.arith = named(v, key, [](const std::string& s) { return parse_scale_arith(s); });
    } else if (name == "four_over_six") {
      patch.four_over_six = named(v, key, [](const std::string& s) { return parse_four_over_six(s); });
    } else if (name == "row_scaled") {
      patch.row_scaled = boolean(v, key);
    } else if (name == "amax_history_len") {
      patch.amax_history_len = size_t(integer(v, key, 1, kMaxAmaxHistory));
    } else if (name == "amax_algo") {
      patch.amax_algo = keyword(v, key, {AmaxAlgo::max, AmaxAlgo::most_recent}, amax_algo_name, "amax algorithm");
    } else if (name == "margin") {
      patch.margin = int(integer(v, key, 0, kMaxMargin));
    } else {
      return false;
    }
    return true;
  }

  void read_overrides(const toml::node& v, std::vector<GemmOverride>& out) {
    const toml::array* list = v.as_array();
    if (list == nullptr || !list->is_array_of_tables())
      wrong_type(v, "override", "an array of tables ([[override]] sections)");
    for (size_t i = 0; i < list->size(); ++i) {
      const toml::table& t = *list->get(i)->as_table();
      const std::string path = "override[" + std::to_string(i) + "]";
      GemmOverride o;
      bool has_layer = false, sets_something = false;
      for (auto&& [k, ov] : t) {
        const std::string key = path + "." + std::string(k.str());
        if (k == "layer") {
          o.layer_glob = text(ov, key);
          has_layer = true;
        } else if (k == "gemm") {
          o.gemm = keyword(ov, key, kRoles, gemm_role_name,
                           "GEMM (attention has no overrides: set [gemm.attention] instead)");
        } else if (k == "operand") {
          const std::string operand = text(ov, key);
          if (operand != "a" && operand != "b")
            fail(ov, key, "unknown operand " + quoted_text(operand) + "; known: a, b");
          o.operand = operand[0];
        } else if (k == "accumulate") {
          o.accumulate = text(ov, key);
          sets_something = true;
        } else if (k == "output") {
          o.output = named(ov, key, [](const std::string& s) { return parse_format(s); });
          sets_something = true;
        } else if (read_operand_key(k.str(), ov, key, o.patch)) {
          sets_something = true;
        } else {
          unknown_key(k, key, joined(kOverrideOwnKeys) + ", " + joined(kOperandKeys));
        }
      }
      if (!has_layer) fail(t, path, "needs layer = \"GLOB\" (\"*\" for every layer)");
      if (!sets_something)
        fail(t, path, "sets nothing; expected at least one of accumulate, output, " + joined(kOperandKeys));
      out.push_back(std::move(o));
      override_origins_.push_back(at(t.source()));
    }
  }

  const Source& source_;
  Origins& origins_;
  std::vector<std::string>& override_origins_;
};

// ---- extends chains and the checks of the whole --------------------------------------

// How a cycle is recognised: the same file by any path (symbolic links and
// "a/../" resolved).
fs::path canonical_identity(const fs::path& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  return ec ? fs::absolute(path, ec).lexically_normal() : canonical;
}

class Resolver {
 public:
  // The recipe of one file with its `extends` chain resolved; `identity`
  // is the file's canonical path (how a cycle is recognised).
  Recipe resolve(std::string_view text, const Source& source, const fs::path& identity) {
    chain_.emplace_back(identity, source.name);
    toml::table doc;
    try {
      doc = toml::parse(text, std::string_view(source.name));
    } catch (const toml::parse_error& e) {
      throw ConfigError(escaped_text(source.name) + ":" + std::to_string(e.source().begin.line) + ":" +
                        std::to_string(e.source().begin.column) +
                        ": TOML syntax error: " + parser_message(e.description()));
    }
    DocumentReader reader(source, origins_, override_origins_);
    Recipe r;
    if (const toml::node* e = doc.get("extends")) {
      const std::string parent = reader.text(*e, "extends");
      r = resolve_parent(parent, source, reader, *e);
      r.extends = parent;
    }
    reader.read(doc, r);
    chain_.pop_back();
    return r;
  }

  // Every policy of the resolved recipe, and each override over the
  // policies it can change, checked by validate_gemm_policy's rules. The
  // message names the line that last set the field at fault or the field
  // that explains it (a block scaling without a block: the scaling's line).
  void check(const Recipe& r, const std::string& top) const {
    const std::pair<const char*, const GemmPolicy*> policies[] = {
        {"fprop", &r.fprop}, {"dgrad", &r.dgrad}, {"wgrad", &r.wgrad}, {"attention", &r.attention}};
    for (const auto& [role, policy] : policies) {
      if (const auto problem = detail::policy_problem(*policy)) {
        const std::string key = std::string("gemm.") + role + "." + problem->field;
        const Origin* field = origins_.find(key);
        const Origin* related = problem->related_field.empty()
                                    ? nullptr
                                    : origins_.find(std::string("gemm.") + role + "." + problem->related_field);
        const Origin* latest =
            field == nullptr || (related != nullptr && related->order > field->order) ? related : field;
        throw ConfigError((latest == nullptr ? escaped_text(top) : latest->where) + ": " + key + ": " +
                          problem->message);
      }
    }
    for (size_t i = 0; i < r.overrides.size(); ++i) {
      const GemmOverride& o = r.overrides[i];
      for (GemmRole role : kRoles) {
        if (o.gemm && *o.gemm != role) continue;
        // The override alone over the recipe's policy, as on a layer no
        // other override matches.
        Recipe alone;
        alone.fprop = r.fprop;
        alone.dgrad = r.dgrad;
        alone.wgrad = r.wgrad;
        GemmOverride everywhere = o;
        everywhere.layer_glob = std::string(1, '*');  // not = "*": GCC 12's -Wrestrict misfires on it here
        alone.overrides.push_back(std::move(everywhere));
        if (const auto problem = detail::policy_problem(alone.policy_for("layer", role)))
          throw ConfigError(override_origins_[i] + ": override of layer " + quoted_text(o.layer_glob) + " on gemm." +
                            std::string(gemm_role_name(role)) + ": " + problem->field + ": " + problem->message);
      }
    }
  }

 private:
  Recipe resolve_parent(const std::string& parent, const Source& child, const DocumentReader& reader,
                        const toml::node& at) {
    fs::path path;
    if (names_a_file(parent)) {
      // open() would stop at a NUL ("\u0000" in TOML) and read another file.
      if (parent.find('\0') != std::string::npos) {
        std::string why = "path ";  // appended: GCC 12's -Wrestrict misfires on "lit" + std::string
        why += quoted_text(parent);
        why += " contains a NUL byte";
        reader.fail(at, "extends", why);
      }
      path = (child.dir / parent).lexically_normal();
    } else if (is_builtin(parent)) {
      path = builtin_recipe_dir() / (parent + ".toml");
    } else {
      reader.fail(at, "extends", unknown_recipe_message(parent));
    }
    const fs::path identity = canonical_identity(path);
    const auto first =
        std::find_if(chain_.begin(), chain_.end(), [&](const auto& link) { return link.first == identity; });
    if (first != chain_.end()) {
      std::string cycle;
      for (auto link = first; link != chain_.end(); ++link) cycle.append(escaped_text(link->second)).append(" -> ");
      reader.fail(at, "extends", "cycle: " + cycle + escaped_text(path.string()));
    }
    std::string text;
    try {
      text = io::read_input_file(path.string());
    } catch (const IoError& e) {
      // fpsim_io names the path as given, raw (a command line's); this one
      // comes from the file and may hold a tab or any other byte, so the
      // message is escaped as every echo of input is (fpsim/quoted_text.hpp).
      throw IoError(reader.at(at.source()) + ": extends: " + escaped_text(e.what()));
    }
    return resolve(text, Source{path.string(), path.parent_path()}, identity);
  }

  // The files being resolved, outermost first: identity and name.
  std::vector<std::pair<fs::path, std::string>> chain_;
  Origins origins_;
  std::vector<std::string> override_origins_;  // "file:line" of each override, in r.overrides' order
};

Recipe parse_named(std::string_view text, const std::string& source, const fs::path& path, std::string name) {
  Resolver resolver;
  Recipe r = resolver.resolve(text, Source{source, path.parent_path()}, canonical_identity(path));
  resolver.check(r, source);
  r.name = std::move(name);
  return r;
}

// ---- writing --------------------------------------------------------------------------


// A float that reads back as the same FP32 value: the shortest decimal that
// does; if reading it through a double would round it to another float
// (double rounding), the double's shortest form, which is exact.
std::string toml_float(float f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  std::string s(buf, std::to_chars(buf, buf + sizeof buf, f).ptr);
  if (float(std::strtod(s.c_str(), nullptr)) != f) s.assign(buf, std::to_chars(buf, buf + sizeof buf, double(f)).ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string format_value(const Format& f) { return toml_string(f.name); }

void write_operand(std::string& out, const OperandPolicy& p) {
  out += "format = " + format_value(p.format) + "\n";
  out += "scaling = " + toml_string(operand_scaling_name(p.scaling)) + "\n";
  out += "block = " + std::to_string(p.block) + "\n";
  out += std::string("block_2d = ") + (p.block_2d ? "true" : "false") + "\n";
  out += "rounding = " + toml_string(rounding_name(p.rounding)) + "\n";
  out += "overflow = " + toml_string(overflow_name(p.rounding.overflow)) + "\n";
  out += "e8m0_rule = " + toml_string(e8m0_rule_name(p.e8m0_rule)) + "\n";
  out += std::string("pow2_scales = ") + (p.pow2_scales ? "true" : "false") + "\n";
  out += "amax_epsilon = " + toml_float(p.amax_epsilon) + "\n";
  out += std::string("hadamard = ") + (p.hadamard ? "true" : "false") + "\n";
  out += "arith = " + toml_string(scale_arith_name(p.arith)) + "\n";
  out += "amax_history_len = " + std::to_string(p.amax_history_len) + "\n";
  out += "amax_algo = " + toml_string(amax_algo_name(p.amax_algo)) + "\n";
  out += "margin = " + std::to_string(p.margin) + "\n";
  out += "four_over_six = " + toml_string(four_over_six_name(p.four_over_six)) + "\n";
  out += std::string("row_scaled = ") + (p.row_scaled ? "true" : "false") + "\n";
}

void write_patch(std::string& out, const OperandPatch& p) {
  if (p.format) out += "format = " + format_value(*p.format) + "\n";
  if (p.scaling) out += "scaling = " + toml_string(operand_scaling_name(*p.scaling)) + "\n";
  if (p.block) out += "block = " + std::to_string(*p.block) + "\n";
  if (p.block_2d) out += std::string("block_2d = ") + (*p.block_2d ? "true" : "false") + "\n";
  if (p.rounding) out += "rounding = " + toml_string(rounding_name(*p.rounding)) + "\n";
  if (p.overflow) out += "overflow = " + toml_string(overflow_name(*p.overflow)) + "\n";
  if (p.e8m0_rule) out += "e8m0_rule = " + toml_string(e8m0_rule_name(*p.e8m0_rule)) + "\n";
  if (p.pow2_scales) out += std::string("pow2_scales = ") + (*p.pow2_scales ? "true" : "false") + "\n";
  if (p.amax_epsilon) out += "amax_epsilon = " + toml_float(*p.amax_epsilon) + "\n";
  if (p.hadamard) out += std::string("hadamard = ") + (*p.hadamard ? "true" : "false") + "\n";
  if (p.arith) out += "arith = " + toml_string(scale_arith_name(*p.arith)) + "\n";
  if (p.amax_history_len) out += "amax_history_len = " + std::to_string(*p.amax_history_len) + "\n";
  if (p.amax_algo) out += "amax_algo = " + toml_string(amax_algo_name(*p.amax_algo)) + "\n";
  if (p.margin) out += "margin = " + std::to_string(*p.margin) + "\n";
  if (p.four_over_six) out += "four_over_six = " + toml_string(four_over_six_name(*p.four_over_six)) + "\n";
  if (p.row_scaled) out += std::string("row_scaled = ") + (*p.row_scaled ? "true" : "false") + "\n";
}

}  // namespace

std::string recipe_name(std::string_view name_or_path) {
  return names_a_file(name_or_path) ? fs::path(name_or_path).stem().string() : std::string(name_or_path);
}

Recipe load_recipe(std::string_view name_or_path) {
  const std::string s(name_or_path);
  if (names_a_file(s)) return parse_named(io::read_input_file(s), s, s, recipe_name(s));
  if (!is_builtin(s)) throw ConfigError(unknown_recipe_message(s));
  const fs::path path = builtin_recipe_dir() / (s + ".toml");
  return parse_named(io::read_input_file(path.string()), path.string(), path, s);
}

Recipe parse_recipe(std::string_view toml_text, std::string_view source) {
  const std::string s(source);
  return parse_named(toml_text, s, s, fs::path(s).stem().string());
}

std::string recipe_to_toml(const Recipe& r) {
  std::string out = "# Recipe " + quoted_text(r.name, 200) + " with every field resolved";
  if (!r.extends.empty()) out += " (it extends " + quoted_text(r.extends, 200) + ")";
  out += ".\n";
  out += "description = " + toml_string(r.description) + "\n";
  out += "fp32_ops_format = " + format_value(r.fp32_ops_format) + "\n";
  out += "master_format = " + format_value(r.master_format) + "\n";
  out += "optimizer_state_format = " + format_value(r.optimizer_state_format) + "\n";
  out += "update_rounding = " + toml_string(update_rounding_name(r.update_rounding)) + "\n";
  out += "\n[loss_scaling]\n";
  out += std::string("enabled = ") + (r.loss_scaling.enabled ? "true" : "false") + "\n";
  out += "init_scale = " + toml_float(r.loss_scaling.init_scale) + "\n";
  out += "growth_factor = " + toml_float(r.loss_scaling.growth_factor) + "\n";
  out += "backoff_factor = " + toml_float(r.loss_scaling.backoff_factor) + "\n";
  out += "growth_interval = " + std::to_string(r.loss_scaling.growth_interval) + "\n";
  const std::pair<const char*, const GemmPolicy*> policies[] = {
      {"fprop", &r.fprop}, {"dgrad", &r.dgrad}, {"wgrad", &r.wgrad}, {"attention", &r.attention}};
  for (const auto& [role, p] : policies) {
    out += std::string("\n[gemm.") + role + "]\n";
    out += "accumulate = " + toml_string(p->accumulate) + "\n";
    out += "output = " + format_value(p->output) + "\n";
    out += std::string("\n[gemm.") + role + ".a]\n";
    write_operand(out, p->a);
    out += std::string("\n[gemm.") + role + ".b]\n";
    write_operand(out, p->b);
  }
  for (const GemmOverride& o : r.overrides) {
    out += "\n[[override]]\n";
    out += "layer = " + toml_string(o.layer_glob) + "\n";
    if (o.gemm) out += "gemm = " + toml_string(gemm_role_name(*o.gemm)) + "\n";
    if (o.operand) out += "operand = " + toml_string(std::string(1, *o.operand)) + "\n";
    write_patch(out, o.patch);
    if (o.accumulate) out += "accumulate = " + toml_string(*o.accumulate) + "\n";
    if (o.output) out += "output = " + format_value(*o.output) + "\n";
  }
  return out;
}

}  // namespace fpsim::experiments
