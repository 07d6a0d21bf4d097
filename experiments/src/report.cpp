#include "fpsim/experiments/report.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <utility>

#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/recipe.hpp"
#include "fpsim/experiments/results.hpp"
#include "fpsim/experiments/safetensors.hpp"
#include "fpsim/experiments/sweep.hpp"
#include "fpsim/io/input_file.hpp"
#include "fpsim/io/output_file.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim::experiments {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::array<std::string_view, kReportMetricCount> kMetricNames = {
    "final_loss",       "final_eval",
    "final_gap_abs",    "final_gap_rel",
    "max_abs_gap_rel",  "mean_abs_gap_rel_last10",
    "eval_gap",         "steps_to_target_ratio",
    "param_drift",      "gap_over_noise",
    "drift_over_noise", "skipped_steps",
    "underflow_pct",    "saturation_pct"};

size_t at(ReportMetric m) { return size_t(m); }

// ---------------------------------------------------------------- run files

std::string line_prefix(const std::string& file, size_t line) {
  return escaped_text(file) + ":" + std::to_string(line) + ": ";
}

// A number as the result files write it (docs/training.md, "Result files":
// shortest round-trip decimal, nan, inf, -inf); the whole field must be one.
std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_commas(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t begin = 0;
  for (;;) {
    const size_t comma = line.find(',', begin);
    fields.push_back(line.substr(begin, comma - begin));
    if (comma == std::string_view::npos) return fields;
    begin = comma + 1;
  }
}

struct MetricsFile {
  std::vector<double> loss;  // loss[t - 1] = L(t)
  double skipped = 0;
  std::optional<double> last_eval;  // the last non-empty eval_metric
};

MetricsFile read_metrics_file(const std::string& path) {
  const std::string text = io::read_input_file(path);
  MetricsFile m;
  size_t begin = 0;
  for (size_t line = 1; begin < text.size() || line == 1; ++line) {
    const size_t end = text.find('\n', begin);
    if (end == std::string::npos) {
      throw DataError(line_prefix(path, line) +
                      (text.empty() ? std::string("empty file, expected the header ") + std::string(kMetricsHeader)
                                    : "the last line does not end in a newline (truncated)"));
    }
    const std::string_view row(text.data() + begin, end - begin);
    begin = end + 1;
    if (line == 1) {
      if (row != kMetricsHeader)
        throw DataError(line_prefix(path, line) + "header " + quoted_text(row) + ", expected " +
                        std::string(kMetricsHeader));
      continue;
    }
    const std::vector<std::string_view> f = split_commas(row);
    if (f.size() != 7)
      throw DataError(line_prefix(path, line) + std::to_string(f.size()) + " fields, expected 7 (" +
                      std::string(kMetricsHeader) + ")");
    const std::string want_step = std::to_string(line - 1);
    if (f[0] != want_step)
      throw DataError(line_prefix(path, line) + "step " + quoted_text(f[0]) + ", expected " + want_step);
    const std::array<std::pair<const char*, std::string_view>, 4> numbers = {
        {{"loss", f[1]}, {"lr", f[2]}, {"loss_scale", f[3]}, {"grad_norm", f[5]}}};
    for (const auto& [name, field] : numbers)
      if (!parse_number(field))
        throw DataError(line_prefix(path, line) + name + " " + quoted_text(field) + " is not a number");
    if (f[4] != "0" && f[4] != "1")
      throw DataError(line_prefix(path, line) + "skipped " + quoted_text(f[4]) + ", expected 0 or 1");
    std::optional<double> eval;
    if (!f[6].empty()) {
      eval = parse_number(f[6]);
      if (!eval)
        throw DataError(line_prefix(path, line) + "eval_metric " + quoted_text(f[6]) + " is not a number or empty");
      m.last_eval = eval;
    }
    m.loss.push_back(*parse_number(f[1]));
    if (f[4] == "1") m.skipped += 1;
  }
  return m;
}

// quant_stats.csv's records (RFC 4180: a quoted layer or tensor name may
// hold commas, doubled quotes and line breaks), each with the line it starts
// on.
std::vector<std::pair<size_t, std::vector<std::string>>> read_csv_records(const std::string& text,
                                                                          const std::string& path) {
  std::vector<std::pair<size_t, std::vector<std::string>>> records;
  size_t pos = 0, line = 1;
  const auto truncated = [&] {
    throw DataError(line_prefix(path, line) + "the last line does not end in a newline (truncated)");
  };
  while (pos < text.size()) {
    std::pair<size_t, std::vector<std::string>> record{line, {}};
    for (bool more = true; more;) {
      std::string field;
      if (pos < text.size() && text[pos] == '"') {
        for (++pos;; ++pos) {
          if (pos >= text.size()) truncated();
          if (text[pos] == '"') {
            if (pos + 1 < text.size() && text[pos + 1] == '"') {
              field += '"';
              ++pos;
              continue;
            }
            ++pos;
            break;
          }
          if (text[pos] == '\n') ++line;
          field += text[pos];
        }
      } else {
        while (pos < text.size() && text[pos] != ',' && text[pos] != '\n') {
          if (text[pos] == '"') throw DataError(line_prefix(path, line) + "a double quote inside an unquoted field");
          field += text[pos++];
        }
      }
      if (pos >= text.size()) truncated();
      if (text[pos] != ',' && text[pos] != '\n')
        throw DataError(line_prefix(path, line) + "text after a quoted field, expected a comma or the line's end");
      more = text[pos] == ',';
      if (!more) ++line;
      ++pos;
      record.second.push_back(std::move(field));
    }
    records.push_back(std::move(record));
  }
  return records;
}

struct QuantMeans {
  std::optional<double> underflow, saturation;
};

QuantMeans read_quant_stats(const std::string& path) {
  const auto records = read_csv_records(io::read_input_file(path), path);
  if (records.empty())
    throw DataError(line_prefix(path, 1) + "empty file, expected the header " + std::string(kQuantStatsHeader));
  const std::vector<std::string_view> header = split_commas(kQuantStatsHeader);
  if (!std::equal(records[0].second.begin(), records[0].second.end(), header.begin(), header.end()))
    throw DataError(line_prefix(path, 1) + "header is not " + std::string(kQuantStatsHeader));
  // Sums in file order; a nan (an operand with no elements) is left out.
  double sum[2] = {0, 0};
  size_t count[2] = {0, 0};
  for (size_t i = 1; i < records.size(); ++i) {
    const auto& [line, f] = records[i];
    if (f.size() != header.size())
      throw DataError(line_prefix(path, line) + std::to_string(f.size()) + " fields, expected " +
                      std::to_string(header.size()) + " (" + std::string(kQuantStatsHeader) + ")");
    for (size_t k = 0; k < 2; ++k) {
      const std::optional<double> v = parse_number(f[5 + k]);
      if (!v)
        throw DataError(line_prefix(path, line) + std::string(header[5 + k]) + " " + quoted_text(f[5 + k]) +
                        " is not a number");
      if (!std::isfinite(*v)) continue;
      sum[k] += *v;
      ++count[k];
    }
  }
  QuantMeans q;
  if (count[0] > 0) q.underflow = sum[0] / double(count[0]);
  if (count[1] > 0) q.saturation = sum[1] / double(count[1]);
  return q;
}

json read_summary(const fs::path& path) {
  try {
    json j = json::parse(io::read_input_file(path.string()));
    if (!j.is_object()) throw DataError(escaped_text(path.string()) + ": not a JSON object");
    return j;
  } catch (const json::exception& e) {
    throw DataError(escaped_text(path.string()) + ": not JSON (" + escaped_text(e.what()) + ")");
  }
}

std::string summary_status(const json& summary) {
  const auto it = summary.find("status");
  return it != summary.end() && it->is_string() ? it->get<std::string>() : std::string("(none)");
}

bool finished(const std::string& status) { return status == "done" || status == "stopped"; }

// A finished run as the report needs it.
struct RunData {
  std::string status;
  std::string dir;  // for messages
  MetricsFile metrics;
  QuantMeans quant;
  std::optional<SafetensorsFile> params;  // params_final of a done run
};

// Reads the run in `dir`; throws fpsim::Error for what makes it unusable and
// appends to `problems` what only makes a value doubtful.
RunData read_run(const fs::path& dir, const SweepRun& listed, uint64_t steps, std::vector<std::string>& problems) {
  RunData run;
  run.dir = dir.string();
  const fs::path summary_path = dir / "summary.json";
  const json summary = read_summary(summary_path);
  const std::string where = escaped_text(summary_path.string());
  run.status = summary_status(summary);
  const auto value_is = [&](const char* key, const json& want) {
    const auto it = summary.find(key);
    return it != summary.end() && *it == want;
  };
  if (!value_is("model", listed.model) || !value_is("recipe", recipe_name(listed.recipe)) || !value_is("seed", listed.seed) ||
      !value_is("data_seed", listed.data_seed))
    throw DataError(where + ": model, recipe, seed or data_seed differ from sweep.json's run " +
                    quoted_text(listed.id) + " (" + listed.model + ", " + listed.recipe + ", " +
                    std::to_string(listed.seed) + ", " + std::to_string(listed.data_seed) + ")");

  const std::string metrics_path = (dir / "metrics.csv").string();
  run.metrics = read_metrics_file(metrics_path);
  const size_t rows = run.metrics.loss.size();
  if (run.status == "done" ? rows != steps : rows == 0 || rows > steps)
    throw DataError(escaped_text(metrics_path) + ": " + std::to_string(rows) + " steps in a run whose status is " +
                    run.status + ", expected " + (run.status == "done" ? "" : "1 to ") + std::to_string(steps) +
                    " (sweep.json's steps)");

  // summary.json repeats the last evaluation; a disagreement means the files
  // are not of one run (docs/training.md, "summary.json").
  const auto eval = summary.find("final_eval_metric");
  const bool eval_null = eval == summary.end() || eval->is_null();
  const std::optional<double> last = run.metrics.last_eval;
  const bool agree = eval_null ? !last || std::isnan(*last) : eval->is_number() && last && eval->get<double>() == *last;
  if (!agree)
    problems.push_back(where + ": final_eval_metric " +
                       (eval == summary.end() ? std::string("missing") : eval->dump()) +
                       " differs from metrics.csv's last eval_metric " + (last ? csv_number(*last) : "(none)"));
  if (run.status == "done") {
    const auto loss = summary.find("final_loss");
    if (loss == summary.end() || !loss->is_number() || loss->get<double>() != run.metrics.loss.back())
      problems.push_back(where + ": final_loss " + (loss == summary.end() ? std::string("missing") : loss->dump()) +
                         " differs from metrics.csv's last loss " + csv_number(run.metrics.loss.back()));
    run.params = read_safetensors((dir / "params_final.safetensors").string());
  }
  run.quant = read_quant_stats((dir / "quant_stats.csv").string());
  return run;
}

// ---------------------------------------------------------------- measures

// S(t) = mean of L(u), u = max(1, t - w + 1) .. t, w = max(1, floor(T / 20)),
// summed in step order (docs/training.md, "Divergence report").
std::vector<double> smoothed(const std::vector<double>& loss, uint64_t steps) {
  const size_t w = size_t(std::max<uint64_t>(1, steps / 20));
  std::vector<double> s(loss.size());
  for (size_t t = 1; t <= loss.size(); ++t) {
    const size_t lo = t >= w ? t - w + 1 : 1;
    double sum = 0;
    for (size_t u = lo; u <= t; ++u) sum += loss[u - 1];
    s[t - 1] = sum / double(t - lo + 1);
  }
  return s;
}

std::optional<double> finite(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

// ||theta_r - theta_f||_2 / ||theta_f||_2 over every tensor of params_final in
// byte-wise name order (std::map<std::string> compares chars as unsigned,
// [char.traits.specializations.char]), each sum in that order. Every
// product is its own statement so that no compiler contracts it into an FMA
// with the sum.
std::optional<double> param_drift(const SafetensorsFile& r, const SafetensorsFile& f, const std::string& rid,
                                  const std::string& fid, std::vector<std::string>& problems) {
  const auto mismatch = [&](const std::string& what) {
    problems.push_back("runs " + quoted_text(rid) + " and " + quoted_text(fid) +
                       ": params_final.safetensors cannot be compared (" + what + ")");
    return std::nullopt;
  };
  if (r.tensors.size() != f.tensors.size()) return mismatch("different tensor counts");
  double diff2 = 0, ref2 = 0;
  for (auto ri = r.tensors.begin(), fi = f.tensors.begin(); ri != r.tensors.end(); ++ri, ++fi) {
    if (ri->first != fi->first)
      return mismatch("tensor " + quoted_text(ri->first) + " against " + quoted_text(fi->first));
    if (ri->second.dtype != StoredDtype::f32 || fi->second.dtype != StoredDtype::f32)
      return mismatch("tensor " + quoted_text(ri->first) + " is not F32");
    if (ri->second.shape != fi->second.shape)
      return mismatch("tensor " + quoted_text(ri->first) + " has another shape");
    const std::vector<float> rv = values_f32(ri->second), fv = values_f32(fi->second);
    for (size_t i = 0; i < rv.size(); ++i) {
      const double d = double(rv[i]) - double(fv[i]);
      const double d2 = d * d;
      const double f2 = double(fv[i]) * double(fv[i]);
      diff2 += d2;
      ref2 += f2;
    }
  }
  return finite(std::sqrt(diff2) / std::sqrt(ref2));
}

struct Measured {
  ReportValues values;
  bool never_reached_target = false;
};

// Everything of run r against its reference f (nullptr: not available).
Measured measure(const RunData& r, const RunData* f, uint64_t steps, const std::string& rid, const std::string& fid,
                 std::vector<std::string>& problems) {
  Measured m;
  auto& v = m.values;
  const bool r_done = r.status == "done";
  const std::vector<double> sr = smoothed(r.metrics.loss, steps);
  if (r_done) {
    v[at(ReportMetric::final_loss)] = finite(sr.back());
    if (r.metrics.last_eval) v[at(ReportMetric::final_eval)] = finite(*r.metrics.last_eval);
  }
  v[at(ReportMetric::skipped_steps)] = r.metrics.skipped;
  v[at(ReportMetric::underflow_pct)] = r.quant.underflow;
  v[at(ReportMetric::saturation_pct)] = r.quant.saturation;
  if (f == nullptr || f->status != "done") return m;

  const std::vector<double> sf = smoothed(f->metrics.loss, steps);
  const size_t T = size_t(steps);
  if (r_done) {
    const double gap = sr[T - 1] - sf[T - 1];
    v[at(ReportMetric::final_gap_abs)] = finite(gap);
    v[at(ReportMetric::final_gap_rel)] = finite(gap / sf[T - 1]);
    // A NaN anywhere makes the maximum NaN, and so null.
    double max_rel = 0;
    for (size_t t = 0; t < T; ++t) {
      const double rel = std::fabs((sr[t] - sf[t]) / sf[t]);
      max_rel = std::isnan(rel) || std::isnan(max_rel) ? NAN : std::max(max_rel, rel);
    }
    v[at(ReportMetric::max_abs_gap_rel)] = finite(max_rel);
    const size_t k = std::max<size_t>(1, (T + 9) / 10);
    double sum = 0;
    for (size_t t = T - k; t < T; ++t) {
      const double d = r.metrics.loss[t] - f->metrics.loss[t];
      sum += std::fabs(d) / f->metrics.loss[t];
    }
    v[at(ReportMetric::mean_abs_gap_rel_last10)] = finite(sum / double(k));
    if (v[at(ReportMetric::final_eval)] && f->metrics.last_eval && std::isfinite(*f->metrics.last_eval))
      v[at(ReportMetric::eval_gap)] = finite(*v[at(ReportMetric::final_eval)] - *f->metrics.last_eval);
    if (r.params && f->params)
      v[at(ReportMetric::param_drift)] = param_drift(*r.params, *f->params, rid, fid, problems);
  }
  // The target is 5% above the reference's final smoothed loss; the reference
  // reaches it by definition.
  if (sf[T - 1] > 0 && std::isfinite(sf[T - 1])) {
    const double target = sf[T - 1] * 1.05;
    const auto first_at = [&](const std::vector<double>& s) -> std::optional<size_t> {
      for (size_t t = 0; t < s.size(); ++t)
        if (s[t] <= target) return t + 1;
      return std::nullopt;
    };
    const std::optional<size_t> steps_f = first_at(sf), steps_r = first_at(sr);
    if (steps_r)
      v[at(ReportMetric::steps_to_target_ratio)] = double(*steps_r) / double(*steps_f);
    else
      m.never_reached_target = true;
  }
  return m;
}

// |a| / |b|, null when either is missing or b is 0.
std::optional<double> over_noise(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b || *b == 0) return std::nullopt;
  return finite(std::fabs(*a) / std::fabs(*b));
}

MetricSummary summarise(const std::vector<double>& x) {
  MetricSummary s;
  s.n = x.size();
  if (x.empty()) return s;
  double sum = 0;
  for (double v : x) sum += v;
  const double mean = sum / double(x.size());
  s.mean = mean;
  if (x.size() < 2) return s;
  double sq = 0;
  for (double v : x) {
    const double d = v - mean;
    const double d2 = d * d;
    sq += d2;
  }
  s.sd = std::sqrt(sq / double(x.size() - 1));
  return s;
}

// ---------------------------------------------------------------- output

std::string optional_number(const std::optional<double>& v) { return v ? csv_number(*v) : std::string(); }

json json_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// Four significant digits for reading (report.csv and report.json hold
// every digit).
std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string md_cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string md_value(const MetricSummary& s) {
  if (!s.mean) return "—";
  std::string out = short_number(*s.mean);
  if (s.sd) out += " ± " + short_number(*s.sd);
  return out;
}

}  // namespace

std::string_view report_metric_name(ReportMetric m) { return kMetricNames.at(at(m)); }

namespace {

// The figures DIR/figures/figures.json lists ({"figures": [{name, caption,
// files: {png, pdf, csv}}, ...]}, written by scripts/plot; docs/figures.md)
// whose PNG is there. Anything wrong with the index is one problem line.
std::vector<FigureLink> read_figure_links(const fs::path& sweep_dir, std::vector<std::string>& problems) {
  const fs::path dir = sweep_dir / "figures", path = dir / "figures.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  const std::string where = escaped_text(path.string());
  json j;
  try {
    j = json::parse(io::read_input_file(path.string()));
  } catch (const json::exception& e) {
    problems.push_back(where + ": not JSON (" + escaped_text(e.what()) + "); figures not linked");
    return {};
  } catch (const fpsim::IoError& e) {
    problems.push_back(std::string(e.what()) + "; figures not linked");
    return {};
  }
  const auto figures = j.is_object() ? j.find("figures") : j.end();
  if (!j.is_object() || figures == j.end() || !figures->is_array()) {
    problems.push_back(where + ": no \"figures\" list; figures not linked");
    return {};
  }
  // A file name inside DIR/figures: one path component.
  const auto file_name = [](const json& files, const char* key) -> std::string {
    const auto it = files.find(key);
    if (it == files.end() || !it->is_string()) return "";
    const std::string f = it->get<std::string>();
    // Plain names only (letters, digits, '.', '_', '-'): safe inside a Markdown link.
    if (f.empty() || f.front() == '.') return "";
    for (const char c : f)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return "";
    return f;
  };
  std::vector<FigureLink> links;
  for (const json& r : *figures) {
    const auto files = r.is_object() ? r.find("files") : r.end();
    if (!r.is_object() || files == r.end() || !files->is_object() || !r.contains("name") || !r["name"].is_string()) {
      problems.push_back(where + ": a figure entry without name and files; not linked");
      continue;
    }
    FigureLink l;
    l.name = r["name"].get<std::string>();
    l.caption = r.contains("caption") && r["caption"].is_string() ? r["caption"].get<std::string>() : l.name;
    l.png = file_name(*files, "png");
    l.pdf = file_name(*files, "pdf");
    l.csv = file_name(*files, "csv");
    if (l.png.empty() || !fs::exists(dir / l.png, ec)) {
      problems.push_back(where + ": figure " + quoted_text(l.name) + " has no PNG in " + escaped_text(dir.string()) +
                         "; not linked");
      continue;
    }
    links.push_back(std::move(l));
  }
  return links;
}

}  // namespace

SweepReport build_report(const fs::path& sweep_dir, const ReportOptions& options) {
  const SweepDirectory list = read_sweep_directory(sweep_dir);
  for (const fs::path& extra : options.extra_dirs) {
    const SweepDirectory other = read_sweep_directory(extra);
    if (other.config_sha256 != list.config_sha256)
      throw ConfigError(escaped_text((extra / "sweep.json").string()) + ": another sweep (config_sha256 " +
                        quoted_text(other.config_sha256) + "; " + escaped_text((sweep_dir / "sweep.json").string()) +
                        " has " + quoted_text(list.config_sha256) + ")");
  }
  SweepReport report;
  report.name = list.name;
  report.steps = list.steps;
  report.config_sha256 = list.config_sha256;

  std::vector<fs::path> roots{sweep_dir};
  roots.insert(roots.end(), options.extra_dirs.begin(), options.extra_dirs.end());

  // Find and read every run: the first finished copy in DIR, then the extra
  // directories in order; finished copies elsewhere must hold the same
  // metrics.csv.
  std::map<std::string, RunData> found;
  for (const SweepRun& listed : list.runs) {
    std::vector<fs::path> copies;
    std::string other_status;
    bool unreadable = false;
    for (const fs::path& root : roots) {
      const fs::path dir = root / "runs" / listed.id;
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) continue;
      if (!fs::exists(dir / "summary.json", ec)) {
        if (other_status.empty()) other_status = "started, no summary.json";
        continue;
      }
      try {
        const std::string status = summary_status(read_summary(dir / "summary.json"));
        if (finished(status))
          copies.push_back(dir);
        else if (other_status.empty() || other_status == "started, no summary.json")
          other_status = "status " + status;
      } catch (const Error& e) {
        report.problems.push_back(e.what());
        unreadable = true;
      }
    }
    if (copies.empty()) {
      report.missing_runs.push_back(listed.id + (unreadable             ? " (unreadable: see problems)"
                                                 : other_status.empty() ? " (not run)"
                                                                        : " (" + other_status + ")"));
      continue;
    }
    try {
      for (size_t i = 1; i < copies.size(); ++i) {
        if (io::read_input_file((copies[i] / "metrics.csv").string()) !=
            io::read_input_file((copies[0] / "metrics.csv").string()))
          report.problems.push_back("run " + quoted_text(listed.id) + ": " +
                                    escaped_text((copies[0] / "metrics.csv").string()) + " and " +
                                    escaped_text((copies[i] / "metrics.csv").string()) + " differ; the report uses " +
                                    escaped_text(copies[0].string()));
      }
      found.emplace(listed.id, read_run(copies[0], listed, list.steps, report.problems));
    } catch (const Error& e) {
      report.problems.push_back(e.what());
      report.missing_runs.push_back(listed.id + " (unreadable: see problems)");
    }
  }

  // The reference of (model, seed) and its first noise run.
  const auto key = [](const SweepRun& r) { return r.model + '\0' + std::to_string(r.seed); };
  std::map<std::string, const SweepRun*> reference, noise;
  for (const SweepRun& r : list.runs) {
    if (r.role == "recipe" && r.recipe == "fp32") reference.emplace(key(r), &r);
    if (r.role == "noise_floor") noise.emplace(key(r), &r);  // emplace keeps the first
  }
  const auto data_of = [&](const SweepRun* r) -> const RunData* {
    if (r == nullptr) return nullptr;
    const auto it = found.find(r->id);
    return it == found.end() ? nullptr : &it->second;
  };

  std::map<std::string, size_t> position;  // id -> index in report.runs
  for (const SweepRun& listed : list.runs) {
    const RunData* r = data_of(&listed);
    if (r == nullptr) continue;
    const auto ref = reference.find(key(listed));
    const SweepRun* f = ref == reference.end() ? nullptr : ref->second;
    Measured m = measure(*r, data_of(f), list.steps, listed.id, f ? f->id : "", report.problems);
    RunReport rr{listed.id,   listed.model,     listed.recipe,          listed.role, r->status,
                 listed.seed, listed.data_seed, m.never_reached_target, m.values};
    position[listed.id] = report.runs.size();
    report.runs.push_back(std::move(rr));
  }
  for (RunReport& rr : report.runs) {
    const auto n = noise.find(rr.model + '\0' + std::to_string(rr.seed));
    if (n == noise.end() || !position.count(n->second->id)) continue;
    const ReportValues& nv = report.runs[position.at(n->second->id)].values;
    rr.values[at(ReportMetric::gap_over_noise)] =
        over_noise(rr.values[at(ReportMetric::final_gap_rel)], nv[at(ReportMetric::final_gap_rel)]);
    rr.values[at(ReportMetric::drift_over_noise)] =
        over_noise(rr.values[at(ReportMetric::param_drift)], nv[at(ReportMetric::param_drift)]);
  }

  // Rows: models in order of first appearance; each model's recipes in order
  // of first appearance, then its noise floor.
  std::vector<std::string> models;
  std::map<std::string, std::vector<std::string>> recipes;
  std::set<std::string> has_noise;
  for (const SweepRun& r : list.runs) {
    if (std::find(models.begin(), models.end(), r.model) == models.end()) models.push_back(r.model);
    std::vector<std::string>& rs = recipes[r.model];
    if (r.role == "recipe" && std::find(rs.begin(), rs.end(), r.recipe) == rs.end()) rs.push_back(r.recipe);
    if (r.role == "noise_floor") has_noise.insert(r.model);
  }
  const auto make_row = [&](const std::string& model, const std::string& recipe, const std::string& role) {
    RecipeSummaryRow row{model, recipe, role, 0, 0, 0, 0, {}};
    std::array<std::vector<double>, kReportMetricCount> values;
    for (const SweepRun& listed : list.runs) {
      if (listed.model != model || listed.role != role || (role == "recipe" && listed.recipe != recipe)) continue;
      ++row.seeds_expected;
      const auto p = position.find(listed.id);
      if (p == position.end()) continue;
      const RunReport& rr = report.runs[p->second];
      ++row.seeds_done;
      if (rr.status == "stopped") ++row.runs_stopped;
      if (rr.never_reached_target) ++row.steps_to_target_never;
      for (size_t i = 0; i < kReportMetricCount; ++i)
        if (rr.values[i]) values[i].push_back(*rr.values[i]);
    }
    for (size_t i = 0; i < kReportMetricCount; ++i) row.metrics[i] = summarise(values[i]);
    report.rows.push_back(std::move(row));
  };
  for (const std::string& model : models) {
    for (const std::string& recipe : recipes[model]) make_row(model, recipe, "recipe");
    if (has_noise.count(model)) make_row(model, "fp32", "noise_floor");
  }
  report.figures = read_figure_links(sweep_dir, report.problems);
  return report;
}

std::string report_csv(const SweepReport& report) {
  std::string out = "model,recipe,role,seeds_done,seeds_expected,runs_stopped,steps_to_target_never";
  for (std::string_view name : kMetricNames) {
    const std::string n(name);
    out += ',' + n + "_mean," + n + "_sd," + n + "_n";
  }
  out += '\n';
  for (const RecipeSummaryRow& row : report.rows) {
    out += csv_field(row.model) + ',' + csv_field(row.recipe) + ',' + row.role + ',' +
           std::to_string(row.seeds_done) + ',' + std::to_string(row.seeds_expected) + ',' +
           std::to_string(row.runs_stopped) + ',' + std::to_string(row.steps_to_target_never);
    for (const MetricSummary& s : row.metrics)
      out += ',' + optional_number(s.mean) + ',' + optional_number(s.sd) + ',' + std::to_string(s.n);
    out += '\n';
  }
  return out;
}

std::string report_json(const SweepReport& report) {
  json j;
  j["sweep"] = {{"name", report.name}, {"steps", report.steps}, {"config_sha256", report.config_sha256}};
  j["missing_runs"] = report.missing_runs;
  j["problems"] = report.problems;
  j["rows"] = json::array();
  for (const RecipeSummaryRow& row : report.rows) {
    json r = {{"model", row.model},
              {"recipe", row.recipe},
              {"role", row.role},
              {"seeds_done", row.seeds_done},
              {"seeds_expected", row.seeds_expected},
              {"runs_stopped", row.runs_stopped},
              {"steps_to_target_never", row.steps_to_target_never}};
    r["metrics"] = json::object();
    for (size_t i = 0; i < kReportMetricCount; ++i) {
      const MetricSummary& s = row.metrics[i];
      r["metrics"][std::string(kMetricNames[i])] = {
          {"mean", json_number(s.mean)}, {"sd", json_number(s.sd)}, {"n", s.n}};
    }
    j["rows"].push_back(std::move(r));
  }
  j["runs"] = json::array();
  for (const RunReport& rr : report.runs) {
    json r = {{"id", rr.id},
              {"model", rr.model},
              {"recipe", rr.recipe},
              {"role", rr.role},
              {"status", rr.status},
              {"seed", rr.seed},
              {"data_seed", rr.data_seed},
              {"never_reached_target", rr.never_reached_target}};
    r["values"] = json::object();
    for (size_t i = 0; i < kReportMetricCount; ++i)
      r["values"][std::string(kMetricNames[i])] = json_number(rr.values[i]);
    j["runs"].push_back(std::move(r));
  }
  try {
    return j.dump(2) + '\n';
  } catch (const json::type_error& e) {
    throw ConfigError(std::string("report.json: a name is not valid UTF-8 (") + e.what() + ")");
  }
}

std::string report_markdown(const SweepReport& report) {
  std::string out = "# Divergence report: " + md_cell(report.name) + "\n\n";
  out += "Sweep `" + md_cell(report.name) + "`, " + std::to_string(report.steps) + " steps, config sha256 `" +
         md_cell(report.config_sha256) +
         "`. Each cell is the mean ± sample standard deviation over the seeds that have the value, to 4 significant "
         "digits (report.csv and report.json hold every digit); gaps and drift are against the FP32 run of the same "
         "model and seed (docs/training.md, \"Divergence report\").\n\n";
  out +=
      "| model | recipe | seeds | final loss | eval | final gap rel | max abs gap rel | mean abs gap rel last 10% | "
      "steps to target ratio | param drift | gap / noise | skipped | underflow % | saturation % |\n";
  out += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const RecipeSummaryRow& row : report.rows) {
    const auto cell = [&](ReportMetric m) { return md_value(row.metrics[at(m)]); };
    std::string seeds = std::to_string(row.seeds_done) + "/" + std::to_string(row.seeds_expected);
    if (row.runs_stopped > 0) seeds += ", " + std::to_string(row.runs_stopped) + " stopped";
    std::string target = cell(ReportMetric::steps_to_target_ratio);
    if (row.steps_to_target_never > 0)
      target = row.metrics[at(ReportMetric::steps_to_target_ratio)].n == 0
                   ? "never"
                   : target + " (" + std::to_string(row.steps_to_target_never) + " never)";
    out += "| " + md_cell(row.model) + " | " + md_cell(row.recipe) +
           (row.role == "noise_floor" ? " (noise floor)" : "") + " | " + seeds + " | " +
           cell(ReportMetric::final_loss) + " | " + cell(ReportMetric::final_eval) + " | " +
           cell(ReportMetric::final_gap_rel) + " | " + cell(ReportMetric::max_abs_gap_rel) + " | " +
           cell(ReportMetric::mean_abs_gap_rel_last10) + " | " + target + " | " + cell(ReportMetric::param_drift) +
           " | " + cell(ReportMetric::gap_over_noise) + " | " + cell(ReportMetric::skipped_steps) + " | " +
           cell(ReportMetric::underflow_pct) + " | " + cell(ReportMetric::saturation_pct) + " |\n";
  }
  const auto list = [&](const char* title, const std::vector<std::string>& items) {
    out += std::string("\n## ") + title + "\n\n";
    if (items.empty()) out += "None.\n";
    for (const std::string& item : items) out += "- " + md_cell(item) + "\n";
  };
  out += "\n## Figures\n\n";
  if (report.figures.empty())
    out += "None yet: `scripts/plot sweep DIR` draws them into DIR/figures/ (docs/figures.md); then run `fpsim report "
           "DIR` again.\n";
  for (const FigureLink& f : report.figures) {
    out += "### " + md_cell(f.name) + "\n\n![" + md_cell(f.caption) + "](figures/" + f.png + ")\n\n" +
           md_cell(f.caption);
    if (!f.pdf.empty()) out += " [PDF](figures/" + f.pdf + ")";
    if (!f.csv.empty()) out += " [data](figures/" + f.csv + ")";
    out += "\n\n";
  }
  list("Missing runs", report.missing_runs);
  list("Problems", report.problems);
  return out;
}

void write_report(const fs::path& sweep_dir, const SweepReport& report) {
  const std::string md = report_markdown(report), csv = report_csv(report), js = report_json(report);
  io::write_output_file((sweep_dir / "report.md").string(), md);
  io::write_output_file((sweep_dir / "report.csv").string(), csv);
  io::write_output_file((sweep_dir / "report.json").string(), js);
}

}  // namespace fpsim::experiments
