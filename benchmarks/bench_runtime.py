#!/usr/bin/env python
"""Benchmark: the network's forward pass on torch eager, torch.compile, ONNX Runtime and OpenVINO.

One run, one table, two networks with the same input for every runtime:

- ``starter``: the shipped ``axonseg-starter-v1.pth`` (Generic_UNet, base 16, 64^3 patches);
- ``dlmbmap``: D-LMBmap's axial-attention U-Net at its full size (``MyTrainerAxial``'s plan:
  base 32, 5 poolings, 128^3 patches), random weights (seed 0): same FLOPs as the released model.

The input is real: patches of the D-LMBmap excerpt (``../shared/data/dlmbmap/brain-example``,
rows y < 300; its 100 slices are mirror-padded to 128 in z), z-scored per patch; ``--synthetic``
uses gamma noise instead (the table says which). Per runtime: build time (ONNX export / OpenVINO
conversion into an empty cache, so a cold start), first call (torch.compile compiles here, into an
empty inductor cache), then ``--repeats`` timed calls (median reported); max |dprob| is the largest
softmax difference to eager on the same batch. The starter's runtimes are timed round-robin (all
alive at once) so that load from other processes hits each alike; the D-LMBmap net's one after
another (memory).

Usage: nice python benchmarks/bench_runtime.py [--threads 2] [--repeats 5] [--repeats-large 2]
       [--batch 2] [--batch-large 1] [--skip-large] [--synthetic]
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
EXCERPT = REPO.parent / "shared" / "data" / "dlmbmap" / "brain-example"
RUNTIMES = ("eager", "compile", "onnxruntime", "openvino")


def _patches(n: int, side: int, synthetic: bool) -> tuple[np.ndarray, str]:
    """``(n, 1, side, side, side)`` float32, z-scored per patch, from the excerpt (rows y < 300)."""
    if synthetic:
        raw = np.random.default_rng(0).gamma(2.0, 800.0, size=(n, side, side, side)).astype(np.float32)
        source = "gamma noise (--synthetic)"
    else:
        import tifffile

        files = sorted(EXCERPT.glob("*.tif*"))
        if not files:
            sys.exit(f"bench_runtime: no TIFF slices in {EXCERPT}; pass --synthetic to use noise")
        stack = np.stack([tifffile.imread(f)[:300] for f in files]).astype(np.float32)
        if stack.shape[0] < side:
            stack = np.pad(stack, ((0, side - stack.shape[0]), (0, 0), (0, 0)), mode="symmetric")
        starts = [(0, 20 + 90 * i, 150 + 110 * i) for i in range(n)]
        raw = np.stack([stack[z:z + side, y:y + side, x:x + side] for z, y, x in starts])
        source = f"D-LMBmap excerpt (rows y < 300, {stack.shape[0]} slices)"
    mean = raw.mean(axis=(1, 2, 3), keepdims=True)
    std = raw.std(axis=(1, 2, 3), keepdims=True)
    return ((raw - mean) / (std + 1e-8))[:, None].astype(np.float32), source


def _networks(skip_large: bool):
    with contextlib.redirect_stdout(io.StringIO()):
        from axonseg.inference.weights import build_loaded_network, load_model
        from axonseg.networks import UNetConfig, build_network
    out = [("starter", build_loaded_network(load_model(REPO / "axonseg/models/axonseg-starter-v1.pth")), 64)]
    if not skip_large:
        torch.manual_seed(0)
        cfg = UNetConfig("axial_unet", 1, 2, 32, [[2, 2, 2]] * 5, [[3, 3, 3]] * 6, (128, 128, 128),
                         deep_supervision=False)
        net = build_network(cfg).eval()
        net.do_ds = False
        out.append(("dlmbmap", net, 128))
    return out


def _measure(net, runtimes, x: torch.Tensor, repeats: int, cache: Path, round_robin: bool) -> dict:
    from axonseg.inference.runtime import build_network_call

    def build(rt):
        t0 = time.perf_counter()
        call = build_network_call(net, rt, "cpu", tuple(x.shape), cache_dir=cache)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        logits = call(x)
        first_s = time.perf_counter() - t0
        return call, {"build_s": build_s, "first_s": first_s, "prob": torch.softmax(logits, 1), "times": []}

    res, calls = {}, {}
    with torch.inference_mode():
        if round_robin:
            for rt in runtimes:
                calls[rt], res[rt] = build(rt)
            for _ in range(repeats):
                for rt in runtimes:
                    t0 = time.perf_counter()
                    calls[rt](x)
                    res[rt]["times"].append(time.perf_counter() - t0)
        else:
            for rt in runtimes:
                call, res[rt] = build(rt)
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    call(x)
                    res[rt]["times"].append(time.perf_counter() - t0)
                print(f"  {rt}: build {res[rt]['build_s']:.1f} s, first {res[rt]['first_s']:.1f} s, "
                      f"calls {', '.join(f'{t:.1f}' for t in res[rt]['times'])} s", flush=True)
                del call
                gc.collect()
    return res


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5, help="timed calls per runtime, starter network")
    p.add_argument("--repeats-large", type=int, default=2, help="timed calls per runtime, D-LMBmap network")
    p.add_argument("--batch", type=int, default=2, help="patches per call, starter network")
    p.add_argument("--batch-large", type=int, default=1, help="patches per call, D-LMBmap network")
    p.add_argument("--runtimes", nargs="+", default=list(RUNTIMES), choices=RUNTIMES)
    p.add_argument("--skip-large", action="store_true", help="starter network only")
    p.add_argument("--synthetic", action="store_true", help="gamma noise instead of the real excerpt")
    args = p.parse_args(argv)
    runtimes = ["eager"] + [r for r in args.runtimes if r != "eager"]
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench_runtime_"))
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(work / "inductor")  # cold torch.compile, like a fresh install
    load0 = os.getloadavg()[0]
    rows = []
    for name, net, side in _networks(args.skip_large):
        batch = args.batch if name == "starter" else args.batch_large
        repeats = args.repeats if name == "starter" else args.repeats_large
        x_np, source = _patches(batch, side, args.synthetic)
        x = torch.from_numpy(x_np)
        print(f"{name}: {type(net).__name__} {side}^3, batch {batch}, {repeats} timed calls, input: {source}",
              flush=True)
        res = _measure(net, runtimes, x, repeats, work / "cache", round_robin=name == "starter")
        eager_s = float(np.median(res["eager"]["times"]))
        for rt in runtimes:
            r = res[rt]
            med = float(np.median(r["times"]))
            rows.append((name, f"{side}^3", batch, rt, r["build_s"], r["first_s"], med, min(r["times"]),
                         batch / med, eager_s / med, float((r["prob"] - res["eager"]["prob"]).abs().max())))
        del res, net
        gc.collect()
    load1 = os.getloadavg()[0]
    print(f"\ntorch {torch.__version__}, {args.threads} threads, load average {load0:.1f} at start, "
          f"{load1:.1f} at end (machine shared: medians of round-robin calls)")
    head = ("network", "patch", "batch", "runtime", "build s", "first call s", "s/call med", "s/call min",
            "patches/s", "x eager", "max |dprob|")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for n, patch, b, rt, build, first, med, best, pps, ratio, dprob in rows:
        print(f"| {n} | {patch} | {b} | {rt} | {build:.1f} | {first:.1f} | {med:.2f} | {best:.2f} | {pps:.2f} | "
              f"{ratio:.2f} | {dprob:.1e} |")
    worst = max(r[-1] for r in rows)
    print(f"\nmax |dprob| over all rows: {worst:.1e} (target <= 1e-3: {'met' if worst <= 1e-3 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
