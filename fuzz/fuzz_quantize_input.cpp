// fuzz_quantize_input: the input of fpsim quantize (docs/cli.md) and both
// quantization engines on it.
//
// Bytes: [scheme] [options] [more options] [L] [L bytes: an RxC text]
// [the tensor as text]. read_quantize_input (--bits from the options) reads
// the tensor; quantize_input_shape gives its shape, from its lines or from
// the RxC text as --shape; the RxC text may instead be the scheme's --block
// (parse_dims: sizes up to 18446744073709551615). The scheme is one of
// mxfp4, mxfp8-e4m3, nvfp4, nvfp4-2d, per-tensor-e4m3, block-1x128-e4m3,
// mxint8, ... with the element rounding, overflow, ftz/daz/tininess,
// E8M0 rule, scale arithmetic, pow2 scales, amax epsilon, full blocks and
// Hadamard options picked by the option bytes. At most 4,096 values.
//
// - fpsim::quantize (the scalar definition) and fpsim::bulk::quantize (SIMD)
//   give the same elements, scales, multipliers, scale grid, scale format,
//   tensor scale and statistics, bit for bit, or errors with the same type
//   and message; bulk::quantize_into into a tensor that held another
//   result gives the same again; fpsim::dequantize and bulk::dequantize
//   agree (NaN for NaN).
// - Reading errors are fpsim::ParseError / OptionError with messages safe to
//   print; the shape's size is the number of values read.
#include <bit>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fpsim/bulk/quantize_bulk.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/quantize.hpp"
#include "fuzz_check.hpp"
#include "fuzz_targets.hpp"
#include "quantize_input.hpp"

namespace {

using fpsim_fuzz::fail;
using fpsim_fuzz::shown;

constexpr const char* kTarget = "quantize_input";
constexpr size_t kMaxValues = 4096;

struct SchemeChoice {
  const char* name;
  bool block_from_text;  // the RxC text is --block
};
constexpr SchemeChoice kSchemes[] = {
    {"mxfp4", false},          {"mxfp8-e4m3", false},         {"nvfp4", false},
    {"nvfp4-2d", false},       {"per-tensor-e4m3", false},    {"block-1x128-e4m3", false},
    {"mxint8", false},         {"mxfp8-e5m2", true},          {"block-1x128-e4m3", true},
    {"nvfp4", true},           {"mxfp6-e3m2", true},          {"per-tensor-e2m1", false},
    {"mx-e2m3", true},         {"block-128x128-e5m2", false}, {"mx-ue4m3", false},
    {"per-tensor-int8", false}};

constexpr std::string_view kRoundings[] = {"rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr3"};

bool same_bits(float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }
bool same_bits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

// The first field in which two results differ, or "".
std::string difference(const fpsim::QuantizedTensor& a, const fpsim::QuantizedTensor& b) {
  if (a.shape != b.shape) return "shape";
  if (a.elements != b.elements) return "elements";
  if (a.scale_grid != b.scale_grid) return "scale_grid";
  if (std::string_view(a.scale_format.name) != b.scale_format.name) return "scale_format";
  if (a.scales != b.scales) return "scales";
  if (a.multipliers != b.multipliers) return "multipliers";
  if (!same_bits(a.tensor_scale, b.tensor_scale)) return "tensor_scale";
  const fpsim::QuantStats &s = a.stats, &t = b.stats;
  if (!same_bits(s.amax, t.amax)) return "stats.amax";
  if (s.elements != t.elements) return "stats.elements";
  if (s.nan_inputs != t.nan_inputs) return "stats.nan_inputs";
  if (s.inf_inputs != t.inf_inputs) return "stats.inf_inputs";
  if (s.underflows != t.underflows) return "stats.underflows";
  if (s.saturated != t.saturated) return "stats.saturated";
  if (s.nan_scale_blocks != t.nan_scale_blocks) return "stats.nan_scale_blocks";
  if (!same_bits(s.mse, t.mse)) return "stats.mse";
  if (!same_bits(s.sqnr_db, t.sqnr_db)) return "stats.sqnr_db";
  return "";
}

struct Run {
  std::optional<fpsim::QuantizedTensor> result;
  std::string error;  // "Type: message"
};

template <typename F>
Run run(F&& f) {
  Run r;
  try {
    r.result = f();
  } catch (const fpsim::OptionError& e) {
    r.error = std::string("OptionError: ") + e.what();
  } catch (const fpsim::Error& e) {
    r.error = std::string("Error: ") + e.what();
  }
  return r;
}

}  // namespace

int fuzz_quantize_input(const uint8_t* data, size_t size) {
  fpsim_fuzz::Bytes in(data, size);
  const uint8_t scheme_byte = in.byte();
  const uint8_t options = in.byte();
  const uint8_t more = in.byte();
  const std::string dims(in.take(in.byte() % 32));
  const std::string text(in.rest());
  try {
    // Reading, as fpsim quantize reads.
    const bool bits = options & 0x01;
    const bool shape_from_text = options & 0x80;
    fpsim::cli::QuantizeInput input;
    fpsim::TensorShape shape;
    try {
      std::istringstream stream(text);
      input = fpsim::cli::read_quantize_input(stream, "stdin", bits);
      if (input.values.size() > kMaxValues) return 0;
      shape = fpsim::cli::quantize_input_shape(shape_from_text ? std::optional<std::string>(dims) : std::nullopt, input,
                                               "stdin");
    } catch (const fpsim::Error& e) {
      if (!dynamic_cast<const fpsim::ParseError*>(&e) && !dynamic_cast<const fpsim::OptionError*>(&e))
        fail(kTarget, std::string("a reading error of another type: ") + e.what());
      fpsim_fuzz::check_message(kTarget, e.what(), text + "\n" + dims);
      return 0;
    }
    if (input.values.empty() || shape.size() != input.values.size())
      fail(kTarget, "shape " + std::to_string(shape.rows) + "x" + std::to_string(shape.cols) + " for " +
                        std::to_string(input.values.size()) + " values of '" + shown(text) + "'");

    // The scheme and its options, as fpsim quantize sets them.
    const SchemeChoice& choice = kSchemes[scheme_byte % std::size(kSchemes)];
    fpsim::QuantScheme s = fpsim::parse_quant_scheme(choice.name);
    if (choice.block_from_text && !shape_from_text) {
      try {
        const fpsim::TensorShape b = fpsim::cli::parse_dims(dims, "--block", false);
        s.block = fpsim::BlockShape{b.rows, b.cols};
      } catch (const fpsim::OptionError& e) {
        fpsim_fuzz::check_message(kTarget, e.what(), dims);
        return 0;
      }
    }
    fpsim::parse_rounding(kRoundings[(options >> 1) & 7], s.rounding);
    if (options & 0x10) s.rounding.overflow = fpsim::Overflow::ieee;
    s.require_full_blocks = (options & 0x20) != 0;
    s.hadamard = (options & 0x40) != 0;
    s.hadamard_seed = scheme_byte >> 4;
    s.rounding.seed = more;
    s.rounding.ftz = (more & 0x08) != 0;
    s.rounding.daz = (more & 0x10) != 0;
    s.rounding.tininess = (more & 0x20) ? fpsim::Tininess::before : fpsim::Tininess::after;
    if (s.kind == fpsim::ScaleKind::mx) {
      s.e8m0_rule = static_cast<fpsim::E8m0Rule>((more & 3) % 3);
    } else {
      s.arith = (more & 1) ? fpsim::ScaleArith::exact : fpsim::ScaleArith::fp32;
    }
    if (s.kind == fpsim::ScaleKind::per_tensor || s.kind == fpsim::ScaleKind::fp32_block) {
      if (more & 0x04) s.pow2_scales = !s.pow2_scales;
      constexpr float kEpsilons[] = {0.0f, 1e-40f, 1e-3f, 448.0f};
      s.amax_epsilon = kEpsilons[more >> 6];
    }

    const std::span<const float> x = input.values;
    const Run scalar = run([&] { return fpsim::quantize(x, shape, s); });
    const Run simd = run([&] { return fpsim::bulk::quantize(x, shape, s); });
    const std::string where = std::string("scheme ") + choice.name + " (options " + std::to_string(options) + ", " +
                              std::to_string(more) + ", dims '" + shown(dims) + "') on '" + shown(text) + "'";
    if (scalar.result.has_value() != simd.result.has_value() || scalar.error != simd.error)
      fail(kTarget, where + ": scalar '" + (scalar.result ? "ok" : scalar.error) + "', simd '" +
                        (simd.result ? "ok" : simd.error) + "'");
    if (!scalar.result) {
      fpsim_fuzz::check_message(kTarget, scalar.error, text);
      return 0;
    }
    if (const std::string d = difference(*scalar.result, *simd.result); !d.empty())
      fail(kTarget, where + ": scalar and simd differ in " + d);

    // quantize_into a tensor that held another result (the training runner's way).
    fpsim::QuantizedTensor reused;
    try {
      fpsim::bulk::quantize_into(x.first(x.size() / 2 + 1), {1, x.size() / 2 + 1}, s, reused);
    } catch (const fpsim::Error&) {
    }
    fpsim::bulk::quantize_into(x, shape, s, reused);
    if (const std::string d = difference(*scalar.result, reused); !d.empty())
      fail(kTarget, where + ": bulk::quantize_into a used tensor differs in " + d);

    const std::vector<float> back = fpsim::dequantize(*scalar.result);
    const std::vector<float> bulk_back = fpsim::bulk::dequantize(*simd.result);
    if (back.size() != x.size() || bulk_back.size() != x.size()) fail(kTarget, where + ": dequantized sizes");
    for (size_t i = 0; i < back.size(); ++i)
      if (std::isnan(back[i]) ? !std::isnan(bulk_back[i]) : !same_bits(back[i], bulk_back[i]))
        fail(kTarget, where + ": dequantized element " + std::to_string(i) + " differs");
  } catch (...) {
    fpsim_fuzz::fail_on_unexpected(kTarget, text);
  }
  return 0;
}
