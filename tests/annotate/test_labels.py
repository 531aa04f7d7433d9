import numpy as np
import pytest
import tifffile

from axonseg.annotate import (RoughLabelSettings, auto_threshold, fine_labels, fine_labels_for_folder,
                              remove_small_components, rough_labels_for_folder, rough_mask)
from axonseg.cli.main import main as axonseg_main


def test_small_components_are_removed_with_26_connectivity():
    mask = np.zeros((12, 12, 12), dtype=bool)
    mask[0, 0, 0:9] = True                      # 9 voxels: removed
    mask[5, 5, 0:10] = True                     # 10 voxels: kept
    diag = np.zeros_like(mask)
    for k in range(10):
        diag[k + 2, 11 - k, k] = True           # 10 voxels touching only by corners: kept
    out = remove_small_components(mask | diag, 10)
    assert not out[0, 0, 0:9].any()
    assert out[5, 5, 0:10].all()
    assert all(out[k + 2, 11 - k, k] for k in range(10))
    assert out.sum() == 20


def test_rough_mask_finds_a_bright_line_and_drops_specks():
    rng = np.random.default_rng(0)
    cube = rng.normal(1000, 10, (40, 40, 40)).astype(np.float32)
    cube[20, 20, 5:35] += 500                   # an axon
    cube[5, 5, 5] += 500                        # a one-voxel speck
    mask, threshold = rough_mask(cube, RoughLabelSettings(threshold_method="mad"))
    assert mask[20, 20, 8:32].all()
    assert not mask[5, 5, 5]
    assert 20 < threshold < 200                 # ~5 robust sigma of the noise
    forced, t = rough_mask(cube, RoughLabelSettings(threshold_method="mad", threshold=1e9))
    assert t == 1e9 and not forced.any()


def test_mad_threshold_is_median_plus_k_robust_sigma():
    values = np.array([0.0, 1.0, 2.0, 3.0, 100.0])   # median 2, MAD 1
    assert auto_threshold(values, "mad", 5.0) == pytest.approx(2 + 5 * 1.4826)


def test_fine_label_of_a_thick_rod_is_a_thin_centreline():
    rough = np.zeros((20, 20, 30), dtype=np.uint8)
    rough[8:13, 8:13, 5:25] = 255
    fine = fine_labels(rough)
    assert fine[10, 10, 8:22].all()             # the centreline …
    assert fine[10, 11, 12] and fine[11, 10, 12] and not fine[11, 11, 12]  # … dilated with 6 neighbours
    assert not fine[8, 8, 12]
    assert not fine_labels(np.pad(np.ones((3, 3, 1), np.uint8), 2)).any()  # 9 voxels: removed first


@pytest.mark.parametrize("cube_id", [1001, 1002])
def test_fine_labels_reproduce_dlmbmap_shipped_fine_labels(dlmbmap, cube_id):
    rough = tifffile.imread(dlmbmap / "Rough-label" / f"label-{cube_id}.tiff")
    shipped = tifffile.imread(dlmbmap / "Fine-label" / f"label-{cube_id}.tiff") != 0
    ours = fine_labels(rough)
    iou = (ours & shipped).sum() / (ours | shipped).sum()
    assert iou >= 0.99
    assert iou == 1.0                           # in fact voxel for voxel


def test_label_commands_write_uint8_0_255(dlmbmap, tmp_path, capsys):
    rough_dir = tmp_path / "rough"
    rough_dir.mkdir()
    shipped = tifffile.imread(dlmbmap / "Rough-label" / "label-1001.tiff")
    tifffile.imwrite(rough_dir / "label-1001.tiff", shipped[:60, :60, :60])
    assert axonseg_main(["fine-labels", "--rough", str(rough_dir), "--out", str(tmp_path / "fine")]) == 0
    fine = tifffile.imread(tmp_path / "fine" / "label-1001.tiff")
    assert fine.dtype == np.uint8 and set(np.unique(fine).tolist()) <= {0, 255}
    np.testing.assert_array_equal(fine != 0, fine_labels(shipped[:60, :60, :60]))
    assert axonseg_main(["fine-labels", "--rough", str(rough_dir), "--out", str(tmp_path / "fine")]) == 1
    assert "exist" in capsys.readouterr().err

    cubes = tmp_path / "cubes"
    cubes.mkdir()
    rng = np.random.default_rng(1)
    cube = rng.normal(1000, 10, (30, 30, 30)).astype(np.uint16)
    cube[15, 15, 3:27] += 400
    tifffile.imwrite(cubes / "volume-7.tiff", cube)
    written = rough_labels_for_folder(cubes, tmp_path / "roughs")
    assert [p.name for p in written] == ["label-7.tiff"]
    mask = tifffile.imread(written[0])
    assert set(np.unique(mask).tolist()) == {0, 255} and (mask[15, 15, 6:24] == 255).all()
    tifffile.imwrite(rough_dir / "label-1002.tiff", np.full((5, 5, 5), 7, np.uint8))
    with pytest.raises(ValueError, match="label-1002.tiff: rough mask has values"):
        fine_labels_for_folder(rough_dir, tmp_path / "fine2")
    assert not list((tmp_path / "fine2").glob("label-*"))
