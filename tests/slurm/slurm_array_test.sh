#!/usr/bin/env bash
# Integration test of fpsim's Slurm path (docs/training.md, "Sweeps on Slurm")
# on a real single-node Slurm cluster (slurmctld + slurmd + munge) started by
# scripts/slurm/local_cluster.sh in a temporary directory and stopped on exit,
# pass or fail.
#
#   tests/slurm/slurm_array_test.sh
#     Mode 1 (no fpsim needed). Submits the real scripts/slurm/sweep_array.sbatch
#     and verify_array.sbatch as 4-task arrays (--array=0-3 --cpus-per-task=2)
#     with FPSIM pointing at a stub that records, per task, SLURM_ARRAY_TASK_ID
#     and the arguments it was given; checks that task k passed
#     `sweep --shard k/4 --jobs 2` and `verify --shard k/4 (both 0-based)
#     --threads 2` (0-based), that each shard is used exactly once, and that
#     report.sbatch, submitted with --dependency=afterok on the array, ran
#     after all four tasks (once on the shared DIR, once with SHARD_DIRS=1 on
#     DIR/shard-0..3).
#
#   tests/slurm/slurm_array_test.sh --fpsim FPSIM_BIN --config CONFIG.toml
#     Mode 2. Runs the sweep CONFIG as 4 Slurm shards into one directory, merges
#     it with report.sbatch (dependent job), runs the same sweep in one process
#     into another directory with `fpsim report`, and requires: equal
#     sweep.toml and sweep.json bytes, the same run directories with equal
#     metrics.csv and quant_stats.csv bytes, and equal report.json after
#     removing timing fields (keys naming time/wall/seconds/elapsed/duration/
#     date/host) and replacing each sweep directory's path by "DIR".
#
# Exit status: 0 pass, 1 fail, 77 skip (Slurm cannot run here: not root,
# packages not installable, daemons do not start). KEEP=1 keeps the temporary
# directory; SLURM_TEST_TIMEOUT (default 300) bounds each wait for a job, in s.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd -P)
cluster=$root/scripts/slurm/local_cluster.sh
me=slurm_array_test

fpsim_bin=
config=
while [ $# -gt 0 ]; do
  case $1 in
    --fpsim) fpsim_bin=${2:?--fpsim needs a path}; shift 2 ;;
    --config) config=${2:?--config needs a path}; shift 2 ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 0 ;;
    *) echo "$me: unknown argument $1 (see --help)" >&2; exit 1 ;;
  esac
done
if [ -n "$fpsim_bin" ] || [ -n "$config" ]; then
  if [ -z "$fpsim_bin" ] || [ -z "$config" ]; then
    echo "$me: --fpsim and --config go together" >&2
    exit 1
  fi
  [ -x "$fpsim_bin" ] || { echo "$me: FAIL: $fpsim_bin is not an executable" >&2; exit 1; }
  [ -f "$config" ] || { echo "$me: FAIL: $config is not a file" >&2; exit 1; }
  fpsim_bin=$(cd "$(dirname "$fpsim_bin")" && pwd -P)/$(basename "$fpsim_bin")
  config=$(cd "$(dirname "$config")" && pwd -P)/$(basename "$config")
fi

started=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fpsim-slurm-test.XXXXXX")
# munged runs as user munge and must be able to enter the cluster directory.
chmod 0755 "$tmp"
cleanup() {
  status=$?
  trap - EXIT INT TERM
  "$cluster" stop "$tmp/cluster" 2>/dev/null || true
  # Leftovers: any process still naming this test's unique directory (a daemon
  # whose pid file was lost), by pid.
  for pid in $(pgrep -f -- "$tmp/" 2>/dev/null || true); do
    if [ "$pid" != $$ ]; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  if [ "${KEEP:-0}" = 1 ]; then
    echo "$me: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  echo "$me: $(($(date +%s) - started)) s" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "$me: FAIL: $*" >&2
  for f in "$tmp"/out/*.out; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}

# Start the cluster; 77 (cannot run here) passes through as a skip.
rc=0
env_line=$("$cluster" start "$tmp/cluster") || rc=$?
if [ "$rc" -eq 77 ]; then
  echo "$me: SKIP: Slurm cannot run here (reason above)" >&2
  exit 77
fi
[ "$rc" -eq 0 ] || fail "local_cluster.sh start exited $rc"
export SLURM_CONF="${env_line#export SLURM_CONF=}"
[ -f "$SLURM_CONF" ] || fail "local_cluster.sh printed '$env_line', not a slurm.conf"
mkdir -p "$tmp/out"
timeout=${SLURM_TEST_TIMEOUT:-300}

submit() { # sbatch options and script; prints the job id
  sbatch --parsable --chdir="$tmp" --output="$tmp/out/%x-%A_%a.out" "$@" | cut -d';' -f1
}

# Waits until job JID (an array: all its tasks) has left the queue, then
# requires every element COMPLETED with exit code 0:0 and prints their number.
wait_ok() {
  jid=$1
  t0=$(date +%s)
  while [ -n "$(squeue -h -j "$jid" -o %i 2>/dev/null)" ]; do
    [ $(($(date +%s) - t0)) -lt "$timeout" ] || fail "job $jid still queued after ${timeout}s"
    sleep 0.5
  done
  info=$(scontrol -o show job "$jid") || fail "scontrol show job $jid failed"
  if echo "$info" | grep -v -q 'JobState=COMPLETED .*ExitCode=0:0'; then
    fail "job $jid did not complete cleanly: $(echo "$info" | grep -o 'JobId=[^ ]*\|JobState=[^ ]*\|ExitCode=[^ ]*' | paste -sd' ')"
  fi
  echo "$info" | grep -c 'JobState=COMPLETED'
}

mode1() {
  stub=$tmp/fpsim-stub
  rec=$tmp/records
  mkdir -p "$rec"
  # Records what fpsim would be run with; creates --out like the real runner.
  cat >"$stub" <<EOF
#!/bin/sh
set -eu
cmd=\$1
if [ "\$cmd" = report ]; then
  file=$rec/report-\${SLURM_JOB_ID}.txt
  ls $rec >"\$file.seen"
else
  file=$rec/\$cmd-\${SLURM_ARRAY_TASK_ID}.txt
fi
prev=
for a in "\$@"; do
  [ "\$prev" = --out ] && mkdir -p "\$a"
  prev=\$a
done
echo "task=\${SLURM_ARRAY_TASK_ID:-none} args=\$*" >"\$file"
EOF
  chmod +x "$stub"
  export FPSIM="$stub"
  sweep_dir=$tmp/sweep

  # Sweep array, shared DIR, then the dependent report.
  sj=$(submit --array=0-3 --cpus-per-task=2 "$root/scripts/slurm/sweep_array.sbatch" "$tmp/cfg.toml" "$sweep_dir")
  rj=$(submit --dependency=afterok:"$sj" "$root/scripts/slurm/report.sbatch" "$sweep_dir")
  vj=$(submit --array=0-3 --cpus-per-task=2 "$root/scripts/slurm/verify_array.sbatch" --op add --format e4m3)
  [ "$(wait_ok "$sj")" = 4 ] || fail "sweep array $sj: not 4 completed tasks"
  [ "$(wait_ok "$vj")" = 4 ] || fail "verify array $vj: not 4 completed tasks"
  [ "$(wait_ok "$rj")" = 1 ] || fail "report job $rj did not complete"

  seen_sweep=
  seen_verify=
  for k in 0 1 2 3; do
    f=$rec/sweep-$k.txt
    [ -f "$f" ] || fail "array task $k wrote no $f"
    want="task=$k args=sweep $tmp/cfg.toml --out $sweep_dir --jobs 2 --shard $k/4"
    [ "$(cat "$f")" = "$want" ] || fail "sweep task $k: got '$(cat "$f")', want '$want'"
    echo "$me: sweep  task $k -> $(sed 's/.*--shard //' "$f")"
    seen_sweep="$seen_sweep $(sed 's/.*--shard //' "$f")"
    f=$rec/verify-$k.txt
    [ -f "$f" ] || fail "array task $k wrote no $f"
    want="task=$k args=verify --op add --format e4m3 --threads 2 --shard $k/4"
    [ "$(cat "$f")" = "$want" ] || fail "verify task $k: got '$(cat "$f")', want '$want'"
    echo "$me: verify task $k -> $(sed 's/.*--shard //' "$f")"
    seen_verify="$seen_verify $(sed 's/.*--shard //' "$f")"
  done
  # Each shard exactly once (sorted, no duplicates, all four).
  [ "$(echo "$seen_sweep" | tr ' ' '\n' | sed '/^$/d' | sort -u | paste -sd' ')" = "0/4 1/4 2/4 3/4" ] ||
    fail "sweep shards used: $seen_sweep"
  [ "$(echo "$seen_verify" | tr ' ' '\n' | sed '/^$/d' | sort -u | paste -sd' ')" = "0/4 1/4 2/4 3/4" ] ||
    fail "verify shards used: $seen_verify"
  f=$rec/report-$rj.txt
  [ "$(cat "$f")" = "task=none args=report $sweep_dir" ] || fail "report job: got '$(cat "$f")'"
  for k in 0 1 2 3; do
    grep -qx "sweep-$k.txt" "$f.seen" || fail "report job ran before sweep task $k finished"
  done
  echo "$me: report job $rj ran after all 4 tasks: $(cat "$f")"

  # SHARD_DIRS=1: per-task directories, merged by report.sbatch in shard order.
  rm -f "$rec"/sweep-*.txt
  sj=$(SHARD_DIRS=1 submit --array=0-3 "$root/scripts/slurm/sweep_array.sbatch" "$tmp/cfg.toml" "$sweep_dir")
  rj=$(SHARD_DIRS=1 submit --dependency=afterok:"$sj" "$root/scripts/slurm/report.sbatch" "$sweep_dir")
  [ "$(wait_ok "$sj")" = 4 ] || fail "sweep array $sj (SHARD_DIRS=1): not 4 completed tasks"
  [ "$(wait_ok "$rj")" = 1 ] || fail "report job $rj (SHARD_DIRS=1) did not complete"
  for k in 0 1 2 3; do
    want="task=$k args=sweep $tmp/cfg.toml --out $sweep_dir/shard-$k --jobs 1 --shard $k/4"
    [ "$(cat "$rec/sweep-$k.txt")" = "$want" ] || fail "SHARD_DIRS task $k: got '$(cat "$rec/sweep-$k.txt")', want '$want'"
  done
  want="task=none args=report $sweep_dir/shard-0 $sweep_dir/shard-1 $sweep_dir/shard-2 $sweep_dir/shard-3"
  [ "$(cat "$rec/report-$rj.txt")" = "$want" ] || fail "SHARD_DIRS report: got '$(cat "$rec/report-$rj.txt")', want '$want'"
  echo "$me: SHARD_DIRS=1: 4 shard dirs, report: $(cat "$rec/report-$rj.txt")"

  # A partial resubmission needs SHARDS; without it the script refuses.
  bj=$(submit --array=2 "$root/scripts/slurm/sweep_array.sbatch" "$tmp/cfg.toml" "$sweep_dir")
  t0=$(date +%s)
  while [ -n "$(squeue -h -j "$bj" -o %i 2>/dev/null)" ]; do
    [ $(($(date +%s) - t0)) -lt "$timeout" ] || fail "job $bj still queued"
    sleep 0.5
  done
  scontrol -o show job "$bj" | grep -q 'ExitCode=2:0' || fail "--array=2 without SHARDS was not refused (exit 2)"
  rm -f "$rec/sweep-2.txt"
  rj=$(SHARDS=4 submit --array=2 "$root/scripts/slurm/sweep_array.sbatch" "$tmp/cfg.toml" "$sweep_dir")
  [ "$(wait_ok "$rj")" = 1 ] || fail "SHARDS=4 --array=2 did not complete"
  want="task=2 args=sweep $tmp/cfg.toml --out $sweep_dir --jobs 1 --shard 2/4"
  [ "$(cat "$rec/sweep-2.txt")" = "$want" ] || fail "SHARDS=4 --array=2: got '$(cat "$rec/sweep-2.txt")'"
  echo "$me: resubmitting shard 2/4 alone: refused without SHARDS, ran with SHARDS=4"
  echo "$me: PASS (mode 1: array shards)"
}

# report.json with timing fields removed and sweep paths replaced.
normalized() { # FILE DIR
  python3 - "$1" "$2" <<'EOF'
import json, re, sys
path, sweep_dir = sys.argv[1], sys.argv[2]
timing = re.compile(r"time|wall|seconds|elapsed|duration|date|host", re.I)
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if not timing.search(k)}
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, str):
        return v.replace(sweep_dir, "DIR")
    return v
with open(path) as f:
    print(json.dumps(clean(json.load(f)), indent=2, sort_keys=True))
EOF
}

mode2() {
  command -v python3 >/dev/null || { echo "$me: SKIP: python3 is needed to compare report.json" >&2; exit 77; }
  export FPSIM="$fpsim_bin"
  sharded=$tmp/sharded
  single=$tmp/single
  sj=$(submit --array=0-3 --cpus-per-task=1 "$root/scripts/slurm/sweep_array.sbatch" "$config" "$sharded")
  rj=$(submit --dependency=afterok:"$sj" "$root/scripts/slurm/report.sbatch" "$sharded")
  echo "$me: submitted sweep array $sj and report job $rj; running the single-process sweep meanwhile"
  "$fpsim_bin" sweep "$config" --out "$single" --jobs 1 >"$tmp/out/single-sweep.out" 2>&1 ||
    fail "single-process fpsim sweep failed: $(tail -n 3 "$tmp/out/single-sweep.out")"
  "$fpsim_bin" report "$single" >"$tmp/out/single-report.out" 2>&1 ||
    fail "fpsim report $single failed: $(tail -n 3 "$tmp/out/single-report.out")"
  [ "$(wait_ok "$sj")" = 4 ] || fail "sweep array $sj: not 4 completed tasks"
  [ "$(wait_ok "$rj")" = 1 ] || fail "report job $rj did not complete"

  for f in sweep.toml sweep.json; do
    cmp "$sharded/$f" "$single/$f" || fail "$f differs between the sharded and the single-process sweep"
  done
  (cd "$sharded/runs" && ls) >"$tmp/runs.sharded"
  (cd "$single/runs" && ls) >"$tmp/runs.single"
  cmp "$tmp/runs.sharded" "$tmp/runs.single" || fail "different run directories: $(diff "$tmp/runs.sharded" "$tmp/runs.single" | paste -sd' ')"
  n=0
  while read -r id; do
    for f in metrics.csv quant_stats.csv; do
      cmp "$sharded/runs/$id/$f" "$single/runs/$id/$f" || fail "runs/$id/$f differs"
    done
    grep -q '"status": *"done"' "$sharded/runs/$id/summary.json" || fail "runs/$id is not done in the sharded sweep"
    n=$((n + 1))
  done <"$tmp/runs.single"
  [ -f "$sharded/report.json" ] || fail "report.sbatch wrote no $sharded/report.json"
  normalized "$sharded/report.json" "$sharded" >"$tmp/report.sharded.json"
  normalized "$single/report.json" "$single" >"$tmp/report.single.json"
  diff -u "$tmp/report.single.json" "$tmp/report.sharded.json" >"$tmp/report.diff" ||
    fail "report.json differs (single vs sharded): $(head -n 20 "$tmp/report.diff")"
  echo "$me: PASS (mode 2: $n runs in 4 Slurm shards equal the single-process sweep; report.json equal)"
}

if [ -n "$fpsim_bin" ]; then mode2; else mode1; fi
