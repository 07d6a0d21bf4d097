#!/bin/bash
# A real `fpsim sweep` killed at many moments (SIGKILL, SIGTERM, SIGINT;
# some land while a run writes its files) and restarted each time must end
# with the same files as an uninterrupted sweep (docs/training.md, "Sweeps":
# resume). Files are compared byte for byte, summary.json without its two
# timing fields (wall_time_s, steps_per_s), and no stray file may remain.
# Usage: sweep_kill_test.sh FPSIM_BINARY
set -eu
set -m  # job control: background jobs keep SIGINT (a non-interactive shell would ignore it for them)
fpsim=$1
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
echo "PASS: $kills kills (SIGKILL, SIGTERM, SIGINT at 7 moments each), every restarted sweep equals the uninterrupted one"
