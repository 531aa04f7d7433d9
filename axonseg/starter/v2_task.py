"""Write starter v2's training cases as an nnU-Net v1 raw task (``noNorm``: already normalised)."""
from __future__ import annotations

import logging
import multiprocessing
import shutil
from pathlib import Path

import numpy as np

from axonseg.cubes.task_writer import dataset_json, write_case, write_json
from axonseg.starter import v2_cases

logger = logging.getLogger(__name__)

_ROWS: v2_cases.TrainingRows | None = None


def _one(args: tuple[int, str, int, Path]) -> tuple[str, str, int]:
    index, kind, seed, task_dir = args
    rng = np.random.default_rng([seed, index])  # each case its own stream: any worker count, same cases
    image, label, kind = v2_cases.make_case(_ROWS, rng, kind)
    case_id = f"starter2_{index:04d}"
    write_case(task_dir, case_id, image, label, (1.0, 1.0, 1.0))
    return case_id, kind, int((label == 1).sum())


def write_v2_task(volume_zyx: np.ndarray, task_dir: Path, n_cases: int, seed: int = 0, workers: int = 2) -> Path:
    """``n_cases`` cases into ``task_dir`` (built under ``.partial`` and renamed when complete)."""
    global _ROWS
    tmp = task_dir.with_name(task_dir.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    for sub in ("imagesTr", "labelsTr"):
        (tmp / sub).mkdir(parents=True)
    _ROWS = v2_cases.TrainingRows(volume_zyx)
    logger.info("training rows: tissue level %.4g, real-fibre ignore zone %.2f %%", _ROWS.level,
                100 * _ROWS.ignore.mean())
    kinds = v2_cases.draw_kinds(n_cases, np.random.default_rng(seed))
    jobs = [(i, k, seed, tmp) for i, k in enumerate(kinds)]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            done = pool.map(_one, jobs, chunksize=4)
    else:
        done = [_one(j) for j in jobs]
    ids = [c for c, _, _ in done]
    write_json(tmp / "dataset.json", dataset_json(task_dir.name, ids, [], modality="noNorm",
                                                  description="axonseg starter v2: simulated axons in real "
                                                              "light-sheet crops (rows y < 300), hard "
                                                              "negatives; tissue_ratio-normalised; 255 = ignore"))
    write_json(tmp / "cases.json", {c: {"kind": k, "axon_voxels": n} for c, k, n in done})
    if task_dir.exists():
        shutil.rmtree(task_dir)
    tmp.rename(task_dir)
    return task_dir
