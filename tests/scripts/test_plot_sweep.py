#!/usr/bin/python3
"""scripts/plot sweep DIR: every figure of a small real sweep, checked against the run files.

Makes a tiny sweep with the fpsim binary in a temporary folder (the MLP on
synthetic data, recipes fp32, fp16-amp and fp8-current, seeds 0 and 1, 60
steps, evaluation and statistics every 20 steps, plus the FP32 noise-floor
runs), runs `scripts/plot sweep DIR` headless and checks: every expected file
exists (PDF starts with %PDF and ends with %%EOF, PNG has its signature and a
sensible size), figures.json lists them and keeps another command's entry,
and each figure's CSV equals an independent recomputation from the run
files, read here with this file's own small readers:

- loss_curves: the smoothed loss of docs/training.md, "Divergence report",
  "The numbers of one run" (trailing mean over max(1, floor(T/20)) steps,
  summed in step order), mean over seeds in run-list order; the FP32 spread
  (min-max over the FP32 and noise-floor runs); the eval metric means.
- relative_gap: (S_r - S_f) / S_f per seed, mean over seeds; the noise band
  +- max over seeds of |(S_n - S_f) / S_f|.
- heatmaps: quant_stats.csv's underflow_pct / saturation_pct text, seed 0.
- loss_scale: metrics.csv's loss_scale and skipped columns.
- gap_vs_noise: `fpsim report`'s report.json gap_over_noise (the C++
  implementation), per run and per row mean, within 1e-12 relative (the
  tolerance of scripts/check_report.py), and this file's recomputation.

The sums here run in the order the docs state, as the package's do, so the
smoothed losses and gaps compare exactly (==), not within a tolerance.

A second sweep with lr = 30 and no clipping makes fp16-amp skip steps and
stop on a NaN loss at step 12: the figures are still written, the curves end
at the stop, stderr names the stopped runs. Damaged copies: runs missing or
unfinished, a run without its FP32 partner, corrupted metrics.csv files
(named with their line), no FP32 runs at all (exit 1: the gap figures cannot
be made, the others are), and directories that are not sweeps (exit 2,
nothing written).

Usage: /usr/bin/python3 tests/scripts/test_plot_sweep.py --fpsim build/cli/fpsim
Exit 77 with a SKIP line when matplotlib or numpy is missing.
"""
import csv
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_test_main  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLOT = os.path.join(ROOT, "scripts", "plot")
FPSIM = None
PY = "/usr/bin/python3"
STEPS = 60
RECIPES = ["fp32", "fp16-amp", "fp8-current"]
SEEDS = [0, 1]
BASE_FIGURES = ["loss_curves", "relative_gap", "underflow_fp16-amp", "saturation_fp16-amp",
                "underflow_fp8-current", "saturation_fp8-current", "loss_scale", "gap_vs_noise"]

SWEEP_TOML = """name = "plot-test"
models = ["mlp"]
recipes = ["fp32", "fp16-amp", "fp8-current"]
seeds = [0, 1]
steps = 60
eval_interval = 20
stats_interval = 20

[model.mlp]
data = "synthetic"
"""


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def plot(directory, *extra):
    return run([PLOT, "sweep", directory, *extra])


def make_sweep(parent, name, extra_settings="", recipes=None):
    cfg = os.path.join(parent, f"{name}.toml")
    text = SWEEP_TOML.replace('name = "plot-test"', f'name = "{name}"')
    if recipes:
        text = text.replace('recipes = ["fp32", "fp16-amp", "fp8-current"]', f"recipes = {json.dumps(recipes)}")
    with open(cfg, "w") as f:
        f.write(text + extra_settings)
    out = os.path.join(parent, name)
    r = run([FPSIM, "sweep", cfg, "--out", out, "--jobs", "2"])
    if r.returncode != 0:
        raise RuntimeError(f"fpsim sweep failed ({r.returncode}): {r.stderr}")
    return out


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def num(text):
    return None if text == "" else float(text)


# ---------------------------------------------------------------- independent readers and formulas

def sweep_runs(d):
    with open(os.path.join(d, "sweep.json")) as f:
        return json.load(f)["runs"]


def metrics(d, rid):
    """{loss: [...], scale: [...], skipped: [...], evals: {step: value}} of runs/<rid>/metrics.csv."""
    rows = read_csv(os.path.join(d, "runs", rid, "metrics.csv"))
    assert rows[0] == ["step", "loss", "lr", "loss_scale", "skipped", "grad_norm", "eval_metric"]
    out = {"loss": [], "scale": [], "skipped": [], "evals": {}}
    for i, r in enumerate(rows[1:], start=1):
        assert int(r[0]) == i
        out["loss"].append(float(r[1]))
        out["scale"].append(float(r[3]))
        out["skipped"].append(int(r[4]))
        if r[6] != "":
            out["evals"][i] = float(r[6])
    return out


def smooth(loss, steps):
    """docs/training.md "The numbers of one run": S(t), from scripts/check_report.py, the report's independent
    checker (no code of the plotting package)."""
    sys.path.insert(0, os.path.join(plot_test_main.ROOT, "scripts"))
    import check_report  # numpy: imported once matplotlib and numpy are known to be there
    return check_report.smoothed(loss, steps)


def mean(seqs):
    n = min(len(s) for s in seqs)
    out = []
    for t in range(n):
        total = 0.0
        for s in seqs:
            total += s[t]
        out.append(total / len(seqs))
    return out


def rel(a, b):
    return [(x - y) / y for x, y in zip(a, b)]


def same(a, b):
    """Exactly equal doubles, NaN equal to NaN."""
    return a == b or (a is not None and b is not None and math.isnan(a) and math.isnan(b))


# ---------------------------------------------------------------- file checks

def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    assert head[12:16] == b"IHDR", path
    return struct.unpack(">II", head[16:24])


class PlotSweep(unittest.TestCase):
    tmp = None
    sweep = None
    result = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="test_plot_sweep.")
        cls.sweep = make_sweep(cls.tmp, "tiny")
        r = run([FPSIM, "report", cls.sweep, "--format", "json"])
        if r.returncode != 0:
            raise RuntimeError(f"fpsim report failed: {r.stderr}")
        # another command's entry in the index must survive
        os.makedirs(os.path.join(cls.sweep, "figures"))
        with open(os.path.join(cls.sweep, "figures", "figures.json"), "w") as f:
            json.dump({"figures": [{"name": "formats_range", "caption": "x", "sources": [], "files": {}}]}, f)
        cls.result = plot(cls.sweep)

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def copy(self, name):
        dst = os.path.join(self.tmp, name)
        shutil.copytree(self.sweep, dst, ignore=shutil.ignore_patterns("figures", "report.*"))
        return dst

    def check_files(self, fig_dir, names):
        for name in names:
            pdf = os.path.join(fig_dir, name + ".pdf")
            with open(pdf, "rb") as f:
                data = f.read()
            self.assertTrue(data.startswith(b"%PDF"), pdf)
            self.assertTrue(data.rstrip().endswith(b"%%EOF"), pdf)
            self.assertGreater(len(data), 1024, pdf)
            w, h = png_size(os.path.join(fig_dir, name + ".png"))
            self.assertTrue(600 <= w <= 4000 and 300 <= h <= 6000, f"{name}.png is {w} x {h}")
            self.assertTrue(os.path.getsize(os.path.join(fig_dir, name + ".csv")) > 0)

    # ------------------------------------------------------------ the complete sweep

    def test_files_and_index(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        fig_dir = os.path.join(self.sweep, "figures")
        self.check_files(fig_dir, BASE_FIGURES)
        self.assertFalse(os.path.exists(os.path.join(fig_dir, "underflow_fp32.png")))  # fp32 has no rows
        with open(os.path.join(fig_dir, "figures.json")) as f:
            index = json.load(f)["figures"]
        self.assertEqual([e["name"] for e in index], ["formats_range"] + BASE_FIGURES)
        for e in index[1:]:
            self.assertEqual(e["files"], {k: f"{e['name']}.{k}" for k in ("pdf", "png", "csv")})
            self.assertIn("sweep.json", e["sources"])
            self.assertTrue(e["caption"])

    def test_loss_curves(self):
        rows = read_csv(os.path.join(self.sweep, "figures", "loss_curves.csv"))
        self.assertEqual(rows[0], ["model", "quantity", "step"] + RECIPES + ["fp32_spread_min", "fp32_spread_max"])
        runs = sweep_runs(self.sweep)
        m = {r["id"]: metrics(self.sweep, r["id"]) for r in runs}
        loss_rows = [r for r in rows[1:] if r[1] == "smoothed_loss"]
        self.assertEqual([int(r[2]) for r in loss_rows], list(range(1, STEPS + 1)))
        for k, recipe in enumerate(RECIPES):
            ids = [r["id"] for r in runs if r["recipe"] == recipe and r["role"] == "recipe"]
            self.assertEqual(len(ids), 2)
            want = mean([smooth(m[i]["loss"], STEPS) for i in ids])
            got = [float(r[3 + k]) for r in loss_rows]
            self.assertEqual(got, want, recipe)   # exact: same sums in the same order
        fp32 = [smooth(m[r["id"]]["loss"], STEPS) for r in runs if r["recipe"] == "fp32"]
        self.assertEqual(len(fp32), 4)  # 2 recipe runs + 2 noise-floor runs
        self.assertEqual([float(r[6]) for r in loss_rows], [min(s[t] for s in fp32) for t in range(STEPS)])
        self.assertEqual([float(r[7]) for r in loss_rows], [max(s[t] for s in fp32) for t in range(STEPS)])
        eval_rows = [r for r in rows[1:] if r[1] != "smoothed_loss"]
        self.assertEqual({r[1] for r in eval_rows}, {"test_accuracy"})
        self.assertEqual([int(r[2]) for r in eval_rows], [20, 40, 60])
        for k, recipe in enumerate(RECIPES):
            ids = [r["id"] for r in runs if r["recipe"] == recipe and r["role"] == "recipe"]
            for r in eval_rows:
                t = int(r[2])
                total = 0.0
                for i in ids:
                    total += m[i]["evals"][t]
                self.assertEqual(float(r[3 + k]), total / len(ids))

    def test_relative_gap(self):
        rows = read_csv(os.path.join(self.sweep, "figures", "relative_gap.csv"))
        self.assertEqual(rows[0], ["model", "step", "fp16-amp", "fp8-current", "noise_floor_halfwidth"])
        runs = sweep_runs(self.sweep)
        s = {r["id"]: smooth(metrics(self.sweep, r["id"])["loss"], STEPS) for r in runs}
        ref = {r["seed"]: s[r["id"]] for r in runs if r["recipe"] == "fp32" and r["role"] == "recipe"}
        self.assertEqual(len(rows) - 1, STEPS)
        for k, recipe in enumerate(["fp16-amp", "fp8-current"]):
            gaps = [rel(s[r["id"]], ref[r["seed"]]) for r in runs if r["recipe"] == recipe]
            self.assertEqual([float(r[2 + k]) for r in rows[1:]], mean(gaps), recipe)
        noise = [[abs(x) for x in rel(s[r["id"]], ref[r["seed"]])] for r in runs if r["role"] == "noise_floor"]
        self.assertEqual(len(noise), 2)
        self.assertEqual([float(r[4]) for r in rows[1:]], [max(n[t] for n in noise) for t in range(STEPS)])

    def test_heatmaps(self):
        for recipe in ("fp16-amp", "fp8-current"):
            src = read_csv(os.path.join(self.sweep, "runs", f"mlp-{recipe}-s0-d0", "quant_stats.csv"))
            head = src[0]
            for column in ("underflow_pct", "saturation_pct"):
                name = f"{column.split('_')[0]}_{recipe}"
                rows = read_csv(os.path.join(self.sweep, "figures", name + ".csv"))
                self.assertEqual(rows[0], ["model", "seed", "layer", "gemm", "operand", "tensor", "step", column])
                c = head.index(column)
                keys = []
                for r in src[1:]:
                    if tuple(r[1:5]) not in keys:
                        keys.append(tuple(r[1:5]))
                want = sorted((["mlp", "0", *r[1:5], r[0], r[c]] for r in src[1:]),
                              key=lambda r: (keys.index(tuple(r[2:6])), int(r[6])))
                self.assertEqual(rows[1:], want, name)
                self.assertEqual(len(rows) - 1, 16 * 4)  # 16 operands of the MLP x steps 1, 20, 40, 60

    def test_loss_scale(self):
        rows = read_csv(os.path.join(self.sweep, "figures", "loss_scale.csv"))
        self.assertEqual(rows[0], ["model", "recipe", "seed", "step", "loss_scale", "skipped"])
        self.assertEqual({r[1] for r in rows[1:]}, {"fp16-amp"})
        for seed in SEEDS:
            m = metrics(self.sweep, f"mlp-fp16-amp-s{seed}-d0")
            mine = [r for r in rows[1:] if r[2] == str(seed)]
            self.assertEqual([int(r[3]) for r in mine], list(range(1, STEPS + 1)))
            self.assertEqual([float(r[4]) for r in mine], m["scale"])
            self.assertEqual([int(r[5]) for r in mine], m["skipped"])

    def test_gap_vs_noise_equals_report(self):
        with open(os.path.join(self.sweep, "report.json")) as f:
            report = json.load(f)
        values = {r["id"]: r["values"]["gap_over_noise"] for r in report["runs"]}
        means = {r["recipe"]: r["metrics"]["gap_over_noise"] for r in report["rows"] if r["role"] == "recipe"}
        rows = read_csv(os.path.join(self.sweep, "figures", "gap_vs_noise.csv"))
        self.assertEqual(rows[0], ["model", "recipe", "kind", "seed", "gap_over_noise", "n"])
        seen = set()
        runs = sweep_runs(self.sweep)
        s = {r["id"]: smooth(metrics(self.sweep, r["id"])["loss"], STEPS) for r in runs}
        for r in rows[1:]:
            got = float(r[4])
            if r[2] == "seed":
                rid = f"mlp-{r[1]}-s{r[3]}-d0"
                want = values[rid]
                f, n = s[f"mlp-fp32-s{r[3]}-d0"], s[f"mlp-fp32-s{r[3]}-d1"]
                mine = abs((s[rid][-1] - f[-1]) / f[-1]) / abs((n[-1] - f[-1]) / f[-1])
                self.assertEqual(got, mine, rid)
                seen.add(rid)
            else:
                want = means[r[1]]["mean"]
                self.assertEqual(int(r[5]), means[r[1]]["n"])
            self.assertLessEqual(abs(got - want), 1e-12 * max(abs(got), abs(want)), r)
        self.assertEqual(seen, {f"mlp-{x}-s{s_}-d0" for x in ("fp16-amp", "fp8-current") for s_ in SEEDS})

    # ------------------------------------------------------------ stopped runs, skipped steps

    def test_stopped_and_skipped(self):
        d = make_sweep(self.tmp, "diverging", "lr = 30\nclip = 0\n", recipes=["fp32", "fp16-amp"])
        stopped = []
        for seed in SEEDS:
            with open(os.path.join(d, "runs", f"mlp-fp16-amp-s{seed}-d0", "summary.json")) as f:
                if json.load(f)["status"] == "stopped":
                    stopped.append(f"mlp-fp16-amp-s{seed}-d0")
        self.assertTrue(stopped, "the diverging sweep no longer stops a run: choose other settings")
        r = plot(d)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_files(os.path.join(d, "figures"), ["loss_curves", "relative_gap", "underflow_fp16-amp",
                                                      "saturation_fp16-amp", "loss_scale", "gap_vs_noise"])
        for rid in stopped:
            self.assertIn(f"{rid}: stopped at step", r.stderr)
        m = {seed: metrics(d, f"mlp-fp16-amp-s{seed}-d0") for seed in SEEDS}
        shortest = min(len(x["loss"]) for x in m.values())
        rows = read_csv(os.path.join(d, "figures", "loss_curves.csv"))
        col = rows[0].index("fp16-amp")
        got = [num(r[col]) for r in rows[1:] if r[1] == "smoothed_loss"]
        want = mean([smooth(x["loss"], STEPS) for x in m.values()])
        self.assertEqual(len(want), shortest)
        self.assertTrue(all(same(a, b) for a, b in zip(got[:shortest], want)))
        self.assertEqual(got[shortest:], [None] * (STEPS - shortest))  # the curve ends at the stop
        rows = read_csv(os.path.join(d, "figures", "loss_scale.csv"))
        skipped = 0
        for seed in SEEDS:
            mine = [r for r in rows[1:] if r[2] == str(seed)]
            self.assertEqual([float(r[4]) for r in mine], m[seed]["scale"])
            self.assertEqual([int(r[5]) for r in mine], m[seed]["skipped"])
            skipped += sum(m[seed]["skipped"])
        self.assertGreater(skipped, 0)
        with open(os.path.join(d, "figures", "figures.json")) as f:
            caption = {e["name"]: e["caption"] for e in json.load(f)["figures"]}
        for rid in stopped:
            self.assertIn(rid, caption["loss_curves"])

    # ------------------------------------------------------------ partial and damaged sweeps

    def test_partial_sweep(self):
        d = self.copy("partial")
        os.remove(os.path.join(d, "runs", "mlp-fp8-current-s1-d0", "summary.json"))
        sp = os.path.join(d, "runs", "mlp-fp16-amp-s0-d0", "summary.json")
        with open(sp) as f:
            summary = json.load(f)
        summary["status"] = "running"
        with open(sp, "w") as f:
            json.dump(summary, f)
        shutil.rmtree(os.path.join(d, "runs", "mlp-fp32-s1-d0"))  # seed 1 loses its FP32 partner
        out = os.path.join(self.tmp, "elsewhere", "figs")  # and --out FIGDIR: nothing in DIR/figures
        r = plot(d, "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "figures")))
        self.check_files(out, ["loss_curves", "relative_gap", "underflow_fp8-current", "loss_scale",
                               "gap_vs_noise"])
        self.assertIn("mlp-fp8-current-s1-d0: unfinished (started, no", r.stderr)
        self.assertIn("mlp-fp16-amp-s0-d0: unfinished (status running", r.stderr)
        self.assertIn("mlp-fp32-s1-d0: missing", r.stderr)
        self.assertIn("mlp-fp16-amp-s1-d0 has no finished FP32 run of seed 1", r.stderr)
        rows = read_csv(os.path.join(out, "relative_gap.csv"))
        self.assertEqual(rows[0], ["model", "step", "fp16-amp", "fp8-current", "noise_floor_halfwidth"])
        s = {rid: smooth(metrics(d, rid)["loss"], STEPS) for rid in
             ("mlp-fp32-s0-d0", "mlp-fp8-current-s0-d0", "mlp-fp32-s0-d1")}
        self.assertEqual([r[2] for r in rows[1:]], [""] * STEPS)  # fp16-amp: no seed with a partner
        self.assertEqual([float(r[3]) for r in rows[1:]], rel(s["mlp-fp8-current-s0-d0"], s["mlp-fp32-s0-d0"]))
        self.assertEqual([float(r[4]) for r in rows[1:]],
                         [abs(x) for x in rel(s["mlp-fp32-s0-d1"], s["mlp-fp32-s0-d0"])])
        rows = read_csv(os.path.join(out, "loss_curves.csv"))
        col = rows[0].index("fp8-current")
        self.assertEqual([float(r[col]) for r in rows[1:] if r[1] == "smoothed_loss"],
                         mean([s["mlp-fp8-current-s0-d0"]]))

    def test_corrupted_metrics(self):
        d = self.copy("corrupted")
        p1 = os.path.join(d, "runs", "mlp-fp8-current-s0-d0", "metrics.csv")
        with open(p1, "rb") as f:
            data = f.read()
        cut = 0
        for _ in range(30):  # keep 30 whole lines (header + steps 1-29) and half of line 31
            cut = data.index(b"\n", cut) + 1
        with open(p1, "wb") as f:
            f.write(data[:cut + 5])
        p2 = os.path.join(d, "runs", "mlp-fp16-amp-s1-d0", "metrics.csv")
        with open(p2) as f:
            lines = f.read().split("\n")
        fields = lines[9].split(",")
        fields[1] = "0.5x"
        lines[9] = ",".join(fields)
        with open(p2, "w") as f:
            f.write("\n".join(lines))
        r = plot(d)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{p1}:31:", r.stderr)
        self.assertIn(f"{p2}:10:", r.stderr)
        self.check_files(os.path.join(d, "figures"), BASE_FIGURES)
        rows = read_csv(os.path.join(d, "figures", "loss_curves.csv"))
        col = rows[0].index("fp8-current")
        self.assertEqual([float(r[col]) for r in rows[1:] if r[1] == "smoothed_loss"],
                         smooth(metrics(d, "mlp-fp8-current-s1-d0")["loss"], STEPS))

    def test_no_fp32_reference(self):
        d = self.copy("nofp32")
        for rid in os.listdir(os.path.join(d, "runs")):
            if rid.startswith("mlp-fp32-"):
                shutil.rmtree(os.path.join(d, "runs", rid))
        r = plot(d)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("relative_gap: not written", r.stderr)
        self.assertIn("gap_vs_noise: not written", r.stderr)
        fig_dir = os.path.join(d, "figures")
        self.check_files(fig_dir, ["loss_curves", "underflow_fp8-current", "loss_scale"])
        self.assertFalse(os.path.exists(os.path.join(fig_dir, "relative_gap.png")))
        with open(os.path.join(fig_dir, "figures.json")) as f:
            names = [e["name"] for e in json.load(f)["figures"]]
        self.assertNotIn("relative_gap", names)
        self.assertIn("loss_curves", names)

    # ------------------------------------------------------------ not a sweep

    def assert_bad(self, target, text, watch):
        before = sorted(os.listdir(watch))
        r = plot(target)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(text, r.stderr)
        self.assertEqual(sorted(os.listdir(watch)), before)  # nothing written

    def test_not_a_sweep(self):
        base = os.path.join(self.tmp, "bad")
        os.makedirs(base)
        f = os.path.join(base, "file.txt")
        with open(f, "w") as fh:
            fh.write("x\n")
        self.assert_bad(f, f"{f}: not a directory", base)
        empty = os.path.join(base, "empty")
        os.makedirs(empty)
        self.assert_bad(empty, os.path.join(empty, "sweep.json"), empty)
        self.assert_bad(os.path.join(base, "absent"), os.path.join(base, "absent"), base)
        with open(os.path.join(self.sweep, "sweep.json")) as fh:
            good = json.load(fh)
        for case, text in (("notjson", "{ not json"),
                           ("format", json.dumps(dict(good, format="fpsim-other"))),
                           ("version", json.dumps(dict(good, format_version=2))),
                           ("version_text", json.dumps(dict(good, format_version="1"))),
                           ("array", "[]")):
            d = os.path.join(base, case)
            shutil.copytree(self.sweep, d, ignore=shutil.ignore_patterns("figures"))
            with open(os.path.join(d, "sweep.json"), "w") as fh:
                fh.write(text)
            self.assert_bad(d, os.path.join(d, "sweep.json"), d)


if __name__ == "__main__":
    plot_test_main.run_tests(__doc__.splitlines()[0])
