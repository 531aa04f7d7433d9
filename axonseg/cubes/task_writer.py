"""Write nnU-Net v1 raw-task files: NIfTI cases with their voxel spacing, and dataset.json.

nnU-Net v1 reads cases with SimpleITK, so we write them with SimpleITK: the array is (z, y, x)
and the spacing is set as (x, y, z) in micrometres (nnU-Net only uses spacing ratios). The
gzip stream SimpleITK writes carries no timestamp, so the same arrays give the same bytes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from axonseg.io.nifti import write_nifti  # noqa: F401  (re-exported: cases are NIfTI)
from axonseg.nnunet_v1.sparse_loss import IGNORE_LABEL

MODALITY = "LSFM"  # anything but "CT": nnU-Net v1 then z-scores each case


def write_case(task_dir: Path, case_id: str, image_zyx: np.ndarray, label_zyx: np.ndarray | None,
               spacing_zyx: Sequence[float], test: bool = False) -> None:
    """Write ``imagesTr/<case>_0000.nii.gz`` (float32) and ``labelsTr/<case>.nii.gz`` (uint8).

    With ``test=True`` the image goes to ``imagesTs`` and there is no label. Label values are
    0 (background), 1 (axon) and 255 (not annotated: ignored by the ``AxonsegTrainerV2*`` trainers).
    """
    images = task_dir / ("imagesTs" if test else "imagesTr")
    write_nifti(images / f"{case_id}_0000.nii.gz", image_zyx.astype(np.float32), spacing_zyx)
    if label_zyx is not None:
        values = np.unique(label_zyx)
        if not np.isin(values, (0, 1, IGNORE_LABEL)).all():
            raise ValueError(f"{case_id}: label values {values.tolist()} are not in {{0, 1, {IGNORE_LABEL}}}")
        write_nifti(task_dir / "labelsTr" / f"{case_id}.nii.gz", label_zyx.astype(np.uint8), spacing_zyx)


def dataset_json(task_folder_name: str, training_ids: Sequence[str], test_ids: Sequence[str],
                 description: str = "", modality: str = MODALITY) -> dict:
    """nnU-Net v1 ``dataset.json`` for a one-channel LSFM task with labels background/axon."""
    return {
        "name": task_folder_name,
        "description": description or "axon segmentation cubes made by axonseg create_data",
        "tensorImageSize": "4D",
        "reference": "D-LMBmap (Li et al., Nature Methods 2023) data preparation, via axonseg",
        "licence": "see source data",
        "release": "1.0",
        "modality": {"0": modality},
        "labels": {"0": "background", "1": "axon"},
        "numTraining": len(training_ids),
        "numTest": len(test_ids),
        "training": [{"image": f"./imagesTr/{c}.nii.gz", "label": f"./labelsTr/{c}.nii.gz"}
                     for c in sorted(training_ids)],
        "test": [f"./imagesTs/{c}.nii.gz" for c in sorted(test_ids)],
    }


def write_json(path: Path, data) -> None:
    """Write JSON with sorted keys and a trailing newline (deterministic bytes)."""
    from axonseg.io.files import write_json as _write_json

    _write_json(path, data, indent=2, sort_keys=True)
