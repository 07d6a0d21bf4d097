#!/usr/bin/python3
"""Times one training step of fpsim's models in PyTorch (CPU, float32).

Usage: /usr/bin/python3 scripts/torch_step_time.py --model mlp|gpt [--batch B]
           [--repeats N] [--warmup W] [--threads T] [--hidden H] [--hidden-layers L]
           [--layers L] [--width C] [--heads NH] [--context T] [--vocab V] [--no-clip]

One step is what fpsim's runner does per step (docs/training.md, "The step
loop"): zero_grad, forward, mean cross-entropy, backward,
clip_grad_norm_(1.0), AdamW step (foreach=False, fpsim's parameter groups).
The module is the same as scripts/torch_replay.py's (same shapes and state_dict
keys); parameters are PyTorch's default initialisation and the batch random
(timing does not depend on the values). Each of --repeats timed steps runs on
the same batch after --warmup untimed ones; prints one JSON object
{"model", "step_ms" (median), "min_ms", "max_ms", "batch", "repeats",
"threads", "torch"} on stdout. Defaults follow fpsim's: mlp batch 32,
hidden 128 x 2; gpt batch 16, 2 layers, width 64, 4 heads, context 64,
vocab 83 (the Devil's Dictionary).
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import fpsim_torch_common as common  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=["mlp", "gpt"], required=True)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=20, help="timed steps (median reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--hidden-layers", type=int, default=2)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=83)
    ap.add_argument("--no-clip", action="store_true", help="skip clip_grad_norm_ (fpsim's clip=0)")
    a = ap.parse_args(argv)
    if a.repeats < 1 or a.warmup < 0 or a.threads < 1 or (a.batch is not None and a.batch < 1):
        print("torch_step_time: --repeats, --threads and --batch must be >= 1, --warmup >= 0", file=sys.stderr)
        return 2
    if a.model == "gpt" and a.width % a.heads != 0:
        print("torch_step_time: --width must be a multiple of --heads", file=sys.stderr)
        return 2
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    batch = a.batch or (32 if a.model == "mlp" else 16)
    if a.model == "mlp":
        cfg = {"model": "mlp", "mlp.hidden": str(a.hidden), "mlp.hidden_layers": str(a.hidden_layers)}
        model = common.build_model(cfg)
        data = (torch.rand(batch, 64), torch.randint(0, 10, (batch,)))
        lr, wd, b2 = 1e-3, 0.01, 0.999
    else:
        cfg = {
            "model": "gpt",
            "gpt.layers": str(a.layers),
            "gpt.width": str(a.width),
            "gpt.heads": str(a.heads),
            "gpt.context": str(a.context),
        }
        model = common.build_model(cfg, a.vocab)
        tokens = torch.randint(0, a.vocab, (batch, a.context + 1))
        data = (tokens[:, :-1], tokens[:, 1:])
        lr, wd, b2 = 3e-3, 0.1, 0.99
    opt_cfg = {"optimizer": "adamw", "lr": lr, "weight_decay": wd, "beta1": 0.9, "beta2": b2, "eps": 1e-8}
    opt = common.make_optimizer(model, opt_cfg)
    params = [p for g in opt.param_groups for p in g["params"]]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = common.model_loss(model, cfg, data)
        loss.backward()
        if not a.no_clip:
            torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    print(
        json.dumps(
            {
                "model": a.model,
                "step_ms": statistics.median(times),
                "min_ms": min(times),
                "max_ms": max(times),
                "batch": batch,
                "repeats": a.repeats,
                "threads": a.threads,
                "torch": torch.__version__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
