// Option values read strictly, the same way in every subcommand
// (docs/cli.md, "Options"). CLI11's own integer conversion reads "-5" as
// 2^64 - 5 and saturates values that do not fit; these helpers refuse both,
// and every refusal names the option and the text it was given. Named
// choices (--print hex|dec|both) are read into enums once, from one table
// per option.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fpsim::cli {

// Decimal digits only (no sign, blank, 0x or fraction), a value in
// [min, max]. Throws OptionError: "--samples '-5': expected a whole number
// from 1 to 1000000000000000".
uint64_t parse_whole_number(std::string_view option, std::string_view text, uint64_t min, uint64_t max);

// `--shard i/n`: the i-th of n equal slices, 0 <= i < n, both whole numbers
// as parse_whole_number reads them. Throws OptionError naming the text.
struct Shard {
  uint64_t index = 0, count = 1;
};
Shard parse_shard(std::string_view option, std::string_view text);

// One choice of a named-choice option: the name on the command line and the
// enum it stands for. A command lists an option's choices once, in a table
// that parsing, the refusal and the printed name all read.
template <typename Enum>
struct NamedValue {
  std::string_view name;
  Enum value;
};

// Throws OptionError "--print 'octal': expected hex, dec or both".
[[noreturn]] void throw_unknown_name(std::string_view option, std::string_view text,
                                     std::span<const std::string_view> names);

// The value `text` names (exactly) in `table`; throw_unknown_name otherwise.
template <typename Enum, size_t N>
Enum parse_named_value(std::string_view option, std::string_view text, const NamedValue<Enum> (&table)[N]) {
  std::string_view names[N];
  for (size_t i = 0; i < N; ++i) {
    if (table[i].name == text) return table[i].value;
    names[i] = table[i].name;
  }
  throw_unknown_name(option, text, names);
}

// The name of `value` in `table` ("?" when it has none).
template <typename Enum, size_t N>
std::string_view name_of(Enum value, const NamedValue<Enum> (&table)[N]) {
  for (const NamedValue<Enum>& v : table)
    if (v.value == value) return v.name;
  return "?";
}

// Throws OptionError unless `path` is a file name or "-" (stdin / stdout).
// An empty name is refused rather than read as "-".
void check_path_option(std::string_view option, const std::string& path, const char* dash_means);

// Adds `--name N` to `cmd`, parsed with parse_whole_number into `target`
// (an integer or a std::optional of one). The help text gets the range.
template <typename T>
CLI::Option* add_whole_number_option(CLI::App* cmd, const std::string& name, T& target, uint64_t min, uint64_t max,
                                     const std::string& help) {
  CLI::Option* opt = cmd->add_option_function<std::string>(
      name,
      [&target, name, min, max](const std::string& text) {
        using Value = std::remove_cvref_t<decltype(target)>;
        if constexpr (requires { typename Value::value_type; }) {
          target = typename Value::value_type(parse_whole_number(name, text, min, max));
        } else {
          target = Value(parse_whole_number(name, text, min, max));
        }
      },
      help + " (" + std::to_string(min) + " to " + std::to_string(max) + ")");
  opt->type_name("N");
  return opt;
}

// A hidden option that only says what replaced it: old scripts get a clear
// error instead of "unexpected argument".
void add_renamed_option(CLI::App* cmd, const std::string& old_name, const std::string& what_instead,
                        bool takes_value = true);

}  // namespace fpsim::cli
