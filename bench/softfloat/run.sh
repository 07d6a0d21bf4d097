#!/usr/bin/env bash
# Builds Berkeley SoftFloat 3e from a checkout (out of tree: the checkout is
# only read), builds softfloat_bench.cpp against it and runs it.
#
#   bench/softfloat/run.sh SOFTFLOAT_DIR [BENCH_ARGS...]
#
# SOFTFLOAT_DIR: a checkout or export of github.com/ucb-bar/berkeley-softfloat-3
# (the directory holding build/ and source/). BENCH_ARGS go to the benchmark
# (Google Benchmark flags, e.g. --benchmark_min_time=0.2). The build goes to
# $SOFTFLOAT_BENCH_BUILD (default: ${TMPDIR:-/tmp}/fpsim-softfloat-bench).
# Not part of CMake or CI: it needs the SoftFloat sources, which are not in
# the repository (see README.md).
set -euo pipefail

if [[ $# -lt 1 || ! -d $1 ]]; then
  echo "usage: $0 SOFTFLOAT_DIR [BENCH_ARGS...]" >&2
  exit 2
fi
sf=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${SOFTFLOAT_BENCH_BUILD:-${TMPDIR:-/tmp}/fpsim-softfloat-bench}
platform=$sf/build/Linux-x86_64-GCC
for f in "$platform/Makefile" "$platform/platform.h" "$sf/source/include/softfloat.h"; do
  [[ -f $f ]] || { echo "$0: $f missing: is $sf a SoftFloat 3 checkout?" >&2; exit 2; }
done

# SoftFloat's own Linux-x86_64-GCC build (gcc -O2 and its default
# SOFTFLOAT_OPTS), x86 SSE NaN rules, run in a copy of the build directory:
# the Makefile writes its objects into the current directory and finds the
# sources through SOURCE_DIR. Copied only when changed, so make rebuilds
# nothing on a second run. -j1 unless MAKEFLAGS (which make reads itself)
# is set.
mkdir -p "$out/softfloat-build"
for f in Makefile platform.h; do
  cmp -s "$platform/$f" "$out/softfloat-build/$f" || cp "$platform/$f" "$out/softfloat-build/$f"
done
jobs=(-j1)
[[ -n ${MAKEFLAGS:-} ]] && jobs=()
make -C "$out/softfloat-build" "${jobs[@]}" SOURCE_DIR="$sf/source" SPECIALIZE_TYPE=8086-SSE softfloat.a

# The project's Release flags (-O3 -DNDEBUG, warnings as errors), no
# -march=native, like bench/'s CMake targets. SOFTFLOAT_FAST_INT64 as the
# library was built (it selects which declarations softfloat.h makes).
g++ -std=c++20 -O3 -DNDEBUG -Wall -Wextra -Wpedantic -Werror -DSOFTFLOAT_FAST_INT64 \
  -I"$sf/source/include" "$here/softfloat_bench.cpp" "$out/softfloat-build/softfloat.a" \
  -lbenchmark -lpthread -o "$out/softfloat_bench"

exec "$out/softfloat_bench" "$@"
