#!/usr/bin/env python
"""Benchmark: the engine's non-prediction jobs, serial vs Dask, one run, one table.

A 128x512x512 uint16 volume (the real excerpt mirrored to fill it; ``--size`` changes it) is
converted to OME-Zarr (TIFF slice folder in, 64x128x128 chunks, pyramid), and density maps are
computed on a probability volume (the excerpt thresholded at its 99th percentile, x 255).
Each job runs with the serial runner and with ``--workers`` local Dask workers; outputs are
compared byte for byte.

Usage: python benchmarks/bench_engine_jobs.py [--size 128 512 512] [--workers 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, nargs=3, default=[128, 512, 512], metavar=("Z", "Y", "X"))
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    import tifffile
    import zarr

    from axonseg.analysis.density import DensitySettings
    from axonseg.analysis.density_run import run_density
    from axonseg.io.convert import convert_to_ome_zarr
    from axonseg.io.ome_zarr import create_ome_zarr, write_region
    from bench_wholebrain import EXCERPT, _fill

    files = sorted(EXCERPT.glob("*.tif*"))
    if not files:
        raise SystemExit(f"real excerpt not found at {EXCERPT} (../shared beside the repository)")
    vol = _fill(np.stack([tifffile.imread(f) for f in files]), tuple(args.size))
    work = Path(tempfile.mkdtemp(prefix="bench_engine_jobs_"))
    (work / "slices").mkdir()
    for z, sl in enumerate(vol):
        tifffile.imwrite(work / "slices" / f"{z:04d}.tif", sl)
    prob = ((vol >= np.percentile(vol, 99)) * 255).astype(np.uint8)
    create_ome_zarr(work / "prob.ome.zarr", prob.shape, (64, 128, 128), np.uint8, (1.0, 1.0, 1.0), 1, "prob")
    write_region(work / "prob.ome.zarr", tuple(slice(0, s) for s in prob.shape), prob)
    rows, outputs = [], {}
    for job in ("convert", "density"):
        for runner in ("serial", "dask"):
            out = work / f"{job}-{runner}"
            t = time.perf_counter()
            if job == "convert":
                convert_to_ome_zarr(work / "slices", out, (1.0, 1.0, 1.0), (64, 128, 128), 5, progress=False,
                                    runner=runner, workers=args.workers)
                arrays = [zarr.open_group(str(out))[k][:] for k in sorted(zarr.open_group(str(out)).array_keys())]
            else:
                run_density(work / "prob.ome.zarr", out, DensitySettings(cell_size_um=25.0, runner=runner,
                                                                         dask_workers=args.workers))
                arrays = [zarr.open_array(str(out / f"{m}.ome.zarr" / "0"))[:]
                          for m in ("axon_fraction", "axon_length_um")]
            rows.append((job, runner, time.perf_counter() - t))
            outputs[(job, runner)] = arrays
    print(f"\n{args.size[0]}x{args.size[1]}x{args.size[2]} uint16 (real excerpt mirrored); Dask: {args.workers} "
          f"local workers, 1 thread each\n")
    print("| job | runner | wall s | vs serial | output identical to serial |")
    print("|---|---|---|---|---|")
    for job, runner, sec in rows:
        base = next(s for j, r, s in rows if j == job and r == "serial")
        same = all((a == b).all() for a, b in zip(outputs[(job, runner)], outputs[(job, "serial")]))
        print(f"| {job} | {runner} | {sec:.1f} | {base / sec:.2f}x | {'yes' if same else 'NO'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
