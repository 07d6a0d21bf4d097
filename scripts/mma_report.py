#!/usr/bin/python3
"""Tensor-core models against real GPU outputs and against the exact dot product.

1. Golden check: every file set of tests/data/gpu-golden (spec/mma.md §7)
   through `fpsim mma --expect`; writes runs/mma/golden.csv. Every row must
   match 5000/5000 except FP8 inputs with FP16 output (spec §6 Q2, an open
   question: docs/mma.md records 3120 and 3356 of 5000), which are reported
   but never fail the script.
2. Error against the exact dot product: `fpsim mma-error --json` for
   K = 32 .. 16384, four models (H100 E4M3 with fast accumulation and with
   promotion every 128 elements, H100 BF16, FP32 FMA sequential) and two input
   distributions (N(0,1), U(0,1)); writes runs/mma/error.csv and
   runs/mma/figures/mma_error_vs_k.{png,pdf}.

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

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (GPU, input folder, K, outputs): spec/mma.md §7.
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
# FP8 inputs, FP16 output: no public model explains the data (spec §6 Q2);
# matches recorded in docs/mma.md, "Real GPU outputs".
OPEN_RECORDED = {"h100-e4m3-fp16": 3120, "h100-e5m2-fp16": 3356}

# (label, model, extra options, colour, marker)
ERROR_MODELS = [
    ("H100 E4M3, fast accumulation", "h100-e4m3-fp32", ["--promote", "0"], "#c0392b", "o"),
    ("H100 E4M3, promotion every 128", "h100-e4m3-fp32", ["--promote", "128"], "#e08e0b", "s"),
    ("H100 BF16", "h100-bf16-fp32", [], "#2471a3", "^"),
    ("FP32 FMA, sequential", "fp32-fma-sequential", [], "#555555", "D"),
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
            # file set, FP8 -> FP16 included, used the c file (spec §7).
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
    rows = []
    for label, model, opts, _, _ in ERROR_MODELS:
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
    return rows


def golden_table(rows):
    lines = ["| GPU | input | output | preset | K | passed | failed | status |",
             "|---|---|---|---|---:|---:|---:|---|"]
    for r in rows:
        if r["expected_open"]:
            status = f"open (spec §6 Q2; docs/mma.md records {OPEN_RECORDED[r['preset']]})"
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


def series(rows, label, dist, field):
    """(K, value) pairs; exact (zero) values cannot sit on a log axis and are left out."""
    pts = [(r["k"], r[field]) for r in rows if r["label"] == label and r["dist"] == dist]
    return [k for k, v in pts if v > 0], [v for k, v in pts if v > 0]


def plot(rows, trials, ks, out_dir):
    plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "legend.fontsize": 10})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2))
    handles = []
    for label, _, _, colour, marker in ERROR_MODELS:
        ks_, med = series(rows, label, "normal", "relative_error_median")
        left.plot(ks_, med, color=colour, marker=marker, linestyle="-")
        ks_, p99 = series(rows, label, "normal", "relative_error_p99")
        left.plot(ks_, p99, color=colour, marker=marker, linestyle="--", markerfacecolor="none")
        ks_, mx = series(rows, label, "uniform01", "relative_error_max")
        handles += right.plot(ks_, mx, color=colour, marker=marker, linestyle="-", label=label)
    styles = [plt.Line2D([], [], color="black", linestyle="-", marker="o", label="median"),
              plt.Line2D([], [], color="black", linestyle="--", marker="o", markerfacecolor="none",
                         label="99th percentile")]
    left.legend(handles=styles, loc="upper left", framealpha=0.9)
    if 4096 in ks:
        right.plot([4096], [0.02], marker="*", markersize=15, color="black", linestyle="none")
        right.annotate("DeepSeek-V3 §3.3.2: ~2%\n(H800 FP8, K = 4096,\nno promotion)", (4096, 0.02),
                       xytext=(0.05, 0.95), textcoords="axes fraction", va="top",
                       arrowprops={"arrowstyle": "->", "color": "black", "lw": 0.8})
    left.set_title("a, b ~ N(0,1): median and 99th percentile")
    right.set_title("a, b ~ U(0,1), no cancellation: maximum")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("dot-product length K")
        ax.set_ylabel("relative error |d - exact| / |exact|")
        ax.grid(True, which="major", alpha=0.3)
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    fig.suptitle(f"MMA models against the exact dot product (fpsim mma-error, {trials} dot products "
                 f"per point, c = 0; zero errors not drawn)", fontsize=12)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    for ext in ("png", "pdf"):
        fig.savefig(os.path.join(out_dir, "figures", f"mma_error_vs_k.{ext}"), dpi=150)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fpsim", default="build/cli/fpsim")
    ap.add_argument("--out", default="runs/mma")
    ap.add_argument("--golden", default=os.path.join(ROOT, "tests", "data", "gpu-golden"),
                    help="folder of the real GPU outputs (spec/mma.md §7)")
    ap.add_argument("--trials", type=int, default=500, help="dot products per error point")
    ap.add_argument("--k", type=int, nargs="+", default=KS, help="dot-product lengths")
    args = ap.parse_args()
    if not os.access(args.fpsim, os.X_OK):
        sys.exit(f"no fpsim executable at {args.fpsim} (build it, or pass --fpsim)")
    os.makedirs(os.path.join(args.out, "figures"), exist_ok=True)

    golden = golden_check(args.fpsim, args.golden)
    write_csv(os.path.join(args.out, "golden.csv"), golden)

    start = time.monotonic()
    errors = error_sweep(args.fpsim, args.trials, args.k)
    seconds = time.monotonic() - start
    write_csv(os.path.join(args.out, "error.csv"), errors)
    plot(errors, args.trials, args.k, args.out)

    failed = [r["preset"] for r in golden if r["failed"] and not r["expected_open"]]
    lines = ["# MMA models: real GPU outputs and error against the exact dot product", "",
             "## Real GPU outputs (tests/data/gpu-golden, `fpsim mma --expect`)", "",
             *golden_table(golden), "",
             "## Error against the exact dot product (`fpsim mma-error`, seed 0, c = 0)", "",
             f"{args.trials} dot products per row; sweep took {seconds:.1f} s.", "",
             *error_table(errors, "normal"), "", *error_table(errors, "uniform01"), "",
             "Figure: figures/mma_error_vs_k.png (.pdf); a statistic equal to 0 (for a median: "
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
