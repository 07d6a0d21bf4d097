#!/usr/bin/env bash
# The main job. Until the training runner exists: build, print the format
# table, and run a short verification of the conversions against the
# TestFloat vectors and the spec's boundary facts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2 --target fpsim
fpsim=build/cli/fpsim
"$fpsim" formats
echo
echo "== TestFloat conversion vectors =="
status=0
for f in tests/data/testfloat/f32_to_bf16.rnear_even tests/data/testfloat/f32_to_f16.rminMag \
         tests/data/testfloat/f64_to_f32.rodd tests/data/testfloat/f16_to_f32; do
  name=$(basename "$f")
  fn=${name%%.*}
  mode=${name#"$fn"}
  printf '%-28s ' "$name"
  gzip -dc "$f.txt.gz" | "$fpsim" testfloat "$fn" ${mode:+-r${mode#.r}} | tail -n 1 || status=1
done
echo
echo "== OCP FP8 boundary facts (spec/formats.md §4) =="
echo "e4m3 rne: 448 464 465; saturate 465; e5m2 rne: 61439 61440"
"$fpsim" convert --to e4m3 --out both --flags 448 464 465
"$fpsim" convert --to e4m3 --overflow saturate --out both --flags 465
"$fpsim" convert --to e5m2 --out both --flags 61439 61440
exit $status
