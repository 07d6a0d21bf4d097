#include "mma_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "code_text.hpp"
#include "command_errors.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/quoted_text.hpp"
#include "mma_files.hpp"
#include "option_values.hpp"

namespace fpsim::cli {

namespace {

// An FP32 word as the golden files write A and B: 8 hex digits, no 0x.
std::string hex8(uint32_t w) { return format_hex_code(w, formats::fp32).substr(2); }

// The exact value of an FP32 word: the shortest decimal that reads back to it.
std::string decimal(uint32_t w) { return shortest_float_decimal(std::bit_cast<float>(w), NanSign::shown); }

bool is_nan_word(uint32_t w) { return (w & 0x7fffffffu) > 0x7f800000u; }

// Whether the float x is a value of format f (NaN and inf always are, as
// mma_dot accepts them): converting to f and back gives the same bits.
bool is_value_of(float x, const Format& f) {
  if (!std::isfinite(x)) return true;
  Flags flags;
  const RoundingSpec rne;
  const float back = to_float(from_float(x, f, rne, flags), f, rne, flags);
  return std::bit_cast<uint32_t>(back) == std::bit_cast<uint32_t>(x);
}

// A code's place on the number line in signed-magnitude order: codes next to
// each other differ by 1, +0 and -0 are both 0, the largest finite value and
// inf are 1 apart.
int64_t ordinal(uint64_t code, const Format& f) {
  const int64_t magnitude = int64_t(code & f.magnitude_mask());
  return (code & f.sign_mask()) ? -magnitude : magnitude;
}

// The distance of two non-NaN FP32 words in units in the last place of the
// output format `f`: in f's code space when both are values of f (FP16
// results are FP16 values widened to FP32), otherwise in FP32's.
struct UlpDistance {
  uint64_t ulps = 0;
  const char* unit = "fp32";
};

UlpDistance ulp_distance(uint32_t x, uint32_t y, const Format& f) {
  const float fx = std::bit_cast<float>(x), fy = std::bit_cast<float>(y);
  if (is_value_of(fx, f) && is_value_of(fy, f)) {
    Flags flags;
    const RoundingSpec rne;
    const int64_t d = ordinal(from_float(fx, f, rne, flags), f) - ordinal(from_float(fy, f, rne, flags), f);
    return {uint64_t(d < 0 ? -d : d), f.name};
  }
  const int64_t d = ordinal(x, formats::fp32) - ordinal(y, formats::fp32);
  return {uint64_t(d < 0 ? -d : d), "fp32"};
}

// Histogram buckets: 1, 2, 3-4, 5-8, ..., 2^19+1 - 2^20, then > 2^20.
constexpr int kTopBucket = 21;

int bucket_of(uint64_t ulps) { return std::min(int(std::bit_width(ulps - 1)), kTopBucket); }

std::string bucket_label(int b) {
  if (b == 0) return "1";
  if (b == 1) return "2";
  if (b == kTopBucket) return std::string(">").append(std::to_string(uint64_t{1} << (kTopBucket - 1)));
  return std::to_string((uint64_t{1} << (b - 1)) + 1).append("-").append(std::to_string(uint64_t{1} << b));
}

std::string row_words(const std::vector<uint32_t>& row) {
  std::string s;
  for (uint32_t w : row) s.append(s.empty() ? "" : " ").append(hex8(w));
  return s;
}

std::string list_text() {
  size_t width = 0;
  for (const MmaModel& m : mma_presets()) width = std::max(width, m.name.size());
  std::string t;
  for (const MmaModel& m : mma_presets()) {
    t.append(m.name)
        .append(width + 2 - m.name.size(), ' ')
        // "definition": an fp32-* order stated by fpsim, not a measured unit; "model-only": checked
        // against published models' outputs, not against hardware (docs/mma.md, "AMD matrix cores").
        .append(!m.verified                                 ? "unverified"
                : m.evidence.rfind("definition", 0) == 0     ? "definition"
                : m.evidence.rfind("published models", 0) == 0 ? "model-only"
                                                             : "verified  ")
        .append("  ")
        .append(describe_mma_model(m))
        .append("\n");
  }
  return t;
}

struct Operands {
  std::vector<std::vector<uint32_t>> a, b;
  std::vector<uint32_t> c;  // one word per row (zeros without --c)
};

// Every A (B) word must be a value of the model's A (B) format: the golden
// files hold inputs already rounded (tests/data/gpu-golden/README.md).
void check_input_values(const std::vector<std::vector<uint32_t>>& rows, const std::string& name, const Format& f,
                        const char* operand, const MmaModel& m) {
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) {
      const uint32_t w = rows[i][j];
      if (!is_value_of(std::bit_cast<float>(w), f))
        throw ParseError(std::string(name)
                             .append(" line ")
                             .append(std::to_string(i + 1))
                             .append(", value ")
                             .append(std::to_string(j + 1))
                             .append(": 0x")
                             .append(hex8(w))
                             .append(" (")
                             .append(decimal(w))
                             .append(") is not an ")
                             .append(f.name)
                             .append(" value (preset ")
                             .append(quoted_text(m.name))
                             .append(" takes ")
                             .append(f.name)
                             .append(" ")
                             .append(operand)
                             .append(" operands, already rounded)"));
    }
}

std::vector<uint32_t> compute(const MmaModel& m, const MmaOptions& o, const Operands& in) {
  std::vector<uint32_t> d(in.a.size());
  std::vector<float> a, b;
  for (size_t i = 0; i < in.a.size(); ++i) {
    a.assign(in.a[i].size(), 0.0f);
    b.assign(in.b[i].size(), 0.0f);
    for (size_t j = 0; j < a.size(); ++j) {
      a[j] = std::bit_cast<float>(in.a[i][j]);
      b[j] = std::bit_cast<float>(in.b[i][j]);
    }
    try {
      d[i] = std::bit_cast<uint32_t>(mma_dot(m, a, b, std::bit_cast<float>(in.c[i])));
    } catch (const OptionError& e) {
      throw ParseError(std::string("row ")
                           .append(std::to_string(i + 1))
                           .append(" (")
                           .append(*o.a)
                           .append(" and ")
                           .append(*o.b)
                           .append(" line ")
                           .append(std::to_string(i + 1))
                           .append("): ")
                           .append(e.what()));
    }
  }
  return d;
}

struct Comparison {
  std::string text;
  size_t failed = 0;
};

// The mismatches of a comparison, counted: distances in the output format's
// ULPs, and (FP16 output only) those of expected values that are not FP16
// values, counted in FP32 ULPs.
struct MismatchTally {
  std::vector<size_t> histogram = std::vector<size_t>(kTopBucket + 1, 0);
  std::vector<size_t> fp32_histogram = std::vector<size_t>(kTopBucket + 1, 0);
  size_t failed = 0, nan = 0, zero_sign = 0, fp32_counted = 0;

  // Counts the mismatch of expected `e` and `got`; returns its verdict.
  std::string count(uint32_t e, uint32_t got, const MmaModel& m) {
    ++failed;
    const bool e_nan = is_nan_word(e), g_nan = is_nan_word(got);
    if (e_nan || g_nan) {
      ++nan;
      return e_nan && g_nan ? "NaN payload differs" : "NaN mismatch";
    }
    const UlpDistance u = ulp_distance(e, got, m.output);
    if (u.ulps == 0) {
      ++zero_sign;
      return "0 ulp (the sign of zero differs)";
    }
    const bool in_output_ulps = std::string_view(u.unit) == m.output.name;
    ++(in_output_ulps ? histogram : fp32_histogram)[size_t(bucket_of(u.ulps))];
    std::string verdict = std::to_string(u.ulps).append(u.ulps == 1 ? " ulp (" : " ulps (").append(u.unit).append(")");
    if (!in_output_ulps) {
      ++fp32_counted;
      verdict.append(", counted in fp32: the expected value is not an ").append(m.output.name).append(" value");
    }
    return verdict;
  }
};

// Row i's mismatch in full: both words, the verdict and the operands.
std::string mismatch_text(size_t i, uint32_t e, uint32_t g, const std::string& verdict, const Operands& in) {
  return std::string("row ")
      .append(std::to_string(i + 1))
      .append(": expected 0x")
      .append(hex8(e))
      .append(" (")
      .append(decimal(e))
      .append("), got 0x")
      .append(hex8(g))
      .append(" (")
      .append(decimal(g))
      .append("), ")
      .append(verdict)
      .append("\n  a ")
      .append(row_words(in.a[i]))
      .append("\n  b ")
      .append(row_words(in.b[i]))
      .append("\n  c ")
      .append(hex8(in.c[i]))
      .append("\n");
}

// The ULP histograms of the tallied mismatches.
std::string histograms_text(const MismatchTally& tally, const MmaModel& m) {
  std::string t;
  const auto buckets = [&t](const std::vector<size_t>& h) {
    int top = -1;
    for (int b = 0; b <= kTopBucket; ++b)
      if (h[size_t(b)]) top = b;
    for (int b = 0; b <= top; ++b)
      t.append("  ").append(bucket_label(b)).append(": ").append(std::to_string(h[size_t(b)])).append("\n");
  };
  const auto mismatches = [](size_t n) { return std::to_string(n).append(n == 1 ? " mismatch" : " mismatches"); };
  if (tally.failed > tally.fp32_counted) {
    t.append("ULP histogram of the ")
        .append(mismatches(tally.failed - tally.fp32_counted))
        .append(" (")
        .append(m.output.name)
        .append(" ulps):\n");
    if (tally.zero_sign) t.append("  0 (sign of zero): ").append(std::to_string(tally.zero_sign)).append("\n");
    buckets(tally.histogram);
    t.append("  NaN: ").append(std::to_string(tally.nan)).append("\n");
  }
  if (tally.fp32_counted) {
    t.append("ULP histogram of the ")
        .append(mismatches(tally.fp32_counted))
        .append(" whose expected value is not an ")
        .append(m.output.name)
        .append(" value (fp32 ulps):\n");
    buckets(tally.fp32_histogram);
  }
  return t;
}

Comparison compare(const MmaModel& m, const MmaOptions& o, const Operands& in, const std::vector<uint32_t>& got,
                   const std::vector<uint32_t>& expected) {
  std::string t;
  t.append("fpsim mma: model ")
      .append(m.name)
      .append(", K=")
      .append(std::to_string(*o.k))
      .append(", ")
      .append(std::to_string(got.size()))
      .append(got.size() == 1 ? " row" : " rows")
      .append(", expected ")
      .append(*o.expect)
      .append("\n");
  MismatchTally tally;
  const size_t max_report = o.max_report.value_or(kDefaultMaxReport);
  for (size_t i = 0; i < got.size(); ++i) {
    const uint32_t e = expected[i], g = got[i];
    if (e == g || (o.any_nan && is_nan_word(e) && is_nan_word(g))) continue;
    const std::string verdict = tally.count(e, g, m);
    if (tally.failed <= max_report) t.append(mismatch_text(i, e, g, verdict, in));
  }
  if (tally.failed > max_report) {
    const size_t hidden = tally.failed - max_report;
    t.append("(")
        .append(std::to_string(hidden))
        .append(hidden == 1 ? " more mismatch" : " more mismatches")
        .append(" not shown; --max-report N shows more)\n");
  }
  t.append(histograms_text(tally, m));
  t.append(std::to_string(got.size() - tally.failed))
      .append(" passed, ")
      .append(std::to_string(tally.failed))
      .append(" failed\n");
  return {t, tally.failed};
}

// Returns the exit status (0, or 1 for a failed comparison); throws on errors.
int run_or_throw(const MmaOptions& o, std::ostream& out) {
  if (o.list) {
    if (!o.model.empty() || o.k || o.a || o.b || o.c || o.out || o.expect || o.max_report || o.any_nan)
      throw OptionError("--list takes no other options");
    write_command_output(list_text(), "-", out);
    return 0;
  }
  if (o.model.empty()) throw OptionError("--model PRESET is required (fpsim mma --list shows the presets)");
  if (!o.k) throw OptionError("--k K is required (values per row of the A and B files)");
  if (!o.a || !o.b) throw OptionError("--a FILE and --b FILE are required");
  for (const auto& [name, path] : {std::pair{"--a", o.a}, {"--b", o.b}, {"--c", o.c}, {"--expect", o.expect}})
    if (path) check_path_option(name, *path, "stdin");
  if (o.out) check_path_option("--out", *o.out, "stdout");
  if (o.expect && o.out)
    throw OptionError("--out and --expect exclude each other (--expect compares instead of writing D)");
  if (!o.expect && (o.max_report || o.any_nan))
    throw OptionError(std::string(o.any_nan ? "--any-nan" : "--max-report") +
                      " applies to the comparison: it needs --expect FILE");
  if (*o.k < 1 || *o.k > kMaxK)
    throw OptionError(std::string("--k ")
                          .append(std::to_string(*o.k))
                          .append(": expected a whole number from 1 to ")
                          .append(std::to_string(kMaxK)));
  const MmaModel m = mma_preset(o.model);  // option errors come before any reading

  Operands in;
  in.a = read_hex_rows(*o.a, *o.k);
  in.b = read_hex_rows(*o.b, *o.k);
  require_same_rows(*o.b, in.b.size(), *o.a, in.a.size());
  if (!o.c) {
    in.c.assign(in.a.size(), 0);
  } else {
    in.c = read_binary_words(*o.c);
    require_same_rows(*o.c, in.c.size(), *o.a, in.a.size());
  }
  std::vector<uint32_t> expected;
  if (o.expect) {
    expected = read_binary_words(*o.expect);
    require_same_rows(*o.expect, expected.size(), *o.a, in.a.size());
  }
  check_input_values(in.a, *o.a, m.input_a, "A", m);
  check_input_values(in.b, *o.b, m.input_b, "B", m);

  const std::vector<uint32_t> d = compute(m, o, in);
  if (!o.expect) {
    write_command_output(binary_words_text(d), o.out.value_or("-"), out);
    return 0;
  }
  const Comparison r = compare(m, o, in, d, expected);
  write_command_output(r.text, "-", out);
  return r.failed ? 1 : 0;
}

}  // namespace

int run_mma(const MmaOptions& options, std::ostream& out, std::ostream& err) {
  return exit_status_of("mma", err, [&] { return run_or_throw(options, out); });
}

void add_mma_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MmaOptions>();
  CLI::App* cmd = app.add_subcommand(
      "mma",
      "Run a tensor-core model (docs/mma.md) over golden-data files: A and B rows of K hex FP32 encodings (row i "
      "holds the operands of dot product i), C as 32-character binary strings (absent: C = 0). Writes D as binary "
      "strings, one line per row; with --expect compares a kernel's D with the model and ends with 'N passed, M "
      "failed' (exit 1 when anything failed). --list prints the presets.");
  cmd->add_flag("--list", o->list, "print every preset (name, verified / model-only / unverified / definition, parameters) and exit");
  cmd->add_option("--model", o->model, "preset name, e.g. h100-fp16-fp32 or h100-e4m3-fp32:promote128");
  add_whole_number_option(cmd, "--k", o->k, 1, uint64_t(kMaxK), "values per A/B row (checked)");
  const auto path_option = [&](const char* name, std::optional<std::string>& target, const char* help) {
    cmd->add_option_function<std::string>(name, [&target](const std::string& v) { target = v; }, help)
        ->type_name("FILE");
  };
  path_option("--a", o->a, "A file: rows of K hex FP32 encodings (gzip is read transparently)");
  path_option("--b", o->b, "B file: rows of K hex FP32 encodings");
  path_option("--c", o->c, "C file: 32-character binary FP32 patterns (default: C = 0)");
  path_option("--out", o->out, "write D to this file, replaced whole (default: stdout)");
  path_option("--expect", o->expect, "a kernel's D (binary strings): compare with the model instead");
  add_whole_number_option(cmd, "--max-report", o->max_report, 0, SIZE_MAX,
                          "with --expect: mismatches printed in full, all are counted (default 20)");
  cmd->add_flag("--any-nan", o->any_nan, "with --expect, any NaN matches any NaN (default: NaN bits must match)");
  cmd->callback([o, &exit_code] { exit_code = run_mma(*o, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
