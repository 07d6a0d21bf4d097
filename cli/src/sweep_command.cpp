#include "sweep_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <thread>

#include "command_errors.hpp"
#include "duration_text.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/sweep.hpp"
#include "option_values.hpp"

namespace fpsim::cli {

namespace {

using Clock = std::chrono::steady_clock;


// The sweep's progress: runs done of the shard's total, each running run's
// step and loss, and an ETA from the mean time of the runs finished so far
// spread over the workers. Called under the sweep's lock.
class ProgressBoard {
 public:
  ProgressBoard(std::ostream& err, bool terminal, size_t total, unsigned jobs)
      : err_(err), terminal_(terminal), total_(total), jobs_(jobs) {}

  void operator()(const experiments::SweepEvent& e) {
    using Kind = experiments::SweepEvent::Kind;
    const std::string& id = e.run->id;
    switch (e.kind) {
      case Kind::started:
        if (e.step > 0) {
          running_[id].step = e.step;
          line(id + " continues from its checkpoint after step " + std::to_string(e.step));
          return;
        }
        running_[id] = Running{0, e.steps, 0.0, Clock::now()};
        break;
      case Kind::step:
        running_[id].step = e.step;
        running_[id].loss = e.loss;
        break;
      case Kind::finished:
        ++done_;
        run_seconds_ += seconds_since(running_[id].since);
        ++timed_;
        running_.erase(id);
        line(id + " " + e.status + "  loss " + number(e.loss));
        return;
      case Kind::skipped:
        ++done_;
        line(id + " already " + e.status + ", skipped");
        return;
      case Kind::failed:
        running_.erase(id);
        line(id + " failed: " + e.status);
        return;
    }
    if (terminal_ && Clock::now() - last_draw_ > std::chrono::milliseconds(200)) draw();
  }

  void finish() {
    if (drew_) err_ << '\n';
    drew_ = false;
  }

 private:
  struct Running {
    uint64_t step, steps;
    double loss;
    Clock::time_point since;
  };

  static double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  }
  static std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
  }
  std::string eta() const {
    if (timed_ == 0) return "?";
    const double per_run = run_seconds_ / double(timed_);
    return duration_text(per_run * double(total_ - done_) / double(jobs_));
  }
  std::string head() const {
    return "[" + std::to_string(done_) + "/" + std::to_string(total_) + "]";
  }
  // A finished or skipped run: its own line (on a terminal above the live line).
  void line(const std::string& text) {
    if (drew_) err_ << "\r\x1b[K";
    err_ << head() << ' ' << text << "  (ETA " << eta() << ")\n" << std::flush;
    drew_ = false;
    if (terminal_) draw();
  }
  void draw() {
    std::string s = head();
    for (const auto& [id, r] : running_)
      s += "  " + id + " " + std::to_string(r.step) + "/" + std::to_string(r.steps) + " " + number(r.loss);
    s += "  ETA " + eta();
    err_ << '\r' << s << "\x1b[K" << std::flush;
    drew_ = true;
    last_draw_ = Clock::now();
  }

  std::ostream& err_;
  bool terminal_;
  size_t total_;
  unsigned jobs_;
  Clock::time_point last_draw_{};
  size_t done_ = 0, timed_ = 0;
  double run_seconds_ = 0.0;
  bool drew_ = false;
  std::map<std::string, Running> running_;
};

}  // namespace

int run_sweep_command(const SweepOptions& o, std::ostream& out, std::ostream& err, bool err_is_terminal) {
  return exit_status_of("sweep", err, [&] {
    using namespace fpsim::experiments;
    SweepConfig config = o.config.empty() ? default_sweep_config() : load_sweep_config(o.config);
    if (o.checkpoint_every) config.checkpoint_every = *o.checkpoint_every;
    experiments::SweepOptions so;
    so.out = o.out.empty() ? std::filesystem::path("runs") / config.name : std::filesystem::path(o.out);
    so.jobs = o.jobs ? *o.jobs : std::max(1u, std::thread::hardware_concurrency());
    const Shard shard = parse_shard("--shard", o.shard);
    so.shard = experiments::Shard{shard.index, shard.count};
    size_t in_shard = 0;
    for (const SweepRun& r : sweep_runs(config))
      if (experiments::in_shard(r, so.shard)) ++in_shard;
    ProgressBoard board(err, err_is_terminal, in_shard, so.jobs);
    so.progress = [&board](const SweepEvent& e) { board(e); };
    const SweepOutcome r = run_sweep(config, so);
    board.finish();
    err << "fpsim sweep: " << so.out.string() << ": " << r.in_shard << " of " << r.total << " runs in shard "
        << so.shard.index << "/" << so.shard.count << ": " << r.ran << " ran (" << r.stopped << " stopped on NaN/inf), "
        << r.skipped << " already finished";
    if (r.failed) err << ", " << r.failed << " failed";
    err << '\n';
    if (r.first_failure) {
      for (size_t i = 1; i < r.failures.size(); ++i) err << "fpsim sweep: also failed: " << r.failures[i] << '\n';
      std::rethrow_exception(r.first_failure);
    }
    out << so.out.string() << '\n';
    if (!out) throw_stdout_failure();
    return 0;
  });
}

void add_sweep_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Run a sweep (docs/training.md, \"Sweeps\"): every model x recipe x seed of CONFIG plus the FP32 noise-floor "
      "runs, in parallel, into OUT/runs/<run>/ with OUT/sweep.toml and OUT/sweep.json. Without CONFIG the built-in "
      "default sweep (experiments/configs/default.toml). Running it again resumes: finished runs are skipped, "
      "interrupted ones start again (from their checkpoint when they wrote one). Prints the sweep directory.");
  cmd->add_option("config", o->config, "sweep TOML file (default: the built-in default sweep)");
  cmd->add_option("--out", o->out, "sweep directory (default: runs/<sweep name>)");
  cmd->add_option("--jobs", o->jobs, "runs at once, one thread each (default: the core count)")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--shard", o->shard, "i/n, 0 <= i < n: only the runs whose index mod n is i (a job array's task)")
      ->capture_default_str();
  add_whole_number_option(cmd, "--checkpoint-every", o->checkpoint_every, 0, std::numeric_limits<uint32_t>::max(),
                          "each run writes a checkpoint every N steps (0: none), overriding the file's "
                          "checkpoint_every; a restarted sweep continues its interrupted runs from them");
  cmd->callback(
      [o, &exit_code] { exit_code = run_sweep_command(*o, std::cout, std::cerr, isatty(STDERR_FILENO) != 0); });
}

}  // namespace fpsim::cli
