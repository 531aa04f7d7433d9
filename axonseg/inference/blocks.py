"""Blocks of the output: a write region (a union of whole output chunks) and a read region.

A block writes only its write region, so every output chunk has exactly one writer
(zarr loses data under concurrent partial writes to one chunk). It reads the union of
the lattice patches that overlap its write region: the write region plus a halo of at
most ``patch_size - 1`` voxels per side, derived from the patch size and the lattice.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from axonseg.inference.lattice import PatchLattice


@dataclass(frozen=True)
class Block:
    """One unit of work.

    Attributes
    ----------
    index
        Position in C order in the block grid (stable between runs: resume relies on it).
    write_start_zyx, write_stop_zyx
        Write region in volume coordinates (stop exclusive).
    """

    index: int
    write_start_zyx: tuple[int, int, int]
    write_stop_zyx: tuple[int, int, int]

    @property
    def write_slices(self) -> tuple[slice, slice, slice]:
        return tuple(slice(a, b) for a, b in zip(self.write_start_zyx, self.write_stop_zyx))

    @property
    def shape_zyx(self) -> tuple[int, ...]:
        return tuple(b - a for a, b in zip(self.write_start_zyx, self.write_stop_zyx))

    @property
    def num_voxels(self) -> int:
        z, y, x = self.shape_zyx
        return z * y * x


def check_block_shape(block_shape_zyx: tuple[int, ...], chunk_shape_zyx: tuple[int, ...]) -> None:
    """Raise ``ValueError`` unless every block axis is a whole multiple of the chunk axis."""
    if len(block_shape_zyx) != 3 or len(chunk_shape_zyx) != 3:
        raise ValueError(f"block and chunk shapes must be 3-D, got {block_shape_zyx} and {chunk_shape_zyx}")
    bad = [(b, c) for b, c in zip(block_shape_zyx, chunk_shape_zyx) if c < 1 or b < c or b % c]
    if bad:
        raise ValueError(
            f"block shape {tuple(block_shape_zyx)} must be a whole multiple of the output chunk shape "
            f"{tuple(chunk_shape_zyx)} on every axis (one writer per chunk)"
        )


def block_grid(shape_zyx: tuple[int, ...], block_shape_zyx: tuple[int, ...],
               chunk_shape_zyx: tuple[int, ...]) -> list[Block]:
    """Tile the volume into blocks; edge blocks are cut at the volume border (still whole chunks)."""
    check_block_shape(block_shape_zyx, chunk_shape_zyx)
    ranges = [range(0, s, b) for s, b in zip(shape_zyx, block_shape_zyx)]
    blocks = []
    for i, start in enumerate(itertools.product(*ranges)):
        stop = tuple(min(a + b, s) for a, b, s in zip(start, block_shape_zyx, shape_zyx))
        blocks.append(Block(i, tuple(start), stop))
    return blocks


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
