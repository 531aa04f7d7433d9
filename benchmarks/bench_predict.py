#!/usr/bin/env python
"""Benchmark: axonseg's block predictor vs nnU-Net v1's own ``predict_3D``, one run, one table.

Same network (a random Generic_UNet, 64^3 patches), same volume, same patch lattice
(step 0.5, Gaussian, no mirroring). Every variant runs in its own subprocess so that
peak RSS is its own. Rows:

- ``nnunet predict_3D``: ``SegmentationNetwork.predict_3D`` on the whole normalised volume;
- ``axonseg in-memory``: our stitching over the same lattice as one block (float32 output,
  compared with nnU-Net: the max |dprob| target is <= 1e-4); ``NCDHW``: the same without
  channels_last_3d, to show what the memory format alone buys;
- ``axonseg serial`` / ``axonseg dask x2``: the whole pipeline, zarr in -> uint8 OME-Zarr out,
  in blocks (halo patches recomputed), serial and on a 2-worker Dask LocalCluster.

Also printed: the network's FLOPs per patch (torch's FlopCounterMode) and this machine's
conv3d ceiling (a channels_last_3d 3x3x3 convolution), and each row's achieved fraction.

Usage: python benchmarks/bench_predict.py [--size 192] [--base 8] [--batch 2] [--device cpu]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

PATCH = (64, 64, 64)


def _net(base: int):
    with contextlib.redirect_stdout(io.StringIO()):
        from axonseg.networks import UNetConfig, build_network
    torch.manual_seed(0)
    cfg = UNetConfig("generic_unet", 1, 2, base, [[2, 2, 2]] * 4, [[3, 3, 3]] * 5, PATCH, deep_supervision=False)
    net = build_network(cfg).eval()
    net.do_ds = False
    return cfg, net


def _raw(size: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.gamma(2.0, 800.0, size=(size,) * 3) + 700).astype(np.uint16)


def _normalised(raw: np.ndarray) -> np.ndarray:
    x = raw.astype(np.float32)
    return (x - x.mean()) / (x.std() + 1e-8)  # nnU-Net v1's nonCT z-score of one image


class _PeakRss:
    """Peak RSS of this process plus all its children (Dask workers), polled every 20 ms."""

    def __enter__(self):
        import threading

        import psutil
        self.peak, self._stop = 0, threading.Event()
        me = psutil.Process()

        def poll():
            while not self._stop.is_set():
                try:
                    procs = [me] + me.children(recursive=True)
                    self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
                except psutil.Error:
                    pass
                self._stop.wait(0.02)
        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def mb(self) -> float:
        return max(self.peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024) / 2 ** 20


def _variant(args) -> dict:
    with _PeakRss() as rss:
        result = _run_variant(args)
    result["peak_mb"] = rss.mb
    return result


def _run_variant(args) -> dict:
    torch.set_num_threads(args.threads)
    cfg, net = _net(args.base)
    work = Path(args.work)
    raw = _raw(args.size)
    if args.variant == "nnunet":
        x = _normalised(raw)
        t = time.perf_counter()
        with torch.no_grad():
            _, prob = net.predict_3D(x[None], do_mirroring=False, use_sliding_window=True, step_size=0.5,
                                     patch_size=PATCH, use_gaussian=True, verbose=False)
        seconds = time.perf_counter() - t
        np.save(work / "nnunet.npy", prob[1])
    elif args.variant in ("inmemory", "inmemory-nchw"):
        from axonseg.inference import block_grid, build_lattice, predict_block, read_plan
        from axonseg.inference.predictor import make_patch_predictor
        from axonseg.inference.stitch import read_padded_region
        x = _normalised(raw)
        predict = make_patch_predictor(net, args.device, channels_last=args.variant == "inmemory")
        t = time.perf_counter()
        lat = build_lattice(x.shape, PATCH, 0.5)
        block = block_grid(x.shape, x.shape, x.shape)[0]
        plan = read_plan(block, lat)
        prob = predict_block(read_padded_region(x, lat, plan), block, plan, lat, predict, args.batch, classes=[1])[0]
        seconds = time.perf_counter() - t
        np.save(work / f"{args.variant}.npy", prob)
    else:
        from axonseg.inference import PredictSettings, predict_whole_brain
        from axonseg.inference.export import model_to_dict
        from axonseg.inference.normalization import NormalizationParams
        from axonseg.inference.weights import LoadedModel
        model_path = work / "model.pth"
        if not model_path.exists():
            torch.save(model_to_dict(LoadedModel(cfg, net.state_dict(), NormalizationParams("nonCT"), None, None,
                                                 "bench", "bench")), model_path)
        runner = "dask" if args.variant == "dask" else "serial"
        threads = max(1, args.threads // 2) if runner == "dask" else args.threads
        s = PredictSettings(batch_size=args.batch, device=args.device, num_threads=threads, runner=runner,
                            dask_workers=2, chunk_shape_vox=(64, 64, 64), block_shape_vox=(128, 128, 128),
                            preview=False)
        import zarr
        src = work / "raw.zarr"
        if not src.exists():
            zarr.create_array(str(src), data=raw, chunks=(64, 64, 64))
        t = time.perf_counter()
        summary = predict_whole_brain(src, model_path, work / f"out-{runner}", s, progress=False)
        seconds = time.perf_counter() - t
        prob = zarr.open_array(str(work / f"out-{runner}" / "probability.ome.zarr" / "0"))[:].astype(np.float32) / 255
        np.save(work / f"{args.variant}.npy", prob)
        return {"seconds": seconds,
                "patches": sum(json.loads(p.read_text())["patches"]
                               for p in (work / f"out-{runner}" / "blocks").glob("*.done")),
                "blocks": summary.blocks_total}
    from axonseg.inference import build_lattice
    return {"seconds": seconds, "patches": build_lattice(raw.shape, PATCH, 0.5).num_patches, "blocks": 1}


def _flops_per_patch(base: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode
    _, net = _net(base)
    with FlopCounterMode(display=False) as fc, torch.inference_mode():
        net(torch.zeros((1, 1) + PATCH))
    return float(fc.get_total_flops())


def _conv3d_ceiling(threads: int, device: str) -> float:
    """FLOP/s of a 32->32 channel 3x3x3 conv3d on 64^3 in channels_last_3d (best of 10)."""
    torch.set_num_threads(threads)
    conv = torch.nn.Conv3d(32, 32, 3, padding=1).to(device).to(memory_format=torch.channels_last_3d).eval()
    x = torch.randn(1, 32, 64, 64, 64, device=device).contiguous(memory_format=torch.channels_last_3d)
    flops = 2 * 32 * 32 * 27 * 64 ** 3
    best = float("inf")
    with torch.inference_mode():
        conv(x)
        for _ in range(10):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t = time.perf_counter()
            conv(x)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t)
    return flops / best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=192, help="cube side of the volume (voxels)")
    p.add_argument("--base", type=int, default=8, help="base features of the Generic_UNet")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--variants", nargs="+", default=["nnunet", "inmemory-nchw", "inmemory", "serial", "dask"])
    p.add_argument("--variant", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.variant:
        print("RESULT " + json.dumps(_variant(args)))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench_predict_"))
    results = {}
    for v in args.variants:
        cmd = [sys.executable, __file__, "--variant", v, "--work", str(work), "--size", str(args.size),
               "--base", str(args.base), "--batch", str(args.batch), "--device", args.device,
               "--threads", str(args.threads)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            print(res.stderr[-3000:], file=sys.stderr)
            return 1
        results[v] = json.loads(res.stdout.split("RESULT ")[-1])
    flops = _flops_per_patch(args.base)
    ceiling = _conv3d_ceiling(args.threads, args.device)
    ref = np.load(work / "nnunet.npy") if "nnunet" in results else None
    names = {"nnunet": "nnunet predict_3D", "inmemory": "axonseg in-memory channels_last", "inmemory-nchw": "axonseg in-memory NCDHW",
             "serial": "axonseg serial (zarr)", "dask": "axonseg dask x2 (zarr)"}
    voxels = args.size ** 3
    print(f"\nvolume {args.size}^3 = {voxels:,} voxels; Generic_UNet base {args.base}, 4 pools, patch 64^3, "
          f"step 0.5, Gaussian, no mirroring; {args.threads} threads; device {args.device}")
    print(f"network: {flops / 1e9:.2f} GFLOP per patch; conv3d ceiling (channels_last_3d 32->32 3^3): "
          f"{ceiling / 1e9:.1f} GFLOP/s\n")
    head = (f"| {'variant':<24} | {'wall s':>7} | {'speed vs nnU-Net':>16} | {'peak RSS MB':>11} | "
            f"{'max abs dprob':>13} | {'Mvoxel/s':>8} | {'patches':>7} | {'% of conv3d ceiling':>19} |")
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    base_s = results.get("nnunet", {}).get("seconds")
    for v, r in results.items():
        d = float(np.abs(np.load(work / f"{v}.npy") - ref).max()) if ref is not None else float("nan")
        speed = f"{base_s / r['seconds']:.2f}x" if base_s else "-"
        frac = 100 * flops * r["patches"] / r["seconds"] / ceiling
        print(f"| {names[v]:<24} | {r['seconds']:>7.1f} | {speed:>16} | {r['peak_mb']:>11.0f} | {d:>13.2e} | "
              f"{voxels / r['seconds'] / 1e6:>8.3f} | {r['patches']:>7} | {frac:>18.1f}% |")
    print("\n(peak RSS: this process and its children, e.g. Dask workers; dask wall time includes starting "
          "the local cluster)")
    print("(serial/dask: uint8 output, so max |dprob| includes the 1/510 quantisation; their patch count "
          "includes halo patches recomputed at block borders, blocks 128^3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
