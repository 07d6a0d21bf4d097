#!/usr/bin/python3
"""scripts/plot mma-error, ulp, formats, quantize, and the two report scripts that draw through them.

Makes small inputs with the fpsim binary in a temporary folder (fpsim
mma-error in --json and text form, fpsim verify, fpsim mma --expect on the
H100 golden data, fpsim formats --json, and the report.csv of
scripts/quantize_report.py), runs each command headless and checks: every
expected file exists, the PDF and PNG are valid and of sensible size,
figures.json lists them, and each figure's CSV holds exactly the numbers of
the input files, re-read here with this file's own small parsers (floats
read from the same decimal text compare equal). Bad input: a file that is
not fpsim's output gives exit status 2, a message naming it, nothing written.
docs/figures.md describes the commands.

Usage: /usr/bin/python3 tests/scripts/test_plot_figures.py --fpsim build/cli/fpsim
Exit 77 with a SKIP line when matplotlib or numpy is missing.
"""
import csv
import json
import math
import os
import re
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
GOLDEN = os.path.join(ROOT, "tests", "data", "gpu-golden", "H100", "E4M3")
FPSIM = None
PY = "/usr/bin/python3"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def fpsim(*args, check=True):
    r = run([FPSIM, *args])
    if check and r.returncode != 0:
        raise RuntimeError(f"fpsim {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


# A verify output in the documented form (docs/cli.md, "fpsim verify"):
# fpsim's arithmetic passes verify, so real runs have no mismatches; these
# lines exercise the distances. bf16 codes; hand-computed distances:
# 0x3f81 vs 0x3f80 = 1; equal codes, flags differ = 0 (flags only);
# 0x8000 vs 0x0000 = 0 (sign of zero); 0x7fc0 is a NaN; 0x3ffd vs 0x4000 = 3
# (bucket 3-4); 0xbf80 vs 0x3f80 = 2 * 0x3f80 = 32512 (bucket 16385-32768);
# sr: 0x3f85 vs candidates 0x3f80 / 0x3f82 = min(5, 3) = 3 (bucket 3-4).
FAKE_VERIFY = """verify add bf16 -> bf16, oracle mpfr, overflow ieee, 1000 cases per mode (seed 0 samples, shard 0/1), 2 threads
mismatch [rne] case 3: add(0x3f80, 0x0001) expected 0x3f80 flags 01, got 0x3f81 flags 01
mismatch [rne] case 7: add(0x3f80, 0x0001) expected 0x3f80 flags 01, got 0x3f80 flags 00
mismatch [rne] case 9: add(0x0000, 0x8000) expected 0x0000 flags 00, got 0x8000 flags 00
mismatch [rne] case 11: add(0x7f80, 0xff80) expected 0x7fc0 flags 10, got 0x7f80 flags 10
mismatch [rne] case 12: add(0x3f80, 0x3f80) expected 0x4000 flags 00, got 0x3ffd flags 00
mismatch [rne] case 13: add(0x3f80, 0x0000) expected 0x3f80 flags 00, got 0xbf80 flags 00
990 passed, 10 failed
"""
FAKE_VERIFY_EXPECTED = {"match": 990, "0 (sign of zero)": 1, "0 (flags only)": 1, "1": 1, "3-4": 1,
                        "16385-32768": 1, "NaN": 1, "not printed": 4}
# tf32 codes sit in FP32's positions (fpsim formats --json: max_code
# 0x7f7fe000), one tf32 ulp = 0x2000: 0x3f806000 vs the sr candidates 0x3f800000 and
# 0x3f7fe000 = min(3, 4) = 3 ulps (bucket 3-4).
FAKE_VERIFY_TF32 = """verify add tf32 -> tf32, oracle mpfr, overflow ieee, 100 cases per mode (seed 0 samples, shard 0/1), 2 threads
sr: 99 passed, 1 failed
mismatch [sr] case 5: add(0x3f800000, 0x00002000) expected 0x3f800000 flags 01 or 0x3f7fe000 flags 01, got 0x3f806000 flags 01
99 passed, 1 failed
"""


class PlotFigures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plot_figures_")
        t = cls.tmp
        # mma-error: --json, with and without promotion, one file with several K;
        # and the text form, two runs appended to one file.
        cls.jsonl = os.path.join(t, "err", "fp8.jsonl")
        os.makedirs(os.path.dirname(cls.jsonl))
        with open(cls.jsonl, "w") as f:
            for prom in ("0", "128"):
                for k in ("32", "256", "1024"):
                    f.write(fpsim("mma-error", "--model", "h100-e4m3-fp32", "--promote", prom, "--k", k,
                                  "--trials", "40", "--json").strip() + "\n")
        cls.mma_text = os.path.join(t, "err", "bf16.txt")
        with open(cls.mma_text, "w") as f:
            for k in ("64", "512"):
                f.write(fpsim("mma-error", "--model", "h100-bf16-fp32", "--k", k, "--trials", "40"))
        # verify, one mode and all modes; mma --expect against real GPU outputs.
        cls.ulp_dir = os.path.join(t, "ulp")
        os.makedirs(cls.ulp_dir)
        cls.verify1 = os.path.join(cls.ulp_dir, "verify_add_bf16.txt")
        with open(cls.verify1, "w") as f:
            f.write(fpsim("verify", "--op", "add", "--format", "bf16", "--samples", "3000", "--threads", "2"))
        cls.verify_all = os.path.join(cls.ulp_dir, "verify_mul_e4m3.txt")
        with open(cls.verify_all, "w") as f:
            f.write(fpsim("verify", "--op", "mul", "--format", "e4m3", "--exhaustive", "--rounding", "all",
                          "--threads", "2"))
        cls.expect = os.path.join(cls.ulp_dir, "h100_e4m3_fp16.txt")
        r = run([FPSIM, "mma", "--model", "h100-e4m3-fp16", "--k", "32",
                 "--a", os.path.join(GOLDEN, "a_H100_E4M3.txt.gz"), "--b", os.path.join(GOLDEN, "b_H100_E4M3.txt.gz"),
                 "--c", os.path.join(GOLDEN, "c_H100_fp32.txt.gz"),
                 "--expect", os.path.join(GOLDEN, "d_H100_fp16.txt.gz"), "--max-report", "3"])
        assert r.returncode == 1, r.stderr  # FP8 -> FP16: an open question (docs/mma.md), mismatches expected
        with open(cls.expect, "w") as f:
            f.write(r.stdout)
        cls.fake = os.path.join(cls.ulp_dir, "verify_fake.txt")
        with open(cls.fake, "w") as f:
            f.write(FAKE_VERIFY)
        cls.fake_tf32 = os.path.join(cls.ulp_dir, "verify_fake_tf32.txt")
        with open(cls.fake_tf32, "w") as f:
            f.write(FAKE_VERIFY_TF32)
        cls.formats_json = os.path.join(t, "fmt", "formats.json")
        os.makedirs(os.path.dirname(cls.formats_json))
        with open(cls.formats_json, "w") as f:
            f.write(fpsim("formats", "--json"))
        cls.junk = os.path.join(t, "junk.txt")
        with open(cls.junk, "w") as f:
            f.write("this is not fpsim output\n1,2,3\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    def plot(self, *args, status=0):
        r = run([PLOT, *args])
        self.assertEqual(r.returncode, status, f"scripts/plot {' '.join(args)}: {r.stdout}{r.stderr}")
        return r

    def check_files(self, out_dir, name, min_width=500):
        pdf, png, csv_ = (os.path.join(out_dir, f"{name}.{e}") for e in ("pdf", "png", "csv"))
        for p in (pdf, png, csv_):
            self.assertTrue(os.path.isfile(p), p)
        with open(pdf, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"%PDF"), pdf)
        self.assertTrue(data.rstrip().endswith(b"%%EOF"), pdf)
        self.assertGreater(len(data), 1024, pdf)
        with open(png, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n", png)
        self.assertEqual(head[12:16], b"IHDR", png)
        w, h = struct.unpack(">II", head[16:24])
        # 300 dpi: a single column (3.3 in) is about 1000 px wide, a double (6.9 in) about 2100.
        self.assertTrue(min_width <= w <= 4000 and 200 <= h <= 5000, f"{png}: {w} x {h}")
        with open(os.path.join(out_dir, "figures.json")) as f:
            index = json.load(f)
        rec = [r for r in index["figures"] if r["name"] == name]
        self.assertEqual(len(rec), 1, f"{name} in figures.json")
        self.assertEqual(rec[0]["files"], {"pdf": f"{name}.pdf", "png": f"{name}.png", "csv": f"{name}.csv"})
        self.assertTrue(rec[0]["caption"] and rec[0]["sources"])
        return read_csv(csv_)

    def assert_bad(self, args, named):
        out = os.path.join(self.tmp, "bad_out")
        shutil.rmtree(out, ignore_errors=True)
        r = run([PLOT, *args, "--out", out])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(named, r.stderr)
        self.assertFalse(os.path.exists(out), "nothing may be written on bad input")

    # ------------------------------------------------------------ mma-error

    def expected_mma_error(self):
        """{(dist, stat, model, promotion, k): value} from the files, read independently."""
        exp = {}
        with open(self.jsonl) as f:
            for line in f:
                o = json.loads(line)
                for stat in ("median", "max"):
                    exp[(o["dist"], stat, o["model"], o["promotion_interval"], o["k"])] = \
                        o["relative_error"][stat]
        with open(self.mma_text) as f:
            text = f.read()
        blocks = text.split("model ")[1:]
        self.assertEqual(len(blocks), 2)
        for b in blocks:
            kv = dict(re.findall(r"^(\w+)\s+(.*?)\s*$", "model " + b, re.M))
            cols = kv["measure"].split()
            vals = dict(zip(cols, kv["relative_error"].split()))
            for stat in ("median", "max"):
                exp[(kv["dist"], stat, kv["model"], int(kv["promotion_interval"].split()[0]), int(kv["k"]))] = \
                    float(vals[stat])
        return exp

    def test_mma_error(self):
        self.plot("mma-error", self.jsonl, self.mma_text)
        out = os.path.join(os.path.dirname(self.jsonl), "figures")
        rows = self.check_files(out, "mma_error_vs_k", min_width=1500)  # two panels: double width
        head, body = rows[0], rows[1:]
        self.assertEqual(head[:5] + head[7:8], ["dist", "stat", "model", "promotion_interval", "k",
                                                "relative_error"])
        got = {(r[0], r[1], r[2], int(r[3]), int(r[4])): float(r[7]) for r in body}
        self.assertEqual(len(got), len(body), "one CSV row per point")
        exp = self.expected_mma_error()
        # Zero statistics cannot be drawn on the log axis and are left out (the caption says so).
        self.assertEqual(got, {k: v for k, v in exp.items() if v > 0})
        self.assertGreaterEqual(len(got), 16)
        # both promotion intervals of the FP8 preset are separate series
        self.assertEqual({k[3] for k in got if k[2] == "h100-e4m3-fp32"}, {0, 128})

    def test_mma_error_stat_and_index_merge(self):
        out = os.path.join(self.tmp, "merged")
        self.plot("formats", self.formats_json, "--out", out)
        self.plot("mma-error", self.jsonl, "--stat", "p99", "--measure", "error_vs_abs_sum", "--out", out)
        rows = self.check_files(out, "mma_error_vs_k", min_width=700)
        self.check_files(out, "formats_range")  # the other command's entry is kept
        exp = {}
        with open(self.jsonl) as f:
            for line in f:
                o = json.loads(line)
                exp[(o["model"], o["promotion_interval"], o["k"])] = o["error_vs_abs_sum"]["p99"]
        self.assertEqual(rows[0][7], "error_vs_abs_sum")
        self.assertEqual({(r[2], int(r[3]), int(r[4])): float(r[7]) for r in rows[1:]},
                         {k: v for k, v in exp.items() if v > 0})

    def test_mma_error_bad_input(self):
        self.assert_bad(["mma-error", self.junk], self.junk)
        # the same point twice: which would the line show?
        self.assert_bad(["mma-error", self.jsonl, self.jsonl], self.jsonl)
        cut = os.path.join(self.tmp, "cut.txt")
        with open(self.mma_text) as f, open(cut, "w") as g:
            g.write(f.read()[:200])
        self.assert_bad(["mma-error", cut], cut)

    # ------------------------------------------------------------ ulp

    def test_ulp_mma_expect(self):
        out = os.path.join(self.tmp, "ulp_out")
        self.plot("ulp", self.expect, "--out", out)
        rows = self.check_files(out, "ulp_h100_e4m3_fp16")
        self.assertEqual(rows[0], ["series", "bucket", "count"])
        # fpsim's own histogram and summary, read here.
        with open(self.expect) as f:
            lines = f.read().splitlines()
        passed, failed = map(int, re.match(r"(\d+) passed, (\d+) failed", lines[-1]).groups())
        i = next(i for i, ln in enumerate(lines) if ln.startswith("ULP histogram of the"))
        unit = re.search(r"\((\w+) ulps\):$", lines[i]).group(1)
        hist = {}
        for ln in lines[i + 1:-1]:
            m = re.match(r"^  (.+): (\d+)$", ln)
            if not m:
                break
            hist[m.group(1)] = int(m.group(2))
        self.assertEqual(sum(hist.values()), failed)
        expected = [[f"{unit} ulps", "match", str(passed)]] + [[f"{unit} ulps", b, str(n)] for b, n in hist.items()]
        self.assertEqual(rows[1:], expected)
        self.assertEqual(passed + failed, 5000)

    def test_ulp_verify(self):
        out = os.path.join(self.tmp, "ulp_verify")
        self.plot("ulp", self.verify1, self.verify_all, self.fake, self.fake_tf32, "--formats", self.formats_json,
                  "--out", out)
        # real runs: no mismatches, so only 'match' = the passed count, per mode
        with open(self.verify1) as f:
            p1 = int(re.search(r"^(\d+) passed, 0 failed$", f.read(), re.M).group(1))
        self.assertEqual(self.check_files(out, "ulp_verify_add_bf16")[1:], [["all", "match", str(p1)]])
        with open(self.verify_all) as f:
            modes = re.findall(r"^(\w+): (\d+) passed, 0 failed$", f.read(), re.M)
        self.assertEqual(len(modes), 7)
        self.assertEqual(self.check_files(out, "ulp_verify_mul_e4m3")[1:], [[m, "match", n] for m, n in modes])
        # the documented mismatch lines: distances computed from the codes
        rows = self.check_files(out, "ulp_verify_fake")
        got = {r[1]: int(r[2]) for r in rows[1:] if int(r[2])}
        self.assertEqual(got, FAKE_VERIFY_EXPECTED)
        # every bucket from 1 to the largest used is on the axis (zeros included), as fpsim lists them
        self.assertIn(["rne", "2", "0"], rows)
        self.assertEqual(self.check_files(out, "ulp_verify_fake_tf32")[1:],
                         [["sr", "match", "99"], ["sr", "1", "0"], ["sr", "2", "0"], ["sr", "3-4", "1"]])

    def test_ulp_partial_and_bad(self):
        # no format layouts (no --formats, an fpsim that does not exist): the verify figure
        # with mismatches cannot be made -> exit 1, message; the other figure is written.
        out = os.path.join(self.tmp, "ulp_partial")
        r = self.plot("ulp", self.fake, self.expect, "--fpsim", os.path.join(self.tmp, "no-fpsim"), "--out", out,
                      status=1)
        self.assertIn("ulp_verify_fake", r.stderr)
        self.check_files(out, "ulp_h100_e4m3_fp16")
        self.assertFalse(os.path.exists(os.path.join(out, "ulp_verify_fake.png")))
        self.assert_bad(["ulp", self.expect, self.junk], self.junk)
        cut = os.path.join(self.tmp, "cut_expect.txt")
        with open(self.expect) as f, open(cut, "w") as g:
            g.write("\n".join(f.read().splitlines()[:-1]) + "\n")  # no final summary: a cut-off file
        self.assert_bad(["ulp", cut], cut)

    # ------------------------------------------------------------ formats

    def test_formats(self):
        self.plot("formats", self.formats_json)
        out = os.path.join(os.path.dirname(self.formats_json), "figures")
        rows = self.check_files(out, "formats_range", min_width=1500)
        with open(self.formats_json) as f:
            fmts = json.load(f)
        head = rows[0]
        self.assertEqual([r[0] for r in rows[1:]], [f["name"] for f in fmts])
        for r, f in zip(rows[1:], fmts):
            rec = dict(zip(head, r))
            for key in ("min_subnormal", "min_normal", "max_finite"):
                self.assertEqual(float(rec[key]), float(f[key]), (f["name"], key))
                v = float(f[key])
                lg = float(rec[f"log2_{key}"])
                if v > 0:
                    self.assertEqual(lg, math.log2(v))
                else:
                    self.assertTrue(math.isnan(lg))
            self.assertEqual(int(rec["mantissa_bits"]), f["mantissa_bits"])
            self.assertEqual(int(rec["bits"]), f["bits"])
            self.assertEqual(rec["kind"], f["kind"])

    def test_formats_runs_fpsim(self):
        out = os.path.join(self.tmp, "fmt_run")
        self.plot("formats", "--fpsim", FPSIM, "--out", out)
        rows = self.check_files(out, "formats_range", min_width=1500)
        with open(os.path.join(out, "formats.json")) as f:  # what it ran, kept as the source
            self.assertEqual([r[0] for r in rows[1:]], [x["name"] for x in json.load(f)])

    def test_formats_bad_input(self):
        self.assert_bad(["formats", self.junk], self.junk)

    # ------------------------------------------------------------ quantize and the report scripts

    def test_quantize_report_script(self):
        """scripts/quantize_report.py draws quantize_sqnr through the package, in its old place."""
        out = os.path.join(self.tmp, "quantize")
        r = run([PY, os.path.join(ROOT, "scripts", "quantize_report.py"), "--fpsim", FPSIM, "--out", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.check_files(os.path.join(out, "figures"), "quantize_sqnr", min_width=1500)
        with open(os.path.join(out, "report.csv"), newline="") as f:
            report = list(csv.DictReader(f))
        self.assertEqual(rows[0], ["scheme", "sqnr_db", "underflow_pct", "saturated_pct"])
        self.assertEqual([[r[0]] + [float(v) for v in r[1:]] for r in rows[1:]],
                         [[r["scheme"], float(r["sqnr_db"]), float(r["underflow_pct"]), float(r["saturated_pct"])]
                          for r in report])
        self.assertEqual(len(report), 14)
        # and scripts/plot quantize on the same report, elsewhere, gives the same series
        self.plot("quantize", os.path.join(out, "report.csv"), "--out", os.path.join(self.tmp, "q2"))
        self.assertEqual(read_csv(os.path.join(self.tmp, "q2", "quantize_sqnr.csv")), rows)
        self.assert_bad(["quantize", self.junk], self.junk)

    def test_mma_report_script(self):
        """scripts/mma_report.py keeps running fpsim, saves error.jsonl, draws mma_error_vs_k through the package."""
        out = os.path.join(self.tmp, "mma")
        r = run([PY, os.path.join(ROOT, "scripts", "mma_report.py"), "--fpsim", FPSIM, "--out", out,
                 "--trials", "20", "--k", "32", "256"])
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr)
        rows = self.check_files(os.path.join(out, "figures"), "mma_error_vs_k", min_width=1500)
        exp = {}
        with open(os.path.join(out, "error.csv"), newline="") as f:  # the report's own table
            for e in csv.DictReader(f):
                for stat in ("median", "max"):
                    v = float(e[f"relative_error_{stat}"])
                    if v > 0:
                        exp[(e["dist"], stat, e["model"], int(e["promotion_interval"]), int(e["k"]))] = v
        self.assertEqual({(r[0], r[1], r[2], int(r[3]), int(r[4])): float(r[7]) for r in rows[1:]}, exp)
        self.assertEqual(len({k[2:4] for k in exp}), 4)  # four presets, FP8 with and without promotion


if __name__ == "__main__":
    plot_test_main.run_tests(__doc__.splitlines()[0])
