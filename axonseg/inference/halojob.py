"""The halo-tiling prediction task: one tile per block, its core written once, no blending.

Blocks are the engine's (whole output chunks or shards, one writer each); block ``i``'s core is
computed by the tile of :func:`axonseg.inference.halo.tile_for_core` (its core plus the model's
halo, origin on the pooling grid). ``load`` reads and normalises the tile's input, ``compute``
runs the network once on it, ``store`` writes the core's chunks and then the done marker. Blocks
are independent (no spills), so they run in any order, serially or on Dask. A core without
tissue (the saved tissue mask), or whose tile input is below ``skip_empty_below``, is not
computed: its probability stays 0.
"""
from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from axonseg.engine import Block, BlockTask, Region
from axonseg.inference.blockjob import (BlockResult, NonFiniteOutputError, _device_for_worker, _input,
                                        _unwritten_units)
from axonseg.inference.blocks import block_grid
from axonseg.inference.halo import Tile, check_halo_network, predict_tile, tile_for_core, tile_voxels_per_output_voxel
from axonseg.inference.normalization import NormalizationParams
from axonseg.inference.settings import PredictSettings
from axonseg.inference.state import OutputLayout, log_write, mark_done

_CACHE: dict[tuple, Any] = {}


@dataclass(frozen=True)
class HaloJob:
    """Everything a worker needs to compute any block of one halo-tiled run (picklable)."""

    input_path: str
    input_dataset: str | None
    model_path: str
    out_dir: str
    settings: PredictSettings
    normalization: NormalizationParams
    shape_zyx: tuple[int, int, int]
    core_shape_zyx: tuple[int, int, int]
    halo_vox: int
    factor_zyx: tuple[int, int, int]
    num_threads: int
    use_tissue: bool = False

    @cached_property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(block_grid(self.shape_zyx, self.core_shape_zyx, self.settings.chunk_shape_vox))

    @cached_property
    def tiles(self) -> tuple[Tile, ...]:
        return tuple(tile_for_core(b.write, self.shape_zyx, self.halo_vox, self.factor_zyx) for b in self.blocks)

    @property
    def layout(self) -> OutputLayout:
        return OutputLayout(Path(self.out_dir))

    def task(self) -> BlockTask:
        return BlockTask("predict-halo", self.blocks, compute=functools.partial(compute_block, self),
                         store=functools.partial(store_block, self), is_done=functools.partial(is_done, self),
                         load=functools.partial(load_block, self), chunk_shape=tuple(self.settings.chunk_shape_vox),
                         bounds=Region.from_shape(self.shape_zyx))

    def describe(self) -> dict[str, Any]:
        """What ``run.json`` records about the tiling: sizes and the input voxels per output voxel."""
        volume = float(np.prod(self.shape_zyx))
        inside = min(self.core_shape_zyx)
        return {"core_vox": list(self.core_shape_zyx), "halo_vox": self.halo_vox,
                "pooling_factor_zyx": list(self.factor_zyx), "tiles": len(self.tiles),
                "tile_voxels_per_output_voxel": round(sum(t.input_voxels for t in self.tiles) / volume, 4),
                "tile_voxels_per_output_voxel_inside": round(tile_voxels_per_output_voxel(inside, self.halo_vox), 4)}


def _predictor(job: HaloJob):
    """The network of this process, one tile per call (tiles differ in shape at the volume border)."""
    from axonseg.inference.predictor import make_patch_predictor
    from axonseg.inference.weights import build_loaded_network, load_model

    s = job.settings
    device = _device_for_worker(s.device)
    key = (job.model_path, device, s.mirror_tta, s.channels_last, s.fold, s.checkpoint, job.num_threads,
           s.runtime, s.autocast, s.runtime_cache_dir)
    if key not in _CACHE:
        if job.num_threads > 0:
            torch.set_num_threads(job.num_threads)
        net = build_loaded_network(load_model(job.model_path, fold=s.fold, checkpoint=s.checkpoint))
        check_halo_network(net, job.model_path)
        _CACHE[key] = make_patch_predictor(net, device, s.mirror_tta, s.channels_last, runtime=s.runtime,
                                           batch_size=1, cache_dir=s.runtime_cache_dir, autocast=s.autocast)
    return _CACHE[key]


def cores_in_tissue(job: HaloJob) -> np.ndarray:
    """Per block: does its core touch a tissue cell of the saved mask? (all True without a mask)"""
    key = ("tissue", job.out_dir, job.shape_zyx, job.core_shape_zyx, job.use_tissue)
    if key not in _CACHE:
        table = np.ones(len(job.blocks), bool)
        if job.use_tissue:
            from axonseg.io.ome_zarr import open_level

            mask = open_level(job.layout.tissue)[:] > 0
            f = job.settings.tissue_downsample_vox
            for b in job.blocks:
                cells = tuple(slice(a // f, -(-z // f)) for a, z in zip(b.write.start, b.write.stop))
                table[b.index] = bool(mask[cells].any())
        _CACHE[key] = table
    return _CACHE[key]


def is_done(job: HaloJob, index: int) -> bool:
    return job.layout.marker(index).exists()


def load_block(job: HaloJob, index: int) -> dict[str, Any]:
    """The tile's network input (normalised, zero-padded at the far border), or ``None`` when its core
    has no tissue or its raw input is below ``skip_empty_below``."""
    if not cores_in_tissue(job)[index]:
        return {"x": None, "why": "tissue"}
    tile = job.tiles[index]
    raw = np.asarray(_input(job)[tile.read.to_slices()], dtype=np.float32)
    threshold = job.settings.skip_empty_below
    if threshold is not None and raw.max() < threshold:
        return {"x": None, "why": "empty"}
    x = np.zeros(tile.input_shape, np.float32)
    x[tuple(slice(0, s) for s in raw.shape)] = job.normalization.apply(raw)  # padding stays 0, as nnU-Net's
    return {"x": x}


def compute_block(job: HaloJob, index: int, loaded: dict[str, Any], progress: Callable[[int], None]) -> dict:
    """uint8 probabilities of the block's core (``None`` when not computed) from one network call."""
    t0 = time.perf_counter()
    s = job.settings
    if loaded["x"] is None:
        return {"prob": None, "t0": t0}
    y = predict_tile(loaded["x"], job.tiles[index], _predictor(job))
    if not 0 <= s.output_class < y.shape[0]:
        raise ValueError(f"--output-class {s.output_class}: the model has {y.shape[0]} classes")
    prob = y[s.output_class]
    if not np.isfinite(prob).all():
        raise NonFiniteOutputError(f"{job.model_path}: the network returned NaN or infinite probabilities for "
                                   f"the tile at z, y, x {job.tiles[index].read.start} of {job.input_path}; "
                                   f"nothing of this block was written")
    progress(1)
    out = {"prob": np.round(np.clip(prob, 0.0, 1.0) * 255).astype(np.uint8), "t0": t0}
    if s.mask_threshold is not None:
        out["mask"] = np.where(prob >= s.mask_threshold, 255, 0).astype(np.uint8)
    return out


def store_block(job: HaloJob, index: int, computed: dict[str, Any]) -> BlockResult:
    """Write the core's chunks (nothing for a core left at 0), then the done marker."""
    from axonseg.io.ome_zarr import write_region

    layout, block = job.layout, job.blocks[index]
    threshold = job.settings.mask_threshold
    ran = computed["prob"] is not None
    if ran:
        write_region(layout.probability, block.write_slices, computed["prob"])
        if threshold is not None:
            write_region(layout.mask, block.write_slices, computed["mask"])
    elif threshold is not None and threshold <= 0:  # probability 0 >= threshold
        write_region(layout.mask, block.write_slices, np.full(block.shape_zyx, 255, np.uint8))
    log_write(layout, index)
    seconds = time.perf_counter() - computed["t0"]
    tile_voxels = job.tiles[index].input_voxels if ran else 0
    mark_done(layout, index, {"voxels": block.num_voxels, "tiles": int(ran), "tiles_skipped": int(not ran),
                              "tile_voxels": tile_voxels, "seconds": round(seconds, 3), "pid": os.getpid(),
                              "unwritten_units": _unwritten_units(job, block, computed)})
    return BlockResult(index, block.num_voxels, int(ran), int(not ran), seconds)


def progress_plan(job: HaloJob, pending: list[int]) -> tuple[dict[int, int], str, float]:
    """Tiles each pending block is expected to run, the progress bar's title, output voxels per tile."""
    table = cores_in_tissue(job)
    expected = {i: int(table[i]) for i in pending}
    d = job.describe()
    desc = (f"predict (halo tiling: {d['tiles']} tiles, core {'x'.join(map(str, job.core_shape_zyx))} + halo "
            f"{job.halo_vox}, {d['tile_voxels_per_output_voxel']:.2f} tile voxels per output voxel, "
            f"{int((~table).sum())} outside tissue)")
    return expected, desc, float(np.prod(job.shape_zyx)) / len(job.blocks)


def totals(job: HaloJob) -> dict[str, Any]:
    """Tile counts over all blocks (from their done markers), for ``run.json``."""
    from axonseg.io.files import read_json

    run = skipped = voxels = 0
    for b in job.blocks:
        info = read_json(job.layout.marker(b.index))
        run += info.get("tiles", 0)
        skipped += info.get("tiles_skipped", 0)
        voxels += info.get("tile_voxels", 0)
    n = len(job.blocks)
    return {"tiles": n, "run": run, "skipped": skipped, "skipped_fraction": round(skipped / n, 6),
            "tile_voxels_run_per_output_voxel": round(voxels / float(np.prod(job.shape_zyx)), 4)}
