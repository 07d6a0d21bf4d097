#include "convert_command.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>

#include "code_text.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/decimal.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"

namespace fpsim::cli {

namespace {

struct Plan {
  Format to{};
  Format from{};
  RoundingSpec spec{};
  bool hex_in = false;
  bool hex_out = true;
  bool dec_out = false;
  bool flags = false;
};

Plan make_plan(const ConvertOptions& o) {
  Plan p;
  p.to = parse_format(o.to);
  if (o.in != "hex" && o.in != "dec") throw OptionError("--in '" + o.in + "': expected hex or dec");
  if (o.out != "hex" && o.out != "dec" && o.out != "both")
    throw OptionError("--out '" + o.out + "': expected hex, dec or both");
  p.hex_in = o.in == "hex";
  if (!o.from.empty() && !p.hex_in)
    throw OptionError("--from " + o.from + " applies to hex input only (decimal input is rounded directly into --to)");
  p.from = parse_format(o.from.empty() ? std::string("f32") : o.from);
  p.hex_out = o.out != "dec";
  p.dec_out = o.out != "hex";
  p.flags = o.flags;
  parse_rounding(o.rounding, p.spec);
  p.spec.overflow = parse_overflow(o.overflow);
  if (o.tininess != "after" && o.tininess != "before")
    throw OptionError("--tininess '" + o.tininess + "': expected after or before");
  p.spec.tininess = o.tininess == "after" ? Tininess::after : Tininess::before;
  p.spec.ftz = o.ftz;
  p.spec.daz = o.daz;
  p.spec.seed = o.seed;
  return p;
}

std::string convert_one(const Plan& p, std::string_view text, uint64_t index) {
  Flags fl;
  uint64_t code = 0;
  if (p.hex_in) {
    code = convert(parse_hex_code(text, p.from), p.from, p.to, p.spec, fl, index);
  } else {
    code = round(parse_number(text), p.to, p.spec, fl, index);
  }
  std::string line;
  if (p.hex_out) line = format_hex_code(code, p.to);
  if (p.dec_out) line += (line.empty() ? "" : " ") + format_decimal_value(code, p.to);
  if (p.flags) {
    char buf[8];
    std::snprintf(buf, sizeof buf, " %02x", fl.bits);
    line += buf;
  }
  return line;
}

}  // namespace

int run_convert(const ConvertOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  const Plan plan = make_plan(options);  // usage errors throw before any output
  int status = 0;
  uint64_t index = 0;
  auto handle = [&](std::string_view raw) {
    const std::string_view text = trim(raw);
    try {
      if (text.empty()) throw ParseError("empty line (expected one value per line)");
      out << convert_one(plan, text, index) << '\n';
    } catch (const Error& e) {
      err << "fpsim convert: input " << index << ": " << e.what() << '\n';
      out << "error\n";
      status = 2;
    }
    ++index;
  };
  if (!options.values.empty()) {
    for (const std::string& v : options.values) handle(v);
  } else {
    std::string line;
    while (std::getline(in, line)) handle(line);
  }
  out.flush();
  return status;
}

void add_convert_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ConvertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "convert",
      "Convert values into a format, rounded once. Values come from the command line or, when none are given, one "
      "per line from stdin; every input line gives exactly one output line (\"error\" for a bad one, with the reason "
      "on stderr and exit status 2 at the end).");
  cmd->add_option("--to", options->to, "target format (see `fpsim formats`)")->required();
  cmd->add_option("--from", options->from, "source format of hex input (default f32)");
  cmd->add_option("--rounding", options->rounding, "rne rna rtz rup rdn rto sr sr<R>")->capture_default_str();
  cmd->add_option("--overflow", options->overflow, "ieee or saturate (PTX cvt .satfinite)")->capture_default_str();
  cmd->add_option("--tininess", options->tininess, "after or before rounding")->capture_default_str();
  cmd->add_flag("--ftz", options->ftz, "flush tiny results to zero");
  cmd->add_flag("--daz", options->daz, "read subnormal inputs as zero");
  cmd->add_option("--seed", options->seed, "Philox key for sr; the element index is the input's line number from 0, stream 0")
      ->capture_default_str();
  cmd->add_option("--in", options->in, "hex (bit patterns of --from) or dec (decimal or hex-float numbers)")
      ->capture_default_str();
  cmd->add_option("--out", options->out, "hex, dec or both")->capture_default_str();
  cmd->add_flag("--flags", options->flags, "append the flags as two hex digits (TestFloat encoding + 0x20 saturated, 0x40 flushed)");
  cmd->add_option("VALUE", options->values, "values to convert (default: read stdin)");
  cmd->callback([options, &exit_code] { exit_code = run_convert(*options, std::cin, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
