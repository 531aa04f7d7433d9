"""Write chunked zarr v3 / OME-Zarr (NGFF 0.5) volumes: create, write regions, build pyramids.

An OME-Zarr here is a zarr v3 group with arrays ``0``, ``1``, ... (level 0 full
resolution, each further level 2x smaller per axis) and NGFF 0.5 ``ome.multiscales``
metadata with the voxel size in micrometres, which napari (napari-ome-zarr) and
Fiji/BigDataViewer read. ``axonseg.io.open_volume`` opens it back.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import zarr

logger = logging.getLogger(__name__)

AXES = ("z", "y", "x")


def multiscales_metadata(name: str, voxel_size_um: Sequence[float], num_levels: int,
                         downsample: str = "mean") -> dict:
    """NGFF 0.5 ``ome`` attributes for ``num_levels`` levels, each 2x coarser than the previous."""
    datasets = []
    for level in range(num_levels):
        f = 2 ** level
        datasets.append({"path": str(level), "coordinateTransformations": [
            {"type": "scale", "scale": [float(v) * f for v in voxel_size_um]}]})
    return {"ome": {"version": "0.5", "multiscales": [{
        "name": name,
        "axes": [{"name": a, "type": "space", "unit": "micrometer"} for a in AXES],
        "datasets": datasets,
        "type": downsample,
        "metadata": {"method": f"2x2x2 {downsample} (axonseg)"},
    }]}}


def num_pyramid_levels(shape_zyx: Sequence[int], max_levels: int, min_side: int = 32) -> int:
    """Levels to build: at most ``max_levels``, stopping before any axis gets below ``min_side``."""
    levels, shape = 1, list(shape_zyx)
    while levels < max_levels and min(s // 2 for s in shape) >= min_side:
        shape = [s // 2 for s in shape]
        levels += 1
    return levels


def create_ome_zarr(path: str | Path, shape_zyx: Sequence[int], chunk_shape_zyx: Sequence[int], dtype,
                    voxel_size_um: Sequence[float], num_levels: int, name: str,
                    attributes: dict | None = None, downsample: str = "mean") -> zarr.Group:
    """Create an empty OME-Zarr group with level 0 and ``num_levels - 1`` (empty) pyramid levels.

    ``path`` must not exist. Level ``k`` has shape ``shape // 2**k`` (odd voxels trimmed).
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: exists")
    attrs = multiscales_metadata(name, voxel_size_um, num_levels, downsample)
    attrs.update(attributes or {})
    group = zarr.open_group(str(path), mode="w-", zarr_format=3, attributes=attrs)
    shape = tuple(int(s) for s in shape_zyx)
    for level in range(num_levels):
        lshape = tuple(max(1, s // 2 ** level) for s in shape)
        chunks = tuple(min(c, s) for c, s in zip(chunk_shape_zyx, lshape))
        group.create_array(str(level), shape=lshape, chunks=chunks, dtype=dtype, fill_value=0,
                           dimension_names=AXES)
    return group


def open_level(path: str | Path, level: int = 0, mode: str = "r") -> zarr.Array:
    """Array ``level`` of an OME-Zarr group."""
    return zarr.open_array(str(Path(path) / str(level)), mode=mode)


def write_region(path: str | Path, slices_zyx: tuple[slice, ...], data: np.ndarray, level: int = 0) -> None:
    """Write ``data`` into ``slices_zyx`` of level ``level`` (callers keep regions chunk-aligned)."""
    arr = open_level(path, level, mode="r+")
    arr[slices_zyx] = data


def _downsample_block(block: np.ndarray, how: str) -> np.ndarray:
    z, y, x = (s // 2 * 2 for s in block.shape)
    b = block[:z, :y, :x].reshape(z // 2, 2, y // 2, 2, x // 2, 2)
    if how == "max":
        return b.max(axis=(1, 3, 5))
    out = b.mean(axis=(1, 3, 5), dtype=np.float32)
    return np.round(out).astype(block.dtype) if np.issubdtype(block.dtype, np.integer) else out.astype(block.dtype)


def build_pyramid(path: str | Path, how: str = "mean") -> int:
    """Fill levels 1.. of an OME-Zarr group from level 0, level by level, chunk by chunk.

    Deterministic (same bytes every time); memory bounded by one chunk of the source.
    Returns the number of levels written.
    """
    group = zarr.open_group(str(path), mode="r+")
    levels = sorted(int(k) for k in group.array_keys())
    for level in levels[1:]:
        src, dst = group[str(level - 1)], group[str(level)]
        ranges = [range(0, s, c) for s, c in zip(dst.shape, dst.chunks)]
        for z in ranges[0]:
            for y in ranges[1]:
                for x in ranges[2]:
                    stop = [min(a + c, s) for a, c, s in zip((z, y, x), dst.chunks, dst.shape)]
                    block = src[2 * z:2 * stop[0], 2 * y:2 * stop[1], 2 * x:2 * stop[2]]
                    dst[z:stop[0], y:stop[1], x:stop[2]] = _downsample_block(block, how)
    return len(levels)
