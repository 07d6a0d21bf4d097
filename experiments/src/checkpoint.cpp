// Checkpoint files (checkpoint.hpp; docs/training.md, "Checkpoints").
#include "fpsim/experiments/checkpoint.hpp"

#include <charconv>
#include <cmath>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/results.hpp"
#include "fpsim/experiments/sha256.hpp"
#include "fpsim/io/output_file.hpp"
#include "fpsim/quoted_text.hpp"
#include "raw_file.hpp"

namespace fpsim::experiments {

namespace {

constexpr std::string_view kFormat = "fpsim-checkpoint";
constexpr size_t kPathChars = 4096;  // PATH_MAX: a path in a message is never cut
constexpr std::string_view kMetricsText = "text/metrics.csv";
constexpr std::string_view kQuantStatsText = "text/quant_stats.csv";

std::string history_key(size_t i) { return "delayed/" + std::to_string(i) + "/amax_history"; }

StoredTensor text_tensor(const std::string& text) {
  StoredTensor t;
  t.dtype = StoredDtype::u8;
  t.shape = {text.size()};
  t.bytes = text;
  return t;
}

// The data buffer's bytes in the order safetensors_bytes writes them.
std::string data_sha256(const SafetensorsFile& f) {
  std::string all;
  for (const auto& [name, t] : f.tensors) all += t.bytes;
  return sha256_hex(all);
}

// Reads one checkpoint field; every failure names the file and the field.
class Fields {
 public:
  Fields(const SafetensorsFile& f, const std::string& name) : f_(f), name_(name) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw DataError(quoted_text(name_, kPathChars) + ": not a checkpoint this fpsim can resume from (" + what +
                    "); remove it to run from step 1");
  }
  const std::string& text(const std::string& key) const {
    const auto it = f_.metadata.find(key);
    if (it == f_.metadata.end()) fail("no \"" + key + "\"");
    return it->second;
  }
  template <class T>
  T number(const std::string& key) const {
    const std::string& s = text(key);
    T v{};
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size())
      fail("\"" + key + "\" is " + quoted_text(s, 40) + ", not a number");
    return v;
  }
  const StoredTensor& tensor(const std::string& key, StoredDtype dtype) const {
    const auto it = f_.tensors.find(key);
    if (it == f_.tensors.end()) fail("no tensor " + key);
    if (it->second.dtype != dtype) fail("tensor " + key + " is not " + std::string(stored_dtype_name(dtype)));
    return it->second;
  }

 private:
  const SafetensorsFile& f_;
  const std::string& name_;
};

}  // namespace

std::string checkpoint_bytes(const RunCheckpoint& c) {
  SafetensorsFile f = c.state;
  f.metadata["format"] = kFormat;
  f.metadata["format_version"] = std::to_string(kCheckpointFormatVersion);
  f.metadata["identity"] = c.identity.dump();
  f.metadata["steps_done"] = std::to_string(c.steps_done);
  f.metadata["loop_seconds"] = csv_number(c.loop_seconds);
  f.metadata["final_loss"] = csv_number(c.final_loss);
  f.metadata["last_eval"] = csv_number(c.last_eval);
  f.metadata["loss_scale"] = csv_number(c.loss_scale);
  f.metadata["growth_tracker"] = std::to_string(c.growth_tracker);
  nlohmann::json delayed = nlohmann::json::array();
  for (size_t i = 0; i < c.delayed.size(); ++i) {
    const DelayedStateRecord& r = c.delayed[i];
    delayed.push_back({{"layer", r.layer}, {"tensor", r.tensor}, {"multiplier", csv_number(r.multiplier)}});
    f.tensors[history_key(i)] = stored_tensor({r.history.size()}, r.history);
  }
  f.metadata["delayed"] = delayed.dump();
  f.tensors[std::string(kMetricsText)] = text_tensor(c.metrics_csv);
  f.tensors[std::string(kQuantStatsText)] = text_tensor(c.quant_stats_csv);
  f.metadata["data_sha256"] = data_sha256(f);
  return safetensors_bytes(f);
}

void write_checkpoint(const std::filesystem::path& path, const RunCheckpoint& c) {
  io::write_output_file(path.string(), checkpoint_bytes(c));
}

RunCheckpoint parse_checkpoint(std::string_view bytes, const std::string& name) {
  SafetensorsFile f;
  try {
    f = parse_safetensors(bytes, name);
  } catch (const DataError& e) {
    throw DataError(std::string(e.what()) + "; remove it to run from step 1");
  }
  const Fields fields(f, name);
  if (fields.text("format") != kFormat) fields.fail("format is not \"" + std::string(kFormat) + "\"");
  if (fields.text("format_version") != std::to_string(kCheckpointFormatVersion))
    fields.fail("format version " + quoted_text(fields.text("format_version"), 20) + "; this fpsim writes version " +
                std::to_string(kCheckpointFormatVersion));
  // Before anything is read from the tensors: a damaged file is refused whole.
  const std::string stored_sum = fields.text("data_sha256");
  if (data_sha256(f) != stored_sum) fields.fail("its data does not match its checksum: the file is damaged");

  RunCheckpoint c;
  try {
    c.identity = nlohmann::json::parse(fields.text("identity"));
  } catch (const nlohmann::json::exception&) {
    fields.fail("\"identity\" is not JSON");
  }
  c.steps_done = fields.number<uint64_t>("steps_done");
  c.loop_seconds = fields.number<double>("loop_seconds");
  c.final_loss = fields.number<double>("final_loss");
  c.last_eval = fields.number<double>("last_eval");
  c.loss_scale = fields.number<float>("loss_scale");
  c.growth_tracker = fields.number<int32_t>("growth_tracker");
  c.metrics_csv = fields.tensor(std::string(kMetricsText), StoredDtype::u8).bytes;
  c.quant_stats_csv = fields.tensor(std::string(kQuantStatsText), StoredDtype::u8).bytes;
  nlohmann::json delayed;
  try {
    delayed = nlohmann::json::parse(fields.text("delayed"));
    if (!delayed.is_array()) fields.fail("\"delayed\" is not a JSON array");
    for (size_t i = 0; i < delayed.size(); ++i) {
      DelayedStateRecord r;
      r.layer = delayed[i].at("layer").get<std::string>();
      r.tensor = delayed[i].at("tensor").get<std::string>();
      const std::string m = delayed[i].at("multiplier").get<std::string>();
      const auto res = std::from_chars(m.data(), m.data() + m.size(), r.multiplier);
      if (m.empty() || res.ec != std::errc() || res.ptr != m.data() + m.size())
        fields.fail("a delayed-scaling multiplier is " + quoted_text(m, 40));
      r.history = values_f32(fields.tensor(history_key(i), StoredDtype::f32));
      c.delayed.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    fields.fail("\"delayed\" is malformed: " + escaped_text(e.what()));
  }
  for (auto& [key, t] : f.tensors)
    if (key.rfind("param/", 0) == 0 || key.rfind("optimizer/", 0) == 0) c.state.tensors.emplace(key, std::move(t));
  for (const auto& [key, value] : f.metadata)
    if (key.rfind("optimizer/", 0) == 0) c.state.metadata.emplace(key, value);
  return c;
}

RunCheckpoint read_checkpoint(const std::filesystem::path& path) {
  return parse_checkpoint(raw_file::read_bytes(path.string()), path.string());
}

}  // namespace fpsim::experiments
