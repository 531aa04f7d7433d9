"""Folder drivers: rough labels for a folder of cubes, fine labels for a folder of rough masks.

Cubes are named ``volume-<id>.tiff`` and masks ``label-<id>.tiff`` (D-LMBmap's names); masks
are written as uint8 {0, 255} like D-LMBmap's shipped labels. Every input is checked before
anything is written, and outputs are staged in a temporary folder, so an error leaves no
partial output.
"""
from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

from axonseg.annotate.fine import fine_labels
from axonseg.annotate.rough import RoughLabelSettings, rough_mask

logger = logging.getLogger(__name__)

_ID = re.compile(r"^(?:volume|label)-(\d+)\.tiff?$", re.IGNORECASE)


def cube_id(path: Path) -> int:
    """The id in ``volume-<id>.tiff`` / ``label-<id>.tiff``; ValueError naming the file otherwise."""
    match = _ID.match(path.name)
    if not match:
        raise ValueError(f"{path}: expected a name like volume-<id>.tiff or label-<id>.tiff")
    return int(match.group(1))


def list_cubes(folder: Path) -> dict[int, Path]:
    """``{id: path}`` of the ``volume-<id>``/``label-<id>`` TIFFs in ``folder`` (others ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    found: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and _ID.match(path.name):
            i = cube_id(path)
            if i in found:
                raise ValueError(f"{folder}: two files with id {i}: {found[i].name}, {path.name}")
            found[i] = path
    return found


def _map_folder(in_dir: Path, out_dir: Path, fn: Callable[[np.ndarray, Path], np.ndarray],
                overwrite: bool, progress: str | None = None) -> list[Path]:
    """``fn`` over every cube of ``in_dir`` into ``out_dir/label-<id>.tiff``; ``progress``: a progress
    bar's description (``None``: no bar)."""
    from tqdm import tqdm

    from axonseg.io import read_tiff, write_tiff
    from axonseg.io.tiff import tiff_voxel_size_um

    from axonseg.io.atomic import check_apart, check_replace_files, staging_folder
    from axonseg.io.tiff import is_axonseg_tiff

    in_dir, out_dir = Path(in_dir), Path(out_dir)
    cubes = list_cubes(in_dir)
    if not cubes:
        raise FileNotFoundError(f"{in_dir}: no volume-<id>.tiff or label-<id>.tiff files")
    check_apart([out_dir], [in_dir])
    targets = {i: out_dir / f"label-{i}.tiff" for i in cubes}
    check_replace_files(list(targets.values()), overwrite, is_axonseg_tiff)
    written = []
    # .labels.partial-* under a lock: a killed run's staging folder is removed by the next one
    with staging_folder(out_dir, "labels") as tmp:
        for i, path in tqdm(cubes.items(), desc=progress, unit="cube", disable=progress is None):
            cube = read_tiff(path)
            if cube.ndim != 3:
                raise ValueError(f"{path}: expected a 3-D cube (z, y, x), got shape {cube.shape}")
            mask = fn(cube, path)
            write_tiff(Path(tmp) / targets[i].name, mask.astype(np.uint8) * 255, tiff_voxel_size_um(path))
        for i in cubes:
            shutil.move(str(Path(tmp) / targets[i].name), str(targets[i]))
            written.append(targets[i])
    return written


def rough_labels_for_folder(in_dir: str | Path, out_dir: str | Path,
                            settings: RoughLabelSettings = RoughLabelSettings(),
                            overwrite: bool = False, progress: bool = False) -> list[Path]:
    """Write ``out_dir/label-<id>.tiff`` rough masks for every ``in_dir/volume-<id>.tiff`` (``progress``:
    a progress bar, one step per cube)."""
    def one(cube: np.ndarray, path: Path) -> np.ndarray:
        mask, threshold = rough_mask(cube, settings)
        logger.info("%s: threshold %.4g, %d foreground voxels", path.name, threshold, int(mask.sum()))
        return mask

    return _map_folder(Path(in_dir), Path(out_dir), one, overwrite, "rough labels" if progress else None)


def fine_labels_for_folder(in_dir: str | Path, out_dir: str | Path, min_component_voxels: int = 10,
                           overwrite: bool = False) -> list[Path]:
    """Write ``out_dir/label-<id>.tiff`` skeleton labels for every rough mask in ``in_dir``."""
    def one(rough: np.ndarray, path: Path) -> np.ndarray:
        values = np.unique(rough)
        if not set(values.tolist()) <= {0, 1, 255}:
            raise ValueError(f"{path}: rough mask has values {values[:10].tolist()}, expected {{0, 1}} or {{0, 255}}")
        return fine_labels(rough, min_component_voxels)

    return _map_folder(Path(in_dir), Path(out_dir), one, overwrite)
