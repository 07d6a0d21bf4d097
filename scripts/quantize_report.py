#!/usr/bin/python3
"""Quantization error of every scheme on one activation-like tensor.

Writes runs/quantize/{input.txt, report.csv, report.md} and, through the
figures package (`scripts/plot quantize`, docs/figures.md),
runs/quantize/figures/quantize_sqnr.{pdf,png,csv} and figures.json: SQNR
(dB), underflow % and saturation % per scheme, all from `fpsim quantize
--stats-only` (JSON).

The tensor (fixed seed): 256 x 1024, rows = tokens, columns = channels;
N(0, 1) values times a per-channel log-normal scale, plus 8 outlier channels
100x larger (the activation outliers of LLM.int8(), arXiv 2208.07339), so
per-tensor, per-block and two-level scaling differ visibly.

Usage: scripts/quantize_report.py [--fpsim build/cli/fpsim] [--out runs/quantize]
Runs under /usr/bin/python3 (Debian's numpy and matplotlib).
"""
import argparse
import csv
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fpsim_plot.__main__ import main as plot_main  # noqa: E402

SCHEMES = [
    ("per-tensor-e4m3", []),
    ("per-tensor-e5m2", []),
    ("block-1x128-e4m3", []),
    ("block-128x128-e4m3", []),
    ("mxfp8-e4m3", []),
    ("mxfp8-e4m3", ["--e8m0-rule", "ceil"]),  # TE's MXFP8 rule
    ("mxfp8-e5m2", []),
    ("mxfp6-e2m3", []),
    ("mxfp6-e3m2", []),
    ("mxint8", []),
    ("mxfp4", []),
    ("nvfp4", []),
    ("nvfp4", ["--hadamard", "--hadamard-seed", "1"]),
    ("nvfp4-2d", []),
]


def make_tensor(rows=256, cols=1024, seed=20261129):
    rng = np.random.default_rng(seed)
    channel_scale = np.exp(rng.normal(0.0, 1.0, cols)).astype(np.float32)
    outliers = rng.choice(cols, 8, replace=False)
    channel_scale[outliers] *= 100.0
    x = rng.normal(0.0, 1.0, (rows, cols)).astype(np.float32) * channel_scale
    return x.astype(np.float32)


def label(name, opts):
    if "--e8m0-rule" in opts:
        return f"{name} ({opts[opts.index('--e8m0-rule') + 1]})"
    if "--hadamard" in opts:
        return f"{name} + RHT"
    return name


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fpsim", default="build/cli/fpsim")
    ap.add_argument("--out", default="runs/quantize")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "figures"), exist_ok=True)
    x = make_tensor()
    rows, cols = x.shape
    path = os.path.join(args.out, "input.txt")
    tmp = path + ".tmp"
    np.savetxt(tmp, x, fmt="%.9g")
    os.replace(tmp, path)

    results = []
    for name, opts in SCHEMES:
        cmd = [args.fpsim, "quantize", "--scheme", name, *opts, "--in", path, "--stats-only",
               "--json"]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"fpsim quantize failed ({' '.join(cmd)}): {run.stderr.strip()}")
        stats = json.loads(run.stdout)["stats"]
        n = float(stats["elements"])
        results.append({
            "scheme": label(name, opts),
            "sqnr_db": float(stats["sqnr_db"]),
            "mse": float(stats["mse"]),
            "underflow_pct": 100.0 * float(stats["underflows"]) / n,
            "saturated_pct": 100.0 * float(stats["saturated"]) / n,
            "amax": float(stats["amax"]),
        })

    csv_path = os.path.join(args.out, "report.csv")
    with open(csv_path + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(results[0].keys()))
        w.writeheader()
        w.writerows(results)
    os.replace(csv_path + ".tmp", csv_path)

    lines = [f"Quantization of a {rows}x{cols} activation-like tensor (8 outlier channels x100)", "",
             "| scheme | SQNR dB | underflow % | saturated % |", "|---|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['scheme']} | {r['sqnr_db']:.2f} | {r['underflow_pct']:.3f} | {r['saturated_pct']:.4f} |")
    md_path = os.path.join(args.out, "report.md")
    with open(md_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    # The figure: scripts/plot quantize REPORT (fpsim_plot/quantize.py) writes
    # figures/ beside report.csv.
    if plot_main(["quantize", csv_path]) != 0:
        sys.exit("scripts/plot quantize failed")
    print(f"wrote {csv_path}, {md_path}, {args.out}/figures/quantize_sqnr.png")


if __name__ == "__main__":
    main()
