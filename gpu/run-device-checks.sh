#!/usr/bin/env bash
# gpu/'s checks on a real H100/H200, in one command (docs/gpu.md, "The device
# run"): the operand-layout self-tests, golden data through mma.sync and
# wgmma, the probe suite on every configuration, the exhaustive conversions,
# cuBLASLt FP8 GEMM and the example user kernel. Writes at most 8 files, each
# under 16 MB, into OUT and takes about 3-5 minutes on an H200.
#
#   gpu/run-device-checks.sh [--out DIR] [--prebuilt DIR] [--quick]
#
# --prebuilt DIR: DIR/bin holds fpsim and fpsim_user_gemm_example and DIR/lib
#   the shared libraries they need that the device machine lacks (made by
#   gpu/pack-prebuilt.sh on a machine with the build's Debian packages).
#   Without it the script builds for sm_90a with CMake into build-gpu/ (the
#   README's packages and the CUDA toolkit must be there).
# --quick: few rows and random vectors, a sample of the conversion inputs
#   (a dry run of the whole script, e.g. on a CPU-only machine, where every
#   device step reports that no device is usable).
set -uo pipefail
cd "$(dirname "$0")/.."

out="${OUT:-runs/device-checks}"
prebuilt=""
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --prebuilt) prebuilt="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run-device-checks.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out" || exit 1
log="$out/log.txt"
: >"$log"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

say() { echo "$*" | tee -a "$log"; }
# step NAME SECONDS COMMAND...: runs with a time limit, its output into the
# log, and never stops the script.
step() {
  local name="$1" limit="$2"; shift 2
  say "=== $name: $*"
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" >>"$log" 2>&1
  local rc=$?
  say "=== $name: exit $rc after $((SECONDS - t0)) s"
  return 0
}

if [ -n "$prebuilt" ]; then
  bin="$(cd "$prebuilt/bin" && pwd)"
  export LD_LIBRARY_PATH="$(cd "$prebuilt/lib" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DFPSIM_BUILD_TESTS=OFF -DFPSIM_BUILD_BENCH=OFF \
    >>"$log" 2>&1 && ninja -C build-gpu fpsim fpsim_user_gemm_example >>"$log" 2>&1 || {
    say "build failed (see above)"; exit 1; }
  mkdir -p "$work/bin"
  cp build-gpu/cli/fpsim build-gpu/gpu/fpsim_user_gemm_example "$work/bin/"
  bin="$work/bin"
fi
# cuBLASLt is opened at run time: the toolkit's folder or a pip wheel's.
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
         $(ls -d /usr/local/lib/python3*/dist-packages/nvidia/cu13/lib /opt/*/.venv/lib/python3*/site-packages/nvidia/cu13/lib \
             /opt/*/.venv/lib/python3*/site-packages/nvidia/cublas/lib 2>/dev/null); do
  [ -e "$d/libcublasLt.so.13" ] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d" && break
done
fpsim="$bin/fpsim"

rows=5000; random=10000; limit_opt=(); blas_opt=()
if [ "$quick" = 1 ]; then rows=200; random=300; limit_opt=(--limit 1048576); blas_opt=(--max-k 1024); fi

say "fpsim device checks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
step environment 30 sh -c "uname -a; nvidia-smi 2>&1 | head -15; (nvcc --version 2>&1 | tail -2); ldd '$fpsim'; \
  echo 'tensor-core instructions in the fpsim binary (SASS):'; \
  cuobjdump --dump-sass '$fpsim' 2>/dev/null | grep -oE '(HGMMA|HMMA|QMMA|IMMA)[.A-Z0-9]*' | sort | uniq -c"
step info 30 "$fpsim" gpu info
step selftest 60 "$fpsim" gpu selftest

# Golden data: one archive per instruction.
step golden 120 "$fpsim" gpu golden --out "$work/golden" --rows "$rows" --tag H200
cp "$work/golden/summary.txt" "$work/golden/summary-copy.txt" 2>/dev/null && cat "$work/golden/summary.txt" >>"$log"
for i in mma.sync wgmma; do
  [ -d "$work/golden/$i" ] && tar -C "$work/golden" -czf "$out/golden-$i.tar.gz" "$i" summary.txt
done

# The probe suite on every configuration: one JSON object per line.
: >"$out/probes.jsonl"
for c in $("$fpsim" gpu info 2>/dev/null | awk '/^  (mma.sync|wgmma)-/ {print $1}'); do
  say "=== probe gpu:$c"
  t0=$SECONDS
  timeout --kill-after=10 60 "$fpsim" probe --target "gpu:$c" --random "$random" --json >>"$out/probes.jsonl" 2>>"$log"
  say "=== probe gpu:$c: exit $? after $((SECONDS - t0)) s"
done

step convert 150 "$fpsim" gpu convert --out "$out/conversions.json" "${limit_opt[@]}"
step cublaslt 120 "$fpsim" gpu cublaslt --out "$out/cublaslt.json" --raw "$out/cublaslt-raw.bin" "${blas_opt[@]}"

# A user's kernel regression-tested against a preset (docs/gpu.md, "Your own kernel").
user="$work/user"
mkdir -p "$user"
step user-kernel 60 "$bin/fpsim_user_gemm_example" --out "$user/default"
step user-kernel-check 60 "$fpsim" mma --model h100-fp16-fp32 --k 256 --a "$user/default/a.txt" \
  --b "$user/default/b.txt" --c "$user/default/c.txt" --expect "$user/default/d.txt" --max-report 3
step user-kernel-split 60 "$bin/fpsim_user_gemm_example" --variant split-k2 --out "$user/split"
step user-kernel-split-check 60 "$fpsim" mma --model h100-fp16-fp32 --k 256 --a "$user/split/a.txt" \
  --b "$user/split/b.txt" --c "$user/split/c.txt" --expect "$user/split/d.txt" --max-report 3

say "done in $SECONDS s; files:"
ls -la "$out" | tee -a "$log"
