"""Spills: the weighted patch sums a finished block hands on to a later block whose write region its
patches reach (``<out>/spill/<src>-<dst>.npy``, or an empty ``.zero`` file when all zero).

The receiving block adds them, then removes them once its own done marker is written. When a
block is computed again after that (its done marker was deleted), a spill it needs is gone:
it is recomputed from the source block's own patches (``recompute``), never read as zeros.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from axonseg.inference.state import OutputLayout
from axonseg.io.files import load_npy, save_npy

logger = logging.getLogger(__name__)


def spill_path(layout: OutputLayout, src: int, dst: int, empty: bool) -> Path:
    return layout.spill_dir / f"{src:07d}-{dst:07d}.{'zero' if empty else 'npy'}"


def read_spill(layout: OutputLayout, src: int, dst: int, shape: tuple[int, ...], src_done: bool,
               recompute: Callable[[], np.ndarray | None]) -> np.ndarray | None:
    """Block ``src``'s spill into block ``dst`` (None: all zero). A missing spill of a done block
    (consumed when ``dst`` first ran) is recomputed; of a block not done, it is an error."""
    full, zero = spill_path(layout, src, dst, False), spill_path(layout, src, dst, True)
    if full.exists():
        arr = load_npy(full)
        if arr.shape != shape:
            raise RuntimeError(f"{full}: spill has shape {arr.shape}, expected {shape}")
        return arr
    if zero.exists():
        return None
    if src_done:
        logger.warning("%s: block %d is computed again and the spill it received from block %d is gone; "
                       "running block %d's patches again for it", layout.root, dst, src, src)
        return recompute()
    raise RuntimeError(f"{layout.root}: block {dst} needs the spill of block {src}, which is missing "
                       f"(block {src} not done?)")


def write_spills(layout: OutputLayout, src: int, spills: dict[int, np.ndarray | None]) -> None:
    layout.spill_dir.mkdir(exist_ok=True)
    for dst, arr in spills.items():
        save_npy(spill_path(layout, src, dst, arr is None), arr)


def drop_spills(layout: OutputLayout, sources: Iterable[int], dst: int) -> None:
    """Remove the spills block ``dst`` consumed (call after its done marker is written)."""
    for src in sources:
        for empty in (False, True):
            spill_path(layout, src, dst, empty).unlink(missing_ok=True)
