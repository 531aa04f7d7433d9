"""What every reader returns besides the array, and the one error they raise."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from axonseg.errors import AxonsegError


class VolumeError(AxonsegError, ValueError):
    """A volume could not be opened; the message names the file and the problem."""


@dataclass(frozen=True)
class VolumeInfo:
    """What we know about a volume: shape (z, y, x), dtype, voxel size in µm, source path."""

    path: Path
    shape_zyx: tuple[int, int, int]
    dtype: np.dtype
    voxel_size_um: tuple[float, float, float] | None
    format: str


class FileFormatError(AxonsegError, ValueError):
    """A (non-volume) file is missing or not in the expected format; the message names it."""
