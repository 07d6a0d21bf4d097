"""ulp FILE...: ULP-error histograms of fpsim verify and fpsim mma --expect comparisons.

Reads the saved stdout of `fpsim verify` (docs/cli.md, "fpsim verify") or
`fpsim mma ... --expect` (docs/cli.md, "fpsim mma"); one figure per file,
ulp_<file name>, a bar chart of cases per ULP-distance bucket on a log count
axis, the count written over each bar. The buckets are fpsim's own (1, 2,
3-4, 5-8, ..., 524289-1048576, >1048576), after "match" (bit-exact cases,
the passed count) and a 0-ULP bucket for mismatches of equal value.

What each output holds, and so what is drawn:
- `fpsim mma --expect` prints the histogram of ALL its mismatches (in the
  output format's ULPs, and for FP16 output a second one, in FP32 ULPs, of
  expected values that are not FP16 values): drawn as printed, a series
  each, beside "match" = the passed rows. Nothing is recomputed.
- `fpsim verify` prints no distances: only the pass/fail counts (per
  rounding mode with --rounding all) and the first --max-report mismatches
  as codes. The distance of each printed mismatch is computed here from its
  codes, as fpsim mma defines it (docs/cli.md, "fpsim mma"): codes counted
  in signed-magnitude order in the result format's code space (+0 and -0
  are 0 apart), min over the two candidates of a stochastic-rounding
  result; equal codes (a flags-only mismatch) go to "0 (flags only)", a NaN
  on either side to "NaN", a comparison's 0/1 result to "not a code", and
  mismatches verify did not print to "not printed". One series per rounding
  mode. The result format's layout (width, sign, NaN codes) comes from
  `fpsim formats --json` (--formats FILE, or run via --fpsim), or from the
  name for user formats eXmY[fn|fnuz][bN]; it is only needed when a verify
  file has mismatches.
"""
import json
import os
import re
import shutil
import subprocess
import sys

from fpsim_plot import style
from fpsim_plot.errors import BadInput

TOP_BUCKET = 21  # fpsim mma's buckets: 1, 2, 3-4, ..., 2^19+1-2^20, >2^20
MATCH = "match"
ZERO_SIGN = "0 (sign of zero)"
ZERO_FLAGS = "0 (flags only)"
NAN = "NaN"
NOT_CODE = "not a code"
NOT_PRINTED = "not printed"


def bucket_label(b):
    if b == 0:
        return "1"
    if b == 1:
        return "2"
    if b == TOP_BUCKET:
        return f">{1 << (TOP_BUCKET - 1)}"
    return f"{(1 << (b - 1)) + 1}-{1 << b}"


BUCKETS = [bucket_label(b) for b in range(TOP_BUCKET + 1)]


def bucket_of(ulps):
    """fpsim mma's bucket of a distance >= 1: bit_width(ulps - 1), capped."""
    return min((ulps - 1).bit_length(), TOP_BUCKET)


def add_arguments(p):
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="saved stdout of fpsim verify or fpsim mma --expect")
    p.add_argument("--out", metavar="DIR", help="output folder (default: figures/ beside the first FILE)")
    p.add_argument("--formats", metavar="FILE",
                   help="saved `fpsim formats --json` (format layouts for verify mismatches)")
    p.add_argument("--fpsim", metavar="PATH",
                   help="fpsim to run `formats --json` when --formats is not given "
                        "(default: build/cli/fpsim of this checkout, else fpsim on PATH)")


# ---------------------------------------------------------------- reading

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")
VERIFY_HEAD = re.compile(r"^verify (\S+) (\S+) -> (\S+), oracle (\S+),")
MODE_LINE = re.compile(r"^([a-z0-9]+): (\d+) passed, (\d+) failed$")
VERIFY_MISMATCH = re.compile(
    r"^mismatch \[([a-z0-9]+)\] case (\d+): (\S+)\((.*)\) expected (\S+) flags ([0-9a-f]+)"
    r"(?: or (\S+) flags ([0-9a-f]+))?, got (\S+) flags ([0-9a-f]+)$")
# stderr lines, when a user saved 2>&1: progress and the final timing.
PROGRESS = re.compile(r"^(\S+ \d+ / \d+ \(|[0-9.]+ s on \d+ threads?,)")
MMA_HEAD = re.compile(r"^fpsim mma: model (\S+), K=(\d+), (\d+) rows?, expected (.*)$")
MMA_ROW = re.compile(r"^row (\d+): expected 0x([0-9a-f]{8}) \(.*\), got 0x([0-9a-f]{8}) \(.*\), (.*)$")
MMA_HIST = re.compile(r"^ULP histogram of the (\d+) mismatch(?:es)?"
                      r"( whose expected value is not an? \S+ value)? \((\S+) ulps\):$")
MMA_BUCKET = re.compile(r"^  (.+): (\d+)$")
MMA_HIDDEN = re.compile(r"^\((\d+) more mismatch(?:es)? not shown; --max-report N shows more\)$")


def read_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = [ln.rstrip("\r\n").replace("\r", "") for ln in f]
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read {path}: {e}") from None
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise BadInput(f"{path} is empty; not fpsim verify or fpsim mma --expect output")
    if VERIFY_HEAD.match(lines[0]):
        return read_verify(path, lines)
    if MMA_HEAD.match(lines[0]):
        return read_mma(path, lines)
    raise BadInput(f"{path}: first line is neither fpsim verify's header ('verify OP FMT -> FMT, ...') "
                   f"nor fpsim mma --expect's ('fpsim mma: model ...'); not their output")


def _summary(path, lines):
    m = SUMMARY.match(lines[-1])
    if not m:
        raise BadInput(f"{path}: no final 'N passed, M failed' line (a cut-off file?)")
    return int(m.group(1)), int(m.group(2))


def read_verify(path, lines):
    head = VERIFY_HEAD.match(lines[0])
    passed, failed = _summary(path, lines)
    modes, mismatches = {}, []
    for i, ln in enumerate(lines[1:-1], 2):
        if PROGRESS.match(ln):
            continue
        m = MODE_LINE.match(ln)
        if m:
            modes[m.group(1)] = (int(m.group(2)), int(m.group(3)))
            continue
        m = VERIFY_MISMATCH.match(ln)
        if m:
            mismatches.append({"mode": m.group(1), "case": int(m.group(2)), "expected": m.group(5),
                               "expected_flags": m.group(6), "expected2": m.group(7),
                               "expected2_flags": m.group(8), "got": m.group(9), "got_flags": m.group(10)})
            continue
        raise BadInput(f"{path} line {i}: unexpected line for fpsim verify output: {ln[:60]!r}")
    if not modes:  # one mode: its name is the mismatches' tag, or unknown when none failed
        tags = {x["mode"] for x in mismatches}
        modes[tags.pop() if len(tags) == 1 else "all"] = (passed, failed)
    if sum(p for p, _ in modes.values()) != passed or sum(f for _, f in modes.values()) != failed:
        raise BadInput(f"{path}: the per-mode counts do not add up to the final line")
    return {"kind": "verify", "path": path, "op": head.group(1), "format": head.group(2),
            "to": head.group(3), "oracle": head.group(4), "passed": passed, "failed": failed,
            "modes": modes, "mismatches": mismatches}


def read_mma(path, lines):
    head = MMA_HEAD.match(lines[0])
    passed, failed = _summary(path, lines)
    rows_n = int(head.group(3))
    if passed + failed != rows_n:
        raise BadInput(f"{path}: {passed} passed + {failed} failed is not the header's {rows_n} rows")
    hists, cur, printed = [], None, 0
    for i, ln in enumerate(lines[1:-1], 2):
        m = MMA_HIST.match(ln)
        if m:
            cur = {"mismatches": int(m.group(1)), "not_output_value": bool(m.group(2)),
                   "unit": m.group(3), "counts": {}}
            hists.append(cur)
            continue
        if cur is not None:
            m = MMA_BUCKET.match(ln)
            if not m or m.group(1) not in BUCKETS + [ZERO_SIGN, NAN]:
                raise BadInput(f"{path} line {i}: not a histogram bucket: {ln[:60]!r}")
            cur["counts"][m.group(1)] = int(m.group(2))
            continue
        if MMA_ROW.match(ln):
            printed += 1
        elif not (ln.startswith("  a ") or ln.startswith("  b ") or ln.startswith("  c ") or MMA_HIDDEN.match(ln)):
            raise BadInput(f"{path} line {i}: unexpected line for fpsim mma --expect output: {ln[:60]!r}")
    for h in hists:
        if sum(h["counts"].values()) != h["mismatches"]:
            raise BadInput(f"{path}: a histogram's buckets sum to {sum(h['counts'].values())}, "
                           f"its heading says {h['mismatches']}")
    if sum(h["mismatches"] for h in hists) != failed:
        raise BadInput(f"{path}: the histograms count {sum(h['mismatches'] for h in hists)} mismatches, "
                       f"the final line {failed}")
    return {"kind": "mma", "path": path, "model": head.group(1), "k": int(head.group(2)),
            "expect": head.group(4), "passed": passed, "failed": failed, "histograms": hists}


# ---------------------------------------------------------------- format layouts (verify)

USER_FORMAT = re.compile(r"^e(\d+)m(\d+)(fn|fnuz)?(?:b(-?\d+))?$")


class Layout:
    """Where a format's sign, exponent and mantissa sit in its codes (fpsim formats --json)."""

    def __init__(self, name, bits, e, m, kind, signed, shift=0):
        self.name, self.bits, self.e, self.m, self.kind, self.signed, self.shift = name, bits, e, m, kind, signed, shift
        top = bits - 1 + shift
        self.sign_mask = (1 << top) if signed else 0
        self.mag_mask = ((1 << top) if signed else (1 << (bits + shift))) - 1

    def is_nan(self, code):
        mag = (code & self.mag_mask) >> self.shift
        if self.kind == "ieee":
            return (mag >> self.m) == (1 << self.e) - 1 and mag & ((1 << self.m) - 1) != 0
        if self.kind == "fn":
            return mag == (1 << (self.e + self.m)) - 1
        if self.kind == "fnuz":
            return code == self.sign_mask
        if self.kind == "unsigned_scale":
            return mag == (1 << self.bits) - 1
        return False

    def ordinal(self, code):
        if self.kind == "integer":
            return code - (1 << self.bits) if code >> (self.bits - 1) else code
        mag = (code & self.mag_mask) >> self.shift
        return -mag if code & self.sign_mask else mag


def layouts_from_json(formats):
    out = {}
    for f in formats:
        max_code = int(str(f.get("max_code", "0")), 16) if str(f.get("max_code", "")).startswith("0x") else 0
        bits = int(f["bits"])
        # tf32: 19 bits kept in FP32's positions (max_code 0x7f7fe000): the low 13 bits are padding.
        shift = 0
        if max_code >> bits:
            container = 32 if max_code < (1 << 32) else 64
            shift = container - bits
        lay = Layout(f["name"], bits, int(f["exponent_bits"]), int(f["mantissa_bits"]), f["kind"],
                     bool(f.get("signed", True)), shift)
        for n in [f["name"]] + list(f.get("aliases", [])):
            out[n.lower()] = lay
    return out


def user_layout(name):
    m = USER_FORMAT.match(name.lower())
    if not m:
        return None
    e, mm = int(m.group(1)), int(m.group(2))
    return Layout(name, 1 + e + mm, e, mm, m.group(3) or "ieee", True)


def load_formats(args):
    """{name or alias: Layout} from --formats FILE or `fpsim formats --json`; raises OSError/ValueError."""
    if args.formats:
        with open(args.formats) as f:
            return layouts_from_json(json.load(f))
    exe = args.fpsim
    if not exe:
        here = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "build", "cli", "fpsim")
        exe = here if os.access(here, os.X_OK) else shutil.which("fpsim")
    if not exe:
        raise OSError("no fpsim found (give --formats FILE or --fpsim PATH)")
    run = subprocess.run([exe, "formats", "--json"], capture_output=True, text=True)
    if run.returncode != 0:
        raise OSError(f"{exe} formats --json failed: {run.stderr.strip()}")
    return layouts_from_json(json.loads(run.stdout))


def verify_distance(mm, lay):
    """The bucket of one printed verify mismatch (see the module docstring)."""
    codes = [mm["expected"], mm["got"]] + ([mm["expected2"]] if mm["expected2"] else [])
    if not all(c.startswith("0x") for c in codes):
        return NOT_CODE
    exp = [int(mm["expected"], 16)] + ([int(mm["expected2"], 16)] if mm["expected2"] else [])
    got = int(mm["got"], 16)
    if lay.is_nan(got) or any(lay.is_nan(e) for e in exp):
        return NAN
    d = min(abs(lay.ordinal(e) - lay.ordinal(got)) for e in exp)
    if d == 0:
        return ZERO_SIGN if got not in exp else ZERO_FLAGS
    return BUCKETS[bucket_of(d)]


# ---------------------------------------------------------------- series

def mma_series(r):
    """[(series label, {category: count})] exactly as fpsim mma printed them."""
    out = []
    for h in r["histograms"]:
        counts = dict(h["counts"])
        if not h["not_output_value"]:
            counts = {MATCH: r["passed"], **counts}
            label = f"{h['unit']} ulps"
        else:
            label = f"{h['unit']} ulps (expected not an output-format value)"
        out.append((label, counts))
    if not r["histograms"]:
        out.append(("all rows", {MATCH: r["passed"]}))
    return out


def verify_series(r, layouts):
    fmt = r["to"]
    lay = None
    if any(m["expected"].startswith("0x") for m in r["mismatches"]):
        lay = (layouts or {}).get(fmt.lower()) or user_layout(fmt)
        if lay is None:
            raise LookupError(f"result format {fmt} is not in fpsim formats --json nor a user format eXmY")
    out = []
    for mode, (passed, failed) in r["modes"].items():
        counts = {MATCH: passed}
        mine = [m for m in r["mismatches"] if mode in ("all", m["mode"])]
        for m in mine:
            cat = verify_distance(m, lay) if lay else NOT_CODE
            counts[cat] = counts.get(cat, 0) + 1
        if failed - len(mine):
            counts[NOT_PRINTED] = failed - len(mine)
        out.append((mode, counts))
    return out


def categories(series):
    """The x axis: match, zeros, buckets 1 .. the largest used (as fpsim lists them), then the rest."""
    used = set()
    for _, c in series:
        used |= set(c)
    cats = [MATCH] + [z for z in (ZERO_SIGN, ZERO_FLAGS) if z in used]
    top = max([BUCKETS.index(c) for c in used if c in BUCKETS], default=-1)
    cats += BUCKETS[:top + 1]
    cats += [c for c in (NAN, NOT_CODE, NOT_PRINTED) if c in used]
    return cats


# ---------------------------------------------------------------- drawing

def figure_names(paths):
    names, seen = [], {}
    for p in paths:
        stem = os.path.basename(p)
        for ext in (".gz", ".txt", ".log", ".out"):
            if stem.endswith(ext):
                stem = stem[: -len(ext)]
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem) or "input"
        n = seen.get(stem, 0) + 1
        seen[stem] = n
        names.append(f"ulp_{stem}" if n == 1 else f"ulp_{stem}_{n}")
    return names


def run(args):
    results = [read_file(p) for p in args.files]
    out_dir = args.out or os.path.join(os.path.dirname(os.path.abspath(args.files[0])), "figures")
    layouts, layout_error = None, None
    if any(r["kind"] == "verify" and any(m["expected"].startswith("0x") for m in r["mismatches"])
           for r in results):
        try:
            layouts = load_formats(args)
        except (OSError, ValueError, KeyError) as e:
            layout_error = str(e)
    records, failures = [], []
    for r, name in zip(results, figure_names(args.files)):
        try:
            if r["kind"] == "mma":
                series = mma_series(r)
            else:
                if layout_error and any(m["expected"].startswith("0x") for m in r["mismatches"]):
                    raise LookupError(f"format layouts unavailable: {layout_error}")
                series = verify_series(r, layouts)
        except LookupError as e:
            failures.append(f"{name} ({r['path']}): {e}")
            continue
        records.append(draw(r, series, out_dir, name))
    if records:
        style.write_index(out_dir, records)
        print(f"wrote {', '.join(rec['name'] for rec in records)} (.pdf, .png, .csv) and "
              f"{style.INDEX} in {out_dir}")
    for f in failures:
        print(f"plot ulp: not drawn: {f}", file=sys.stderr)
    return 1 if failures else 0


def draw(r, series, out_dir, name):
    cats = categories(series)
    width = style.SINGLE if len(cats) <= 12 else style.DOUBLE
    fig, ax = style.new_figure(width, aspect=0.62 if width == style.SINGLE else 0.36)
    n = len(series)
    bar_w = 0.8 / n
    rows = []
    for si, (label, counts) in enumerate(series):
        xs = [i - 0.4 + bar_w * (si + 0.5) for i in range(len(cats))]
        ys = [counts.get(c, 0) for c in cats]
        colour = style.series_style(si)["color"]
        ax.bar(xs, ys, width=bar_w, color=colour, label=label if n > 1 else None,
               hatch=None, edgecolor="none")
        for x, y in zip(xs, ys):
            if y > 0:
                ax.text(x, y * 1.15, str(y), ha="center", va="bottom", fontsize=4.5 if n > 1 else 5,
                        rotation=90 if n > 1 else 0)
        for c, y in zip(cats, ys):
            rows.append([label, c, y])
    ax.set_yscale("log")
    ax.set_axisbelow(True)
    top = max([y for _, c in series for y in c.values()] + [1])
    ax.set_ylim(0.7, top * (60 if n > 1 else 5))
    ax.set_xticks(range(len(cats)), cats, rotation=60, ha="right", rotation_mode="anchor")
    ax.set_xlim(-0.6, len(cats) - 0.4)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("cases")
    if r["kind"] == "mma":
        unit = r["histograms"][0]["unit"] if r["histograms"] else "output-format"
        ax.set_xlabel(f"distance of the model's D from the expected D ({unit} ulps)")
        total = r["passed"] + r["failed"]
        ax.set_title(f"{r['model']}, K = {r['k']}: {r['passed']} of {total} rows bit-exact")
        caption = (f"fpsim mma --model {r['model']} --expect {r['expect']}: rows per distance of the model's "
                   f"result from the expected one, in ULPs of the output format (codes in signed-magnitude "
                   f"order, docs/cli.md 'fpsim mma'), in fpsim's histogram buckets, as printed; 'match' = "
                   f"the {r['passed']} bit-exact rows. Log count axis; empty buckets have no bar.")
    else:
        ax.set_xlabel(f"distance from the oracle's result ({r['to']} ulps)")
        ax.set_title(f"verify {r['op']} {r['format']} -> {r['to']} ({r['oracle']}): "
                     f"{r['failed']} of {r['passed'] + r['failed']} failed")
        printed = len(r["mismatches"])
        caption = (f"fpsim verify --op {r['op']} --format {r['format']}, oracle {r['oracle']}: cases per "
                   f"distance of fpsim's result from the oracle's; 'match' = passed cases")
        if r["failed"]:
            caption += (f". Distances of the {printed} printed mismatches (of {r['failed']}) computed from "
                        f"their codes in signed-magnitude order of {r['to']} (docs/cli.md 'fpsim mma'); "
                        f"verify prints no distances and only --max-report mismatches ('not printed')")
        else:
            caption += "; there were no mismatches"
        caption += ". Log count axis" + (", one bar per rounding mode." if n > 1 else ".")
    if n > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=1, fontsize=5.5, handlelength=1.0,
                  title="series" if r["kind"] == "mma" else "rounding", title_fontsize=5.5)
    fig.tight_layout()
    return style.save(fig, out_dir, name, caption, [r["path"]], ["series", "bucket", "count"], rows)
