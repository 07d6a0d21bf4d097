// `fpsim quantize`: the contract of docs/cli.md, driven in-process. Expected
// codes and values are worked out by hand from docs/quantization.md.
#include "quantize_command.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/quantize.hpp"

namespace fpsim::cli {
namespace {

struct Outcome {
  int status;
  std::string out;
  std::string err;
  std::vector<std::string> lines;

  bool has_line(const std::string& l) const {
    for (const std::string& x : lines)
      if (x == l) return true;
    return false;
  }
  // The value of a `key,value` stats line.
  std::string stat(const std::string& key) const {
    const std::string prefix = std::string(key).append(",");
    for (const std::string& x : lines)
      if (x.rfind(prefix, 0) == 0) return x.substr(prefix.size());
    return "(missing)";
  }
};

Outcome run_engine(const QuantizeOptions& o, const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out, err;
  const int status = run_quantize(o, in, out, err);
  Outcome r{status, out.str(), err.str(), {}};
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) r.lines.push_back(line);
  return r;
}

// Runs the default engine (simd) and checks that the scalar one prints the
// same bytes, errors included.
Outcome run(const QuantizeOptions& o, const std::string& input) {
  const Outcome r = run_engine(o, input);
  if (o.engine == "simd") {
    QuantizeOptions scalar = o;
    scalar.engine = "scalar";
    const Outcome s = run_engine(scalar, input);
    EXPECT_EQ(r.status, s.status);
    EXPECT_EQ(r.out, s.out) << "--engine simd and --engine scalar differ";
    EXPECT_EQ(r.err, s.err);
  }
  return r;
}

QuantizeOptions scheme(const std::string& name) {
  QuantizeOptions o;
  o.scheme = name;
  return o;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// OCP MX floor rule, docs/quantization.md §3: block amax 957 = 1.87 * 2^9,
// emax(e4m3) = 8, so k = 1 (code 127 + 1 = 0x80). 957 / 2 = 478.5 is above
// 448: the element saturates to 448 (0x7e) and decodes to 896.
TEST(QuantizeCommand, MxFloorRuleClipsTheBlockMaximum) {
  const Outcome r = run(scheme("mxfp8-e4m3"), "957 1 -3.5 0\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.has_line("0,0,957,0x7e,896")) << r.out;
  EXPECT_TRUE(r.has_line("0,1,1,0x30,1")) << r.out;        // 0.5 = 2^-1: exponent field 6
  EXPECT_TRUE(r.has_line("0,2,-3.5,0xbe,-3.5")) << r.out;  // -1.75: 1 0111 110
  EXPECT_TRUE(r.has_line("0,3,0,0x00,0")) << r.out;
  EXPECT_TRUE(r.has_line("block_row,block_col,scale_code_hex,scale_value")) << r.out;
  EXPECT_TRUE(r.has_line("0,0,0x80,2")) << r.out;
  EXPECT_EQ(r.stat("amax"), "957");
  EXPECT_EQ(r.stat("elements"), "4");
  EXPECT_EQ(r.stat("saturated"), "1");
  EXPECT_EQ(r.stat("underflows"), "0");
  EXPECT_EQ(r.stat("nan_scale_blocks"), "0");
  EXPECT_EQ(r.stat("mse"), "930.25");  // (957 - 896)^2 / 4
  const double sqnr = 10 * std::log10((957.0 * 957.0 + 1.0 + 3.5 * 3.5) / (61.0 * 61.0));
  EXPECT_DOUBLE_EQ(std::stod(r.stat("sqnr_db")), sqnr);
  EXPECT_TRUE(contains(r.out, "# fpsim quantize: scheme 'mxfp8-e4m3' (mx), shape 1x4, block 1x32, scale grid 1x1"))
      << r.out;
}

// TE's ceil rule: q = fp32(957 / 448) = 2.136..., rounded up to 2^2 (0x81);
// 957 / 4 = 239.25 rounds to 240 (0x77), which decodes to 960.
TEST(QuantizeCommand, MxCeilRuleRoundsTheScaleUp) {
  QuantizeOptions o = scheme("mxfp8-e4m3");
  o.e8m0_rule = "ceil";
  const Outcome r = run(o, "957 1 -3.5 0\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.has_line("0,0,957,0x77,960")) << r.out;
  EXPECT_TRUE(r.has_line("0,1,1,0x28,1")) << r.out;        // 0.25
  EXPECT_TRUE(r.has_line("0,2,-3.5,0xb6,-3.5")) << r.out;  // -0.875
  EXPECT_TRUE(r.has_line("0,0,0x81,4")) << r.out;
  EXPECT_EQ(r.stat("saturated"), "0");
  EXPECT_EQ(r.stat("mse"), "2.25");  // (960 - 957)^2 / 4
  EXPECT_TRUE(contains(r.out, "e8m0_rule ceil")) << r.out;
}

// Column-wise blocks: --block 2x1 on a 2x2 tensor gives a 1x2 scale grid.
// Column 1 holds {1, 2}: floor(log2 2) - 8 = -7, code 0x78.
TEST(QuantizeCommand, ColumnWiseBlocks) {
  QuantizeOptions o = scheme("mxfp8-e4m3");
  o.block = "2x1";
  const Outcome r = run(o, "957 1\n1 2\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.has_line("0,0,0x80,2")) << r.out;
  EXPECT_TRUE(r.has_line("0,1,0x78,0.0078125")) << r.out;
  EXPECT_TRUE(r.has_line("0,1,1,0x70,1")) << r.out;  // 1 * 2^7 = 128
  EXPECT_TRUE(r.has_line("1,1,2,0x78,2")) << r.out;  // 2 * 2^7 = 256
  EXPECT_TRUE(r.has_line("1,0,1,0x30,1")) << r.out;  // 1 / 2
  EXPECT_TRUE(contains(r.out, "shape 2x2, block 2x1, scale grid 1x2")) << r.out;
}

// TE current scaling: amax 448 = e4m3's max, multiplier fp32(448 / 448) = 1.
TEST(QuantizeCommand, PerTensorE4m3) {
  const Outcome r = run(scheme("per-tensor-e4m3"), "448, -224, 0\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.has_line("0,0,448,0x7e,448")) << r.out;
  EXPECT_TRUE(r.has_line("0,1,-224,0xf6,-224")) << r.out;
  EXPECT_TRUE(r.has_line("0,2,0,0x00,0")) << r.out;
  EXPECT_TRUE(r.has_line("block_row,block_col,scale_code_hex,scale_value,multiplier")) << r.out;
  EXPECT_TRUE(r.has_line("0,0,0x3f800000,1,1")) << r.out;
  EXPECT_EQ(r.stat("mse"), "0");
  EXPECT_EQ(r.stat("sqnr_db"), "inf");  // no error at all
  EXPECT_TRUE(contains(r.out, "block 1x3, scale grid 1x1")) << r.out;
}

// The multiplier is not a power of two unless asked: amax 100 gives
// fp32(448 / 100) = 4.48; --pow2-scales rounds it down to 4.
TEST(QuantizeCommand, PerTensorPow2Override) {
  QuantizeOptions o = scheme("per-tensor-e4m3");
  o.pow2_scales = true;
  const Outcome r = run(o, "100 -50\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.has_line("0,0,0x3e800000,0.25,4")) << r.out;  // scale_inv 1/4
  EXPECT_TRUE(r.has_line("0,0,100,0x7c,96")) << r.out;        // 400 = 1.5625 * 2^8 ties to even: 384 = 1.5 * 2^8
  EXPECT_TRUE(contains(r.out, "pow2_scales on")) << r.out;
}

// NVFP4 with amax 2688 = 448 * 6, so S_enc = 1 (TE order). Block 0 (amax 2688):
// scale 448 (ue4m3 0x7e), elements x / 448 = 6, -3, 1, 0.5. Block 1 (amax
// 12): scale fp32(12 / 6) = 2 (0x40); 5 / 2 = 2.5 ties to even: 2 (0x4),
// which decodes to 4.
TEST(QuantizeCommand, Nvfp4TinyExample) {
  std::string row = "2688 -1344 448 224";
  for (int i = 0; i < 12; ++i) row.append(" 0");
  row.append(" 12 5 -2 1");
  for (int i = 0; i < 12; ++i) row.append(" 0");
  const Outcome r = run(scheme("nvfp4"), row + "\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.has_line("0,0,2688,0x7,2688")) << r.out;
  EXPECT_TRUE(r.has_line("0,1,-1344,0xd,-1344")) << r.out;
  EXPECT_TRUE(r.has_line("0,2,448,0x2,448")) << r.out;
  EXPECT_TRUE(r.has_line("0,3,224,0x1,224")) << r.out;
  EXPECT_TRUE(r.has_line("0,4,0,0x0,0")) << r.out;
  EXPECT_TRUE(r.has_line("0,16,12,0x7,12")) << r.out;
  EXPECT_TRUE(r.has_line("0,17,5,0x4,4")) << r.out;
  EXPECT_TRUE(r.has_line("0,18,-2,0xa,-2")) << r.out;
  EXPECT_TRUE(r.has_line("0,19,1,0x1,1")) << r.out;
  EXPECT_TRUE(r.has_line("0,0,0x7e,448")) << r.out;
  EXPECT_TRUE(r.has_line("0,1,0x40,2")) << r.out;
  EXPECT_TRUE(contains(r.out, "element_format e2m1, scale_format ue4m3, tensor_scale 1")) << r.out;
  EXPECT_EQ(r.stat("mse"), "0.03125");  // (5 - 4)^2 / 32
  EXPECT_EQ(r.stat("amax"), "2688");

  QuantizeOptions j = scheme("nvfp4");
  j.json = true;
  const Outcome rj = run(j, row + "\n");
  ASSERT_EQ(rj.status, 0) << rj.err;
  const auto doc = nlohmann::json::parse(rj.out);
  EXPECT_EQ(doc["scales"], nlohmann::json::array({"0x7e", "0x40"}));
  EXPECT_EQ(doc["scale_values"], nlohmann::json::array({448.0, 2.0}));
  EXPECT_EQ(doc["tensor_scale"], 1.0);
  EXPECT_EQ(doc["multipliers"], nlohmann::json::array());
  EXPECT_EQ(doc["elements"][0][17], "0x4");
  EXPECT_EQ(doc["values"][0][17], 4.0);
  EXPECT_EQ(doc["block"], nlohmann::json::array({1, 16}));
}

// 4over6 through the command: the hand-derived block of
// tests/sim/quantize_test.cpp (Nvfp4FourOverSixHandDerived): {6, 4.5, 3, 1.5}
// keeps map-to-4, scale 384 (0x7c), S_enc = 1536 / 6 = 256.
TEST(QuantizeCommand, Nvfp4FourOverSix) {
  std::string row = "6 4.5 3 1.5";
  for (int i = 0; i < 12; ++i) row.append(" 0");
  const Outcome r = run(scheme("nvfp4-4over6"), row + "\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.has_line("0,0,0x7c,384")) << r.out;
  EXPECT_TRUE(r.has_line("0,1,4.5,0x5,4.5")) << r.out;
  EXPECT_TRUE(contains(r.out, "tensor_scale 0.00390625")) << r.out;
  EXPECT_TRUE(contains(r.out, "scale_arith fp32, 4over6 mae")) << r.out;
}

// Row-scaled: rows {6, 3} and {0.75, -0.375} (tests/sim/quantize_test.cpp,
// Nvfp4RowScaledRowsOfDifferentAmax): S_enc 448 and 3584, both block scales
// 448; the JSON lists fp32(1 / S_enc) per row.
TEST(QuantizeCommand, Nvfp4RowScaled) {
  std::string text = "6 3";
  for (int i = 0; i < 14; ++i) text.append(" 0");
  text.append("\n0.75 -0.375");
  for (int i = 0; i < 14; ++i) text.append(" 0");
  QuantizeOptions o = scheme("nvfp4-row-scaled");
  o.json = true;
  const Outcome r = run(o, text + "\n");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["scales"], nlohmann::json::array({"0x7e", "0x7e"}));
  EXPECT_EQ(doc["row_tensor_scales"], nlohmann::json::array({double(1.0f / 448.0f), double(1.0f / 3584.0f)}));
  EXPECT_EQ(doc["elements"][1][1], "0xd");
}

TEST(QuantizeCommand, ScaleArithTeLegacyAndItsError) {
  QuantizeOptions o = scheme("nvfp4");
  o.scale_arith = "fp32-te-legacy";
  const Outcome r = run(o, "1 2 3\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "scale_arith fp32-te-legacy")) << r.out;
  o.scale_arith = "fp32-legacy";
  const Outcome bad = run(o, "1\n");
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(contains(bad.err, "unknown scale arithmetic 'fp32-legacy'; known: fp32, exact, fp32-te-legacy")) << bad.err;
}

TEST(QuantizeCommand, JsonOutput) {
  QuantizeOptions o = scheme("mxfp8-e4m3");
  o.e8m0_rule = "ceil";
  o.json = true;
  const Outcome r = run(o, "957 1\n-3.5 0\n");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["scheme"], "mxfp8-e4m3");
  EXPECT_EQ(j["kind"], "mx");
  EXPECT_EQ(j["shape"], nlohmann::json::array({2, 2}));
  EXPECT_EQ(j["block"], nlohmann::json::array({1, 32}));
  EXPECT_EQ(j["scale_grid"], nlohmann::json::array({2, 1}));
  EXPECT_EQ(j["element_format"], "e4m3");
  EXPECT_EQ(j["scale_format"], "e8m0");
  EXPECT_EQ(j["e8m0_rule"], "ceil");
  EXPECT_EQ(j["elements"], nlohmann::json::parse(R"([["0x77","0x28"],["0xfe","0x00"]])"));
  // Row 1 is its own block: amax 3.5, q = fp32(3.5 / 448) = 2^-7 exactly: code 120;
  // -3.5 * 2^7 = -448 (0xfe).
  EXPECT_EQ(j["scales"], nlohmann::json::array({"0x81", "0x78"}));
  EXPECT_EQ(j["scale_values"], nlohmann::json::array({4.0, 0.0078125}));
  EXPECT_EQ(j["values"], nlohmann::json::parse("[[960, 1], [-3.5, 0]]"));
  EXPECT_EQ(j["stats"]["amax"], 957.0);
  EXPECT_EQ(j["stats"]["elements"], 4);
  EXPECT_EQ(j["stats"]["mse"], 2.25);

  QuantizeOptions p = scheme("per-tensor-e4m3");
  p.json = true;
  const auto pj = nlohmann::json::parse(run(p, "448 -224 0").out);
  EXPECT_EQ(pj["multipliers"], nlohmann::json::array({1.0}));
  EXPECT_EQ(pj["scales"], nlohmann::json::array({"0x3f800000"}));
  EXPECT_EQ(pj["stats"]["sqnr_db"], "inf");  // JSON has no inf
  EXPECT_EQ(pj["block"], nlohmann::json::array({1, 3}));
}

// All inputs NaN (docs/cli.md): per-tensor amax ignores NaN, so amax = 0 and
// the multiplier is 1; every element is e4m3's NaN 0x7f; no finite element,
// so mse = 0 and sqnr_db = inf. MX: the block amax is NaN, the scale is
// 0xff and the block counts in nan_scale_blocks.
TEST(QuantizeCommand, NanOnlyTensor) {
  const Outcome p = run(scheme("per-tensor-e4m3"), "nan nan\n");
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_TRUE(p.has_line("0,0,nan,0x7f,nan")) << p.out;
  EXPECT_TRUE(p.has_line("0,1,nan,0x7f,nan")) << p.out;
  EXPECT_TRUE(p.has_line("0,0,0x3f800000,1,1")) << p.out;
  EXPECT_EQ(p.stat("amax"), "0");
  EXPECT_EQ(p.stat("nan_inputs"), "2");
  EXPECT_EQ(p.stat("nan_scale_blocks"), "0");
  EXPECT_EQ(p.stat("mse"), "0");
  EXPECT_EQ(p.stat("sqnr_db"), "inf");

  const Outcome m = run(scheme("mxfp8-e4m3"), "nan nan\n");
  ASSERT_EQ(m.status, 0) << m.err;
  EXPECT_TRUE(m.has_line("0,0,nan,0x7f,nan")) << m.out;
  EXPECT_TRUE(m.has_line("0,0,0xff,nan")) << m.out;
  EXPECT_EQ(m.stat("amax"), "0");
  EXPECT_EQ(m.stat("nan_inputs"), "2");
  EXPECT_EQ(m.stat("nan_scale_blocks"), "1");
  EXPECT_EQ(m.stat("mse"), "0");
  EXPECT_EQ(m.stat("sqnr_db"), "inf");
}

TEST(QuantizeCommand, ShapeOption) {
  QuantizeOptions o = scheme("per-tensor-e4m3");
  o.shape = "2x3";
  const Outcome ok = run(o, "1 2 3\n4\n5 6\n");  // any layout with --shape
  ASSERT_EQ(ok.status, 0) << ok.err;
  // multiplier fp32(448 / 6) = 74.67: 4 * 74.67 = 298.7 rounds to 288 = 1.125 * 2^8
  EXPECT_TRUE(contains(ok.out, "\n1,0,4,0x79,")) << ok.out;
  EXPECT_TRUE(contains(ok.out, "shape 2x3")) << ok.out;

  const Outcome bad = run(o, "1 2 3 4 5\n");
  EXPECT_EQ(bad.status, 2);
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err, "fpsim quantize: expected 6 values for --shape 2x3, got 5 in stdin\n");

  QuantizeOptions n = scheme("per-tensor-e4m3");
  n.shape = "4";
  const Outcome one_row = run(n, "1\n2\n3\n4\n");
  ASSERT_EQ(one_row.status, 0) << one_row.err;
  EXPECT_TRUE(contains(one_row.out, "shape 1x4")) << one_row.out;

  n.shape = "2x";
  EXPECT_EQ(run(n, "1 2").err, "fpsim quantize: --shape '2x': expected RxC or N\n");
  n.shape = "0x4";
  EXPECT_EQ(run(n, "1 2").status, 2);
}

TEST(QuantizeCommand, RowsMustHaveEqualLengthWithoutShape) {
  const Outcome r = run(scheme("mxfp4"), "1 2 3\n\n4 5\n");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "stdin line 3 has 2 values, line 1 has 3")) << r.err;
}

TEST(QuantizeCommand, UnknownSchemeListsTheKnownOnes) {
  const Outcome r = run(scheme("mxfp9"), "1\n");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "fpsim quantize: unknown quantization scheme 'mxfp9'")) << r.err;
  for (const char* known : {"mxfp8-e4m3", "mxfp4", "nvfp4", "per-tensor-", "block-"})
    EXPECT_TRUE(contains(r.err, known)) << known << " in " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line";
}

TEST(QuantizeCommand, BadTokensNameLineAndColumn) {
  const Outcome r = run(scheme("per-tensor-e4m3"), "1 2\n3 zz\n");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "fpsim quantize: stdin line 2, column 3: 'zz' is not a number")) << r.err;

  const Outcome comma = run(scheme("per-tensor-e4m3"), "1,,2\n");
  EXPECT_EQ(comma.status, 2);
  EXPECT_TRUE(contains(comma.err, "stdin line 1, column 3: empty value before the comma")) << comma.err;
  const Outcome trailing = run(scheme("per-tensor-e4m3"), "1, 2,\n");
  EXPECT_TRUE(contains(trailing.err, "stdin line 1, column 5: empty value after the comma")) << trailing.err;

  // A 0x token without a p exponent is refused, not read as an integer.
  const Outcome hex = run(scheme("per-tensor-e4m3"), "1 0x3f800000\n");
  EXPECT_EQ(hex.status, 2);
  EXPECT_TRUE(contains(hex.err, "line 1, column 3: '0x3f800000' is a hex integer")) << hex.err;
  EXPECT_TRUE(contains(hex.err, "--bits")) << hex.err;

  const Outcome empty = run(scheme("per-tensor-e4m3"), "\n# only a comment\n");
  EXPECT_EQ(empty.status, 2);
  EXPECT_TRUE(contains(empty.err, "stdin has no values")) << empty.err;
}

TEST(QuantizeCommand, NumberSyntax) {
  // Hex floats, comments, commas, blank lines, inf; decimals are rounded to
  // FP32 once (0.1 is 0.100000001490116...).
  const Outcome r = run(scheme("per-tensor-e4m3"), "# header\n0x1.8p3, -inf  # comment\n\n0.1 1e39\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.has_line("0,0,12,0x54,12")) << r.out;  // amax inf: multiplier 1; 12 = 1.5 * 2^3
  EXPECT_TRUE(contains(r.out, "1,0,0.10000000149011612,")) << r.out;
  EXPECT_TRUE(contains(r.out, "1,1,inf,")) << r.out;
  EXPECT_EQ(r.stat("inf_inputs"), "2");

  QuantizeOptions b = scheme("per-tensor-e4m3");
  b.bits = true;
  const Outcome bits = run(b, "0x43e00000 C3600000\n");  // 448, -224
  ASSERT_EQ(bits.status, 0) << bits.err;
  EXPECT_TRUE(bits.has_line("0,0,448,0x7e,448")) << bits.out;
  EXPECT_TRUE(bits.has_line("0,1,-224,0xf6,-224")) << bits.out;
  const Outcome badbits = run(b, "3f80000\n");
  EXPECT_EQ(badbits.status, 2);
  EXPECT_TRUE(contains(badbits.err, "line 1, column 1: '3f80000' is not an FP32 bit pattern")) << badbits.err;
}

TEST(QuantizeCommand, StatsOnlyAndDequantize) {
  QuantizeOptions s = scheme("mxfp8-e4m3");
  s.stats_only = true;
  const Outcome st = run(s, "957 1 -3.5 0\n");
  ASSERT_EQ(st.status, 0) << st.err;
  EXPECT_FALSE(contains(st.out, "# elements")) << st.out;
  EXPECT_FALSE(contains(st.out, "# scales")) << st.out;
  EXPECT_EQ(st.stat("saturated"), "1");

  QuantizeOptions d = scheme("mxfp8-e4m3");
  d.dequantize = true;
  const Outcome dq = run(d, "957 1\n-3.5 0\n");
  ASSERT_EQ(dq.status, 0) << dq.err;
  EXPECT_TRUE(dq.has_line("896,1")) << dq.out;
  EXPECT_TRUE(dq.has_line("-3.5,0")) << dq.out;
  EXPECT_FALSE(contains(dq.out, "stats")) << dq.out;
  // The output reads back as input ('#' lines are comments).
  const Outcome again = run(d, dq.out);
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_TRUE(again.has_line("896,1")) << again.out;

  d.stats_only = true;
  EXPECT_EQ(run(d, "1").status, 2);
}

TEST(QuantizeCommand, OptionsThatDoNotFitTheSchemeAreRefused) {
  auto err_of = [](QuantizeOptions o) {
    const Outcome r = run(o, "1 2\n");
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    return r.err;
  };
  QuantizeOptions o = scheme("per-tensor-e4m3");
  o.e8m0_rule = "ceil";
  EXPECT_TRUE(contains(err_of(o), "--e8m0-rule applies to MX schemes only"));
  o = scheme("per-tensor-e4m3");
  o.block = "1x32";
  EXPECT_TRUE(contains(err_of(o), "--block does not apply to per-tensor"));
  o = scheme("mxfp8-e4m3");
  o.scale_arith = "exact";
  EXPECT_TRUE(contains(err_of(o), "--scale-arith does not apply to MX"));
  o = scheme("nvfp4");
  o.pow2_scales = false;
  EXPECT_TRUE(contains(err_of(o), "--no-pow2-scales applies to per-tensor"));
  o = scheme("mxfp8-e4m3");
  o.seed = 3;
  EXPECT_TRUE(contains(err_of(o), "need --rounding sr"));
  o = scheme("mxfp8-e4m3");
  o.rounding = "nearest";
  EXPECT_TRUE(contains(err_of(o), "'nearest' is ambiguous"));
  o = scheme("mxfp8-e4m3");
  o.e8m0_rule = "up";
  EXPECT_EQ(err_of(o).rfind("fpsim quantize: ", 0), 0u);
  o = scheme("mxfp8-e4m3");
  o.engine = "gpu";
  EXPECT_TRUE(contains(err_of(o), "--engine 'gpu': expected scalar or simd"));
  o = scheme("mxfp8-e4m3");
  o.in = "";
  EXPECT_TRUE(contains(err_of(o), "--in '': expected a file name, or - for stdin"));
  o = scheme("mxfp8-e4m3");
  o.hadamard_seed = 1;
  EXPECT_TRUE(contains(err_of(o), "--hadamard-seed needs --hadamard"));
  o = scheme("per-tensor-e4m3");
  o.amax_epsilon = "-1";
  EXPECT_TRUE(contains(err_of(o), "--amax-epsilon '-1'"));
  // The library's own checks come through the same way.
  o = scheme("mxfp8-e4m3");
  o.require_full_blocks = true;
  EXPECT_FALSE(err_of(o).empty());
}

TEST(QuantizeCommand, AmaxEpsilonAndStochasticRounding) {
  QuantizeOptions o = scheme("per-tensor-e4m3");
  o.amax_epsilon = "448";  // amax 1 -> 448: multiplier 1
  const Outcome r = run(o, "1 -0.5\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.has_line("0,0,0x3f800000,1,1")) << r.out;

  QuantizeOptions sr = scheme("mxfp4");
  sr.rounding = "sr";
  sr.seed = 7;
  sr.step = 2;
  const std::string input = "0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.1 1.2 1.3 5.9\n";
  const Outcome a = run(sr, input), b = run(sr, input);
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);  // reproducible from the key
  EXPECT_TRUE(contains(a.out, "rounding sr (seed 7, stream 0, step 2)")) << a.out;
}

// With --hadamard the x column is the rotated input (docs/quantization.md
// §6), so x, value and the statistics describe the same tensor.
TEST(QuantizeCommand, HadamardShowsTheRotatedInput) {
  std::vector<float> x;
  std::string input;
  for (int i = 0; i < 32; ++i) x.push_back(float(i % 7) - 2.5f);
  for (int i = 0; i < 32; ++i) input.append(std::to_string(double(x[size_t(i)]))).append(i == 15 ? "\n" : " ");
  QuantizeOptions o = scheme("nvfp4");
  o.hadamard = true;
  o.hadamard_seed = 5;
  const Outcome r = run(o, input);
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<float> rotated = x;
  hadamard_transform(rotated, TensorShape{2, 16}, Axis::cols, 5);
  double sum_e2 = 0;
  size_t k = 0;
  bool in_elements = false;
  for (const std::string& line : r.lines) {
    if (line == "row,col,x,code_hex,value") {
      in_elements = true;
      continue;
    }
    if (line.empty()) in_elements = false;
    if (!in_elements) continue;
    std::istringstream fields(line);
    std::string row, col, xs, code, value;
    std::getline(fields, row, ',');
    std::getline(fields, col, ',');
    std::getline(fields, xs, ',');
    std::getline(fields, code, ',');
    std::getline(fields, value, ',');
    ASSERT_LT(k, rotated.size());
    EXPECT_EQ(std::stof(xs), rotated[k]) << line;
    const double e = std::stod(xs) - std::stod(value);
    sum_e2 += e * e;
    ++k;
  }
  EXPECT_EQ(k, 32u);
  EXPECT_DOUBLE_EQ(std::stod(r.stat("mse")), sum_e2 / 32);
  EXPECT_TRUE(contains(r.out, "hadamard seed 5 (x is the rotated input)")) << r.out;
}

TEST(QuantizeCommand, OutputFileIsWrittenAtomically) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("fpsim_quantize_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path input = dir / "x.txt";
  std::ofstream(input) << "957 1 -3.5 0\n";

  QuantizeOptions o = scheme("mxfp8-e4m3");
  o.in = input.string();
  o.out = (dir / "q.csv").string();
  { std::ofstream(o.out) << "old contents\n"; }
  const Outcome r = run(o, "");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");  // nothing on stdout
  std::ifstream f(o.out);
  const std::string written((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  QuantizeOptions to_stdout = scheme("mxfp8-e4m3");
  EXPECT_EQ(written, run(to_stdout, "957 1 -3.5 0\n").out);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 2u) << "no temporary file left behind";

  // A failed run leaves the old output alone.
  QuantizeOptions bad = o;
  bad.shape = "3x3";
  EXPECT_EQ(run(bad, "").status, 2);
  std::ifstream f2(o.out);
  const std::string still((std::istreambuf_iterator<char>(f2)), std::istreambuf_iterator<char>());
  EXPECT_EQ(still, written);

  // Input that cannot be opened, output that cannot be created: exit 1.
  QuantizeOptions missing = o;
  missing.in = (dir / "nope.txt").string();
  const Outcome m = run(missing, "");
  EXPECT_EQ(m.status, 1);
  EXPECT_TRUE(contains(m.err, "cannot open " + missing.in)) << m.err;
  QuantizeOptions nowhere = o;
  nowhere.out = (dir / "no_such_dir" / "q.csv").string();
  const Outcome w = run(nowhere, "");
  EXPECT_EQ(w.status, 1);
  EXPECT_TRUE(contains(w.err, "cannot create")) << w.err;

  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fpsim::cli
