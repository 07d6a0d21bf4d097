"""Reads a sweep directory: sweep.json and each run's result files.

The files and their rules are docs/training.md's "The sweep directory" and
"Result files" (metrics.csv, quant_stats.csv, summary.json); which runs count
follows "Divergence report", "Which runs": a run counts when its summary.json
says `done` or `stopped`; any other state (no directory, no summary.json,
status `running`, a file that cannot be parsed) leaves it out, with a line
saying why (Sweep.notes), and the rest is read.

Numbers are read with float() from the decimal text fpsim writes (the
shortest text that reads back to the same double: "Result files"), so every
value is exactly the double the run computed. Only the `DIR/sweep.json` of
another format or version, or a DIR that is not a directory, is bad input
(BadInput: exit status 2, nothing written); everything inside runs/ is read
as far as it is valid.
"""
import csv
import io
import json
import os
import re

from fpsim_plot.errors import BadInput

METRICS_HEADER = ["step", "loss", "lr", "loss_scale", "skipped", "grad_norm", "eval_metric"]
QUANT_HEADER = ["step", "layer", "gemm", "operand", "tensor", "underflow_pct", "saturation_pct", "sqnr_db",
                "scale_min", "scale_max", "nan_count", "inf_count"]
# The numbers fpsim writes (std::to_chars, "Result files"): no spaces, no underscores, no "infinity".
_NUMBER = re.compile(r"-?(?:nan|inf|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\Z")
_STEP = re.compile(r"[1-9][0-9]*\Z")


class RunProblem(Exception):
    """A run file that cannot be used; the message names the file (and line)."""



def recipe_name(name_or_path):
    """The name a run's summary.json gives its recipe (docs/training.md, "Naming a recipe"): a recipe file's stem
    (anything holding '/' or ending in .toml), a built-in's own name."""
    if "/" in name_or_path or name_or_path.endswith(".toml"):
        return os.path.splitext(os.path.basename(name_or_path))[0]
    return name_or_path

def number(text):
    """float(text) for the number syntax of "Result files"; ValueError otherwise."""
    if not _NUMBER.match(text):
        raise ValueError(f"not a number: {text!r}")
    return float(text)


class Metrics:
    """One run's metrics.csv: per step (1, 2, ...) the loss, loss scale, skipped flag; the evaluations."""

    def __init__(self, loss, loss_scale, skipped, evals):
        self.loss = loss              # [float], index t-1 = step t
        self.loss_scale = loss_scale  # [float]
        self.skipped = skipped        # [int] 0 or 1
        self.evals = evals            # [(step, float)] the steps with a non-empty eval_metric, in order


class QuantRow:
    __slots__ = ("step", "layer", "gemm", "operand", "tensor", "underflow_pct", "saturation_pct",
                 "underflow_text", "saturation_text")

    def __init__(self, step, layer, gemm, operand, tensor, under, sat, under_text, sat_text):
        self.step, self.layer, self.gemm, self.operand, self.tensor = step, layer, gemm, operand, tensor
        self.underflow_pct, self.saturation_pct = under, sat
        self.underflow_text, self.saturation_text = under_text, sat_text


class Run:
    """A run of sweep.json's list and what was found of it."""

    def __init__(self, entry):
        self.id = entry["id"]
        self.index = entry["index"]
        self.model = entry["model"]
        self.recipe = entry["recipe"]
        self.role = entry["role"]
        self.seed = entry["seed"]
        self.data_seed = entry["data_seed"]
        self.status = None        # summary.json's status when it could be read
        self.usable = False       # done or stopped, and metrics.csv valid
        self.summary = None
        self.metrics = None       # Metrics when usable
        self.quant = None         # [QuantRow] when quant_stats.csv was read; None otherwise
        self.quant_problem = None


class Sweep:
    def __init__(self, directory, name, steps, runs):
        self.dir = directory
        self.name = name
        self.steps = steps
        self.runs = runs          # [Run] in run-list order
        self.notes = []           # one line per run left out or partly read

    def usable(self):
        return [r for r in self.runs if r.usable]


def _read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_sweep_json(directory):
    """The run list of DIR/sweep.json; BadInput naming the path when DIR is not a sweep directory."""
    if not os.path.isdir(directory):
        raise BadInput(f"{directory}: not a directory (expected a sweep directory holding sweep.json)")
    path = os.path.join(directory, "sweep.json")
    expected = 'expected format "fpsim-sweep", version 1'
    try:
        data = json.loads(_read_bytes(path).decode("utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file: {directory} is not a sweep directory ({expected})") from None
    except OSError as e:
        raise BadInput(f"{path}: cannot read: {e.strerror}") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise BadInput(f"{path}: not JSON ({e}): not a sweep directory ({expected})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: not a JSON object: not a sweep directory ({expected})")
    fmt, version = data.get("format"), data.get("format_version")
    if fmt != "fpsim-sweep" or type(version) is not int or version != 1:
        raise BadInput(f"{path}: not a sweep directory of this fpsim (format {json.dumps(fmt)}, version "
                       f"{json.dumps(version)}; {expected})")
    steps = data.get("steps")
    if type(steps) is not int or steps < 1:
        raise BadInput(f"{path}: 'steps' is not an integer >= 1")
    runs = data.get("runs")
    if not isinstance(runs, list):
        raise BadInput(f"{path}: 'runs' is not a list")
    out, ids = [], set()
    for i, e in enumerate(runs):
        where = f"{path}: runs[{i}]"
        if not isinstance(e, dict):
            raise BadInput(f"{where}: not an object")
        for key, kind in (("id", str), ("model", str), ("recipe", str), ("role", str), ("seed", int),
                          ("data_seed", int), ("index", int)):
            if key not in e or type(e[key]) is not kind:
                raise BadInput(f"{where}: '{key}' missing or not a{'n integer' if kind is int else ' string'}")
        if e["index"] != i:
            raise BadInput(f"{where}: index {e['index']}, expected {i}")
        rid = e["id"]
        if rid in ("", ".", "..") or "/" in rid or "\\" in rid or "\0" in rid:
            raise BadInput(f"{where}: id {rid!r} is not one directory name")
        if rid in ids:
            raise BadInput(f"{where}: id {rid!r} listed twice")
        ids.add(rid)
        if e["role"] not in ("recipe", "noise_floor"):
            raise BadInput(f"{where}: role {e['role']!r} is neither 'recipe' nor 'noise_floor'")
        out.append(Run(e))
    name = data.get("name") if isinstance(data.get("name"), str) else ""
    return Sweep(directory, name, steps, out)


def read_metrics(path, text):
    """Parses metrics.csv (docs "metrics.csv"); RunProblem("PATH:LINE: ...") on the first fault."""
    if text == "":
        raise RunProblem(f"{path}:1: empty file")
    lines = text.split("\n")
    if lines[-1] != "":
        raise RunProblem(f"{path}:{len(lines)}: last line has no newline (a truncated file)")
    lines.pop()
    if lines[0].split(",") != METRICS_HEADER:
        raise RunProblem(f"{path}:1: header is not {','.join(METRICS_HEADER)}")
    loss, scale, skipped, evals = [], [], [], []
    for n, line in enumerate(lines[1:], start=2):
        f = line.split(",")
        if len(f) != 7:
            raise RunProblem(f"{path}:{n}: {len(f)} fields, expected 7")
        step = n - 1
        if f[0] != str(step):
            raise RunProblem(f"{path}:{n}: step {f[0]!r}, expected {step}")
        try:
            values = [number(f[k]) for k in (1, 2, 3, 5)]
            ev = None if f[6] == "" else number(f[6])
        except ValueError as e:
            raise RunProblem(f"{path}:{n}: {e}") from None
        if f[4] not in ("0", "1"):
            raise RunProblem(f"{path}:{n}: skipped {f[4]!r} is neither 0 nor 1")
        loss.append(values[0])
        scale.append(values[2])
        skipped.append(int(f[4]))
        if ev is not None:
            evals.append((step, ev))
    return Metrics(loss, scale, skipped, evals)


def read_quant_stats(path, text):
    """Parses quant_stats.csv (docs "quant_stats.csv", RFC 4180); RunProblem("PATH:LINE: ...") on a fault."""
    if text == "":
        raise RunProblem(f"{path}:1: empty file")
    if not text.endswith("\n"):
        raise RunProblem(f"{path}:{text.count(chr(10)) + 1}: last line has no newline (a truncated file)")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        header = next(reader)
        if header != QUANT_HEADER:
            raise RunProblem(f"{path}:1: header is not {','.join(QUANT_HEADER)}")
        for rec in reader:
            n = reader.line_num
            if len(rec) != 12:
                raise RunProblem(f"{path}:{n}: {len(rec)} fields, expected 12")
            if not _STEP.match(rec[0]):
                raise RunProblem(f"{path}:{n}: step {rec[0]!r} is not a step number")
            try:
                under, sat = number(rec[5]), number(rec[6])
            except ValueError as e:
                raise RunProblem(f"{path}:{n}: {e}") from None
            rows.append(QuantRow(int(rec[0]), rec[1], rec[2], rec[3], rec[4], under, sat, rec[5], rec[6]))
    except csv.Error as e:
        raise RunProblem(f"{path}:{reader.line_num}: {e}") from None
    return rows


def load(directory):
    """Reads DIR/sweep.json (BadInput when it is not a sweep) and every run found under DIR/runs/."""
    sweep = read_sweep_json(directory)
    for run in sweep.runs:
        rd = os.path.join(directory, "runs", run.id)
        sp = os.path.join(rd, "summary.json")
        if not os.path.isdir(rd):
            sweep.notes.append(f"{run.id}: missing (not run: no {rd})")
            continue
        try:
            summary = json.loads(_read_bytes(sp).decode("utf-8"))
        except FileNotFoundError:
            sweep.notes.append(f"{run.id}: unfinished (started, no {sp})")
            continue
        except (OSError, UnicodeDecodeError, ValueError) as e:
            sweep.notes.append(f"{run.id}: left out: {sp}: not readable JSON ({e})")
            continue
        if not isinstance(summary, dict):
            sweep.notes.append(f"{run.id}: left out: {sp}: not a JSON object")
            continue
        run.summary = summary
        run.status = summary.get("status")
        if run.status not in ("done", "stopped"):
            sweep.notes.append(f"{run.id}: unfinished (status {run.status}; {sp})")
            continue
        listed = (run.model, recipe_name(run.recipe), run.seed, run.data_seed)
        found = tuple(summary.get(k) for k in ("model", "recipe", "seed", "data_seed"))
        if found != listed:
            sweep.notes.append(f"{run.id}: left out: {sp}: model, recipe, seed, data_seed {found} differ "
                               f"from sweep.json's {listed}")
            continue
        mp = os.path.join(rd, "metrics.csv")
        try:
            metrics = read_metrics(mp, _read_bytes(mp).decode("utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            sweep.notes.append(f"{run.id}: left out: {mp}: {getattr(e, 'strerror', None) or e}")
            continue
        except RunProblem as e:
            sweep.notes.append(f"{run.id}: left out: {e}")
            continue
        n = len(metrics.loss)
        if run.status == "done" and n != sweep.steps:
            sweep.notes.append(f"{run.id}: left out: {mp}: {n} steps in a done run, sweep.json says {sweep.steps}")
            continue
        if run.status == "stopped" and not 1 <= n <= sweep.steps:
            sweep.notes.append(f"{run.id}: left out: {mp}: {n} steps in a stopped run of {sweep.steps}")
            continue
        run.metrics = metrics
        run.usable = True
        qp = os.path.join(rd, "quant_stats.csv")
        try:
            run.quant = read_quant_stats(qp, _read_bytes(qp).decode("utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            run.quant_problem = f"{qp}: {getattr(e, 'strerror', None) or e}"
        except RunProblem as e:
            run.quant_problem = str(e)
        if run.quant_problem:
            sweep.notes.append(f"{run.id}: statistics left out: {run.quant_problem}")
        if run.status == "stopped":
            at = summary.get("stopped_at_step")
            why = summary.get("stop_reason")
            sweep.notes.append(f"{run.id}: stopped at step {at if at is not None else n}"
                               f"{f' ({why})' if why else ''}: plotted up to the stop")
    return sweep
