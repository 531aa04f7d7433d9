"""One rule for every command (issue 18.3): an output is never an input, inside one, or around one;
``--overwrite`` replaces only files axonseg wrote. Each case hashes the inputs before and after."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import tifffile

from axonseg.cli.main import main as axonseg_main
from axonseg.io.tiff import write_tiff


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def _rough(folder: Path) -> Path:
    folder.mkdir(parents=True)
    mask = np.zeros((12, 16, 16), np.uint8)
    mask[6, 4:12, 3:13] = 255
    tifffile.imwrite(folder / "label-1.tiff", mask)
    return folder


def _cubes(folder: Path) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    tifffile.imwrite(folder / "volume-1.tiff", rng.integers(0, 500, (12, 16, 16)).astype(np.uint16))
    return folder


def _run_refused(tmp_path, argv, says):
    before = _digest(tmp_path)
    code = axonseg_main(argv)
    assert code == 1
    assert _digest(tmp_path) == before, "an input changed, or output was written"
    return code


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_fine_labels_never_replace_the_rough_masks_they_read(tmp_path, capsys, overwrite):
    rough = _rough(tmp_path / "rough")
    _run_refused(tmp_path, ["fine-labels", "--rough", str(rough), "--out", str(rough), *overwrite], "input")
    assert "must not be the input" in capsys.readouterr().err


def test_fine_labels_out_around_the_input_is_refused(tmp_path, capsys):
    rough = _rough(tmp_path / "labels" / "rough")
    _run_refused(tmp_path, ["fine-labels", "--rough", str(rough), "--out", str(tmp_path / "labels")], "input")


def test_rough_labels_never_write_into_the_cube_folder(tmp_path, capsys):
    cubes = _cubes(tmp_path / "cubes")
    _run_refused(tmp_path, ["rough-labels", "--cubes", str(cubes), "--out", str(cubes), "--method", "mad"], "input")
    assert "cubes" in capsys.readouterr().err


def test_overwrite_replaces_our_labels_never_a_hand_made_one(tmp_path, capsys):
    rough = _rough(tmp_path / "rough")
    out = tmp_path / "fine"
    assert axonseg_main(["fine-labels", "--rough", str(rough), "--out", str(out)]) == 0
    assert axonseg_main(["fine-labels", "--rough", str(rough), "--out", str(out), "--overwrite"]) == 0
    tifffile.imwrite(out / "label-1.tiff", np.ones((12, 16, 16), np.uint8))  # corrected by hand (Fiji)
    _run_refused(tmp_path, ["fine-labels", "--rough", str(rough), "--out", str(out), "--overwrite"], "not written")
    assert "not written by axonseg" in capsys.readouterr().err


def test_crop_cubes_never_write_into_the_input_volume(tmp_path, capsys):
    vol = tmp_path / "brain"
    vol.mkdir()
    for z in range(20):
        tifffile.imwrite(vol / f"z{z:03d}.tif", np.full((20, 20), z, np.uint16))
    points = tmp_path / "p.csv"
    points.write_text("z,y,x\n10,10,10\n")
    _run_refused(tmp_path, ["crop-cubes", "--volume", str(vol), "--points", str(points), "--out", str(vol),
                            "--size", "4"], "input")
    assert "brain" in capsys.readouterr().err


def test_density_out_inside_its_input_is_refused(tmp_path, capsys):
    import zarr

    z = zarr.create_array(str(tmp_path / "p.zarr"), shape=(8, 16, 16), chunks=(8, 16, 16), dtype=np.float32,
                          attributes={"voxel_size_um": [1.0, 1.0, 1.0]})
    z[:] = 0.0
    _run_refused(tmp_path, ["density", str(tmp_path / "p.zarr"), "--out", str(tmp_path / "p.zarr" / "d")], "input")
    assert "must not be the input" in capsys.readouterr().err


def test_write_tiff_marks_its_files(tmp_path):
    from axonseg.io.tiff import is_axonseg_tiff

    write_tiff(tmp_path / "a.tiff", np.zeros((2, 4, 4), np.uint8))
    tifffile.imwrite(tmp_path / "b.tiff", np.zeros((2, 4, 4), np.uint8))
    (tmp_path / "c.tiff").write_text("not a tiff")
    assert [is_axonseg_tiff(tmp_path / n) for n in ("a.tiff", "b.tiff", "c.tiff")] == [True, False, False]


def test_create_data_never_writes_its_task_inside_an_input_or_over_a_foreign_folder(tmp_path, capsys):
    from tests.test_create_data_cli import _args, _line_labels, make_tree

    root = make_tree(tmp_path / "in", _line_labels(2, 16), n_artifacts=1)
    inside = root / "base" / "train" / "volumes"
    _run_refused(tmp_path, _args(root, inside), "input")
    assert "must not be the input" in capsys.readouterr().err
    task = tmp_path / "raw" / "nnUNet_raw_data" / "Task611_Test"
    task.mkdir(parents=True)
    (task / "dataset.json").write_text("{}")  # a hand-made task of the same name
    _run_refused(tmp_path, _args(root, tmp_path / "raw", "--overwrite"), "not written")
    assert "not written by" in capsys.readouterr().err
