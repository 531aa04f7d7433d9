"""Small TIFF files (cubes, labels, slices): read whole, write atomically."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tifffile


def read_tiff(path: str | Path) -> np.ndarray:
    """Read a whole TIFF file (a slice or a small stack) into memory."""
    return tifffile.imread(str(path))


def write_tiff(path: str | Path, array: np.ndarray, compression: str | None = None) -> None:
    """Write ``array`` to ``path`` via a temporary file, so no half-written TIFF is left."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tifffile.imwrite(str(tmp), np.ascontiguousarray(array), compression=compression)
    os.replace(tmp, path)
