#!/usr/bin/env bash
# The exhaustive arithmetic runs of docs/verification.md (not part of CI):
# every one of the 2^32 operand pairs of fp16 and bf16 add, sub, mul and div in
# rne, and fp16 add in every other mode (sr: the result must be one of the two
# candidates), each against the fast oracle (reference/src/fast_oracle.cpp).
# Prints one Markdown table row per run; the full `fpsim verify` output goes
# to runs/verify-exhaustive/<run>.txt. Usage:
#   scripts/verify_exhaustive_arith.sh [--threads N] [--shard i/n] [run-name ...]
# Run names: fp16-add-rne ... bf16-div-rne, fp16-add-rna ... fp16-add-sr (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=$(nproc)
shard=0/1
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --shard) shard=$2; shift 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
if [ ${#names[@]} -eq 0 ]; then
  for f in fp16 bf16; do for op in add sub mul div; do names+=("$f-$op-rne"); done; done
  for m in rna rtz rup rdn rto sr; do names+=("fp16-add-$m"); done
fi
fpsim=${FPSIM:-build/cli/fpsim}  # FPSIM=path overrides the binary
if [ -z "${FPSIM:-}" ]; then cmake --preset default >/dev/null && cmake --build --preset default -j2 --target fpsim >/dev/null; fi
mkdir -p runs/verify-exhaustive
echo "| run | cases | passed | failed | seconds | threads | shard |"
echo "|---|---:|---:|---:|---:|---:|---|"
status=0
for name in "${names[@]}"; do
  IFS=- read -r fmt op mode <<<"$name"
  log=runs/verify-exhaustive/$name.txt
  start=$(date +%s.%N)
  if "$fpsim" verify --op "$op" --format "$fmt" --rounding "$mode" --exhaustive --oracle fast \
      --threads "$threads" --shard "$shard" >"$log" 2>"$log.progress"; then :; else status=1; fi
  end=$(date +%s.%N)
  summary=$(tail -n 1 "$log")
  passed=${summary%% passed*}
  failed=${summary#*passed, }; failed=${failed%% failed*}
  printf '| %s | %s | %s | %s | %.0f | %s | %s |\n' "$name" "$((passed + failed))" "$passed" "$failed" \
    "$(awk "BEGIN { print $end - $start }")" "$threads" "$shard"
done
exit $status
