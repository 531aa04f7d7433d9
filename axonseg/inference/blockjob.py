"""The block function: predict one block and write it; the same under every runner.

``run_block(job, index)`` is a plain top-level function of picklable arguments, so
the serial runner calls it in a loop and Dask ships it to workers. Each process keeps
its network and input array in a small cache (loaded once per worker).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from axonseg.inference.blocks import Block, block_grid, read_plan
from axonseg.inference.lattice import PatchLattice, build_lattice
from axonseg.inference.normalization import NormalizationParams, per_patch_zscore
from axonseg.inference.settings import PredictSettings
from axonseg.inference.state import OutputLayout, log_write, mark_done
from axonseg.inference.stitch import predict_block, read_padded_region

logger = logging.getLogger(__name__)

_CACHE: dict[tuple, Any] = {}


@dataclass(frozen=True)
class PredictJob:
    """Everything a worker needs to compute any block of one prediction run (picklable)."""

    input_path: str
    input_dataset: str | None
    model_path: str
    out_dir: str
    settings: PredictSettings
    normalization: NormalizationParams
    shape_zyx: tuple[int, int, int]
    patch_size_zyx: tuple[int, int, int]
    num_threads: int

    @cached_property
    def lattice(self) -> PatchLattice:
        return build_lattice(self.shape_zyx, self.patch_size_zyx, self.settings.step_fraction)

    @cached_property
    def blocks(self) -> list[Block]:
        return block_grid(self.shape_zyx, self.settings.block_shape_vox, self.settings.chunk_shape_vox)

    @property
    def layout(self) -> OutputLayout:
        return OutputLayout(Path(self.out_dir))


@dataclass(frozen=True)
class BlockResult:
    index: int
    voxels: int
    patches: int
    skipped_empty: bool
    seconds: float


def _device_for_worker(device: str) -> str:
    """With ``cuda`` under Dask, worker N uses GPU N modulo the GPUs it sees."""
    if device != "cuda":
        return device
    try:
        from distributed import get_worker
        name = get_worker().name
    except (ImportError, ValueError):
        return device
    n = torch.cuda.device_count()
    return f"cuda:{int(name) % n}" if isinstance(name, int) and n else device


def _predictor(job: PredictJob):
    from axonseg.inference.predictor import make_patch_predictor
    from axonseg.inference.weights import build_loaded_network, load_model

    s = job.settings
    device = _device_for_worker(s.device)
    key = ("predictor", job.model_path, device, s.mirror_tta, s.channels_last, s.fold, s.checkpoint,
           s.legacy_patch_size_vox, job.num_threads)
    if key not in _CACHE:
        if job.num_threads > 0:
            torch.set_num_threads(job.num_threads)
        model = load_model(job.model_path, fold=s.fold, checkpoint=s.checkpoint,
                           patch_size_zyx=s.legacy_patch_size_vox)
        _CACHE[key] = make_patch_predictor(build_loaded_network(model), device, s.mirror_tta, s.channels_last)
    return _CACHE[key]


def _input(job: PredictJob):
    from axonseg.io import open_region_reader

    key = ("input", job.input_path, job.input_dataset)
    if key not in _CACHE:
        _CACHE[key] = open_region_reader(job.input_path, dataset=job.input_dataset)
    return _CACHE[key]


def _write(job: PredictJob, block: Block, prob: np.ndarray) -> None:
    from axonseg.io.ome_zarr import write_region

    layout = job.layout
    u8 = np.round(np.clip(prob, 0.0, 1.0) * 255).astype(np.uint8)
    write_region(layout.probability, block.write_slices, u8)
    if job.settings.mask_threshold is not None:
        write_region(layout.mask, block.write_slices,
                     np.where(prob >= job.settings.mask_threshold, 255, 0).astype(np.uint8))


def run_block(job: PredictJob, index: int) -> BlockResult:
    """Predict block ``index`` of ``job``, write it, then mark it done."""
    t0 = time.perf_counter()
    layout = job.layout
    block = job.blocks[index]
    if layout.marker(index).exists():
        return BlockResult(index, block.num_voxels, 0, False, 0.0)
    lattice = job.lattice
    plan = read_plan(block, lattice)
    s = job.settings
    seen_max = [-np.inf]

    def transform(raw: np.ndarray) -> np.ndarray:
        seen_max[0] = float(raw.max()) if raw.size else -np.inf
        return raw if s.normalization == "per_patch" else job.normalization.apply(raw)

    region = read_padded_region(_input(job), lattice, plan, transform)
    skipped = s.skip_empty_below is not None and seen_max[0] < s.skip_empty_below
    if not skipped:
        prob = predict_block(region, block, plan, lattice, _predictor(job), s.batch_size,
                             classes=[s.output_class],
                             patch_transform=per_patch_zscore if s.normalization == "per_patch" else None)[0]
        _write(job, block, prob)
        log_write(layout, index)
    seconds = time.perf_counter() - t0
    mark_done(layout, index, {"voxels": block.num_voxels, "patches": 0 if skipped else plan.num_patches,
                              "skipped_empty": skipped, "seconds": round(seconds, 3), "pid": os.getpid()})
    return BlockResult(index, block.num_voxels, 0 if skipped else plan.num_patches, skipped, seconds)
