"""One rule for a volume that records no voxel size, shared by ``predict`` and ``convert``.

The size given on the command line (``--voxel-size-um``) wins, then the one the file records;
a file recording none is written at 1 µm per axis with one warning naming the file and the
option (issue 18 item 50: ``predict`` used to default while ``convert`` refused the same file).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

logger = logging.getLogger(__name__)

DEFAULT_VOXEL_SIZE_UM = (1.0, 1.0, 1.0)


def voxel_size_or_default(given: Sequence[float] | None, recorded: Sequence[float] | None,
                          src: str | Path) -> tuple[float, ...]:
    """``given``, else ``recorded``, else :data:`DEFAULT_VOXEL_SIZE_UM` (logged as a warning)."""
    if given:
        return tuple(float(v) for v in given)
    if recorded:
        return tuple(float(v) for v in recorded)
    logger.warning("%s records no voxel size and --voxel-size-um was not given: writing 1 µm per axis "
                   "(lengths and densities are then per voxel, not per µm)", src)
    return DEFAULT_VOXEL_SIZE_UM
