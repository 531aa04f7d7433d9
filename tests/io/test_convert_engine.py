"""Conversion and pyramids on the block engine: serial == Dask == the input and its in-memory 2x
reductions; an interrupted conversion resumes the rows it had not written and ends byte-identical."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr

from axonseg.io import convert as convert_mod
from axonseg.io import pyramid
from axonseg.io.convert import convert_to_ome_zarr
from axonseg.io.ome_zarr import ZarrFormat
from axonseg.io.resumable import partial_path


@pytest.fixture(scope="module")
def slices(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slices")
    vol = np.random.default_rng(5).integers(0, 4000, (64, 70, 66)).astype(np.uint16)
    for z, sl in enumerate(vol):
        tifffile.imwrite(folder / f"img_{z:03d}.tif", sl)
    return folder, vol


def _levels(path):
    g = zarr.open_group(str(path), mode="r")
    return [g[k][:] for k in sorted(g.array_keys(), key=int)]


def _reference(vol, n):
    out = [vol]
    for _ in range(n - 1):
        out.append(pyramid.downsample_2x(out[-1], "mean"))
    return out


@pytest.mark.parametrize("fmt", [ZarrFormat("0.5"), ZarrFormat("0.4"), ZarrFormat("0.5", (16, 32, 32))],
                         ids=["ngff0.5", "ngff0.4", "sharded"])
def test_serial_equals_dask_equals_the_input(tmp_path, slices, fmt):
    folder, vol = slices
    outs = []
    for runner in ("serial", "dask"):
        out = convert_to_ome_zarr(folder, tmp_path / f"{runner}.ome.zarr", (2.0, 1.0, 1.0), (8, 16, 16), 2,
                                  progress=False, fmt=fmt, runner=runner, workers=2)
        outs.append(_levels(out))
    assert len(outs[0]) == 2
    for a, b, ref in zip(outs[0], outs[1], _reference(vol, 2)):
        assert (a == b).all() and (a == ref).all()
    # the pyramid's mean is rounded as before: level 1 = round(mean of 2x2x2)
    blk = vol[:2, :2, :2].astype(np.float32).mean()
    assert outs[0][1][0, 0, 0] == np.round(blk)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dask.ome.zarr", "serial.ome.zarr"]


def test_an_interrupted_conversion_resumes_only_the_rest(tmp_path, slices, monkeypatch):
    folder, vol = slices
    args = (folder, tmp_path / "out.ome.zarr", (2.0, 1.0, 1.0), (8, 16, 16), 2)
    once = convert_to_ome_zarr(folder, tmp_path / "once.ome.zarr", *args[2:], progress=False)
    store = convert_mod._store

    def failing(level0, staging, blocks, index, data):
        if index == 6:
            raise KeyboardInterrupt
        return store(level0, staging, blocks, index, data)

    monkeypatch.setattr(convert_mod, "_store", failing)
    with pytest.raises(KeyboardInterrupt):
        convert_to_ome_zarr(*args, progress=False)
    assert not args[1].exists() and partial_path(args[1]).is_dir()
    monkeypatch.setattr(convert_mod, "_store", store)
    loaded, load = [], convert_mod._load
    monkeypatch.setattr(convert_mod, "_load", lambda src, blocks, i: loaded.append(i) or load(src, blocks, i))
    convert_to_ome_zarr(*args, progress=False)
    assert min(loaded) == 6 and len(loaded) == len(set(loaded))  # rows 0-5 were not read again
    for a, b in zip(_levels(once), _levels(args[1])):
        assert (a == b).all()
    for meta in ("zarr.json", "0/zarr.json", "1/zarr.json"):
        assert (once / meta).read_text() == (args[1] / meta).read_text().replace("out.ome.zarr", "once.ome.zarr")
    assert not partial_path(args[1]).exists()


def test_another_voxel_size_starts_over(tmp_path, slices, monkeypatch):
    folder, _ = slices

    def failing(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(convert_mod, "_store", failing)
    with pytest.raises(KeyboardInterrupt):
        convert_to_ome_zarr(folder, tmp_path / "o.ome.zarr", (2.0, 1.0, 1.0), (8, 16, 16), 2, progress=False)
    monkeypatch.undo()
    out = convert_to_ome_zarr(folder, tmp_path / "o.ome.zarr", (3.0, 1.0, 1.0), (8, 16, 16), 2, progress=False)
    assert zarr.open_group(str(out)).attrs["axonseg"]["voxel_size_um"] == [3.0, 1.0, 1.0]
