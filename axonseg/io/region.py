"""Read sub-regions of a volume fast: zarr directly where possible, dask without thread overhead otherwise.

Block-wise code reads thousands of small regions; going through a dask graph for each
costs more than the read itself. :func:`open_region_reader` returns the zarr array of a
zarr / OME-Zarr input (level 0) and, for other formats, the lazy dask array computed
synchronously per region.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from axonseg.io.volume import VolumeInfo, open_volume


class RegionReader:
    """``reader[z0:z1, y0:y1, x0:x1] -> np.ndarray``; ``shape`` and ``dtype`` like an array."""

    def __init__(self, source, info: VolumeInfo):
        self._source = source
        self.info = info
        self.shape = tuple(info.shape_zyx)
        self.dtype = np.dtype(info.dtype)
        self.ndim = 3

    def __getitem__(self, slices) -> np.ndarray:
        part = self._source[slices]
        if hasattr(part, "compute"):
            return np.asarray(part.compute(scheduler="synchronous"))
        return np.asarray(part)


def open_region_reader(path: str | Path, dataset: str | None = None) -> RegionReader:
    """Open ``path`` (any format :func:`open_volume` reads) for region reads."""
    arr, info = open_volume(path, dataset=dataset)
    if info.format in ("zarr", "ome-zarr"):
        import zarr

        node = zarr.open(str(path), mode="r")
        if isinstance(node, zarr.Group):
            attrs = dict(node.attrs)
            ms = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
            node = node[ms[0]["datasets"][0]["path"]]
        from axonseg.io.chunks import CheckedArray

        return RegionReader(CheckedArray(node), info)
    return RegionReader(arr, info)


_OPENED: dict[tuple, RegionReader] = {}


def cached_region_reader(path: str | Path, dataset: str | None = None) -> RegionReader:
    """:func:`open_region_reader`, opened once per process (block tasks on Dask workers reopen the
    input by path, once each)."""
    key = (str(path), dataset)
    if key not in _OPENED:
        _OPENED[key] = open_region_reader(path, dataset)
    return _OPENED[key]
