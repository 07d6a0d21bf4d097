#include "quantize_command.hpp"

#include <CLI/CLI.hpp>
#include <bit>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "code_text.hpp"
#include "command_errors.hpp"
#include "fpsim/bulk/quantize_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/quantize.hpp"
#include "fpsim/quoted_text.hpp"
#include "json_number.hpp"
#include "option_values.hpp"
#include "quantize_input.hpp"

namespace fpsim::cli {

namespace {

std::string shape_text(size_t r, size_t c) { return std::to_string(r).append("x").append(std::to_string(c)); }

// --------------------------------------------------------------------------
// The scheme

std::string scheme_label(const QuantizeOptions& o) { return std::string("scheme ").append(quoted_text(o.scheme)); }

// The scalar definitions (fpsim::quantize) or the SIMD path
// (fpsim::bulk::quantize): bit-identical results
// (tests/sim/quantize_bulk_test.cpp), so --engine only changes the speed.
enum class Engine { scalar, simd };
constexpr NamedValue<Engine> kEngineNames[] = {{"scalar", Engine::scalar}, {"simd", Engine::simd}};

// What the options ask for, every option error found before any reading.
struct Plan {
  Engine engine = Engine::simd;
  QuantScheme scheme;
};

Plan make_plan(const QuantizeOptions& o) {
  check_path_option("--in", o.in, "stdin");
  check_path_option("--out", o.out, "stdout");
  if (o.dequantize && o.stats_only) throw OptionError("--dequantize and --stats-only exclude each other");
  Plan p;
  p.engine = parse_named_value("--engine", o.engine, kEngineNames);
  if (p.engine == Engine::simd && !quantize_simd_available())
    throw OptionError("--engine simd: this build has no SIMD quantization engine (use --engine scalar)");
  p.scheme = quantize_scheme(o);
  return p;
}

QuantizedTensor run_engine(Engine engine, std::span<const float> x, TensorShape shape, const QuantScheme& s) {
  return engine == Engine::scalar ? fpsim::quantize(x, shape, s) : fpsim::bulk::quantize(x, shape, s);
}

std::vector<float> run_dequantize(Engine engine, const QuantizedTensor& q) {
  return engine == Engine::scalar ? fpsim::dequantize(q) : fpsim::bulk::dequantize(q);
}

// --------------------------------------------------------------------------
// Output

// The exact value of a float (or a double) as the shortest decimal that reads
// back to the same double: exact in any reader of FP32 or FP64.
std::string number_text(double v) { return shortest_decimal(v, NanSign::hidden); }

float bits_float(uint32_t b) { return std::bit_cast<float>(b); }

// What the command computed, ready to print.
struct Result {
  const QuantizeOptions& o;
  const std::vector<float>& x;
  const QuantizedTensor& q;
  std::vector<float> values;  // dequantized
  BlockShape block;           // effective (per_tensor: the whole tensor)

  double scale_value(size_t b) const { return to_double(q.scales[b], q.scale_format); }
  bool has_multipliers() const { return !q.multipliers.empty(); }
};

std::string settings_text(const Result& r) {
  const QuantScheme& s = r.q.scheme;
  std::string t = std::string("rounding ").append(rounding_name(s.rounding));
  if (s.rounding.rounding == Rounding::sr)
    t.append(" (seed ")
        .append(std::to_string(s.rounding.seed))
        .append(", stream ")
        .append(std::to_string(s.rounding.stream))
        .append(", step ")
        .append(std::to_string(s.rounding.step))
        .append(")");
  t.append(", overflow ").append(overflow_name(s.rounding.overflow));
  switch (s.kind) {
    case ScaleKind::mx:
      t.append(", e8m0_rule ").append(e8m0_rule_name(s.e8m0_rule));
      break;
    case ScaleKind::nvfp4:
      t.append(", scale_arith ").append(scale_arith_name(s.arith));
      if (s.four_over_six != FourOverSix::off) t.append(", 4over6 ").append(four_over_six_name(s.four_over_six));
      if (s.nvfp4_row_scaled) t.append(", row-scaled");
      break;
    case ScaleKind::per_tensor:
    case ScaleKind::fp32_block:
      t.append(", scale_arith ")
          .append(scale_arith_name(s.arith))
          .append(", pow2_scales ")
          .append(s.pow2_scales ? "on" : "off")
          .append(", amax_epsilon ")
          .append(number_text(s.amax_epsilon));
      break;
  }
  if (s.require_full_blocks) t.append(", require_full_blocks");
  if (s.hadamard)
    t.append(", hadamard seed ").append(std::to_string(s.hadamard_seed)).append(" (x is the rotated input)");
  return t;
}

void csv_stats(std::string& t, const QuantStats& st) {
  t.append("\n# stats\nkey,value\n");
  auto row = [&](const char* key, const std::string& value) { t.append(key).append(",").append(value).append("\n"); };
  row("amax", number_text(st.amax));
  row("elements", std::to_string(st.elements));
  row("nan_inputs", std::to_string(st.nan_inputs));
  row("inf_inputs", std::to_string(st.inf_inputs));
  row("underflows", std::to_string(st.underflows));
  row("saturated", std::to_string(st.saturated));
  row("nan_scale_blocks", std::to_string(st.nan_scale_blocks));
  row("mse", number_text(st.mse));
  row("sqnr_db", number_text(st.sqnr_db));
}

std::string csv_text(const Result& r) {
  const QuantizedTensor& q = r.q;
  const size_t R = q.shape.rows, C = q.shape.cols;
  std::string t;
  t.append("# fpsim quantize: ")
      .append(scheme_label(r.o))
      .append(" (")
      .append(scale_kind_name(q.scheme.kind))
      .append("), shape ")
      .append(shape_text(R, C))
      .append(", block ")
      .append(shape_text(r.block.rows, r.block.cols))
      .append(", scale grid ")
      .append(shape_text(q.scale_grid.rows, q.scale_grid.cols))
      .append("\n# element_format ")
      .append(q.scheme.element.name)
      .append(", scale_format ")
      .append(q.scale_format.name)
      .append(", tensor_scale ")
      .append(number_text(q.tensor_scale));
  if (!q.row_tensor_scales.empty()) {
    t.append("\n# row_tensor_scales");
    for (float v : q.row_tensor_scales) t.append(" ").append(number_text(v));
  }
  t.append("\n# ")
      .append(settings_text(r))
      .append("\n");
  if (r.o.dequantize) {
    t.append("# dequantized values, one row per line\n");
    for (size_t i = 0; i < R; ++i) {
      for (size_t j = 0; j < C; ++j) t.append(j ? "," : "").append(number_text(r.values[i * C + j]));
      t.append("\n");
    }
    return t;
  }
  if (!r.o.stats_only) {
    t.append("\n# elements\nrow,col,x,code_hex,value\n");
    for (size_t i = 0; i < R; ++i)
      for (size_t j = 0; j < C; ++j) {
        const size_t k = i * C + j;
        t.append(std::to_string(i))
            .append(",")
            .append(std::to_string(j))
            .append(",")
            .append(number_text(r.x[k]))
            .append(",")
            .append(format_hex_code(q.elements[k], q.scheme.element))
            .append(",")
            .append(number_text(r.values[k]))
            .append("\n");
      }
    t.append("\n# scales\nblock_row,block_col,scale_code_hex,scale_value")
        .append(r.has_multipliers() ? ",multiplier\n" : "\n");
    const size_t GC = q.scale_grid.cols;
    for (size_t b = 0; b < q.scales.size(); ++b) {
      t.append(std::to_string(b / GC))
          .append(",")
          .append(std::to_string(b % GC))
          .append(",")
          .append(format_hex_code(q.scales[b], q.scale_format))
          .append(",")
          .append(number_text(r.scale_value(b)));
      if (r.has_multipliers()) t.append(",").append(number_text(bits_float(q.multipliers[b])));
      t.append("\n");
    }
  }
  csv_stats(t, q.stats);
  return t;
}

std::string json_text(const Result& r) {
  using json = nlohmann::ordered_json;
  const QuantizedTensor& q = r.q;
  const QuantScheme& s = q.scheme;
  const size_t R = q.shape.rows, C = q.shape.cols;
  json j;
  j["scheme"] = r.o.scheme;
  j["kind"] = std::string(scale_kind_name(s.kind));
  j["shape"] = {R, C};
  j["block"] = {r.block.rows, r.block.cols};
  j["scale_grid"] = {q.scale_grid.rows, q.scale_grid.cols};
  j["element_format"] = std::string(s.element.name);
  j["scale_format"] = std::string(q.scale_format.name);
  j["tensor_scale"] = json_number(q.tensor_scale);
  if (!q.row_tensor_scales.empty()) {
    json rows = json::array();
    for (float v : q.row_tensor_scales) rows.push_back(json_number(v));
    j["row_tensor_scales"] = std::move(rows);
  }
  j["rounding"] = rounding_name(s.rounding);
  j["overflow"] = std::string(overflow_name(s.rounding.overflow));
  if (s.kind == ScaleKind::mx) j["e8m0_rule"] = std::string(e8m0_rule_name(s.e8m0_rule));
  if (s.kind != ScaleKind::mx) j["scale_arith"] = std::string(scale_arith_name(s.arith));
  if (s.four_over_six != FourOverSix::off) j["four_over_six"] = std::string(four_over_six_name(s.four_over_six));
  if (s.kind == ScaleKind::per_tensor || s.kind == ScaleKind::fp32_block) {
    j["pow2_scales"] = s.pow2_scales;
    j["amax_epsilon"] = json_number(s.amax_epsilon);
  }
  if (s.hadamard) j["hadamard_seed"] = s.hadamard_seed;
  auto matrix = [&](auto cell) {
    json rows = json::array();
    for (size_t i = 0; i < R; ++i) {
      json row = json::array();
      for (size_t c = 0; c < C; ++c) row.push_back(cell(i * C + c));
      rows.push_back(std::move(row));
    }
    return rows;
  };
  if (r.o.dequantize) {
    j["values"] = matrix([&](size_t k) { return json_number(r.values[k]); });
    return j.dump() + "\n";
  }
  if (!r.o.stats_only) {
    j["elements"] = matrix([&](size_t k) { return json(format_hex_code(q.elements[k], s.element)); });
    j["values"] = matrix([&](size_t k) { return json_number(r.values[k]); });
    json scales = json::array(), scale_values = json::array(), multipliers = json::array();
    for (size_t b = 0; b < q.scales.size(); ++b) {
      scales.push_back(format_hex_code(q.scales[b], q.scale_format));
      scale_values.push_back(json_number(r.scale_value(b)));
    }
    for (uint32_t m : q.multipliers) multipliers.push_back(json_number(bits_float(m)));
    j["scales"] = std::move(scales);
    j["scale_values"] = std::move(scale_values);
    j["multipliers"] = std::move(multipliers);
  }
  const QuantStats& st = q.stats;
  j["stats"] = {{"amax", json_number(st.amax)},
                {"elements", st.elements},
                {"nan_inputs", st.nan_inputs},
                {"inf_inputs", st.inf_inputs},
                {"underflows", st.underflows},
                {"saturated", st.saturated},
                {"nan_scale_blocks", st.nan_scale_blocks},
                {"mse", json_number(st.mse)},
                {"sqnr_db", json_number(st.sqnr_db)}};
  return j.dump() + "\n";
}

void run_or_throw(const QuantizeOptions& o, std::istream& stdin_stream, std::ostream& out) {
  const Plan plan = make_plan(o);  // option errors come before any reading
  const bool from_stdin = o.in == "-";
  const std::string name = from_stdin ? std::string("stdin") : o.in;
  QuantizeInput input;
  if (from_stdin) {
    input = read_quantize_input(stdin_stream, name, o.bits);
  } else {
    std::istringstream file(io::read_input_file(o.in));
    input = read_quantize_input(file, name, o.bits);
  }
  const TensorShape shape = quantize_input_shape(o.shape, input, name);
  const QuantizedTensor q = run_engine(plan.engine, input.values, shape, plan.scheme);
  // With the Hadamard transform, elements, scales and statistics are in the
  // rotated domain: show the rotated input next to them (the same transform
  // the library applies, along the axis the library picks: docs/quantization.md §6).
  std::vector<float> rotated;
  if (q.scheme.hadamard) {
    rotated = input.values;
    hadamard_transform(rotated, shape, hadamard_axis(q.scheme), q.scheme.hadamard_seed);
  }
  Result r{o, q.scheme.hadamard ? rotated : input.values, q, run_dequantize(plan.engine, q), q.scheme.block};
  if (q.scheme.kind == ScaleKind::per_tensor) r.block = BlockShape{shape.rows, shape.cols};
  const std::string text = o.json ? json_text(r) : csv_text(r);
  write_command_output(text, o.out, out);
}

}  // namespace

QuantScheme quantize_scheme(const QuantizeOptions& o) {
  QuantScheme s = parse_quant_scheme(o.scheme);
  const bool fp32_scales = s.kind == ScaleKind::per_tensor || s.kind == ScaleKind::fp32_block;
  if (o.block) {
    if (s.kind == ScaleKind::per_tensor)
      throw OptionError(std::string("--block does not apply to per-tensor ")
                            .append(scheme_label(o))
                            .append(" (one scale for the whole tensor)"));
    const TensorShape b = parse_dims(*o.block, "--block", false);
    s.block = BlockShape{b.rows, b.cols};
  }
  if (o.e8m0_rule) {
    if (s.kind != ScaleKind::mx)
      throw OptionError(std::string("--e8m0-rule applies to MX schemes only, not ").append(scheme_label(o)));
    s.e8m0_rule = parse_e8m0_rule(*o.e8m0_rule);
  }
  if (o.pow2_scales) {
    if (!fp32_scales)
      throw OptionError(std::string(*o.pow2_scales ? "--pow2-scales" : "--no-pow2-scales")
                            .append(" applies to per-tensor and block-RxC-FMT schemes only, not ")
                            .append(scheme_label(o)));
    s.pow2_scales = *o.pow2_scales;
  }
  if (o.amax_epsilon) {
    if (!fp32_scales)
      throw OptionError(std::string("--amax-epsilon applies to per-tensor and block-RxC-FMT schemes only, not ")
                            .append(scheme_label(o)));
    float eps = 0;
    try {
      eps = parse_quantize_value(*o.amax_epsilon, false);
    } catch (const Error& e) {
      throw OptionError(std::string("--amax-epsilon: ").append(e.what()));
    }
    if (!(eps >= 0) || std::isinf(eps))
      throw OptionError(
          std::string("--amax-epsilon ").append(quoted_text(*o.amax_epsilon)).append(": expected a finite number >= 0"));
    s.amax_epsilon = eps;
  }
  if (o.scale_arith) {
    if (s.kind == ScaleKind::mx)
      throw OptionError(std::string("--scale-arith does not apply to MX ")
                            .append(scheme_label(o))
                            .append(" (E8M0 scales are powers of two: scaling is exact)"));
    s.arith = parse_scale_arith(*o.scale_arith);
  }
  if (o.rounding) parse_rounding(*o.rounding, s.rounding);
  if (o.overflow) s.rounding.overflow = parse_overflow(*o.overflow);
  if ((o.seed || o.stream || o.step) && s.rounding.rounding != Rounding::sr)
    throw OptionError("--seed, --stream and --step key stochastic rounding: they need --rounding sr or sr<R>");
  if (o.seed) s.rounding.seed = *o.seed;
  if (o.stream) s.rounding.stream = *o.stream;
  if (o.step) s.rounding.step = *o.step;
  if (o.require_full_blocks) s.require_full_blocks = true;
  if (o.hadamard) s.hadamard = true;
  if (o.hadamard_seed) {
    if (!s.hadamard) throw OptionError("--hadamard-seed needs --hadamard");
    s.hadamard_seed = *o.hadamard_seed;
  }
  s.error_stats = true;
  return s;
}


bool quantize_simd_available() { return true; }

int run_quantize(const QuantizeOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  return exit_status_of("quantize", err, [&] {
    run_or_throw(options, in, out);
    return 0;
  });
}

void add_quantize_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<QuantizeOptions>();
  std::string schemes;
  for (const std::string& n : quant_scheme_names()) schemes.append(schemes.empty() ? "" : ", ").append(n);
  CLI::App* cmd = app.add_subcommand(
      "quantize",
      "Quantize a tensor with a scaling scheme (docs/quantization.md): elements, block scales and statistics as CSV "
      "or JSON. Values (decimal, hex float 0x1.8p3, inf, nan; FP32 bit patterns with --bits) come from --in or "
      "stdin, separated by blanks, commas or newlines; without --shape each line is one row.");
  cmd->add_option("--scheme", o->scheme, std::string("quantization scheme: ").append(schemes))->required();
  cmd->add_option_function<std::string>(
      "--shape", [o](const std::string& v) { o->shape = v; },
      "RxC or N (1xN); the value count must match (default: one row per line)");
  cmd->add_option("--in", o->in, "input file (gzip is read transparently), or - for stdin")->capture_default_str();
  cmd->add_option("--out", o->out, "output file (replaced whole), or - for stdout")->capture_default_str();
  cmd->add_flag("--json", o->json, "print JSON instead of CSV");
  add_renamed_option(cmd, "--output-format", "print JSON with --json (CSV is the default)");
  cmd->add_flag("--bits", o->bits, "values are FP32 bit patterns: 8 hex digits, optionally after 0x");
  cmd->add_option_function<std::string>(
      "--block", [o](const std::string& v) { o->block = v; }, "block shape RxC (e.g. 32x1 for column-wise MX)");
  cmd->add_option_function<std::string>(
      "--e8m0-rule", [o](const std::string& v) { o->e8m0_rule = v; },
      "MX scale rule: floor (OCP), ceil (TE MXFP8) or rne");
  CLI::Option* pow2 = cmd->add_flag_callback(
      "--pow2-scales", [o] { o->pow2_scales = true; }, "round FP32 multipliers down to 2^k");
  CLI::Option* no_pow2 = cmd->add_flag_callback(
      "--no-pow2-scales", [o] { o->pow2_scales = false; }, "keep FP32 multipliers as computed");
  pow2->excludes(no_pow2);
  cmd->add_option_function<std::string>(
      "--amax-epsilon", [o](const std::string& v) { o->amax_epsilon = v; },
      "amax = max(amax, X) before the multiplier (FP32 schemes)");
  cmd->add_option_function<std::string>(
      "--scale-arith", [o](const std::string& v) { o->scale_arith = v; },
      "fp32 (TE's kernels today), fp32-te-legacy (NVFP4: TE before c74e5aa37) or exact (one rounding)");
  cmd->add_option_function<std::string>(
      "--rounding", [o](const std::string& v) { o->rounding = v; },
      "element rounding: rne rna rtz rup rdn rto sr sr<R> (default rne)");
  add_whole_number_option(cmd, "--seed", o->seed, 0, UINT32_MAX, "sr only: Philox key word 0 (default 0)");
  add_whole_number_option(cmd, "--stream", o->stream, 0, UINT32_MAX, "sr only: Philox key word 1 (default 0)");
  add_whole_number_option(cmd, "--step", o->step, 0, UINT32_MAX, "sr only: Philox counter word 2 (default 0)");
  cmd->add_option_function<std::string>(
      "--overflow", [o](const std::string& v) { o->overflow = v; }, "saturate (default) or ieee");
  cmd->add_flag("--require-full-blocks", o->require_full_blocks, "refuse a shape the block does not divide");
  cmd->add_flag("--hadamard", o->hadamard, "random Hadamard transform along the block's long axis first");
  add_whole_number_option(cmd, "--hadamard-seed", o->hadamard_seed, 0, UINT32_MAX,
                          "seed of the Hadamard signs (default 0; needs --hadamard)");
  CLI::Option* deq =
      cmd->add_flag("--dequantize", o->dequantize, "print only the dequantized tensor, one row per line");
  CLI::Option* stats = cmd->add_flag("--stats-only", o->stats_only, "print only the statistics");
  deq->excludes(stats);
  cmd->add_option("--engine", o->engine, "simd (fpsim::bulk::quantize) or scalar (fpsim::quantize): same bits")
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = run_quantize(*o, std::cin, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
