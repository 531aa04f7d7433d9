"""create-data: matched cases really are histogram-matched; cutmix boxes are sized from the patch.

The task is built with augmentation off and the patch equal to the cube, so each case is the
whole cube, min-max normalised: its values can be checked against the source and reference
cubes read straight from their TIFFs (independent of axonseg's histogram code).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import tifffile

from axonseg.cubes import CreateDataSettings, create_data, random_box

CUBE = 20


def _minmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return (x - x.min()) / (x.max() - x.min())


def _sorted_z(x: np.ndarray) -> np.ndarray:
    """Sorted z-scores: the shape of a histogram, blind to the affine min-max normalisation."""
    x = np.sort(x.astype(np.float64), axis=None)
    return (x - x.mean()) / x.std()


def _image(task: Path, case: str) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(task / "imagesTr" / f"{case}_0000.nii.gz"))).astype(np.float64)


def _label(task: Path, case: str) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(task / "labelsTr" / f"{case}.nii.gz")))


def _tree(root: Path, artifact_side: int = CUBE) -> Path:
    """4 labelled cubes (uniform intensities, bright lines), 2 artifact cubes, and histogram
    references of a very different shape (exponential), so matching is visible after min-max."""
    rng = np.random.default_rng(0)
    base, source = root / "base" / "train", root / "source" / "train"
    for folder in (base / "volumes", base / "Fine-label", base / "artifacts", source / "volumes",
                   source / "artifacts"):
        folder.mkdir(parents=True)
    for k in range(4):
        label = np.zeros((CUBE,) * 3, np.uint8)
        label[CUBE // 2, 2:-2, 3 + 2 * k] = 255
        image = rng.uniform(500, 3000, label.shape) + 5000 * (label > 0)
        tifffile.imwrite(base / "volumes" / f"volume-{1000 + k}.tiff", image.astype(np.uint16))
        tifffile.imwrite(base / "Fine-label" / f"label-{1000 + k}.tiff", label)
        reference = 100 + rng.exponential(300, label.shape)
        tifffile.imwrite(source / "volumes" / f"volume-{1000 + k}.tiff", reference.astype(np.uint16))
    for k in range(2):
        artifact = rng.normal(1000, 80, (artifact_side,) * 3)
        artifact[:, :, artifact_side // 3:artifact_side // 2] = 60000
        tifffile.imwrite(base / "artifacts" / f"volume-{k + 1}.tiff", artifact.astype(np.uint16))
        tifffile.imwrite(source / "artifacts" / f"volume-{k + 1}.tiff", (100 + rng.exponential(300, (CUBE,) * 3))
                         .astype(np.uint16))
    return root


def _settings(root: Path, **kw) -> CreateDataSettings:
    plain = dict(rotate90=False, flip=False, affine_probability=0.0, contrast=False, cutmix=False,
                 samples_per_cube=1, artifact_samples_per_cube=0, num_folds=2, num_workers=1, preview=False)
    plain.update(kw)
    return CreateDataSettings(task_id=612, task_name="Mut", raw_data_base=str(root / "raw"),
                              voxel_spacing_um_zyx=(2.0, 1.0, 1.0), base_dir=str(root / "base"),
                              source_dir=str(root / "source"), **plain)


def test_matched_cases_differ_from_their_sources_and_have_the_reference_histogram(tmp_path):
    """Kills: histogram matching skipped while the case is still recorded as "matched"."""
    root = _tree(tmp_path)
    task = create_data(_settings(root, patch_size_zyx=(CUBE,) * 3), progress=False)
    cases = json.loads((task / "cases.json").read_text())
    matched = {c: r for c, r in cases.items() if r["variant"] == "matched"}
    assert len(matched) == 4
    for case, record in matched.items():
        source = tifffile.imread(root / "base" / "train" / "volumes" / record["source"])
        reference = tifffile.imread(root / "source" / "train" / record["reference"])
        image = _image(task, case)
        # Wasserstein-1 distance between histogram shapes (mean |difference| of sorted z-scores)
        assert np.abs(_sorted_z(source) - _sorted_z(reference)).mean() > 0.2  # the oracle sees the difference
        assert np.abs(_sorted_z(image) - _sorted_z(reference)).mean() < 0.02, \
            f"{case}: not the histogram of its reference {record['reference']}"
        assert np.abs(np.sort(image, axis=None) - np.sort(_minmax(reference), axis=None)).mean() < 0.005
        assert np.abs(image - _minmax(source)).mean() > 0.05, f"{case}: equals its unmatched source"
        # matching is monotone: the brightest voxels (the labelled axons) stay the brightest
        label = _label(task, case)
        assert image[label > 0].min() >= np.percentile(image[label == 0], 99)
    originals = [c for c, r in cases.items() if r["variant"] == "original"]
    for case in originals:
        source = tifffile.imread(root / "base" / "train" / "volumes" / cases[case]["source"])
        np.testing.assert_allclose(_image(task, case), _minmax(source), atol=1e-6)


def test_random_box_edges_are_fractions_of_the_patch_not_of_the_artifact():
    """Kills: cutmix's box size taken from the artifact cube instead of the patch."""
    rng = np.random.default_rng(0)
    sizes = set()
    for _ in range(500):
        box = random_box((16, 20, 12), (64, 80, 48), rng, 0.25, 0.5)
        for n, d, s, p, a in zip(box.size_zyx, box.dst_zyx, box.src_zyx, (16, 20, 12), (64, 80, 48)):
            assert round(0.25 * p) <= n <= round(0.5 * p), (box, p)
            assert 0 <= d <= p - n and 0 <= s <= a - n
        sizes.add(box.size_zyx[1])
    assert sizes == {5, 6, 7, 8, 9, 10}  # round(0.25 * 20) .. round(0.5 * 20), all reached


@pytest.mark.parametrize("artifact_side", [48])
def test_create_data_cutmix_boxes_fit_the_patch_and_clear_the_label(tmp_path, artifact_side):
    """Kills: cutmix's box size taken from the artifact (here 3x the patch) instead of the patch."""
    root = _tree(tmp_path, artifact_side)
    patch = 16
    task = create_data(_settings(root, patch_size_zyx=(patch,) * 3, histogram_matching=False, cutmix=True,
                                 cutmix_probability=1.0, cutmix_min_fraction=0.25, cutmix_max_fraction=0.5,
                                 samples_per_cube=3), progress=False)
    cases = json.loads((task / "cases.json").read_text())
    boxes = [(c, r["cutmix"]) for c, r in cases.items() if r["cutmix"]]
    assert len(boxes) == 12
    for case, box in boxes:
        for n, d in zip(box["size_zyx"], box["dst_zyx"]):
            assert 4 <= n <= 8 and 0 <= d <= patch - n, (case, box)
        inside = tuple(slice(d, d + n) for d, n in zip(box["dst_zyx"], box["size_zyx"]))
        assert _label(task, case)[inside].max() == 0
