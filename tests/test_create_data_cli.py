"""create-data end to end: bad inputs, determinism, leak-free folds, nnU-Net v1 accepts the task."""
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import tifffile
from scipy import ndimage as ndi

from axonseg.cli.main import main as axonseg_main


def _intensities(label: np.ndarray, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """Synthetic LSFM-like cube for a label: noisy background plus blurred bright axons."""
    axons = ndi.gaussian_filter((label != 0).astype(np.float32) * 3000, 1.0)
    return np.clip((1000 + rng.normal(0, 60, label.shape) + axons) * gain, 0, 65535).astype(np.uint16)


def _line_labels(n: int, size: int) -> list[np.ndarray]:
    labels = []
    for k in range(n):
        label = np.zeros((size,) * 3, np.uint8)
        label[size // 2, 2:-2, 3 + 2 * k] = 255
        label[2:-2, 4 + k, size // 3] = 255
        labels.append(label)
    return labels


def make_tree(root: Path, labels: list[np.ndarray], n_artifacts: int = 2, seed: int = 0) -> Path:
    """``root/base/train/{volumes,Fine-label,artifacts}`` and ``root/source/train/{volumes,artifacts}``."""
    rng = np.random.default_rng(seed)
    base, source = root / "base" / "train", root / "source" / "train"
    for folder in ("volumes", "Fine-label", "artifacts"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    for folder in ("volumes", "artifacts"):
        (source / folder).mkdir(parents=True, exist_ok=True)
    for k, label in enumerate(labels):
        cube_id = 1000 + k
        tifffile.imwrite(base / "volumes" / f"volume-{cube_id}.tiff", _intensities(label, rng))
        tifffile.imwrite(base / "Fine-label" / f"label-{cube_id}.tiff", label)
        tifffile.imwrite(source / "volumes" / f"volume-{cube_id}.tiff", _intensities(label, rng, 1.7))
    shape = labels[0].shape
    for k in range(n_artifacts):
        artifact = _intensities(np.zeros(shape, np.uint8), rng)
        artifact[shape[0] // 4:shape[0] // 2, :, shape[2] // 3:shape[2] // 2] = 60000  # a bright slab
        tifffile.imwrite(base / "artifacts" / f"volume-{k + 1}.tiff", artifact)
        tifffile.imwrite(source / "artifacts" / f"volume-{k + 1}.tiff", (artifact * 0.8).astype(np.uint16))
    return root


def _args(root: Path, raw: Path, *extra: str, patch: int = 16) -> list[str]:
    return ["create-data", "--task-id", "611", "--task-name", "Test", "--raw-data-base", str(raw),
            "--base", str(root / "base"), "--source", str(root / "source"), "--spacing-um", "2", "1", "1",
            "--patch-size", str(patch), "--samples-per-cube", "2", "--workers", "1", "--quiet",
            "--no-preview", *extra]


@pytest.fixture
def tree(tmp_path) -> Path:
    return make_tree(tmp_path / "in", _line_labels(4, 20))


def _hashes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_a_byte_identical_task_whatever_the_workers(tree, tmp_path):
    assert axonseg_main(_args(tree, tmp_path / "a")) == 0
    assert axonseg_main(_args(tree, tmp_path / "b", "--workers", "2")) == 0
    assert axonseg_main(_args(tree, tmp_path / "c", "--seed", "1")) == 0
    task = Path("nnUNet_raw_data") / "Task611_Test"
    a, b, c = (_hashes(tmp_path / r / task) for r in "abc")
    assert len(a) == 2 * (4 * 2 * 2 + 2 * 2 * 2) + 4  # (img+lab) x (cubes x copies x samples), jsons+pkl
    assert a == b
    assert a["imagesTr/Test_0000_0000.nii.gz"] != c["imagesTr/Test_0000_0000.nii.gz"]


def test_task_contents_spacing_labels_and_leak_free_folds(tree, tmp_path):
    tests = tmp_path / "test_cubes"
    tests.mkdir()
    tifffile.imwrite(tests / "volume-77.tiff", np.arange(18 ** 3, dtype=np.uint16).reshape(18, 18, 18))
    assert axonseg_main(_args(tree, tmp_path / "raw", "--preprocessed", str(tmp_path / "pre"),
                              "--test-volumes", str(tests))) == 0
    task = tmp_path / "raw" / "nnUNet_raw_data" / "Task611_Test"
    dataset = json.loads((task / "dataset.json").read_text())
    assert dataset["test"] == ["./imagesTs/Test_test77.nii.gz"] and dataset["numTest"] == 1
    test_image = sitk.ReadImage(str(task / "imagesTs" / "Test_test77_0000.nii.gz"))
    assert test_image.GetSize() == (18, 18, 18) and test_image.GetSpacing() == (1.0, 1.0, 2.0)
    assert dataset["modality"] == {"0": "LSFM"} and dataset["labels"] == {"0": "background", "1": "axon"}
    assert dataset["numTraining"] == 4 * 2 * 2 + 2 * 2 * 2
    image = sitk.ReadImage(str(task / "imagesTr" / "Test_0000_0000.nii.gz"))
    label = sitk.ReadImage(str(task / "labelsTr" / "Test_0000.nii.gz"))
    assert image.GetSpacing() == label.GetSpacing() == (1.0, 1.0, 2.0)  # x, y, z
    values = sitk.GetArrayFromImage(image)
    assert values.shape == (16, 16, 16) and values.min() == 0 and values.max() == 1
    assert set(np.unique(sitk.GetArrayFromImage(label)).tolist()) <= {0, 1}
    cases = json.loads((task / "cases.json").read_text())
    assert {r["variant"] for r in cases.values()} == {"original", "matched"}
    assert any(r["cutmix"] for r in cases.values()) and any(r["contrast"] for r in cases.values())
    splits = pickle.loads((task / "splits_final.pkl").read_bytes())
    assert (tmp_path / "pre" / "Task611_Test" / "splits_final.pkl").read_bytes() == \
        (task / "splits_final.pkl").read_bytes()
    for fold, split in enumerate(splits):
        val_groups = {cases[c]["group"] for c in split["val"]}
        train_groups = {cases[c]["group"] for c in split["train"]}
        assert val_groups and not val_groups & train_groups
        assert all(cases[c]["fold"] == fold for c in split["val"])
        assert sorted(split["train"].tolist() + split["val"].tolist()) == sorted(cases)


def _write(path: Path, array: np.ndarray) -> None:
    tifffile.imwrite(path, array)


BAD_INPUTS = {
    "unequal numbers": (lambda r: _write(r / "base/train/volumes/volume-1009.tiff", np.zeros((20,) * 3, np.uint16)),
                        "4 labels"),
    "unpaired ids": (lambda r: (r / "base/train/Fine-label/label-1003.tiff").rename(
        r / "base/train/Fine-label/label-1007.tiff"), "without a partner"),
    "no artifacts folder": (lambda r: [p.unlink() for p in (r / "base/train/artifacts").iterdir()] and
                            (r / "base/train/artifacts").rmdir(), "artifacts (needed by cutmix) folder does not exist"),
    "empty artifacts": (lambda r: [p.unlink() for p in (r / "base/train/artifacts").iterdir()],
                        "artifacts (needed by cutmix) folder has no"),
    "cube smaller than patch": (lambda r: (_write(r / "base/train/volumes/volume-1002.tiff", np.zeros((20, 20, 12), np.uint16)),
                                           _write(r / "base/train/Fine-label/label-1002.tiff", np.zeros((20, 20, 12), np.uint8))),
                                "volume-1002.tiff: volume of shape (20, 20, 12) is smaller than the patch"),
    "2-D volume": (lambda r: _write(r / "base/train/volumes/volume-1001.tiff", np.zeros((20, 20), np.uint16)),
                   "volume-1001.tiff: volume must be a 3-D array"),
    "the same cube under two ids": (lambda r: (
        (r / "base/train/volumes/volume-1003.tiff").write_bytes((r / "base/train/volumes/volume-1001.tiff").read_bytes()),
        (r / "base/train/Fine-label/label-1003.tiff").write_bytes(
            (r / "base/train/Fine-label/label-1001.tiff").read_bytes())),
        "volume-1003.tiff: the same cube as"),
    "label values": (lambda r: _write(r / "base/train/Fine-label/label-1000.tiff", np.full((20,) * 3, 2, np.uint8)),
                     "label-1000.tiff: unexpected label values [2]"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_error_and_no_task(case, tree, tmp_path, capsys):
    break_tree, message = BAD_INPUTS[case]
    break_tree(tree)
    raw = tmp_path / "raw"
    assert axonseg_main(_args(tree, raw)) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not (raw / "nnUNet_raw_data").exists() or not list((raw / "nnUNet_raw_data").iterdir())


def test_existing_task_needs_overwrite_and_unknown_config_keys_fail(tree, tmp_path, capsys):
    raw = tmp_path / "raw"
    assert axonseg_main(_args(tree, raw)) == 0
    before = _hashes(raw / "nnUNet_raw_data" / "Task611_Test")
    assert axonseg_main(_args(tree, raw, "--seed", "3")) == 1
    assert "task folder exists; pass --overwrite" in capsys.readouterr().err
    assert _hashes(raw / "nnUNet_raw_data" / "Task611_Test") == before
    assert axonseg_main(_args(tree, raw, "--seed", "3", "--overwrite")) == 0
    assert _hashes(raw / "nnUNet_raw_data" / "Task611_Test") != before
    assert sorted(p.name for p in (raw / "nnUNet_raw_data").iterdir()) == ["Task611_Test"]
    config = tmp_path / "c.yaml"
    config.write_text("task_id: 612\nsampels_per_cube: 3\n")
    assert axonseg_main(["create-data", "--config", str(config)]) == 1
    assert "sampels_per_cube" in capsys.readouterr().err


def test_scripts_create_data_runs_the_command(tree, tmp_path):
    script = Path(__file__).resolve().parents[1] / "scripts" / "create_data.py"
    result = subprocess.run([sys.executable, str(script), *_args(tree, tmp_path / "raw")[1:]],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Task611_Test")


def test_real_fine_labels_make_a_task_nnunet_plan_and_preprocess_accepts(dlmbmap_data, tmp_path):
    labels = [tifffile.imread(dlmbmap_data / "Fine-label" / f"label-{i}.tiff")[:64, :64, :64] for i in (1000, 1001, 1002)]
    assert all(label.any() for label in labels)
    tree = make_tree(tmp_path / "in", labels)
    raw, pre, results = tmp_path / "raw", tmp_path / "pre", tmp_path / "results"
    assert axonseg_main(_args(tree, raw, "--preprocessed", str(pre), "--preview", patch=48)) == 0
    task = raw / "nnUNet_raw_data" / "Task611_Test"
    assert (task / "preview.png").stat().st_size > 0
    env = dict(os.environ, nnUNet_raw_data_base=str(raw), nnUNet_preprocessed=str(pre), RESULTS_FOLDER=str(results))
    command = Path(sys.executable).parent / "nnUNet_plan_and_preprocess"
    result = subprocess.run([str(command), "-t", "611", "-pl2d", "None", "-tl", "1", "-tf", "1"],
                            env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    done = pre / "Task611_Test"
    plans = pickle.loads((done / "nnUNetPlansv2.1_plans_3D.pkl").read_bytes())
    assert plans["modalities"] == {0: "LSFM"}
    assert list(plans["plans_per_stage"][0]["current_spacing"]) == [2.0, 1.0, 1.0]
    preprocessed = {p.stem for p in (done / "nnUNetData_plans_v2.1_stage0").glob("*.npz")}
    splits = pickle.loads((done / "splits_final.pkl").read_bytes())
    assert (done / "splits_final.pkl").read_bytes() == (task / "splits_final.pkl").read_bytes()
    assert set(splits[0]["train"]) | set(splits[0]["val"]) == preprocessed
    assert len(preprocessed) == 3 * 2 * 2 + 2 * 2 * 2


def test_matching_references_and_independent_artifact_samples(tree, tmp_path):
    assert axonseg_main(_args(tree, tmp_path / "raw", "--artifact-samples-per-cube", "3")) == 0
    task = tmp_path / "raw" / "nnUNet_raw_data" / "Task611_Test"
    cases = json.loads((task / "cases.json").read_text())
    for record in cases.values():
        if record["variant"] == "matched":
            expected = "volumes/" if record["group"].startswith("axon") else "artifacts/"
            assert record["reference"].startswith(expected)
    # D-LMBmap overwrote its source, so artifact samples after the first were rotations of it:
    # rot90/flips keep the multiset of voxel values, independent crops do not
    artifact_cases = [c for c, r in cases.items() if r["group"] == "artifact-1" and r["variant"] == "original"]
    assert len(artifact_cases) == 3
    values = [np.sort(sitk.GetArrayFromImage(sitk.ReadImage(str(task / "imagesTr" / f"{c}_0000.nii.gz"))), axis=None)
              for c in artifact_cases]
    assert not any(np.array_equal(values[i], values[j]) for i in range(3) for j in range(i + 1, 3))


def test_nnunet_env_flag_takes_nnunet_folders_and_names_missing_variables(tree, tmp_path, monkeypatch, capsys):
    for name in ("nnUNet_raw_data_base", "nnUNet_preprocessed", "RESULTS_FOLDER"):
        monkeypatch.delenv(name, raising=False)
    args = [a for a in _args(tree, tmp_path / "unused") if a not in ("--raw-data-base", str(tmp_path / "unused"))]
    assert axonseg_main(args + ["--nnunet-env"]) == 1
    assert "nnUNet_raw_data_base" in capsys.readouterr().err
    monkeypatch.setenv("nnUNet_raw_data_base", str(tmp_path / "raw"))
    monkeypatch.setenv("nnUNet_preprocessed", str(tmp_path / "pre"))
    monkeypatch.setenv("RESULTS_FOLDER", str(tmp_path / "res"))
    assert axonseg_main(args + ["--nnunet-env"]) == 0
    assert (tmp_path / "raw" / "nnUNet_raw_data" / "Task611_Test" / "dataset.json").is_file()
    assert (tmp_path / "pre" / "Task611_Test" / "splits_final.pkl").is_file()
