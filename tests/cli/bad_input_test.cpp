// The fpsim binary run the way users run it, on bad input (issue 11 and
// docs/cli.md): exit status 2 for usage errors and bad input, 1 for failures
// (a check, a file, stdout); one line on stderr naming the command and the
// input; no crash; nothing left behind in the working directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

struct Invocation {
  std::vector<std::string> args;
  std::string stdin_text;
  std::string stdout_path;              // stdout goes to this file instead of being captured
  std::vector<std::string> env;         // extra NAME=VALUE
  std::optional<rlim_t> address_space;  // RLIMIT_AS for the child
};

struct Outcome {
  int status = -1;  // the exit status; -1 when a signal ended the process
  int signal = 0;
  std::string out, err;
};

// Runs the binary in `cwd` with stdin, stdout and stderr connected to pipes
// (stdout optionally to a file), the way a shell would.
Outcome run_in(const fs::path& cwd, const Invocation& inv) {
  int in[2], out[2], err[2];
  if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    dup2(in[0], 0);
    if (inv.stdout_path.empty()) {
      dup2(out[1], 1);
    } else {
      const int fd = open(inv.stdout_path.c_str(), O_WRONLY);
      if (fd < 0) _exit(120);
      dup2(fd, 1);
    }
    dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    if (chdir(cwd.c_str()) != 0) _exit(121);
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (inv.address_space) {
      const rlimit as{*inv.address_space, *inv.address_space};
      setrlimit(RLIMIT_AS, &as);
    }
    for (const std::string& e : inv.env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv{const_cast<char*>(FPSIM_BINARY)};
    for (const std::string& a : inv.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(FPSIM_BINARY, argv.data());
    _exit(122);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  std::thread feeder([fd = in[1], text = inv.stdin_text] {
    signal(SIGPIPE, SIG_IGN);
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = write(fd, text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += size_t(n);
    }
    close(fd);
  });
  Outcome r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[65536];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, size_t(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  feeder.join();
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

std::string lines_of(const std::string& s) { return "\n--- stderr ---\n" + s; }

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/fpsim-cli-XXXXXX";
    ASSERT_NE(mkdtemp(name), nullptr);
    dir_ = name;
  }
  void TearDown() override {
    // Nothing but the files the test made itself (and the outputs it asked
    // for) may remain: no temporaries, no core dumps.
    EXPECT_EQ(listing(), expected_) << "files left behind in " << dir_;
    fs::remove_all(dir_);
  }

  Outcome run(std::vector<std::string> args, std::string stdin_text = "") {
    return run_in(dir_, Invocation{std::move(args), std::move(stdin_text), "", {}, std::nullopt});
  }
  Outcome run(const Invocation& inv) { return run_in(dir_, inv); }

  // A file the test makes; it is expected to remain.
  fs::path file(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
    expected_.insert(name);
    return dir_ / name;
  }
  // An output the command is expected to create.
  fs::path output(const std::string& name) {
    expected_.insert(name);
    return dir_ / name;
  }
  std::string read(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
  }
  std::set<std::string> listing() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.insert(e.path().filename().string());
    return names;
  }

  // A usage error or failure: the status, no crash, nothing on stdout and
  // exactly one line on stderr that starts with `prefix` and holds `part`.
  void expect_one_line_error(const Outcome& r, int status, const std::string& prefix, const std::string& part) {
    EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal << lines_of(r.err);
    EXPECT_EQ(r.status, status) << lines_of(r.err);
    EXPECT_EQ(r.out, "") << lines_of(r.err);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << lines_of(r.err);
    EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << lines_of(r.err);
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "expected the prefix '" << prefix << "'" << lines_of(r.err);
    EXPECT_TRUE(contains(r.err, part)) << "expected '" << part << "'" << lines_of(r.err);
    EXPECT_LT(r.err.size(), 1000u) << lines_of(r.err);  // lists of names fit; echoed input is cut at 60 characters
  }

  fs::path dir_;
  std::set<std::string> expected_;
};

const std::string kQuantizeInput = "448 -224 0 1\n";

// ---- crashes -------------------------------------------------------------------

TEST_F(BadInput, VerifyThreadsBeyondTheLimitAreAUsageError) {
  expect_one_line_error(run({"verify", "--op", "add", "--format", "fp16", "--samples", "1000", "--threads", "100000"}),
                        2, "fpsim verify: ", "--threads '100000': expected a whole number from 1 to 1024");
}

// std::thread's system_error escaped as an abort (134) before.
TEST_F(BadInput, VerifyThreadsTheSystemRefusesAreAFailureNotACrash) {
  if (kAddressSanitizer) GTEST_SKIP() << "RLIMIT_AS and AddressSanitizer's shadow memory do not mix";
  Invocation inv{
      {"verify", "--op", "add", "--format", "e4m3", "--samples", "100000", "--threads", "1024", "--oracle", "fast"},
      "",
      "",
      {},
      rlim_t{768} << 20};
  const Outcome r = run(inv);
  EXPECT_EQ(r.signal, 0) << lines_of(r.err);
  EXPECT_EQ(r.status, 1) << lines_of(r.err);
  EXPECT_TRUE(contains(r.err, "fpsim verify: cannot start 1024 worker threads (")) << lines_of(r.err);
  EXPECT_TRUE(contains(r.err, "use a smaller --threads")) << lines_of(r.err);
}

// 1x18446744073709551615 segfaulted; 18446744073709551615x1 gave a 0x2 scale
// grid and zeros. A block larger than the tensor is one block per row (column).
TEST_F(BadInput, QuantizeBlocksLargerThanTheTensorAreOneBlock) {
  const auto body = [](const std::string& csv) { return csv.substr(csv.find("\n# element_format")); };
  const Outcome row_reference = run({"quantize", "--scheme", "mxfp4", "--block", "1x2"}, "1 2\n3 4\n");
  ASSERT_EQ(row_reference.status, 0) << lines_of(row_reference.err);
  for (const char* huge : {"1x18446744073709551615", "1x18446744073709551614", "1x18446744073709551613"}) {
    const Outcome r = run({"quantize", "--scheme", "mxfp4", "--block", huge}, "1 2\n3 4\n");
    EXPECT_EQ(r.signal, 0) << huge;
    ASSERT_EQ(r.status, 0) << huge << lines_of(r.err);
    EXPECT_TRUE(contains(r.out, "scale grid 2x1\n")) << r.out;
    EXPECT_EQ(body(r.out), body(row_reference.out)) << huge;
  }
  const Outcome column_reference = run({"quantize", "--scheme", "mxfp4", "--block", "2x1"}, "1 2\n3 4\n");
  const Outcome r = run({"quantize", "--scheme", "mxfp4", "--block", "18446744073709551615x1"}, "1 2\n3 4\n");
  ASSERT_EQ(r.status, 0) << lines_of(r.err);
  EXPECT_TRUE(contains(r.out, "scale grid 1x2\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "1,1,4,0x6,4\n")) << r.out;
  EXPECT_EQ(body(r.out), body(column_reference.out));
}

// ---- output files ------------------------------------------------------------

TEST_F(BadInput, OutputReplacesARegularFileKeepingItsMode) {
  const fs::path in = file("x.txt", kQuantizeInput);
  for (const mode_t mode : {mode_t{0600}, mode_t{0640}, mode_t{0755}}) {
    const fs::path q = file("q.csv", "old\n");
    ASSERT_EQ(chmod(q.c_str(), mode), 0);
    const Outcome r = run({"quantize", "--scheme", "per-tensor-e4m3", "--in", "x.txt", "--out", "q.csv"});
    ASSERT_EQ(r.status, 0) << lines_of(r.err);
    EXPECT_EQ(r.out, "");
    struct stat st {};
    ASSERT_EQ(lstat(q.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, mode);
    EXPECT_TRUE(contains(read(q), "# fpsim quantize: scheme 'per-tensor-e4m3'"));
  }
}

TEST_F(BadInput, OutputFollowsASymlinkAndKeepsIt) {
  file("x.txt", kQuantizeInput);
  const fs::path target = file("target.csv", "old\n");
  fs::create_symlink("target.csv", dir_ / "link.csv");
  output("link.csv");
  const Outcome r = run({"quantize", "--scheme", "mxfp8-e4m3", "--in", "x.txt", "--out", "link.csv"});
  ASSERT_EQ(r.status, 0) << lines_of(r.err);
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.csv"));
  EXPECT_EQ(fs::read_symlink(dir_ / "link.csv"), "target.csv");
  EXPECT_TRUE(contains(read(target), "# fpsim quantize: scheme 'mxfp8-e4m3'"));
}

TEST_F(BadInput, OutputToAFifoIsWrittenThrough) {
  ASSERT_EQ(mkfifo((dir_ / "pipe").c_str(), 0600), 0);
  output("pipe");
  file("a", "3f800000 40000000\n");
  file("b", "40400000 3f800000\n");
  std::string received;
  std::thread reader([&] { received = read(dir_ / "pipe"); });
  const Outcome r = run({"mma", "--model", "a100-bf16-fp32", "--k", "2", "--a", "a", "--b", "b", "--out", "pipe"});
  reader.join();
  ASSERT_EQ(r.status, 0) << lines_of(r.err);
  EXPECT_EQ(received, "01000000101000000000000000000000\n");
  EXPECT_TRUE(fs::is_fifo(dir_ / "pipe"));
}

// As root, `--out /dev/null` replaced the device node with a regular file.
TEST_F(BadInput, OutputToADeviceNodeLeavesItADevice) {
  if (mknod((dir_ / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "cannot make a device node here (" << std::strerror(errno) << "); needs root";
  output("null");
  file("x.txt", kQuantizeInput);
  for (const char* command : {"quantize", "mma"}) {
    Outcome r;
    if (std::string(command) == "quantize") {
      r = run({"quantize", "--scheme", "nvfp4", "--in", "x.txt", "--out", "null"});
    } else {
      file("a", "3f800000\n");
      r = run({"mma", "--model", "h100-fp16-fp32", "--k", "1", "--a", "a", "--b", "a", "--out", "null"});
    }
    EXPECT_EQ(r.status, 0) << command << lines_of(r.err);
    struct stat st {};
    ASSERT_EQ(lstat((dir_ / "null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << command << ": the device node was replaced";
  }
}

TEST_F(BadInput, OutputErrorsNameTheUsersPathAndLeaveNothing) {
  file("x.txt", kQuantizeInput);
  fs::create_directory(dir_ / "sub");
  output("sub");
  Outcome r = run({"quantize", "--scheme", "nvfp4", "--in", "x.txt", "--out", "missing/q.csv"});
  expect_one_line_error(r, 1, "fpsim quantize: ", "missing/q.csv");
  EXPECT_FALSE(contains(r.err, "tmp")) << r.err;
  r = run({"quantize", "--scheme", "nvfp4", "--in", "x.txt", "--out", "sub"});
  expect_one_line_error(r, 1, "fpsim quantize: ", "cannot write sub: Is a directory");
  file("a", "3f800000\n");
  r = run({"mma", "--model", "h100-fp16-fp32", "--k", "1", "--a", "a", "--b", "a", "--out", "missing/d"});
  expect_one_line_error(r, 1, "fpsim mma: ", "missing/d");
  r = run({"convert", "--to", "e4m3", "--out", "missing/c", "1"});
  expect_one_line_error(r, 1, "fpsim convert: ", "missing/c");
  EXPECT_TRUE(fs::is_empty(dir_ / "sub"));
}

TEST_F(BadInput, EmptyFileNamesAreRefusedNotReadAsStdio) {
  expect_one_line_error(run({"quantize", "--scheme", "nvfp4", "--in", ""}, "1\n"), 2,
                        "fpsim quantize: ", "--in '': expected a file name, or - for stdin");
  expect_one_line_error(run({"quantize", "--scheme", "nvfp4", "--out", ""}, "1\n"), 2,
                        "fpsim quantize: ", "--out '': expected a file name, or - for stdout");
  expect_one_line_error(run({"convert", "--to", "e4m3", "--in", ""}), 2, "fpsim convert: ", "--in ''");
  expect_one_line_error(run({"convert", "--to", "e4m3", "--out", "", "1"}), 2, "fpsim convert: ", "--out ''");
  expect_one_line_error(run({"mma", "--model", "h100-fp16-fp32", "--k", "1", "--a", "", "--b", "x"}), 2,
                        "fpsim mma: ", "--a ''");
}

// ---- option values -----------------------------------------------------------

TEST_F(BadInput, CountsAreWholeNumbersInRange) {
  const std::vector<std::string> verify = {"verify", "--op", "add", "--format", "fp16"};
  const auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = verify;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const std::string range = ": expected a whole number from 1 to 1000000000000000";
  expect_one_line_error(run(with({"--samples", "-5"})), 2, "fpsim verify: ", "--samples '-5'" + range);
  expect_one_line_error(run(with({"--samples", "0"})), 2, "fpsim verify: ", "--samples '0'" + range);
  expect_one_line_error(run(with({"--samples", "100000000000000000000"})), 2,
                        "fpsim verify: ", "--samples '100000000000000000000'" + range);
  expect_one_line_error(run({"verify", "--op", "add", "--format", "fp32", "--exhaustive"}), 2,
                        "fpsim verify: ", "would need 2^64 cases per mode");
  expect_one_line_error(run({"verify", "--op", "fma", "--format", "bf16", "--exhaustive"}), 2,
                        "fpsim verify: ", "would need 2^48 cases per mode");
}

TEST_F(BadInput, NegativeSeedsAreRefusedEverywhere) {
  const std::string from0 = "--seed '-1': expected a whole number from 0 to ";
  expect_one_line_error(run({"verify", "--op", "add", "--format", "fp16", "--seed", "-1"}), 2,
                        "fpsim verify: ", from0 + "18446744073709551615");
  expect_one_line_error(run({"mma-error", "--model", "h100-e4m3-fp32", "--k", "16", "--seed", "-1"}), 2,
                        "fpsim mma-error: ", from0 + "18446744073709551615");
  expect_one_line_error(run({"probe", "--target", "model:h100-fp16-fp32", "--seed", "-1"}), 2,
                        "fpsim probe: ", from0 + "18446744073709551615");
  expect_one_line_error(run({"convert", "--to", "e4m3", "--rounding", "sr", "--seed", "-1", "1"}), 2,
                        "fpsim convert: ", from0 + "4294967295");
  expect_one_line_error(run({"quantize", "--scheme", "nvfp4", "--rounding", "sr", "--seed", "-1"}, "1\n"), 2,
                        "fpsim quantize: ", from0 + "4294967295");
}

// The seeds defaulted to 0 (convert, quantize, mma-error), 1 (verify) and
// 1592598564 (probe); one default for one thing now.
TEST_F(BadInput, SeedsDefaultToZeroEverywhere) {
  const auto same_output = [&](std::vector<std::string> args, const std::string& stdin_text = "") {
    const Outcome by_default = run(args, stdin_text);
    args.insert(args.end(), {"--seed", "0"});
    const Outcome zero = run(args, stdin_text);
    args.back() = "1";
    const Outcome one = run(args, stdin_text);
    EXPECT_EQ(by_default.status, 0) << args[0] << lines_of(by_default.err);
    EXPECT_EQ(by_default.out, zero.out) << args[0];
    return by_default.out != one.out;  // the seed matters here
  };
  std::string ties;  // 1 + 2^-8: sr rounds up with probability 1/2
  for (int i = 0; i < 16; ++i) ties += "1.00390625\n";
  EXPECT_TRUE(same_output({"convert", "--to", "bf16", "--rounding", "sr"}, ties));
  EXPECT_TRUE(same_output({"quantize", "--scheme", "mxfp4", "--rounding", "sr"}, "0.3 0.7 1.1 1.3 2.2 2.6 3.3 5.1\n"));
  EXPECT_TRUE(same_output({"mma-error", "--model", "h100-e4m3-fp32", "--k", "64", "--trials", "3"}));
  // probe prints only how many random vectors disagree, so its seed cannot be told from the output.
  const Outcome v = run({"verify", "--op", "add", "--format", "e4m3", "--samples", "10", "--oracle", "fast"});
  EXPECT_TRUE(contains(v.out, "(seed 0 samples, shard 0/1)")) << v.out;
}

// ---- lost output -------------------------------------------------------------

TEST_F(BadInput, AFullStdoutIsAFailureForEveryCommand) {
  file("v.txt", "3C00 3F800000 00\n");
  file("x.txt", kQuantizeInput);
  file("a", "3f800000\n");
  const std::vector<Invocation> commands = {
      {{"formats"}, "", "/dev/full", {}, std::nullopt},
      {{"convert", "--to", "e4m3", "1", "2"}, "", "/dev/full", {}, std::nullopt},
      {{"testfloat", "f16_to_f32"}, "3C00 3F800000 00\n", "/dev/full", {}, std::nullopt},
      {{"verify", "--op", "add", "--format", "e4m3", "--samples", "100", "--oracle", "fast"},
       "",
       "/dev/full",
       {},
       std::nullopt},
      {{"quantize", "--scheme", "nvfp4", "--in", "x.txt"}, "", "/dev/full", {}, std::nullopt},
      {{"mma", "--model", "h100-fp16-fp32", "--k", "1", "--a", "a", "--b", "a"}, "", "/dev/full", {}, std::nullopt},
      {{"mma-error", "--model", "h100-e4m3-fp32", "--k", "16", "--trials", "2"}, "", "/dev/full", {}, std::nullopt},
      {{"probe", "--target", "model:h100-fp16-fp32", "--random", "10"}, "", "/dev/full", {}, std::nullopt},
      {{"help"}, "", "/dev/full", {}, std::nullopt},
  };
  for (const Invocation& inv : commands) {
    const Outcome r = run(inv);
    const std::string command = inv.args[0];
    EXPECT_EQ(r.signal, 0) << command;
    EXPECT_EQ(r.status, 1) << command << lines_of(r.err);
    const std::string line =
        (command == "help" ? "fpsim" : "fpsim " + command) + ": cannot write to stdout: No space left on device\n";
    EXPECT_TRUE(r.err.size() >= line.size() && r.err.substr(r.err.size() - line.size()) == line)
        << command << lines_of(r.err);
    EXPECT_EQ(r.err.find("cannot write"), r.err.rfind("cannot write")) << "reported twice" << lines_of(r.err);
  }
}

// `gzip -dc /nonexistent.gz | fpsim testfloat f16_add` printed "0 passed, 0 failed" and exit 0.
TEST_F(BadInput, TestfloatWithoutAnyVectorIsNotAPass) {
  expect_one_line_error(run({"testfloat", "f16_add"}, ""), 2,
                        "fpsim testfloat: ", "no vectors on stdin (expected testfloat_gen output: 2 operands in hex");
}

// ---- contradictions ------------------------------------------------------------

TEST_F(BadInput, ContradictingOptionsAreRefused) {
  expect_one_line_error(run({"testfloat", "f16_add", "-rmin", "-rmax"}, "3C00 3C00 4000 00\n"), 2,
                        "fpsim testfloat: ", "-rmin and -rmax contradict each other (give one rounding mode)");
  expect_one_line_error(run({"testfloat", "f16_add", "-tininessbefore", "-tininessafter"}, "3C00 3C00 4000 00\n"), 2,
                        "fpsim testfloat: ", "contradict each other (give one tininess mode)");
  expect_one_line_error(run({"mma-error", "--model", "h100-e4m3-fp32:promote128", "--promote", "64", "--k", "16"}), 2,
                        "fpsim mma-error: ", "both set the promotion interval: give one");
  file("a", "3f800000\n");
  expect_one_line_error(run({"mma", "--model", "h100-fp16-fp32", "--k", "1", "--a", "a", "--b", "a", "--any-nan"}), 2,
                        "fpsim mma: ", "--any-nan applies to the comparison: it needs --expect FILE");
  expect_one_line_error(
      run({"mma", "--model", "h100-fp16-fp32", "--k", "1", "--a", "a", "--b", "a", "--max-report", "3"}), 2,
      "fpsim mma: ", "--max-report applies to the comparison: it needs --expect FILE");
  expect_one_line_error(run({"convert", "--to", "e4m3", "--seed", "5", "1"}), 2,
                        "fpsim convert: ", "--seed keys stochastic rounding: it needs --rounding sr or sr<R>");
  expect_one_line_error(run({"verify", "--op", "add", "--format", "e4m3", "--exhaustive", "--seed", "5"}), 2,
                        "fpsim verify: ", "with --exhaustive and no sr mode it changes nothing");
  expect_one_line_error(run({"convert", "--to", "e4m3", "--to", "bf16", "1"}), 2, "fpsim convert: ", "--to");
}

// ---- messages ------------------------------------------------------------------

TEST_F(BadInput, CommandsAreNamedAndSuggested) {
  expect_one_line_error(run(std::vector<std::string>{}), 2,
                        "fpsim: ", "a command is required; commands: formats, convert");
  expect_one_line_error(run({"bogus"}), 2, "fpsim: ", "unknown command 'bogus'; commands: formats, convert");
  expect_one_line_error(run({"convrt"}), 2, "fpsim: ", "unknown command 'convrt' (did you mean 'convert'?)");
  expect_one_line_error(run({"help", "convrt"}), 2, "fpsim: ", "(did you mean 'convert'?)");
  expect_one_line_error(run({"--bogus"}), 2, "fpsim: ", "unknown option '--bogus'");
  const Outcome version = run({"--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.out.rfind("fpsim ", 0), 0u) << version.out;
  for (const std::vector<std::string>& help : {std::vector<std::string>{"help"}, {"--help"}, {"-h"}}) {
    const Outcome r = run(help);
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(contains(r.out, "convert")) << r.out;
    EXPECT_EQ(r.err, "");
  }
  const Outcome convert_help = run({"help", "convert"});
  EXPECT_EQ(convert_help.status, 0);
  EXPECT_TRUE(contains(convert_help.out, "Usage: fpsim convert")) << convert_help.out;
}

TEST_F(BadInput, ParserErrorsNameTheCommand) {
  expect_one_line_error(run({"convert", "1"}), 2, "fpsim convert: ", "--to is required");
  expect_one_line_error(run({"convert", "--too", "e4m3", "1"}), 2, "fpsim convert: ", "unexpected argument '--too'");
  expect_one_line_error(run({"verify", "--op", "add"}), 2, "fpsim verify: ", "--format is required");
  expect_one_line_error(run({"quantize", "--scheme"}), 2, "fpsim quantize: ", "--scheme");
  expect_one_line_error(run({"mma", "--k", "x"}), 2, "fpsim mma: ", "--k 'x': expected a whole number");
  expect_one_line_error(run({"formats", "extra"}), 2, "fpsim formats: ", "unexpected argument 'extra'");
}

// Input is echoed quoted, escaped and short: an escape sequence never reaches
// the terminal, a NUL does not cut the message, a megabyte line makes a short one.
TEST_F(BadInput, EchoedInputIsEscapedAndShortened) {
  Outcome r = run({"convert", "--to", "e4m3"}, "\x1b[31mred\n");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "error\n");
  EXPECT_EQ(r.err,
            "fpsim convert: stdin line 1: '\\x1b[31mred' is not a number: no digits (unexpected '\\x1b' at "
            "position 0)\n");
  r = run({"convert", "--to", "e4m3"}, "x" + std::string(1 << 20, '7') + "\n");
  EXPECT_EQ(r.status, 2);
  EXPECT_LT(r.err.size(), 300u);
  EXPECT_TRUE(contains(r.err, "...' (1048577 bytes) is not a number")) << r.err;
  expect_one_line_error(run({"quantize", "--scheme", "nvfp4"}, std::string("1 2\0junk\n", 10)), 2,
                        "fpsim quantize: ", "stdin line 1, column 3: '2\\x00junk' is not a number");
  expect_one_line_error(run({"convert", "--to", "e4m3\x1b]0;pwned\x07", "1"}), 2,
                        "fpsim convert: ", "unknown format 'e4m3\\x1b]0;pwned\\x07'");
  file("a", "3f800000 \x1b[2J\n");
  expect_one_line_error(run({"mma", "--model", "h100-fp16-fp32", "--k", "2", "--a", "a", "--b", "a"}), 2,
                        "fpsim mma: ", "'\\x1b[2J' is not a hex FP32 encoding");
  r = run({"testfloat", "f16_add"}, "3C00 \x1b[2J 00\n");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.out, "stdin line 1: malformed vector '3C00 \\x1b[2J 00'")) << r.out;
  EXPECT_FALSE(contains(r.out + r.err, "\x1b"));
  expect_one_line_error(run({"probe", "--target", std::string("model:\x1b[5m", 11)}), 2, "fpsim probe: ", "'\\x1b[5m'");
}

// The README says negative numbers work as they are; -.5 and -infinity were
// taken for options.
TEST_F(BadInput, NegativeNumbersAreValues) {
  const Outcome r = run({"convert", "--to", "e4m3", "--print", "both", "-.5", "-infinity", "-1.5", "2", "-nan"});
  EXPECT_EQ(r.status, 0) << lines_of(r.err);
  EXPECT_EQ(r.out, "0xb0 -0.5\n0xff -nan\n0xbc -1.5\n0x40 2\n0xff -nan\n");  // e4m3 has no inf: -inf is NaN
  const Outcome saturated = run({"convert", "--to", "e4m3", "--overflow", "saturate", "-infinity"});
  EXPECT_EQ(saturated.out, "0xfe\n") << lines_of(saturated.err);
  const Outcome seeded = run({"convert", "--to", "e4m3", "--rounding", "sr", "--seed", "3", "-.5"});
  EXPECT_EQ(seeded.out, "0xb0\n") << lines_of(seeded.err);
}

TEST_F(BadInput, DirectoriesAndMissingFilesAreNamedOnce) {
  fs::create_directory(dir_ / "d");
  output("d");
  expect_one_line_error(run({"quantize", "--scheme", "nvfp4", "--in", "d"}), 1,
                        "fpsim quantize: ", "cannot read d: Is a directory");
  expect_one_line_error(run({"quantize", "--scheme", "nvfp4", "--in", "none.txt"}), 1,
                        "fpsim quantize: ", "cannot open none.txt: No such file or directory");
  expect_one_line_error(run({"mma", "--model", "h100-fp16-fp32", "--k", "1", "--a", "d", "--b", "d"}), 1,
                        "fpsim mma: ", "cannot read d: Is a directory");
}

// quantize called 0x1.8 "a hex integer" while convert read 1.5.
TEST_F(BadInput, HexFloatsReadTheSameInConvertAndQuantize) {
  const Outcome c = run({"convert", "--to", "fp32", "--print", "dec", "0x1.8"});
  EXPECT_EQ(c.out, "1.5\n") << lines_of(c.err);
  const Outcome q = run({"quantize", "--scheme", "per-tensor-e4m3", "--stats-only"}, "0x1.8\n");
  EXPECT_TRUE(contains(q.out, "\namax,1.5\n")) << q.out << lines_of(q.err);
  const Outcome ci = run({"convert", "--to", "fp32", "0x3f800000"});
  EXPECT_EQ(ci.status, 2);
  EXPECT_TRUE(contains(ci.err, "'0x3f800000' is a hex integer")) << ci.err;
  expect_one_line_error(run({"quantize", "--scheme", "nvfp4"}, "0x3f800000\n"), 2,
                        "fpsim quantize: ", "'0x3f800000' is a hex integer");
}

// Lines are counted from 1 in every command.
TEST_F(BadInput, InputLinesAreCountedFromOne) {
  Outcome r = run({"convert", "--to", "e4m3"}, "1\nzz\n");
  EXPECT_TRUE(contains(r.err, "fpsim convert: stdin line 2: 'zz'")) << r.err;
  r = run({"convert", "--to", "e4m3", "1", "zz"});
  EXPECT_TRUE(contains(r.err, "fpsim convert: value 2: 'zz'")) << r.err;
  file("v.txt", "1\n2\nzz\n");
  r = run({"convert", "--to", "e4m3", "--in", "v.txt"});
  EXPECT_TRUE(contains(r.err, "fpsim convert: v.txt line 3: 'zz'")) << r.err;
  expect_one_line_error(run({"quantize", "--scheme", "nvfp4"}, "1\nzz\n"), 2,
                        "fpsim quantize: ", "stdin line 2, column 1: 'zz'");
  r = run({"testfloat", "f16_to_f32"}, "3C00 3F800000 00\nzz\n");
  EXPECT_TRUE(contains(r.out, "stdin line 2: malformed vector 'zz'")) << r.out;
}

// One meaning per option name: --in/--out are files, --json the JSON switch;
// the old spellings say what replaced them.
TEST_F(BadInput, RenamedOptionsSayWhatReplacedThem) {
  expect_one_line_error(run({"convert", "--to", "e4m3", "--in", "hex"}), 2,
                        "fpsim convert: ", "--in names the input file; bit-pattern input is --bits");
  expect_one_line_error(run({"convert", "--to", "e4m3", "--out", "both", "1"}), 2,
                        "fpsim convert: ", "the output encoding is --print both");
  expect_one_line_error(run({"probe", "--target", "model:h100-fp16-fp32", "--format", "json"}), 2,
                        "fpsim probe: ", "--format is gone: print JSON with --json");
  expect_one_line_error(run({"mma-error", "--model", "h100-e4m3-fp32", "--k", "16", "--format", "json"}), 2,
                        "fpsim mma-error: ", "--format is gone: print JSON with --json");
  expect_one_line_error(run({"quantize", "--scheme", "nvfp4", "--output-format", "json"}, "1\n"), 2,
                        "fpsim quantize: ", "--output-format is gone: print JSON with --json");
  const Outcome j = run({"mma-error", "--model", "h100-e4m3-fp32", "--k", "16", "--trials", "2", "--json"});
  EXPECT_EQ(j.status, 0);
  EXPECT_EQ(j.out.rfind("{\"model\":\"h100-e4m3-fp32\"", 0), 0u) << j.out;
  file("x.txt", "1.5\n");
  const Outcome c = run({"convert", "--to", "e4m3", "--bits", "--from", "bf16", "--in", "x.txt"});
  EXPECT_EQ(c.status, 2);  // 1.5 is not a hex bf16 pattern
  const Outcome b = run({"convert", "--to", "e4m3", "--bits", "--from", "bf16", "3fc0"});
  EXPECT_EQ(b.out, "0x3c\n") << lines_of(b.err);
}

// Help is wrapped to the terminal ($COLUMNS when not a terminal), lists every
// testfloat option and cites only files a clone has.
TEST_F(BadInput, HelpIsWrappedAndCitesTheRepository) {
  for (const char* command : {"formats", "convert", "testfloat", "verify", "quantize", "mma", "mma-error", "probe"}) {
    const Outcome r = run(Invocation{{command, "--help"}, "", "", {"COLUMNS=60"}, std::nullopt});
    EXPECT_EQ(r.status, 0) << command;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      const bool one_word = line.find(' ', line.find_first_not_of(' ')) == std::string::npos;  // cannot wrap
      EXPECT_TRUE(one_word || line.size() <= 60) << command << ": " << line;
    }
    EXPECT_FALSE(contains(r.out, "spec/")) << command;
    EXPECT_FALSE(contains(r.out, "shared/")) << command;
  }
  const Outcome tf = run({"testfloat", "--help"});
  for (const char* option :
       {"-rnear_even", "-rnear_maxMag", "-rminMag", "-rmin,", "-rmax", "-rodd", "-tininessafter", "-tininessbefore"})
    EXPECT_TRUE(contains(tf.out, option)) << option;
}

}  // namespace
