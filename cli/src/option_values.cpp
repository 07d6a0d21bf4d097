#include "option_values.hpp"

#include "fpsim/error.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::cli {

uint64_t parse_whole_number(std::string_view option, std::string_view text, uint64_t min, uint64_t max) {
  uint64_t value = 0;
  bool ok = !text.empty();  // leading zeros are fine; the loop refuses values above 2^64 - 1
  for (size_t i = 0; ok && i < text.size(); ++i) {
    const char c = text[i];
    const auto digit = uint64_t(c - '0');
    ok = c >= '0' && c <= '9' && value <= (UINT64_MAX - digit) / 10;
    value = value * 10 + digit;
  }
  if (!ok || value < min || value > max)
    throw OptionError(std::string(option)
                          .append(" ")
                          .append(quoted_text(text))
                          .append(": expected a whole number from ")
                          .append(std::to_string(min))
                          .append(" to ")
                          .append(std::to_string(max)));
  return value;
}

Shard parse_shard(std::string_view option, std::string_view text) {
  const size_t slash = text.find('/');
  const auto refuse = [&] {
    return OptionError(
        std::string(option).append(" ").append(quoted_text(text)).append(": expected i/n with 0 <= i < n, e.g. 0/4"));
  };
  if (slash == std::string_view::npos) throw refuse();
  Shard shard;
  try {
    shard.index = parse_whole_number(option, text.substr(0, slash), 0, UINT64_MAX - 1);
    shard.count = parse_whole_number(option, text.substr(slash + 1), 1, UINT64_MAX);
  } catch (const OptionError&) {
    throw refuse();
  }
  if (shard.index >= shard.count) throw refuse();
  return shard;
}

void throw_unknown_name(std::string_view option, std::string_view text, std::span<const std::string_view> names) {
  std::string message = std::string(option).append(" ").append(quoted_text(text)).append(": expected ");
  for (size_t i = 0; i < names.size(); ++i)
    message.append(i == 0 ? "" : i + 1 == names.size() ? " or " : ", ").append(names[i]);
  throw OptionError(message);
}

void check_path_option(std::string_view option, const std::string& path, const char* dash_means) {
  if (path.empty())
    throw OptionError(std::string(option).append(" '': expected a file name, or - for ").append(dash_means));
}

void add_renamed_option(CLI::App* cmd, const std::string& old_name, const std::string& what_instead, bool takes_value) {
  const std::string message = old_name + " is gone: " + what_instead;
  CLI::Option* opt = takes_value ? cmd->add_option_function<std::string>(
                                       old_name, [message](const std::string&) { throw OptionError(message); })
                                 : cmd->add_flag_callback(old_name, [message] { throw OptionError(message); });
  opt->group("");
}

}  // namespace fpsim::cli
