"""The smallest honest pipeline: synthetic tubes -> nnU-Net task -> plan -> train -> predict.

Every step is nnU-Net v1's own command, run as a user would type it. Steps whose output
exists already are reused, so a second run is fast.
"""
from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from axonseg.nnunet_commands import run_nnunet
from axonseg.nnunet_env import NnunetPaths
from axonseg.nnunet_task import write_raw_task
from axonseg.synthetic import TubeSettings, make_tube_volume

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoSettings:
    task_id: int = 901
    task_name: str = "AxonsegDemo"
    n_train: int = 5
    n_test: int = 2
    size_vox: int = 32
    trainer: str = "MyTrainerAxialSmoke"
    fold: int = 0
    seed: int = 0

    @property
    def task(self) -> str:
        return f"Task{self.task_id:03d}_{self.task_name}"


@dataclass
class StepReport:
    name: str
    seconds: float
    reused: bool


def dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    denom = a.sum() + b.sum()
    return float(2 * (a & b).sum() / denom) if denom else 1.0


def make_cases(s: DemoSettings) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(case id, image, label) of every demo case; the same seed gives the same cases."""
    rng = np.random.default_rng(s.seed)
    shape = (s.size_vox,) * 3
    return [(f"tubes_{i:03d}",) + make_tube_volume(shape, rng, TubeSettings())
            for i in range(s.n_train + s.n_test)]


def run_demo(workdir: Path, s: DemoSettings = DemoSettings()) -> tuple[list[StepReport], dict[str, tuple[float, float]]]:
    """Run the demo in ``workdir``.

    Returns per-step timings and, per held-out case, (Dice of the prediction, Dice of a
    random mask with the same foreground fraction) against the true tubes.
    """
    paths = NnunetPaths.under(workdir)
    paths.make_dirs()
    logs = Path(workdir) / "logs"
    steps: list[StepReport] = []

    def step(name: str, done: bool, fn) -> None:
        start = time.perf_counter()
        if not done:
            fn()
        steps.append(StepReport(name, time.perf_counter() - start, done))
        logger.info("%s: %s", name, "reused" if done else f"{steps[-1].seconds:.1f} s")

    task_raw = paths.raw_data_base / "nnUNet_raw_data" / s.task
    cases = make_cases(s)
    train, held_out = cases[:s.n_train], cases[s.n_train:]
    truth = {case: label for case, _, label in held_out}
    step("make synthetic task", task_raw.exists(), lambda: write_raw_task(
        task_raw, train, [(case, image) for case, image, _ in held_out]))

    plans = paths.preprocessed / s.task / "nnUNetPlansv2.1_plans_3D.pkl"
    step("nnUNet_plan_and_preprocess", plans.exists(), lambda: run_nnunet(
        ["nnUNet_plan_and_preprocess", "-t", s.task_id, "-pl2d", "None", "-tl", "1", "-tf", "1"],
        paths, logs / "plan.log"))

    fold_dir = (paths.results / "nnUNet" / "3d_fullres" / s.task / f"{s.trainer}__nnUNetPlansv2.1"
                / f"fold_{s.fold}")
    step(f"nnUNet_train {s.trainer}", (fold_dir / "model_final_checkpoint.model").exists(),
         lambda: run_nnunet(["nnUNet_train", "3d_fullres", s.trainer, s.task, s.fold], paths,
                            logs / "train.log"))

    pred_dir = Path(workdir) / "predictions"
    pred_files = [pred_dir / f"{case}.nii.gz" for case in truth]

    def predict() -> None:
        tmp = pred_dir.with_name(pred_dir.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        run_nnunet(["nnUNet_predict", "-i", task_raw / "imagesTs", "-o", tmp, "-t", s.task_id,
                    "-tr", s.trainer, "-m", "3d_fullres", "-f", s.fold], paths, logs / "predict.log")
        tmp.rename(pred_dir)

    step("nnUNet_predict", all(p.exists() for p in pred_files), predict)
    scores = {}
    for case, f in zip(truth, pred_files):
        pred = sitk.GetArrayFromImage(sitk.ReadImage(str(f)))
        # chance: a random mask with the prediction's foreground fraction
        chance = dice(np.random.default_rng(0).random(pred.shape) < pred.mean(), truth[case])
        scores[case] = (dice(pred, truth[case]), chance)
    return steps, scores
