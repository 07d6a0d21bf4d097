// fuzz_testfloat_lines: check_testfloat_vectors (fpsim testfloat, docs/cli.md)
// on arbitrary stdin. The first byte picks the function, the second the
// TestFloat options and how many lines may be reported; the rest is stdin.
//
// - Every line is counted once: passed + failed + malformed = the number of
//   lines std::getline sees.
// - The report has one line per failed or malformed vector, up to the
//   limit, each starting "stdin line N: " with N increasing, each safe to
//   print (control bytes and invalid UTF-8 escaped) and short.
#include <sstream>
#include <string>
#include <string_view>

#include "fpsim/error.hpp"
#include "fuzz_check.hpp"
#include "fuzz_targets.hpp"
#include "testfloat_check.hpp"

namespace {

using fpsim_fuzz::fail;
using fpsim_fuzz::shown;

constexpr const char* kTarget = "testfloat_lines";

constexpr std::string_view kFunctions[] = {
    "f16_add",    "f32_mulAdd", "f32_to_f16",        "bf16_to_f32",         "f16_lt",      "e4m3_div",
    "f64_to_f32", "f16_sqrt",   "f32_eq_signaling",  "e5m2_minimum_number", "f32_to_e2m1", "f64_to_tf32",
    "int8_add",   "e8m0_mul",   "e4m3fnuz_le_quiet", "ue4m3_to_bf16",       "f16_to_f64",  "e3m2_fma"};

constexpr std::string_view kOptions[] = {"-rnear_even", "-rnear_maxMag", "-rminMag",        "-rmin",
                                         "-rmax",       "-rodd",         "-tininessbefore", "-tininessafter"};

}  // namespace

int fuzz_testfloat_lines(const uint8_t* data, size_t size) {
  fpsim_fuzz::Bytes in(data, size);
  const uint8_t pick = in.byte();
  const uint8_t options = in.byte();
  const std::string stdin_text(in.rest());
  try {
    const fpsim::cli::TestFloatFunction fn =
        fpsim::cli::parse_testfloat_function(kFunctions[pick % std::size(kFunctions)]);
    fpsim::RoundingSpec spec;
    fpsim::cli::apply_testfloat_option(kOptions[options % 6], spec);
    if (options & 0x08) fpsim::cli::apply_testfloat_option(kOptions[6], spec);
    const uint64_t max_reported = (options & 0x80) ? 3 : 100;

    std::istringstream input(stdin_text);
    std::ostringstream report;
    const fpsim::cli::TestFloatTally t = fpsim::cli::check_testfloat_vectors(input, fn, spec, report, max_reported);

    uint64_t lines = 0;
    for (const char c : stdin_text) lines += c == '\n';
    if (!stdin_text.empty() && stdin_text.back() != '\n') ++lines;
    const std::string counts = std::to_string(t.passed) + " passed, " + std::to_string(t.failed) + " failed, " +
                               std::to_string(t.malformed) + " malformed";
    if (t.passed + t.failed + t.malformed != lines)
      fail(kTarget, counts + " for " + std::to_string(lines) + " lines of '" + shown(stdin_text) + "'");

    const std::string text = report.str();
    if (!text.empty() && text.back() != '\n') fail(kTarget, "the report does not end in a newline");
    uint64_t report_lines = 0, last_line = 0;
    for (size_t pos = 0; pos < text.size();) {
      const size_t end = text.find('\n', pos);
      const std::string_view line = std::string_view(text).substr(pos, end - pos);
      pos = end + 1;
      ++report_lines;
      fpsim_fuzz::check_message(kTarget, line, stdin_text);
      constexpr std::string_view kHead = "stdin line ";
      uint64_t n = 0;
      size_t i = kHead.size();
      while (i < line.size() && line[i] >= '0' && line[i] <= '9') n = n * 10 + uint64_t(line[i++] - '0');
      if (!line.starts_with(kHead) || i == kHead.size() || line.substr(i, 2) != ": " || n <= last_line || n > lines)
        fail(kTarget, "report line '" + shown(line) + "' does not name a later input line");
      last_line = n;
    }
    const uint64_t bad = t.failed + t.malformed;
    if (report_lines != (bad < max_reported ? bad : max_reported))
      fail(kTarget, std::to_string(report_lines) + " report lines for " + counts + " (limit " +
                        std::to_string(max_reported) + ")");
  } catch (...) {
    fpsim_fuzz::fail_on_unexpected(kTarget, stdin_text);
  }
  return 0;
}
