#include "convert_command.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "code_text.hpp"
#include "command_errors.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/io/output_file.hpp"
#include "fpsim/quoted_text.hpp"
#include "option_values.hpp"

namespace fpsim::cli {

namespace {

// What each output line shows (--print).
enum class Print { hex, dec, both };
constexpr NamedValue<Print> kPrintNames[] = {{"hex", Print::hex}, {"dec", Print::dec}, {"both", Print::both}};

struct Plan {
  Format to{};
  Format from{};
  RoundingSpec spec{};
  bool bits = false;
  bool hex_out = true;
  bool dec_out = false;
  bool flags = false;
};

Plan make_plan(const ConvertOptions& o) {
  Plan p;
  p.to = parse_format(o.to);
  const Print print = parse_named_value("--print", o.print, kPrintNames);
  // Before 0.2, --in and --out were convert's encodings; they are files now,
  // as in every other command. Old scripts get told instead of reading a
  // file named "hex".
  if (o.in == "hex" || o.in == "dec")
    throw OptionError("--in " + quoted_text(o.in) + ": --in names the input file; bit-pattern input is --bits (write ./" +
                      o.in + " for a file of that name)");
  if (o.out == "hex" || o.out == "dec" || o.out == "both")
    throw OptionError("--out " + quoted_text(o.out) + ": --out names the output file; the output encoding is --print " +
                      o.out + " (write ./" + o.out + " for a file of that name)");
  check_path_option("--in", o.in, "stdin");
  check_path_option("--out", o.out, "stdout");
  if (!o.values.empty() && o.in != "-")
    throw OptionError("values on the command line and --in " + quoted_text(o.in) + " exclude each other");
  p.bits = o.bits;
  if (!o.from.empty() && !p.bits)
    throw OptionError("--from " + quoted_text(o.from) +
                      " applies to --bits input only (decimal input is rounded directly into --to)");
  p.from = parse_format(o.from.empty() ? std::string("f32") : o.from);
  p.hex_out = print != Print::dec;
  p.dec_out = print != Print::hex;
  p.flags = o.flags;
  parse_rounding(o.rounding, p.spec);
  p.spec.overflow = parse_overflow(o.overflow);
  p.spec.tininess = parse_tininess(o.tininess);
  p.spec.ftz = o.ftz;
  p.spec.daz = o.daz;
  if (o.seed && p.spec.rounding != Rounding::sr)
    throw OptionError("--seed keys stochastic rounding: it needs --rounding sr or sr<R>");
  p.spec.seed = o.seed.value_or(0);
  return p;
}

std::string convert_one(const Plan& p, std::string_view text, uint64_t index) {
  Flags fl;
  uint64_t code = 0;
  if (p.bits) {
    code = convert(parse_hex_code(text, p.from), p.from, p.to, p.spec, fl, index);
  } else {
    code = round(parse_input_number(text, "--bits"), p.to, p.spec, fl, index);
  }
  std::string line;
  if (p.hex_out) line = format_hex_code(code, p.to);
  if (p.dec_out) line += (line.empty() ? "" : " ") + format_decimal_value(code, p.to);
  if (p.flags) line += " " + flags_hex(fl.bits);
  return line;
}

// The output: stdout (the caller's stream) or a file that appears whole at
// the end, written in pieces so a long batch never holds all of it.
class BatchOutput {
 public:
  BatchOutput(const std::string& path, std::ostream& out) : out_(out) {
    if (path != "-") file_.emplace(path);
  }
  void line(const std::string& text) {
    buffer_.append(text).append("\n");
    if (buffer_.size() >= (1 << 16)) flush();
  }
  void finish() {
    flush();
    if (file_) file_->commit();
  }

 private:
  void flush() {
    if (file_) {
      file_->write(buffer_);
    } else {
      out_ << buffer_;
      out_.flush();
      if (!out_) throw_stdout_failure();
    }
    buffer_.clear();
  }

  std::ostream& out_;
  std::optional<io::OutputFile> file_;
  std::string buffer_;
};

int convert_batch(const ConvertOptions& options, std::istream& stdin_stream, std::ostream& out, std::ostream& err) {
  const Plan plan = make_plan(options);  // usage errors come before any output
  BatchOutput output(options.out, out);
  int status = 0;
  uint64_t index = 0;
  // Where a value came from, for messages: "value", "stdin line" or "FILE line", and its number from 1.
  const std::string source = !options.values.empty() ? "value"
                             : options.in == "-"     ? "stdin line"
                                                     : options.in + " line";
  auto handle = [&](std::string_view raw) {
    const std::string_view text = trim(raw);
    try {
      if (text.empty()) throw ParseError("empty line (expected one value per line)");
      output.line(convert_one(plan, text, index));
    } catch (const IoError&) {
      throw;
    } catch (const Error& e) {
      err << "fpsim convert: " << source << ' ' << index + 1 << ": " << e.what() << '\n';
      output.line("error");
      status = 2;
    }
    ++index;
  };
  if (!options.values.empty()) {
    for (const std::string& v : options.values) handle(v);
  } else if (options.in == "-") {
    std::string line;
    while (std::getline(stdin_stream, line)) handle(line);
    if (stdin_stream.bad()) throw IoError("cannot read stdin");
  } else {
    std::istringstream file(io::read_input_file(options.in));
    std::string line;
    while (std::getline(file, line)) handle(line);
  }
  output.finish();
  return status;
}

}  // namespace

int run_convert(const ConvertOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  return exit_status_of("convert", err, [&] { return convert_batch(options, in, out, err); });
}

void add_convert_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Convert values into a format, rounded once. Values come from the command line, or one per line from --in "
      "(default stdin); every input line gives exactly one output line (\"error\" for a bad one, with the reason "
      "on stderr and exit status 2 at the end). Negative numbers work as values (-1.5, -.5, -inf).");
  cmd->add_option("--to", o->to, "target format (fpsim formats lists them)")->required();
  cmd->add_option("--rounding", o->rounding, "rne rna rtz rup rdn rto sr sr<R>")->capture_default_str();
  cmd->add_option("--overflow", o->overflow, "ieee or saturate (PTX cvt .satfinite)")->capture_default_str();
  cmd->add_option("--tininess", o->tininess, "after or before rounding")->capture_default_str();
  cmd->add_flag("--ftz", o->ftz, "flush tiny results to zero");
  cmd->add_flag("--daz", o->daz, "read subnormal inputs as zero");
  add_whole_number_option(cmd, "--seed", o->seed, 0, UINT32_MAX,
                          "sr only: the Philox key (default 0); the element index is the value's position from 0");
  cmd->add_flag("--bits", o->bits, "values are bit patterns of --from in hex (0x optional) instead of numbers");
  cmd->add_option("--from", o->from, "the format of --bits values (default f32)");
  cmd->add_option("--print", o->print, "what each output line shows: hex (the bit pattern), dec (the value) or both")
      ->capture_default_str();
  cmd->add_flag("--flags", o->flags,
                "append the flags as two hex digits (TestFloat encoding + 0x20 saturated, 0x40 flushed)");
  cmd->add_option("--in", o->in, "input file, one value per line (gzip is read transparently), or - for stdin")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "output file (replaced whole at the end), or - for stdout")->capture_default_str();
  cmd->add_option("VALUE", o->values, "values to convert (default: read --in)");
  cmd->callback([o, &exit_code] { exit_code = run_convert(*o, std::cin, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
