"""sweep DIR: loss curves, relative gap, quantization heatmaps, loss scale and gap / noise of a sweep.

Reads a sweep directory (docs/training.md, "The sweep directory": sweep.json
and runs/<id>/{metrics.csv, quant_stats.csv, summary.json}) and writes into
DIR/figures/ (or --out FIGDIR), each as NAME.pdf, NAME.png and NAME.csv (the
plotted series), listed in figures.json:

- loss_curves: per model, the smoothed training loss S(t) of every recipe
  (mean over seeds), FP32 in black with a grey band for the FP32 spread
  (min-max of S(t) over the FP32 runs of every seed and every data order,
  noise-floor runs included), and the evaluation metric at the evaluation
  steps beside it (mean over seeds, the same band).
- relative_gap: per model, (S_r(t) - S_f(t)) / S_f(t) against the FP32 run f
  of the same seed (mean over seeds), log x; the grey band is the noise floor
  at each step: +- the largest |(S_n(t) - S_f(t)) / S_f(t)| over seeds, n the
  seed's noise run (FP32, same seed, another data order).
- underflow_<recipe>, saturation_<recipe>: quant_stats.csv's underflow_pct
  (saturation_pct) per layer / GEMM / operand:tensor and statistics step, for
  the lowest seed with statistics; recipes without rows (fp32) are skipped.
- loss_scale: per recipe whose runs use a loss scale other than 1, the scale
  per step and seed (log2 axis), skipped steps marked.
- gap_vs_noise: the report's "gap / noise floor" per recipe: each seed's
  |final_gap_rel(r)| / |final_gap_rel(n)|, their mean as a bar.

Every number follows docs/training.md, "Divergence report", "The numbers of
one run": S(t) is the trailing mean over w = max(1, floor(T/20)) steps (T =
sweep.json's steps), summed in step order; the means over seeds sum in
run-list order, one addition at a time, so the CSVs hold the same doubles an
independent reader (scripts/check_report.py, fpsim report) computes.

Runs that do not count (missing, running, unreadable: sweep_files) are left
out with one stderr line each; stopped runs are drawn up to the stop (a
recipe's mean over seeds ends at its shortest run, marked with an x). A
recipe seed with no FP32 partner has no gap (stderr says so). Exit status: 0
when every figure that the finished runs allow was written (notes on
stderr); 1 when a figure could not be written at all (no finished run, no
FP32 reference, no noise-floor run: the message says which and why); 2 for
a DIR that is not a sweep (nothing written).
"""
import math
import os
import re
import sys

import numpy as np
from matplotlib.ticker import FuncFormatter

from fpsim_plot import style
from fpsim_plot import sweep_files

REFERENCE = "fp32"
BAND_COLOR = "#bbbbbb"


def add_arguments(p):
    p.add_argument("dir", metavar="DIR", help="a sweep directory (fpsim sweep --out DIR)")
    p.add_argument("--out", metavar="FIGDIR", help="output folder (default DIR/figures)")


def log(msg):
    print(f"plot sweep: {msg}", file=sys.stderr)


# ---------------------------------------------------------------- numbers (docs "The numbers of one run")

def smoothed(loss, steps):
    """S(t) for t = 1..len(loss): (sum_{u=lo}^{t} L(u)) / (t - lo + 1), lo = max(1, t - w + 1),
    w = max(1, steps // 20), summed in step order one addition at a time (docs "Divergence report")."""
    L = np.asarray(loss, dtype=np.float64)
    n = len(L)
    w = max(1, steps // 20)
    out = np.empty(n, dtype=np.float64)
    with np.errstate(all="ignore"):
        total = 0.0
        for i in range(min(w, n)):          # steps 1..w: lo = 1
            total += float(L[i])
            out[i] = total / (i + 1)
        m = n - w                           # steps w+1..n: windows of w steps, starting at steps 2..n-w+1
        if m > 0:
            acc = np.zeros(m, dtype=np.float64)
            for k in range(w):
                acc += L[1 + k:1 + k + m]
            out[w:] = acc / w
    return out


def mean_of(arrays):
    """Element-wise mean of arrays cut to the shortest, summed in the given order: (a0 + a1 + ...) / n."""
    m = min(len(a) for a in arrays)
    acc = np.zeros(m, dtype=np.float64)
    with np.errstate(all="ignore"):
        for a in arrays:
            acc += a[:m]
        return acc / len(arrays)


def relative_gap(s_r, s_f):
    """(S_r(t) - S_f(t)) / S_f(t) over the steps both runs have (IEEE: a zero S_f gives inf or nan)."""
    m = min(len(s_r), len(s_f))
    with np.errstate(all="ignore"):
        return (s_r[:m] - s_f[:m]) / s_f[:m]


def finite_or_none(x):
    return x if x is not None and math.isfinite(x) else None


def final_gap_rel(s_r, s_f, steps):
    """final_gap_rel = (S_r(T) - S_f(T)) / S_f(T); None unless both runs are done and it is finite."""
    with np.errstate(all="ignore"):
        v = float((np.float64(s_r[steps - 1]) - np.float64(s_f[steps - 1])) / np.float64(s_f[steps - 1]))
    return finite_or_none(v)


# ---------------------------------------------------------------- the sweep as figures need it

class Model:
    """One model's runs: recipes in run-list order, runs per recipe in run-list order."""

    def __init__(self, name):
        self.name = name
        self.recipes = []          # recipe names (role recipe) in order of first appearance
        self.recipe_runs = {}      # recipe -> [Run] (usable, role recipe)
        self.listed = {}           # recipe -> number of runs the list names
        self.noise_runs = []       # usable noise-floor runs
        self.noise_listed = 0
        self.ref = {}              # seed -> usable fp32 run of role recipe (first in the list)
        self.noise = {}            # seed -> first listed noise run of that seed, when usable
        self.eval_name = None


def organise(sweep):
    models = {}
    first_noise = {}
    for r in sweep.runs:
        m = models.setdefault(r.model, Model(r.model))
        if r.role == "recipe":
            if r.recipe not in m.recipes:
                m.recipes.append(r.recipe)
                m.recipe_runs[r.recipe] = []
                m.listed[r.recipe] = 0
            m.listed[r.recipe] += 1
            if r.usable:
                m.recipe_runs[r.recipe].append(r)
                if r.recipe == REFERENCE:
                    m.ref.setdefault(r.seed, r)
        else:
            m.noise_listed += 1
            first = (r.model, r.seed) not in first_noise
            first_noise.setdefault((r.model, r.seed), r)
            if r.usable:
                m.noise_runs.append(r)
                if first:
                    m.noise[r.seed] = r
        if r.usable and m.eval_name is None and isinstance(r.summary.get("eval_metric_name"), str):
            m.eval_name = r.summary["eval_metric_name"]
    return list(models.values())


def figure_name(prefix, recipe, taken):
    """prefix_<recipe> with a recipe file's path reduced to its stem; unique within `taken`."""
    base = os.path.basename(recipe)
    if base.endswith(".toml"):
        base = base[:-5]
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base) or "recipe"
    name, k = f"{prefix}_{base}", 2
    while name in taken:
        name, k = f"{prefix}_{base}_{k}", k + 1
    taken.add(name)
    return name


def fmt(x):
    """A CSV cell: the double's shortest round-trip text, '' for no value."""
    if x is None:
        return ""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def legend_with_band(fig, ax, handles, labels, band_label, any_stopped):
    """The legend right of the panels: the series, then the grey band and, when a run stopped, the stop marker."""
    handles.append(ax.fill_between([], [], [], color=BAND_COLOR, alpha=0.6, linewidth=0))
    labels.append(band_label)
    if any_stopped:
        h, = ax.plot([], [], marker="x", color="#333333", linestyle="none")
        handles.append(h)
        labels.append("run stopped")
    legend_right(fig, handles, labels)


def legend_right(fig, handles, labels, left=0.80):
    fig.tight_layout(rect=(0, 0, left, 1), h_pad=1.0, w_pad=1.2)
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(left, 0.5), handlelength=2.2,
               borderaxespad=0.0)


def recipe_styles(model):
    styles, i = {}, 0
    for x in model.recipes:
        if x == REFERENCE:
            styles[x] = dict(style.reference_style())
        else:
            st = dict(style.series_style(i))
            st["linewidth"] = 0.8
            styles[x] = st
            i += 1
    return styles


def label(model, recipe):
    runs = model.recipe_runs[recipe]
    text = f"{recipe} (reference)" if recipe == REFERENCE else recipe
    if len(runs) < model.listed[recipe]:
        text += f" ({len(runs)} of {model.listed[recipe]} seeds)"
    return text


def stop_marker(ax, xs, ys, st):
    """An x at the last finite point of a curve that ends because a run stopped."""
    for i in range(len(ys) - 1, -1, -1):
        if math.isfinite(ys[i]):
            ax.plot([xs[i]], [ys[i]], marker="x", markersize=5, color=st["color"], linestyle="none",
                    markeredgewidth=1.2)
            return


# ---------------------------------------------------------------- figure 1: loss curves

def fig_loss_curves(sweep, models, out_dir):
    T = sweep.steps
    w = max(1, T // 20)
    active = [m for m in models if any(m.recipe_runs[x] for x in m.recipes)]
    if not active:
        return None, "no finished run"
    nm = len(active)
    fig, axes = style.new_figure(style.DOUBLE, aspect=0.36 * nm, nrows=nm, ncols=2, squeeze=False)
    all_recipes = []
    for m in active:
        for x in m.recipes:
            if x not in all_recipes:
                all_recipes.append(x)
    columns = ["model", "quantity", "step"] + all_recipes + ["fp32_spread_min", "fp32_spread_max"]
    rows = []
    handles, labels = [], []
    stopped_text = []
    band_runs_text = set()
    for mi, m in enumerate(active):
        ax_l, ax_e = axes[mi][0], axes[mi][1]
        styles = recipe_styles(m)
        eval_name = m.eval_name or "eval_metric"
        loss_series, eval_series = {}, {}
        for x in m.recipes:
            runs = m.recipe_runs[x]
            if not runs:
                continue
            s = mean_of([smoothed(r.metrics.loss, T) for r in runs])
            loss_series[x] = s
            # evaluations: the steps every run of the recipe evaluated, mean over seeds in run-list order
            common = None
            for r in runs:
                steps = {t for t, _ in r.metrics.evals}
                common = steps if common is None else common & steps
            ev_steps = sorted(common)
            vals = [np.array([dict(r.metrics.evals)[t] for t in ev_steps], dtype=np.float64) for r in runs]
            eval_series[x] = (ev_steps, mean_of(vals) if ev_steps else np.array([]))
            stopped = [r for r in runs if r.status == "stopped"]
            for r in stopped:
                stopped_text.append(f"{r.id} at step {len(r.metrics.loss)}")
        # FP32 spread: every FP32 run (reference role and noise floor), every seed
        fp32_runs = m.recipe_runs.get(REFERENCE, []) + m.noise_runs
        band, eband, eb_steps = None, None, []
        if fp32_runs:
            band_runs_text.add(f"{len(m.recipe_runs.get(REFERENCE, []))} FP32 + {len(m.noise_runs)} noise-floor "
                               f"runs" + (f" of {m.name}" if nm > 1 else ""))
            ss = [smoothed(r.metrics.loss, T) for r in fp32_runs]
            n = min(len(s) for s in ss)
            stack = np.vstack([s[:n] for s in ss])
            with np.errstate(all="ignore"):
                band = (np.min(stack, axis=0), np.max(stack, axis=0))
            ax_l.fill_between(np.arange(1, n + 1), band[0], band[1], color=BAND_COLOR, alpha=0.6, linewidth=0,
                              zorder=1)
            # eval band at the steps every FP32 run evaluated
            common = None
            for r in fp32_runs:
                st_ = {t for t, _ in r.metrics.evals}
                common = st_ if common is None else common & st_
            eb_steps = sorted(common)
            if eb_steps:
                ev = np.vstack([[dict(r.metrics.evals)[t] for t in eb_steps] for r in fp32_runs])
                eband = (np.min(ev, axis=0), np.max(ev, axis=0))
                ax_e.fill_between(eb_steps, eband[0], eband[1], color=BAND_COLOR, alpha=0.6, linewidth=0, zorder=1)
        # lines: FP32 drawn last (on top)
        order = [x for x in m.recipes if x != REFERENCE] + [x for x in m.recipes if x == REFERENCE]
        for x in order:
            if x not in loss_series:
                continue
            st = styles[x]
            z = 4 if x == REFERENCE else 3
            s = loss_series[x]
            steps_x = np.arange(1, len(s) + 1)
            line, = ax_l.plot(steps_x, s, zorder=z, **st)
            ev_steps, ev = eval_series[x]
            if len(ev_steps):
                ax_e.plot(ev_steps, ev, marker="o", markersize=2.0, zorder=z, **st)
            if any(r.status == "stopped" for r in m.recipe_runs[x]):
                stop_marker(ax_l, steps_x, s, st)
                if len(ev_steps):
                    stop_marker(ax_e, ev_steps, ev, st)
            if label(m, x) not in labels:
                handles.append(line)
                labels.append(label(m, x))
        # CSV rows: the smoothed loss per step, then the evaluations
        n_steps = max([len(s) for s in loss_series.values()] + [len(band[0]) if band else 0])
        for t in range(1, n_steps + 1):
            row = [m.name, "smoothed_loss", t]
            for x in all_recipes:
                s = loss_series.get(x)
                row.append(fmt(s[t - 1]) if s is not None and t <= len(s) else "")
            row += [fmt(band[0][t - 1]) if band and t <= len(band[0]) else "",
                    fmt(band[1][t - 1]) if band and t <= len(band[1]) else ""]
            rows.append(row)
        ev_all = sorted({t for x in eval_series for t in eval_series[x][0]} | set(eb_steps))
        for t in ev_all:
            row = [m.name, eval_name, t]
            for x in all_recipes:
                e = eval_series.get(x)
                if e is not None and t in e[0]:
                    row.append(fmt(e[1][e[0].index(t)]))
                else:
                    row.append("")
            if eband is not None and t in eb_steps:
                k = eb_steps.index(t)
                row += [fmt(eband[0][k]), fmt(eband[1][k])]
            else:
                row += ["", ""]
            rows.append(row)
        finite_vals = [v for s in loss_series.values() for v in s if math.isfinite(v) and v > 0]
        if finite_vals and max(finite_vals) / min(finite_vals) > 10:
            ax_l.set_yscale("log")
            ax_l.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax_l.set_xlabel("step")
        ax_l.set_ylabel(f"training loss (smoothed, {w}-step mean)")
        ax_e.set_xlabel("step")
        ax_e.set_ylabel({"test_accuracy": "test accuracy", "val_loss": "validation loss"}.get(eval_name, eval_name))
        ttl = f"{m.name}: " if nm > 1 else ""
        ax_l.set_title(f"{ttl}training loss")
        ax_e.set_title(f"{ttl}{ax_e.get_ylabel()} at evaluation steps")
        ax_l.set_xlim(0, T)
        ax_e.set_xlim(0, T)
    legend_with_band(fig, axes[0][0], handles, labels, "FP32 spread (min-max)", bool(stopped_text))
    caption = (f"Training loss of every recipe, smoothed as the divergence report does (trailing mean over "
               f"max(1, floor(T/20)) = {w} steps, T = {T}), mean over seeds; beside it the evaluation metric "
               f"(summary.json eval_metric_name) at the evaluation steps, mean over seeds. FP32 in black; the grey "
               f"band is the min-max over every FP32 run ({'; '.join(sorted(band_runs_text)) or 'none'}: seeds "
               f"and data orders).")
    if stopped_text:
        caption += (" x: a run stopped (non-finite loss), the mean ends at its last step: "
                    + ", ".join(stopped_text) + ".")
    sources = ["sweep.json", "runs/*/summary.json", "runs/*/metrics.csv"]
    return style.save(fig, out_dir, "loss_curves", caption, sources, columns, rows), None


# ---------------------------------------------------------------- figure 2: relative gap

def fig_relative_gap(sweep, models, out_dir):
    T = sweep.steps
    w = max(1, T // 20)
    active = [m for m in models if m.ref]
    missing_ref = [m.name for m in models if not m.ref]
    if not active:
        return None, ("no finished FP32 reference run" +
                      (f" (model {', '.join(missing_ref)})" if missing_ref else ""))
    for name in missing_ref:
        log(f"relative_gap: model {name} has no finished FP32 run: left out")
    nm = len(active)
    fig, axes = style.new_figure(style.DOUBLE, aspect=0.40 * nm, nrows=nm, ncols=1, squeeze=False)
    all_recipes = []
    for m in active:
        for x in m.recipes:
            if x != REFERENCE and x not in all_recipes:
                all_recipes.append(x)
    columns = ["model", "step"] + all_recipes + ["noise_floor_halfwidth"]
    rows, handles, labels = [], [], []
    stopped_text = []
    seeds_text = []
    maxabs = 0.0
    for mi, m in enumerate(active):
        ax = axes[mi][0]
        styles = recipe_styles(m)
        refs = {s: smoothed(r.metrics.loss, T) for s, r in m.ref.items()}
        # noise floor: per seed with a reference and a noise run
        halfwidth = None
        noise_gaps = []
        for seed, n in m.noise.items():
            if seed in refs:
                noise_gaps.append(np.abs(relative_gap(smoothed(n.metrics.loss, T), refs[seed])))
        if noise_gaps:
            k = min(len(g) for g in noise_gaps)
            with np.errstate(all="ignore"):
                halfwidth = np.max(np.vstack([g[:k] for g in noise_gaps]), axis=0)
            xs = np.arange(1, k + 1)
            ax.fill_between(xs, -halfwidth, halfwidth, color=BAND_COLOR, alpha=0.6, linewidth=0, zorder=1)
        else:
            log(f"relative_gap: model {m.name}: no noise-floor run with an FP32 partner: no band")
        ax.axhline(0.0, zorder=2, **style.reference_style())
        series = {}
        for x in m.recipes:
            if x == REFERENCE:
                continue
            gaps, used = [], []
            for r in m.recipe_runs[x]:
                if r.seed not in refs:
                    log(f"relative_gap: {r.id} has no finished FP32 run of seed {r.seed}: no gap for it")
                    continue
                gaps.append(relative_gap(smoothed(r.metrics.loss, T), refs[r.seed]))
                used.append(r)
            if not gaps:
                if m.recipe_runs[x]:
                    log(f"relative_gap: recipe {x} ({m.name}): no seed has an FP32 partner: left out")
                continue
            g = mean_of(gaps)
            series[x] = g
            st = styles[x]
            line, = ax.plot(np.arange(1, len(g) + 1), g, zorder=3, **st)
            fin = g[np.isfinite(g)]
            if len(fin):
                maxabs = max(maxabs, float(np.max(np.abs(fin))))
            if any(r.status == "stopped" for r in used):
                stop_marker(ax, np.arange(1, len(g) + 1), g, st)
                stopped_text += [f"{r.id} at step {len(r.metrics.loss)}" for r in used if r.status == "stopped"]
            lab = x if len(used) == m.listed[x] else f"{x} ({len(used)} of {m.listed[x]} seeds)"
            if lab not in labels:
                handles.append(line)
                labels.append(lab)
        seeds_text.append(f"{m.name}: seeds {', '.join(str(s) for s in sorted(refs))}" if nm > 1 else
                          f"seeds {', '.join(str(s) for s in sorted(refs))}")
        n_steps = max([len(s) for s in series.values()] + [len(halfwidth) if halfwidth is not None else 0])
        for t in range(1, n_steps + 1):
            row = [m.name, t]
            for x in all_recipes:
                s = series.get(x)
                row.append(fmt(s[t - 1]) if s is not None and t <= len(s) else "")
            row.append(fmt(halfwidth[t - 1]) if halfwidth is not None and t <= len(halfwidth) else "")
            rows.append(row)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlim(1, T)
        ax.set_xlabel("step")
        ax.set_ylabel("relative loss gap to FP32")
        if nm > 1:
            ax.set_title(m.name)
    # a symmetric log axis when the gaps span more than two decades beyond the noise floor
    linthresh = 0.01
    for row in axes:
        ax = row[0]
        if maxabs > 100 * linthresh:
            ax.set_yscale("symlog", linthresh=linthresh, linscale=0.6)
    h_ref, = axes[0][0].plot([], [], **style.reference_style())
    handles.insert(0, h_ref)
    labels.insert(0, "FP32 (reference, 0)")
    legend_with_band(fig, axes[0][0], handles, labels, "noise floor", bool(stopped_text))
    scale = (f" The y axis is symmetric-logarithmic (linear within +-{linthresh:g})."
             if maxabs > 100 * linthresh else "")
    caption = (f"Relative loss gap (S_r(t) - S_f(t)) / S_f(t) of each recipe r to the FP32 run f of the same seed, "
               f"S the divergence report's smoothed loss (trailing mean over {w} steps), mean over seeds "
               f"({'; '.join(seeds_text)}). Grey band: the FP32 noise floor, +- the largest "
               f"|(S_n(t) - S_f(t)) / S_f(t)| over seeds, n the FP32 run of the same seed with another data "
               f"order.{scale}")
    if stopped_text:
        caption += " x: a run stopped (non-finite loss): " + ", ".join(stopped_text) + "."
    sources = ["sweep.json", "runs/*/summary.json", "runs/*/metrics.csv"]
    return style.save(fig, out_dir, "relative_gap", caption, sources, columns, rows), None


# ---------------------------------------------------------------- figure 3: heatmaps

def heatmap_runs(models):
    """Per recipe (in order of first appearance): [(model, run)] the lowest seed with statistics rows."""
    out = {}
    for m in models:
        for x in m.recipes:
            runs = [r for r in m.recipe_runs[x] if r.quant is not None]
            if not runs:
                continue
            r = min(runs, key=lambda r: (r.seed, r.index))
            if not r.quant:
                continue  # no rows (fp32): nothing to draw
            out.setdefault(x, []).append((m, r))
    return out


def fig_heatmap(sweep, recipe, entries, column, name, out_dir):
    what = {"underflow_pct": "underflow", "saturation_pct": "saturation"}[column]
    text_attr = {"underflow_pct": "underflow_text", "saturation_pct": "saturation_text"}[column]
    panels = []
    for m, r in entries:
        keys, steps = [], []
        cells = {}
        for q in r.quant:
            key = (q.layer, q.gemm, q.operand, q.tensor)
            if key not in cells:
                keys.append(key)
                cells[key] = {}
            if q.step not in steps:
                steps.append(q.step)
            cells[key][q.step] = q
        steps.sort()
        panels.append((m, r, keys, steps, cells))
    labels_len = max(len(f"{k[0]} {k[1]} {k[2]}:{k[3]}") for p in panels for k in p[2])
    ncol = max(len(p[3]) for p in panels)
    width = style.DOUBLE if labels_len > 22 or ncol > 24 else style.SINGLE
    heights = [0.55 + 0.095 * len(p[2]) for p in panels]
    fig, axes = style.new_figure(width, aspect=(sum(heights) + 0.2) / width, nrows=len(panels), ncols=1,
                                 squeeze=False, gridspec_kw={"height_ratios": heights})
    rows = []
    nan_cells = 0
    import matplotlib.pyplot as plt
    cmap = plt.get_cmap(style.SEQUENTIAL_CMAP).copy()
    cmap.set_bad("#ffffff")
    for ax, (m, r, keys, steps, cells) in zip(axes[:, 0], panels):
        data = np.full((len(keys), len(steps)), np.nan)
        present = np.zeros((len(keys), len(steps)), dtype=bool)
        for i, key in enumerate(keys):
            for j, t in enumerate(steps):
                q = cells[key].get(t)
                if q is None:
                    continue
                v = getattr(q, column)
                data[i, j] = v
                present[i, j] = True
                rows.append([m.name, r.seed, key[0], key[1], key[2], key[3], t, getattr(q, text_attr)])
        nan_cells += int(np.sum(np.isnan(data)))
        finite = data[np.isfinite(data)]
        vmax = float(np.max(finite)) if len(finite) else 0.0
        all_zero = vmax == 0.0
        im = ax.imshow(np.ma.masked_invalid(data), aspect="auto", interpolation="nearest", cmap=cmap,
                       vmin=0.0, vmax=vmax if vmax > 0 else 1.0)
        ax.grid(False)
        ax.set_yticks(range(len(keys)), [f"{k[0]} {k[1]} {k[2]}:{k[3]}" for k in keys], fontsize=5.5)
        stride = max(1, math.ceil(len(steps) / (7 if width == style.SINGLE else 14)))
        ticks = list(range(0, len(steps), stride))
        ax.set_xticks(ticks, [str(steps[j]) for j in ticks], fontsize=5.5)
        ax.set_xlabel("statistics step")
        ax.tick_params(length=1.5)
        for sp in ax.spines.values():
            sp.set_visible(False)
        cb = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
        cb.set_label(f"{what} (% of elements)" + (" - all 0" if all_zero else ""), fontsize=6)
        cb.ax.tick_params(labelsize=5.5, length=1.5)
        cb.outline.set_linewidth(0.4)
        ttl = f"{recipe}, {m.name}, seed {r.seed}" if len(panels) > 1 or len(entries) > 1 else \
            f"{recipe}, seed {r.seed}"
        ax.set_title(f"{what} %: {ttl}")
    fig.tight_layout(h_pad=0.8)
    seeds = ", ".join(f"{r.id} (seed {r.seed})" for _, r in entries)
    caption = (f"{what.capitalize()} per GEMM operand ({column} of quant_stats.csv: percentage of the finite "
               f"{'non-zero inputs that became +-0' if column == 'underflow_pct' else 'inputs whose scaled value exceeded the max finite'}"
               f") per layer, GEMM, operand:tensor (rows, in file order) and statistics step (columns) of recipe "
               f"{recipe}, for the lowest seed with statistics: {seeds}.")
    if nan_cells:
        caption += f" White: no value ({nan_cells} cells: nan, an operand with no elements, or no row)."
    sources = ["sweep.json"] + [os.path.join("runs", r.id, "quant_stats.csv") for _, r in entries]
    columns = ["model", "seed", "layer", "gemm", "operand", "tensor", "step", column]
    return style.save(fig, out_dir, name, caption, sources, columns, rows)


# ---------------------------------------------------------------- figure 4: loss scale

def fig_loss_scale(sweep, models, out_dir):
    panels = []
    for m in models:
        for x in m.recipes:
            runs = m.recipe_runs[x]
            if any(v != 1.0 for r in runs for v in r.metrics.loss_scale):
                panels.append((m, x, runs))
    if not panels:
        return None
    nm = len(models)
    fig, axes = style.new_figure(style.SINGLE, aspect=0.62 * len(panels), nrows=len(panels), ncols=1,
                                 squeeze=False)
    rows, skipped_text, same_text = [], [], []
    for ax, (m, x, runs) in zip(axes[:, 0], panels):
        traces = {}
        for r in runs:
            traces.setdefault((tuple(r.metrics.loss_scale), tuple(r.metrics.skipped)), []).append(r.seed)
        for seeds in traces.values():
            if len(seeds) > 1:
                same_text.append(f"{x}{f' ({m.name})' if nm > 1 else ''} seeds "
                                 f"{', '.join(str(s) for s in sorted(seeds))}")
        for i, r in enumerate(sorted(runs, key=lambda r: (r.seed, r.index))):
            st = style.series_style(i)
            xs = np.arange(1, len(r.metrics.loss_scale) + 1)
            ys = np.array(r.metrics.loss_scale)
            ax.plot(xs, ys, drawstyle="steps-post", label=f"seed {r.seed}", color=st["color"],
                    linestyle=st["linestyle"], linewidth=0.9)
            sk = [t for t in range(1, len(xs) + 1) if r.metrics.skipped[t - 1]]
            if sk:
                ax.plot(sk, [r.metrics.loss_scale[t - 1] for t in sk], marker="x", markersize=3.5, linestyle="none",
                        color=st["color"], markeredgewidth=0.8)
            skipped_text.append(f"{r.id}: {len(sk)}")
            if r.status == "stopped":
                ax.plot([xs[-1]], [ys[-1]], marker="|", markersize=8, color=st["color"])
                skipped_text[-1] += f" (stopped at step {len(xs)})"
            for t in range(1, len(xs) + 1):
                rows.append([m.name, x, r.seed, t, fmt(r.metrics.loss_scale[t - 1]), r.metrics.skipped[t - 1]])
        ax.set_yscale("log", base=2)
        ax.set_xlim(0, sweep.steps)
        ax.set_xlabel("step")
        ax.set_ylabel("loss scale")
        ax.set_title(f"{x}" + (f" ({m.name})" if nm > 1 else "") + ": loss scale per step")
        h, l = ax.get_legend_handles_labels()
        hx, = ax.plot([], [], marker="x", linestyle="none", color="#333333", markersize=3.5)
        h, l = h + [hx], l + ["skipped step"]
        if any(r.status == "stopped" for r in runs):
            hs, = ax.plot([], [], marker="|", linestyle="none", color="#333333", markersize=8)
            h, l = h + [hs], l + ["run stopped"]
        ax.legend(h, l, loc="best", ncol=2)
    fig.tight_layout(h_pad=1.0)
    caption = ("Loss scale (metrics.csv loss_scale, the scale the step used) per step and seed, log2 axis; x: "
               "a step whose update was skipped (non-finite gradients; the scale backs off after it). Skipped "
               "steps: " + ", ".join(skipped_text) + ".")
    if same_text:
        caption += " Identical traces, drawn on top of each other: " + "; ".join(same_text) + "."
    columns = ["model", "recipe", "seed", "step", "loss_scale", "skipped"]
    return style.save(fig, out_dir, "loss_scale", caption, ["sweep.json", "runs/*/metrics.csv"], columns, rows)


# ---------------------------------------------------------------- figure 5: gap / noise floor

def gap_over_noise(sweep, m):
    """Per recipe (not fp32): [(run, value)] of the report's gap_over_noise, runs in run-list order."""
    T = sweep.steps
    out = {}
    for x in m.recipes:
        if x == REFERENCE:
            continue
        vals = []
        for r in m.recipe_runs[x]:
            f, n = m.ref.get(r.seed), m.noise.get(r.seed)
            if r.status != "done" or f is None or f.status != "done" or n is None or n.status != "done":
                continue
            s_f = smoothed(f.metrics.loss, T)
            g_r = final_gap_rel(smoothed(r.metrics.loss, T), s_f, T)
            g_n = final_gap_rel(smoothed(n.metrics.loss, T), s_f, T)
            if g_r is None or g_n is None or g_n == 0:
                continue
            v = finite_or_none(abs(g_r) / abs(g_n))
            if v is not None:
                vals.append((r, v))
        out[x] = vals
    return out


def fig_gap_vs_noise(sweep, models, out_dir):
    active = [m for m in models if m.ref and m.noise]
    for m in models:
        if m not in active:
            log(f"gap_vs_noise: model {m.name}: no finished "
                f"{'FP32 reference' if not m.ref else 'noise-floor'} run: left out")
    if not active:
        return None, "no model has both a finished FP32 reference and a noise-floor run"
    nm = len(active)
    fig, axes = style.new_figure(style.SINGLE, aspect=0.78 * nm, nrows=nm, ncols=1, squeeze=False)
    rows, left_out = [], []
    for ax, m in zip(axes[:, 0], active):
        per = gap_over_noise(sweep, m)
        recipes = [x for x in m.recipes if x != REFERENCE]
        means = []
        for i, x in enumerate(recipes):
            vals = per.get(x, [])
            if not vals:
                left_out.append(x if nm == 1 else f"{x} ({m.name})")
                means.append(None)
                continue
            total = 0.0
            for _, v in vals:
                total += v
            mean = total / len(vals)
            means.append(mean)
            rows.append([m.name, x, "mean", "", fmt(mean), len(vals)])
            for r, v in vals:
                rows.append([m.name, x, "seed", r.seed, fmt(v), 1])
        positive = [v for x in recipes for _, v in per.get(x, [])] + [v for v in means if v is not None]
        use_log = bool(positive) and min(positive) > 0 and max(positive) / min(positive) > 20
        for i, x in enumerate(recipes):
            st = style.series_style(i)
            if means[i] is not None:
                ax.bar(i, means[i], width=0.7, color=st["color"], alpha=0.85, linewidth=0, zorder=2)
                vs = [v for _, v in per[x]]
                offs = np.linspace(-0.18, 0.18, len(vs)) if len(vs) > 1 else [0.0]
                ax.plot(i + np.asarray(offs), vs, linestyle="none", marker="o", markersize=2.6,
                        markerfacecolor="white", markeredgecolor="black", markeredgewidth=0.6, zorder=3)
        ax.axhline(1.0, zorder=2, **style.reference_style())
        if use_log:
            ax.set_yscale("log")
        ax.set_xticks(range(len(recipes)), recipes, rotation=45, ha="right")
        ax.set_xlim(-0.6, len(recipes) - 0.4)
        ax.set_ylabel("final gap / noise floor")
        ax.grid(axis="x", visible=False)
        if nm > 1:
            ax.set_title(m.name)
    fig.tight_layout(h_pad=1.0)
    caption = ("The divergence report's gap / noise floor per recipe: for each seed |final_gap_rel(r)| / "
               "|final_gap_rel(n)|, final_gap_rel(x) = (S_x(T) - S_f(T)) / S_f(T), f the FP32 run of the same seed, "
               "n its noise-floor run (another data order), S the smoothed loss; dots: seeds, bar: their mean. "
               "Black line at 1: the noise floor. FP32 itself (0 by definition) is not drawn.")
    if left_out:
        caption += " No value (a run not done, or no FP32 / noise partner): " + ", ".join(left_out) + "."
    columns = ["model", "recipe", "kind", "seed", "gap_over_noise", "n"]
    return style.save(fig, out_dir, "gap_vs_noise", caption, ["sweep.json", "runs/*/summary.json",
                                                              "runs/*/metrics.csv"], columns, rows), None


# ---------------------------------------------------------------- the command

def run(args):
    sweep = sweep_files.load(args.dir)  # BadInput: exit 2, nothing written
    out_dir = args.out or os.path.join(args.dir, "figures")
    for note in sweep.notes:
        log(note)
    models = organise(sweep)
    records, failed = [], []

    def attempt(name, fn):
        try:
            rec, why = fn()
        except OSError as e:
            rec, why = None, f"{getattr(e, 'filename', '') or ''}: {e.strerror or e}"
        if rec is not None:
            records.append(rec)
        elif why:
            failed.append(f"{name}: not written: {why}")

    attempt("loss_curves", lambda: fig_loss_curves(sweep, models, out_dir))
    attempt("relative_gap", lambda: fig_relative_gap(sweep, models, out_dir))
    taken = set()
    hm = heatmap_runs(models)
    for x, entries in hm.items():
        for column, prefix in (("underflow_pct", "underflow"), ("saturation_pct", "saturation")):
            name = figure_name(prefix, x, taken)
            attempt(name, lambda: (fig_heatmap(sweep, x, entries, column, name, out_dir), None))
    rec_holder = []
    attempt("loss_scale", lambda: ((rec_holder.append(fig_loss_scale(sweep, models, out_dir)) or rec_holder[-1]),
                                   None))
    if rec_holder and rec_holder[-1] is None and any(r.usable for r in sweep.runs):
        log("loss_scale: no recipe uses a loss scale other than 1: not drawn")
    attempt("gap_vs_noise", lambda: fig_gap_vs_noise(sweep, models, out_dir))
    if records:
        style.write_index(out_dir, records)
        print(f"wrote {len(records)} figures to {out_dir} ({', '.join(r['name'] for r in records)}) "
              f"and {style.INDEX}")
    for f in failed:
        log(f)
    return 1 if failed else 0
