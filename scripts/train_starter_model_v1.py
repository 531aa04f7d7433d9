#!/usr/bin/env python
"""Reproduce the v1 starter model (``axonseg-starter-v1.pth``, still loadable with ``--model``) from a fresh clone (``make starter-model``).

Stages (each reuses its output when it exists): training cubes from the real excerpt
(rows y < 300 only) -> ``axonseg create-data`` -> ``nnUNet_plan_and_preprocess`` ->
``nnUNet_train 3d_fullres DLMBmapTrainerV2Starter Task960_AxonsegStarter 0`` ->
``axonseg save-models`` -> ``<workdir>/axonseg-starter-v1.pth`` (copy it to
``axonseg/models/`` to ship it). Seeded (seed 0); about 1.5-2 h on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TASK_ID, TASK = 960, "Task960_AxonsegStarter"
TRAINER = "DLMBmapTrainerV2Starter"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "dlmbmap" / "brain-example",
                   help="the D-LMBmap excerpt (TIFF slices)")
    p.add_argument("--stop-after", choices=["cubes", "task", "plan", "train", "export"], default="export")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from axonseg.nnunet_v1.commands import console_script
    from axonseg.nnunet_v1.env import NnunetPaths
    from axonseg.starter import build_training_cubes
    from axonseg.starter.model import STARTER_MODEL_V1 as STARTER_MODEL

    work = args.workdir.resolve()
    paths = NnunetPaths.under(work)
    paths.make_dirs()
    env = {**__import__("os").environ, **paths.environ()}

    def stage(name: str, done: bool, fn) -> bool:
        start = time.perf_counter()
        if not done:
            fn()
        print(f"{name}: {'reused' if done else f'{time.perf_counter() - start:.0f} s'}", flush=True)
        return name == args.stop_after

    def run(*cmd, log: str) -> None:
        """A user-facing command (nnU-Net's or axonseg's) from this environment, output to a log."""
        with open(work / log, "w") as f:
            subprocess.run([console_script(cmd[0]), *map(str, cmd[1:])], env=env, stdout=f,
                           stderr=subprocess.STDOUT, check=True)

    if stage("cubes", (work / "cubes").is_dir(), lambda: build_training_cubes(args.data, work / "cubes")):
        return 0
    raw = paths.raw_data_base / "nnUNet_raw_data" / TASK
    if stage("task", raw.is_dir(), lambda: run(
            "axonseg", "create-data", "--config", REPO / "configs" / "starter" / "create_data.yaml",
            "--raw-data-base", paths.raw_data_base, "--preprocessed", paths.preprocessed,
            "--base", work / "cubes" / "base", "--source", work / "cubes" / "source", "--quiet",
            log="create_data.log")):
        return 0
    plans = paths.preprocessed / TASK / "nnUNetPlansv2.1_plans_3D.pkl"
    if stage("plan", plans.exists(), lambda: run("nnUNet_plan_and_preprocess", "-t", TASK_ID, "-pl2d", "None",
                                                     "-tl", "2", "-tf", "2", log="plan.log")):
        return 0
    result = paths.results / "nnUNet" / "3d_fullres" / TASK / f"{TRAINER}__nnUNetPlansv2.1"
    if stage("train", (result / "fold_0" / "model_final_checkpoint.model").exists(),
             lambda: run("nnUNet_train", "3d_fullres", TRAINER, TASK, 0, log="train.log")):
        return 0
    out = work / STARTER_MODEL
    stage("export", out.exists(), lambda: run("axonseg", "save-models", result, out, "--fold", 0,
                                              "--checkpoint", "final", log="export.log"))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
