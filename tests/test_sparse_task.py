"""Slice annotations -> nnU-Net task -> AxonsegTrainerV2 fine-tune, through nnU-Net v1's own commands."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk

from axonseg.annotate.sparse import keep_slices, to_training_labels
from axonseg.io import write_tiff
from axonseg.nnunet_v1.sparse_loss import IGNORE_LABEL


def test_paint_and_trailmap_conventions():
    painted = np.array([[0, 1, 2, 3, 4]], np.uint8)
    np.testing.assert_array_equal(to_training_labels(painted, "paint"), [[IGNORE_LABEL, 0, 1, 0, IGNORE_LABEL]])
    np.testing.assert_array_equal(to_training_labels(painted, "trailmap"), to_training_labels(painted, "paint"))
    np.testing.assert_array_equal(to_training_labels(np.array([0, 255, 1]), "binary"), [0, 1, 1])
    with pytest.raises(ValueError, match=r"lab.tif: label values \[7\] are not in the paint convention"):
        to_training_labels(np.array([0, 7]), "paint", "lab.tif")


def test_keep_slices_leaves_only_every_nth_slice_annotated():
    dense = (np.random.default_rng(0).random((12, 5, 5)) > 0.7).astype(np.uint8)
    sparse = keep_slices(dense, 4)
    assert sorted(set(np.nonzero((sparse != IGNORE_LABEL).any(axis=(1, 2)))[0])) == [2, 6, 10]
    np.testing.assert_array_equal(sparse[6], dense[6])


def _cubes(tmp_path):
    from axonseg.synthetic import TubeSettings, make_tube_volume

    vols, labs = tmp_path / "volumes", tmp_path / "labels"
    vols.mkdir()
    labs.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):  # nnU-Net's 5-fold split needs 5 cases
        image, truth = make_tube_volume((48, 48, 48), rng, TubeSettings(n_tubes=5, background=2000, signal=3000,
                                                                        noise_sigma=300))
        painted = np.zeros(truth.shape, np.uint8)  # a user painted slices 10, 24, 38: 1 background, 2 axon
        for z in (10, 24, 38):
            painted[z] = np.where(truth[z] > 0, 2, 1)
        write_tiff(vols / f"volume-{i}.tiff", image.astype(np.uint16))
        write_tiff(labs / f"label-{i}.tiff", painted)
    return vols, labs


def _axonseg(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "axonseg.cli.main", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def test_sparse_task_writes_normalised_images_and_ignore_labels(tmp_path):
    vols, labs = _cubes(tmp_path)
    r = _axonseg("sparse-task", "--volumes", vols, "--labels", labs, "--task-id", 971, "--raw-data-base",
                 tmp_path / "raw")
    assert r.returncode == 0, r.stderr
    task = tmp_path / "raw" / "nnUNet_raw_data" / "Task971_AxonsegSparse"
    lab = sitk.GetArrayFromImage(sitk.ReadImage(str(task / "labelsTr" / "sparse_0.nii.gz")))
    img = sitk.GetArrayFromImage(sitk.ReadImage(str(task / "imagesTr" / "sparse_0_0000.nii.gz")))
    assert set(np.unique(lab)) == {0, 1, IGNORE_LABEL}
    assert np.mean(lab != IGNORE_LABEL) == pytest.approx(3 / 48)
    assert 0.8 < np.median(img) < 1.2  # divided by the cube's tissue level
    again = _axonseg("sparse-task", "--volumes", vols, "--labels", labs, "--task-id", 971, "--raw-data-base",
                     tmp_path / "raw")
    assert again.returncode == 1 and "exists; pass --overwrite" in again.stderr


def test_fine_tune_v2_from_slice_labels_with_nnunets_commands(tmp_path):
    """sparse-task -> nnUNet_plan_and_preprocess -> nnUNet_train AxonsegTrainerV2StarterSmoke (label 255
    present: nnU-Net's own loss would fail on it) -> save-models: a BatchNorm, tissue_ratio model."""
    from axonseg.inference.weights import load_model
    from axonseg.nnunet_v1.commands import run_nnunet
    from axonseg.nnunet_v1.env import NnunetPaths

    vols, labs = _cubes(tmp_path)
    paths = NnunetPaths.under(tmp_path / "nn")
    paths.make_dirs()
    assert _axonseg("sparse-task", "--volumes", vols, "--labels", labs, "--task-id", 972, "--raw-data-base",
                    paths.raw_data_base).returncode == 0
    run_nnunet(["nnUNet_plan_and_preprocess", "-t", "972", "-pl2d", "None", "-tl", "1", "-tf", "1"], paths)
    task = "Task972_AxonsegSparse"
    run_nnunet(["nnUNet_train", "3d_fullres", "AxonsegTrainerV2StarterSmoke", task, "0"], paths)
    result = paths.results / "nnUNet" / "3d_fullres" / task / "AxonsegTrainerV2StarterSmoke__nnUNetPlansv2.1"
    out = tmp_path / "tuned.pth"
    r = _axonseg("save-models", result, out, "--fold", 0, "--checkpoint", "final")
    assert r.returncode == 0, r.stderr
    model = load_model(out)
    assert model.config.norm == "batch" and model.config.position_independent
    assert model.normalization.scheme == "tissue_ratio" and model.predict_normalization == "global"


def test_validation_cubes_make_fold_0(tmp_path):
    import pickle

    vols, labs = _cubes(tmp_path)
    r = _axonseg("sparse-task", "--volumes", vols, "--labels", labs, "--task-id", 973, "--raw-data-base",
                 tmp_path / "raw", "--validation", "2")
    assert r.returncode == 0, r.stderr
    splits = pickle.loads((tmp_path / "raw" / "nnUNet_raw_data" / "Task973_AxonsegSparse" / "splits_final.pkl")
                          .read_bytes())
    assert len(splits) == 1 and list(splits[0]["val"]) == ["sparse_2"]
    assert sorted(splits[0]["train"]) == ["sparse_0", "sparse_1", "sparse_3", "sparse_4"]
    bad = _axonseg("sparse-task", "--volumes", vols, "--labels", labs, "--task-id", 974, "--raw-data-base",
                   tmp_path / "raw", "--validation", "9")
    assert bad.returncode == 1 and "--validation: no cube 9" in bad.stderr
    assert not (tmp_path / "raw" / "nnUNet_raw_data" / "Task974_AxonsegSparse").exists()
