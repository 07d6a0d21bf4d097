#!/usr/bin/python3
"""Recompute every number of a sweep's report.json from the run files and compare.

Usage: /usr/bin/python3 scripts/check_report.py DIR [EXTRA_DIR ...] [--exact]

An independent re-implementation of docs/training.md, "Divergence report" (Python's csv, json and struct; numpy
only to widen F32 values; nothing of fpsim's C++): the runs are looked up in DIR/runs/<id> and then in each
EXTRA_DIR/runs/<id>, measured against their FP32 reference and noise run, summarised per (model, recipe), and every
value of DIR/report.json is compared.

Tolerance: relative 1e-12 (|a - b| <= 1e-12 * max(|a|, |b|)); nulls must match. Every sum here runs in the documented
order, one addition at a time, so on IEEE-754 hardware the values normally agree to the bit (--exact demands it);
the allowance keeps the check meaningful if a sum is re-associated (at most ~1e6 terms of one sign: about
sqrt(n) * 2**-53 <= 1e-13 relative in practice), while any wrong formula moves a value by far more.

Exit status: 0 all agree, 1 differences (listed), 2 bad input.
"""

import csv
import io
import json
import math
import os
import struct
import sys

import numpy as np

RTOL = 1e-12
METRICS = [
    "final_loss", "final_eval", "final_gap_abs", "final_gap_rel", "max_abs_gap_rel", "mean_abs_gap_rel_last10",
    "eval_gap", "steps_to_target_ratio", "param_drift", "gap_over_noise", "drift_over_noise", "skipped_steps",
    "underflow_pct", "saturation_pct",
]
METRICS_HEADER = ["step", "loss", "lr", "loss_scale", "skipped", "grad_norm", "eval_metric"]
QUANT_HEADER = ["step", "layer", "gemm", "operand", "tensor", "underflow_pct", "saturation_pct", "sqnr_db",
                "scale_min", "scale_max", "nan_count", "inf_count"]


class BadInput(Exception):
    pass


class BadRun(Exception):
    pass



def recipe_name(name_or_path):
    """The name a run's summary.json gives its recipe (docs/training.md, "Naming a recipe"): a recipe file's stem
    (anything holding '/' or ending in .toml), a built-in's own name."""
    if "/" in name_or_path or name_or_path.endswith(".toml"):
        return os.path.splitext(os.path.basename(name_or_path))[0]
    return name_or_path

def div(a, b):
    """IEEE-754 division (Python raises on a zero divisor)."""
    if b != 0:
        return a / b
    with np.errstate(all="ignore"):
        return float(np.float64(a) / np.float64(b))


def finite_or_none(v):
    return v if v is not None and math.isfinite(v) else None


def read_sweep(d):
    path = os.path.join(d, "sweep.json")
    try:
        with open(path, "rb") as f:
            j = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: {e}")
    if not isinstance(j, dict) or j.get("format") != "fpsim-sweep" or type(j.get("format_version")) is not int \
            or j.get("format_version") != 1:
        raise BadInput(f"{path}: not a sweep directory of format fpsim-sweep version 1")
    try:
        runs = [dict(id=r["id"], model=r["model"], recipe=r["recipe"], role=r["role"], seed=r["seed"],
                     data_seed=r["data_seed"]) for r in j["runs"]]
        return dict(name=j["name"], steps=j["steps"], config_sha256=j["config_sha256"], runs=runs)
    except (KeyError, TypeError) as e:
        raise BadInput(f"{path}: malformed ({e})")


def read_summary(path):
    try:
        with open(path, "rb") as f:
            j = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        raise BadRun(f"{path}: {e}")
    if not isinstance(j, dict):
        raise BadRun(f"{path}: not an object")
    return j


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BadRun(f"{path}: {e}")


def read_metrics(path):
    text = read_text(path)
    if not text.endswith("\n"):
        raise BadRun(f"{path}: truncated")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or rows[0] != METRICS_HEADER:
        raise BadRun(f"{path}: bad header")
    loss, skipped, last_eval = [], 0.0, None
    for i, row in enumerate(rows[1:], start=1):
        if len(row) != 7 or row[0] != str(i) or row[4] not in ("0", "1"):
            raise BadRun(f"{path}: bad row {i}")
        try:
            loss.append(float(row[1]))
            for k in (2, 3, 5):
                float(row[k])
            if row[6] != "":
                last_eval = float(row[6])
        except ValueError:
            raise BadRun(f"{path}: bad number in row {i}")
        if row[4] == "1":
            skipped += 1.0
    return loss, skipped, last_eval


def read_quant(path):
    text = read_text(path)
    if not text.endswith("\n"):
        raise BadRun(f"{path}: truncated")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or rows[0] != QUANT_HEADER:
        raise BadRun(f"{path}: bad header")
    out = []
    for col in (5, 6):
        total, count = 0.0, 0
        for row in rows[1:]:
            if len(row) != 12:
                raise BadRun(f"{path}: bad row")
            try:
                v = float(row[col])
            except ValueError:
                raise BadRun(f"{path}: bad number")
            if math.isfinite(v):
                total += v
                count += 1
        out.append(total / count if count else None)
    return out


def read_safetensors(path):
    """{name: (shape, [python floats])} of a file of F32 tensors (huggingface/safetensors format)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise BadRun(f"{path}: {e}")
    if len(data) < 8:
        raise BadRun(f"{path}: too short")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise BadRun(f"{path}: header length")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except ValueError as e:
        raise BadRun(f"{path}: {e}")
    buf = data[8 + n:]
    tensors = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        if e["dtype"] != "F32":
            tensors[name] = (e["dtype"], tuple(e["shape"]), None)
            continue
        values = np.frombuffer(buf[begin:end], dtype="<f4").astype(np.float64).tolist()
        if len(values) != math.prod(e["shape"]):
            raise BadRun(f"{path}: tensor {name} size")
        tensors[name] = ("F32", tuple(e["shape"]), values)
    return tensors


def smoothed(loss, steps):
    w = max(1, steps // 20)
    out = []
    for t in range(1, len(loss) + 1):
        lo = max(1, t - w + 1)
        total = 0.0
        for u in range(lo, t + 1):
            total += loss[u - 1]
        out.append(total / (t - lo + 1))
    return out


def drift(r, f):
    names_r = sorted(r, key=lambda s: s.encode("utf-8"))
    names_f = sorted(f, key=lambda s: s.encode("utf-8"))
    if names_r != names_f:
        return None
    d2, f2 = 0.0, 0.0
    for name in names_r:
        dr, sr, vr = r[name]
        df, sf, vf = f[name]
        if dr != "F32" or df != "F32" or sr != sf:
            return None
        for a, b in zip(vr, vf):
            d = a - b
            d2 += d * d
            f2 += b * b
    return finite_or_none(div(math.sqrt(d2), math.sqrt(f2)))


def load_runs(sweep, dirs):
    found, missing = {}, set()
    for run in sweep["runs"]:
        copies = []
        for d in dirs:
            rd = os.path.join(d, "runs", run["id"])
            sp = os.path.join(rd, "summary.json")
            if not os.path.isfile(sp):
                continue
            try:
                if read_summary(sp).get("status") in ("done", "stopped"):
                    copies.append(rd)
            except BadRun:
                pass
        if not copies:
            missing.add(run["id"])
            continue
        rd = copies[0]
        try:
            s = read_summary(os.path.join(rd, "summary.json"))
            if (s.get("model"), s.get("recipe"), s.get("seed"), s.get("data_seed")) != \
                    (run["model"], recipe_name(run["recipe"]), run["seed"], run["data_seed"]):
                raise BadRun("summary differs from sweep.json")
            loss, skipped, last_eval = read_metrics(os.path.join(rd, "metrics.csv"))
            status = s["status"]
            if (status == "done" and len(loss) != sweep["steps"]) or \
                    (status == "stopped" and not 1 <= len(loss) <= sweep["steps"]):
                raise BadRun("step count")
            under, sat = read_quant(os.path.join(rd, "quant_stats.csv"))
            params = read_safetensors(os.path.join(rd, "params_final.safetensors")) if status == "done" else None
        except BadRun:
            missing.add(run["id"])
            continue
        found[run["id"]] = dict(status=status, loss=loss, skipped=skipped, last_eval=last_eval, underflow=under,
                                saturation=sat, params=params)
    return found, missing


def measure(r, f, steps):
    v = {m: None for m in METRICS}
    never = False
    done = r["status"] == "done"
    sr = smoothed(r["loss"], steps)
    if done:
        v["final_loss"] = finite_or_none(sr[-1])
        if r["last_eval"] is not None:
            v["final_eval"] = finite_or_none(r["last_eval"])
    v["skipped_steps"] = r["skipped"]
    v["underflow_pct"] = r["underflow"]
    v["saturation_pct"] = r["saturation"]
    if f is None or f["status"] != "done":
        return v, never
    sf = smoothed(f["loss"], steps)
    T = steps
    if done:
        gap = sr[T - 1] - sf[T - 1]
        v["final_gap_abs"] = finite_or_none(gap)
        v["final_gap_rel"] = finite_or_none(div(gap, sf[T - 1]))
        rels = [abs(div(sr[t] - sf[t], sf[t])) for t in range(T)]
        v["max_abs_gap_rel"] = None if any(math.isnan(x) for x in rels) else finite_or_none(max(rels))
        k = max(1, math.ceil(T / 10))
        total = 0.0
        for t in range(T - k, T):
            total += div(abs(r["loss"][t] - f["loss"][t]), f["loss"][t])
        v["mean_abs_gap_rel_last10"] = finite_or_none(total / k)
        if v["final_eval"] is not None and f["last_eval"] is not None and math.isfinite(f["last_eval"]):
            v["eval_gap"] = finite_or_none(v["final_eval"] - f["last_eval"])
        if r["params"] is not None and f["params"] is not None:
            v["param_drift"] = drift(r["params"], f["params"])
    if math.isfinite(sf[T - 1]) and sf[T - 1] > 0:
        target = sf[T - 1] * 1.05
        steps_f = next(t + 1 for t in range(len(sf)) if sf[t] <= target)
        steps_r = next((t + 1 for t in range(len(sr)) if sr[t] <= target), None)
        if steps_r is None:
            never = True
        else:
            v["steps_to_target_ratio"] = steps_r / steps_f
    return v, never


def over(a, b):
    if a is None or b is None or b == 0:
        return None
    return finite_or_none(abs(a) / abs(b))


def summarise(xs):
    n = len(xs)
    if n == 0:
        return dict(mean=None, sd=None, n=0)
    total = 0.0
    for x in xs:
        total += x
    mean = total / n
    if n < 2:
        return dict(mean=mean, sd=None, n=n)
    sq = 0.0
    for x in xs:
        d = x - mean
        sq += d * d
    return dict(mean=mean, sd=math.sqrt(sq / (n - 1)), n=n)


def compute(sweep, dirs):
    found, missing = load_runs(sweep, dirs)
    ref, noise = {}, {}
    for r in sweep["runs"]:
        key = (r["model"], r["seed"])
        if r["role"] == "recipe" and r["recipe"] == "fp32":
            ref.setdefault(key, r["id"])
        if r["role"] == "noise_floor":
            noise.setdefault(key, r["id"])
    runs = {}
    for r in sweep["runs"]:
        if r["id"] not in found:
            continue
        f_id = ref.get((r["model"], r["seed"]))
        values, never = measure(found[r["id"]], found.get(f_id), sweep["steps"])
        runs[r["id"]] = dict(listed=r, values=values, never=never, status=found[r["id"]]["status"])
    for rid, rr in runs.items():
        n_id = noise.get((rr["listed"]["model"], rr["listed"]["seed"]))
        if n_id in runs:
            nv = runs[n_id]["values"]
            rr["values"]["gap_over_noise"] = over(rr["values"]["final_gap_rel"], nv["final_gap_rel"])
            rr["values"]["drift_over_noise"] = over(rr["values"]["param_drift"], nv["param_drift"])
    models, recipes, has_noise = [], {}, set()
    for r in sweep["runs"]:
        if r["model"] not in models:
            models.append(r["model"])
        rs = recipes.setdefault(r["model"], [])
        if r["role"] == "recipe" and r["recipe"] not in rs:
            rs.append(r["recipe"])
        if r["role"] == "noise_floor":
            has_noise.add(r["model"])
    rows = []
    for m in models:
        keys = [(x, "recipe") for x in recipes[m]] + ([("fp32", "noise_floor")] if m in has_noise else [])
        for recipe, role in keys:
            members = [r for r in sweep["runs"] if r["model"] == m and r["role"] == role and
                       (role == "noise_floor" or r["recipe"] == recipe)]
            done = [runs[r["id"]] for r in members if r["id"] in runs]
            row = dict(model=m, recipe=recipe, role=role, seeds_expected=len(members), seeds_done=len(done),
                       runs_stopped=sum(1 for d in done if d["status"] == "stopped"),
                       steps_to_target_never=sum(1 for d in done if d["never"]), metrics={})
            for name in METRICS:
                row["metrics"][name] = summarise([d["values"][name] for d in done if d["values"][name] is not None])
            rows.append(row)
    return runs, rows, missing


class Comparison:
    def __init__(self, exact):
        self.exact = exact
        self.compared = 0
        self.identical = 0
        self.max_rel = 0.0
        self.differences = []

    def value(self, where, got, want):
        self.compared += 1
        if got is None or want is None:
            if got is not want:
                self.differences.append(f"{where}: report {got!r}, recomputed {want!r}")
            else:
                self.identical += 1
            return
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            self.differences.append(f"{where}: report {got!r} is not a number")
            return
        got = float(got)
        if got == want and math.copysign(1, got) == math.copysign(1, want):
            self.identical += 1
            return
        rel = abs(got - want) / max(abs(got), abs(want))
        self.max_rel = max(self.max_rel, rel)
        if self.exact or not rel <= RTOL:
            self.differences.append(f"{where}: report {got!r}, recomputed {want!r} (relative {rel:.3g})")

    def equal(self, where, got, want):
        if got != want:
            self.differences.append(f"{where}: report {got!r}, recomputed {want!r}")


def main(argv):
    args = [a for a in argv[1:] if a != "--exact"]
    exact = "--exact" in argv[1:]
    if not args or any(a.startswith("-") for a in args):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        sweep = read_sweep(args[0])
        for extra in args[1:]:
            if read_sweep(extra)["config_sha256"] != sweep["config_sha256"]:
                raise BadInput(f"{extra}: another sweep")
        path = os.path.join(args[0], "report.json")
        try:
            with open(path, "rb") as f:
                report = json.loads(f.read().decode("utf-8"))
            report_runs = {r["id"]: r for r in report["runs"]}
            report_rows = report["rows"]
            report_missing = report["missing_runs"]
            report_sweep = report["sweep"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise BadInput(f"{path}: {e}")
    except BadInput as e:
        print(f"check_report: bad input: {e}", file=sys.stderr)
        return 2

    runs, rows, missing = compute(sweep, args)
    c = Comparison(exact)
    c.equal("sweep", report_sweep, dict(name=sweep["name"], steps=sweep["steps"],
                                        config_sha256=sweep["config_sha256"]))
    c.equal("missing runs", sorted(m.split(" (")[0] for m in report_missing), sorted(missing))
    c.equal("runs", sorted(report_runs), sorted(runs))
    for rid, rr in runs.items():
        got = report_runs.get(rid)
        if got is None:
            continue
        c.equal(f"run {rid} status", got.get("status"), rr["status"])
        c.equal(f"run {rid} never_reached_target", got.get("never_reached_target"), rr["never"])
        for name in METRICS:
            c.value(f"run {rid} {name}", got.get("values", {}).get(name), rr["values"][name])
    c.equal("rows", [(r.get("model"), r.get("recipe"), r.get("role")) for r in report_rows],
            [(r["model"], r["recipe"], r["role"]) for r in rows])
    for got, want in zip(report_rows, rows):
        where = f"row {want['model']} {want['recipe']} {want['role']}"
        for k in ("seeds_done", "seeds_expected", "runs_stopped", "steps_to_target_never"):
            c.equal(f"{where} {k}", got.get(k), want[k])
        for name in METRICS:
            g = got.get("metrics", {}).get(name, {})
            w = want["metrics"][name]
            c.equal(f"{where} {name} n", g.get("n"), w["n"])
            c.value(f"{where} {name} mean", g.get("mean"), w["mean"])
            c.value(f"{where} {name} sd", g.get("sd"), w["sd"])

    for d in c.differences:
        print(d)
    verdict = "OK" if not c.differences else f"{len(c.differences)} differences"
    print(f"check_report: {verdict}: {c.compared} values compared, {c.identical} bit-identical, "
          f"max relative difference {c.max_rel:.3g} (tolerance {0 if exact else RTOL:g})")
    return 0 if not c.differences else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
