"""quantize REPORT: SQNR, underflow and saturation shares of every quantization scheme.

Reads the report.csv that scripts/quantize_report.py writes (one row per
scheme: scheme, sqnr_db, mse, underflow_pct, saturated_pct, amax; each from
`fpsim quantize --stats-only --json`, docs/cli.md "fpsim quantize" and
docs/quantization.md) and draws quantize_sqnr: three panels sharing the
schemes' axis, SQNR in dB (higher is better), the % of elements that
underflowed to zero and the % that saturated, the value written beside
each bar. Rows in the report's order.
"""
import csv
import math
import os

from fpsim_plot import style
from fpsim_plot.errors import BadInput

NAME = "quantize_sqnr"
REQUIRED = ("scheme", "sqnr_db", "underflow_pct", "saturated_pct")
PANELS = [("sqnr_db", "SQNR (dB), higher is better", "{:.2f}"),
          ("underflow_pct", "underflow to 0 (% of elements)", "{:.3g}"),
          ("saturated_pct", "saturated (% of elements)", "{:.3g}")]


def add_arguments(p):
    p.add_argument("report", metavar="REPORT", help="report.csv of scripts/quantize_report.py")
    p.add_argument("--out", metavar="DIR", help="output folder (default: figures/ beside REPORT)")


def read_report(path):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            header = rows and list(rows[0].keys())
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise BadInput(f"cannot read {path}: {e}") from None
    if not rows:
        raise BadInput(f"{path}: no rows; not a quantize_report.py report.csv")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadInput(f"{path}: no column {', '.join(missing)}; not a quantize_report.py report.csv")
    out = []
    for i, r in enumerate(rows, 2):
        try:
            vals = {c: float(r[c]) for c in REQUIRED[1:]}
        except (TypeError, ValueError):
            raise BadInput(f"{path} line {i}: a value of {', '.join(REQUIRED[1:])} is not a number") from None
        if not all(math.isfinite(v) for v in vals.values()) or not r["scheme"]:
            raise BadInput(f"{path} line {i}: empty scheme or a value that is not finite")
        out.append({"scheme": r["scheme"], **vals})
    return out


def run(args):
    rows = read_report(args.report)
    out_dir = args.out or os.path.join(os.path.dirname(os.path.abspath(args.report)), "figures")
    record = draw(rows, out_dir, args.report)
    style.write_index(out_dir, [record])
    print(f"wrote {os.path.join(out_dir, NAME)}.pdf, .png, .csv and {style.INDEX}")
    return 0


def draw(rows, out_dir, source):
    n = len(rows)
    fig, axes = style.new_figure(style.DOUBLE, aspect=(0.16 * n + 0.75) / style.DOUBLE, nrows=1, ncols=3,
                                 sharey=True, gridspec_kw={"width_ratios": [1.4, 1, 1]})
    colour = style.series_style(3)["color"]
    for ax, (col, label, fmt) in zip(axes, PANELS):
        vals = [r[col] for r in rows]
        ax.barh(range(n), vals, height=0.65, color=colour, edgecolor="none")
        top = max(vals + [0.0])
        ax.set_xlim(0, top * 1.3 if top > 0 else 1.0)
        for i, v in enumerate(vals):
            ax.text(v + (top * 0.02 if top > 0 else 0.02), i, fmt.format(v), va="center", fontsize=5.5)
        ax.set_xlabel(label)
        ax.grid(axis="y", visible=False)
        ax.set_axisbelow(True)
    axes[0].set_yticks(range(n), [r["scheme"] for r in rows])
    axes[0].invert_yaxis()
    for ax in axes[1:]:
        ax.tick_params(axis="y", left=False)
    fig.tight_layout(w_pad=0.8)
    caption = ("Quantization error of each scheme on one tensor (fpsim quantize --stats-only): SQNR in dB, "
               "the share of elements that underflowed to 0 and of those that saturated, in %.")
    table = [[r["scheme"], r["sqnr_db"], r["underflow_pct"], r["saturated_pct"]] for r in rows]
    return style.save(fig, out_dir, NAME, caption, [source], list(REQUIRED), table)
