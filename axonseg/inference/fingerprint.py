"""What a prediction run depends on, to decide whether an output folder can be resumed.

The input is identified by its path, shape and dtype, the size and modification time
(ns) of every file it consists of, and a hash of the voxels of a few sample regions, so
that an input overwritten in place with other content (even with the same size and a
restored mtime, as long as a sample region changed) is not resumed into a folder that
holds the old one's blocks.
"""
from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from axonseg.io.digest import input_files_digest

SAMPLE_SIDE_VOX = 32


def sample_regions(shape_zyx, side: int = SAMPLE_SIDE_VOX) -> list[tuple[slice, ...]]:
    """The 8 corners and the centre of the volume, ``side``-voxel cubes (cut to the volume)."""
    out = []
    for corner in itertools.product(*[(0, max(s - side, 0)) for s in shape_zyx]):
        out.append(tuple(slice(a, min(a + side, s)) for a, s in zip(corner, shape_zyx)))
    out.append(tuple(slice(max(s // 2 - side // 2, 0), min(s // 2 + side // 2 + 1, s)) for s in shape_zyx))
    return out


def content_sample_sha256(reader) -> str:
    """sha256 of the voxels of :func:`sample_regions` read through ``reader``."""
    h = hashlib.sha256()
    for sl in sample_regions(reader.shape):
        h.update(np.ascontiguousarray(np.asarray(reader[sl])).tobytes())
    return h.hexdigest()


def run_fingerprint(input_path: Path, reader, model_sha256: str, settings) -> dict[str, Any]:
    # every setting but axonseg.settings.RUN_ONLY_SETTINGS; the runtime as it resolves ("auto" -> its
    # choice), since runtimes give slightly different numbers and a resume must not mix them
    s = dict(settings.fingerprint_dict(), runtime=settings.resolved_runtime())
    return {"input": str(Path(input_path).resolve()), "shape_zyx": list(reader.shape), "dtype": str(reader.dtype),
            "input_files": input_files_digest(input_path), "input_sample_sha256": content_sample_sha256(reader),
            "model_sha256": model_sha256, "settings": s}
