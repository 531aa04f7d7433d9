"""Each lattice patch computed once: which block runs which patch, and what it hands on.

A block *owns* the lattice patches whose start (clamped into the volume) lies in its write
region, and only those are computed, by it alone. It accumulates their Gaussian-weighted
probabilities over its *accumulator* region: its write region extended upwards (z, y, x)
to the end of its last patch. The part inside its write region stays; each part that falls
in another block's write region is handed on to that block (a *spill*). A block therefore
depends on the blocks below it whose accumulators reach into it, and blocks run in index
(C) order or as a Dask graph. Memory stays bounded by one block plus its patch margin.

All coordinates are volume voxels (z, y, x) unless named ``padded``.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from axonseg.engine import Region
from axonseg.inference.lattice import PatchLattice


@dataclass(frozen=True)
class PatchOwnership:
    """Patch ownership over a block grid of ``block_shape_zyx`` (blocks in C order)."""

    lattice: PatchLattice
    block_shape_zyx: tuple[int, int, int]

    @cached_property
    def grid_zyx(self) -> tuple[int, ...]:
        return tuple(-(-s // b) for s, b in zip(self.lattice.shape_zyx, self.block_shape_zyx))

    def _axis_block(self, ax: int, bi: int) -> tuple[int, int]:
        b, s = self.block_shape_zyx[ax], self.lattice.shape_zyx[ax]
        return bi * b, min((bi + 1) * b, s)

    def patch_extent(self, ax: int, start_padded: int) -> tuple[int, int]:
        """Volume range ``[lo, hi)`` a patch starting at ``start_padded`` covers on axis ``ax``."""
        lo = start_padded - self.lattice.pad_zyx[ax][0]
        return max(lo, 0), min(lo + self.lattice.patch_size_zyx[ax], self.lattice.shape_zyx[ax])

    @cached_property
    def owned_starts(self) -> tuple[tuple[tuple[int, ...], ...], ...]:
        """Per axis, per block position on that axis: the lattice starts (padded) it owns."""
        out = []
        for ax in range(3):
            per = [[] for _ in range(self.grid_zyx[ax])]
            for s in self.lattice.starts_zyx[ax]:
                lo, _ = self.patch_extent(ax, s)
                per[min(lo, self.lattice.shape_zyx[ax] - 1) // self.block_shape_zyx[ax]].append(s)
            out.append(tuple(tuple(p) for p in per))
        return tuple(out)

    @cached_property
    def accumulator_stop(self) -> tuple[tuple[int, ...], ...]:
        """Per axis, per block position: where its accumulator ends (>= the block's stop)."""
        out = []
        for ax in range(3):
            stops = []
            for bi, owned in enumerate(self.owned_starts[ax]):
                hi = self._axis_block(ax, bi)[1]
                stops.append(max([hi] + [self.patch_extent(ax, s)[1] for s in owned]))
            out.append(tuple(stops))
        return tuple(out)

    def position(self, index: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(index, self.grid_zyx))

    def index(self, position: tuple[int, ...]) -> int:
        return int(np.ravel_multi_index(position, self.grid_zyx))

    def write_region(self, index: int) -> Region:
        pos = self.position(index)
        ext = [self._axis_block(ax, bi) for ax, bi in enumerate(pos)]
        return Region([a for a, _ in ext], [b for _, b in ext])

    def accumulator(self, index: int) -> Region:
        pos = self.position(index)
        return Region([self._axis_block(ax, bi)[0] for ax, bi in enumerate(pos)],
                      [self.accumulator_stop[ax][bi] for ax, bi in enumerate(pos)])

    def owned(self, index: int) -> tuple[tuple[int, ...], ...]:
        """The lattice starts (padded, per axis) of the patches block ``index`` computes."""
        return tuple(self.owned_starts[ax][bi] for ax, bi in enumerate(self.position(index)))

    def num_owned(self, index: int) -> int:
        n = 1
        for s in self.owned(index):
            n *= len(s)
        return n

    def targets(self, index: int) -> tuple[int, ...]:
        """Blocks (other than ``index``) that receive part of its accumulator, in index order."""
        pos = self.position(index)
        per_axis = []
        for ax, bi in enumerate(pos):
            stop = self.accumulator_stop[ax][bi]
            per_axis.append([bj for bj in range(bi, self.grid_zyx[ax]) if self._axis_block(ax, bj)[0] < stop])
        return tuple(self.index(p) for p in itertools.product(*per_axis) if p != pos)

    def sources(self, index: int) -> tuple[int, ...]:
        """Blocks (other than ``index``) that hand part of their accumulator to it, in index order."""
        pos = self.position(index)
        per_axis = []
        for ax, dj in enumerate(pos):
            lo = self._axis_block(ax, dj)[0]
            per_axis.append([bi for bi in range(dj + 1) if self.accumulator_stop[ax][bi] > lo])
        return tuple(self.index(p) for p in itertools.product(*per_axis) if p != pos)

    def overlapping_starts(self, region: Region) -> tuple[tuple[int, ...], ...]:
        """Per axis, the lattice starts (padded) of every patch overlapping ``region``."""
        out = []
        for ax in range(3):
            out.append(tuple(s for s in self.lattice.starts_zyx[ax]
                             if self.patch_extent(ax, s)[0] < region.stop[ax]
                             and self.patch_extent(ax, s)[1] > region.start[ax]))
        return tuple(out)
