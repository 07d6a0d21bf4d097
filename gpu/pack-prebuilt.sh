#!/usr/bin/env bash
# Packs a CUDA-enabled build for a GPU machine that lacks the build's Debian
# packages (docs/gpu.md, "The device run"): DIR/bin gets fpsim and the example
# user kernel, DIR/lib the shared libraries they load beyond the C and C++
# runtimes (MPFR, GMP, Highway, toml++, zlib). Then
#   gpu/run-device-checks.sh --prebuilt DIR
# runs there without building.
#
#   gpu/pack-prebuilt.sh [BUILD_DIR (default build)] [DIR (default .gpu-prebuilt)]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
dir="${2:-.gpu-prebuilt}"
for f in "$build/cli/fpsim" "$build/gpu/fpsim_user_gemm_example"; do
  [ -x "$f" ] || { echo "pack-prebuilt.sh: $f is missing: build a CUDA-enabled tree first (ninja -C $build fpsim fpsim_user_gemm_example)" >&2; exit 2; }
done
"$build/cli/fpsim" gpu info 2>/dev/null | grep -q "built without CUDA" && {
  echo "pack-prebuilt.sh: $build/cli/fpsim was built without CUDA" >&2; exit 2; }
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/lib"
cp "$build/cli/fpsim" "$build/gpu/fpsim_user_gemm_example" "$dir/bin/"
ldd "$build/cli/fpsim" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*) ;;
    *) cp -L "$lib" "$dir/lib/" ;;
  esac
done
du -sh "$dir"
