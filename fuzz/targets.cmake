# The fuzz targets, one fuzz/fuzz_<name>.cpp each, and what they link: shared
# by fuzz/CMakeLists.txt (a libFuzzer binary per target) and
# tests/CMakeLists.txt (fuzz_corpus_replay_test runs all of them over
# fuzz/corpus/ and fuzz/regressions/).
set(FPSIM_FUZZ_TARGETS number hex_code names testfloat_lines mma_files quantize_input)

find_package(ZLIB REQUIRED)
if(NOT MPFR_LIB)
  find_library(MPFR_LIB mpfr REQUIRED)
endif()
if(NOT GMP_LIB)
  find_library(GMP_LIB gmp REQUIRED)
endif()
# MPFR and GMP: fuzz_number's oracle; zlib: fuzz_mma_files compresses its input.
set(FPSIM_FUZZ_LIBS fpsim_cli_text fpsim_bulk fpsim_io ${MPFR_LIB} ${GMP_LIB} ZLIB::ZLIB)

set(FPSIM_FUZZ_SOURCES)
foreach(_t ${FPSIM_FUZZ_TARGETS})
  list(APPEND FPSIM_FUZZ_SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_${_t}.cpp)
endforeach()
