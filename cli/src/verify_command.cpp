#include "verify_command.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>

#include "code_text.hpp"
#include "duration_text.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/operation.hpp"
#include "fpsim/quoted_text.hpp"
#include "option_values.hpp"
#include "verify_oracles.hpp"

namespace fpsim::cli {

namespace {

using namespace verify;

// ---- operands ----------------------------------------------------------------

uint64_t mix64(uint64_t x) {  // splitmix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Boundary-biased random codes of one format: uniform codes, the codes
// around zero, the subnormal/normal boundary, one, the top of the range and
// the specials, and (for two-operand cases) near-cancelling partners.
class Sampler {
 public:
  explicit Sampler(const Format& f) : f_(f) {
    const uint64_t count = f.code_count();
    const uint64_t one = f.is_integer() || f.is_scale() ? 1 : uint64_t(f.bias) << f.man_bits;
    const uint64_t maxc = f.max_code();
    const uint64_t candidates[] = {0,        1,        2,        3,         f.man_mask(), f.man_mask() + 1,
                                   one - 1,  one,      one + 1,  maxc - 1,  maxc,         maxc + 1,
                                   maxc + 2, f.magnitude_mask()};
    for (uint64_t m : candidates) {
      for (int s = 0; s < (f.has_sign ? 2 : 1); ++s) {
        const uint64_t code = (m & f.magnitude_mask()) | (s ? f.sign_mask() : 0);
        if (count == 0 || code < count) special_.push_back(code);
      }
    }
    mask_ = count == 0 ? ~uint64_t{0} : count - 1;
  }
  uint64_t operand(uint64_t seed, uint64_t index, int j, uint64_t previous) const {
    const uint64_t h = mix64(seed * 0x100000001B3ull ^ mix64(index * 4 + uint64_t(j)));
    const uint64_t pick = h & 15;
    const uint64_t r = mix64(h);
    uint64_t code = 0;
    if (pick < 10) {
      code = r & mask_;
    } else if (pick < 13) {
      code = special_[r % special_.size()];
    } else if (j > 0) {
      // A partner of the previous operand: same magnitude +-small, either sign.
      const uint64_t delta = (r >> 8) & 7;
      code = ((r & 1) ? previous + delta : previous - delta) ^ ((r & 2) ? f_.sign_mask() : 0);
      code &= mask_;
    } else {
      code = r & mask_;
    }
    if (!f_.valid_code(code)) code &= f_.magnitude_mask();  // ue4m3: the top bit is not a code bit
    return code;
  }

 private:
  Format f_;
  std::vector<uint64_t> special_;
  uint64_t mask_ = 0;
};

struct Mismatch {
  uint64_t index = 0;
  std::vector<uint64_t> operands;
  Expected expected;
  uint64_t got = 0;
  uint32_t got_flags = 0;
};

bool matches(const Expected& e, uint64_t code, uint32_t flags, const Format& to, bool returns_code, bool ieee_view) {
  const uint32_t mask = ieee_view ? Flags::ieee_mask : ~uint32_t{0};
  const auto same = [&](uint64_t c, uint32_t f) {
    const bool nan_any = ieee_view && returns_code && to.is_nan_code(c) && to.is_nan_code(code);
    return (c == code || nan_any) && (f & mask) == (flags & mask);
  };
  return same(e.code, e.flags) || (e.has_second && same(e.code2, e.flags2));
}

// ---- the plan: every option read, every error found before any work ----------

// A run of `fpsim verify` as the options ask for it.
struct VerifyPlan {
  Setting base;                                  // the operation and formats (and the spec before the modes)
  std::vector<Setting> settings;                 // one per rounding mode
  std::vector<std::unique_ptr<Oracle>> oracles;  // settings[i]'s oracle
  OracleKind oracle = OracleKind::mpfr;
  bool exhaustive = false;
  uint64_t seed = 0;
  Shard shard;
  uint64_t begin = 0, end = 0;  // the shard's slice of each mode's cases
  unsigned threads = 1;
  uint64_t max_report = 0;

  uint64_t per_mode() const { return end - begin; }
  uint64_t grand_total() const { return per_mode() * settings.size(); }
};

// The operation, formats and rounding spec the options name (the mode aside).
Setting base_setting(const VerifyOptions& o) {
  Setting base;
  base.op = parse_operation(o.op);
  base.from = parse_format(o.format);
  base.to = o.to.empty() ? base.from : parse_format(o.to);
  if (base.op.kind == OpKind::compare && !o.to.empty())
    throw OptionError("comparisons return 0 or 1: --to does not apply");
  base.spec.overflow = parse_overflow(o.overflow);
  base.spec.tininess = parse_tininess(o.tininess);
  base.spec.ftz = o.ftz;
  base.spec.daz = o.daz;
  const uint64_t seed = o.seed.value_or(0);
  base.spec.seed = uint32_t(seed);
  base.spec.stream = uint32_t(seed >> 32);
  base.ref_spec.saturate = base.spec.overflow == Overflow::saturate;
  base.ref_spec.ftz = o.ftz;
  base.ref_spec.daz = o.daz;
  base.ref_spec.tininess_before = base.spec.tininess == Tininess::before;
  try {
    base.ref_from = &fpsim_ref::ref_format(base.from.name);
    base.ref_to = &fpsim_ref::ref_format(base.to.name);
  } catch (const std::invalid_argument& e) {
    throw FormatError(std::string("the reference does not know this format: ") + e.what());
  }
  return base;
}

// --rounding: one mode, or "all" of them.
std::vector<RoundingSpec> rounding_modes(const std::string& rounding, const RoundingSpec& base) {
  std::vector<RoundingSpec> modes;
  for (const std::string& m : rounding == "all" ? std::vector<std::string>{"rne", "rna", "rtz", "rup", "rdn", "rto", "sr"}
                                                : std::vector<std::string>{rounding}) {
    RoundingSpec s = base;
    parse_rounding(m, s);
    modes.push_back(s);
  }
  return modes;
}

// The cases of each mode, before sharding: every operand tuple, or --samples.
uint64_t case_count(const VerifyOptions& o, const Setting& base) {
  if (!o.exhaustive) return o.samples.value_or(1000000);
  if (o.samples) throw OptionError("--exhaustive and --samples exclude each other");
  // code_count() is 2^value_bits (0 for 64 bits): the case count is 2^(value_bits * arity).
  const int log2_cases = base.from.value_bits() * base.op.arity();
  if (log2_cases > 43)  // 2^43 ~ 8.8e12 cases: a day on a few cores
    throw OptionError("--exhaustive over " + std::string(base.from.name) + " " + base.op.name() + " would need 2^" +
                      std::to_string(log2_cases) + " cases per mode (at most 2^43 are run); use --samples N");
  return uint64_t{1} << log2_cases;
}

VerifyPlan plan_verify(const VerifyOptions& o) {
  VerifyPlan p;
  p.base = base_setting(o);
  const std::vector<RoundingSpec> modes = rounding_modes(o.rounding, p.base.spec);
  p.exhaustive = o.exhaustive;
  const uint64_t total = case_count(o, p.base);
  p.shard = parse_shard("--shard", o.shard);
  p.begin = uint64_t((u128{total} * p.shard.index) / p.shard.count);
  p.end = uint64_t((u128{total} * (p.shard.index + 1)) / p.shard.count);
  p.threads = o.threads.value_or(std::max(1u, std::thread::hardware_concurrency()));
  if (p.threads < 1 || p.threads > kVerifyMaxThreads)
    throw OptionError("--threads " + std::to_string(p.threads) + ": expected a whole number from 1 to " +
                      std::to_string(kVerifyMaxThreads));
  if (o.samples && (*o.samples < 1 || *o.samples > kVerifyMaxSamples))
    throw OptionError("--samples " + std::to_string(*o.samples) + ": expected a whole number from 1 to " +
                      std::to_string(kVerifyMaxSamples));
  const bool any_sr =
      std::any_of(modes.begin(), modes.end(), [](const RoundingSpec& m) { return m.rounding == Rounding::sr; });
  if (o.seed && o.exhaustive && !any_sr)
    throw OptionError("--seed picks sampled cases and keys sr: with --exhaustive and no sr mode it changes nothing");
  p.seed = o.seed.value_or(0);
  p.max_report = o.max_report;

  // Build every oracle first: an unsupported combination fails before any work.
  p.oracle = parse_named_value("--oracle", o.oracle, kOracleNames);
  for (const RoundingSpec& m : modes) {
    Setting s = p.base;
    s.spec = m;
    s.ref_spec.mode = ref_mode(m.rounding);
    p.oracles.push_back(make_oracle(p.oracle, s));
    p.settings.push_back(s);
  }
  return p;
}

// ---- executing: the cases of one mode on the worker threads -------------------

// The progress line, on the progress stream every `interval` seconds,
// counting every mode's cases.
struct Progress {
  std::ostream& out;
  bool tty = false;  // redraw one line in place
  double interval = 10;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  uint64_t grand_total = 0;
  std::atomic<uint64_t> done{0};
  uint64_t failed_before = 0;  // the finished modes' failures

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  void print(const Setting& s, uint64_t failed_now) const {
    const uint64_t d = done;
    const double rate = double(d) / std::max(elapsed(), 1e-9);
    char line[256];
    std::snprintf(line, sizeof line, "%s %llu / %llu (%.1f%%), %.2f M cases/s, ETA %s, %llu failed",
                  rounding_name(s.spec).c_str(), static_cast<unsigned long long>(d),
                  static_cast<unsigned long long>(grand_total), 100.0 * double(d) / double(grand_total), rate / 1e6,
                  duration_text(double(grand_total - d) / rate).c_str(),
                  static_cast<unsigned long long>(failed_before + failed_now));
    out << (tty ? "\r" : "") << line << (tty ? "" : "\n") << std::flush;
  }
};

struct ModeResult {
  uint64_t passed = 0, failed = 0;
  std::vector<Mismatch> first;  // the lowest-indexed mismatches, at most max_report
};

// Keeps `m` among the `limit` lowest-indexed mismatches in `first` (sorted by index).
void keep_lowest(std::vector<Mismatch>& first, Mismatch m, uint64_t limit) {
  if (first.size() >= limit && (first.empty() || m.index >= first.back().index)) return;
  first.push_back(std::move(m));
  std::sort(first.begin(), first.end(), [](const Mismatch& a, const Mismatch& b) { return a.index < b.index; });
  if (first.size() > limit) first.pop_back();
}

// The workers' shared state while one mode runs: they take chunks of cases
// from `next` until `end`.
class ModeRun {
 public:
  ModeRun(const VerifyPlan& p, size_t mode, const Sampler& sampler, Progress& progress, const VerifyHooks* hooks)
      : p_(p), s_(p.settings[mode]), oracle_(*p.oracles[mode]), sampler_(sampler), progress_(progress),
        hooks_(hooks), next_(p.begin) {}

  // One worker: chunks until none is left; the first error stops every worker.
  void work() {
    try {
      for (;;) {
        const uint64_t lo = next_.fetch_add(kChunk);
        if (lo >= p_.end) break;
        const uint64_t hi = std::min(p_.end, lo + kChunk);
        check_cases(lo, hi);
        progress_.done += hi - lo;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      stop();
    }
  }
  void stop() { next_ = p_.end; }
  uint64_t failed() const { return failed_; }
  // After the workers joined: the counts and the first mismatches, or the error.
  ModeResult result() {
    if (error_) std::rethrow_exception(error_);
    return {passed_, failed_, std::move(first_)};
  }

 private:
  static constexpr uint64_t kChunk = 1 << 14;

  void check_cases(uint64_t lo, uint64_t hi) {
    const int arity = s_.op.arity();
    const uint64_t count = s_.from.code_count();
    const bool ieee_view = oracle_.ieee_view_only();
    const bool returns_code = s_.op.returns_code();
    uint64_t v[3] = {0, 0, 0};
    uint64_t ok = 0, bad = 0;
    for (uint64_t k = lo; k < hi; ++k) {
      if (p_.exhaustive) {
        uint64_t rest = k;
        for (int j = arity - 1; j >= 0; --j) {
          v[j] = rest % count;
          rest /= count;
        }
      } else {
        for (int j = 0; j < arity; ++j) v[j] = sampler_.operand(p_.seed, k, j, j ? v[j - 1] : 0);
      }
      Flags fl;
      uint64_t got = evaluate(s_.op, v, s_.from, s_.to, s_.spec, fl, k);
      uint32_t got_flags = fl.bits;
      if (hooks_ && hooks_->corrupt) hooks_->corrupt(v, got, got_flags);
      const Expected e = oracle_.expect(v);
      if (matches(e, got, got_flags, s_.to, returns_code, ieee_view)) {
        ++ok;
        continue;
      }
      ++bad;
      if (p_.max_report == 0) continue;  // --max-report 0: count only, never lock
      std::lock_guard<std::mutex> lock(mutex_);
      keep_lowest(first_, {k, std::vector<uint64_t>(v, v + arity), e, got, got_flags}, p_.max_report);
    }
    passed_ += ok;
    failed_ += bad;
  }

  const VerifyPlan& p_;
  const Setting& s_;
  const Oracle& oracle_;
  const Sampler& sampler_;
  Progress& progress_;
  const VerifyHooks* hooks_;
  std::atomic<uint64_t> next_;
  std::atomic<uint64_t> passed_{0}, failed_{0};
  std::mutex mutex_;
  std::vector<Mismatch> first_;
  std::exception_ptr error_;
};

// Runs mode `mode` on p.threads workers, printing progress while they run.
// Throws IoError when the system refuses a thread.
ModeResult run_mode(const VerifyPlan& p, size_t mode, const Sampler& sampler, Progress& progress,
                    const VerifyHooks* hooks) {
  ModeRun run(p, mode, sampler, progress, hooks);
  std::vector<std::thread> pool;
  std::mutex wake_mutex;
  std::condition_variable wake;
  std::atomic<unsigned> running{p.threads};
  for (unsigned t = 0; t < p.threads; ++t) {
    try {
      pool.emplace_back([&] {
        run.work();
        if (--running == 0) {
          std::lock_guard<std::mutex> lock(wake_mutex);
          wake.notify_all();
        }
      });
    } catch (const std::system_error& e) {
      // The system refused a thread (ulimit -u, memory): stop the ones
      // running, then say so instead of terminating.
      run.stop();
      for (std::thread& started : pool) started.join();
      throw IoError("cannot start " + std::to_string(p.threads) + " worker threads (" + escaped_text(e.what()) +
                    " after " + std::to_string(t) + "); use a smaller --threads");
    }
  }
  {
    std::unique_lock<std::mutex> lock(wake_mutex);
    while (!wake.wait_for(lock, std::chrono::duration<double>(progress.interval), [&] { return running == 0; }))
      progress.print(p.settings[mode], run.failed());
  }
  for (std::thread& t : pool) t.join();
  return run.result();
}

// ---- reporting -----------------------------------------------------------------

void print_heading(const VerifyPlan& p, std::ostream& out) {
  const Setting& b = p.base;
  out << "verify " << b.op.name() << ' ' << b.from.name;
  if (b.op.returns_code()) out << " -> " << b.to.name;
  out << ", oracle " << name_of(p.oracle, kOracleNames) << ", overflow " << overflow_name(b.spec.overflow)
      << (b.spec.ftz ? ", ftz" : "") << (b.spec.daz ? ", daz" : "")
      << (b.spec.tininess == Tininess::before ? ", tininess before" : "") << ", " << p.per_mode()
      << " cases per mode (" << (p.exhaustive ? "exhaustive" : "seed " + std::to_string(p.seed) + " samples")
      << ", shard " << p.shard.index << '/' << p.shard.count << "), " << p.threads << " thread"
      << (p.threads > 1 ? "s" : "") << '\n';
}

// "mismatch [rne] case 7: add(0x3c00, 0x0001) expected 0x3c00 flags 01, got 0x3c01 flags 01"
std::string mismatch_line(const Setting& s, const Mismatch& m) {
  std::ostringstream line;
  line << "mismatch [" << rounding_name(s.spec) << "] case " << m.index << ": " << s.op.name() << '(';
  for (size_t j = 0; j < m.operands.size(); ++j) line << (j ? ", " : "") << format_hex_code(m.operands[j], s.from);
  const auto text = [&](uint64_t c) { return s.op.returns_code() ? format_hex_code(c, s.to) : std::to_string(c); };
  line << ") expected " << text(m.expected.code) << " flags " << flags_hex(m.expected.flags);
  if (m.expected.has_second) line << " or " << text(m.expected.code2) << " flags " << flags_hex(m.expected.flags2);
  line << ", got " << text(m.got) << " flags " << flags_hex(m.got_flags);
  return line.str();
}

}  // namespace

int run_verify(const VerifyOptions& o, std::ostream& out, std::ostream& progress_stream, const VerifyHooks* hooks) {
  const VerifyPlan p = plan_verify(o);
  print_heading(p, out);

  const bool tty = &progress_stream == &std::cerr && isatty(STDERR_FILENO);
  Progress progress{progress_stream, tty, o.progress_seconds > 0 ? o.progress_seconds : (tty ? 1.0 : 10.0)};
  progress.grand_total = p.grand_total();
  const Sampler sampler(p.base.from);
  uint64_t passed_all = 0;
  uint64_t reported = 0;  // mismatches printed in full, at most max_report over all modes
  for (size_t mode = 0; mode < p.settings.size(); ++mode) {
    const ModeResult r = run_mode(p, mode, sampler, progress, hooks);
    const Setting& s = p.settings[mode];
    if (p.settings.size() > 1) out << rounding_name(s.spec) << ": " << r.passed << " passed, " << r.failed << " failed\n";
    passed_all += r.passed;
    progress.failed_before += r.failed;
    for (const Mismatch& m : r.first)
      if (reported < p.max_report) {
        out << mismatch_line(s, m) << '\n';
        ++reported;
      }
  }
  const double elapsed = progress.elapsed();
  if (tty) progress_stream << '\n';
  char timing[160];
  std::snprintf(timing, sizeof timing, "%.1f s on %u thread%s, %.2f M cases/s", elapsed, p.threads,
                p.threads > 1 ? "s" : "", double(p.grand_total()) / std::max(elapsed, 1e-9) / 1e6);
  progress_stream << timing << '\n';
  const uint64_t failed_all = progress.failed_before;
  out << passed_all << " passed, " << failed_all << " failed\n";
  return failed_all == 0 ? 0 : 1;
}

void add_verify_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Compare sim's OP on FMT against an independent oracle (mpfr: the MPFR reference; fast: exact double "
      "arithmetic with an independent rounding; hw: this CPU's own FPU / AVX512-FP16). Progress on stderr; "
      "mismatches in full, then 'N passed, M failed'; exit 1 on any mismatch.");
  cmd->add_option("--op", options->op, "add sub mul div fma sqrt eq lt le unordered eq_signaling lt_quiet le_quiet "
                                        "unordered_signaling minimum maximum minimum_number maximum_number")
      ->required();
  cmd->add_option("--format", options->format, "operand format (fp16, bf16, e4m3, e6m9, ...)")->required();
  cmd->add_option("--to", options->to, "result format (default: the operand format)");
  cmd->add_option("--rounding", options->rounding, "rne rna rtz rup rdn rto sr sr<R>, or all")->capture_default_str();
  cmd->add_option("--overflow", options->overflow, "ieee or saturate")->capture_default_str();
  cmd->add_option("--tininess", options->tininess, "after or before rounding")->capture_default_str();
  cmd->add_flag("--ftz", options->ftz, "flush tiny results to zero");
  cmd->add_flag("--daz", options->daz, "read subnormal operands as zero");
  cmd->add_flag("--exhaustive", options->exhaustive, "every operand tuple");
  add_whole_number_option(cmd, "--samples", options->samples, 1, kVerifyMaxSamples,
                          "random boundary-biased cases (default 1000000)");
  cmd->add_option("--oracle", options->oracle, "mpfr, fast or hw")->capture_default_str();
  add_whole_number_option(cmd, "--threads", options->threads, 1, kVerifyMaxThreads,
                          "worker threads (default: one per hardware thread)");
  cmd->add_option("--shard", options->shard, "i/n: run the i-th of n equal slices (0-based)")->capture_default_str();
  add_whole_number_option(cmd, "--seed", options->seed, 0, UINT64_MAX,
                          "picks the sampled cases and keys sr (default 0)");
  add_whole_number_option(cmd, "--max-report", options->max_report, 0, UINT64_MAX,
                          "mismatches printed in full (default 10)");
  cmd->callback([options, &exit_code] { exit_code = run_verify(*options, std::cout, std::cerr); });
}

}  // namespace fpsim::cli
