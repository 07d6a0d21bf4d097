"""fpsim: bit-exact low-precision arithmetic for numpy and PyTorch users.

The C++ library does the work (the same code as the ``fpsim`` command):
conversions to every format in every rounding mode with flags, the MX, NVFP4
and FP8 quantizers, and the tensor-core models. See docs/python.md.

>>> import numpy as np, fpsim
>>> fpsim.convert(np.array([448, 464, 465], np.float32), to="e4m3")
array([126, 126, 127], dtype=uint8)
>>> fpsim.decode(np.array([0x7e, 0x7f], np.uint8), "e4m3")
array([448.,  nan], dtype=float32)
"""

import numpy as _np

from . import _fpsim
from ._fpsim import Error, QuantizedTensor  # noqa: F401  (Error subclasses ValueError)

__all__ = ["formats", "convert", "fake_quantize", "decode", "quantize", "dequantize", "quant_schemes",
           "mma", "mma_models", "mma_error", "Error", "QuantizedTensor"]

# ml_dtypes' dtype names and the fpsim format each one's bits are codes of.
_ML_DTYPES = {
    "float8_e4m3fn": "e4m3",
    "float8_e5m2": "e5m2",
    "float8_e4m3fnuz": "e4m3fnuz",
    "float8_e5m2fnuz": "e5m2fnuz",
    "float8_e8m0fnu": "e8m0",
    "float6_e2m3fn": "e2m3",
    "float6_e3m2fn": "e3m2",
    "float4_e2m1fn": "e2m1",
    "bfloat16": "bf16",
    "float16": "fp16",
}


def _ml_dtype_format(dtype):
    """The fpsim format of an ml_dtypes (or numpy float16) dtype, else None."""
    return _ML_DTYPES.get(_np.dtype(dtype).name)


def formats():
    """The built-in formats as a list of dicts (name, widths, bias, range, aliases)."""
    return _fpsim._formats()


def _spec(rounding, overflow, tininess, ftz, daz, seed, stream, step):
    return _fpsim.RoundingSpec(rounding, overflow, tininess, bool(ftz), bool(daz), int(seed), int(stream), int(step))


def convert(x, to, rounding="rne", overflow="ieee", *, seed=0, stream=0, step=0, first_index=0, tininess="after",
            ftz=False, daz=False, output="codes", flags=False, out=None):
    """Rounds x (float32 or float64, any shape) to format ``to``.

    rounding: rne rna rtz rup rdn rto sr sr<R>; overflow: ieee or saturate.
    Stochastic rounding is keyed by (seed, stream, step) and element i of the
    flattened array uses counter first_index + i, so a tensor converted in
    pieces with matching first_index gives the codes of one call.
    output: "codes" (uint8/uint16/uint32/uint64 by the format's width),
    "values" (the decoded float32 values, i.e. fake quantization) or
    "ml_dtypes" (codes viewed as the matching ml_dtypes dtype).
    flags=True returns (result, flags) with flags a dict of the IEEE flags
    (plus saturated and flushed) raised by any element (gathering them costs
    the SIMD kernels their fastest variant).
    out: a C-contiguous array of the codes' dtype and x's shape to write the
    codes into (output="codes" only), saving the allocation.
    """
    arr = _np.asarray(x)
    if arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8):
        raise TypeError(f"fpsim.convert: expected a float32 or float64 array, got dtype {arr.dtype}")
    if out is not None and output != "codes":
        raise ValueError("fpsim.convert: out= needs output='codes'")
    codes, raised = _fpsim._convert(arr, str(to), _spec(rounding, overflow, tininess, ftz, daz, seed, stream, step),
                                    int(first_index), bool(flags), out)
    if output == "codes":
        result = codes
    elif output == "values":
        result = _fpsim._decode(codes, str(to), False)
    elif output == "ml_dtypes":
        result = _as_ml_dtype(codes, str(to))
    else:
        raise ValueError(f"fpsim.convert: output must be 'codes', 'values' or 'ml_dtypes', not {output!r}")
    return (result, raised) if flags else result


def fake_quantize(x, to, rounding="rne", overflow="ieee", **options):
    """x rounded to format ``to`` and read back as float32 (``convert(..., output="values")``)."""
    return convert(x, to, rounding, overflow, output="values", **options)


def _as_ml_dtype(codes, fmt):
    try:
        import ml_dtypes
    except ImportError as e:
        raise ImportError("fpsim: output='ml_dtypes' needs the ml_dtypes package") from e
    for name, f in _ML_DTYPES.items():
        if f == fmt and hasattr(ml_dtypes, name):
            return codes.view(getattr(ml_dtypes, name))
    raise ValueError(f"fpsim: ml_dtypes has no dtype for format {fmt}")


def decode(codes, fmt=None, *, dtype=_np.float32):
    """The values of codes of format ``fmt`` (unsigned integer array, any shape).

    An ml_dtypes array (float8_e4m3fn, float4_e2m1fn, ...) may be passed
    without fmt: its bits are read as codes of the matching format. dtype:
    float32 (default; formats wider than fp32 round to nearest even) or
    float64 (exact for every format).
    """
    arr = _np.asarray(codes)
    inferred = _ml_dtype_format(arr.dtype) if arr.dtype.kind not in "ui" else None
    if inferred is not None:
        if fmt is not None and fmt != inferred:
            raise ValueError(f"fpsim.decode: the array's dtype {arr.dtype} holds {inferred} codes, not {fmt}")
        fmt = inferred
        arr = arr.view(_np.uint16 if arr.dtype.itemsize == 2 else _np.uint8)
    if fmt is None:
        raise TypeError("fpsim.decode: give the format (fmt=...) of the codes")
    if arr.dtype.kind not in "ui":
        raise TypeError(f"fpsim.decode: expected an unsigned integer array of codes, got dtype {arr.dtype}")
    if _np.dtype(dtype) == _np.float32:
        return _fpsim._decode(arr, str(fmt), False)
    if _np.dtype(dtype) == _np.float64:
        return _fpsim._decode(arr, str(fmt), True)
    raise TypeError("fpsim.decode: dtype must be float32 or float64")


def quant_schemes():
    """The names ``quantize`` accepts (patterns such as per-tensor-<fmt> included)."""
    return list(_fpsim._quant_scheme_names())


def quantize(x, scheme, *, block=None, e8m0_rule=None, scale_arith=None, pow2_scales=None, amax_epsilon=None,
             rounding=None, overflow=None, seed=None, stream=None, step=None, hadamard=False, hadamard_seed=None,
             require_full_blocks=False):
    """Quantizes x (float32, 1-D = one row, or 2-D) with a scaling scheme.

    scheme: mxfp8-e4m3, mxfp8-e5m2, mxfp6-e2m3, mxfp6-e3m2, mxfp4, mxint8, nvfp4,
    nvfp4-2d, nvfp4-4over6, nvfp4-4over6-mse, nvfp4-2d-4over6, nvfp4-row-scaled,
    per-tensor-<fmt>, block-<R>x<C>-<fmt> (``quant_schemes()``).
    The options are those of ``fpsim quantize`` and are checked by the same
    code (docs/quantization.md); None keeps the scheme's own setting.
    Returns a QuantizedTensor: .elements (uint8 codes, shaped like x as 2-D),
    .scale_codes and .scales (per block), .multipliers, .tensor_scale,
    .row_tensor_scales (nvfp4-row-scaled: one per row, in place of
    .tensor_scale; empty otherwise) and .stats (a dict: amax, underflows,
    saturated, mse, sqnr_db, ...).
    """
    s = _fpsim._quantize_scheme(str(scheme), None if block is None else tuple(int(v) for v in block), e8m0_rule,
                                pow2_scales, amax_epsilon, scale_arith, rounding, overflow, seed, stream, step,
                                bool(require_full_blocks), bool(hadamard), hadamard_seed)
    return _fpsim._quantize(_np.asarray(x), s)


def dequantize(q):
    """The values a QuantizedTensor stands for, float32, shaped rows x cols."""
    if not isinstance(q, QuantizedTensor):
        raise TypeError("fpsim.dequantize: expected the QuantizedTensor that fpsim.quantize returned")
    return _fpsim._dequantize(q)


def mma_models():
    """The tensor-core presets (``fpsim mma --list``)."""
    return list(_fpsim._mma_models())


def mma(a, b, c=None, model="h100-e4m3-fp32"):
    """D = A·B + C as the tensor core of ``model`` computes it, bit for bit.

    a: M x K, b: K x N, c: M x N or None (zero); float32 arrays whose values
    are values of the model's input formats (round them first with
    ``fake_quantize``), C of its output format. Returns D (float32, M x N).
    """
    return _fpsim._mma(_np.asarray(a), _np.asarray(b), None if c is None else _np.asarray(c), str(model))


def mma_error(model="h100-e4m3-fp32", k=4096, *, promote=None, dist="normal", trials=1000, seed=0):
    """The error of ``model``'s dot products of length k against the exact
    ones (MPFR), over random trials: the report of ``fpsim mma-error``.
    """
    return _fpsim._mma_error(str(model), int(k), promote, str(dist), int(trials), int(seed))
