#!/usr/bin/python3
"""What a conversion costs from Python against the same C++ call.

Converts 16M float32 values (N(0,1)·2^u, u uniform in [-6, 6], as
convert_bulk_bench) with fpsim.convert and with the bulk C++ call timed
inside the extension (no Python in the loop, output preallocated), in one
run, and prints each time and their ratio. The plain Python call also
allocates its output array (fresh pages from the OS for arrays this large);
with out= it writes into a preallocated one, as the C++ timing does.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_convert_bench.py
"""
import time

import numpy as np

import fpsim
from fpsim import _fpsim

N = 1 << 24
REPEATS = 5
rng = np.random.default_rng(0)
x = (rng.standard_normal(N) * np.exp2(rng.uniform(-6, 6, N))).astype(np.float32)

print(f"SIMD target: {_fpsim._simd_target()}; {N} float32 values, best of {REPEATS}")
print(f"{'conversion':24s} {'C++ (s)':>9s} {'Python (s)':>10s} {'Python/C++':>10s} {'out= (s)':>9s} {'out=/C++':>9s}")
for to, rounding in (("bf16", "rne"), ("e4m3", "rne"), ("e4m3", "sr"), ("e2m1", "sr16")):
    spec = _fpsim.RoundingSpec(rounding, "ieee", "after", False, False, 0, 0, 0)
    cpp = _fpsim._time_bulk_convert(x, to, spec, REPEATS)
    best = best_out = float("inf")
    out = fpsim.convert(x, to, rounding)
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fpsim.convert(x, to, rounding)
        t1 = time.perf_counter()
        fpsim.convert(x, to, rounding, out=out)
        t2 = time.perf_counter()
        best, best_out = min(best, t1 - t0), min(best_out, t2 - t1)
    print(f"{to + ' ' + rounding:24s} {cpp:9.4f} {best:10.4f} {best / cpp:10.3f} {best_out:9.4f} {best_out / cpp:9.3f}")
