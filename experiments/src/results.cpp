#include "fpsim/experiments/results.hpp"

#include <charconv>
#include <cmath>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/io/output_file.hpp"

namespace fpsim::experiments {

namespace {

template <class T>
std::string shortest_text(T v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

double percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? std::nan("") : 100.0 * double(part) / double(whole);
}

}  // namespace

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_number(double v) { return shortest_text(v); }
std::string csv_number(float v) { return shortest_text(v); }

void append_metrics_line(std::string& out, const MetricsRow& r) {
  out += std::to_string(r.step) + ',' + csv_number(r.loss) + ',' + csv_number(r.lr) + ',' + csv_number(r.loss_scale) +
         ',' + (r.skipped ? '1' : '0') + ',' + csv_number(r.grad_norm) + ',' +
         (r.eval_metric ? csv_number(*r.eval_metric) : std::string()) + '\n';
}

std::string metrics_csv(std::span<const MetricsRow> rows) {
  std::string out(kMetricsHeader);
  out += '\n';
  for (const MetricsRow& r : rows) append_metrics_line(out, r);
  return out;
}

void write_metrics_csv(const std::string& path, std::span<const MetricsRow> rows) {
  io::write_output_file(path, metrics_csv(rows));
}

void append_quant_stats_line(std::string& out, const OperandStatsRow& r) {
  const QuantStats& s = r.stats;
  out += std::to_string(r.step) + ',' + csv_field(r.layer) + ',' + std::string(gemm_role_name(r.role)) + ',' +
         r.operand + ',' + csv_field(r.tensor) + ',' + csv_number(percent(s.underflows, s.elements)) + ',' +
         csv_number(percent(s.saturated, s.elements)) + ',' + csv_number(s.sqnr_db) + ',' + csv_number(r.scale_min) +
         ',' + csv_number(r.scale_max) + ',' + std::to_string(s.nan_inputs) + ',' + std::to_string(s.inf_inputs) +
         '\n';
}

std::string quant_stats_csv(std::span<const OperandStatsRow> rows) {
  std::string out(kQuantStatsHeader);
  out += '\n';
  for (const OperandStatsRow& r : rows) append_quant_stats_line(out, r);
  return out;
}

void write_quant_stats_csv(const std::string& path, std::span<const OperandStatsRow> rows) {
  io::write_output_file(path, quant_stats_csv(rows));
}

void set_timing(nlohmann::json& summary, double wall_time_s, uint64_t steps) {
  summary["wall_time_s"] = wall_time_s;
  summary["steps_per_s"] = wall_time_s > 0 ? nlohmann::json(double(steps) / wall_time_s) : nlohmann::json(nullptr);
}

std::string summary_json_text(const nlohmann::json& summary) {
  try {
    return summary.dump(2) + '\n';
  } catch (const nlohmann::json::type_error& e) {
    throw ConfigError(std::string("summary.json: a string is not valid UTF-8 (") + e.what() + ")");
  }
}

void write_summary_json(const std::string& path, const nlohmann::json& summary) {
  io::write_output_file(path, summary_json_text(summary));
}

}  // namespace fpsim::experiments
