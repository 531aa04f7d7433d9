"""The scout pass: less work where the network finds no axon.

In a projection brain most tissue holds no labelled axon, yet the sliding window runs the
network on every lattice patch (8 per voxel at step 0.5). The scout pass first runs a
subset of the lattice that just covers the volume (per axis the fewest lattice starts whose
patches cover it: every other start at step 0.5, 1/8 of the patches), inside the tissue.
It records, per 16³-voxel cell, the highest probability any scout patch gave (saved as
``scout.ome.zarr``, uint8 = ceil(p x 255)), and keeps the outputs of scout patches that
reach ``scout_threshold``. The main pass then runs a lattice patch only if some cell it
covers reached ``scout_threshold``; the others count as probability 0 (like patches outside
the tissue). Scout patches needed by the main pass are not run again: their saved outputs
(float16) are stitched in, so every lattice patch still runs at most once.

Where the scout finds nothing anywhere in a patch, the full window would find almost nothing
there either; how much this changes the mask is measured (README, Speed) and
``scout_threshold: null`` turns it off.
"""
from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np

from axonseg.engine import BlockTask
from axonseg.inference.blockjob import _positions, load_positions, run_patches
from axonseg.inference.scout_files import SCOUT_CELL, block_file as _block_file, folder, map_path, saved_outputs
from axonseg.io.files import load_npz, save_npz, write_json

__all__ = ["SCOUT_CELL", "assemble", "cover_indices", "folder", "map_path", "run_pass", "saved_outputs",
           "scout_patch_count", "scout_starts", "task"]


def cover_indices(starts: tuple[int, ...], patch: int) -> tuple[int, ...]:
    """Indices of the fewest of ``starts`` (sorted, gaps <= ``patch``) whose patches cover the same span."""
    idx, end = [0], starts[0] + patch
    while end < starts[-1] + patch:
        j = max(i for i, s in enumerate(starts) if s <= end)
        if j == idx[-1]:
            raise ValueError(f"lattice starts {starts} leave gaps wider than the patch {patch}")
        idx.append(j)
        end = starts[j] + patch
    return tuple(idx)


def scout_starts(job) -> tuple[frozenset, ...]:
    """Per axis, the lattice starts (padded) of the scout patches."""
    lat = job.lattice
    return tuple(frozenset(lat.starts_zyx[ax][i] for i in cover_indices(lat.starts_zyx[ax], lat.patch_size_zyx[ax]))
                 for ax in range(3))


def _marker(job, index: int) -> Path:
    return folder(job) / f"{index:07d}.done"


def is_done(job, index: int) -> bool:
    return _marker(job, index).exists()


def positions(job, index: int) -> list[tuple[int, ...]]:
    """Scout patches block ``index`` owns inside the tissue (padded starts, z-y-x order)."""
    scout = scout_starts(job)
    return [p for p in _positions(job, index, scout=False)[0] if all(s in scout[ax] for ax, s in enumerate(p))]


def load(job, index: int) -> dict[str, Any]:
    return load_positions(job, positions(job, index), 0)


def _cell_range(job, index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    acc = job.ownership.accumulator(index)
    return (tuple(a // SCOUT_CELL for a in acc.start), tuple(-(-b // SCOUT_CELL) for b in acc.stop))


def compute(job, index: int, loaded: dict[str, Any], progress: Callable[[int], None]) -> dict[str, Any]:
    """Run the block's scout patches; per-cell maxima over the block's accumulator cells, kept outputs."""
    c0, c1 = _cell_range(job, index)
    cells = np.zeros([b - a for a, b in zip(c0, c1)], np.uint8)
    keep_pos, keep_out = [], []
    threshold = job.settings.scout_threshold
    p = job.lattice.patch_size_zyx
    for pos, y in run_patches(job, loaded, progress):
        lo = [s - pb for s, (pb, _) in zip(pos, job.lattice.pad_zyx)]
        inside = [slice(max(-a, 0), min(q, n - a)) for a, q, n in zip(lo, p, job.shape_zyx)]
        y_in = y[tuple(inside)]
        v0 = [a + sl.start for a, sl in zip(lo, inside)]
        # pad to whole cells and take each cell's maximum
        off = [v % SCOUT_CELL for v in v0]
        n = [-(-(o + s) // SCOUT_CELL) for o, s in zip(off, y_in.shape)]
        buf = np.zeros([k * SCOUT_CELL for k in n], np.float32)
        buf[tuple(slice(o, o + s) for o, s in zip(off, y_in.shape))] = y_in
        m = buf.reshape(n[0], SCOUT_CELL, n[1], SCOUT_CELL, n[2], SCOUT_CELL).max(axis=(1, 3, 5))
        m8 = np.ceil(np.clip(m, 0, 1) * 255).astype(np.uint8)
        sl = tuple(slice(v // SCOUT_CELL - a, v // SCOUT_CELL - a + k) for v, a, k in zip(v0, c0, n))
        np.maximum(cells[sl], m8, out=cells[sl])
        if float(y_in.max()) >= threshold:
            keep_pos.append(pos)
            keep_out.append(y.astype(np.float16))
    out = np.stack(keep_out) if keep_out else np.zeros((0,) + tuple(p), np.float16)
    return {"origin": np.array(c0, np.int64), "cells": cells, "outputs": out,
            "positions": np.array(keep_pos, np.int64).reshape(-1, 3), "patches": len(loaded["positions"])}


def store(job, index: int, computed: dict[str, Any]) -> tuple[int, int]:
    folder(job).mkdir(exist_ok=True)
    save_npz(_block_file(job, index), origin=computed["origin"], cells=computed["cells"],
             outputs=computed["outputs"], positions=computed["positions"])
    write_json(_marker(job, index), {"patches": computed["patches"], "kept": int(len(computed["positions"]))})
    return index, computed["patches"]


def task(job) -> BlockTask:
    return BlockTask("scout", job.blocks, compute=functools.partial(compute, job),
                     store=functools.partial(store, job), is_done=functools.partial(is_done, job),
                     load=functools.partial(load, job))


def assemble(job) -> np.ndarray:
    """The scout map (uint8 ceil(p x 255) per 16³ cell) from every block's file."""
    grid = tuple(-(-s // SCOUT_CELL) for s in job.shape_zyx)
    out = np.zeros(grid, np.uint8)
    for b in job.blocks:
        d = load_npz(_block_file(job, b.index), ("origin", "cells"))
        sl = tuple(slice(int(a), min(int(a) + k, g)) for a, k, g in zip(d["origin"], d["cells"].shape, grid))
        part = d["cells"][tuple(slice(0, s.stop - s.start) for s in sl)]
        np.maximum(out[sl], part, out=out[sl])
    return out


def scout_patch_count(job) -> int:
    from axonseg.io.files import read_json

    return sum(read_json(_marker(job, b.index))["patches"] for b in job.blocks if is_done(job, b.index))


def num_scout_lattice(job) -> int:
    return int(np.prod([len(s) for s in scout_starts(job)]))



def run_pass(job, voxel_size_um, progress: bool = True) -> dict:
    """Run the scout blocks not done yet, then write ``scout.ome.zarr``; its description for ``run.json``."""
    from axonseg.engine import run_dask, run_serial
    from axonseg.inference.progress import PatchProgress
    from axonseg.io.ome_zarr import create_cell_map, image_format, level0_origin_um

    s = job.settings
    done_file = folder(job) / "map.done"
    if not done_file.exists():
        t = task(job)
        pending = t.pending()
        expected = {i: len(positions(job, i)) for i in pending}
        bar = PatchProgress(expected, float(np.prod(job.shape_zyx)) / job.lattice.num_patches, enabled=progress,
                            description=f"scout ({num_scout_lattice(job)} of {job.lattice.num_patches} lattice "
                                        f"patches)")
        try:
            if s.runner == "dask":
                run_dask(t, pending, lambda r: bar.block_done(r[0], r[1], 0, 0), s.dask_scheduler_address,
                         s.dask_workers)
            else:
                run_serial(t, pending, lambda r: bar.block_done(r[0], r[1], 0, 0), bar.advance, overlap_io=s.overlap_io)
        finally:
            bar.close()
        found = assemble(job)
        if map_path(job).exists():  # ours, unfinished (no map.done) or from a finished run resumed again
            shutil.rmtree(map_path(job))
        # the probability's frame and NGFF version (it holds the input's origin)
        prob = job.layout.probability
        create_cell_map(map_path(job), found, voxel_size_um, (SCOUT_CELL,) * 3, "scout",
                        f"highest scout-patch probability x 255 (rounded up) per {SCOUT_CELL}^3 voxels",
                        fmt=image_format(prob)[0], origin_um=level0_origin_um(prob))
        write_json(done_file, {"done": True})
    from axonseg.io.ome_zarr import open_level

    found = open_level(map_path(job))[:] >= int(np.ceil(s.scout_threshold * 255))
    return {"threshold": s.scout_threshold, "cell_vox": SCOUT_CELL, "lattice_patches": num_scout_lattice(job),
            "patches_run": scout_patch_count(job), "cells_found_fraction": round(float(found.mean()), 6)}
