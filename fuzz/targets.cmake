# The fuzz targets, one fuzz/fuzz_<name>.cpp each, and what they link: shared
# by fuzz/CMakeLists.txt (a libFuzzer binary per target) and
# tests/CMakeLists.txt (fuzz_corpus_replay_test runs all of them over
# fuzz/corpus/ and fuzz/regressions/).
# One line: scripts/fuzz.sh reads the list with sed.
set(FPSIM_FUZZ_TARGETS number hex_code names testfloat_lines mma_files quantize_input recipe_toml sweep_toml checkpoint)

find_package(ZLIB REQUIRED)
if(NOT MPFR_LIB)
  find_library(MPFR_LIB mpfr REQUIRED)
endif()
if(NOT GMP_LIB)
  find_library(GMP_LIB gmp REQUIRED)
endif()
# fuzz_recipe_toml: experiments' recipe reader, and toml++ (the target reads
# a recipe's `extends` with it first). The default build links the whole
# fpsim_experiments and toml++'s shared library; the fuzz build compiles only
# the recipe sources into fpsim_fuzz_recipes (fuzz/CMakeLists.txt), with
# toml++ header-only so that its parser is instrumented too.
if(FPSIM_FUZZ)
  set(_fpsim_fuzz_recipe_libs fpsim_fuzz_recipes)
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(FPSIM_FUZZ_TOMLPLUSPLUS REQUIRED IMPORTED_TARGET tomlplusplus)
  set(_fpsim_fuzz_recipe_libs fpsim_experiments PkgConfig::FPSIM_FUZZ_TOMLPLUSPLUS)
endif()
# MPFR and GMP: fuzz_number's oracle; zlib: fuzz_mma_files compresses its input.
set(FPSIM_FUZZ_LIBS ${_fpsim_fuzz_recipe_libs} fpsim_cli_text fpsim_bulk fpsim_io ${MPFR_LIB} ${GMP_LIB} ZLIB::ZLIB)

set(FPSIM_FUZZ_SOURCES)
foreach(_t ${FPSIM_FUZZ_TARGETS})
  list(APPEND FPSIM_FUZZ_SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_${_t}.cpp)
endforeach()
