#!/usr/bin/python3
"""Tensor-core models against real GPU outputs and against the exact dot product.

1. Golden check: every file set of tests/data/gpu-golden (tests/data/gpu-golden/README.md)
   through `fpsim mma --expect`; writes runs/mma/golden.csv. Every row must
   match 5000/5000 except FP8 inputs with FP16 output (docs/mma.md, "Open questions" Q2, an open
   question: docs/mma.md records 3120 and 3356 of 5000), which are reported
   but never fail the script.
2. Error against the exact dot product: `fpsim mma-error --json` for
   K = 32 .. 16384, four models (H100 E4M3 with fast accumulation and with
   promotion every 128 elements, H100 BF16, FP32 FMA sequential) and two input
   distributions (N(0,1), U(0,1)); writes runs/mma/error.csv, the JSON
   objects themselves in runs/mma/error.jsonl (one a line), and from those,
   through the figures package (`scripts/plot mma-error`, docs/figures.md),
   runs/mma/figures/mma_error_vs_k.{pdf,png,csv} and figures.json: median
   and maximum per distribution.

Both tables also go to runs/mma/report.md and stdout. Exit status 1 when a
golden row other than the open ones fails, or fpsim fails.

Usage: scripts/mma_report.py [--fpsim build/cli/fpsim] [--out runs/mma] [--trials 500]
Runs under /usr/bin/python3 (Debian's numpy and matplotlib).
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fpsim_plot.__main__ import main as plot_main  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (GPU, input folder, K, outputs): tests/data/gpu-golden/README.md
GOLDEN = [
    ("V100", "fp16", 4, ["fp32", "fp16"]),
    ("A100", "fp16", 8, ["fp32", "fp16"]),
    ("A100", "bf16", 8, ["fp32"]),
    ("A100", "tf32", 4, ["fp32"]),
    ("H100", "fp16", 16, ["fp32", "fp16"]),
    ("H100", "bf16", 16, ["fp32"]),
    ("H100", "tf32", 4, ["fp32"]),
    ("H100", "E4M3", 32, ["fp32", "fp16"]),
    ("H100", "E5M2", 32, ["fp32", "fp16"]),
]
FP8 = ("E4M3", "E5M2")
# FP8 inputs, FP16 output: no public model explains the data (docs/mma.md, "Open questions" Q2);
# matches recorded in docs/mma.md, "Real GPU outputs".
OPEN_RECORDED = {"h100-e4m3-fp16": 3120, "h100-e5m2-fp16": 3356}

# (label, model, extra options)
ERROR_MODELS = [
    ("H100 E4M3, fast accumulation", "h100-e4m3-fp32", ["--promote", "0"]),
    ("H100 E4M3, promotion every 128", "h100-e4m3-fp32", ["--promote", "128"]),
    ("H100 BF16", "h100-bf16-fp32", []),
    ("FP32 FMA, sequential", "fp32-fma-sequential", []),
]
DISTS = ["normal", "uniform01"]
KS = [32, 128, 512, 2048, 4096, 16384]
SUMMARY_LINE = re.compile(r"^(\d+) passed, (\d+) failed$")


def write_csv(path, rows):
    with open(path + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    os.replace(path + ".tmp", path)


def golden_check(fpsim, golden_dir):
    """One row per GPU / input / output; raises SystemExit when fpsim itself fails."""
    rows = []
    for gpu, fmt, k, outputs in GOLDEN:
        folder = os.path.join(golden_dir, gpu, fmt)
        for out in outputs:
            preset = f"{gpu}-{fmt}-{out}".lower()
            cmd = [fpsim, "mma", "--model", preset, "--k", str(k),
                   "--a", os.path.join(folder, f"a_{gpu}_{fmt}.txt.gz"),
                   "--b", os.path.join(folder, f"b_{gpu}_{fmt}.txt.gz")]
            # H100 FP8 with FP32 output ran as D = A*B with C = 0; every other
            # file set, FP8 -> FP16 included, used the c file (tests/data/gpu-golden/README.md).
            if not (fmt in FP8 and out == "fp32"):
                cmd += ["--c", os.path.join(folder, f"c_{gpu}_fp32.txt.gz")]
            cmd += ["--expect", os.path.join(folder, f"d_{gpu}_{out}.txt.gz"), "--max-report", "0"]
            run = subprocess.run(cmd, capture_output=True, text=True)
            last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
            m = SUMMARY_LINE.match(last)
            if run.returncode not in (0, 1) or not m:
                sys.exit(f"fpsim mma failed (exit {run.returncode}, {' '.join(cmd)}): "
                         f"{run.stderr.strip() or last}")
            rows.append({"gpu": gpu, "input": fmt, "output": out, "preset": preset, "k": k,
                         "passed": int(m.group(1)), "failed": int(m.group(2)),
                         "expected_open": preset in OPEN_RECORDED})
    return rows


def flatten(obj, prefix=""):
    flat = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def error_sweep(fpsim, trials, ks):
    """(flattened rows for error.csv, fpsim's JSON lines as printed)."""
    rows, lines = [], []
    for label, model, opts in ERROR_MODELS:
        for dist in DISTS:
            for k in ks:
                cmd = [fpsim, "mma-error", "--model", model, *opts, "--k", str(k), "--dist", dist,
                       "--trials", str(trials), "--json"]
                start = time.monotonic()
                run = subprocess.run(cmd, capture_output=True, text=True)
                if run.returncode != 0:
                    sys.exit(f"fpsim mma-error failed ({' '.join(cmd)}): {run.stderr.strip()}")
                row = {"label": label, **flatten(json.loads(run.stdout)),
                       "seconds": round(time.monotonic() - start, 3)}
                rows.append(row)
                lines.append(run.stdout.strip())
    return rows, lines


def golden_table(rows):
    lines = ["| GPU | input | output | preset | K | passed | failed | status |",
             "|---|---|---|---|---:|---:|---:|---|"]
    for r in rows:
        if r["expected_open"]:
            status = f"open (docs/mma.md, Open questions Q2; docs/mma.md records {OPEN_RECORDED[r['preset']]})"
        else:
            status = "ok" if r["failed"] == 0 else "FAIL"
        lines.append(f"| {r['gpu']} | {r['input']} | {r['output']} | {r['preset']} | {r['k']} "
                     f"| {r['passed']} | {r['failed']} | {status} |")
    return lines


def error_table(rows, dist):
    lines = [f"Inputs {dist}: relative error |d - exact| / |exact|, and |d - exact| / sum |a_k b_k|",
             "",
             "| model | K | rel. median | rel. p99 | rel. max | vs sum abs median | vs sum abs max | exact |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["dist"] != dist:
            continue
        lines.append(f"| {r['label']} | {r['k']} | {r['relative_error_median']:.2e} "
                     f"| {r['relative_error_p99']:.2e} | {r['relative_error_max']:.2e} "
                     f"| {r['error_vs_abs_sum_median']:.2e} | {r['error_vs_abs_sum_max']:.2e} "
                     f"| {r['exact_results']} |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fpsim", default="build/cli/fpsim")
    ap.add_argument("--out", default="runs/mma")
    ap.add_argument("--golden", default=os.path.join(ROOT, "tests", "data", "gpu-golden"),
                    help="folder of the real GPU outputs (tests/data/gpu-golden/README.md)")
    ap.add_argument("--trials", type=int, default=500, help="dot products per error point")
    ap.add_argument("--k", type=int, nargs="+", default=KS, help="dot-product lengths")
    args = ap.parse_args()
    if not os.access(args.fpsim, os.X_OK):
        sys.exit(f"no fpsim executable at {args.fpsim} (build it, or pass --fpsim)")
    os.makedirs(os.path.join(args.out, "figures"), exist_ok=True)

    golden = golden_check(args.fpsim, args.golden)
    write_csv(os.path.join(args.out, "golden.csv"), golden)

    start = time.monotonic()
    errors, json_lines = error_sweep(args.fpsim, args.trials, args.k)
    seconds = time.monotonic() - start
    write_csv(os.path.join(args.out, "error.csv"), errors)
    jsonl = os.path.join(args.out, "error.jsonl")
    with open(jsonl + ".tmp", "w") as f:
        f.write("\n".join(json_lines) + "\n")
    os.replace(jsonl + ".tmp", jsonl)
    # The figure: scripts/plot mma-error (fpsim_plot/mma_error.py) writes
    # figures/ beside error.jsonl.
    if plot_main(["mma-error", jsonl, "--stat", "median,max"]) != 0:
        sys.exit("scripts/plot mma-error failed")

    failed = [r["preset"] for r in golden if r["failed"] and not r["expected_open"]]
    lines = ["# MMA models: real GPU outputs and error against the exact dot product", "",
             "## Real GPU outputs (tests/data/gpu-golden, `fpsim mma --expect`)", "",
             *golden_table(golden), "",
             "## Error against the exact dot product (`fpsim mma-error`, seed 0, c = 0)", "",
             f"{args.trials} dot products per row; sweep took {seconds:.1f} s.", "",
             *error_table(errors, "normal"), "", *error_table(errors, "uniform01"), "",
             "Figure: figures/mma_error_vs_k.png (.pdf; its points in .csv), median and maximum "
             "per distribution; a statistic equal to 0 (for a median: "
             "more than half the results exact) cannot sit on the log axis and is left out. "
             "For K <= 128 promotion every 128 elements changes nothing, so the two E4M3 curves "
             "coincide there. "
             "DeepSeek-V3 §3.3.2 reports ~2% maximum relative error for FP8 without promotion at "
             "K = 4096 on H800 (distribution not published); compare with the U(0,1) table."]
    if failed:
        lines += ["", f"FAILED golden rows: {', '.join(failed)}"]
    md_path = os.path.join(args.out, "report.md")
    with open(md_path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(md_path + ".tmp", md_path)
    print("\n".join(lines[2:]))
    print(f"wrote {args.out}/golden.csv, {args.out}/error.csv, {md_path}, "
          f"{args.out}/figures/mma_error_vs_k.png")
    if failed:
        sys.exit(f"golden rows failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
