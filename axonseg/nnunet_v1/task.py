"""Write a small nnU-Net v1 raw task from in-memory cases, atomically (demo, tests)."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable

import numpy as np

from axonseg.cubes.task_writer import dataset_json, write_case, write_json
from axonseg.io.atomic import make_staging_dir


def write_raw_task(task_dir: Path, training: Iterable[tuple[str, np.ndarray, np.ndarray]],
                   test: Iterable[tuple[str, np.ndarray]] = (),
                   spacing_zyx_um=(1.0, 1.0, 1.0)) -> Path:
    """Write ``task_dir`` (e.g. ``.../nnUNet_raw_data/Task901_Demo``): imagesTr, labelsTr, imagesTs.

    The task is built in a temporary sibling folder and moved into place at the end, so a
    failure leaves nothing half-written. ``task_dir`` must not exist.
    """
    task_dir = Path(task_dir)
    if task_dir.exists():
        raise FileExistsError(f"{task_dir}: task folder exists already")
    task_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_staging_dir(task_dir.parent, f".{task_dir.name}.")
    try:
        for sub in ("imagesTr", "labelsTr", "imagesTs"):
            (tmp / sub).mkdir()
        train_ids, test_ids = [], []
        for case, image, label in training:
            write_case(tmp, case, image, label, spacing_zyx_um)
            train_ids.append(case)
        for case, image in test:
            write_case(tmp, case, image, None, spacing_zyx_um, test=True)
            test_ids.append(case)
        write_json(tmp / "dataset.json", dataset_json(task_dir.name, train_ids, test_ids,
                                                      "synthetic tubes made by axonseg"))
        tmp.rename(task_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return task_dir
