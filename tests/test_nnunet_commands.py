"""End to end through nnU-Net v1's own console scripts, as users type them.

One tiny synthetic task (5 training + 2 held-out 32^3 cases of tubes in noise) is planned,
trained with ``MyTrainerAxialSmoke`` (2 epochs x 8 batches) and predicted once per
session (via the demo, which runs exactly these commands); the tests then exercise
``-val``, ``-c``, ``-pretrained_weights`` and legacy checkpoints on top of it.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from axonseg.demo import DemoSettings, run_demo
from axonseg.networks import build_network
from axonseg.nnunet_v1.commands import run_nnunet
from axonseg.nnunet_v1.env import NnunetPaths
from tests.legacy_checkpoint import legacy_from

SETTINGS = DemoSettings(task_id=902, task_name="AxonsegSmoke")
TRAINER = SETTINGS.trainer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nnunet")
    steps, scores = run_demo(workdir, SETTINGS)
    paths = NnunetPaths.under(workdir)
    model_dir = paths.results / "nnUNet" / "3d_fullres" / SETTINGS.task / f"{TRAINER}__nnUNetPlansv2.1"
    return workdir, paths, model_dir, steps, scores


def test_plan_train_predict_segments_tubes(trained):
    workdir, paths, model_dir, steps, scores = trained
    assert [s.reused for s in steps] == [False] * 4
    for case, (dice, chance) in scores.items():
        pred = sitk.GetArrayFromImage(sitk.ReadImage(str(workdir / "predictions" / f"{case}.nii.gz")))
        image = sitk.ReadImage(str(paths.raw_data_base / "nnUNet_raw_data" / SETTINGS.task / "imagesTs"
                                   / f"{case}_0000.nii.gz"))
        assert pred.shape == sitk.GetArrayFromImage(image).shape == (SETTINGS.size_vox,) * 3
        assert set(np.unique(pred)) <= {0, 1}
        assert dice > 2 * chance, f"{case}: Dice {dice:.3f} not above chance {chance:.3f}"
    # running the demo again reuses every step
    steps_again, scores_again = run_demo(workdir, SETTINGS)
    assert [s.reused for s in steps_again] == [True] * 4
    assert scores_again == scores


def test_our_checkpoints_load_with_plain_torch_load(trained):
    ckpt = trained[2] / "fold_0" / "model_final_checkpoint.model"
    code = f"import torch; c = torch.load({str(ckpt)!r}); print(c['epoch'], len(c['state_dict']))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", str(len(torch.load(ckpt)["state_dict"]))]


def test_validation_only(trained):
    _, paths, model_dir, _, _ = trained
    val_dir = model_dir / "fold_0" / "validation_raw"
    shutil.rmtree(val_dir)
    run_nnunet(["nnUNet_train", "3d_fullres", TRAINER, SETTINGS.task, "0", "-val"], paths)
    assert (val_dir / "summary.json").is_file()
    assert len(list(val_dir.glob("*.nii.gz"))) == 1  # one validation case in fold 0 of 5


def test_pretrained_weights_start_fine_tuning(trained):
    _, paths, model_dir, _, _ = trained
    source = model_dir / "fold_0" / "model_final_checkpoint.model"
    run_nnunet(["nnUNet_train", "3d_fullres", TRAINER, SETTINGS.task, "1", "-pretrained_weights", source],
               paths)
    key = "conv_blocks_context.1.blocks.0.conv.weight"
    start = torch.load(source)["state_dict"][key]
    tuned = torch.load(model_dir / "fold_1" / "model_final_checkpoint.model")["state_dict"][key]
    fresh = build_network_like(model_dir).state_dict()[key]
    # 16 Adam steps at lr 3e-4 move a weight by at most ~5e-3; a fresh initialisation is far away
    assert (tuned - start).abs().max() < 0.01
    assert (fresh - start).abs().max() > 0.05


def build_network_like(model_dir):
    from axonseg_trainers import MyTrainerAxial
    import pickle

    info = pickle.loads((model_dir / "fold_0" / "model_final_checkpoint.model.pkl").read_bytes())
    trainer = MyTrainerAxial(*info["init"])
    trainer.process_plans(info["plans"])
    torch.manual_seed(123)
    return build_network(trainer.unet_config())


def test_legacy_checkpoints_continue_validate_and_predict(trained):
    workdir, paths, model_dir, _, _ = trained
    fold0, fold2 = model_dir / "fold_0", model_dir / "fold_2"
    fold2.mkdir()
    # a stock nnU-Net v1 checkpoint (numpy scalars, numpy 1.x names) after 1 of 2 epochs
    legacy_from(fold0 / "model_final_checkpoint.model", fold2 / "model_latest.model", keep_epochs=1)
    shutil.copy(fold0 / "model_final_checkpoint.model.pkl", fold2 / "model_latest.model.pkl")
    result = run_nnunet(["nnUNet_train", "3d_fullres", TRAINER, SETTINGS.task, "2", "-c"], paths)
    assert "epoch:  1" in result.output and "epoch:  0" not in result.output
    # now make the final checkpoint a legacy one too, and use it
    final = fold2 / "model_final_checkpoint.model"
    legacy_from(final, final)
    run_nnunet(["nnUNet_train", "3d_fullres", TRAINER, SETTINGS.task, "2", "-val"], paths)
    out = workdir / "legacy_predictions"
    run_nnunet(["nnUNet_predict", "-i", paths.raw_data_base / "nnUNet_raw_data" / SETTINGS.task / "imagesTs",
                "-o", out, "-t", SETTINGS.task_id, "-tr", TRAINER, "-m", "3d_fullres", "-f", "2"], paths)
    assert sorted(p.name for p in out.glob("*.nii.gz")) == ["tubes_005.nii.gz", "tubes_006.nii.gz"]


def test_unknown_trainer_lists_ours(trained):
    _, paths, _, _, _ = trained
    result = run_nnunet(["nnUNet_train", "3d_fullres", "MyTrainerAxail", SETTINGS.task, "0"], paths,
                        check=False)
    assert result.returncode != 0
    assert "unknown trainer 'MyTrainerAxail'" in result.output
    assert "MyTrainerAxial" in result.output and "DLMBmapTrainerV2" in result.output


@pytest.mark.parametrize("name,axial", [("MyTrainerAxial", True), ("DLMBmapTrainerV2", False)])
def test_trainer_recipe(trained, name, axial):
    import pickle

    import axonseg_trainers
    from axonseg.networks import AxialGenericUNet

    model_dir = trained[2]
    info = pickle.loads((model_dir / "fold_0" / "model_final_checkpoint.model.pkl").read_bytes())
    trainer = axonseg_trainers.TRAINERS[name](*info["init"])
    trainer.initialize(training=False)
    assert isinstance(trainer.network, AxialGenericUNet) == axial
    if axial:
        assert trainer.network.patch_size_zyx == (SETTINGS.size_vox,) * 3
    assert trainer.max_num_epochs == 550
    assert trainer.data_aug_params["do_mirror"] is False
    opt = trainer.optimizer
    assert isinstance(opt, torch.optim.Adam)
    group = opt.param_groups[0]
    assert (group["lr"], group["weight_decay"], group["amsgrad"]) == (3e-4, 3e-5, True)
    sched = trainer.lr_scheduler
    assert (sched.factor, sched.patience, sched.threshold, sched.threshold_mode) == (0.2, 30, 1e-3, "abs")
    # the scheduler steps on the moving average of the training loss: a plateau of
    # 31 epochs after the first cuts the learning rate by 5
    trainer.maybe_update_lr(0)  # the call at the start of run_training steps nothing
    for _ in range(32):
        trainer.train_loss_MA = 0.5
        trainer.maybe_update_lr()
    assert group["lr"] == pytest.approx(3e-4 * 0.2)
