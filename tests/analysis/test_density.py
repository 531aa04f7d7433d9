"""Density maps: chunked == in-memory on an odd shape with unaligned blocks; files and CLI."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import tifffile
import zarr

from axonseg.analysis.density import DensitySettings, cell_shape_vox, compute_density
from axonseg.analysis.skeleton import postprocess, skeleton_length_um
from axonseg.cli.density import main as density_main
from axonseg.io import open_volume
from axonseg.io.ome_zarr import create_ome_zarr, write_region
from axonseg.synthetic import TubeSettings, make_tube_volume

VOXEL = (2.0, 1.0, 1.5)


@pytest.fixture(scope="module")
def prob():
    _, label = make_tube_volume((37, 53, 45), np.random.default_rng(3),
                                TubeSettings(n_tubes=5, radius_vox=1.2))
    return (label * 230).astype(np.uint8)


def test_chunked_equals_in_memory(prob):
    s = DensitySettings(cell_size_um=6.0, threshold=0.5, halo_vox=8)
    cell = cell_shape_vox(s.cell_size_um, VOXEL)
    assert cell == (3, 6, 4)
    whole = tuple(-(-n // c) * c for n, c in zip(prob.shape, cell))
    f1, l1, _ = compute_density(prob, VOXEL, s, block_vox=whole)          # one block: in memory
    f2, l2, _ = compute_density(prob, VOXEL, s, block_vox=(9, 12, 8))     # unaligned with shape
    assert f1.shape == (13, 9, 12)
    np.testing.assert_array_equal(f1, f2)
    # same total as the whole-volume skeleton, and the same per-cell lengths
    _, skel = postprocess(prob, 0.5)
    assert l1.sum() == pytest.approx(skeleton_length_um(skel, VOXEL), rel=1e-5)
    np.testing.assert_allclose(l2, l1, rtol=1e-5, atol=1e-4)   # halo 8 >> tube radius: equal
    # the fraction of a cell is its mask voxels over its voxels (partial last cells too)
    mask = prob >= 128
    assert f1[-1, -1, -1] == pytest.approx(mask[36:, 48:, 44:].mean())


def test_density_command_on_ome_zarr_with_atlas(tmp_path, prob):
    path = tmp_path / "probability.ome.zarr"
    create_ome_zarr(path, prob.shape, (16, 16, 16), np.uint8, VOXEL, 1, "probability")
    write_region(path, tuple(slice(0, n) for n in prob.shape), prob)
    atlas = np.zeros(prob.shape, np.uint16)
    atlas[:, :, 20:] = 5
    tifffile.imwrite(tmp_path / "atlas.tif", atlas)
    (tmp_path / "names.csv").write_text("id,acronym,name\n0,bg,outside\n5,CTX,cortex\n")
    out = tmp_path / "density"
    rc = density_main([str(path), "--out", str(out), "--cell-size-um", "6", "--atlas",
                       str(tmp_path / "atlas.tif"), "--region-names", str(tmp_path / "names.csv")])
    assert rc == 0
    fr, info = open_volume(out / "axon_fraction.ome.zarr")
    assert info.voxel_size_um == (6.0, 6.0, 6.0)
    assert fr.shape == (13, 9, 12)
    tif = tifffile.imread(out / "axon_length_um.tif")
    summary = json.loads((out / "density.json").read_text())
    assert tif.sum() == pytest.approx(summary["total_length_um"], rel=1e-5)
    rows = list(csv.DictReader((out / "regions.csv").open()))
    assert [r["name"] for r in rows] == ["outside", "cortex"]
    assert int(rows[1]["voxels"]) == atlas.size - 20 * 37 * 53
    assert sum(1e3 * float(r["length_mm"]) for r in rows) == pytest.approx(tif.sum(), rel=1e-4)
    assert int(rows[1]["axon_voxels"]) == int((prob[:, :, 20:] >= 128).sum())


def test_density_bad_input_one_error_no_output(tmp_path, capsys):
    z = zarr.open_array(str(tmp_path / "p.zarr"), mode="w", shape=(8, 8, 8), dtype="uint8")
    z[:] = 0
    out = tmp_path / "out"
    assert density_main([str(tmp_path / "p.zarr"), "--out", str(out)]) == 1
    assert "voxel size" in capsys.readouterr().err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["p.zarr"]
    (tmp_path / "bad.yaml").write_text("cell_size: 10\n")
    assert density_main([str(tmp_path / "p.zarr"), "--out", str(out), "--config",
                         str(tmp_path / "bad.yaml")]) == 1
    assert "unknown key" in capsys.readouterr().err
