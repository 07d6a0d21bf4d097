#!/bin/bash
# A real `fpsim sweep` killed at many moments and restarted each time must
# end with the same files as an uninterrupted sweep (docs/training.md,
# "Sweeps": resume; "Checkpoints"). Three parts:
#   1. SIGKILL, SIGTERM, SIGINT at 7 moments each, no checkpoints;
#   2. SIGKILL at 7 moments with --checkpoint-every 10: restarted runs
#      continue from their checkpoints (at least one must);
#   3. SIGKILL in the middle of writing a file: an LD_PRELOAD shim kills the
#      process at its Nth renameat(2), after a replacement's temporary was
#      written and named and before the rename (at least one kill must leave
#      that temporary behind, and the restart must remove it).
# Files are compared byte for byte, summary.json without its two timing
# fields (wall_time_s, steps_per_s), and no stray file may remain.
# Usage: sweep_kill_test.sh FPSIM_BINARY KILL_AT_RENAME_SHIM
set -eu
set -m  # job control: background jobs keep SIGINT (a non-interactive shell would ignore it for them)
fpsim=$1
shim=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/sweep.toml" <<'TOML'
name = "kill-test"
models = ["mlp"]
recipes = ["fp32", "bf16-pure-kahan", "fp8-current"]
seeds = [0, 1]
steps = 120
eval_interval = 20
stats_interval = 20
[model.mlp]
data = "synthetic"
TOML

listing() {  # every file under $1 with its bytes; summary.json without timing fields
  (cd "$1" && find . -type f | LC_ALL=C sort | while read -r f; do
    printf '== %s\n' "$f"
    case $f in
      */summary.json) grep -v '"wall_time_s"\|"steps_per_s"' "$f" ;;
      *) od -An -tx1 "$f" ;;
    esac
  done)
}

"$fpsim" sweep "$tmp/sweep.toml" --out "$tmp/reference" --jobs 2 >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
listing "$tmp/reference" > "$tmp/reference.txt"

kills=0
for sig in KILL TERM INT; do
  dir=$tmp/killed-$sig
  for delay in 0.01 0.04 0.08 0.12 0.2 0.3 0.45; do
    "$fpsim" sweep "$tmp/sweep.toml" --out "$dir" --jobs 2 >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    if kill -s "$sig" "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" || true
  done
  "$fpsim" sweep "$tmp/sweep.toml" --out "$dir" --jobs 2 >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
  listing "$dir" > "$tmp/killed.txt"
  if ! cmp -s "$tmp/reference.txt" "$tmp/killed.txt"; then
    echo "FAIL: after SIGKILL/TERM/INT kills ($sig) and a restart the files differ from an uninterrupted sweep:"
    diff "$tmp/reference.txt" "$tmp/killed.txt" | head -20
    exit 1
  fi
done
same_as_reference() {  # $1: sweep directory, $2: what was done to it
  listing "$1" > "$tmp/killed.txt"
  if ! cmp -s "$tmp/reference.txt" "$tmp/killed.txt"; then
    echo "FAIL: after $2 and a restart the files differ from an uninterrupted sweep:"
    diff "$tmp/reference.txt" "$tmp/killed.txt" | head -20
    exit 1
  fi
}

# 2. With checkpoints.
dir=$tmp/killed-checkpointed
resumes=0
for delay in 0.05 0.1 0.15 0.2 0.25 0.3 0.4; do
  "$fpsim" sweep "$tmp/sweep.toml" --out "$dir" --jobs 2 --checkpoint-every 10 >/dev/null 2>"$tmp/err" &
  pid=$!
  sleep "$delay"
  if kill -s KILL "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" || true
  resumes=$((resumes + $(grep -c "continues from its checkpoint" "$tmp/err" || true)))
done
"$fpsim" sweep "$tmp/sweep.toml" --out "$dir" --jobs 2 --checkpoint-every 10 >/dev/null 2>"$tmp/err" ||
  { cat "$tmp/err"; exit 1; }
resumes=$((resumes + $(grep -c "continues from its checkpoint" "$tmp/err" || true)))
same_as_reference "$dir" "SIGKILLs of a sweep with checkpoints"
if [ "$resumes" -eq 0 ]; then
  echo "FAIL: no restarted run continued from a checkpoint (the kills all landed before the first one?)"
  exit 1
fi

# 3. Killed while a file is being replaced, one run at a time so that the
# Nth rename is the same file every time.
dir=$tmp/killed-mid-write
left=0
for n in 1 2 3 5 8 13 21 34; do
  status=0
  FPSIM_TEST_KILL_AT_RENAME=$n LD_PRELOAD=$shim \
    "$fpsim" sweep "$tmp/sweep.toml" --out "$dir" --jobs 1 --checkpoint-every 10 >/dev/null 2>&1 || status=$?
  if [ "$status" -ne 137 ]; then
    echo "FAIL: the shim did not kill the sweep at its rename $n (exit status $status)"
    exit 1
  fi
  kills=$((kills + 1))
  if [ -n "$(find "$dir" -name '.*.fpsim-tmp.*' -print -quit)" ]; then left=$((left + 1)); fi
done
"$fpsim" sweep "$tmp/sweep.toml" --out "$dir" --jobs 1 --checkpoint-every 10 >/dev/null 2>"$tmp/err" ||
  { cat "$tmp/err"; exit 1; }
same_as_reference "$dir" "SIGKILLs in the middle of replacing a file"
if [ "$left" -eq 0 ]; then
  echo "FAIL: no mid-write kill left the writer's temporary behind: the shim did not hit the moment it is for"
  exit 1
fi

echo "PASS: $kills kills (SIGKILL, SIGTERM, SIGINT at 7 moments each; 7 SIGKILLs with checkpoints, $resumes runs" \
  "continued from one; 8 SIGKILLs mid-write, $left leaving a temporary), every restarted sweep equals the" \
  "uninterrupted one"
