"""Leak-free cross-validation folds: all cases derived from one source cube share a fold.

nnU-Net v1 splits cases at random (``KFold`` over case ids) unless
``<nnUNet_preprocessed>/Task<id>_<name>/splits_final.pkl`` exists: a list of dicts
``{'train': array of case ids, 'val': array of case ids}``, one per fold. Every crop,
histogram-matched copy and cutmix copy of a cube is a *group*; groups are dealt to folds so
no fold validates on copies of its training cubes. ``nnUNet_plan_and_preprocess`` keeps a
``splits_final.pkl`` already in that folder, so it can be written before or after planning.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Mapping

import numpy as np

logger = logging.getLogger(__name__)

SPLITS_FILE = "splits_final.pkl"


def group_folds(group_sizes: Mapping[str, int], num_folds: int, seed: int,
                kinds: Mapping[str, str] | None = None) -> dict[str, int]:
    """Assign each group to a fold, balancing case counts.

    Groups of each kind (e.g. ``"axon"`` cubes first, then ``"artifact"`` cubes) are shuffled
    with ``seed`` and each goes to the fold with the fewest cases so far (lowest index on
    ties). Raises ValueError with fewer groups than folds.
    """
    if len(group_sizes) < num_folds:
        raise ValueError(
            f"{num_folds}-fold cross-validation without leaks needs at least {num_folds} source "
            f"cubes (axon + artifact); got {len(group_sizes)}. Add cubes or lower num_folds."
        )
    kinds = kinds or {g: "" for g in group_sizes}
    rng = np.random.default_rng(seed)
    counts = np.zeros(num_folds, dtype=np.int64)
    folds: dict[str, int] = {}
    for kind in sorted(set(kinds.values())):
        groups = sorted(g for g in group_sizes if kinds[g] == kind)
        for idx in rng.permutation(len(groups)):
            fold = int(np.argmin(counts))
            folds[groups[idx]] = fold
            counts[fold] += group_sizes[groups[idx]]
    if np.any(counts == 0):
        raise ValueError(f"a fold got no cases (cases per fold {counts.tolist()})")
    return folds


def make_splits(case_groups: Mapping[str, str], group_fold: Mapping[str, int], num_folds: int
                ) -> list[OrderedDict]:
    """nnU-Net v1 splits: for each fold, sorted train and val case-id arrays."""
    splits = []
    for fold in range(num_folds):
        val = sorted(c for c, g in case_groups.items() if group_fold[g] == fold)
        train = sorted(c for c, g in case_groups.items() if group_fold[g] != fold)
        splits.append(OrderedDict(train=np.array(train), val=np.array(val)))
    return splits


def write_splits(path: Path, splits: list) -> Path:
    """Pickle ``splits`` (protocol 4, deterministic bytes)."""
    from axonseg.io.files import write_pickle

    return write_pickle(Path(path), splits, protocol=4)


def install_splits(task_dir: str | Path, preprocessed_base: str | Path, overwrite: bool = False) -> Path:
    """Copy ``<task_dir>/splits_final.pkl`` to ``<preprocessed_base>/<task folder name>/``.

    Run it before or after ``nnUNet_plan_and_preprocess``; the folder is created if missing.
    """
    from axonseg.io.atomic import atomic_file
    from axonseg.io.files import read_bytes

    task_dir = Path(task_dir)
    source = task_dir / SPLITS_FILE
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no splits file; was this task made by create_data?")
    target_dir = Path(preprocessed_base) / task_dir.name
    target = target_dir / SPLITS_FILE
    data = read_bytes(source)
    if target.exists() and not overwrite and read_bytes(target) != data:
        raise FileExistsError(f"{target}: a different splits file exists; pass --overwrite to replace it")
    target_dir.mkdir(parents=True, exist_ok=True)
    with atomic_file(target, "wb") as f:
        f.write(data)
    logger.info("wrote %s", target)
    return target
