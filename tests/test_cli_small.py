"""Issue 18 item 51, the small ones: ``axonseg --version``, a help text for every predict flag,
progress bars (off with ``--quiet``) for density and rough-labels, density ``--overwrite``."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
import tifffile
import zarr

import axonseg
from axonseg.cli.main import main
from axonseg.cli.predict import _parser as predict_parser


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag, capsys):
    assert main([flag]) == 0
    assert capsys.readouterr().out == f"axonseg {axonseg.__version__}\n"


def test_every_predict_option_has_a_help_text():
    missing = [a.option_strings[0] for a in predict_parser()._actions
               if a.option_strings and a.help in (None, "", argparse.SUPPRESS)]
    assert missing == []


def _cubes(tmp_path):
    folder = tmp_path / "cubes"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in (1, 2):
        cube = rng.normal(100, 5, (16, 24, 24)).astype(np.float32)
        cube[8, 12, 2:22] += 200  # a bright line
        tifffile.imwrite(folder / f"volume-{i}.tiff", cube)
    return folder


def test_rough_labels_shows_a_progress_bar_unless_quiet(tmp_path, capsys):
    cubes = _cubes(tmp_path)
    assert main(["rough-labels", "--cubes", str(cubes), "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "rough labels: 100%" in err and "2/2" in err
    assert main(["rough-labels", "--cubes", str(cubes), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert "rough labels" not in capsys.readouterr().err


def _probability(tmp_path):
    path = tmp_path / "p.zarr"
    z = zarr.create_array(str(path), shape=(16, 32, 32), chunks=(8, 16, 16), dtype=np.float32,
                          attributes={"voxel_size_um": [4.0, 2.0, 2.0]})
    z[:] = np.random.default_rng(1).random((16, 32, 32)).astype(np.float32)
    return path


def test_density_progress_bar_and_overwrite_of_its_own_folder(tmp_path, capsys):
    src, out = _probability(tmp_path), tmp_path / "dens"
    args = ["density", str(src), "--out", str(out), "--cell-size-um", "16"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "density blocks: 100%" in err
    assert main(args + ["--quiet"]) == 1  # exists: refused, naming the way out
    assert f"{out}: exists; pass --overwrite to replace it" in capsys.readouterr().err
    (out / "stale.txt").write_text("left from before")  # replaced with the whole folder
    assert main(args + ["--quiet", "--overwrite"]) == 0
    assert "density blocks" not in capsys.readouterr().err
    assert (out / "axon_fraction.ome.zarr").is_dir() and not (out / "stale.txt").exists()
