"""Conversion of TIFF slices / TIFF stacks / HDF5 to OME-Zarr: lossless, lazy, no partial output."""
from __future__ import annotations

import shutil

import h5py

import numpy as np
import pytest
import tifffile
import zarr

from axonseg.cli.main import main as axonseg_main
from axonseg.io import VolumeError, open_volume
from axonseg.io.convert import convert_to_ome_zarr
from axonseg.io.ome_zarr import create_ome_zarr
from axonseg.io.pyramid import build_pyramid


@pytest.fixture
def volume():
    return np.random.default_rng(0).integers(0, 60000, size=(21, 70, 53), dtype=np.uint16)


def _check(dst, volume, voxel):
    arr, info = open_volume(dst)
    assert info.format == "ome-zarr" and info.voxel_size_um == voxel
    assert np.array_equal(arr.compute(), volume)


def test_slice_folder_ordered_by_last_number(tmp_path, volume):
    folder = tmp_path / "slices"
    folder.mkdir()
    for z in range(volume.shape[0]):  # unpadded numbers: lexical order would be wrong
        tifffile.imwrite(folder / f"brain_c1_{z}.tif", volume[z], rowsperstrip=8)
    dst = tmp_path / "out.ome.zarr"
    assert axonseg_main(["convert", str(folder), str(dst), "--voxel-size-um", "5", "2", "2",
                         "--chunk", "8", "16", "32", "--quiet"]) == 0
    _check(dst, volume, (5.0, 2.0, 2.0))
    assert zarr.open_array(str(dst / "0")).chunks == (8, 16, 32)


def test_tiff_stack_and_hdf5(tmp_path, volume):
    tifffile.imwrite(tmp_path / "stack.tif", volume)
    convert_to_ome_zarr(tmp_path / "stack.tif", tmp_path / "a.ome.zarr", (1, 1, 1), (8, 32, 32), progress=False)
    _check(tmp_path / "a.ome.zarr", volume, (1.0, 1.0, 1.0))
    with h5py.File(tmp_path / "v.h5", "w") as f:
        f.create_dataset("raw", data=volume, chunks=(4, 35, 53))
    convert_to_ome_zarr(tmp_path / "v.h5", tmp_path / "b.ome.zarr", (3, 1, 1), (8, 32, 32), progress=False)
    _check(tmp_path / "b.ome.zarr", volume, (3.0, 1.0, 1.0))


def test_bad_inputs_leave_no_partial_output(tmp_path, volume, capsys):
    folder = tmp_path / "slices"
    folder.mkdir()
    for z in range(5):
        tifffile.imwrite(folder / f"{z:04d}.tif", volume[z] if z != 3 else volume[z, :60])
    dst = tmp_path / "out.ome.zarr"
    with pytest.raises(VolumeError, match="0003.tif"):
        convert_to_ome_zarr(folder, dst, (1, 1, 1), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slices"]  # not even the temporary folder
    tifffile.imwrite(folder / "0003.tif", volume[3])  # slices now fine: no voxel size -> 1 um, one warning
    assert axonseg_main(["convert", str(folder), str(dst), "--quiet"]) == 0  # warning: tests/io/test_voxel_size_rule.py
    shutil.rmtree(dst)
    dst.mkdir()
    assert axonseg_main(["convert", str(folder), str(dst), "--voxel-size-um", "1", "1", "1", "--quiet"]) == 1


def test_pyramid_levels_are_2x_means(tmp_path):
    data = np.arange(16 * 20 * 12, dtype=np.uint8).reshape(16, 20, 12)
    create_ome_zarr(tmp_path / "p.ome.zarr", data.shape, (4, 8, 4), np.uint8, (1, 1, 1), 2, name="p")
    zarr.open_array(str(tmp_path / "p.ome.zarr" / "0"), mode="r+")[:] = data
    build_pyramid(tmp_path / "p.ome.zarr")
    expected = np.round(data.reshape(8, 2, 10, 2, 6, 2).astype(np.float32).mean(axis=(1, 3, 5)))
    assert np.array_equal(zarr.open_array(str(tmp_path / "p.ome.zarr" / "1"))[:], expected.astype(np.uint8))
