#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test except
# the long exhaustive runs (label `long`; see docs/verification.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2
ctest --preset default --label-exclude long "$@"
