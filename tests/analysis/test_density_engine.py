"""Density maps on the block engine: serial == Dask == in memory; an interrupted run resumes the blocks it had
not finished and ends byte-identical to an uninterrupted one."""
from __future__ import annotations

import numpy as np
import pytest
import zarr

from axonseg.analysis import density_job
from axonseg.analysis.density import DensitySettings, cell_shape_vox, compute_density
from axonseg.analysis.density_run import run_density
from axonseg.io.ome_zarr import create_ome_zarr, write_region
from axonseg.io.resumable import partial_path
from axonseg.synthetic import TubeSettings, make_tube_volume

VOXEL = (2.0, 1.0, 1.5)
SETTINGS = dict(cell_size_um=6.0, threshold=0.5, halo_vox=8, block_target_vox=12)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A tube probability volume and an atlas annotation on its grid, both as OME-Zarr."""
    root = tmp_path_factory.mktemp("density")
    _, label = make_tube_volume((37, 53, 45), np.random.default_rng(3), TubeSettings(n_tubes=5, radius_vox=1.2))
    prob = (label * 230).astype(np.uint8)
    atlas = np.zeros(prob.shape, np.int32)
    atlas[:, :20] = 7
    atlas[:, 20:, :30] = 9
    for name, arr in (("prob", prob), ("atlas", atlas)):
        create_ome_zarr(root / f"{name}.ome.zarr", arr.shape, (16, 16, 16), arr.dtype, VOXEL, 1, name)
        write_region(root / f"{name}.ome.zarr", tuple(slice(0, s) for s in arr.shape), arr)
    return root, prob, atlas


def _maps(out):
    return [zarr.open_array(str(out / f"{m}.ome.zarr" / "0"))[:] for m in density_job.MAPS]


def test_serial_equals_dask_equals_in_memory(tmp_path, data):
    root, prob, atlas = data
    s = DensitySettings(**SETTINGS)
    cell = cell_shape_vox(s.cell_size_um, VOXEL)
    fraction, length, regions = compute_density(prob, VOXEL, s, atlas,
                                                block_vox=tuple(c * 2 for c in cell))
    outs = {}
    for runner in ("serial", "dask"):
        out = tmp_path / runner
        run_density(root / "prob.ome.zarr", out, DensitySettings(**SETTINGS, runner=runner),
                    atlas_path=root / "atlas.ome.zarr")
        outs[runner] = out
        f, l = _maps(out)
        np.testing.assert_allclose(f, fraction, rtol=0, atol=1e-7)
        np.testing.assert_allclose(l, length, rtol=1e-6, atol=1e-5)
    assert len(regions) == 3 and (outs["serial"] / "regions.csv").read_text() == (outs["dask"] / "regions.csv").read_text()
    for a, b in zip(_maps(outs["serial"]), _maps(outs["dask"])):
        assert (a == b).all()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging or lock left


def test_an_interrupted_run_resumes_only_the_rest(tmp_path, data, monkeypatch):
    root, _, _ = data
    settings = DensitySettings(**SETTINGS)
    run_density(root / "prob.ome.zarr", tmp_path / "once", settings, atlas_path=root / "atlas.ome.zarr")
    store = density_job.store

    def failing(job, index, bd):
        if index == 4:
            raise KeyboardInterrupt
        return store(job, index, bd)

    monkeypatch.setattr(density_job, "store", failing)
    with pytest.raises(KeyboardInterrupt):
        run_density(root / "prob.ome.zarr", tmp_path / "twice", settings, atlas_path=root / "atlas.ome.zarr")
    assert not (tmp_path / "twice").exists() and partial_path(tmp_path / "twice").is_dir()
    monkeypatch.setattr(density_job, "store", store)
    ran, compute = [], density_job.compute
    monkeypatch.setattr(density_job, "compute", lambda job, i, *a: ran.append(i) or compute(job, i, *a))
    run_density(root / "prob.ome.zarr", tmp_path / "twice", settings, atlas_path=root / "atlas.ome.zarr")
    assert min(ran) == 4 and len(ran) == len(set(ran))  # blocks 0-3 were not computed again
    for a, b in zip(_maps(tmp_path / "once"), _maps(tmp_path / "twice")):
        assert (a == b).all()
    for name in ("regions.csv", "axon_fraction.tif", "axon_length_um.tif"):
        assert (tmp_path / "once" / name).read_bytes() == (tmp_path / "twice" / name).read_bytes()


def test_other_settings_start_over(tmp_path, data, monkeypatch):
    root, _, _ = data

    def failing(job, index, bd):
        raise KeyboardInterrupt

    monkeypatch.setattr(density_job, "store", failing)
    with pytest.raises(KeyboardInterrupt):
        run_density(root / "prob.ome.zarr", tmp_path / "out", DensitySettings(**SETTINGS))
    monkeypatch.undo()
    run_density(root / "prob.ome.zarr", tmp_path / "out", DensitySettings(**{**SETTINGS, "threshold": 0.9}))
    assert (tmp_path / "out" / "density.json").is_file() and not partial_path(tmp_path / "out").exists()
