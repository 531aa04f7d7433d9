"""A deleted done-marker (issue 18.13): the block is recomputed on the next run, even when the spills
it received are gone (consumed when it first ran): they are recomputed from their source blocks'
patches, and the result is byte-identical to the uninterrupted run."""
from __future__ import annotations

import numpy as np
import pytest
import zarr

from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.inference.state import OutputLayout
from tests.inference.helpers import write_model
from tests.inference.test_pipeline import make_input

FAST = dict(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 16, 16), num_threads=1, preview=False)


@pytest.fixture(scope="module")
def model16(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("m") / "m16.pth", patch=(16, 16, 16), pools=2)




@pytest.mark.parametrize("scout", [None, 0.5], ids=["no-scout", "scout"])
def test_a_receiving_block_whose_marker_was_deleted_is_recomputed(tmp_path, model16, scout):
    src = make_input(tmp_path / "in.zarr", (16, 32, 40), seed=3)
    out = tmp_path / "out"
    settings = PredictSettings(**FAST, scout_threshold=scout)
    predict_whole_brain(src, model16, out, settings, progress=False)
    first = np.asarray(zarr.open_array(str(out / "probability.ome.zarr" / "0"), mode="r")[...])
    layout = OutputLayout(out)
    markers = sorted(layout.blocks_dir.glob("*.done"))
    assert len(markers) > 1
    for marker in markers[1:]:  # every block but the first: they received its spills
        marker.unlink()
    assert not layout.spill_dir.exists()  # consumed: they must be recomputed
    summary = predict_whole_brain(src, model16, out, settings, progress=False)
    assert summary.blocks_run == len(markers) - 1
    again = np.asarray(zarr.open_array(str(out / "probability.ome.zarr" / "0"), mode="r")[...])
    np.testing.assert_array_equal(again, first)
