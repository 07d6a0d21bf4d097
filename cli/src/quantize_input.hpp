// The input of `fpsim quantize`: a tensor as text (docs/cli.md, "fpsim
// quantize", Input), and the RxC sizes of --shape and --block.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/quantize.hpp"

namespace fpsim::cli {

struct QuantizeInputLine {
  size_t line_number = 0;  // 1-based
  size_t count = 0;        // values on the line
};

struct QuantizeInput {
  std::vector<float> values;
  std::vector<QuantizeInputLine> lines;  // lines that hold values
};

// One value: an FP32 bit pattern (8 hex digits, 0x optional) when `bits`;
// otherwise a number (code_text.hpp parse_input_number) rounded once to FP32
// with rne, IEEE overflow (1e39 reads as inf, as strtof does). Throws ParseError.
float parse_quantize_value(std::string_view token, bool bits);

// Values separated by blanks and/or one comma, '#' to the end of a line a
// comment, lines without values skipped. `name` ("stdin" or the file) heads
// every message, with the line and column. Throws ParseError (also for input
// without any value) or IoError.
QuantizeInput read_quantize_input(std::istream& in, const std::string& name, bool bits);

// "RxC" (or, when `single`, "N" for 1 x N): decimal sizes, both positive, the
// product representable. Throws OptionError naming `option`.
TensorShape parse_dims(std::string_view text, std::string_view option, bool single);

// The tensor's shape: --shape when given (its size must match), else one row
// per line with values, all of the same length. Throws ParseError.
TensorShape quantize_input_shape(const std::optional<std::string>& shape_option, const QuantizeInput& input,
                                 const std::string& name);

}  // namespace fpsim::cli
