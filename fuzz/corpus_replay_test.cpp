// Every fuzz target (fuzz/fuzz_*.cpp) over its committed inputs, without
// libFuzzer: the seed corpus fuzz/corpus/<target>/ and the findings kept as
// regressions in fuzz/regressions/<target>/. The same functions as the
// libFuzzer binaries, so the default build and the sanitizer build of the
// tests check every property on every committed input. A violated property
// aborts with a line naming the target and the input (fuzz_check.hpp); the
// file being run is printed first.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_targets.hpp"

namespace {

namespace fs = std::filesystem;

struct Target {
  const char* name;
  int (*run)(const uint8_t*, size_t);
};

const Target kTargets[] = {{"number", fuzz_number},
                           {"hex_code", fuzz_hex_code},
                           {"names", fuzz_names},
                           {"testfloat_lines", fuzz_testfloat_lines},
                           {"mma_files", fuzz_mma_files},
                           {"quantize_input", fuzz_quantize_input},
                           {"recipe_toml", fuzz_recipe_toml},
                           {"sweep_toml", fuzz_sweep_toml},
                           {"checkpoint", fuzz_checkpoint}};

const fs::path kFuzzDir = fs::path(FPSIM_SOURCE_DIR) / "fuzz";

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

size_t replay(const Target& t, const fs::path& dir) {
  size_t n = 0;
  for (const fs::path& file : files_in(dir)) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.eof() && in.fail()) ADD_FAILURE() << "cannot read " << file;
    std::fprintf(stderr, "fuzz_%s %s\n", t.name, file.c_str());
    t.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  return n;
}

class FuzzCorpusReplay : public testing::TestWithParam<Target> {};

TEST_P(FuzzCorpusReplay, SeedCorpus) {
  const size_t n = replay(GetParam(), kFuzzDir / "corpus" / GetParam().name);
  EXPECT_GE(n, 5u) << "the seed corpus of fuzz_" << GetParam().name << " is missing or nearly empty";
}

TEST_P(FuzzCorpusReplay, Regressions) {
  // Findings, named after what they were; a target may have none.
  replay(GetParam(), kFuzzDir / "regressions" / GetParam().name);
}

// Every folder of fuzz/corpus and fuzz/regressions belongs to a target.
TEST(FuzzCorpusReplayLayout, FoldersMatchTargets) {
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = kFuzzDir / kind;
    if (!fs::is_directory(dir)) continue;
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      const bool known =
          std::any_of(std::begin(kTargets), std::end(kTargets), [&](const Target& t) { return name == t.name; });
      EXPECT_TRUE(known) << e.path() << " belongs to no fuzz target";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpusReplay, testing::ValuesIn(kTargets),
                         [](const testing::TestParamInfo<Target>& info) { return std::string(info.param.name); });

}  // namespace
