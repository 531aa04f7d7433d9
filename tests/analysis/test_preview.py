"""Preview PNGs: written atomically, valid, of the documented size, overlays visible."""
from __future__ import annotations

import struct

import dask.array as da
import numpy as np
import pytest

from axonseg.analysis.preview import mip, parse_region, preview_size_px, save_preview_png


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def volume():
    rng = np.random.default_rng(0)
    raw = rng.normal(100, 10, (21, 33, 47)).astype(np.float32)
    prob = np.zeros(raw.shape, np.float32)
    prob[5:15, 10:20, 5:40] = 0.9
    return raw, prob


def test_mip_dask_equals_numpy_on_unaligned_chunks(volume):
    raw, _ = volume
    lazy = da.from_array(raw, chunks=(8, 10, 13))
    for axis, i in (("z", 0), ("y", 1), ("x", 2)):
        np.testing.assert_array_equal(mip(lazy, axis), raw.max(axis=i))


def test_mip_pools_large_projection_to_max_side():
    vol = np.zeros((2, 100, 64), np.uint8)
    vol[1, 99, 63] = 7
    out = mip(vol, "z", max_side_px=25)
    assert out.shape == (25, 16)
    assert out[24, 15] == 7 and out.sum() == 7


def test_png_written_with_expected_size_and_overlay_differs(tmp_path, volume):
    import matplotlib.image as mpimg

    raw, prob = volume
    lazy = da.from_array(raw, chunks=(8, 10, 13))
    only_raw = save_preview_png(tmp_path / "raw.png", lazy, title="raw")
    both = save_preview_png(tmp_path / "both.png", lazy, prob, prob > 0.5, title="raw",
                            axes=("z", "y", "x"), voxel_size_um=(4.0, 1.0, 1.0))
    assert only_raw.stat().st_size > 0 and both.stat().st_size > 0
    assert _png_size(only_raw) == preview_size_px(raw.shape, 1)
    assert _png_size(both) == preview_size_px(raw.shape, 3, ("z", "y", "x"), (4.0, 1.0, 1.0))
    assert not list(tmp_path.glob(".*.tmp")), "temporary file left behind"

    # Same layout with and without an overlay: the raw panel is identical, the overlay is not.
    with_prob = save_preview_png(tmp_path / "prob.png", lazy, prob, title="raw")
    img_raw = mpimg.imread(only_raw)[..., :3]
    img_prob = mpimg.imread(with_prob)[..., :3]
    w_raw = img_raw.shape[1]
    np.testing.assert_allclose(img_prob[:, :w_raw - 4], img_raw[:, :w_raw - 4], atol=1 / 255)
    overlay = img_prob[:, w_raw - 4:]
    magenta = (overlay[..., 0] > 0.8) & (overlay[..., 1] < 0.5) & (overlay[..., 2] > 0.6)
    assert magenta.sum() > 1000
    assert not ((img_raw[..., 0] > 0.8) & (img_raw[..., 1] < 0.5)).any()


def test_shape_mismatch_is_refused_and_nothing_written(tmp_path, volume):
    raw, prob = volume
    with pytest.raises(ValueError, match="prob_zyx has shape"):
        save_preview_png(tmp_path / "x.png", raw, prob[:-1])
    assert not list(tmp_path.iterdir())


def test_parse_region_refuses_out_of_range():
    assert parse_region("1:3,:,5:", (10, 20, 30)) == (slice(1, 3), slice(0, 20), slice(5, 30))
    with pytest.raises(ValueError, match="outside"):
        parse_region("0:11,:,:", (10, 20, 30))
    with pytest.raises(ValueError, match="outside"):
        parse_region("-3:2,:,:", (10, 20, 30))


def test_cli_preview_on_tiff_and_zarr_region(tmp_path, volume):
    import zarr

    from axonseg.cli.preview import main
    from axonseg.io import write_tiff

    raw, prob = volume
    write_tiff(tmp_path / "raw.tif", raw)
    z = zarr.open_array(str(tmp_path / "prob.zarr"), mode="w", shape=prob.shape,
                        chunks=(8, 8, 8), dtype=prob.dtype)
    z[:] = prob
    out = tmp_path / "p.png"
    rc = main([str(tmp_path / "raw.tif"), "--prob", str(tmp_path / "prob.zarr"),
               "--region", "2:20,:,10:", "--out", str(out)])
    assert rc == 0
    assert _png_size(out) == preview_size_px((18, 33, 37), 2)
    rc = main([str(tmp_path / "raw.tif"), "--region", "0:99,:,:", "--out", str(tmp_path / "q.png")])
    assert rc == 1 and not (tmp_path / "q.png").exists()
