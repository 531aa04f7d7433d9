#!/usr/bin/env python
"""Benchmark: halo tiling vs the lattice on one volume, same network, one run each.

Network: the starter's v1 size (Generic_UNet, base 16, three 2x poolings, patch 64^3) built with
BatchNorm3d (random weights, random running statistics, eval mode): the v2 model's kind. Input:
uniform random uint16 (speed does not depend on content here: no tissue mask, no skipping).
Rows: ``--tiling lattice`` (step 0.5, Gaussian) and ``--tiling halo`` (core = the default block,
2x the patch = 128^3, halo ``--halo`` voxels), per runtime. voxels/s is run.json's (block time:
network, reads and writes; without set-up and pyramid).

Usage: python benchmarks/bench_halo_speed.py [--size 64 256 256] [--halo 32] [--runtimes eager openvino]
Needs ``UNetConfig.norm`` (BatchNorm networks).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def bn_model(path: Path, halo: int) -> Path:
    import torch

    from axonseg.inference.weights import FORMAT, FORMAT_VERSION
    from axonseg.io.torch_files import save_torch
    from axonseg.networks import UNetConfig, build_network

    if "norm" not in {f.name for f in dataclasses.fields(UNetConfig)}:
        raise SystemExit("this benchmark needs UNetConfig.norm (BatchNorm networks)")
    cfg = UNetConfig("generic_unet", 1, 2, 16, [[2, 2, 2]] * 3, [[3, 3, 3]] * 4, (64, 64, 64), norm="batch")
    torch.manual_seed(0)
    net = build_network(dataclasses.replace(cfg, deep_supervision=False))
    g = torch.Generator().manual_seed(1)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm3d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
    save_torch(path, {"format": FORMAT, "format_version": FORMAT_VERSION, "network": cfg.to_dict(),
                      "state_dict": net.state_dict(), "normalization": {"scheme": "nonCT"}, "spacing_zyx": None,
                      "trainer": "bench", "halo_vox": int(halo), "position_independent": True})
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size", type=int, nargs=3, default=(64, 256, 256))
    p.add_argument("--halo", type=int, default=32)
    p.add_argument("--runtimes", nargs="+", default=["eager"])
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    import zarr

    from axonseg.inference import PredictSettings, predict_whole_brain

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = bn_model(tmp / "bn.pth", args.halo)
        src = tmp / "in.zarr"
        z = zarr.create_array(str(src), shape=tuple(args.size), chunks=(64, 128, 128), dtype=np.uint16,
                              attributes={"voxel_size_um": [2.0, 2.0, 2.0]})
        z[:] = np.random.default_rng(0).integers(100, 3000, size=tuple(args.size), dtype=np.uint16)
        for runtime in args.runtimes:
            for tiling in ("lattice", "halo"):
                s = PredictSettings(tiling=tiling, normalization="global", runtime=runtime, tissue_mask=False,
                                    preview=False, num_threads=args.threads)
                out = tmp / f"out-{runtime}-{tiling}"
                t0 = time.perf_counter()
                predict_whole_brain(src, model, out, s, progress=False)
                wall = time.perf_counter() - t0
                meta = json.loads((out / "run.json").read_text())
                run, t = meta["runs"][-1], meta["tiling"]
                cost = t.get("tile_voxels_per_output_voxel", t.get("patch_voxels_per_output_voxel"))
                rows.append((runtime, tiling, run["block_seconds"], wall, run["voxels_per_s"], cost,
                             run["patches_run"]))
    print(f"volume {'x'.join(map(str, args.size))}, starter-sized BatchNorm U-Net, halo {args.halo}, core 128")
    print("| runtime | tiling | block s | wall s | voxels/s | input voxels per output voxel | network calls |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.3g} | {r[5]:.2f} | {r[6]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
