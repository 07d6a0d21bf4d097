// safetensors files and the result files of a run (docs/training.md,
// "Result files"). Expected bytes and texts are written out by hand from
// the formats' definitions (huggingface/safetensors README "Format", RFC
// 4180, C++17 [charconv] shortest round-trip), never taken from the writer.
#include "fpsim/experiments/results.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../io/temporary_directory.hpp"
#include "fpsim/error.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/safetensors.hpp"

#include "message_of.hpp"

namespace fpsim::experiments {
namespace {

using io::test::file_content;
using io::test::names_in;
using io::test::put_file;
using io::test::TemporaryDirectory;

using test::message_of;

// ---------------------------------------------------------------- safetensors

// "a": F32 [2] = {1, -2}; "b": I32 [] = 7; metadata k = v.
SafetensorsFile tiny_file() {
  SafetensorsFile f;
  const std::vector<float> a = {1.0f, -2.0f};
  const std::vector<int32_t> b = {7};
  f.tensors["b"] = stored_tensor({}, b);
  f.tensors["a"] = stored_tensor({2}, a);
  f.metadata["k"] = "v";
  return f;
}

TEST(Safetensors, TinyFileMatchesHandBuiltBytes) {
  const std::string json = R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"I32","shape":[],"data_offsets":[8,12]}})";
  ASSERT_EQ(json.size(), 132u);  // padded with 4 spaces to 136 = 0x88
  const std::string expected = std::string("\x88\0\0\0\0\0\0\0", 8) + json + "    " +
                               // 1.0f = 0x3f800000, -2.0f = 0xc0000000, int32 7; little-endian
                               std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0\x07\x00\x00\x00", 12);
  EXPECT_EQ(safetensors_bytes(tiny_file()), expected);
}

TEST(Safetensors, EmptyFileHasAnEmptyObjectHeader) {
  EXPECT_EQ(safetensors_bytes(SafetensorsFile{}), std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
}

TEST(Safetensors, RoundTripKeepsEveryBit) {
  SafetensorsFile f;
  const std::vector<float> w = {-0.0f,
                                std::bit_cast<float>(0x7fc00001u),
                                std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::denorm_min(),
                                1.0f / 3,
                                -65504.0f};
  const std::vector<int32_t> idx = {0, -1, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()};
  const std::vector<double> d = {std::bit_cast<double>(0xfff8000000000123ull)};
  const std::vector<uint16_t> bf = {0x3f80, 0xffff, 0x0001};
  f.tensors["w"] = stored_tensor({2, 3}, w);
  f.tensors["idx"] = stored_tensor({4}, idx);
  f.tensors["d"] = stored_tensor({1, 1, 1}, d);
  f.tensors["bf"] = stored_tensor_16(StoredDtype::bf16, {3}, bf);
  f.tensors["empty"] = stored_tensor({0, 5}, std::vector<float>{});
  f.tensors["scalar"] = stored_tensor({}, std::vector<float>{2.5f});
  f.tensors["blocks.0.attn/\xc3\xbc"] = stored_tensor({1}, std::vector<float>{4.0f});
  f.metadata = {{"format", "pt"}, {"note", "quote \" and \\ and \xc3\xa9"}};
  TemporaryDirectory dir;
  write_safetensors(dir / "t.safetensors", f);
  const SafetensorsFile g = read_safetensors(dir / "t.safetensors");
  EXPECT_EQ(g.metadata, f.metadata);
  ASSERT_EQ(g.tensors.size(), f.tensors.size());
  for (const auto& [name, t] : f.tensors) {
    ASSERT_TRUE(g.tensors.contains(name)) << name;
    const StoredTensor& u = g.tensors.at(name);
    EXPECT_EQ(u.dtype, t.dtype) << name;
    EXPECT_EQ(u.shape, t.shape) << name;
    EXPECT_EQ(u.bytes, t.bytes) << name;
  }
  const std::vector<float> w2 = values_f32(g.tensors.at("w"));
  ASSERT_EQ(w2.size(), w.size());
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(std::bit_cast<uint32_t>(w2[i]), std::bit_cast<uint32_t>(w[i]));
  EXPECT_EQ(values_i32(g.tensors.at("idx")), idx);
  EXPECT_EQ(std::bit_cast<uint64_t>(values_f64(g.tensors.at("d"))[0]), 0xfff8000000000123ull);
  EXPECT_THROW(values_f32(g.tensors.at("idx")), DataError);
  // The header is padded so that the data starts 8-aligned.
  const std::string bytes = file_content(dir / "t.safetensors");
  EXPECT_EQ(uint8_t(bytes[0]) % 8, 0);
}

// The header length 0x8b1f begins the file with the gzip magic 1f 8b; the
// reader must take the stored bytes, not try to gunzip them.
TEST(Safetensors, HeaderLengthThatLooksLikeGzipIsReadRaw) {
  const std::string prefix = R"({"__metadata__":{"k":")";
  const std::string suffix = R"("}})";
  const std::string json = prefix + std::string(0x8b1f - prefix.size() - suffix.size(), 'x') + suffix;
  ASSERT_EQ(json.size(), 0x8b1fu);
  TemporaryDirectory dir;
  put_file(dir / "g.safetensors", std::string("\x1f\x8b\0\0\0\0\0\0", 8) + json);
  EXPECT_EQ(read_safetensors(dir / "g.safetensors").metadata.at("k").size(), 0x8b1f - prefix.size() - suffix.size());
}

// A file with header `json` (N = its size, no padding) and data `data`.
std::string file_with(const std::string& json, const std::string& data = "") {
  std::string out(8, '\0');
  for (size_t i = 0; i < 8; ++i) out[i] = char(uint64_t(json.size()) >> (8 * i));
  return out + json + data;
}

std::string parse_error(const std::string& bytes) {
  return message_of<DataError>([&] { parse_safetensors(bytes, "f.st"); });
}

#define EXPECT_INVALID(bytes, what)                                                              \
  do {                                                                                           \
    const std::string msg_ = parse_error(bytes);                                                 \
    EXPECT_NE(msg_.find("f.st: invalid safetensors file: "), std::string::npos) << msg_;         \
    EXPECT_NE(msg_.find(what), std::string::npos) << "expected '" << (what) << "' in: " << msg_; \
  } while (0)

TEST(Safetensors, MalformedLengthAndHeaderAreDataErrors) {
  EXPECT_INVALID(std::string(7, '\0'), "7 bytes, too short");
  EXPECT_INVALID(std::string("\x10\0\0\0\0\0\0\0{}", 10), "header length 16 exceeds the 2 bytes");
  EXPECT_INVALID(std::string("\x01\xe1\xf5\x05\0\0\0\0", 8), "header length 100000001 exceeds the limit");
  EXPECT_INVALID(file_with(" {}"), "does not begin with '{'");
  EXPECT_INVALID(file_with(""), "does not begin with '{'");
  EXPECT_INVALID(file_with("{\"a\":"), "not valid JSON");
  EXPECT_INVALID(file_with("{} x"), "not valid JSON");
  EXPECT_INVALID(file_with("{\"\xff\":1}"), "not valid JSON");  // not UTF-8
  // A number beyond double's range: the JSON parser throws out_of_range,
  // not parse_error (a fuzz finding).
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,1e4444]}})"), "not valid JSON");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                           R"("a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})"),
                 "names 'a' twice");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","dtype":"U8","shape":[0],"data_offsets":[0,0]}})"),
                 "names 'dtype' twice");
}

TEST(Safetensors, MalformedEntriesAreDataErrors) {
  EXPECT_INVALID(file_with(R"({"a":3})"), "tensor 'a' is not an object");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"x":1}})"), "unknown key 'x'");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":[0]}})"), "lacks one of dtype, shape, data_offsets");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"F128","shape":[0],"data_offsets":[0,0]}})"), "unknown dtype");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"f32","shape":[0],"data_offsets":[0,0]}})"), "unknown dtype");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":4,"shape":[0],"data_offsets":[0,0]}})"), "unknown dtype");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":3,"data_offsets":[0,3]}})"), "shape is not an array");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})"),
                 "shape entry '-1' is not a non-negative integer");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}})", "x"),
                 "is not a non-negative integer");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", "x"),
                 "data_offsets is not an array of two integers");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,-1]}})", "x"),
                 "are not non-negative integers");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}})", "x"), "end before they begin");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", std::string(12, 'x')),
                 "data_offsets [0, 12] span 12 bytes, shape [2, 2] of F32 needs 16");
  EXPECT_INVALID(file_with(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
                 "needs more than 2^64");
  EXPECT_INVALID(file_with(R"({"__metadata__":[1]})"), "__metadata__ is not an object");
  EXPECT_INVALID(file_with(R"({"__metadata__":{"k":1}})"), "__metadata__ 'k' is not a string");
}

TEST(Safetensors, OffsetsMustTileTheDataBuffer) {
  const auto entry = [](const std::string& name, int b, int e) {
    return "\"" + name + R"(":{"dtype":"U8","shape":[)" + std::to_string(e - b) + R"(],"data_offsets":[)" +
           std::to_string(b) + "," + std::to_string(e) + "]}";
  };
  // Out of name order on disk is fine as long as they tile: b [0,2), a [2,3).
  EXPECT_EQ(parse_safetensors(file_with("{" + entry("a", 2, 3) + "," + entry("b", 0, 2) + "}", "xyz"), "f.st")
                .tensors.at("a")
                .bytes,
            "z");
  EXPECT_INVALID(file_with("{" + entry("a", 1, 3) + "}", "xyz"),
                 "tensor 'a' begins at byte 1 of the data, expected 0 (gap)");
  EXPECT_INVALID(file_with("{" + entry("a", 0, 2) + "," + entry("b", 1, 3) + "}", "xyz"),
                 "tensor 'b' begins at byte 1 of the data, expected 2 (overlap)");
  EXPECT_INVALID(file_with("{" + entry("a", 0, 4) + "}", "xyz"),
                 "tensor 'a' ends at byte 4, past the 3-byte data buffer");
  EXPECT_INVALID(file_with("{" + entry("a", 0, 2) + "}", "xyz"), "the tensors cover 2 bytes of the 3-byte data buffer");
  EXPECT_INVALID(file_with("{}", "x"), "the tensors cover 0 bytes of the 1-byte data buffer");
}

TEST(Safetensors, WriterRefusesInconsistentTensors) {
  SafetensorsFile f;
  f.tensors["a"] = StoredTensor{StoredDtype::f32, {3}, std::string(8, '\0')};
  EXPECT_NE(message_of<ConfigError>([&] { safetensors_bytes(f); }).find("'a' has 8 bytes, shape [3] of F32 needs 12"),
            std::string::npos);
  f.tensors.clear();
  f.tensors["__metadata__"] = stored_tensor({1}, std::vector<float>{1});
  EXPECT_THROW(safetensors_bytes(f), ConfigError);
  EXPECT_THROW(stored_tensor({2, 2}, std::vector<float>(3)), ConfigError);
  EXPECT_THROW(stored_tensor_16(StoredDtype::f32, {1}, std::vector<uint16_t>(1)), ConfigError);
}

TEST(Safetensors, WriteToMissingDirectoryIsAnIoErrorNamingThePath) {
  TemporaryDirectory dir;
  const std::string path = dir / "missing/t.safetensors";
  EXPECT_NE(message_of<IoError>([&] { write_safetensors(path, tiny_file()); }).find(path), std::string::npos);
  EXPECT_NE(message_of<IoError>([&] { read_safetensors(path); }).find(path), std::string::npos);
}

// ---------------------------------------------------------------- numbers

// Shortest round-trip decimals, derived by hand: 0.1 is the double nearest
// 1/10; 0.1f widened to double is 0.100000001490116119384765625, which needs
// 17 digits to single out among doubles; 1e-05 and 1e+20 are shorter in
// "%e" form, 65536 in "%f" form.
TEST(ResultNumbers, ShortestRoundTripText) {
  EXPECT_EQ(csv_number(0.1), "0.1");
  EXPECT_EQ(csv_number(0.1f), "0.1");
  EXPECT_EQ(csv_number(double(0.1f)), "0.10000000149011612");
  EXPECT_EQ(csv_number(1e-5), "1e-05");
  EXPECT_EQ(csv_number(1e20), "1e+20");
  EXPECT_EQ(csv_number(65536.0), "65536");
  EXPECT_EQ(csv_number(-0.0), "-0");
  EXPECT_EQ(csv_number(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(csv_number(-std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(csv_number(std::numeric_limits<float>::infinity()), "inf");
  EXPECT_EQ(csv_number(-std::numeric_limits<double>::infinity()), "-inf");
}

// Every finite value reads back to itself (C++17 from_chars is correctly rounded).
TEST(ResultNumbers, FiniteValuesRoundTripExactly) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) {
    const double d = std::bit_cast<double>(rng());
    const float f = std::bit_cast<float>(uint32_t(rng()));
    if (std::isfinite(d)) {
      const std::string s = csv_number(d);
      double back = 0;
      std::from_chars(s.data(), s.data() + s.size(), back);
      ASSERT_EQ(std::bit_cast<uint64_t>(back), std::bit_cast<uint64_t>(d)) << s;
    }
    if (std::isfinite(f)) {
      const std::string s = csv_number(f);
      float back = 0;
      std::from_chars(s.data(), s.data() + s.size(), back);
      ASSERT_EQ(std::bit_cast<uint32_t>(back), std::bit_cast<uint32_t>(f)) << s;
    }
  }
}

// ---------------------------------------------------------------- metrics.csv

std::vector<MetricsRow> some_metrics() {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  return {
      {1, 2.5, 0.001, 65536, false, 0.5, std::nullopt},
      {2, nan, 1e-3, 32768, true, inf, 0.875},
      {3, 0.1, 0.0, 1, false, -inf, nan},
  };
}

TEST(MetricsCsv, MatchesHandWrittenText) {
  EXPECT_EQ(metrics_csv(some_metrics()),
            "step,loss,lr,loss_scale,skipped,grad_norm,eval_metric\n"
            "1,2.5,0.001,65536,0,0.5,\n"
            "2,nan,0.001,32768,1,inf,0.875\n"
            "3,0.1,0,1,0,-inf,nan\n");
  EXPECT_EQ(metrics_csv({}), "step,loss,lr,loss_scale,skipped,grad_norm,eval_metric\n");
}

TEST(MetricsCsv, RewriteReplacesTheFileAndLeavesNoTemporary) {
  TemporaryDirectory dir;
  std::vector<MetricsRow> rows = some_metrics();
  write_metrics_csv(dir / "metrics.csv", std::span(rows).first(1));
  EXPECT_EQ(file_content(dir / "metrics.csv"),
            "step,loss,lr,loss_scale,skipped,grad_norm,eval_metric\n1,2.5,0.001,65536,0,0.5,\n");
  write_metrics_csv(dir / "metrics.csv", rows);
  EXPECT_EQ(file_content(dir / "metrics.csv"), metrics_csv(rows));
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"metrics.csv"});
}

TEST(ResultFiles, UnwritableDirectoryIsAnIoErrorNamingThePath) {
  TemporaryDirectory dir;
  put_file(dir / "file", "x");
  for (const std::string& path : {dir / "missing/metrics.csv", dir / "file/metrics.csv"}) {
    EXPECT_NE(message_of<IoError>([&] { write_metrics_csv(path, some_metrics()); }).find(path), std::string::npos);
    EXPECT_NE(message_of<IoError>([&] { write_quant_stats_csv(path, {}); }).find(path), std::string::npos);
    EXPECT_NE(message_of<IoError>([&] { write_summary_json(path, nlohmann::json::object()); }).find(path),
              std::string::npos);
  }
  // A read-only directory; root writes anyway, so this part needs another user.
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permission bits do not stop root; read-only case not run";
  std::filesystem::create_directory(dir / "ro");
  std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  const std::string path = dir / "ro/metrics.csv";
  EXPECT_NE(message_of<IoError>([&] { write_metrics_csv(path, some_metrics()); }).find(path), std::string::npos);
}

// ---------------------------------------------------------------- quant_stats.csv

TEST(QuantStatsCsv, MatchesHandWrittenText) {
  OperandStatsRow r;
  r.step = 7;
  r.layer = "fc1";
  r.role = GemmRole::dgrad;
  r.operand = 'b';
  r.tensor = "dy";
  r.stats.elements = 8;
  r.stats.underflows = 1;  // 12.5 %
  r.stats.saturated = 2;   // 25 %
  r.stats.sqnr_db = 20.5;
  r.stats.nan_inputs = 3;
  r.stats.inf_inputs = 0;
  r.scale_min = 0.5f;
  r.scale_max = 4.0f;
  OperandStatsRow empty = r;
  empty.layer = "h.0,\"attn\"";
  empty.role = GemmRole::wgrad;
  empty.operand = 'a';
  empty.tensor = "x";
  empty.stats = QuantStats{};
  empty.stats.sqnr_db = std::numeric_limits<double>::infinity();
  empty.scale_min = 0.1f;
  empty.scale_max = std::numeric_limits<float>::quiet_NaN();
  const std::vector<OperandStatsRow> rows = {r, empty};
  EXPECT_EQ(quant_stats_csv(rows),
            "step,layer,gemm,operand,tensor,underflow_pct,saturation_pct,sqnr_db,scale_min,scale_max,nan_count,"
            "inf_count\n"
            "7,fc1,dgrad,b,dy,12.5,25,20.5,0.5,4,3,0\n"
            "7,\"h.0,\"\"attn\"\"\",wgrad,a,x,nan,nan,inf,0.1,nan,0,0\n");
  TemporaryDirectory dir;
  write_quant_stats_csv(dir / "quant_stats.csv", rows);
  EXPECT_EQ(file_content(dir / "quant_stats.csv"), quant_stats_csv(rows));
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"quant_stats.csv"});
}

// ---------------------------------------------------------------- summary.json

TEST(SummaryJson, KeysSortedIndentedNonFiniteAsNull) {
  nlohmann::json s;
  s["status"] = "done";
  s["config"] = {{"steps", 10}, {"batch", 32}};
  s["final_loss"] = std::numeric_limits<double>::quiet_NaN();
  set_timing(s, 2.0, 10);
  EXPECT_EQ(summary_json_text(s),
            "{\n"
            "  \"config\": {\n"
            "    \"batch\": 32,\n"
            "    \"steps\": 10\n"
            "  },\n"
            "  \"final_loss\": null,\n"
            "  \"status\": \"done\",\n"
            "  \"steps_per_s\": 5.0,\n"
            "  \"wall_time_s\": 2.0\n"
            "}\n");
  set_timing(s, 0.0, 10);
  EXPECT_TRUE(s["steps_per_s"].is_null());
  TemporaryDirectory dir;
  write_summary_json(dir / "summary.json", s);
  EXPECT_EQ(nlohmann::json::parse(file_content(dir / "summary.json"))["wall_time_s"], 0.0);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"summary.json"});
  nlohmann::json bad;
  bad["name"] = std::string("\xff");
  EXPECT_THROW(summary_json_text(bad), ConfigError);
}

}  // namespace
}  // namespace fpsim::experiments
