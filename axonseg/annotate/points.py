"""Point lists: ImageJ multi-point CSV exports and plain z,y,x CSV files.

ImageJ's multi-point tool exports a CSV with columns ``X``, ``Y`` and ``Slice`` (plus others
such as ``Area`` or ``Mean`` that we ignore). ``X`` and ``Y`` are pixel coordinates (pixel
``i`` spans ``[i, i + 1)``, so ``250.5`` lies in pixel 250) and ``Slice`` is **1-based**. A
plain CSV has a header ``z,y,x`` with 0-based voxel indices. Both become an ``(n, 3)`` int
array in z, y, x order.

ImageJ reports X and Y in calibrated units (e.g. µm) when the image has a spatial scale; the
points must be exported in pixels (Analyze > Set Scale > "Click to Remove Scale" first).
"""
from __future__ import annotations

import csv
import io
import logging
import math
from pathlib import Path

import numpy as np
from axonseg.errors import AxonsegError

logger = logging.getLogger(__name__)


#: Largest voxel index a point may have (no volume is 2**31 voxels long; int64 overflows far above).
MAX_INDEX = 2 ** 31 - 1


class PointsError(AxonsegError, ValueError):
    """A point list could not be read; the message names the file and the problem."""


def _to_float(value: str, where: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise PointsError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise PointsError(f"{where}: {value!r} is not a finite number")
    return number


def parse_points(text: str, source: str = "<points>") -> np.ndarray:
    """Parse a point list into an ``(n, 3)`` int64 array of z, y, x voxel indices.

    Parameters
    ----------
    text
        CSV text: either an ImageJ multi-point export (columns ``X``, ``Y``, ``Slice``, Slice
        1-based) or a plain CSV with columns ``z``, ``y``, ``x`` (0-based).
    source
        Name used in error messages (normally the file path).

    Returns
    -------
    np.ndarray
        ``(n, 3)`` int64 array, axis order z, y, x, 0-based. Fractional coordinates are
        floored to the pixel that contains them.

    Raises
    ------
    PointsError
        If the header is neither format, a value is not a number, a Slice is below 1, or
        there are no points.
    """
    reader = csv.reader(io.StringIO(text))
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        raise PointsError(f"{source}: empty point list")
    header = [cell.strip() for cell in rows[0]]
    lower = [h.lower() for h in header]
    if {"x", "y", "slice"} <= set(lower) and "z" not in lower:
        columns = [lower.index("slice"), lower.index("y"), lower.index("x")]
        one_based_z = True
        kind = "ImageJ X,Y,Slice"
    elif {"z", "y", "x"} <= set(lower):
        columns = [lower.index("z"), lower.index("y"), lower.index("x")]
        one_based_z = False
        kind = "z,y,x"
    else:
        raise PointsError(
            f"{source}: header {header} has neither ImageJ columns X, Y, Slice nor z, y, x"
        )
    points = []
    seen: dict[tuple[int, ...], int] = {}
    for line_no, row in enumerate(rows[1:], start=2):
        if len(row) <= max(columns):
            raise PointsError(f"{source}, line {line_no}: expected {len(header)} columns, got {len(row)}")
        zyx = [_to_float(row[c].strip(), f"{source}, line {line_no}") for c in columns]
        if one_based_z:
            if zyx[0] < 1:
                raise PointsError(
                    f"{source}, line {line_no}: Slice {zyx[0]:g} is below 1 (ImageJ slices are 1-based)"
                )
            zyx[0] -= 1
        if min(zyx) < 0:
            raise PointsError(f"{source}, line {line_no}: negative coordinate {zyx}")
        if max(zyx) > MAX_INDEX:
            raise PointsError(f"{source}, line {line_no}: coordinate {max(zyx):.6g} is beyond any volume "
                              f"(voxel indices go up to {MAX_INDEX}); a typo, or calibrated units (µm)?")
        voxel = tuple(math.floor(v) for v in zyx)
        if voxel in seen:
            raise PointsError(f"{source}, lines {seen[voxel]} and {line_no}: duplicate point (z, y, x) {voxel}; "
                              "it would crop the same cube twice (and leak it across folds): remove one")
        seen[voxel] = line_no
        points.append(list(voxel))
    if not points:
        raise PointsError(f"{source}: header only, no points")
    logger.info("%s: %d points (%s)", source, len(points), kind)
    return np.asarray(points, dtype=np.int64).reshape(-1, 3)


def read_points(path: str | Path) -> np.ndarray:
    """Read a point-list CSV file; see :func:`parse_points`."""
    path = Path(path)
    if not path.is_file():
        raise PointsError(f"{path}: no such point-list file")
    from axonseg.io.files import read_text

    try:
        text = read_text(path, encoding="utf-8-sig")
    except ValueError as exc:
        raise PointsError(str(exc)) from None
    return parse_points(text, source=str(path))
