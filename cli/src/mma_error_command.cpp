#include "mma_error_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "code_text.hpp"
#include "command_errors.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/philox.hpp"
#include "fpsim/quoted_text.hpp"
#include "fpsim_ref/dot.hpp"
#include "json_number.hpp"
#include "option_values.hpp"

namespace fpsim::cli {

namespace {

constexpr NamedValue<MmaErrorDist> kDistNames[] = {
    {"normal", MmaErrorDist::normal}, {"uniform", MmaErrorDist::uniform}, {"uniform01", MmaErrorDist::uniform01}};

std::string_view dist_name(MmaErrorDist d) { return name_of(d, kDistNames); }

// x (a double) rounded once to format f with rne, as a float. Rounding the
// double directly (not through float first) avoids a double rounding.
float round_input(double x, const Format& f) {
  Flags ignored;
  return float(to_double(from_double(x, f, RoundingSpec{}, ignored), f));
}

ErrorStats stats_of(std::vector<double> v) {
  ErrorStats s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / double(v.size());
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {  // nearest rank: the ceil(p * T)-th smallest
    const double r = std::ceil(p * double(v.size()));
    return v[size_t(std::max(r, 1.0)) - 1];
  };
  s.max = v.back();
  s.median = rank(0.5);
  s.p99 = rank(0.99);
  return s;
}

// Four significant digits, scientific: the same text on every machine.
std::string short_number(double v) {
  if (!std::isfinite(v)) return nonfinite_text(v, NanSign::hidden);
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, 3);
  (void)ec;
  return std::string(buf, end);
}

std::string inputs_text(const MmaErrorReport& r) {
  std::string s = r.dist == MmaErrorDist::normal    ? "a_k, b_k ~ N(0,1)"
                  : r.dist == MmaErrorDist::uniform ? "a_k, b_k ~ U(-1,1)"
                                                    : "a_k, b_k ~ U(0,1)";
  s.append(" rounded (rne) to ").append(r.model.input_a.name);
  if (std::string_view(r.model.input_a.name) != std::string_view(r.model.input_b.name))
    s.append(" / ").append(r.model.input_b.name);
  return s.append(", c = 0");
}

std::string text_report(const MmaErrorReport& r) {
  std::string t;
  auto line = [&](std::string_view key, const std::string& value) {
    t.append(key)
        .append(std::string(std::max<size_t>(20, key.size() + 1) - key.size(), ' '))
        .append(value)
        .append("\n");
  };
  line("model", r.model.name);
  line("parameters", describe_mma_model(r.model));
  line("k", std::to_string(r.k));
  line("promotion_interval",
       std::to_string(r.model.promotion_interval).append(r.model.promotion_interval == 0 ? " (none)" : ""));
  line("dist", std::string(dist_name(r.dist)));
  line("inputs", inputs_text(r));
  line("trials", std::to_string(r.trials));
  line("seed", std::to_string(r.seed));
  t.append("\n");
  auto row = [&](std::string_view name, const ErrorStats& s) {
    const std::string cells[] = {short_number(s.max), short_number(s.median), short_number(s.mean),
                                 short_number(s.p99)};
    t.append(name).append(std::string(20 - name.size(), ' '));
    for (size_t i = 0; i < 4; ++i) {
      t.append(cells[i]);
      if (i < 3) t.append(std::string(cells[i].size() < 12 ? 12 - cells[i].size() : 1, ' '));
    }
    t.append("\n");
  };
  t.append("measure             max         median      mean        p99\n");
  row("relative_error", r.relative);
  row("error_vs_abs_sum", r.vs_abs_sum);
  t.append("\nexact_results       ")
      .append(std::to_string(r.exact_results))
      .append(" of ")
      .append(std::to_string(r.trials))
      .append("\n");
  return t;
}

std::string json_report(const MmaErrorReport& r) {
  using json = nlohmann::ordered_json;
  auto stats = [](const ErrorStats& s) {
    return json{{"max", json_number(s.max)},
                {"median", json_number(s.median)},
                {"mean", json_number(s.mean)},
                {"p99", json_number(s.p99)}};
  };
  json j;
  j["model"] = r.model.name;
  j["parameters"] = describe_mma_model(r.model);
  j["k"] = r.k;
  j["promotion_interval"] = r.model.promotion_interval;
  j["dist"] = std::string(dist_name(r.dist));
  j["input_a"] = std::string(r.model.input_a.name);
  j["input_b"] = std::string(r.model.input_b.name);
  j["c"] = 0;
  j["trials"] = r.trials;
  j["seed"] = r.seed;
  j["relative_error"] = stats(r.relative);
  j["error_vs_abs_sum"] = stats(r.vs_abs_sum);
  j["exact_results"] = r.exact_results;
  return j.dump() + "\n";
}

}  // namespace

double mma_error_draw(MmaErrorDist dist, uint64_t seed, uint32_t trial, uint32_t operand, uint32_t index) {
  const uint32_t counter[4] = {index, trial, operand, 0};
  const PhiloxBlock blk = philox4x32_10(counter, uint32_t(seed), uint32_t(seed >> 32));
  const uint64_t m1 = ((uint64_t{blk.w[1]} << 32) | blk.w[0]) >> 11;
  const uint64_t m2 = ((uint64_t{blk.w[3]} << 32) | blk.w[2]) >> 11;
  if (dist == MmaErrorDist::uniform) return std::ldexp(double(m1), -52) - 1.0;  // exact
  if (dist == MmaErrorDist::uniform01) return std::ldexp(double(m1), -53);      // exact
  const double u1 = std::ldexp(double(m1 + 1), -53);                            // (0, 1], exact
  const double u2 = std::ldexp(double(m2), -53);                                // [0, 1), exact
  constexpr double kTwoPi = 6.283185307179586;                                  // RN(2 pi)
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

MmaErrorReport mma_error_report(const MmaErrorOptions& o) {
  MmaErrorReport r;
  r.dist = parse_named_value("--dist", o.dist, kDistNames);
  if (o.k < 1 || o.k > kMmaErrorMaxK)
    throw OptionError(std::string("--k ")
                          .append(std::to_string(o.k))
                          .append(": expected a dot-product length 1..")
                          .append(std::to_string(kMmaErrorMaxK)));
  if (o.trials < 1 || o.trials > kMmaErrorMaxTrials)
    throw OptionError(std::string("--trials ")
                          .append(std::to_string(o.trials))
                          .append(": expected 1..")
                          .append(std::to_string(kMmaErrorMaxTrials)));
  if (o.promote && *o.promote < 0)
    throw OptionError(std::string("--promote ")
                          .append(std::to_string(*o.promote))
                          .append(": expected a promotion interval >= 0 (0: fast accumulation)"));
  if (o.promote && *o.promote > std::numeric_limits<int>::max())
    throw OptionError(std::string("--promote ").append(std::to_string(*o.promote)).append(": too large"));
  r.model = mma_preset(o.model);
  if (o.promote && o.model.find(':') != std::string::npos)
    throw OptionError(std::string("--promote ")
                          .append(std::to_string(*o.promote))
                          .append(" and the suffix of --model ")
                          .append(quoted_text(o.model))
                          .append(" both set the promotion interval: give one"));
  if (o.promote) {
    r.model.promotion_interval = int(*o.promote);
    validate_mma_model(r.model);
  }
  r.k = o.k;
  r.trials = o.trials;
  r.seed = o.seed;

  const size_t K = size_t(o.k);
  std::vector<float> a(K), b(K);
  std::vector<double> da(K), db(K);
  std::vector<double> rel(size_t(o.trials)), vs_sum(size_t(o.trials));
  for (int64_t t = 0; t < o.trials; ++t) {
    for (size_t i = 0; i < K; ++i) {
      a[i] = round_input(mma_error_draw(r.dist, o.seed, uint32_t(t), 0, uint32_t(i)), r.model.input_a);
      b[i] = round_input(mma_error_draw(r.dist, o.seed, uint32_t(t), 1, uint32_t(i)), r.model.input_b);
      da[i] = a[i];
      db[i] = b[i];
    }
    const double d = mma_dot(r.model, a, b, 0.0f);
    const fpsim_ref::ExactDot exact = fpsim_ref::exact_dot(da, db, 0.0);
    rel[size_t(t)] = exact.relative_error(d);
    vs_sum[size_t(t)] = exact.error_vs_abs_sum(d);
    if (rel[size_t(t)] == 0) ++r.exact_results;
  }
  r.relative = stats_of(std::move(rel));
  r.vs_abs_sum = stats_of(std::move(vs_sum));
  return r;
}

int run_mma_error(const MmaErrorOptions& options, std::ostream& out, std::ostream& err) {
  return exit_status_of("mma-error", err, [&] {
    const MmaErrorReport r = mma_error_report(options);
    out << (options.json ? json_report(r) : text_report(r));
    out.flush();
    return 0;
  });
}

void add_mma_error_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MmaErrorOptions>();
  CLI::App* cmd = app.add_subcommand(
      "mma-error",
      "Relative error of an MMA model's dot products against the exact dot product of the same inputs "
      "(docs/mma.md): T random dot products of length K, inputs drawn as doubles and rounded to the model's input "
      "formats with rne, c = 0. Prints max, median, mean and 99th percentile of |d - exact| / |exact| and of "
      "|d - exact| / sum |a_k b_k|, and the number of exact results.");
  cmd->add_option("--model", o->model, "MMA preset, e.g. h100-e4m3-fp32 (fpsim/mma.hpp)")->required();
  add_whole_number_option(cmd, "--k", o->k, 1, uint64_t(kMmaErrorMaxK), "dot-product length K")->required();
  add_whole_number_option(cmd, "--promote", o->promote, 0, uint64_t(std::numeric_limits<int>::max()),
                          "promotion interval N in K elements (0: fast accumulation; default: the preset's)");
  cmd->add_option("--dist", o->dist, "input distribution: normal (N(0,1)), uniform (U(-1,1)) or uniform01 (U(0,1))")
      ->capture_default_str();
  add_whole_number_option(cmd, "--trials", o->trials, 1, uint64_t(kMmaErrorMaxTrials),
                          "number of random dot products (default 1000)");
  add_whole_number_option(cmd, "--seed", o->seed, 0, UINT64_MAX, "Philox key of the inputs (default 0)");
  cmd->add_flag("--json", o->json, "print one JSON object instead of text");
  add_renamed_option(cmd, "--format", "print JSON with --json (text is the default)");
  cmd->callback([o, &exit_code] { exit_code = run_mma_error(*o, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
