"""Where the scout pass keeps its results, and how the main pass reads them back.

The scout pass (:mod:`axonseg.inference.scout`) writes, per block, ``scout/<index>.npz`` (its
per-cell maxima and the outputs of the scout patches it kept) and at the end ``scout.ome.zarr``
(the highest scout probability per ``SCOUT_CELL``³ cell). The main pass
(:mod:`axonseg.inference.blockjob`) reads both through this module, so neither imports the other.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from axonseg.io.files import load_npz

SCOUT_CELL = 16


def folder(job) -> Path:
    return Path(job.out_dir) / "scout"


def map_path(job) -> Path:
    return Path(job.out_dir) / "scout.ome.zarr"


def block_file(job, index: int) -> Path:
    return folder(job) / f"{index:07d}.npz"


def saved_outputs(job, index: int) -> dict[tuple[int, ...], np.ndarray]:
    """Scout outputs block ``index`` kept (padded start -> float16 probabilities)."""
    path = block_file(job, index)
    if not path.exists():
        return {}
    d = load_npz(path, ("positions", "outputs"))
    return {tuple(int(v) for v in pos): out for pos, out in zip(d["positions"], d["outputs"])}
