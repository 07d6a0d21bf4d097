"""The one style every fpsim figure uses, and the one way figures are saved.

- Colours: Okabe and Ito's palette ("Color Universal Design", 2008), safe for
  the common colour-vision deficiencies; beyond its 8 colours series differ
  by line style as well, so no two series of a figure look alike in grey.
- Sizes: SINGLE = 3.3 in (one column of a two-column paper), DOUBLE = 6.9 in;
  fonts 7-8 pt, readable at that size without scaling.
- PDF with TrueType fonts embedded (pdf.fonttype 42), PNG at 300 dpi.
- No chart junk: no top/right spines, light grid, frameless legends.
- save() writes NAME.pdf, NAME.png and NAME.csv (the series as plotted) and
  puts a caption under the figure: what it shows and the files it was read
  from. It returns a record for DIR/figures/figures.json.
"""
import csv
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SINGLE = 3.3  # inches
DOUBLE = 6.9

# Okabe-Ito, black first: the reference (FP32) series is drawn in black.
BLACK = "#000000"
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#999999"]
LINESTYLES = ["-", "--", ":", "-."]
# Sequential map for heatmaps (perceptually uniform, colour-blind safe).
SEQUENTIAL_CMAP = "cividis"


def apply():
    """Sets matplotlib's rcParams to the house style (idempotent)."""
    plt.rcParams.update({
        "font.size": 7.5,
        "axes.titlesize": 8,
        "axes.labelsize": 7.5,
        "legend.fontsize": 6.5,
        "xtick.labelsize": 6.5,
        "ytick.labelsize": 6.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#dddddd",
        "grid.linewidth": 0.4,
        "axes.linewidth": 0.6,
        "lines.linewidth": 1.0,
        "legend.frameon": False,
        "pdf.fonttype": 42,  # TrueType, embedded
        "ps.fonttype": 42,
        "savefig.dpi": 300,
        "figure.dpi": 100,
    })


def series_style(i):
    """Colour and line style of the i-th non-reference series."""
    return {"color": PALETTE[i % len(PALETTE)], "linestyle": LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)]}


def reference_style():
    """The FP32 (reference) series: black, solid, a little heavier."""
    return {"color": BLACK, "linestyle": "-", "linewidth": 1.4}


def new_figure(width=SINGLE, aspect=0.72, nrows=1, ncols=1, **kwargs):
    """A figure `width` inches wide and width * aspect high (before the caption)."""
    apply()
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, width * aspect), **kwargs)
    return fig, axes


def _cell(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    return str(v)


def write_series_csv(path, columns, rows):
    """The plotted series: a header of `columns`, then `rows` (sequences)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(v) for v in r])


def save(fig, out_dir, name, caption, sources, columns, rows):
    """Writes out_dir/NAME.{pdf,png,csv}; returns the figures.json record.

    caption: one or two sentences on what the figure shows; sources: the
    result files it read (paths as the user gave them, or relative to the
    sweep directory). Both go under the figure, small.
    """
    os.makedirs(out_dir, exist_ok=True)
    text = caption + " Source: " + ", ".join(sources) + "."
    width_in = fig.get_size_inches()[0]
    fig.text(0.0, 0.0, _wrap(text, width_in), fontsize=5.5, ha="left", va="top", color="#333333",
             transform=fig.transFigure)
    files = {}
    for ext in ("pdf", "png"):
        path = os.path.join(out_dir, f"{name}.{ext}")
        fig.savefig(path, bbox_inches="tight", pad_inches=0.03)
        files[ext] = f"{name}.{ext}"
    plt.close(fig)
    write_series_csv(os.path.join(out_dir, f"{name}.csv"), columns, rows)
    files["csv"] = f"{name}.csv"
    return {"name": name, "caption": caption, "sources": list(sources), "files": files}


def _wrap(text, width_in):
    """Breaks a caption into lines that fit width_in at 5.5 pt (about 30 characters per inch)."""
    per_line = max(20, int(width_in * 30))
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > per_line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    if line:
        lines.append(line)
    return "\n".join(lines)


INDEX = "figures.json"


def write_index(out_dir, records):
    """Merges `records` (save()'s return values) into out_dir/figures.json.

    The index is {"figures": [record, ...]}, one record per figure name:
    a record of the same name is replaced, records of other names (other
    commands' figures in the same folder) are kept in their order, new ones
    appended. An unreadable or foreign index is replaced. Written to a
    temporary file and renamed, so a reader never sees half of it. Returns
    the index's path.
    """
    import json

    path = os.path.join(out_dir, INDEX)
    old = []
    try:
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, dict) and isinstance(data.get("figures"), list):
            old = [r for r in data["figures"] if isinstance(r, dict) and "name" in r]
    except (OSError, ValueError):
        old = []
    new_names = {r["name"] for r in records}
    merged = [r for r in old if r["name"] not in new_names] + list(records)
    os.makedirs(out_dir, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"figures": merged}, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return path
