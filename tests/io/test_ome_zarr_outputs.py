"""Every OME-Zarr output kind, NGFF 0.4 (zarr v2) and 0.5 (zarr v3), checked by an independent
validator (ome-zarr-models) and for physical placement: pyramid levels and density cells sit
where the voxels they summarise are (scale AND translation, read back from the metadata)."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from ome_zarr_models import open_ome_zarr
from ome_zarr_models.v04.image import Image as Image04
from ome_zarr_models.v04.image_label import ImageLabel as ImageLabel04
from ome_zarr_models.v04.labels import Labels as Labels04
from ome_zarr_models.v05.image import Image as Image05
from ome_zarr_models.v05.image_label import ImageLabel as ImageLabel05
from ome_zarr_models.v05.labels import Labels as Labels05

from axonseg.analysis.density import DensitySettings
from axonseg.analysis.density_run import run_density
from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.io import open_volume
from axonseg.io.convert import convert_to_ome_zarr
from axonseg.io.ome_zarr import ZarrFormat, create_label, create_ome_zarr, write_region
from axonseg.io.pyramid import build_pyramid
from tests.inference.helpers import write_model

MODELS = {"0.4": (Image04, Labels04, ImageLabel04), "0.5": (Image05, Labels05, ImageLabel05)}
FAST = dict(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32), num_threads=1, preview=False)


@pytest.fixture(scope="module")
def model16(tmp_path_factory) -> Path:
    return write_model(tmp_path_factory.mktemp("model") / "m16.pth", patch=(16, 16, 16), pools=2)


def transforms(path: Path, version: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(scale, translation) per level, read with ome-zarr-models (not with our own reader)."""
    group = open_ome_zarr(zarr.open_group(str(path), mode="r"), version=version)
    out = []
    for ds in group.attributes.multiscales[0].datasets if version == "0.4" else \
            group.attributes.ome.multiscales[0].datasets:
        t = {c.type: c for c in ds.coordinateTransformations}
        out.append((np.array(t["scale"].scale, float), np.array(t["translation"].translation, float)))
    return out


def centre_um(scale, translation, index) -> np.ndarray:
    return np.asarray(translation) + np.asarray(index, float) * np.asarray(scale)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_pyramid_coarse_voxel_centre_is_mean_of_its_fine_voxel_centres(tmp_path, version):
    voxel, origin = (4.0, 1.5, 0.75), (10.0, -5.0, 2.0)
    path = tmp_path / "img.ome.zarr"
    create_ome_zarr(path, (40, 48, 64), (8, 16, 16), np.float32, voxel, 3, "img", fmt=ZarrFormat(version),
                    origin_um=origin)
    levels = transforms(path, version)
    assert len(levels) == 3
    s0, t0 = levels[0]
    assert np.allclose(s0, voxel) and np.allclose(t0, origin)
    for k, (sk, tk) in enumerate(levels):
        f = 2 ** k
        for j in [(0, 0, 0), (1, 2, 3), (4, 5, 7)]:
            fine = [np.array(j) * f + np.array(o) for o in itertools.product(range(f), repeat=3)]
            expected = np.mean([centre_um(s0, t0, i) for i in fine], axis=0)
            assert np.allclose(centre_um(sk, tk, j), expected), (k, j)
    # and the data agrees: a bright 4x4x4 block at voxels 8..11 lands on level-2 voxel 2 only
    data = np.zeros((40, 48, 64), np.float32)
    data[8:12, 8:12, 8:12] = 1
    write_region(path, (slice(0, 40), slice(0, 48), slice(0, 64)), data)
    build_pyramid(path)
    lvl2 = zarr.open_array(str(path / "2"))[:]
    assert np.argwhere(lvl2 == 1).tolist() == [[2, 2, 2]] and lvl2.sum() == 1


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_convert_predict_mask_density_validate(tmp_path, model16, version):
    image, labels_cls, label_cls = MODELS[version]
    vol = np.random.default_rng(0).integers(500, 3000, size=(64, 64, 66), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", vol)
    conv = convert_to_ome_zarr(tmp_path / "stack.tif", tmp_path / "in.ome.zarr", (4.0, 2.0, 2.0),
                               (16, 32, 32), progress=False, fmt=ZarrFormat(version))
    assert isinstance(open_ome_zarr(zarr.open_group(str(conv), mode="r"), version=version), image)
    assert (conv / ("zarr.json" if version == "0.5" else ".zgroup")).exists()

    out = tmp_path / "pred"
    predict_whole_brain(conv, model16, out, PredictSettings(**FAST, mask_threshold=0.5, ngff_version=version,
                                                            pyramid_max_levels=2), progress=False)
    prob_path = out / "probability.ome.zarr"
    prob = open_ome_zarr(zarr.open_group(str(prob_path), mode="r"), version=version)
    assert isinstance(prob, image)
    labels = open_ome_zarr(zarr.open_group(str(prob_path / "labels"), mode="r"), version=version)
    assert isinstance(labels, labels_cls)
    mask = open_ome_zarr(zarr.open_group(str(prob_path / "labels" / "mask"), mode="r"), version=version)
    assert isinstance(mask, label_cls)
    il = mask.attributes.image_label if version == "0.4" else mask.attributes.ome.image_label
    colors = {c.label_value: tuple(c.rgba) for c in il.colors}
    assert colors[0][3] == 0 and colors[255][3] == 255  # background transparent, axons opaque
    label_levels, image_levels = transforms(prob_path / "labels" / "mask", version), transforms(prob_path, version)
    assert len(label_levels) == len(image_levels) == 2
    assert all(np.allclose(a, b) for la, lb in zip(label_levels, image_levels) for a, b in zip(la, lb))
    # back-compatible readers: open_volume reads the image and the label, values as documented
    p, pinfo = open_volume(prob_path)
    m, minfo = open_volume(prob_path / "labels" / "mask")
    assert pinfo.voxel_size_um == minfo.voxel_size_um == (4.0, 2.0, 2.0)
    p, m = p.compute(), m.compute()
    assert set(np.unique(m)) <= {0, 255} and np.array_equal(m == 255, p >= 128)

    dens = tmp_path / "dens"
    run_density(prob_path, dens, DensitySettings(cell_size_um=8.0, halo_vox=2), fmt=ZarrFormat(version))
    for name in ("axon_fraction", "axon_length_um"):
        g = open_ome_zarr(zarr.open_group(str(dens / f"{name}.ome.zarr"), mode="r"), version=version)
        assert isinstance(g, image)
        ms = g.attributes.multiscales[0] if version == "0.4" else g.attributes.ome.multiscales[0]
        assert len(ms.datasets) == 1 and ms.type == "none" and "2x2x2" not in str(ms.metadata)


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_density_cell_centres_overlay_the_brain(tmp_path, version):
    """Cell i covers voxels [i*c, (i+1)*c): its centre is the mean of their centres, in the brain's
    frame (including a brain whose voxel 0 is not at 0 µm)."""
    voxel, origin = (4.0, 2.0, 1.0), (100.0, 50.0, -20.0)
    prob = tmp_path / "prob.ome.zarr"
    shape = (24, 40, 48)
    create_ome_zarr(prob, shape, (12, 20, 24), np.uint8, voxel, 1, "p", fmt=ZarrFormat(version), origin_um=origin)
    data = np.zeros(shape, np.uint8)
    data[2:4, 8:12, 16:24] = 255  # exactly cell (1, 2, 2) of 8 um cells = (2, 4, 8) voxels
    write_region(prob, tuple(slice(0, s) for s in shape), data)
    run_density(prob, tmp_path / "d", DensitySettings(cell_size_um=8.0, halo_vox=2), fmt=ZarrFormat(version))
    (s_d, t_d), = transforms(tmp_path / "d" / "axon_fraction.ome.zarr", version)
    (s_p, t_p), = transforms(prob, version)
    cell = np.array([2, 4, 8])
    assert np.allclose(s_d, cell * np.array(voxel))
    for i in [(0, 0, 0), (1, 2, 2), (11, 9, 5)]:
        vox = [np.array(i) * cell + np.array(o) for o in itertools.product(*(range(c) for c in cell))]
        expected = np.mean([centre_um(s_p, t_p, v) for v in vox], axis=0)
        assert np.allclose(centre_um(s_d, t_d, i), expected), i
    frac, _ = open_volume(tmp_path / "d" / "axon_fraction.ome.zarr")
    frac = frac.compute()
    assert np.argwhere(frac > 0).tolist() == [[1, 2, 2]] and frac[1, 2, 2] == 1
    # the filled cell is drawn centred on the filled voxels: mean of their physical centres
    filled = np.mean([centre_um(s_p, t_p, v) for v in np.argwhere(data > 0)], axis=0)
    assert np.allclose(centre_um(s_d, t_d, (1, 2, 2)), filled)


def test_label_has_the_image_grid_and_is_listed(tmp_path):
    path = tmp_path / "img.ome.zarr"
    create_ome_zarr(path, (40, 70, 80), (16, 32, 32), np.uint8, (4, 2, 2), 2, "img")
    create_label(path, "mask")
    create_label(path, "other", colors={1: (255, 255, 0, 255)})
    g = zarr.open_group(str(path), mode="r")
    assert g["labels"].attrs["ome"]["labels"] == ["mask", "other"]
    for k in ("0", "1"):
        assert g["labels/mask"][k].shape == g[k].shape and g["labels/mask"][k].chunks == g[k].chunks
    with pytest.raises(FileExistsError):
        create_label(path, "mask")


def test_sharded_outputs_equal_unsharded_and_use_fewer_files(tmp_path, model16):
    vol = np.random.default_rng(1).integers(0, 60000, size=(64, 64, 64), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", vol)
    plain = convert_to_ome_zarr(tmp_path / "stack.tif", tmp_path / "plain.ome.zarr", (4, 2, 2), (8, 16, 16),
                                progress=False)
    sharded = convert_to_ome_zarr(tmp_path / "stack.tif", tmp_path / "sharded.ome.zarr", (4, 2, 2), (8, 16, 16),
                                  progress=False, fmt=ZarrFormat("0.5", (16, 32, 32)))
    a0 = zarr.open_array(str(sharded / "0"))
    assert a0.shards == (16, 32, 32) and a0.chunks == (8, 16, 16)
    for k in ("0", "1"):
        assert np.array_equal(zarr.open_array(str(plain / k))[:], zarr.open_array(str(sharded / k))[:])
    files = [sum(1 for p in d.rglob("*") if p.is_file()) for d in (plain, sharded)]
    assert files[1] * 4 < files[0], files
    assert isinstance(open_ome_zarr(zarr.open_group(str(sharded), mode="r"), version="0.5"), Image05)

    src = tmp_path / "in.zarr"
    zarr.create_array(str(src), shape=(64, 64, 64), chunks=(16, 32, 32), dtype=np.uint16,
                      attributes={"voxel_size_um": [4.0, 2.0, 2.0]})[:] = vol
    outs = {}
    for name, shard in (("plain", None), ("sharded", (16, 32, 32))):
        predict_whole_brain(src, model16, tmp_path / name, PredictSettings(**FAST, mask_threshold=0.5,
                                                                          shard_shape_vox=shard), progress=False)
        outs[name] = tmp_path / name / "probability.ome.zarr"
    assert zarr.open_array(str(outs["sharded"] / "0")).shards == (16, 32, 32)
    assert zarr.open_array(str(outs["sharded"] / "labels" / "mask" / "0")).shards == (16, 32, 32)
    for sub in ("0", "1", "labels/mask/0"):
        assert np.array_equal(zarr.open_array(str(outs["plain"] / sub))[:],
                              zarr.open_array(str(outs["sharded"] / sub))[:]), sub


def test_bad_format_options_are_refused_with_the_option_named():
    with pytest.raises(ValueError, match="ngff_version"):
        ZarrFormat("0.6")
    with pytest.raises(ValueError, match="zarr v3"):
        ZarrFormat("0.4", (64, 64, 64))
    with pytest.raises(ValueError, match="shard"):
        PredictSettings(chunk_shape_vox=(16, 16, 16), block_shape_vox=(32, 32, 32), shard_shape_vox=(24, 16, 16))
    with pytest.raises(ValueError, match="shard_shape_vox"):
        PredictSettings(chunk_shape_vox=(16, 16, 16), block_shape_vox=(32, 32, 32), shard_shape_vox=(64, 16, 16))


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_ome_zarr_py_reads_the_mask_as_a_label_of_the_image(tmp_path, version):
    """ome-zarr-py's reader (what napari-ome-zarr turns into layers) finds the image, then the mask
    under labels/ as a Label node with our colours and the image's transformations."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Label, Multiscales, Reader

    path = tmp_path / "probability.ome.zarr"
    create_ome_zarr(path, (64, 70, 80), (16, 32, 32), np.uint8, (4, 2, 2), 3, "probability", fmt=ZarrFormat(version))
    create_label(path, "mask")
    nodes = {Path(str(n.zarr.path)).relative_to(tmp_path).as_posix(): n for n in Reader(parse_url(str(path)))()}
    image, mask = nodes["probability.ome.zarr"], nodes["probability.ome.zarr/labels/mask"]
    assert image.load(Multiscales) is not None and image.load(Label) is None
    assert mask.load(Label) is not None and len(mask.data) == 3
    assert mask.metadata["color"] == {0: [0.0, 0.0, 0.0, 0.0], 255: [1.0, 0.0, 1.0, 1.0]}
    assert mask.metadata["coordinateTransformations"] == image.metadata["coordinateTransformations"]
    assert image.metadata["coordinateTransformations"][2] == [{"type": "scale", "scale": [16.0, 8.0, 8.0]},
                                                             {"type": "translation", "translation": [6.0, 3.0, 3.0]}]


def test_predict_converts_its_input_to_the_same_sharded_format(tmp_path, model16):
    """--convert with shards whose size the converter's default chunks do not divide (16 x 32 x 32)."""
    vol = np.random.default_rng(2).integers(500, 3000, size=(32, 40, 36), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", vol)
    s = PredictSettings(**FAST, shard_shape_vox=(16, 32, 32), convert_input=True, voxel_size_um=(4.0, 2.0, 2.0))
    predict_whole_brain(tmp_path / "stack.tif", model16, tmp_path / "out", s, progress=False)
    conv = zarr.open_array(str(tmp_path / "out" / "input.ome.zarr" / "0"))
    assert conv.shards == (16, 32, 32) and conv.chunks == (16, 16, 16) and np.array_equal(conv[:], vol)


def test_probability_keeps_the_input_frame(tmp_path, model16):
    """An input whose voxel 0 is not at 0 µm: the probability and its mask lie over it, level by level."""
    voxel, origin = (4.0, 2.0, 2.0), (100.0, 50.0, -20.0)
    src = tmp_path / "in.ome.zarr"
    create_ome_zarr(src, (64, 64, 64), (16, 32, 32), np.uint16, voxel, 1, "in", origin_um=origin)
    write_region(src, (slice(0, 64),) * 3,
                 np.random.default_rng(3).integers(500, 3000, size=(64, 64, 64), dtype=np.uint16))
    predict_whole_brain(src, model16, tmp_path / "out", PredictSettings(**FAST, mask_threshold=0.5,
                                                                       pyramid_max_levels=2), progress=False)
    prob = tmp_path / "out" / "probability.ome.zarr"
    for path in (prob, prob / "labels" / "mask"):
        (s0, t0), (s1, t1) = transforms(path, "0.5")
        assert np.allclose(s0, voxel) and np.allclose(t0, origin)
        assert np.allclose(s1, np.multiply(voxel, 2)) and np.allclose(t1, np.add(origin, np.multiply(voxel, 0.5)))
