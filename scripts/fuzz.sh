#!/usr/bin/env bash
# Fuzzing (docs/verification.md, "Fuzzing"): installs what is missing (the
# project's packages, clang and its libFuzzer/sanitizer runtimes), builds the
# `fuzz` preset (build-fuzz/: clang, libFuzzer, ASan + UBSan) and runs every
# target of fuzz/targets.cmake for SECONDS_PER_TARGET (default 20), one
# worker, one target after the other, each over a fresh copy of its committed
# corpus and regression inputs in build-fuzz/fuzz-run/<target>/corpus (the
# committed files are never modified; what the run added stays there until
# the next run). Prints one line per target with libFuzzer's execution count
# and exits 1 on any finding (crash, sanitizer report, violated property,
# timeout, memory limit), naming the file libFuzzer saved. Idempotent.
#
#   scripts/fuzz.sh          # 20 s per target: a smoke run
#   scripts/fuzz.sh 600      # the longer local run
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
  exit 2
fi

scripts/install_deps.sh clang libclang-rt-14-dev

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2

read -r -a targets <<<"$(sed -n 's/^set(FPSIM_FUZZ_TARGETS \(.*\))$/\1/p' fuzz/targets.cmake)"
if ((${#targets[@]} == 0)); then
  echo "scripts/fuzz.sh: no targets in fuzz/targets.cmake" >&2
  exit 2
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
run_dir=build-fuzz/fuzz-run
failed=0
for t in "${targets[@]}"; do
  dir=$run_dir/$t
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/findings"
  cp fuzz/corpus/"$t"/* "$dir/corpus/"
  if [[ -d fuzz/regressions/$t ]] && compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    cp fuzz/regressions/"$t"/* "$dir/corpus/"
  fi
  dict=()
  [[ -f fuzz/dict/$t.dict ]] && dict=(-dict="fuzz/dict/$t.dict")
  status=0
  build-fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$dir/findings/" "${dict[@]}" "$dir/corpus" >"$dir/log" 2>&1 || status=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$dir/log")
  findings=$(find "$dir/findings" -type f | sort)
  if ((status != 0)) || [[ -n $findings ]]; then
    failed=1
    echo "fuzz_$t: FINDING (exit status $status); log $dir/log"
    grep -E "property violated|runtime error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY" "$dir/log" | head -5 | sed 's/^/  /'
    for f in $findings; do echo "  input: $f"; done
  else
    echo "fuzz_$t: ${runs:-? runs}, corpus $(find "$dir/corpus" -type f | wc -l) inputs, no findings"
  fi
done
exit $failed
