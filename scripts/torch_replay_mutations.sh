#!/bin/sh
# Shows that the PyTorch cross-check's tolerances are tight enough to catch
# wrong formulas (docs/training.md, "PyTorch cross-check", the "Mutations"
# sentence). Trains the same two runs as tests/experiments/torch_crosscheck.sh
# (an MLP and a small GPT, `fpsim train --recipe fp32`), checks that the
# unmodified replay (scripts/torch_replay.py) passes on both, then for each
# mutation copies torch_replay.py and fpsim_torch_common.py into a scratch
# directory, changes one formula there by a literal text substitution, and
# replays the run(s) the mutation affects with the mutated copy. A mutation
# is caught when the mutated replay fails (exit 1) on at least one run.
#
# Each substitution must match its expected number of times (once, or 3x for
# the three LayerNorms), else the script stops with exit 2: a change in the
# replay's code cannot make it test nothing silently. The lr-shift mutation
# shifts only the lr handed to the optimizer (not the schedule function), so
# the replay's lr-column check still passes and the losses must catch it.
#
# Usage: scripts/torch_replay_mutations.sh FPSIM_BINARY
# Prints "caught: <name> (<run>: <first failing line>; ...)" or
# "MISSED: <name> (...)" per mutation. Exit 0 when the unmodified replay
# passes and every mutation is caught, 1 otherwise, 2 on a usage error or a
# substitution that no longer matches. Not part of CI (about a minute).
# Uses the real data sets when the data directory ($FPSIM_DATA_DIR, else the
# repository's data/) holds both files, else data=synthetic.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 FPSIM_BINARY" >&2
  exit 2
fi
fpsim=$1
root=$(cd "$(dirname "$0")/.." && pwd)
python=${FPSIM_TORCH_PYTHON:-/usr/bin/python3}
if ! "$python" -c 'import torch, numpy' >/dev/null 2>&1; then
  echo "torch_replay_mutations: $python cannot import torch and numpy" >&2
  exit 2
fi

data_dir=${FPSIM_DATA_DIR:-$root/data}
if [ -f "$data_dir/digits.csv.gz" ] && [ -f "$data_dir/devil.dict.dz" ]; then
  data=real
else
  data=synthetic
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fpsim_torch_mutations.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# The two runs, with torch_crosscheck.sh's options.
if ! mlp=$(FPSIM_DATA_DIR="$data_dir" "$fpsim" train --model mlp --recipe fp32 --steps 150 --set data=$data \
  --out "$work/runs" 2>"$work/log"); then
  cat "$work/log" >&2
  exit 1
fi
if ! gpt=$(FPSIM_DATA_DIR="$data_dir" "$fpsim" train --model gpt --recipe fp32 --steps 100 --set data=$data \
  --set gpt.layers=1 --set gpt.width=32 --set gpt.heads=2 --set gpt.context=32 --set batch=8 \
  --set lr=0.001 --set warmup_steps=20 --set eval_batches=2 --out "$work/runs" 2>"$work/log"); then
  cat "$work/log" >&2
  exit 1
fi
echo "runs: data=$data; mlp 150 steps, gpt 100 steps"

# run_dir NAME: the directory of run NAME (mlp or gpt).
run_dir() {
  case $1 in
    mlp) echo "$mlp" ;;
    gpt) echo "$gpt" ;;
  esac
}

# replay SCRIPT_DIR RUN_DIR OUTPUT: the replay's exit status (0 pass, 1 fail, 2 bad input).
replay() {
  rc=0
  "$python" -B "$1/torch_replay.py" "$2" --data-dir "$data_dir" >"$3" 2>&1 || rc=$?
  return $rc
}

status=0
for run in mlp gpt; do
  dir=$(run_dir "$run")
  if replay "$root/scripts" "$dir" "$work/base.out"; then
    echo "unmutated replay passes: $run"
  else
    echo "UNMUTATED REPLAY FAILS: $run" >&2
    cat "$work/base.out" >&2
    status=1
  fi
done

# mutate FILE COUNT OLD NEW: replaces the literal OLD by NEW in the scratch
# copy of FILE, which must hold OLD exactly COUNT times.
mutate() {
  "$python" - "$src/$1" "$2" "$3" "$4" <<'EOF' || exit 2
import sys
path, count, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(path).read()
found = text.count(old)
if found != count:
    sys.exit(f"torch_replay_mutations: {path}: {old!r} found {found} times, expected {count}: update the mutation")
open(path, "w").write(text.replace(old, new))
EOF
}

# summarize OUTPUT: the replay's first failing line and, when more checks
# fail, how many and the largest diff/tol among them.
summarize() {
  grep -E 'FAIL|PROBLEM' "$1" | grep -v '^torch_replay: FAIL' | awk '
    { sub(/^ +/, ""); gsub(/  +/, " ") }
    NR == 1 { first = $0 }
    match($0, /[0-9.e+-]+ (at step [0-9]+ )?\(tol [0-9.e+-]+/) {
      n = split(substr($0, RSTART, RLENGTH), f, " ")
      r = f[1] / f[n]
      if (r > worst) { worst = r; wd = f[1]; wt = f[n] }
    }
    END {
      printf "%s", first
      if (NR > 1) printf " [%d failing checks; worst %s against tol %s]", NR, wd, wt
    }'
}

# check NAME RUNS: replays RUNS (mlp, gpt) with the mutated copy in $src and
# prints the verdict.
check() {
  name=$1
  shift
  caught=0 bad=0 detail=""
  for run in "$@"; do
    dir=$(run_dir "$run")
    rc=0
    replay "$src" "$dir" "$work/mut.out" || rc=$?
    if [ $rc -eq 1 ]; then
      caught=1
      detail="$detail${detail:+; }$run: $(summarize "$work/mut.out")"
    elif [ $rc -eq 0 ]; then
      detail="$detail${detail:+; }$run: passed"
    else
      bad=1
      detail="$detail${detail:+; }$run: replay error (exit $rc): $(tail -n1 "$work/mut.out")"
    fi
  done
  if [ $bad -eq 0 ] && [ $caught -eq 1 ]; then
    echo "caught: $name ($detail)"
  else
    echo "MISSED: $name ($detail)"
    status=1
  fi
}

n=0
# new_copy: a fresh scratch copy of the two PyTorch-side files in $src.
new_copy() {
  n=$((n + 1))
  src=$work/m$n
  mkdir "$src"
  cp "$root/scripts/torch_replay.py" "$root/scripts/fpsim_torch_common.py" "$src/"
}

common=fpsim_torch_common.py

new_copy
mutate $common 3 'nn.LayerNorm(width, eps=1e-5)' 'nn.LayerNorm(width, eps=1e-6)'
check "LayerNorm eps 1e-6 (3 LayerNorms)" gpt

new_copy
mutate $common 1 '(1.0 / math.sqrt(hs))' '(1.0 / math.sqrt(C))'
check "attention scale 1/sqrt(C) instead of 1/sqrt(head_size)" gpt

new_copy
mutate $common 1 'approximate="tanh"' 'approximate="none"'
check "exact GELU instead of tanh" gpt

new_copy
mutate $common 1 '(decay if p.dim() >= 2 else no_decay).append(p)' 'decay.append(p)'
check "weight decay on every tensor" mlp gpt

new_copy
mutate $common 1 'eps=float(cfg["eps"]),' 'eps=1e-6,'
check "AdamW eps 1e-6 (run: 1e-8)" mlp gpt

# The MLP runs with beta2 0.999, the GPT with 0.99: each gets the other's.
new_copy
mutate $common 1 'float(cfg["beta2"])' '{0.999: 0.99}.get(float(cfg["beta2"]), 0.999)'
check "another beta2 (0.999 <-> 0.99)" mlp gpt

new_copy
mutate torch_replay.py 1 'if clip > 0:' 'if False:'
check "no gradient clipping" mlp gpt

new_copy
mutate torch_replay.py 1 'g["lr"] = lr' 'g["lr"] = common.learning_rate(cfg, s + 1)'
check "lr schedule shifted by one step (optimizer only)" mlp gpt

exit $status
