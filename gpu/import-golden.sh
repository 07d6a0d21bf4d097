#!/usr/bin/env bash
# Installs the golden data of a device run (gpu/run-device-checks.sh) into
# tests/data/gpu-golden/<TAG>/ the way the published data are kept: one
# folder per instruction, input and output format and set, every file
# gzip-compressed (docs/gpu.md, "Golden data"). The README beside them
# (instruction, shapes, distributions, driver and toolkit) is written by
# hand from the run's summary.txt, which is copied as run-summary.txt.
#
#   gpu/import-golden.sh RUN_DIR [TAG (default H200)]
set -euo pipefail
cd "$(dirname "$0")/.."
run="${1:?usage: gpu/import-golden.sh RUN_DIR [TAG]}"
tag="${2:-H200}"
dest="tests/data/gpu-golden/$tag"
shopt -s nullglob
archives=("$run"/golden-*.tar.gz)
[ ${#archives[@]} -gt 0 ] || { echo "import-golden.sh: no golden-*.tar.gz in $run" >&2; exit 2; }
[ -e "$dest" ] && { echo "import-golden.sh: $dest exists; remove it first to replace it" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for a in "${archives[@]}"; do tar -C "$tmp" -xzf "$a"; done
mkdir -p "$dest"
(cd "$tmp" && find . -name '*.txt' ! -name summary.txt -print0) | while IFS= read -r -d '' f; do
  mkdir -p "$dest/$(dirname "$f")"
  gzip -9 -n -c "$tmp/$f" >"$dest/$f.gz"
done
cp "$tmp/summary.txt" "$dest/run-summary.txt"
du -sh "$dest"
find "$dest" -name 'd_*' | sort
