// The fuzz targets (one file each, fuzz/fuzz_<name>.cpp). Each takes the
// fuzzer's bytes, runs one parser of outside input and checks its
// properties, aborting on a violation (fuzz_check.hpp); it returns 0.
// fuzz/libfuzzer_main.cpp wraps one of them as LLVMFuzzerTestOneInput;
// fuzz/corpus_replay_test.cpp runs all of them over fuzz/corpus/<name>/ and
// fuzz/regressions/<name>/.
#pragma once

#include <cstddef>
#include <cstdint>

int fuzz_number(const uint8_t* data, size_t size);
int fuzz_hex_code(const uint8_t* data, size_t size);
int fuzz_names(const uint8_t* data, size_t size);
int fuzz_testfloat_lines(const uint8_t* data, size_t size);
int fuzz_mma_files(const uint8_t* data, size_t size);
int fuzz_quantize_input(const uint8_t* data, size_t size);
int fuzz_recipe_toml(const uint8_t* data, size_t size);
int fuzz_sweep_toml(const uint8_t* data, size_t size);
int fuzz_checkpoint(const uint8_t* data, size_t size);
