#!/usr/bin/env python
"""Reproduce the shipped starter model v2 from a fresh clone (``make starter-model``).

Stages (each reuses its output when it exists):

1. ``task``: training cases from the real excerpt's rows y < 300 (``axonseg.starter.v2_cases``:
   simulated axons with exact truth in real crops, hard negatives, real fibres ignored),
   written as the nnU-Net v1 raw task Task961_AxonsegStarterV2 (modality ``noNorm``);
2. ``plan``: ``nnUNet_plan_and_preprocess -t 961``;
3. ``train``: ``nnUNet_train 3d_fullres AxonsegTrainerV2Starter Task961_AxonsegStarterV2 0``;
4. ``export``: ``axonseg save-models`` -> ``<workdir>/export.pth``;
5. ``halo``: ``axonseg measure-halo`` (tiled == whole volume within max |dp| <= 1e-3 on random
   input and the excerpt) -> ``halo.pth``;
6. ``calibrate``: the default mask threshold chosen on validation volumes of the training rows
   (``axonseg.starter.calibrate``) -> ``<workdir>/axonseg-starter-v2.pth``.

Copy the file to ``axonseg/models/`` to ship it. Seeded (``--seed``); nnU-Net's CPU training is
not bit-reproducible. About 1.5-2 h on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TASK_ID, TASK = 961, "Task961_AxonsegStarterV2"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "dlmbmap" / "brain-example",
                   help="the D-LMBmap excerpt (TIFF slices)")
    p.add_argument("--cases", type=int, default=320, help="training cases (default 320)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trainer", default="AxonsegTrainerV2Starter")
    p.add_argument("--workers", type=int, default=2, help="processes writing the cases")
    p.add_argument("--stop-after", choices=["task", "plan", "train", "export", "halo", "calibrate"],
                   default="calibrate")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from axonseg.io import open_volume
    from axonseg.nnunet_v1.commands import console_script
    from axonseg.nnunet_v1.env import NnunetPaths
    from axonseg.starter.model import STARTER_MODEL_V2
    from axonseg.starter.v2_task import write_v2_task

    work = args.workdir.resolve()
    paths = NnunetPaths.under(work)
    paths.make_dirs()
    env = {**os.environ, **paths.environ(), "nnUNet_n_proc_DA": "2"}

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

    raw = paths.raw_data_base / "nnUNet_raw_data" / TASK
    volume = lambda: __import__("numpy").asarray(open_volume(args.data)[0])  # noqa: E731
    if stage("task", raw.is_dir(), lambda: write_v2_task(volume(), raw, args.cases, args.seed, args.workers)):
        return 0
    plans = paths.preprocessed / TASK / "nnUNetPlansv2.1_plans_3D.pkl"
    if stage("plan", plans.exists(), lambda: run("nnUNet_plan_and_preprocess", "-t", TASK_ID, "-pl2d", "None",
                                                     "-tl", "2", "-tf", "2", log="plan.log")):
        return 0
    result = paths.results / "nnUNet" / "3d_fullres" / TASK / f"{args.trainer}__nnUNetPlansv2.1"
    if stage("train", (result / "fold_0" / "model_final_checkpoint.model").exists(),
             lambda: run("nnUNet_train", "3d_fullres", args.trainer, TASK, 0, log="train.log")):
        return 0
    exported, with_halo, out = work / "export.pth", work / "halo.pth", work / STARTER_MODEL_V2
    if stage("export", exported.exists(), lambda: run("axonseg", "save-models", result, exported, "--fold", 0,
                                                      "--checkpoint", "final", log="export.log")):
        return 0
    def halo() -> None:  # measured on the training rows only (rows y >= 300 stay unseen)
        from axonseg.io import write_tiff
        from axonseg.starter import HELD_OUT_FROM_ROW

        rows = work / "training_rows.tiff"
        write_tiff(rows, volume()[:, :HELD_OUT_FROM_ROW])
        run("axonseg", "measure-halo", exported, "--input", rows, "--save", with_halo, log="halo.log")

    if stage("halo", with_halo.exists(), halo):
        return 0

    def calibrate() -> None:
        from axonseg.starter.calibrate import choose_threshold, save_with_threshold

        best, table = choose_threshold(with_halo, volume())
        save_with_threshold(with_halo, out, best, table)

    stage("calibrate", out.exists(), calibrate)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
