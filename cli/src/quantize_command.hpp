// `fpsim quantize`: scaled quantization of a tensor read as text
// (docs/cli.md, docs/quantization.md).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "fpsim/quantize.hpp"

namespace CLI {
class App;
}

namespace fpsim::cli {

struct QuantizeOptions {
  std::string scheme;                 // fpsim::parse_quant_scheme names
  std::optional<std::string> shape;   // "RxC" or "N" (1 x N); none: one row per input line
  std::string in = "-";   // a file (gzip read transparently), or "-" for stdin
  std::string out = "-";  // a file (docs/cli.md "Output files"), or "-" for stdout
  bool json = false;      // JSON instead of CSV
  bool bits = false;                  // every value is an FP32 bit pattern (8 hex digits)
  // Scheme overrides (none: the scheme's own setting).
  std::optional<std::string> block;      // "RxC"
  std::optional<std::string> e8m0_rule;  // floor, ceil, rne
  std::optional<bool> pow2_scales;
  std::optional<std::string> amax_epsilon;     // a number, read exactly and rounded to FP32
  std::optional<std::string> scale_arith;      // fp32, exact
  std::optional<std::string> rounding;         // rne rna rtz rup rdn rto sr sr<R>
  std::optional<uint32_t> seed, stream, step;  // sr only
  std::optional<std::string> overflow;         // saturate, ieee
  bool require_full_blocks = false;
  bool hadamard = false;
  std::optional<uint32_t> hadamard_seed;
  // What to print.
  bool dequantize = false;      // only the dequantized tensor
  bool stats_only = false;      // only the statistics
  std::string engine = "simd";  // simd (fpsim::bulk::quantize) or scalar (fpsim::quantize): the same bits
};

// The scheme named by options.scheme with the options' overrides applied and
// checked (an override the scheme does not take is an error). Throws
// OptionError. The Python module's quantize() calls it too.
QuantScheme quantize_scheme(const QuantizeOptions& options);

// Runs one quantization. The result goes to `out` (or to options.out); a
// problem is one line on `err` ("fpsim quantize: ..." naming the input) and
// nothing is written. Returns the exit status: 0; 2 for a usage error or bad
// input (unknown scheme or option value, a malformed value, a shape that does
// not fit); 1 when the input file cannot be read or the output cannot be
// written.
int run_quantize(const QuantizeOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

// Whether this build has the SIMD engine (fpsim::bulk::quantize).
bool quantize_simd_available();

void add_quantize_command(CLI::App& app, int& exit_code);

}  // namespace fpsim::cli
