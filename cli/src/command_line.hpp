// The `fpsim` command line as a whole: dispatch to the subcommands, help
// wrapped to the terminal, one message format for every error, the exit
// statuses and the final check that stdout was written (docs/cli.md).
#pragma once

#include <string>
#include <vector>

namespace fpsim::cli {

// Runs `fpsim ARGS...` (argv[0] is not part of `args`) and returns the exit
// status: 0 success, 1 a check failed or a file could not be read or
// written (stdout included), 2 a usage error or bad input.
int run_fpsim(const std::vector<std::string>& args);

// Argument tokens with negative numbers made unambiguous for CLI11: a token
// such as "-.5", "-inf" or "-1e3" that follows an option taking a value is
// joined to it ("--seed=-1"); elsewhere it is a positional value, and then
// every positional value moves, in order, behind one "--". `takes_value`
// tells whether a token is an option that takes a value.
template <typename TakesValue>
std::vector<std::string> with_unambiguous_numbers(const std::vector<std::string>& tokens, TakesValue takes_value);

// Whether `token` is a negative number in the syntax values are written in
// (fpsim::parse_number: -1, -.5, -1e3, -0x1p3, -inf, -infinity, -nan).
bool is_negative_number(const std::string& token);

template <typename TakesValue>
std::vector<std::string> with_unambiguous_numbers(const std::vector<std::string>& tokens, TakesValue takes_value) {
  std::vector<std::string> in_order, options, positionals;
  bool negative_positional = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (t == "--") {
      for (size_t j = i + 1; j < tokens.size(); ++j) positionals.push_back(tokens[j]);
      in_order.insert(in_order.end(), tokens.begin() + std::ptrdiff_t(i), tokens.end());
      break;
    }
    if (t.size() > 1 && t[0] == '-' && !is_negative_number(t)) {
      std::vector<std::string> option{t};
      if (t.find('=') == std::string::npos && takes_value(t) && i + 1 < tokens.size()) {
        const std::string& value = tokens[++i];
        if (is_negative_number(value))
          option = {t + "=" + value};
        else
          option.push_back(value);
      }
      options.insert(options.end(), option.begin(), option.end());
      in_order.insert(in_order.end(), option.begin(), option.end());
      continue;
    }
    negative_positional = negative_positional || is_negative_number(t);
    positionals.push_back(t);
    in_order.push_back(t);
  }
  if (!negative_positional) return in_order;
  options.push_back("--");
  options.insert(options.end(), positionals.begin(), positionals.end());
  return options;
}

}  // namespace fpsim::cli
