"""Write an nnU-Net v1 raw task (imagesTr/labelsTr/imagesTs + dataset.json)."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np
import SimpleITK as sitk


def write_nifti(path: Path, array_zyx: np.ndarray, spacing_zyx_um: tuple[float, float, float]) -> None:
    """NIfTI with the voxel spacing set (SimpleITK takes it as x, y, z)."""
    img = sitk.GetImageFromArray(array_zyx)
    img.SetSpacing(tuple(float(s) for s in spacing_zyx_um[::-1]))
    sitk.WriteImage(img, str(path))


def write_raw_task(task_dir: Path, training: Iterable[tuple[str, np.ndarray, np.ndarray]],
                   test: Iterable[tuple[str, np.ndarray]] = (), spacing_zyx_um=(1.0, 1.0, 1.0),
                   modality: str = "LSFM", labels: dict[str, str] | None = None) -> Path:
    """Write ``task_dir`` (e.g. ``.../nnUNet_raw_data/Task901_Demo``) atomically.

    The task is built in a temporary sibling folder and moved into place at the end,
    so a failure leaves nothing half-written. ``task_dir`` must not exist.
    """
    task_dir = Path(task_dir)
    if task_dir.exists():
        raise FileExistsError(f"{task_dir}: task folder exists already")
    task_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{task_dir.name}.", dir=task_dir.parent))
    try:
        for sub in ("imagesTr", "labelsTr", "imagesTs"):
            (tmp / sub).mkdir()
        train_ids, test_ids = [], []
        for case, image, label in training:
            write_nifti(tmp / "imagesTr" / f"{case}_0000.nii.gz", image, spacing_zyx_um)
            write_nifti(tmp / "labelsTr" / f"{case}.nii.gz", label.astype(np.uint8), spacing_zyx_um)
            train_ids.append(case)
        for case, image in test:
            write_nifti(tmp / "imagesTs" / f"{case}_0000.nii.gz", image, spacing_zyx_um)
            test_ids.append(case)
        dataset = {
            "name": task_dir.name.split("_", 1)[-1],
            "description": "written by axonseg",
            "tensorImageSize": "3D",
            "modality": {"0": modality},
            "labels": labels or {"0": "background", "1": "axon"},
            "numTraining": len(train_ids),
            "numTest": len(test_ids),
            "training": [{"image": f"./imagesTr/{c}.nii.gz", "label": f"./labelsTr/{c}.nii.gz"}
                         for c in train_ids],
            "test": [f"./imagesTs/{c}.nii.gz" for c in test_ids],
        }
        (tmp / "dataset.json").write_text(json.dumps(dataset, indent=2))
        tmp.rename(task_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return task_dir
