#!/usr/bin/env bash
# The main job: build, print the format table, run a short verification of
# the conversions and the arithmetic against the TestFloat vectors, the
# spec's boundary facts and the MPFR reference, quantize one tensor with
# every scheme (report and figure in runs/quantize/), check the tensor-core
# models against the real GPU outputs and the exact dot product (report and
# figure in runs/mma/), and run the default sweep (the MLP on the UCI digits
# under every built-in recipe, 3 seeds, plus the FP32 noise floor) and its
# divergence report and figures (runs/sweep-default/, docs/figures.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/fetch_data.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2 --target fpsim fpsim_python  # the CLI and `import fpsim` (docs/python.md)
fpsim=build/cli/fpsim
"$fpsim" formats
echo
echo "== TestFloat conversion and operation vectors =="
status=0
for f in tests/data/testfloat/f32_to_bf16.rnear_even tests/data/testfloat/f32_to_f16.rminMag \
         tests/data/testfloat/f64_to_f32.rodd tests/data/testfloat/f16_to_f32; do
  name=$(basename "$f")
  fn=${name%%.*}
  mode=${name#"$fn"}
  printf '%-28s ' "$name"
  gzip -dc "$f.txt.gz" | "$fpsim" testfloat "$fn" ${mode:+-r${mode#.r}} | tail -n 1 || status=1
done
for f in tests/data/testfloat/f16_mulAdd.rnear_even tests/data/testfloat/f32_div.rodd \
         tests/data/testfloat/f32_sqrt.rmin; do
  name=$(basename "$f")
  fn=${name%%.*}
  mode=${name#"$fn".}
  printf '%-28s ' "$name"
  gzip -dc "$f.txt.gz" | "$fpsim" testfloat "$fn" "-$mode" | tail -n 1 || status=1
done
echo
echo "== every e4m3 pair, every mode, against MPFR (add, div; sqrt of every code) =="
for op in add div sqrt; do
  "$fpsim" verify --op "$op" --format e4m3 --exhaustive --rounding all 2>/dev/null | tail -n 1 || status=1
done
echo
echo "== OCP FP8 boundary facts (docs/formats.md §4) =="
echo "e4m3 rne: 448 464 465; saturate 465; e5m2 rne: 61439 61440"
"$fpsim" convert --to e4m3 --print both --flags 448 464 465
"$fpsim" convert --to e4m3 --overflow saturate --print both --flags 465
"$fpsim" convert --to e5m2 --print both --flags 61439 61440
echo
echo "== scaled quantization: every scheme on one activation-like tensor (docs/quantization.md) =="
/usr/bin/python3 scripts/quantize_report.py --fpsim "$fpsim" --out runs/quantize || status=1
echo
echo "== tensor-core models: real GPU outputs and error against the exact dot product (docs/mma.md) =="
/usr/bin/python3 scripts/mma_report.py --fpsim "$fpsim" --out runs/mma || status=1
echo
echo "== the default sweep: the MLP on the UCI digits under every built-in recipe, 3 seeds, and the FP32 noise"
echo "   floor (docs/training.md, \"Sweeps\"); rerunning resumes; report in runs/sweep-default/report.md =="
"$fpsim" sweep --out runs/sweep-default || status=1
"$fpsim" report runs/sweep-default || status=1
# The figures (runs/sweep-default/figures/), then the report again so that report.md links them.
scripts/plot sweep runs/sweep-default || status=1
"$fpsim" report runs/sweep-default || status=1
cat runs/sweep-default/report.md 2>/dev/null || true
exit $status
