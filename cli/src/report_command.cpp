#include "report_command.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "command_errors.hpp"
#include "fpsim/experiments/report.hpp"

namespace fpsim::cli {

int run_report(const ReportOptions& o, std::ostream& out, std::ostream& err) {
  return exit_status_of("report", err, [&] {
    using namespace fpsim::experiments;
    experiments::ReportOptions ro;
    for (const std::string& d : o.extra_dirs) ro.extra_dirs.emplace_back(d);
    const SweepReport r = build_report(o.dir, ro);
    write_report(o.dir, r);
    out << (o.format == "csv" ? report_csv(r) : o.format == "json" ? report_json(r) : report_markdown(r));
    if (!out) throw_stdout_failure();
    for (const std::string& m : r.missing_runs) err << "fpsim report: missing run: " << m << '\n';
    for (const std::string& p : r.problems) err << "fpsim report: problem: " << p << '\n';
    return r.missing_runs.empty() && r.problems.empty() ? 0 : 1;
  });
}

void add_report_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "The divergence report of a sweep (docs/training.md, \"Divergence report\"): per model and recipe, over seeds, "
      "final loss and eval metric, the gap to the FP32 run of the same seed, steps-to-target, parameter drift, the "
      "gap over the FP32 noise floor, skipped steps, underflow and saturation. Writes DIR/report.md, report.csv and "
      "report.json and prints one of them. Shard directories given after DIR are merged in. Exit status 1 when runs "
      "are missing or unreadable (the report covers the rest).");
  cmd->add_option("dir", o->dir, "the sweep directory (fpsim sweep --out)")->required();
  cmd->add_option("shards", o->extra_dirs, "more sweep directories of the same sweep (shards run elsewhere)");
  cmd->add_option("--format", o->format, "what to print: md, csv or json")
      ->check(CLI::IsMember({"md", "csv", "json"}))
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = run_report(*o, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
