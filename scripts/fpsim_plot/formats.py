"""formats [FILE]: every format's dynamic range and precision on one chart.

Reads `fpsim formats --json` (docs/cli.md, "fpsim formats"; the fields are
docs/conversion-semantics.md's) from FILE, or, without FILE, runs it (the
fpsim of --fpsim, else this checkout's build/cli/fpsim, else fpsim on PATH)
and keeps its output as formats.json beside the figure, so the figure's
source is a file a reader can check. The figure, formats_range: left, one
horizontal bar per format on a log2 axis from its smallest subnormal
(lighter part) through its smallest normal to its largest finite value,
coloured by kind (ieee, fn, fnuz, finite, unsigned_scale, integer); right,
its precision, the mantissa bits M (epsilon = 2^-M). Bars beyond the
axis (fp64's 2^-1074 .. 2^1024 by default) are clipped, marked with an
arrow and their true ends written beside them; the CSV holds the true ends.
"""
import json
import math
import os
import shutil
import subprocess

from fpsim_plot import style
from fpsim_plot.errors import BadInput

NAME = "formats_range"
FIELDS = ("name", "bits", "exponent_bits", "mantissa_bits", "kind", "max_finite", "min_normal",
          "min_subnormal")
KIND_ORDER = ["ieee", "fn", "fnuz", "finite", "unsigned_scale", "integer"]


def add_arguments(p):
    p.add_argument("file", nargs="?", metavar="FILE", help="saved `fpsim formats --json` (default: run fpsim)")
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default: figures/ beside FILE; without FILE, ./figures)")
    p.add_argument("--fpsim", metavar="PATH", help="fpsim to run when no FILE is given")
    p.add_argument("--xlim", metavar="LO,HI", default="-160,140",
                   help="log2 axis limits (default -160,140: fp32 and narrower in full, fp64 clipped)")


def parse(text, source):
    """The list of format objects, checked; BadInput naming `source` otherwise."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise BadInput(f"{source}: not JSON ({e}); not fpsim formats --json output") from None
    if not isinstance(data, list) or not data:
        raise BadInput(f"{source}: not a JSON array of formats; not fpsim formats --json output")
    for i, f in enumerate(data, 1):
        if not isinstance(f, dict) or any(k not in f for k in FIELDS):
            missing = [k for k in FIELDS if not isinstance(f, dict) or k not in f]
            raise BadInput(f"{source}: entry {i} lacks {', '.join(missing)}; not fpsim formats --json output")
        for k in ("max_finite", "min_normal", "min_subnormal", "mantissa_bits", "bits"):
            if not isinstance(f[k], (int, float)) or isinstance(f[k], bool) or f[k] < 0:
                raise BadInput(f"{source}: entry {i} ({f['name']}): {k} is not a non-negative number")
        if not f["max_finite"] > 0 or not f["min_normal"] > 0:
            raise BadInput(f"{source}: entry {i} ({f['name']}): max_finite and min_normal must be > 0")
    return data


def find_fpsim(given):
    if given:
        return given
    here = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "build", "cli", "fpsim")
    return here if os.access(here, os.X_OK) else shutil.which("fpsim")


def run(args):
    try:
        lo, hi = (float(v) for v in args.xlim.split(","))
        if not lo < hi:
            raise ValueError
    except ValueError:
        raise BadInput(f"--xlim {args.xlim}: expected LO,HI with LO < HI") from None
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise BadInput(f"cannot read {args.file}: {e}") from None
        formats = parse(text, args.file)
        out_dir = args.out or os.path.join(os.path.dirname(os.path.abspath(args.file)), "figures")
        source = args.file
    else:
        exe = find_fpsim(args.fpsim)
        if not exe:
            raise BadInput("no FILE and no fpsim found (give FILE, or --fpsim PATH)")
        try:
            res = subprocess.run([exe, "formats", "--json"], capture_output=True, text=True)
        except OSError as e:
            raise BadInput(f"cannot run {exe}: {e}") from None
        if res.returncode != 0:
            raise BadInput(f"{exe} formats --json failed (exit {res.returncode}): {res.stderr.strip()}")
        formats = parse(res.stdout, f"{exe} formats --json")
        out_dir = args.out or "figures"
        os.makedirs(out_dir, exist_ok=True)
        source = os.path.join(out_dir, "formats.json")
        with open(source + ".tmp", "w") as f:
            f.write(res.stdout)
        os.replace(source + ".tmp", source)
    record = draw(formats, out_dir, source, (lo, hi))
    style.write_index(out_dir, [record])
    print(f"wrote {os.path.join(out_dir, NAME)}.pdf, .png, .csv and {style.INDEX}")
    return 0


def _log2(v):
    return math.log2(v) if v > 0 else float("nan")


def draw(formats, out_dir, source, xlim):
    lo, hi = xlim
    n = len(formats)
    fig, (ax, axp) = style.new_figure(style.DOUBLE, aspect=(0.17 * n + 0.7) / style.DOUBLE, nrows=1, ncols=2,
                                      sharey=True, gridspec_kw={"width_ratios": [4.2, 1]})
    kinds = [k for k in KIND_ORDER if any(f["kind"] == k for f in formats)]
    kinds += sorted({f["kind"] for f in formats} - set(kinds))
    colour = {k: style.series_style(i)["color"] for i, k in enumerate(kinds)}
    rows, clipped = [], []
    for i, f in enumerate(formats):
        sub, nor, mx = _log2(f["min_subnormal"]), _log2(f["min_normal"]), _log2(f["max_finite"])
        c = colour[f["kind"]]
        start = sub if not math.isnan(sub) else nor
        if not math.isnan(sub):
            ax.barh(i, nor - sub, left=sub, height=0.62, color=c, alpha=0.35, edgecolor="none")
        ax.barh(i, mx - nor, left=nor, height=0.62, color=c, edgecolor="none")
        ends = []
        if start < lo:
            ax.annotate("", xy=(lo, i), xytext=(lo + 6, i),
                        arrowprops={"arrowstyle": "->", "lw": 0.6, "color": "black"})
            ends.append(f"from 2^{start:g}")
        if mx > hi:
            ax.annotate("", xy=(hi, i), xytext=(hi - 6, i),
                        arrowprops={"arrowstyle": "->", "lw": 0.6, "color": "black"})
            ends.append(f"to 2^{mx:g}")
        if ends:
            clipped.append(f["name"])
            ax.text(min(mx, hi) - 8, i, ", ".join(ends), ha="right", va="center", fontsize=5.5, color="white")
        axp.barh(i, f["mantissa_bits"], height=0.62, color=c, edgecolor="none")
        axp.text(f["mantissa_bits"] + 0.6, i, str(f["mantissa_bits"]), va="center", fontsize=5.5)
        rows.append([f["name"], f["bits"], f["exponent_bits"], f["mantissa_bits"], f["kind"],
                     f.get("signed", True), f["min_subnormal"], f["min_normal"], f["max_finite"], sub, nor, mx])
    labels = [f"{f['name']} ({f['bits']} bits{'' if f.get('signed', True) else ', unsigned'})" for f in formats]
    ax.set_yticks(range(n), labels)
    ax.invert_yaxis()
    ax.set_xlim(lo, hi)
    ax.axvline(0, color="#888888", linewidth=0.5, zorder=0)
    ax.set_xlabel("magnitude, log2 (min subnormal, light; min normal to max finite, solid)")
    ax.grid(axis="y", visible=False)
    ax.set_axisbelow(True)
    axp.set_axisbelow(True)
    axp.set_xlabel("mantissa bits M")
    axp.grid(axis="y", visible=False)
    axp.set_xlim(0, max(f["mantissa_bits"] for f in formats) * 1.25 + 1)
    axp.tick_params(axis="y", left=False)
    handles = [style.plt.Rectangle((0, 0), 1, 1, color=colour[k]) for k in kinds]
    ax.legend(handles, kinds, title="kind", title_fontsize=6, loc="lower left", bbox_to_anchor=(0.0, 1.0),
              ncol=len(kinds), borderaxespad=0.2, handlelength=1.2, columnspacing=1.0)
    fig.tight_layout(w_pad=0.5)
    caption = ("Dynamic range and precision of every fpsim format: bars from the smallest subnormal (lighter) "
               "and the smallest normal to the largest finite value on a log2 axis; right, mantissa bits M "
               "(epsilon 2^-M).")
    if clipped:
        caption += f" Arrows: {', '.join(clipped)} run beyond the axis (true ends written in the bar)."
    columns = ["name", "bits", "exponent_bits", "mantissa_bits", "kind", "signed", "min_subnormal", "min_normal",
               "max_finite", "log2_min_subnormal", "log2_min_normal", "log2_max_finite"]
    return style.save(fig, out_dir, NAME, caption, [source], columns, rows)
