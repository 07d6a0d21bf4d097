// libFuzzer's entry point for one target: FPSIM_FUZZ_ENTRY names the
// fuzz_<name> function (fuzz/CMakeLists.txt sets it per binary).
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return FPSIM_FUZZ_ENTRY(data, size); }
