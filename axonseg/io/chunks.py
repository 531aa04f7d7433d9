"""The stored pieces of a zarr array, one per write unit (a shard if sharded, else a chunk).

zarr reads a missing piece as the fill value and raises a codec error with no file name for
a damaged one. The checks here name the piece: :func:`missing_units` lists the pieces of a
complete output that are gone (axonseg records which pieces it left unwritten because they
were all zero), :func:`checked_read` turns a failed decode into one line naming the piece
and the array.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Iterable

import numpy as np
import zarr

from axonseg.io.info import VolumeError


class DamagedArrayError(VolumeError):
    """A piece of a zarr array is missing or cannot be decoded; the message names it and the array."""


def write_unit_of(arr: zarr.Array) -> tuple[int, ...]:
    """Shard shape if sharded, else chunk shape: the pieces stored as one file each."""
    return tuple(int(s) for s in (getattr(arr, "shards", None) or arr.chunks))


def unit_grid(arr: zarr.Array) -> tuple[int, ...]:
    return tuple(-(-int(s) // u) for s, u in zip(arr.shape, write_unit_of(arr)))


def empty_units(data: np.ndarray | None, start_zyx: Iterable[int], region_shape: Iterable[int],
                unit: Iterable[int]) -> list[list[int]]:
    """Grid coordinates of the write units of a unit-aligned region that are all zero in ``data``
    (``None``: the whole region is zero, nothing was written)."""
    start, shape, unit = tuple(start_zyx), tuple(region_shape), tuple(unit)
    first = [a // u for a, u in zip(start, unit)]
    counts = [-(-s // u) for s, u in zip(shape, unit)]
    out = []
    for rel in itertools.product(*(range(n) for n in counts)):
        sl = tuple(slice(r * u, min((r + 1) * u, s)) for r, u, s in zip(rel, unit, shape))
        if data is None or not data[sl].any():
            out.append([f + r for f, r in zip(first, rel)])
    return out


def _stored_files(array_dir: Path) -> set[str]:
    found = set()
    for root, _, files in os.walk(array_dir):
        rel = Path(root).relative_to(array_dir)
        for f in files:
            found.add((rel / f).as_posix())
    return found


def missing_units(array_path: str | Path, unwritten: set[tuple[int, ...]]) -> list[str]:
    """Keys of the pieces of ``array_path`` that are neither stored nor in ``unwritten`` (grid coordinates
    of the pieces the writer left out because they were all fill value)."""
    array_path = Path(array_path)
    arr = zarr.open_array(str(array_path), mode="r")
    stored = _stored_files(array_path)
    missing = []
    for coords in itertools.product(*(range(n) for n in unit_grid(arr))):
        if coords in unwritten:
            continue
        key = arr.metadata.encode_chunk_key(coords)
        if key not in stored:
            missing.append(key)
    return missing


def _path_of(arr: zarr.Array) -> str:
    root = getattr(arr.store, "root", None)
    return str(Path(root) / arr.path) if root is not None else str(arr.store_path)


def checked_read(arr: zarr.Array, selection) -> np.ndarray:
    """``arr[selection]``; a piece that cannot be decoded raises :class:`DamagedArrayError` naming it.

    The failing piece is found by reading the selection's pieces one at a time (only after a failure).
    """
    try:
        return np.asarray(arr[selection])
    except (MemoryError, OSError):  # OSError names its file (permissions, disk) by itself
        raise
    except Exception as exc:  # numcodecs/zstd/blosc raise many types for damaged bytes
        raise _damaged(arr, selection, exc) from exc


def _damaged(arr: zarr.Array, selection, exc: Exception) -> DamagedArrayError:
    unit = write_unit_of(arr)
    sl = selection if isinstance(selection, tuple) else (selection,)
    sl = tuple(sl) + (slice(None),) * (arr.ndim - len(sl))
    ranges = []
    for s, u, n in zip(sl, unit, arr.shape):
        a, b, _ = s.indices(n) if isinstance(s, slice) else (int(s), int(s) + 1, 1)
        ranges.append(range(a // u, max(a // u + 1, -(-b // u))))
    for coords in itertools.product(*ranges):
        piece = tuple(slice(c * u, min((c + 1) * u, n)) for c, u, n in zip(coords, unit, arr.shape))
        try:
            arr[piece]
        except Exception as inner:  # the same codec errors as above
            key = arr.metadata.encode_chunk_key(coords)
            return DamagedArrayError(f"{_path_of(arr)}: chunk {key} cannot be read ({type(inner).__name__}: "
                                     f"{_first_line(inner)}): the file is damaged (cut short or changed); "
                                     "restore it or recompute this output")
    return DamagedArrayError(f"{_path_of(arr)}: cannot be read ({type(exc).__name__}: {_first_line(exc)})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


class CheckedArray:
    """A read-only zarr array whose reads go through :func:`checked_read` (for dask and region readers)."""

    def __init__(self, arr: zarr.Array):
        self.array = arr
        self.shape, self.dtype, self.ndim, self.chunks = arr.shape, arr.dtype, arr.ndim, arr.chunks

    def __getitem__(self, selection) -> np.ndarray:
        return checked_read(self.array, selection)
