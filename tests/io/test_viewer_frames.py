"""The low-resolution maps of a prediction (tissue mask, scout map) and the density maps sit over the
brain in any viewer and follow its NGFF version (issue 18 items 24, 25), read with zarr and
ome-zarr-models, not with axonseg's reader. Expected placements are computed by hand: cell ``i`` of
``c`` voxels covers voxels ``[i*c, (i+1)*c)``, so its centre is ``origin + (i*c + (c-1)/2) * voxel``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from ome_zarr_models import open_ome_zarr
from ome_zarr_models.v04.image import Image as Image04
from ome_zarr_models.v05.image import Image as Image05

from axonseg.analysis.density import DensitySettings
from axonseg.analysis.density_run import run_density
from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.io.ome_zarr import ZarrFormat, create_ome_zarr, write_region
from tests.inference.helpers import write_model

FAST = dict(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32), num_threads=1, preview=False)
VOXEL, ORIGIN = (4.0, 2.0, 2.0), (100.0, 50.0, -20.0)


@pytest.fixture(scope="module")
def model16(tmp_path_factory) -> Path:
    return write_model(tmp_path_factory.mktemp("model") / "m16.pth", patch=(16, 16, 16), pools=2)


def _input(path: Path, version: str) -> Path:
    create_ome_zarr(path, (64, 64, 64), (16, 32, 32), np.uint16, VOXEL, 1, "in", origin_um=ORIGIN,
                    fmt=ZarrFormat(version))
    write_region(path, (slice(0, 64),) * 3,
                 np.random.default_rng(3).integers(500, 3000, size=(64, 64, 64), dtype=np.uint16))
    return path


def _level0(path: Path, version: str) -> tuple[list[float], list[float]]:
    """(scale, translation) of level 0, read with ome-zarr-models as an image of ``version``."""
    group = open_ome_zarr(zarr.open_group(str(path), mode="r"), version=version)
    assert isinstance(group, Image04 if version == "0.4" else Image05)
    attrs = group.attributes
    ms = attrs.multiscales[0] if version == "0.4" else attrs.ome.multiscales[0]
    t = {c.type: c for c in ms.datasets[0].coordinateTransformations}
    return list(t["scale"].scale), list(t["translation"].translation)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_tissue_and_scout_maps_sit_over_the_brain_in_its_ngff_version(tmp_path, model16, version):
    src = _input(tmp_path / "in.ome.zarr", version)
    out = tmp_path / "out"
    predict_whole_brain(src, model16, out, PredictSettings(**FAST, ngff_version=version, scout_threshold=0.5,
                                                           tissue_downsample_vox=8), progress=False)
    for name, c in (("tissue", 8), ("scout", 16)):
        path = out / f"{name}.ome.zarr"
        assert (path / (".zgroup" if version == "0.4" else "zarr.json")).exists(), name
        scale, translation = _level0(path, version)
        assert scale == [c * v for v in VOXEL], name
        # cell 0 covers voxels 0..c-1: centre at origin + (c - 1) / 2 * voxel
        assert np.allclose(translation, [o + (c - 1) / 2 * v for o, v in zip(ORIGIN, VOXEL)]), name


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_density_follows_the_predictions_ngff_version_by_default(tmp_path, version):
    src = _input(tmp_path / "in.ome.zarr", version)
    run_density(src, tmp_path / "dens", DensitySettings(cell_size_um=16.0, halo_vox=2))
    for name in ("axon_fraction", "axon_length_um"):
        path = tmp_path / "dens" / f"{name}.ome.zarr"
        assert (path / (".zgroup" if version == "0.4" else "zarr.json")).exists(), name
        scale, translation = _level0(path, version)
        assert scale == [16.0, 16.0, 16.0]  # cells of 4 x 8 x 8 voxels
        assert np.allclose(translation, [100.0 + 1.5 * 4, 50.0 + 3.5 * 2, -20.0 + 3.5 * 2])
    # an explicit format still wins
    run_density(src, tmp_path / "dens2", DensitySettings(cell_size_um=16.0, halo_vox=2),
                fmt=ZarrFormat("0.5" if version == "0.4" else "0.4"))
    other = tmp_path / "dens2" / "axon_fraction.ome.zarr"
    assert (other / ("zarr.json" if version == "0.4" else ".zgroup")).exists()
