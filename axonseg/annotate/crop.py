"""Crop training cubes centred on points of a whole-brain volume.

A cube of size ``s`` centred on voxel ``c`` spans ``[c - s // 2, c - s // 2 + s)`` on each
axis. A cube that leaves the volume is refused (:class:`CubeOutsideVolumeError`) unless a
padding mode is asked for; indices never wrap around.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np
from axonseg.errors import AxonsegError

logger = logging.getLogger(__name__)

PAD_MODES = ("constant", "edge", "reflect")


class CubeOutsideVolumeError(AxonsegError, ValueError):
    """A requested cube does not lie inside the volume and no padding was asked for."""


def cube_bounds(center_zyx: Sequence[int], size_zyx: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and stop (exclusive) voxel indices of a cube centred on a voxel."""
    center = np.asarray(center_zyx, dtype=np.int64)
    size = np.asarray(size_zyx, dtype=np.int64)
    if center.shape != (3,) or size.shape != (3,):
        raise ValueError(f"center and size must have 3 values (z, y, x); got {center_zyx}, {size_zyx}")
    if np.any(size < 1):
        raise ValueError(f"cube size (--size) must be positive, got {[int(v) for v in size]}")
    start = center - size // 2
    return start, start + size


def crop_cube(volume, center_zyx: Sequence[int], size_zyx: Sequence[int],
              pad_mode: str | None = None, pad_value: float = 0) -> np.ndarray:
    """Cut one cube out of a 3-D array (numpy or dask), centred on ``center_zyx``.

    Parameters
    ----------
    volume
        3-D array, axis order z, y, x. Only the cube region is read from a dask array.
    center_zyx
        Centre voxel (0-based).
    size_zyx
        Cube size in voxels.
    pad_mode
        ``None`` (default): refuse a cube that leaves the volume. Otherwise the part outside
        the volume is filled by ``numpy.pad`` with this mode: ``"constant"`` (``pad_value``),
        ``"edge"`` or ``"reflect"``.
    pad_value
        Fill value for ``pad_mode="constant"``.

    Raises
    ------
    CubeOutsideVolumeError
        If the cube leaves the volume and ``pad_mode`` is None, or its centre is outside it.
    """
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3-D (z, y, x), got shape {volume.shape}")
    if pad_mode is not None and pad_mode not in PAD_MODES:
        raise ValueError(f"pad_mode must be None or one of {PAD_MODES}, got {pad_mode!r}")
    shape = np.asarray(volume.shape, dtype=np.int64)
    start, stop = cube_bounds(center_zyx, size_zyx)
    inside = bool(np.all(start >= 0) and np.all(stop <= shape))
    if not inside:
        where = (f"cube z,y,x [{start[0]}:{stop[0]}, {start[1]}:{stop[1]}, {start[2]}:{stop[2]}] "
                 f"around point {tuple(int(c) for c in center_zyx)} leaves the volume of shape "
                 f"{tuple(int(s) for s in shape)}")
        if pad_mode is None:
            raise CubeOutsideVolumeError(f"{where}; move the point or ask for padding")
        if np.any(np.asarray(center_zyx) < 0) or np.any(np.asarray(center_zyx) >= shape):
            raise CubeOutsideVolumeError(f"{where}; its centre is outside the volume, refusing to pad")
    lo = np.clip(start, 0, shape)
    hi = np.clip(stop, 0, shape)
    region = np.asarray(volume[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]])
    if inside:
        return np.array(region, copy=True)
    pad_width = [(int(lo[i] - start[i]), int(stop[i] - hi[i])) for i in range(3)]
    if pad_mode == "reflect" and any(max(p) >= region.shape[i] for i, p in enumerate(pad_width)):
        raise CubeOutsideVolumeError(
            f"{where}; too far outside to reflect ({pad_width} vs region {region.shape}); use 'edge'"
        )
    kwargs = {"constant_values": pad_value} if pad_mode == "constant" else {}
    logger.warning("padding cube around z,y,x %s by %s (%s)", tuple(int(c) for c in center_zyx),
                   pad_width, pad_mode)
    return np.pad(region, pad_width, mode=pad_mode, **kwargs)


def crop_cubes_to_folder(volume_path: str | Path, points_path: str | Path, out_dir: str | Path,
                         size_zyx: Sequence[int] = (150, 150, 150),
                         artifact_points_path: str | Path | None = None,
                         pad_mode: str | None = None, first_id: int = 1000,
                         overwrite: bool = False) -> list[Path]:
    """Crop cubes for every point and write ``out_dir/volumes/volume-<id>.tiff``.

    Artifact points (optional) give ``out_dir/artifacts/volume-<id>.tiff``. Ids count up
    from ``first_id`` in the order of each point list. Every point is checked before any
    file is written, and files are written to a temporary folder first, so a refused point
    leaves nothing behind.

    Returns
    -------
    list[Path]
        The written cube files.

    Raises
    ------
    CubeOutsideVolumeError
        Listing every point whose cube leaves the volume (without padding) or whose centre is
        outside it.
    FileExistsError
        If a cube file exists and ``overwrite`` is False.
    OutputTargetError
        If the output folder is, holds or lies inside an input, or a cube file there was not
        written by axonseg.
    """
    from axonseg.annotate.points import PointsError, read_points
    from axonseg.io import open_volume, write_tiff

    from axonseg.io.atomic import check_apart, check_replace_files, staging_folder
    from axonseg.io.tiff import is_axonseg_tiff

    out_dir = Path(out_dir)
    check_apart([out_dir], [volume_path, points_path, artifact_points_path])
    volume, info = open_volume(volume_path)
    jobs: list[tuple[Path, np.ndarray]] = []
    lists = [("volumes", points_path)]
    if artifact_points_path is not None:
        lists.append(("artifacts", artifact_points_path))
    errors: list[str] = []
    first_list: dict[tuple[int, ...], Path] = {}
    for sub, path in lists:
        points = read_points(path)
        for point in map(tuple, points.tolist()):
            if point in first_list:
                raise PointsError(f"{path}: point (z, y, x) {point} is also in {first_list[point]}; the same cube "
                                  "would be both an axon and an artifact cube: remove one")
        first_list.update({tuple(p): Path(path) for p in points.tolist()})
        for k, point in enumerate(points):
            target = out_dir / sub / f"volume-{first_id + k}.tiff"
            start, stop = cube_bounds(point, size_zyx)
            outside = np.any(start < 0) or np.any(stop > np.asarray(info.shape_zyx))
            if np.any(point >= np.asarray(info.shape_zyx)):
                errors.append(f"{path}: point {k + 1} (z,y,x {tuple(int(p) for p in point)}) lies "
                              f"outside volume {info.path} of shape {info.shape_zyx}")
            elif outside and pad_mode is None:
                errors.append(f"{path}: point {k + 1} (z,y,x {tuple(int(p) for p in point)}): cube "
                              f"[{start[0]}:{stop[0]}, {start[1]}:{stop[1]}, {start[2]}:{stop[2]}] "
                              f"leaves volume {info.path} of shape {info.shape_zyx}")
            jobs.append((target, point))
    check_replace_files([t for t, _ in jobs], overwrite, is_axonseg_tiff)
    if errors:
        raise CubeOutsideVolumeError(
            "refusing to crop (nothing written; padding, if asked for, only fills cubes whose "
            "centre is inside the volume):\n  " + "\n  ".join(errors)
        )
    written = []
    # .cubes.partial-* under a lock: a killed run's staging folder is removed by the next one
    with staging_folder(out_dir, "cubes") as tmp:
        staged = []
        for target, point in jobs:
            cube = crop_cube(volume, point, size_zyx, pad_mode=pad_mode)
            tmp_path = Path(tmp) / target.parent.name / target.name
            tmp_path.parent.mkdir(exist_ok=True)
            write_tiff(tmp_path, cube, info.voxel_size_um)
            staged.append((tmp_path, target))
            logger.info("cropped %s around z,y,x %s", target.name, tuple(int(p) for p in point))
        for tmp_path, target in staged:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(tmp_path), str(target))
            written.append(target)
    return written
