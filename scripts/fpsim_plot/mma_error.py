"""mma-error FILE...: an MMA model's error against the exact dot product versus K.

Reads the files a user saved from `fpsim mma-error` (docs/cli.md, "fpsim
mma-error"; docs/mma.md, "Error against the exact dot product"): each file
holds one or more results, either the `--json` objects (one per line,
concatenated, or a JSON array) or the plain text form, one block per run.
The figure, mma_error_vs_k, draws a statistic of |d - exact| / |exact| (or,
with --measure error_vs_abs_sum, of |d - exact| / sum |a_k b_k|) against K
on log-log axes: one panel per input distribution and statistic, one line
per preset; presets share a colour per model, and the line style tells the
promotion interval (solid: none, 0 = fast accumulation; dashed and dotted:
promotion every N elements), as the legend says.

A statistic equal to 0 (for a median: more than half the dot products
exact) cannot sit on a log axis: it is not drawn, not in the CSV, and the
caption says how many points that left out. Two results for the same
preset, promotion, distribution and K are bad input (which one would the
line show?), as is a file that is not fpsim mma-error output.
"""
import json
import os
import re

from fpsim_plot import style
from fpsim_plot.errors import BadInput

NAME = "mma_error_vs_k"
STATS = ("max", "median", "mean", "p99")
STAT_LABEL = {"max": "maximum", "median": "median", "mean": "mean", "p99": "99th percentile"}
MEASURES = ("relative_error", "error_vs_abs_sum")
MEASURE_LABEL = {"relative_error": "|d - exact| / |exact|",
                 "error_vs_abs_sum": "|d - exact| / \u03a3|a\u2096b\u2096|"}
DIST_LABEL = {"normal": "a, b ~ N(0,1)", "uniform": "a, b ~ U(-1,1)", "uniform01": "a, b ~ U(0,1)"}
DIST_ORDER = ("normal", "uniform", "uniform01")
PROMOTION_STYLES = ["--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<"]


def add_arguments(p):
    p.add_argument("files", nargs="+", metavar="FILE", help="saved output of fpsim mma-error (--json or text)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: figures/ beside the first FILE)")
    p.add_argument("--stat", default="median,max",
                   help="statistics to draw, comma-separated, one panel column each: "
                        "max, median, mean, p99 (default median,max)")
    p.add_argument("--measure", default="relative_error", choices=MEASURES,
                   help="relative_error = |d - exact| / |exact| (default), or "
                        "error_vs_abs_sum = |d - exact| / sum |a_k b_k|")


# ---------------------------------------------------------------- reading

REQUIRED = ("model", "k", "promotion_interval", "dist", "trials", "seed", "relative_error",
            "error_vs_abs_sum", "exact_results")


def _check_record(path, i, obj):
    if not isinstance(obj, dict):
        raise BadInput(f"{path}: result {i} is not a JSON object; not fpsim mma-error --json output")
    missing = [key for key in REQUIRED if key not in obj]
    if missing:
        raise BadInput(f"{path}: result {i} has no {', '.join(missing)}; not fpsim mma-error output")
    for m in MEASURES:
        if not isinstance(obj[m], dict) or any(not isinstance(obj[m].get(s), (int, float)) for s in STATS):
            raise BadInput(f"{path}: result {i}: '{m}' lacks one of {', '.join(STATS)}")
    if not isinstance(obj["k"], int) or obj["k"] < 1 or not isinstance(obj["promotion_interval"], int):
        raise BadInput(f"{path}: result {i}: k and promotion_interval must be integers")
    return obj


def _read_json(path, text):
    dec = json.JSONDecoder()
    pos, objs = 0, []
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            break
        try:
            obj, pos = dec.raw_decode(text, pos)
        except ValueError as e:
            raise BadInput(f"{path}: not fpsim mma-error output (JSON error: {e})") from None
        objs.extend(obj if isinstance(obj, list) else [obj])
    return [_check_record(path, i + 1, o) for i, o in enumerate(objs)]


_KV = re.compile(r"^(\S+)\s+(.*?)\s*$")


def _read_text(path, text):
    """The plain form: blocks from a 'model' line to 'exact_results N of T'."""
    records, cur, header = [], None, None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _KV.match(line)
        if not m:
            raise BadInput(f"{path} line {lineno}: not fpsim mma-error output")
        key, value = m.group(1), m.group(2)
        if key == "model":
            if cur is not None:
                raise BadInput(f"{path} line {lineno}: a new result before 'exact_results' ended the last")
            cur, header = {"model": value}, None
            continue
        if cur is None:
            raise BadInput(f"{path} line {lineno}: expected a 'model' line; not fpsim mma-error output")
        try:
            if key in ("k", "trials", "seed"):
                cur[key] = int(value)
            elif key == "promotion_interval":
                cur[key] = int(value.split()[0])
            elif key == "measure":
                header = value.split()
            elif key in MEASURES:
                if header is None:
                    raise ValueError("a measure row before the 'measure' header")
                vals = value.split()
                if len(vals) != len(header):
                    raise ValueError(f"{len(vals)} values under {len(header)} columns")
                cur[key] = {h: float(v) for h, v in zip(header, vals)}
            elif key == "exact_results":
                cur[key] = int(value.split()[0])
                records.append(_check_record(path, len(records) + 1, cur))
                cur = None
            else:
                cur[key] = value
        except ValueError as e:
            raise BadInput(f"{path} line {lineno}: bad '{key}' ({e}); not fpsim mma-error output") from None
    if cur is not None:
        raise BadInput(f"{path}: the last result has no 'exact_results' line (a cut-off file?)")
    return records


def read_file(path):
    """The results in one saved file, each a dict as `fpsim mma-error --json` prints it."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read {path}: {e}") from None
    stripped = text.lstrip()
    if not stripped:
        raise BadInput(f"{path} is empty; not fpsim mma-error output")
    records = _read_json(path, text) if stripped[0] in "{[" else _read_text(path, text)
    if not records:
        raise BadInput(f"{path}: no results; not fpsim mma-error output")
    return records


def base_model(name):
    """The preset name without a ':promoteN' suffix (the interval is promotion_interval)."""
    return name.split(":")[0]


def collect(paths):
    """{(model, promotion, dist): {k: (record, path)}}, refusing duplicate points."""
    series = {}
    for path in paths:
        for r in read_file(path):
            key = (base_model(r["model"]), r["promotion_interval"], r["dist"])
            points = series.setdefault(key, {})
            if r["k"] in points:
                raise BadInput(f"two results for {key[0]}, promotion {key[1]}, {key[2]}, K = {r['k']}: "
                               f"{points[r['k']][1]} and {path}")
            points[r["k"]] = (r, path)
    return series


# ---------------------------------------------------------------- drawing

def promotion_text(p):
    return "no promotion" if p == 0 else f"promotion every {p}"


def run(args):
    stats = [s.strip() for s in args.stat.split(",") if s.strip()]
    bad = [s for s in stats if s not in STATS]
    if not stats or bad:
        raise BadInput(f"--stat: unknown statistic {', '.join(bad) or '(none)'}; use {', '.join(STATS)}")
    series = collect(args.files)
    out_dir = args.out or os.path.join(os.path.dirname(os.path.abspath(args.files[0])), "figures")
    record = draw(series, stats, args.measure, out_dir, args.files)
    style.write_index(out_dir, [record])
    print(f"wrote {os.path.join(out_dir, NAME)}.pdf, .png, .csv and {style.INDEX}")
    return 0


def draw(series, stats, measure, out_dir, sources):
    models = []
    for model, _, _ in series:
        if model not in models:
            models.append(model)
    promotions = sorted({p for _, p, _ in series if p != 0})
    dists = [d for d in DIST_ORDER if any(k[2] == d for k in series)]
    dists += sorted({k[2] for k in series} - set(dists))
    keys = sorted({(m, p) for m, p, _ in series}, key=lambda mp: (models.index(mp[0]), mp[1]))

    nrows, ncols = len(dists), len(stats)
    width = style.SINGLE if ncols == 1 else style.DOUBLE
    leg_rows = -(-len(keys) // (1 if ncols == 1 else 2))
    panel_h = width / ncols * 0.72
    leg_h = 0.14 * leg_rows + 0.1
    fig, axes = style.new_figure(width, aspect=(panel_h * nrows + leg_h) / width, nrows=nrows + 1, ncols=ncols,
                                 squeeze=False, gridspec_kw={"height_ratios": [panel_h] * nrows + [leg_h]})
    for ax in axes[-1]:
        ax.axis("off")

    rows, handles, left_out = [], {}, 0
    all_k, trials, seeds = set(), set(), set()
    for ri, dist in enumerate(dists):
        for ci, stat in enumerate(stats):
            ax = axes[ri][ci]
            for model, prom in keys:
                pts = series.get((model, prom, dist))
                if not pts:
                    continue
                mi = models.index(model)
                ls = "-" if prom == 0 else PROMOTION_STYLES[promotions.index(prom) % len(PROMOTION_STYLES)]
                xs, ys = [], []
                for k in sorted(pts):
                    r, path = pts[k]
                    all_k.add(k)
                    trials.add(r["trials"])
                    seeds.add(r["seed"])
                    v = r[measure][stat]
                    if not v > 0:
                        left_out += 1
                        continue
                    xs.append(k)
                    ys.append(v)
                    rows.append([dist, stat, model, prom, k, r["trials"], r["seed"], v, path])
                line, = ax.plot(xs, ys, color=style.series_style(mi)["color"], linestyle=ls,
                                marker=MARKERS[mi % len(MARKERS)], markersize=3,
                                markerfacecolor="none" if prom else style.series_style(mi)["color"],
                                label=f"{model}, {promotion_text(prom)}")
                handles.setdefault((model, prom), line)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_title(f"{DIST_LABEL.get(dist, dist)}: {STAT_LABEL[stat]}")
            ax.set_xlabel("dot-product length K")
            if ci == 0:
                ax.set_ylabel(f"error {MEASURE_LABEL[measure]}")
    for ax in axes[:-1].flat:
        ks = sorted(all_k)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        if len(ks) > 6:
            ax.tick_params(axis="x", labelrotation=45)
    leg_ax = axes[-1][0]
    if ncols > 1:
        gs = axes[-1][0].get_gridspec()
        for ax in axes[-1]:
            ax.remove()
        leg_ax = fig.add_subplot(gs[-1, :])
        leg_ax.axis("off")
    leg_ax.legend([handles[k] for k in keys if k in handles], [handles[k].get_label() for k in keys if k in handles],
                  loc="center", ncol=1 if ncols == 1 else 2, handlelength=3)
    fig.tight_layout(h_pad=0.6, w_pad=1.0)

    def span(values):
        v = sorted(values)
        return str(v[0]) if len(v) == 1 else f"{v[0]} to {v[-1]}"

    caption = (f"Error {MEASURE_LABEL[measure]} of MMA models against the exact dot product versus K "
               f"(fpsim mma-error, c = 0, {span(trials)} dot products per point, seed {span(seeds)}); "
               f"colour and marker: preset, solid line: no promotion, broken line and open marker: "
               f"FP32 promotion every N products.")
    if left_out:
        caption += f" {left_out} point(s) equal to 0 (exact) are not drawn on the log axis."
    columns = ["dist", "stat", "model", "promotion_interval", "k", "trials", "seed", measure, "source"]
    return style.save(fig, out_dir, NAME, caption, sources, columns, rows)
