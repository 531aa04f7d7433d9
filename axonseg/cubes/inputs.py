"""Find and check create_data's input cubes before anything is written.

Every problem is a :class:`CreateDataError` naming the file or folder: unequal numbers of
volumes and labels, unpaired ids, a missing or empty artifacts folder while cutmix is on,
cubes smaller than the patch, non-3-D arrays, label values other than {0, 1} / {0, 255}.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from axonseg.annotate.folders import list_cubes
from axonseg.cubes.settings import CreateDataSettings
from axonseg.errors import AxonsegError

logger = logging.getLogger(__name__)


class CreateDataError(AxonsegError, ValueError):
    """create_data refused its input; the message names the file and the problem."""


@dataclass(frozen=True)
class Inputs:
    """Checked input files, each list sorted by cube id."""

    volumes: tuple[tuple[int, Path], ...]
    labels: tuple[tuple[int, Path], ...]
    artifacts: tuple[tuple[int, Path], ...]
    source_volumes: tuple[Path, ...]
    source_artifacts: tuple[Path, ...]
    tests: tuple[tuple[int, Path], ...]


def _cubes(folder: Path | None, what: str, required: bool) -> dict[int, Path]:
    if folder is None or not folder.is_dir():
        if required:
            raise CreateDataError(f"{folder}: {what} folder does not exist")
        return {}
    try:
        cubes = list_cubes(folder)
    except ValueError as err:
        raise CreateDataError(str(err)) from None
    if required and not cubes:
        raise CreateDataError(f"{folder}: {what} folder has no volume-<id>.tiff / label-<id>.tiff files")
    return cubes


def _check_cube(path: Path, patch_zyx, what: str) -> np.ndarray:
    from axonseg.io import read_tiff

    array = read_tiff(path)
    if array.ndim != 3:
        raise CreateDataError(f"{path}: {what} must be a 3-D array (z, y, x), got shape {array.shape}")
    if patch_zyx is not None and any(s < p for s, p in zip(array.shape, patch_zyx)):
        raise CreateDataError(f"{path}: {what} of shape {array.shape} is smaller than the patch {tuple(patch_zyx)}")
    return array


def gather_inputs(settings: CreateDataSettings) -> Inputs:
    """List and check all inputs of ``settings`` (reads each cube once, one at a time)."""
    patch = settings.patch_size_zyx
    volumes = _cubes(settings.folder("volumes"), "volumes", required=True)
    labels = _cubes(settings.folder("labels"), "labels", required=True)
    if len(volumes) != len(labels):
        raise CreateDataError(f"{settings.folder('volumes')} has {len(volumes)} volumes but "
                              f"{settings.folder('labels')} has {len(labels)} labels")
    unpaired = sorted(set(volumes) ^ set(labels))
    if unpaired:
        raise CreateDataError(f"ids without a partner between {settings.folder('volumes')} and "
                              f"{settings.folder('labels')}: {unpaired}")
    seen: dict[str, Path] = {}  # content digest -> first cube: a copy would sit in two folds
    for i in sorted(volumes):
        volume = _check_cube(volumes[i], patch, "volume")
        digest = hashlib.sha256(np.ascontiguousarray(volume).tobytes() + str(volume.shape).encode()).hexdigest()
        if digest in seen:
            raise CreateDataError(f"{volumes[i]}: the same cube as {seen[digest]} (identical voxels); a copy "
                                  "under another id could land in both training and validation: remove one")
        seen[digest] = volumes[i]
        label = _check_cube(labels[i], None, "label")
        if label.shape != volume.shape:
            raise CreateDataError(f"{labels[i]}: label shape {label.shape} differs from volume "
                                  f"{volumes[i].name} shape {volume.shape}")
        values = set(np.unique(label).tolist())
        if not (values <= {0, 1} or values <= {0, 255}):
            raise CreateDataError(f"{labels[i]}: unexpected label values {sorted(values)[:10]}; "
                                  "expected {0, 1} or {0, 255}")
    need_artifacts = settings.cutmix
    artifacts = _cubes(settings.folder("artifacts"), "artifacts (needed by cutmix)", required=need_artifacts)
    for path in artifacts.values():
        _check_cube(path, patch, "artifact cube")
    source_volumes: list[Path] = []
    source_artifacts: list[Path] = []
    if settings.histogram_matching:
        source_volumes = list(_cubes(settings.folder("source_volumes"),
                                     "histogram reference volumes", required=True).values())
        if artifacts and settings.artifact_samples_per_cube > 0:
            source_artifacts = list(_cubes(settings.folder("source_artifacts"),
                                           "histogram reference artifacts", required=True).values())
        for path in source_volumes + source_artifacts:
            _check_cube(path, None, "histogram reference")
    tests: dict[int, Path] = {}
    if settings.test_volumes_dir is not None:
        tests = _cubes(Path(settings.test_volumes_dir), "test volumes", required=True)
        for path in tests.values():
            _check_cube(path, None, "test volume")
    logger.info("inputs: %d labelled cubes, %d artifact cubes, %d + %d histogram references, %d tests",
                len(volumes), len(artifacts), len(source_volumes), len(source_artifacts), len(tests))
    return Inputs(
        volumes=tuple(sorted(volumes.items())), labels=tuple(sorted(labels.items())),
        artifacts=tuple(sorted(artifacts.items())), source_volumes=tuple(source_volumes),
        source_artifacts=tuple(source_artifacts), tests=tuple(sorted(tests.items())),
    )
