#!/usr/bin/env python
"""Benchmark: whole-brain prediction, nnU-Net v1 ``predict_3D`` vs axonseg, one run, one table.

Volume: brain-shaped: an ellipsoid (~52 % of the box) textured with the real D-LMBmap
excerpt (``../shared/data/dlmbmap/brain-example``, mirrored to fill the box) in dark camera
background (~110 +- 8). Network: the shipped starter model (``axonseg-starter-v1.pth``,
patch 64^3) for every row, with nnU-Net's whole-volume z-score (``--normalization global``)
so that every row sees the same network input. Every row runs in its own subprocess
(peak RSS of that process and its children, polled every 20 ms). "Dice vs unskipped in
brain": inside the ellipsoid only (tissue skipping changes voxels outside the brain alone).

Rows: ``nnunet predict_3D`` (whole volume in RAM, step 0.5, Gaussian, no mirroring);
``axonseg nnU-Net settings`` (step 0.5, no tissue mask); ``axonseg defaults``; a step table
(0.5 ... 1.0, tissue mask on) with patches per voxel, speed and Dice vs the step-0.5 mask;
the defaults at 1/8 of the volume (same depth, y and x / sqrt 8: peak RSS growth for 8x the voxels). Masks are
probability >= 0.5. The extrapolation to a 7233 x 7199 x 1184 brain scales the defaults
row's time per voxel (assumes the same tissue fraction).

Usage: nice python benchmarks/bench_wholebrain.py [--size 128 512 512] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
EXCERPT = REPO.parent / "shared" / "data" / "dlmbmap" / "brain-example"
BRAIN_ZYX = (7233, 7199, 1184)
sys.path.insert(0, str(REPO / "benchmarks"))


def brain_inside(shape) -> np.ndarray:
    """The brain ellipsoid (True inside)."""
    zz, yy, xx = np.ogrid[tuple(slice(0, s) for s in shape)]
    c = [(s - 1) / 2 for s in shape]
    r = [0.5 * s for s in shape]
    return ((zz - c[0]) / r[0]) ** 2 + ((yy - c[1]) / r[1]) ** 2 + ((xx - c[2]) / r[2]) ** 2 <= 1


def _fill(ex: np.ndarray, shape) -> np.ndarray:
    reps = [-(-s // e) for s, e in zip(shape, ex.shape)]
    tex = np.pad(ex, [(0, (r - 1) * e) for r, e in zip(reps, ex.shape)], mode="symmetric")
    return tex[tuple(slice(0, s) for s in shape)]


def projection_inside(shape) -> np.ndarray:
    """The 'projection target' of the sparse texture: an ellipsoid of radii 0.3 x the box, off centre
    (22 % of the brain ellipsoid's volume)."""
    zz, yy, xx = np.ogrid[tuple(slice(0, s) for s in shape)]
    c = [0.5 * shape[0], 0.4 * shape[1], 0.4 * shape[2]]
    r = [0.3 * s for s in shape]
    return ((zz - c[0]) / r[0]) ** 2 + ((yy - c[1]) / r[1]) ** 2 + ((xx - c[2]) / r[2]) ** 2 <= 1


def brain_volume(shape, seed: int = 0, texture: str = "dense") -> np.ndarray:
    """An ellipsoid of real excerpt texture in dark background (uint16).

    ``dense``: the excerpt (axons everywhere, as in the axon-rich excerpt); ``sparse``: the excerpt's
    tissue with its axons removed (grey opening, 1x7x7) everywhere but in :func:`projection_inside`,
    as in a projection brain, where most tissue holds no labelled axon.
    """
    import tifffile

    files = sorted(EXCERPT.glob("*.tif*"))
    if not files:
        raise SystemExit(f"real excerpt not found at {EXCERPT} (../shared beside the repository)")
    ex = np.stack([tifffile.imread(f) for f in files])
    tex = _fill(ex, shape)
    if texture == "sparse":
        from scipy.ndimage import grey_opening

        plain = _fill(grey_opening(ex, size=(1, 7, 7)), shape)
        tex = np.where(projection_inside(shape), tex, plain)
    inside = brain_inside(shape)
    rng = np.random.default_rng(seed)
    vol = np.clip(rng.normal(110, 8, shape), 0, None).astype(np.uint16)
    vol[inside] = tex[inside]
    return vol


def _row(args) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    work = Path(args.work)
    src = work / f"brain-{args.scale}.zarr"
    import zarr
    if args.row == "nnunet":
        from axonseg.inference.weights import build_loaded_network, load_model
        from axonseg.starter import starter_model_path
        model = load_model(starter_model_path())
        net = build_loaded_network(model).eval()
        raw = zarr.open_array(str(src))[:].astype(np.float32)
        x = (raw - raw.mean()) / (raw.std() + 1e-8)  # nnU-Net v1's nonCT z-score of one image
        del raw
        t = time.perf_counter()
        with torch.no_grad():
            _, prob = net.predict_3D(x[None], do_mirroring=False, use_sliding_window=True, step_size=0.5,
                                     patch_size=model.patch_size_zyx, use_gaussian=True, verbose=False)
        seconds = time.perf_counter() - t
        from axonseg.inference import build_lattice
        np.save(work / f"{args.row}.npy", prob[1] >= 0.5)
        return {"seconds": seconds, "patches": build_lattice(x.shape, model.patch_size_zyx, 0.5).num_patches,
                "skipped": 0}
    from axonseg.inference import PredictSettings, predict_whole_brain
    from axonseg.starter import starter_model_path
    s = PredictSettings(normalization="global", num_threads=args.threads, preview=False, **json.loads(args.settings))
    out = work / f"out-{args.row}"
    t = time.perf_counter()
    summary = predict_whole_brain(src, starter_model_path(), out, s, progress=False)
    seconds = time.perf_counter() - t
    prob = zarr.open_array(str(out / "probability.ome.zarr" / "0"))[:]
    np.save(work / f"{args.row}.npy", prob >= 128)
    meta = json.loads((out / "run.json").read_text())
    return {"seconds": seconds, "patches": summary.patches_run, "skipped": summary.patches_skipped,
            "lattice": summary.lattice_patches, "tissue": (meta.get("tissue") or {}).get("tissue_fraction")}


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else float(2 * (a & b).sum() / s)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, nargs=3, default=[128, 512, 512], metavar=("Z", "Y", "X"))
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--steps", type=float, nargs="*", default=[0.6, 0.75, 1.0],
                   help="step fractions compared with the defaults row (step 0.5 + tissue mask)")
    p.add_argument("--no-small", action="store_true", help="skip the 1/8-volume RSS row")
    p.add_argument("--texture", choices=["dense", "sparse"], default="dense",
                   help="axons everywhere in the brain (dense) or in 22 %% of it (sparse); see brain_volume")
    p.add_argument("--scout", type=float, nargs="*", default=[0.1], metavar="P",
                   help="scout thresholds compared with the defaults row")
    p.add_argument("--no-scout-row", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rows", nargs="+", help="run only these rows (nnunet, nnunet-settings, defaults, step<S>, "
                                              "defaults-small); without nnunet, Dice is vs nnunet-settings")
    p.add_argument("--row", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--settings", default="{}", help=argparse.SUPPRESS)
    p.add_argument("--scale", default="full", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.row:
        from bench_predict import _PeakRss
        with _PeakRss() as rss:
            res = _row(args)
        # polled RSS only: ru_maxrss survives exec, so a row would report its parent's peak
        res["peak_mb"] = rss.peak / 2 ** 20
        print("RESULT " + json.dumps(res))
        return 0
    import contextlib
    import io

    import zarr
    with contextlib.redirect_stdout(io.StringIO()):  # nnU-Net's citation banner
        import axonseg.inference  # noqa: F401
    work = Path(tempfile.mkdtemp(prefix="bench_wholebrain_"))
    shape = tuple(args.size)
    vol = brain_volume(shape, texture=args.texture)
    zarr.create_array(str(work / "brain-full.zarr"), data=vol, chunks=(64, 128, 128))
    # 1/8 of the voxels at the same depth: both volumes hold whole default blocks (2x the patch), so the
    # RSS ratio shows growth with the volume, not with blocks cut by a thin volume's edges
    small = (shape[0], int(round(shape[1] / 8 ** 0.5)), int(round(shape[2] / 8 ** 0.5)))
    zarr.create_array(str(work / "brain-small.zarr"), data=brain_volume(small, texture=args.texture),
                      chunks=(64, 128, 128))
    del vol
    rows = [("nnunet", "nnU-Net predict_3D, step 0.5", {}, "full"),
            ("nnunet-settings", "axonseg, nnU-Net's settings", {"step_fraction": 0.5, "tissue_mask": False}, "full"),
            ("defaults", "axonseg defaults", {}, "full")]
    rows += [(f"step{st}", f"axonseg step {st} + tissue mask", {"step_fraction": st}, "full") for st in args.steps]
    rows += [(f"scout{t}", f"axonseg defaults, scout threshold {t}", {"scout_threshold": t}, "full")
             for t in args.scout]
    rows.append(("noscout", "axonseg defaults without the scout pass", {"scout_threshold": None}, "full"))
    if not args.no_small:
        rows.append(("defaults-small", f"axonseg defaults, 1/8 volume {small}", {}, "small"))
    if args.rows:
        rows = [r for r in rows if r[0] in args.rows]
    results = {}
    for key, name, settings, scale in rows:
        cmd = ["nice", sys.executable, __file__, "--row", key, "--work", str(work), "--threads", str(args.threads),
               "--settings", json.dumps(settings), "--scale", scale]
        t = time.time()
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            print(res.stderr[-3000:], file=sys.stderr)
            return 1
        results[key] = json.loads(res.stdout.split("RESULT ")[-1])
        print(f"  {name}: {time.time() - t:.0f} s", file=sys.stderr, flush=True)
    base = "nnunet" if "nnunet" in results else "nnunet-settings"
    ref = np.load(work / f"{base}.npy")
    unskipped = np.load(work / "nnunet-settings.npy") if "nnunet-settings" in results else None
    voxels = int(np.prod(shape))
    base_s = results[base]["seconds"]
    print(f"\n{args.texture} texture; brain-shaped volume {shape[0]}x{shape[1]}x{shape[2]} = {voxels:,} voxels "
          f"(brain ellipsoid 52 % of "
          f"the box; tissue mask with its margin {results.get('defaults', {}).get('tissue') or 0:.0%}); starter model "
          f"(patch 64^3), whole-volume z-score; {args.threads} threads\n")
    print(f"(speed and Dice relative to: {base}; 'vs unskipped': vs axonseg at nnU-Net's settings)\n")
    inside = brain_inside(shape)
    head = ("| row | wall s | speed vs nnU-Net | Dice vs nnU-Net mask | Dice vs unskipped | "
            "Dice vs unskipped in brain | "
            "peak RSS MB | patches run | patches skipped | patches / Mvoxel |")
    print(head)
    print("|" + "|".join("---" for _ in head.split("|")[1:-1]) + "|")
    for key, name, _, scale in rows:
        if scale != "full":
            continue
        r = results[key]
        m = np.load(work / f"{key}.npy")
        du = f"{_dice(m, unskipped):.4f}" if unskipped is not None else "-"
        dub = f"{_dice(m & inside, unskipped & inside):.5f}" if unskipped is not None else "-"
        print(f"| {name} | {r['seconds']:.1f} | {base_s / r['seconds']:.2f}x | {_dice(m, ref):.4f} | {du} | {dub} | "
              f"{r['peak_mb']:.0f} | "
              f"{r['patches']} | {r['skipped']} | {r['patches'] / voxels * 1e6:.2f} |")
    if any(k.startswith("step") for k in results) and "defaults" in results:
        from axonseg.inference import PredictSettings
        d0 = PredictSettings().step_fraction
        ref_d = np.load(work / "defaults.npy")
        print(f"\nstep table (tissue mask on); reference: the defaults row (step {d0})")
        print("| step | patches / Mvoxel | Mvoxel/s | Dice vs step " f"{d0}" " | Dice vs nnU-Net |")
        print("|---|---|---|---|---|")
        for st, key in [(d0, "defaults")] + [(st, f"step{st}") for st in args.steps if f"step{st}" in results]:
            r, m = results[key], np.load(work / f"{key}.npy")
            print(f"| {st} | {r['patches'] / voxels * 1e6:.2f} | {voxels / r['seconds'] / 1e6:.3f} | "
                  f"{_dice(m, ref_d):.4f} | {_dice(m, ref):.4f} |")
    d = results.get("defaults")
    if d is None:
        return 0
    if "defaults-small" in results:
        print(f"\npeak RSS, defaults: {results['defaults-small']['peak_mb']:.0f} MB at {small} -> "
              f"{d['peak_mb']:.0f} MB at {shape} ({voxels / np.prod(small):.1f}x voxels): "
              f"{d['peak_mb'] / results['defaults-small']['peak_mb']:.2f}x")
    brain = float(np.prod(BRAIN_ZYX))
    print(f"extrapolated, defaults, 7233x7199x1184 brain on this CPU ({args.threads} threads): "
          f"{d['seconds'] / voxels * brain / 3600:.1f} h ({base}: {base_s / voxels * brain / 3600:.1f} h)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
