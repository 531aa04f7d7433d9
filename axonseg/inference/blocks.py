"""Blocks of the output and read plans of the in-memory block predictor.

Blocks are the engine's (:class:`axonseg.engine.Block`): a write region that is a union of
whole output chunks, so every chunk has exactly one writer. :func:`read_plan` lists the
lattice patches overlapping a block and the region they cover; it serves
:func:`axonseg.inference.stitch.predict_block`, the in-memory predictor (one block = the whole
volume, as in ``benchmarks/bench_predict.py``). The whole-brain job does not recompute
border patches: see :mod:`axonseg.inference.ownership`.
"""
from __future__ import annotations

from dataclasses import dataclass

from axonseg.engine.task import Block, check_block_shape, grid_blocks
from axonseg.inference.lattice import PatchLattice

__all__ = ["Block", "ReadPlan", "block_grid", "check_block_shape", "read_plan"]


def block_grid(shape_zyx: tuple[int, ...], block_shape_zyx: tuple[int, ...],
               chunk_shape_zyx: tuple[int, ...]) -> list[Block]:
    """Tile the volume into blocks; edge blocks are cut at the volume border (still whole chunks)."""
    return list(grid_blocks(shape_zyx, block_shape_zyx, chunk_shape_zyx))


@dataclass(frozen=True)
class ReadPlan:
    """What a block reads: the lattice patches overlapping its write region and their union.

    ``read_start_zyx``/``read_stop_zyx`` are in padded lattice coordinates; ``starts_zyx``
    lists, per axis, the patch starts used (padded coordinates).
    """

    read_start_zyx: tuple[int, int, int]
    read_stop_zyx: tuple[int, int, int]
    starts_zyx: tuple[tuple[int, ...], ...]

    @property
    def num_patches(self) -> int:
        n = 1
        for s in self.starts_zyx:
            n *= len(s)
        return n

    def halo_zyx(self, block: Block, lattice: PatchLattice) -> tuple[tuple[int, int], ...]:
        """(before, after) halo around the write region, in voxels."""
        out = []
        for ax in range(3):
            lo = block.write_start_zyx[ax] + lattice.pad_zyx[ax][0]
            hi = block.write_stop_zyx[ax] + lattice.pad_zyx[ax][0]
            out.append((lo - self.read_start_zyx[ax], self.read_stop_zyx[ax] - hi))
        return tuple(out)


def read_plan(block: Block, lattice: PatchLattice) -> ReadPlan:
    """The lattice patches that overlap ``block``'s write region, and the region they cover."""
    starts, lo_all, hi_all = [], [], []
    for ax in range(3):
        pad_below = lattice.pad_zyx[ax][0]
        lo = block.write_start_zyx[ax] + pad_below
        hi = block.write_stop_zyx[ax] + pad_below
        st = lattice.starts_overlapping(ax, lo, hi)
        if not st:
            raise AssertionError(f"no lattice patch covers block {block.index} on axis {ax}")
        starts.append(st)
        lo_all.append(min(st))
        hi_all.append(max(st) + lattice.patch_size_zyx[ax])
    return ReadPlan(tuple(lo_all), tuple(hi_all), tuple(starts))
