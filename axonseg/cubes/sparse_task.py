"""Write an nnU-Net v1 raw task of sparsely annotated cubes for the ``AxonsegTrainerV2*`` trainers."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from axonseg.annotate.sparse import annotated_fraction, keep_slices, to_training_labels
from axonseg.cubes.task_writer import dataset_json, write_case, write_json
from axonseg.io import read_tiff
from axonseg.starter.v2_cases import volume_level

MARKER = "axonseg-sparse-task.json"


def _pairs(volumes: Path, labels: Path) -> list[tuple[str, Path, Path]]:
    if not volumes.is_dir() or not labels.is_dir():
        raise FileNotFoundError(f"{volumes if not volumes.is_dir() else labels}: no such folder")
    pairs = []
    for v in sorted(volumes.glob("volume-*.tif*")):
        cid = v.stem.split("-", 1)[1]
        found = sorted(labels.glob(f"label-{cid}.tif*"))
        if found:
            pairs.append((cid, v, found[0]))
    if not pairs:
        raise ValueError(f"{labels}: no label-<id>.tiff matches a volume-<id>.tiff of {volumes}")
    return pairs


def write_sparse_task(volumes: Path, labels: Path, raw_data_base: Path, task_id: int, task_name: str,
                      convention: str = "paint", slices_every: int | None = None, overwrite: bool = False,
                      validation: list[str] | None = None) -> Path:
    """``raw_data_base/nnUNet_raw_data/TaskXXX_name``: tissue_ratio-normalised images, 0/1/255 labels,
    modality ``noNorm``. Built in a hidden folder and renamed; an existing task is replaced only with
    ``overwrite`` and only if axonseg wrote it. ``validation``: cube ids validated in fold 0 (the
    rest trains); ``splits_final.pkl`` goes into the task (``axonseg write-splits`` installs it)."""
    task_dir = Path(raw_data_base) / "nnUNet_raw_data" / f"Task{task_id:03d}_{task_name}"
    for src in (Path(volumes), Path(labels)):
        r, t = src.resolve(), task_dir.resolve()
        if r == t or t in r.parents or r in t.parents:
            raise ValueError(f"{task_dir}: the task folder would be, hold or lie inside the input {src}")
    if task_dir.exists():
        if not overwrite:
            raise FileExistsError(f"{task_dir}: exists; pass --overwrite to replace it")
        if not (task_dir / MARKER).is_file():
            raise FileExistsError(f"{task_dir}: not written by axonseg sparse-task ({MARKER} missing); not replaced")
    tmp = task_dir.with_name("." + task_dir.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "imagesTr").mkdir(parents=True)
    (tmp / "labelsTr").mkdir()
    cases = {}
    try:
        for cid, vpath, lpath in _pairs(Path(volumes), Path(labels)):
            image = read_tiff(vpath).astype(np.float32)
            lab = read_tiff(lpath)
            if lab.shape != image.shape:
                raise ValueError(f"{lpath}: shape {lab.shape} differs from {vpath.name}'s {image.shape}")
            lab = to_training_labels(lab, convention, str(lpath))
            if slices_every:
                lab = keep_slices(lab, slices_every)
            level = volume_level(image)
            write_case(tmp, f"sparse_{cid}", image / np.float32(level), lab, (1.0, 1.0, 1.0))
            cases[f"sparse_{cid}"] = {"volume": str(vpath), "labels": str(lpath), "tissue_level": level,
                                      "annotated_fraction": round(annotated_fraction(lab), 5),
                                      "axon_voxels": int((lab == 1).sum())}
        write_json(tmp / "dataset.json", dataset_json(task_dir.name, list(cases), [], modality="noNorm",
                                                      description="sparse annotations (255 = not annotated), "
                                                                  "tissue_ratio-normalised, by axonseg sparse-task"))
        if validation:
            _write_validation_split(tmp, list(cases), [f"sparse_{v}" for v in validation])
        write_json(tmp / MARKER, {"convention": convention, "slices_every": slices_every, "cases": cases,
                                  "validation": validation})
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if task_dir.exists():
        shutil.rmtree(task_dir)
    task_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(task_dir)
    return task_dir


def _write_validation_split(task: Path, case_ids: list[str], val: list[str]) -> None:
    from axonseg.cubes.folds import SPLITS_FILE, make_splits, write_splits

    missing = sorted(set(val) - set(case_ids))
    if missing:
        raise ValueError(f"--validation: no cube {', '.join(m.removeprefix('sparse_') for m in missing)} "
                         f"among {', '.join(c.removeprefix('sparse_') for c in case_ids)}")
    if len(val) >= len(case_ids):
        raise ValueError("--validation: at least one cube must remain for training")
    groups = {c: c for c in case_ids}
    write_splits(task / SPLITS_FILE, make_splits(groups, {c: 0 if c in val else 1 for c in case_ids}, 1))
