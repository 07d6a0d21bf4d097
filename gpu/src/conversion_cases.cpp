// The host side of `fpsim gpu convert` (docs/gpu.md, "Conversions on the
// device"): names, input counts, summary lines and the JSON report. Plain
// C++, built and tested everywhere.
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fpsim/error.hpp"
#include "fpsim/gpu/conversion_checks.hpp"
#include "fpsim/io/output_file.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::gpu {

namespace {

std::string hex(uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*" PRIX32, digits, v);
  return buf;
}

// A JSON string literal (nlohmann's escaping; bytes that are not UTF-8,
// which only a device description could bring, become U+FFFD).
std::string json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string examples_json(const ConversionSpec& c, const std::vector<ConversionExample>& v) {
  const int in_digits = c.input_bits / 4;
  const int out_digits = c.lanes * c.out_lane_bits / 4;
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    s += i ? ", " : "";
    s += "{\"input\": \"" + hex(v[i].input, in_digits) + "\", \"hardware\": \"" + hex(v[i].hardware, out_digits) +
         "\", \"sim\": \"" + hex(v[i].sim, out_digits) + "\"}";
  }
  return s + "]";
}

}  // namespace

bool ConversionRun::passed() const {
  if (!error.empty()) return false;
  for (const ConversionResult& r : results)
    if (!r.passed()) return false;
  return true;
}

bool conversion_by_name(const std::string& name, ConversionId* id) {
  for (int i = 0; i < kConversionCount; ++i) {
    if (name == conversion_spec(ConversionId(i)).name) {
      *id = ConversionId(i);
      return true;
    }
  }
  return false;
}

std::vector<ConversionId> all_conversions() {
  std::vector<ConversionId> v;
  for (int i = 0; i < kConversionCount; ++i) v.push_back(ConversionId(i));
  return v;
}

std::vector<ConversionId> parse_conversion_list(const std::string& csv) {
  std::vector<ConversionId> out;
  std::stringstream in(csv);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name.empty()) continue;
    ConversionId id{};
    if (!conversion_by_name(name, &id)) {
      std::string known;
      for (int i = 0; i < kConversionCount; ++i)
        known.append(i ? ", " : "").append(conversion_spec(ConversionId(i)).name);
      throw OptionError("unknown conversion " + quoted_text(name) + " (known: " + known + ")");
    }
    bool seen = false;
    for (const ConversionId o : out) seen = seen || o == id;
    if (!seen) out.push_back(id);
  }
  if (out.empty()) throw OptionError("--only names no conversion");
  return out;
}

uint64_t conversion_input_count(ConversionId id, uint64_t limit) {
  const uint64_t all = uint64_t{1} << conversion_spec(id).input_bits;
  return (limit == 0 || limit >= all) ? all : limit;
}

uint64_t conversion_input_stride(ConversionId id, uint64_t limit) {
  const uint64_t all = uint64_t{1} << conversion_spec(id).input_bits;
  return all / conversion_input_count(id, limit);
}

std::string conversion_summary_line(const ConversionResult& r) {
  const ConversionSpec& c = conversion_spec(r.id);
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "%-32s %10" PRIu64 "/%-10" PRIu64 " inputs  %" PRIu64 " mismatches  %" PRIu64
                " nan_pattern_differs  %" PRIu64 " ignored_bits_differ  %s%s",
                c.name, r.inputs_checked, r.inputs_total, r.mismatches, r.nan_pattern_differs, r.ignored_bits_differ,
                r.passed() ? "PASS" : "FAIL", r.complete() ? "" : " (incomplete: time budget)");
  return buf;
}

std::string conversion_report_json(const ConversionRun& run) {
  std::string s = "{\n  \"schema\": \"fpsim-gpu-convert-1\",\n";
  s += "  \"device\": " + json_string(run.device) + ",\n";
  s += "  \"error\": " + (run.error.empty() ? std::string("null") : json_string(run.error)) + ",\n";
  s += "  \"passed\": " + std::string(run.passed() ? "true" : "false") + ",\n";
  s += "  \"stopped_by_time_budget\": " + std::string(run.stopped_by_time_budget ? "true" : "false") + ",\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", run.seconds);
  s += "  \"seconds\": " + std::string(buf) + ",\n";
  s += "  \"limit\": " + std::to_string(run.limit) + ",\n";
  s += "  \"conversions\": [";
  for (size_t i = 0; i < run.results.size(); ++i) {
    const ConversionResult& r = run.results[i];
    const ConversionSpec& c = conversion_spec(r.id);
    s += i ? ",\n" : "\n";
    s += "    {\"name\": " + json_string(c.name) + ", \"ptx\": " + json_string(c.ptx) + ",\n";
    s += "     \"input_shape\": " +
         json_string(c.shape == InputShape::duplicated ? "x in both halves (a = b = x)"
                     : c.shape == InputShape::packed   ? "the input word is the packed pair"
                                                       : "scalar") +
         ",\n";
    s += "     \"canonical_nan\": \"" + hex(c.canonical_nan, c.out_lane_bits / 4) + "\", \"compare_mask\": \"" +
         hex(c.compare_mask, c.out_lane_bits / 4) + "\",\n";
    s += "     \"inputs_total\": " + std::to_string(r.inputs_total) +
         ", \"inputs_checked\": " + std::to_string(r.inputs_checked) +
         ", \"complete\": " + (r.complete() ? "true" : "false") + ",\n";
    s += "     \"matches\": " + std::to_string(r.matches) + ", \"mismatches\": " + std::to_string(r.mismatches) +
         ", \"nan_pattern_differs\": " + std::to_string(r.nan_pattern_differs) +
         ", \"hardware_nan_noncanonical\": " + std::to_string(r.hardware_nan_noncanonical) +
         ", \"ignored_bits_differ\": " + std::to_string(r.ignored_bits_differ) +
         ", \"passed\": " + (r.passed() ? "true" : "false") + ",\n";
    s += "     \"first_mismatches\": " + examples_json(c, r.first_mismatches) + ",\n";
    s += "     \"first_nan_differences\": " + examples_json(c, r.first_nan_differences) + "}";
  }
  s += "\n  ]\n}\n";
  return s;
}

void write_conversion_report(const ConversionRun& run, const std::string& path) {
  io::write_output_file(path, conversion_report_json(run));
}

}  // namespace fpsim::gpu
