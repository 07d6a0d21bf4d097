// An LD_PRELOAD shim for sweep_kill_test.sh: kills its process with SIGKILL
// at the process's Nth renameat(2) call (N from FPSIM_TEST_KILL_AT_RENAME),
// before the rename happens. That is the moment fpsim::io has written,
// synced and named a replacement's temporary and not yet renamed it over the
// file (sim/io/src/replacement_file.cpp, publish()): the one moment a writer
// killed mid-write leaves a file behind. Test code only; never linked into
// fpsim.
#include <dlfcn.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>

namespace {

long kill_at() {
  const char* v = std::getenv("FPSIM_TEST_KILL_AT_RENAME");
  return v == nullptr ? 0 : std::atol(v);
}

}  // namespace

extern "C" int renameat(int old_dir, const char* old_path, int new_dir, const char* new_path) {
  static std::atomic<long> calls{0};
  static const long n = kill_at();
  if (n > 0 && ++calls == n) ::raise(SIGKILL);
  using Renameat = int (*)(int, const char*, int, const char*);
  static const auto real = reinterpret_cast<Renameat>(::dlsym(RTLD_NEXT, "renameat"));
  return real(old_dir, old_path, new_dir, new_path);
}
