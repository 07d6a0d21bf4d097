#include "command_line.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>
#include <optional>
#include <sstream>
#include <string_view>

#include "convert_command.hpp"
#include "formats_command.hpp"
#include "fpsim/decimal.hpp"
#include "fpsim/error.hpp"
#include "fpsim/quoted_text.hpp"
#include "mma_command.hpp"
#include "mma_error_command.hpp"
#include "report_command.hpp"
#include "sweep_command.hpp"
#include "gpu_command.hpp"
#include "probe_command.hpp"
#include "quantize_command.hpp"
#include "recipes_command.hpp"
#include "command_errors.hpp"
#include "testfloat_command.hpp"
#include "train_command.hpp"
#include "verify_command.hpp"

#ifndef FPSIM_VERSION
#error "FPSIM_VERSION is defined by cli/CMakeLists.txt from the project version"
#endif

namespace fpsim::cli {

namespace {

// ---- help text wrapped to the terminal ---------------------------------------

// The width help is wrapped to: the terminal's, else $COLUMNS, else 80.
size_t help_width() {
  size_t width = 80;
  winsize ws{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    width = ws.ws_col;
  } else if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long c = std::strtol(columns, &end, 10);
    if (end != columns && *end == '\0' && c > 0) width = size_t(c);
  }
  return std::clamp<size_t>(width, 50, 160);
}

// Greedy word wrap of each paragraph ('\n' separated) to `width` columns.
std::string wrapped(std::string_view text, size_t width) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view paragraph = text.substr(start, end - start);
    size_t i = 0;
    while (i < paragraph.size() && paragraph[i] == ' ') ++i;  // a paragraph's indentation stays
    out.append(i, ' ');
    size_t column = i;
    const size_t indent = i;
    while (i < paragraph.size()) {
      while (i < paragraph.size() && paragraph[i] == ' ') ++i;
      const size_t word_end = std::min(paragraph.find(' ', i), paragraph.size());
      if (i == word_end) break;
      const size_t len = word_end - i;
      if (column > indent && column + 1 + len > width) {
        out += '\n';
        out.append(indent, ' ');
        column = indent;
      } else if (column > indent) {
        out += ' ';
        ++column;
      }
      out.append(paragraph.substr(i, len));
      column += len;
      i = word_end;
    }
    if (end == text.size()) break;
    out += '\n';
    start = end + 1;
  }
  return out;
}

class WrappingFormatter : public CLI::Formatter {
 public:
  WrappingFormatter() { column_width(28); }

  std::string make_description(const CLI::App* app) const override {
    const std::string& d = app->get_description();
    return d.empty() ? std::string() : wrapped(d, help_width()) + "\n";
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    return wrapped(opt->get_description(), description_width());
  }
  std::string make_subcommand(const CLI::App* sub) const override {
    std::stringstream out;
    // The command list shows each description's first sentence; COMMAND --help the rest.
    const std::string& d = sub->get_description();
    const size_t end = d.find(". ");
    CLI::detail::format_help(out, sub->get_name(),
                             wrapped(d.substr(0, end == std::string::npos ? d.size() : end + 1), description_width()),
                             column_width_);
    return out.str();
  }
  std::string make_footer(const CLI::App* app) const override {
    const std::string& f = app->get_footer();
    return f.empty() ? std::string() : wrapped(f, help_width()) + "\n";
  }

 private:
  size_t description_width() const { return std::max<size_t>(help_width() - column_width_, 30); }
};

// ---- commands -------------------------------------------------------------------

struct Command {
  const char* name;
  void (*add)(CLI::App&, int&);
};

constexpr Command kCommands[] = {
    {"formats", add_formats_command},     {"convert", add_convert_command},   {"testfloat", add_testfloat_command},
    {"verify", add_verify_command},       {"quantize", add_quantize_command}, {"mma", add_mma_command},
    {"mma-error", add_mma_error_command}, {"probe", add_probe_command},       {"recipes", add_recipes_command},
    {"train", add_train_command},         {"sweep", add_sweep_command},       {"report", add_report_command},
    {"gpu", add_gpu_command},
};

std::string command_list() {
  std::string s;
  for (const Command& c : kCommands) s.append(s.empty() ? "" : ", ").append(c.name);
  return s;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string unknown_command_message(const std::string& name) {
  std::string msg = "unknown command " + quoted_text(name);
  size_t best = 3;
  const char* suggestion = nullptr;
  for (const Command& c : kCommands) {
    const size_t d = edit_distance(name, c.name);
    if (d < best) {
      best = d;
      suggestion = c.name;
    }
  }
  if (suggestion) msg.append(" (did you mean '").append(suggestion).append("'?)");
  return msg.append("; commands: ").append(command_list()).append(" (fpsim --help describes them)");
}

bool is_command(std::string_view name) {
  return std::any_of(std::begin(kCommands), std::end(kCommands), [&](const Command& c) { return name == c.name; });
}

// ---- errors ------------------------------------------------------------------------

// The one-line form of a CLI11 parse error, for `fpsim CMD: ...`.
std::string parse_error_text(const CLI::ParseError& e, const CLI::App* cmd) {
  std::string what = e.what();
  // CLI11 checks required options before leftover arguments, but a
  // misspelt option is the better message: `convert --too e4m3` should not
  // answer "--to is required".
  if (cmd && !cmd->get_allow_extras() && !cmd->remaining().empty()) {
    std::string list;
    for (const std::string& extra : cmd->remaining()) list.append(list.empty() ? "" : ", ").append(quoted_text(extra));
    if (!list.empty()) what = (cmd->remaining().size() == 1 ? "unexpected argument " : "unexpected arguments ") + list;
  }
  std::replace(what.begin(), what.end(), '\n', ' ');
  return escaped_text(what);
}

// std::cout's buffer while run_fpsim runs: it writes to fd 1 itself and
// keeps the reason of the first failed write. (Through stdio the reason is
// lost: a later successful call may overwrite errno before the final flush.)
class StdoutBuffer : public std::streambuf {
 public:
  StdoutBuffer() { setp(buffer_, buffer_ + sizeof buffer_); }
  ~StdoutBuffer() override { sync(); }
  StdoutBuffer(const StdoutBuffer&) = delete;
  StdoutBuffer& operator=(const StdoutBuffer&) = delete;

  int first_error() const { return first_error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const char* p = pbase();
    while (p < pptr()) {
      const ssize_t n = ::write(STDOUT_FILENO, p, size_t(pptr() - p));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (first_error_ == 0) first_error_ = n < 0 ? errno : EIO;
        errno = first_error_;
        setp(buffer_, buffer_ + sizeof buffer_);  // what could not be written is lost: say so once, go on
        return false;
      }
      p += n;
    }
    setp(buffer_, buffer_ + sizeof buffer_);
    return first_error_ == 0;
  }

  char buffer_[1 << 16];
  int first_error_ = 0;
};

// Installs a StdoutBuffer under std::cout for its lifetime.
class StdoutCapture {
 public:
  StdoutCapture() : previous_(std::cout.rdbuf(&buffer_)) {}
  ~StdoutCapture() {
    std::cout.flush();
    std::cout.rdbuf(previous_);
  }
  StdoutCapture(const StdoutCapture&) = delete;
  StdoutCapture& operator=(const StdoutCapture&) = delete;

  // Flushes; the reason when anything written to stdout was lost.
  std::optional<std::string> write_error() {
    std::cout.flush();
    if (buffer_.first_error() == 0 && std::cout) return std::nullopt;
    return stdout_failure_message(buffer_.first_error());
  }

 private:
  StdoutBuffer buffer_;
  std::streambuf* previous_;
};

void print_error(const std::string& prefix, const std::string& message) {
  std::cerr << prefix << ": " << message << '\n' << std::flush;
}

int print_help_of(CLI::App& app, const std::vector<std::string>& args) {
  // `fpsim help [COMMAND]`
  if (args.size() > 2) {
    print_error("fpsim help", "expected at most one command name, e.g. fpsim help convert");
    return 2;
  }
  if (args.size() == 2) {
    if (!is_command(args[1])) {
      print_error("fpsim", unknown_command_message(args[1]));
      return 2;
    }
    std::cout << app.get_subcommand(args[1])->help("fpsim");
  } else {
    std::cout << app.help();
  }
  return 0;
}

}  // namespace

bool is_negative_number(const std::string& token) {
  if (token.size() < 2 || token[0] != '-') return false;
  try {
    parse_number(token);
    return true;
  } catch (const Error&) {
    return false;
  }
}

int run_fpsim(const std::vector<std::string>& args) {
  StdoutCapture stdout_capture;
  CLI::App app{
      "fpsim: bit-exact low-precision arithmetic for machine learning. Every format and rounding mode, checked "
      "against MPFR; scaled quantization; tensor-core models.",
      "fpsim"};
  app.formatter(std::make_shared<WrappingFormatter>());
  app.footer(
      "Run 'fpsim COMMAND --help' (or 'fpsim help COMMAND') for a command's options; docs/cli.md describes them "
      "all. Exit status: 0 success, 1 a check failed or a file could not be read or written, 2 a usage error or "
      "bad input.");
  app.require_subcommand(0, 1);
  int exit_code = 0;
  for (const Command& c : kCommands) c.add(app, exit_code);

  if (args.empty()) {
    print_error("fpsim", "a command is required; commands: " + command_list() + " (fpsim --help describes them)");
    return 2;
  }
  const std::string& first = args[0];
  if (first == "--version") {
    if (args.size() > 1) {
      print_error("fpsim", "--version takes no arguments");
      return 2;
    }
    std::cout << "fpsim " << FPSIM_VERSION << '\n';
  } else if (first == "help") {
    const int status = print_help_of(app, args);
    if (status != 0) return status;
  } else if (first == "-h" || first == "--help") {
    std::cout << app.help();
  } else if (!is_command(first)) {
    print_error("fpsim", first.starts_with("-") ? "unknown option " + quoted_text(first) +
                                                      " (expected a command first; "
                                                      "fpsim --help lists them)"
                                                : unknown_command_message(first));
    return 2;
  } else {
    CLI::App* cmd = app.get_subcommand(first);
    const std::string prefix = "fpsim " + first;
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    std::vector<std::string> tokens{first};
    for (std::string& t : with_unambiguous_numbers(rest, [&](const std::string& token) {
           const CLI::Option* opt = cmd->get_option_no_throw(token);
           return opt != nullptr && opt->get_type_size_max() > 0;
         }))
      tokens.push_back(std::move(t));
    std::reverse(tokens.begin(), tokens.end());  // CLI11 takes the arguments last first
    try {
      app.parse(tokens);
    } catch (const CLI::CallForHelp&) {
      std::cout << cmd->help("fpsim");
    } catch (const CLI::ParseError& e) {
      print_error(prefix, parse_error_text(e, cmd) + " (fpsim " + first + " --help lists the options)");
      return 2;
    } catch (const IoError& e) {
      print_error(prefix, e.what());
      return 1;
    } catch (const Error& e) {
      print_error(prefix, e.what());
      return 2;
    } catch (const std::bad_alloc&) {
      print_error(prefix, "out of memory");
      return 1;
    } catch (const std::exception& e) {
      print_error(prefix, std::string("internal error: ") + escaped_text(e.what()));
      return 1;
    }
  }
  if (const std::optional<std::string> lost = stdout_capture.write_error(); lost && !stdout_failure_thrown()) {
    print_error(args[0] == "help" || !is_command(args[0]) ? "fpsim" : "fpsim " + args[0], *lost);
    return exit_code == 0 ? 1 : exit_code;
  }
  return exit_code;
}

}  // namespace fpsim::cli
