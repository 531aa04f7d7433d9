"""The prediction block task: each block computes the lattice patches it owns, once.

``load`` reads (and normalises) the input under the block's patches that touch tissue;
``compute`` runs the network on them, adds the spills handed on by the blocks below and
divides by the summed Gaussian weights of every lattice patch over the write region;
``store`` writes the block's chunks and its spills for the blocks above, then the done
marker (after the data, so a killed run loses at most the blocks in flight), and removes
the spills it consumed. Functions take a picklable :class:`PredictJob`; each process keeps
its network, input reader and tissue table in a small cache.
"""
from __future__ import annotations

import functools
import itertools
import logging
import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from axonseg.engine import Block, BlockTask, Region
from axonseg.errors import AxonsegError
from axonseg.inference.blocks import ReadPlan, block_grid
from axonseg.inference.lattice import PatchLattice, build_lattice, gaussian_importance_map
from axonseg.inference.normalization import NormalizationParams, per_patch_zscore
from axonseg.inference.ownership import PatchOwnership
from axonseg.inference.settings import PredictSettings
from axonseg.inference.spills import drop_spills, read_spill, write_spills
from axonseg.inference.state import OutputLayout, log_write, mark_done
from axonseg.inference.stitch import read_padded_region

logger = logging.getLogger(__name__)


class NonFiniteOutputError(AxonsegError, RuntimeError):
    """The network returned NaN or infinity: the block fails rather than store zeros."""


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
    use_tissue: bool = False
    use_scout: bool = False

    @cached_property
    def lattice(self) -> PatchLattice:
        return build_lattice(self.shape_zyx, self.patch_size_zyx, self.settings.step_fraction)

    @cached_property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(block_grid(self.shape_zyx, self.block_shape, self.settings.chunk_shape_vox))

    @cached_property
    def block_shape(self) -> tuple[int, int, int]:
        return self.settings.resolved_block_shape(self.patch_size_zyx)

    @cached_property
    def ownership(self) -> PatchOwnership:
        return PatchOwnership(self.lattice, self.block_shape)

    @property
    def layout(self) -> OutputLayout:
        return OutputLayout(Path(self.out_dir))

    def task(self) -> BlockTask:
        return BlockTask("predict", self.blocks, compute=functools.partial(compute_block, self),
                         store=functools.partial(store_block, self), is_done=functools.partial(is_done, self),
                         load=functools.partial(load_block, self),
                         depends_on=self.ownership.sources, chunk_shape=tuple(self.settings.chunk_shape_vox),
                         bounds=Region.from_shape(self.shape_zyx))


@dataclass(frozen=True)
class BlockResult:
    index: int
    voxels: int
    patches: int          # patches run (network calls x batch)
    patches_skipped: int  # owned patches not run: outside tissue or below skip_empty_below
    seconds: float

    @property
    def skipped_empty(self) -> bool:
        return self.patches == 0


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
           s.legacy_patch_size_vox, job.num_threads, s.runtime, s.autocast, s.runtime_cache_dir, s.batch_size)
    if key not in _CACHE:
        if job.num_threads > 0:
            torch.set_num_threads(job.num_threads)
        model = load_model(job.model_path, fold=s.fold, checkpoint=s.checkpoint,
                           patch_size_zyx=s.legacy_patch_size_vox)
        _CACHE[key] = make_patch_predictor(build_loaded_network(model), device, s.mirror_tta, s.channels_last,
                                           runtime=s.runtime, batch_size=s.batch_size,
                                           cache_dir=s.runtime_cache_dir, autocast=s.autocast)
    return _CACHE[key]


def _input(job: PredictJob):
    from axonseg.io import open_region_reader

    key = ("input", job.input_path, job.input_dataset)
    if key not in _CACHE:
        _CACHE[key] = open_region_reader(job.input_path, dataset=job.input_dataset)
    return _CACHE[key]


def _tissue_table(job: PredictJob, scout: bool = True) -> np.ndarray:
    """Per lattice patch: run it? (False: outside the saved tissue mask, or, with ``scout``, where the
    scout pass found no cell reaching ``scout_threshold``)."""
    from axonseg.inference.tissue import TissueMask, patches_in_tissue

    use_scout = scout and job.use_scout
    key = ("tissue", job.out_dir, job.shape_zyx, job.patch_size_zyx, job.settings.step_fraction, job.use_tissue,
           use_scout)
    if key not in _CACHE:
        from axonseg.io.ome_zarr import open_level

        tissue = None
        if job.use_tissue:
            mask = open_level(job.layout.tissue)[:] > 0
            tissue = TissueMask(mask, job.settings.tissue_downsample_vox, None, 0)
        table = patches_in_tissue(tissue, job.ownership)
        if use_scout:
            from axonseg.inference import scout_files as scout_pass

            level = int(np.ceil(job.settings.scout_threshold * 255))
            found = open_level(scout_pass.map_path(job))[:] >= level
            table &= patches_in_tissue(TissueMask(found, scout_pass.SCOUT_CELL, None, 0), job.ownership)
        _CACHE[key] = table
    return _CACHE[key]


def _positions(job: PredictJob, index: int, scout: bool = True) -> tuple[list[tuple[int, ...]], int]:
    """Owned patch starts (padded) to run, in z, y, x order (inside the tissue and, with ``scout``,
    where the scout found something); and how many owned ones are not run."""
    owned = job.ownership.owned(index)
    table = _tissue_table(job, scout)
    idx = [[job.lattice.starts_zyx[ax].index(s) for s in owned[ax]] for ax in range(3)]
    keep = [pos for pos, i in zip(itertools.product(*owned), itertools.product(*idx)) if table[i]]
    return keep, job.ownership.num_owned(index) - len(keep)


def is_done(job: PredictJob, index: int) -> bool:
    return job.layout.marker(index).exists()


def load_block(job: PredictJob, index: int) -> dict[str, Any]:
    """Input under the block's patches to run (see :func:`load_positions`); with the scout pass, the
    scout outputs of owned patches it kept (``reused``: not run again)."""
    positions, skipped = _positions(job, index)
    reused = {}
    if job.use_scout:
        from axonseg.inference.scout_files import saved_outputs

        saved = saved_outputs(job, index)
        reused = {pos: saved[pos] for pos in positions if pos in saved}
        positions = [pos for pos in positions if pos not in reused]
    loaded = load_positions(job, positions, skipped)
    loaded["reused"] = reused
    return loaded


def load_positions(job: PredictJob, positions: list[tuple[int, ...]], skipped: int) -> dict[str, Any]:
    """Input under the patches at ``positions`` (float32, padded lattice coordinates), normalised for
    ``global`` normalisation; patches whose raw maximum is below ``skip_empty_below`` are dropped."""
    if not positions:
        return {"positions": [], "skipped": skipped}
    p = job.lattice.patch_size_zyx
    start = tuple(min(pos[ax] for pos in positions) for ax in range(3))
    stop = tuple(max(pos[ax] for pos in positions) + p[ax] for ax in range(3))
    plan = ReadPlan(start, stop, ())
    s = job.settings
    region = read_padded_region(_input(job), job.lattice, plan)  # raw, zero outside the volume
    if s.skip_empty_below is not None:
        local = [tuple(slice(a - r, a - r + q) for a, r, q in zip(pos, start, p)) for pos in positions]
        keep = [pos for pos, sl in zip(positions, local) if region[sl].max() >= s.skip_empty_below]
        skipped += len(positions) - len(keep)
        positions = keep
    if s.normalization == "global" and positions:
        # normalise the voxels inside the volume; the padding stays 0 (nnU-Net pads after normalising)
        inside = tuple(slice(max(pb - a, 0), min(n + pb - a, b - a))
                       for a, b, n, (pb, _) in zip(start, stop, job.shape_zyx, job.lattice.pad_zyx))
        region[inside] = job.normalization.apply(region[inside])
    return {"positions": positions, "skipped": skipped, "start": start, "region": region}


def run_patches(job: PredictJob, loaded: dict[str, Any], progress: Callable[[int], None]):
    """Yield ``(padded start, probabilities of the output class)`` for each loaded patch, in batches."""
    positions = loaded["positions"]
    if not positions:
        return
    s, predict, p = job.settings, _predictor(job), job.lattice.patch_size_zyx
    start = loaded["start"]
    for first in range(0, len(positions), s.batch_size):
        batch = positions[first:first + s.batch_size]
        x = np.stack([loaded["region"][tuple(slice(a - r, a - r + q) for a, r, q in zip(pos, start, p))]
                      for pos in batch])[:, None]
        if s.normalization == "per_patch":
            x = np.asarray(per_patch_zscore(x, job.normalization.mask_zero), dtype=np.float32)
        y = np.asarray(predict(x))
        if y.ndim != 5 or y.shape[0] != len(batch) or y.shape[2:] != tuple(p):
            raise ValueError(f"network returned shape {y.shape} for a batch of shape {x.shape}")
        if not 0 <= s.output_class < y.shape[1]:
            raise ValueError(f"--output-class {s.output_class}: the model has {y.shape[1]} classes")
        if not np.isfinite(y).all():
            raise NonFiniteOutputError(
                f"{job.model_path}: the network returned NaN or infinite probabilities for the patch at "
                f"(padded) z, y, x {batch[0]} of {job.input_path}; nothing of this block was written "
                f"(broken weights, or an overflow under fp16/bf16 autocast)")
        yield from zip(batch, y[:, s.output_class])
        progress(len(batch))


@functools.lru_cache(maxsize=2)
def _denominator(rel_starts: tuple[tuple[int, ...], ...], shape: tuple[int, ...], patch: tuple[int, ...],
                 gaussian: bool) -> np.ndarray:
    """Summed weights over a region of ``shape`` of patches starting at ``rel_starts`` (region coords)."""
    w = gaussian_importance_map(patch) if gaussian else np.ones(patch, np.float32)
    den = np.zeros(shape, np.float32)
    for pos in itertools.product(*rel_starts):
        dst = tuple(slice(max(a, 0), min(a + q, s)) for a, q, s in zip(pos, patch, shape))
        src = tuple(slice(d.start - a, d.stop - a) for d, a in zip(dst, pos))
        den[dst] += w[src]
    den.setflags(write=False)
    return den


def _weight(job: PredictJob) -> np.ndarray:
    p = job.lattice.patch_size_zyx
    return gaussian_importance_map(p) if job.lattice.num_patches > 1 else np.ones(p, np.float32)


def _recompute_spill(job: PredictJob, src: int, dst: int) -> np.ndarray | None:
    """Block ``src``'s spill into block ``dst``, from ``src``'s own patches (what it handed on: the
    spills ``src`` received fall in its own write region, never in ``dst``'s)."""
    acc = job.ownership.accumulator(src)
    num = _own_sums(job, src, load_block(job, src), lambda n: None)
    if num is None:
        return None
    piece = num[acc.intersect(job.blocks[dst].write).relative_to(acc).to_slices()]
    return np.ascontiguousarray(piece) if piece.any() else None


def _own_sums(job: PredictJob, index: int, loaded: dict[str, Any],
              progress: Callable[[int], None]) -> np.ndarray | None:
    """Gaussian-weighted sums of block ``index``'s own patches over its accumulator (None: no patch)."""
    acc = job.ownership.accumulator(index)
    positions, reused = loaded["positions"], loaded.get("reused", {})
    if not positions and not reused:
        return None
    num = np.zeros(acc.shape, np.float32)
    w, p = _weight(job), job.lattice.patch_size_zyx
    outputs = itertools.chain(run_patches(job, loaded, progress), reused.items())
    for pos, yi in outputs:
        lo = [pa - pb for pa, (pb, _) in zip(pos, job.lattice.pad_zyx)]
        patch = Region(lo, [a + q for a, q in zip(lo, p)])
        part = patch.intersect(acc)
        src = part.relative_to(patch).to_slices()
        num[part.relative_to(acc).to_slices()] += yi[src].astype(np.float32, copy=False) * w[src]
    return num


def compute_block(job: PredictJob, index: int, loaded: dict[str, Any],
                  progress: Callable[[int], None]) -> dict[str, Any]:
    """Probabilities (uint8) of block ``index``'s write region and the spills it hands on."""
    t0 = time.perf_counter()
    own = job.ownership
    block, acc = job.blocks[index], own.accumulator(index)
    s = job.settings
    positions, reused = loaded["positions"], loaded.get("reused", {})
    num = _own_sums(job, index, loaded, progress)
    incoming = []
    for src_index in own.sources(index):
        part = own.accumulator(src_index).intersect(block.write)
        arr = read_spill(job.layout, src_index, index, part.shape, is_done(job, src_index),
                         functools.partial(_recompute_spill, job, src_index, index))
        if arr is not None:
            incoming.append((part, arr))
    if num is None and incoming:
        num = np.zeros(acc.shape, np.float32)
    for part, arr in incoming:
        num[part.relative_to(acc).to_slices()] += arr
    out: dict[str, Any] = {"patches": len(positions), "reused": len(reused), "skipped": loaded["skipped"],
                           "t0": t0, "spills": {}}
    if num is None:
        out["prob"] = None
        for t in own.targets(index):
            out["spills"][t] = None
        return out
    rel = tuple(tuple(a - b for a in st) for st, b in
                zip(_overlapping_volume_starts(job, block.write), block.write.start))
    den = _denominator(rel, block.write.shape, job.lattice.patch_size_zyx, job.lattice.num_patches > 1)
    prob = num[block.write.relative_to(acc).to_slices()] / den
    out["prob"] = np.round(np.clip(prob, 0.0, 1.0) * 255).astype(np.uint8)
    if s.mask_threshold is not None:
        out["mask"] = np.where(prob >= s.mask_threshold, 255, 0).astype(np.uint8)
    for t in own.targets(index):
        piece = num[acc.intersect(job.blocks[t].write).relative_to(acc).to_slices()]
        out["spills"][t] = np.ascontiguousarray(piece) if piece.any() else None
    return out


def _overlapping_volume_starts(job: PredictJob, region: Region) -> tuple[tuple[int, ...], ...]:
    starts = job.ownership.overlapping_starts(region)
    return tuple(tuple(s - pb for s in st) for st, (pb, _) in zip(starts, job.lattice.pad_zyx))


def _write_unit(job: PredictJob, array: Path) -> tuple[int, ...]:
    from axonseg.io.chunks import write_unit_of
    from axonseg.io.ome_zarr import open_level

    key = ("unit", str(array))
    if key not in _CACHE:
        _CACHE[key] = write_unit_of(open_level(array))
    return _CACHE[key]


def _unwritten_units(job: PredictJob, block: Block, computed: dict[str, Any]) -> dict[str, list[list[int]]]:
    """Grid coordinates of the write units (chunks, or shards) of the block that zarr stores no file for
    (all zero), per output array: a complete prediction missing any other unit was damaged."""
    from axonseg.io.chunks import empty_units

    layout, prob, threshold = job.layout, computed["prob"], job.settings.mask_threshold
    start, shape = block.write.start, block.write.shape
    out = {"probability": empty_units(prob, start, shape, _write_unit(job, layout.probability))}
    if threshold is not None:
        mask = computed.get("mask") if prob is not None else (
            np.full(shape, 255, np.uint8) if threshold <= 0 else None)
        out["mask"] = empty_units(mask, start, shape, _write_unit(job, layout.mask))
    return out


def store_block(job: PredictJob, index: int, computed: dict[str, Any]) -> BlockResult:
    """Write block ``index``'s chunks and spills, then mark it done, then drop the spills it used."""
    from axonseg.io.ome_zarr import write_region

    layout, block = job.layout, job.blocks[index]
    threshold = job.settings.mask_threshold
    if computed["prob"] is not None:
        write_region(layout.probability, block.write_slices, computed["prob"])
        if threshold is not None:
            write_region(layout.mask, block.write_slices, computed["mask"])
    elif threshold is not None and threshold <= 0:  # probability 0 >= threshold
        write_region(layout.mask, block.write_slices, np.full(block.shape_zyx, 255, np.uint8))
    write_spills(layout, index, computed["spills"])
    log_write(layout, index)
    seconds = time.perf_counter() - computed["t0"]
    mark_done(layout, index, {"voxels": block.num_voxels, "patches": computed["patches"],
                              "patches_reused": computed["reused"], "patches_skipped": computed["skipped"], "seconds": round(seconds, 3),
                              "pid": os.getpid(), "unwritten_units": _unwritten_units(job, block, computed)})
    drop_spills(layout, job.ownership.sources(index), index)
    return BlockResult(index, block.num_voxels, computed["patches"], computed["skipped"], seconds)


def run_block(job: PredictJob, index: int) -> BlockResult | None:
    """Load, compute and store block ``index`` (its sources must be done); ``None`` if already done."""
    if is_done(job, index):
        return None
    return store_block(job, index, compute_block(job, index, load_block(job, index), lambda n: None))
