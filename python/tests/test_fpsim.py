"""The Python module against the `fpsim` command on the same inputs.

Every function is compared with the CLI's output (a separate front end that
reads text, so the module's array handling, dtypes, shapes and option
plumbing are what is under test); then bad arguments, large and
non-contiguous arrays, and stochastic rounding's reproducibility.
FPSIM_BINARY names the CLI (set by ctest, tests/CMakeLists.txt).
"""
import json
import os
import subprocess
import threading
import time

import numpy as np
import pytest

import fpsim

FPSIM = os.environ.get("FPSIM_BINARY", "build/cli/fpsim")


def cli(*args, stdin=""):
    r = subprocess.run([FPSIM, *args], input=stdin, capture_output=True, text=True)
    assert r.returncode == 0, f"fpsim {' '.join(args)}: {r.stderr}"
    return r.stdout


def f32_hex(x):
    return [f"{v:08x}" for v in np.asarray(x, np.float32).view(np.uint32)]


def edge_values(seed=1, n=400):
    """Random float32 values over a wide range plus the cases conversions get
    wrong: zeros, infinities, NaN, format boundaries, ties and subnormals."""
    rng = np.random.default_rng(seed)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 448, 464, 465, 480, -448, 57344, 61440, 65504, 65520, 6.0, 7.0,
               2 ** -6, 2 ** -9, 2 ** -10, 1.5 * 2 ** -10, 2 ** -14, 2 ** -24, 2 ** -25, 1.0 + 2 ** -8, 1.0 + 2 ** -4,
               3.4e38, 1e-45, -1e-45, 1.1754942e-38, 0.1, -0.3, 2 ** 127, 127.5, -128.5, 255.0]
    rand = rng.standard_normal(n) * np.exp2(rng.uniform(-20, 20, n))
    return np.concatenate([np.array(special), rand]).astype(np.float32)


def cli_convert(x, to, rounding="rne", overflow="ieee", seed=0):
    """Codes and per-element flag bytes from `fpsim convert --bits --flags`."""
    args = ["convert", "--bits", "--from", "f32", "--to", to, "--rounding", rounding, "--overflow", overflow, "--flags"]
    if seed:
        args += ["--seed", str(seed)]
    out = cli(*args, stdin="\n".join(f32_hex(x)) + "\n").split("\n")
    codes, flags = [], []
    for line in out[: len(x)]:
        code, fl = line.split()
        codes.append(int(code, 16))
        flags.append(int(fl, 16))
    return np.array(codes, np.uint64), flags


# TestFloat's flag encoding plus fpsim's two (docs/cli.md): the CLI's --flags digits.
FLAG_BITS = {"inexact": 0x01, "underflow": 0x02, "overflow": 0x04, "infinite": 0x08, "invalid": 0x10,
             "saturated": 0x20, "flushed": 0x40}

CONVERT_CASES = [(to, r, o) for to in ["e4m3", "e5m2", "fp16", "bf16", "e2m1", "e3m2", "e2m3", "e4m3fnuz", "ue4m3",
                                       "e8m0", "tf32", "fp32", "int8", "e3m4"]
                 for r, o in [("rne", "ieee"), ("rtz", "saturate"), ("rup", "ieee"), ("sr", "saturate"),
                              ("sr8", "ieee")]]


@pytest.mark.parametrize("to,rounding,overflow", CONVERT_CASES)
def test_convert_codes_match_cli(to, rounding, overflow):
    x = edge_values()
    seed = 7 if rounding.startswith("sr") else 0
    want, _ = cli_convert(x, to, rounding, overflow, seed)
    got = fpsim.convert(x, to, rounding, overflow, seed=seed)
    if to == "tf32":
        want = want >> 13  # the CLI prints tf32 in its 32-bit container
    assert got.dtype == {1: np.uint8, 2: np.uint16, 4: np.uint32}[got.dtype.itemsize]
    np.testing.assert_array_equal(got.astype(np.uint64), want)
    # The float64 path (the scalar core) on the same values gives the same codes.
    np.testing.assert_array_equal(fpsim.convert(x.astype(np.float64), to, rounding, overflow, seed=seed), got)


@pytest.mark.parametrize("to", ["e4m3", "e5m2", "fp16", "e2m1", "e8m0"])
def test_convert_flags_match_cli_element_by_element(to):
    x = edge_values(seed=2, n=60)
    _, want = cli_convert(x, to, "rne", "saturate")
    for i, v in enumerate(x):
        _, raised = fpsim.convert(x[i:i + 1], to, "rne", "saturate", first_index=i, flags=True)
        got = sum(bit for name, bit in FLAG_BITS.items() if raised[name])
        assert got == want[i], f"{to} {v!r}: flags {got:#x}, CLI {want[i]:#x}"


@pytest.mark.parametrize("fmt", ["e4m3", "e5m2", "e2m1", "e3m2", "e2m3", "e8m0", "ue4m3", "e4m3fnuz", "fp16", "bf16"])
def test_decode_every_code_matches_cli(fmt):
    f = {f["name"]: f for f in fpsim.formats()}[fmt]
    bits = f["exp_bits"] + f["man_bits"] + int(f["signed"])  # code count: ue4m3 has 7 bits of codes in a byte
    codes = np.arange(2 ** bits, dtype=np.uint8 if bits <= 8 else np.uint16)
    out = cli("convert", "--bits", "--from", fmt, "--to", "fp32",
              stdin="\n".join(f"{c:x}" for c in codes) + "\n").split()
    want = np.array([int(v, 16) for v in out], np.uint32)
    np.testing.assert_array_equal(fpsim.decode(codes, fmt).view(np.uint32), want)
    exact = fpsim.decode(codes, fmt, dtype=np.float64)
    finite = np.isfinite(exact)
    np.testing.assert_array_equal(exact[finite], want.view(np.float32)[finite].astype(np.float64))


def test_fake_quantize_is_decode_of_convert():
    x = edge_values(seed=3)
    np.testing.assert_array_equal(fpsim.fake_quantize(x, "e4m3").view(np.uint32),
                                  fpsim.decode(fpsim.convert(x, "e4m3"), "e4m3").view(np.uint32))


def test_formats_match_cli():
    want = json.loads(cli("formats", "--json"))
    got = fpsim.formats()
    assert [f["name"] for f in got] == [f["name"] for f in want]
    for g, w in zip(got, want):
        assert (g["bits"], g["exp_bits"], g["man_bits"], g["bias"], g["kind"]) == \
            (w["bits"], w["exponent_bits"], w["mantissa_bits"], w["bias"], w["kind"])
        assert g["max_finite"] == w["max_finite"] and g["min_subnormal"] == w["min_subnormal"]


QUANT_CASES = [
    ("mxfp8-e4m3", {}, []),
    ("mxfp8-e5m2", {"e8m0_rule": "ceil"}, ["--e8m0-rule", "ceil"]),
    ("mxfp6-e2m3", {}, []),
    ("mxfp4", {"rounding": "sr", "seed": 5}, ["--rounding", "sr", "--seed", "5"]),
    ("mxint8", {}, []),
    ("nvfp4", {}, []),
    ("nvfp4", {"hadamard": True, "hadamard_seed": 3}, ["--hadamard", "--hadamard-seed", "3"]),
    ("nvfp4-2d", {"scale_arith": "exact"}, ["--scale-arith", "exact"]),
    ("nvfp4", {"scale_arith": "fp32-te-legacy"}, ["--scale-arith", "fp32-te-legacy"]),
    ("nvfp4-4over6", {}, []),
    ("nvfp4-2d-4over6", {}, []),
    ("nvfp4-row-scaled", {}, []),
    ("per-tensor-e4m3", {"pow2_scales": True}, ["--pow2-scales"]),
    ("block-1x128-e4m3", {}, []),
    ("block-128x128-e4m3", {"block": (32, 32)}, ["--block", "32x32"]),
    ("mxfp8-e4m3", {"block": (32, 1)}, ["--block", "32x1"]),
]


@pytest.mark.parametrize("scheme,options,flags", QUANT_CASES)
def test_quantize_matches_cli(scheme, options, flags):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((48, 160)) * np.exp2(rng.integers(-6, 6, (48, 1)))).astype(np.float32)
    x[3, 5] = 0.0
    x[7, 9] = 1e-30
    want = json.loads(cli("quantize", "--scheme", scheme, "--json", "--bits", "--shape", "48x160", *flags,
                          stdin="\n".join(f32_hex(x.ravel())) + "\n"))
    q = fpsim.quantize(x, scheme, **options)
    np.testing.assert_array_equal(q.elements, np.array([[int(v, 16) for v in row] for row in want["elements"]]))
    np.testing.assert_array_equal(q.scale_codes.ravel(), np.array([int(v, 16) for v in want["scales"]]))
    assert q.scale_format == want["scale_format"] and q.element_format == want["element_format"]
    assert float(q.tensor_scale) == want["tensor_scale"]
    np.testing.assert_array_equal(q.row_tensor_scales, np.array(want.get("row_tensor_scales", []), np.float32))
    assert (len(q.row_tensor_scales) == 48) == (scheme == "nvfp4-row-scaled")
    np.testing.assert_array_equal(q.scales.ravel(), np.array(want["scale_values"], np.float64))
    for key in ("amax", "underflows", "saturated", "nan_scale_blocks", "elements"):
        assert q.stats[key] == want["stats"][key], key
    np.testing.assert_array_equal(fpsim.dequantize(q), np.array(want["values"], np.float32))


def write_rows(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(" ".join(f32_hex(r)) + "\n")


@pytest.mark.parametrize("model", ["h100-e4m3-fp32", "h100-bf16-fp32", "a100-fp16-fp16", "v100-fp16-fp32",
                                   "h100-e4m3-fp32:promote128"])
def test_mma_matches_cli(model, tmp_path):
    rng = np.random.default_rng(5)
    M, N, K = 5, 6, 256
    fmt = "e4m3" if "e4m3" in model else "bf16" if "bf16" in model else "fp16"
    out_fmt = "fp16" if model.endswith("fp16") else "fp32"
    a = fpsim.fake_quantize(rng.standard_normal((M, K)).astype(np.float32), fmt, overflow="saturate")
    b = fpsim.fake_quantize(rng.standard_normal((K, N)).astype(np.float32), fmt, overflow="saturate")
    c = fpsim.fake_quantize(rng.standard_normal((M, N)).astype(np.float32), out_fmt)
    d = fpsim.mma(a, b, c, model=model)
    write_rows(tmp_path / "a.txt", [a[i] for i in range(M) for j in range(N)])
    write_rows(tmp_path / "b.txt", [b[:, j] for i in range(M) for j in range(N)])
    with open(tmp_path / "c.txt", "w") as f:
        for v in c.ravel().view(np.uint32):
            f.write(f"{int(v):032b}\n")
    out = cli("mma", "--model", model, "--k", str(K), "--a", str(tmp_path / "a.txt"), "--b", str(tmp_path / "b.txt"),
              "--c", str(tmp_path / "c.txt")).split()
    want = np.array([int(v, 2) for v in out], np.uint32).reshape(M, N)
    np.testing.assert_array_equal(d.view(np.uint32), want)
    # C absent is C = 0.
    np.testing.assert_array_equal(fpsim.mma(a, b, None, model=model).view(np.uint32),
                                  fpsim.mma(a, b, np.zeros((M, N), np.float32), model=model).view(np.uint32))


def test_mma_error_matches_cli():
    want = json.loads(cli("mma-error", "--model", "h100-e4m3-fp32", "--k", "512", "--promote", "128",
                          "--trials", "50", "--seed", "3", "--json"))
    got = fpsim.mma_error("h100-e4m3-fp32", 512, promote=128, trials=50, seed=3)
    for key in ("relative_error", "error_vs_abs_sum", "exact_results", "parameters", "k", "promotion_interval"):
        assert got[key] == want[key], key


# ---- bad arguments ---------------------------------------------------------

def test_bad_arguments_raise_clear_exceptions():
    x = np.ones(4, np.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        fpsim.convert(np.ones(4, np.int32), "e4m3")
    with pytest.raises(TypeError, match="float32 or float64"):
        fpsim.convert(["a", "b"], "e4m3")
    with pytest.raises(ValueError, match="fp7"):
        fpsim.convert(x, "fp7")
    with pytest.raises(fpsim.Error, match="nearest"):
        fpsim.convert(x, "e4m3", rounding="nearest")
    with pytest.raises(ValueError, match="stochastic"):
        fpsim.convert(x, "e4m3", seed=3)
    with pytest.raises(ValueError, match="output"):
        fpsim.convert(x, "e4m3", output="bits")
    with pytest.raises(TypeError, match="unsigned integer"):
        fpsim.decode(np.ones(3, np.float32), "e4m3")
    with pytest.raises(ValueError, match="not a code of e4m3"):
        fpsim.decode(np.array([256], np.uint16), "e4m3")
    with pytest.raises(ValueError, match="mxfp9"):
        fpsim.quantize(x, "mxfp9")
    with pytest.raises(ValueError, match="1-D or 2-D"):
        fpsim.quantize(np.ones((2, 2, 32), np.float32), "mxfp8-e4m3")
    with pytest.raises(TypeError, match="float32"):
        fpsim.quantize(np.ones(32), "mxfp8-e4m3")
    with pytest.raises(ValueError, match="scale-arith does not apply to MX"):
        fpsim.quantize(x, "mxfp4", scale_arith="exact")
    with pytest.raises(ValueError, match="applies to per-tensor and block-RxC-FMT schemes only"):
        fpsim.quantize(np.ones(32, np.float32), "mxfp8-e4m3", pow2_scales=True)
    with pytest.raises(ValueError, match="expected a finite number >= 0"):
        fpsim.quantize(x, "per-tensor-e4m3", amax_epsilon=-1e-3)
    with pytest.raises(ValueError, match="hadamard-seed needs --hadamard"):
        fpsim.quantize(np.ones(16, np.float32), "nvfp4", hadamard_seed=3)
    with pytest.raises(TypeError, match="QuantizedTensor"):
        fpsim.dequantize(np.ones(3))
    with pytest.raises(ValueError, match="2x3 but b is 4x2"):
        fpsim.mma(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="not a value of e4m3"):
        fpsim.mma(np.full((1, 2), 0.3, np.float32), np.ones((2, 1), np.float32), model="h100-e4m3-fp32")
    with pytest.raises(ValueError, match="h99"):
        fpsim.mma(np.ones((1, 1), np.float32), np.ones((1, 1), np.float32), model="h99-fp16-fp32")
    with pytest.raises(ValueError):
        fpsim.mma_error("h100-e4m3-fp32", 0)


# ---- large, non-contiguous, reproducible -----------------------------------

def test_large_array_in_pieces_equals_one_call():
    rng = np.random.default_rng(9)
    x = (rng.standard_normal(2 ** 24 + 5) * 3).astype(np.float32)
    whole = fpsim.convert(x, "e4m3", "sr", seed=42)
    cut = 2 ** 23 + 3  # not a multiple of any vector width or Philox group
    parts = np.concatenate([fpsim.convert(x[:cut], "e4m3", "sr", seed=42),
                            fpsim.convert(x[cut:], "e4m3", "sr", seed=42, first_index=cut)])
    np.testing.assert_array_equal(whole, parts)
    # The scalar core (float64 path) agrees on a sample across the whole range.
    idx = rng.integers(0, x.size, 5000)
    for i in idx[:200]:
        assert fpsim.convert(x[i:i + 1].astype(np.float64), "e4m3", "sr", seed=42, first_index=int(i))[0] == whole[i]
    q = fpsim.quantize(x[: 2 ** 22].reshape(2048, 2048), "mxfp8-e4m3")
    assert q.elements.shape == (2048, 2048) and q.stats["elements"] == 2 ** 22


def test_non_contiguous_arrays_give_the_results_of_their_copies():
    rng = np.random.default_rng(4)
    base = (rng.standard_normal((64, 96)) * 10).astype(np.float32)
    for view in (base[::2, 1::3], base.T, np.asfortranarray(base), base.astype(">f4")):
        copy = np.ascontiguousarray(view, dtype=np.float32)
        np.testing.assert_array_equal(fpsim.convert(view, "bf16", "sr", seed=1), fpsim.convert(copy, "bf16", "sr", seed=1))
        np.testing.assert_array_equal(fpsim.quantize(view, "mxfp8-e4m3").elements,
                                      fpsim.quantize(copy, "mxfp8-e4m3").elements)
    codes = fpsim.convert(base, "e4m3")
    np.testing.assert_array_equal(fpsim.decode(codes[:, ::5], "e4m3"), fpsim.decode(codes, "e4m3")[:, ::5])
    a = fpsim.fake_quantize(base[:16, :32], "bf16")
    b = fpsim.fake_quantize(base[:32, :8], "bf16")
    np.testing.assert_array_equal(fpsim.mma(a[:, ::2], b[::2, :], model="h100-bf16-fp32"),
                                  fpsim.mma(np.ascontiguousarray(a[:, ::2]), np.ascontiguousarray(b[::2, :]),
                                            model="h100-bf16-fp32"))
    assert fpsim.convert(base, "fp16").shape == base.shape


def test_out_receives_the_codes_of_a_plain_call():
    x = edge_values(seed=8)
    for to, dtype in (("e4m3", np.uint8), ("bf16", np.uint16), ("fp32", np.uint32)):
        out = np.zeros(x.shape, dtype)
        ret = fpsim.convert(x, to, "sr", seed=4, out=out)
        assert ret is out
        np.testing.assert_array_equal(out, fpsim.convert(x, to, "sr", seed=4))
    with pytest.raises(TypeError, match="uint8"):
        fpsim.convert(x, "e4m3", out=np.zeros(x.shape, np.uint16))
    with pytest.raises(ValueError, match="shape"):
        fpsim.convert(x, "e4m3", out=np.zeros(x.size + 1, np.uint8))
    with pytest.raises(ValueError, match="C-contiguous"):
        fpsim.convert(x[::2], "e4m3", out=np.zeros(x.size, np.uint8)[::2])


def test_stochastic_rounding_is_reproducible_and_keyed():
    x = np.linspace(-3, 3, 10001, dtype=np.float32)
    a = fpsim.convert(x, "e5m2", "sr", seed=1, step=2)
    np.testing.assert_array_equal(a, fpsim.convert(x, "e5m2", "sr", seed=1, step=2))
    assert (a != fpsim.convert(x, "e5m2", "sr", seed=2, step=2)).any()
    assert (a != fpsim.convert(x, "e5m2", "sr", seed=1, step=3)).any()
    assert (a != fpsim.convert(x, "e5m2", "sr", seed=1, step=2, stream=1)).any()
    q1 = fpsim.quantize(x[:10000].reshape(100, 100), "nvfp4", rounding="sr", seed=9)
    q2 = fpsim.quantize(x[:10000].reshape(100, 100), "nvfp4", rounding="sr", seed=9)
    np.testing.assert_array_equal(q1.elements, q2.elements)


def test_long_calls_release_the_gil():
    """While a long library call runs in another thread, this thread runs too:
    with the GIL held it could not run at all during the call."""
    done = threading.Event()
    span = {}

    def worker():
        t0 = time.perf_counter()
        fpsim.mma_error("h100-e4m3-fp32", 4096, trials=400)
        span["call"] = time.perf_counter() - t0
        done.set()

    spins = 0
    t = threading.Thread(target=worker)
    start = time.perf_counter()
    t.start()
    last = start
    running = 0.0
    while not done.is_set():
        now = time.perf_counter()
        if now - last < 0.01:  # time this thread got to run, in slices short of a GIL switch
            running += now - last
        last = now
        spins += 1
    t.join()
    assert span["call"] > 0.2
    assert running > 0.2 * span["call"], f"this thread ran {running:.3f} s of a {span['call']:.3f} s call"


def test_ml_dtypes_interop_when_installed():
    """ml_dtypes arrays in and out by their bits, and ml_dtypes' own rne
    conversion and decoding as a second oracle (codes, NaN patterns included)."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = np.concatenate([edge_values(seed=6, n=20000), np.array([464, 61440, 240, 248, 256], np.float32)])
    view = fpsim.convert(x, "e4m3", output="ml_dtypes")
    assert view.dtype == ml_dtypes.float8_e4m3fn
    np.testing.assert_array_equal(fpsim.decode(view).view(np.uint32), fpsim.fake_quantize(x, "e4m3").view(np.uint32))
    with pytest.raises(ValueError, match="holds e4m3 codes"):
        fpsim.decode(view, "e5m2")
    for name, fmt in (("float8_e4m3fn", "e4m3"), ("float8_e5m2", "e5m2"), ("float8_e4m3fnuz", "e4m3fnuz"),
                      ("float8_e5m2fnuz", "e5m2fnuz"), ("bfloat16", "bf16")):
        if not hasattr(ml_dtypes, name):
            continue
        theirs = x.astype(getattr(ml_dtypes, name))
        bits = np.uint16 if theirs.dtype.itemsize == 2 else np.uint8
        np.testing.assert_array_equal(fpsim.convert(x, fmt), theirs.view(bits), err_msg=name)
        finite = ~np.isnan(theirs.astype(np.float32))
        np.testing.assert_array_equal(fpsim.decode(theirs)[finite], theirs.astype(np.float32)[finite], err_msg=name)
