"""Block tasks: a grid of chunk-aligned write regions and the functions that fill them.

A :class:`BlockTask` is daisy's ``Task(process, check)`` split in three so that runners
can overlap I/O with compute: ``load(index)`` reads a block's input (no side effects),
``compute(index, loaded, progress)`` does the work, ``store(index, computed)`` writes the
block's write region (and anything it hands on), then records it done. ``is_done(index)``
is the completion check a rerun uses to skip finished blocks; ``depends_on(index)`` lists
blocks whose stores must be finished before this block computes.

Every write region is a union of whole output chunks and no two blocks share a chunk
(checked when the task is built), so each chunk has exactly one writer.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from axonseg.engine.region import Region


@dataclass(frozen=True)
class Block:
    """One unit of work: its position in the grid (C order, stable between runs) and write region."""

    index: int
    write: Region

    @property
    def write_slices(self) -> tuple[slice, ...]:
        return self.write.to_slices()

    @property
    def write_start_zyx(self) -> tuple[int, ...]:
        return self.write.start

    @property
    def write_stop_zyx(self) -> tuple[int, ...]:
        return self.write.stop

    @property
    def shape_zyx(self) -> tuple[int, ...]:
        return self.write.shape

    @property
    def num_voxels(self) -> int:
        return self.write.size


def check_block_shape(block_shape_zyx: Sequence[int], chunk_shape_zyx: Sequence[int]) -> None:
    """Raise ``ValueError`` unless every block axis is a positive whole multiple of the chunk axis."""
    if len(block_shape_zyx) != 3 or len(chunk_shape_zyx) != 3:
        raise ValueError(f"block and chunk shapes must be 3-D, got {tuple(block_shape_zyx)} and "
                         f"{tuple(chunk_shape_zyx)}")
    if min(chunk_shape_zyx) < 1 or min(block_shape_zyx) < 1:
        raise ValueError(f"block shape {tuple(block_shape_zyx)} and chunk shape {tuple(chunk_shape_zyx)} must be "
                         f">= 1 voxel on every axis")
    bad = [(b, c) for b, c in zip(block_shape_zyx, chunk_shape_zyx) if b < c or b % c]
    if bad:
        raise ValueError(
            f"block shape {tuple(block_shape_zyx)} must be a whole multiple of the output chunk shape "
            f"{tuple(chunk_shape_zyx)} on every axis (one writer per chunk)"
        )


def grid_blocks(shape_zyx: Sequence[int], block_shape_zyx: Sequence[int],
                chunk_shape_zyx: Sequence[int] | None = None) -> tuple[Block, ...]:
    """Tile ``shape_zyx`` into blocks in C order; edge blocks are cut at the volume border."""
    if chunk_shape_zyx is not None:
        check_block_shape(block_shape_zyx, chunk_shape_zyx)
    ranges = [range(0, int(s), int(b)) for s, b in zip(shape_zyx, block_shape_zyx)]
    out = []
    for i, start in enumerate(itertools.product(*ranges)):
        stop = tuple(min(a + int(b), int(s)) for a, b, s in zip(start, block_shape_zyx, shape_zyx))
        out.append(Block(i, Region(start, stop)))
    return tuple(out)


def check_one_writer_per_chunk(blocks: Sequence[Block], chunk_shape: Sequence[int], bounds: Region) -> None:
    """Raise ``ValueError`` if a write region is not whole chunks or two blocks write one chunk."""
    owner: dict[tuple[int, ...], int] = {}
    for b in blocks:
        if not bounds.contains(b.write) or not b.write.is_snapped(chunk_shape, bounds):
            raise ValueError(f"block {b.index}: write region {b.write} is not a union of whole chunks "
                             f"{tuple(chunk_shape)} of {bounds}")
        ranges = [range(a // c, -(-z // c)) for a, z, c in zip(b.write.start, b.write.stop, chunk_shape)]
        for cidx in itertools.product(*ranges):
            if cidx in owner:
                raise ValueError(f"blocks {owner[cidx]} and {b.index} both write chunk {cidx}")
            owner[cidx] = b.index


def _no_progress(*args: int) -> None:
    return None


@dataclass(frozen=True)
class BlockTask:
    """A block job the runners execute. All callables must be picklable for the Dask runner
    (top-level functions or ``functools.partial`` of them)."""

    name: str
    blocks: tuple[Block, ...]
    compute: Callable[[int, Any, Callable[[int], None]], Any]
    store: Callable[[int, Any], Any]
    is_done: Callable[[int], bool]
    load: Callable[[int], Any] | None = None
    depends_on: Callable[[int], Sequence[int]] | None = None
    chunk_shape: tuple[int, ...] | None = None
    bounds: Region | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        for i, b in enumerate(self.blocks):
            if b.index != i:
                raise ValueError(f"{self.name}: block {i} has index {b.index} (blocks must be in index order)")
        if self.chunk_shape is not None:
            if self.bounds is None:
                raise ValueError(f"{self.name}: chunk_shape needs bounds")
            check_one_writer_per_chunk(self.blocks, self.chunk_shape, self.bounds)

    def dependencies(self, index: int) -> tuple[int, ...]:
        return tuple(self.depends_on(index)) if self.depends_on is not None else ()

    def pending(self) -> list[int]:
        """Blocks not done yet, in index order (a valid order for dependencies on lower indices)."""
        return [b.index for b in self.blocks if not self.is_done(b.index)]


def run_block(task: BlockTask, index: int, progress: Callable[[int], None] = _no_progress) -> Any:
    """Load, compute and store block ``index`` in this process (what a Dask worker runs)."""
    loaded = task.load(index) if task.load is not None else None
    return task.store(index, task.compute(index, loaded, progress))


def run_block_after(task: BlockTask, index: int, *dependencies: Any) -> Any:
    """:func:`run_block` with the dependencies' results as (ignored) arguments: lets Dask order tasks."""
    return run_block(task, index)
