"""Fake-quantize a PyTorch tensor with MXFP8 and NVFP4 through fpsim, and
compare a matmul with fpsim.mma under an H100 preset.

    PYTHONPATH=build/python /usr/bin/python3 python/examples/torch_fake_quant.py

Needs python3-torch (Debian) besides the module; PyTorch tensors go through
numpy without a copy (.numpy() on a CPU tensor, torch.from_numpy back).
"""
import numpy as np
import torch

import fpsim

torch.manual_seed(0)
w = torch.randn(64, 256) * 0.02
x = torch.randn(32, 256)

# MXFP8 (E4M3 elements, one E8M0 scale per 32 consecutive elements) and NVFP4
# (E2M1 elements, one UE4M3 scale per 16, one FP32 tensor scale).
for scheme in ("mxfp8-e4m3", "nvfp4"):
    q = fpsim.quantize(w.numpy(), scheme)
    w_q = torch.from_numpy(fpsim.dequantize(q))
    err = (w_q - w).norm() / w.norm()
    print(f"{scheme:11s} scales {q.scale_format} {tuple(q.scale_codes.shape)}, "
          f"sqnr {q.stats['sqnr_db']:.1f} dB, relative error {err:.3e}")

# A matmul as an H100 computes it: operands in bf16 (fake-quantized), FP32
# accumulation in the tensor core's block-FMA arithmetic, bit for bit.
a = fpsim.fake_quantize(x.numpy(), "bf16")
b = fpsim.fake_quantize(w.numpy().T.copy(), "bf16")
d_tc = fpsim.mma(a, b, model="h100-bf16-fp32")
d_torch = (torch.from_numpy(a).double() @ torch.from_numpy(b).double()).float().numpy()
diff = np.abs(d_tc - d_torch)
print(f"h100-bf16-fp32 vs float64 matmul rounded to float32: {np.count_nonzero(diff)} of {diff.size} entries differ, "
      f"max |diff| {diff.max():.3e}")

# The same in FP8 with and without the 128-element promotion to FP32 (DeepSeek-V3's fix).
a8 = fpsim.fake_quantize(x.numpy(), "e4m3", overflow="saturate")
b8 = fpsim.fake_quantize((w.numpy().T * 50).copy(), "e4m3", overflow="saturate")
exact = a8.astype(np.float64) @ b8.astype(np.float64)
for model in ("h100-e4m3-fp32", "h100-e4m3-fp32:promote128"):
    d = fpsim.mma(a8, b8, model=model)
    rel = np.abs(d - exact).max() / np.abs(exact).max()
    print(f"{model:26s} max error vs exact, relative to max |D|: {rel:.3e}")
