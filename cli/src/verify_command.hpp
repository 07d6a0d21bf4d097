// `fpsim verify`: sim's operations against an independent oracle, over every
// operand tuple (--exhaustive) or a seeded, boundary-biased sample, sharded
// and threaded (docs/cli.md, docs/verification.md).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fpsim::cli {

inline constexpr uint64_t kVerifyMaxSamples = 1'000'000'000'000'000;  // 10^15: months of work
inline constexpr unsigned kVerifyMaxThreads = 1024;

struct VerifyOptions {
  std::string op;                 // fpsim::parse_operation names
  std::string format;             // the operands' format
  std::string to;                 // the result's format; empty: same as format
  std::string rounding = "rne";   // a mode name, or "all" (rne rna rtz rup rdn rto sr)
  std::string overflow = "ieee";  // ieee or saturate
  std::string tininess = "after";
  bool ftz = false;
  bool daz = false;
  bool exhaustive = false;
  std::optional<uint64_t> samples;  // 1..kVerifyMaxSamples; none: 1,000,000 unless exhaustive
  std::string oracle = "mpfr";      // mpfr, fast or hw
  std::optional<unsigned> threads;  // 1..kVerifyMaxThreads; none: all hardware threads
  std::string shard = "0/1";        // i/n, 0 <= i < n: the i-th of n equal slices of the cases
  std::optional<uint64_t> seed;     // operand sampling and the sr key (default 0); refused where it keys nothing
  uint64_t max_report = 10;         // mismatches printed in full
  double progress_seconds = 0;  // 0: every second on a terminal, every 10 s otherwise
};

// For tests: replaces sim's result for one case (operands, case index), so a
// test can show that a wrong implementation is caught and reported.
struct VerifyHooks {
  std::function<void(const uint64_t* operands, uint64_t& code, uint32_t& flags)> corrupt;
};

// Runs the verification. Mismatches and the summary go to `out`, progress to
// `progress`. Returns the exit status: 0 all passed, 1 mismatches. Throws
// fpsim::Error (OptionError, FormatError) for bad options, including an
// oracle that cannot check this operation, format or mode, with the reason,
// and fpsim::IoError when the worker threads cannot be started.
int run_verify(const VerifyOptions& options, std::ostream& out, std::ostream& progress,
               const VerifyHooks* hooks = nullptr);

void add_verify_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
