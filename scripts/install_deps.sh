#!/usr/bin/env bash
# Installs fpsim's Debian packages, and any extra packages named as
# arguments (scripts/fuzz.sh: clang and its libFuzzer runtime), when any is
# missing (idempotent).
set -euo pipefail
packages=("$@"
  cmake ninja-build g++ pkg-config zlib1g-dev
  libmpfr-dev libgmp-dev libboost-dev
  librapidcheck-dev libgtest-dev libbenchmark-dev
  libhwy-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  python3-matplotlib python3-numpy
  python3-dev python3-pybind11 pybind11-dev python3-pytest
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi
