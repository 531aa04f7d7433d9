"""The predict widget, headless (Qt offscreen, pytest-qt): a real ``axonseg predict`` run with the
shipped starter model on a tiny layer adds its layers in the layer's frame; Cancel stops a run."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile

from axonseg.napari._process import PredictProcess, predict_command

SCALE = (3.0, 1.5, 1.5)
TRANSLATE = (30.0, -6.0, 12.0)


def _volume(shape=(24, 48, 48)) -> np.ndarray:
    """Noisy background with one bright line along x (an 'axon')."""
    rng = np.random.default_rng(0)
    vol = rng.normal(1000, 40, shape).astype(np.float32)
    vol[shape[0] // 2, shape[1] // 2, 4:-4] += 2500
    return vol.astype(np.uint16)


@pytest.fixture
def widget(qtbot):
    from napari.components import ViewerModel

    from axonseg.napari._widget import PredictWidget

    viewer = ViewerModel()
    w = PredictWidget(viewer)
    qtbot.addWidget(w)
    yield viewer, w
    if w.process is not None and w.process.running():
        w.process.cancel(grace_s=1)
        w.process.wait(30)


def test_widget_predicts_a_layer_and_adds_probability_and_mask(widget, qtbot, tmp_path):
    viewer, w = widget
    viewer.add_image(_volume(), name="tiny", scale=SCALE, translate=TRANSLATE)
    assert w.source.findText("tiny") > 0            # the layer list follows the viewer
    w.source.setCurrentText("tiny")
    w.out.setText(str(tmp_path / "pred"))
    w.run_button.click()
    assert w.process is not None and not w.run_button.isEnabled() and w.cancel_button.isEnabled()
    seen = []
    w.worker.yielded.connect(seen.append)
    qtbot.waitUntil(lambda: w.status.text().startswith(("done", "predict failed")), timeout=240_000)
    assert w.status.text().startswith("done"), w.status.text()
    added = {layer.metadata.get("axonseg"): layer for layer in viewer.layers if layer.name != "tiny"}
    assert set(added) == {"probability", "mask"}
    prob, mask = added["probability"], added["mask"]
    assert type(prob).__name__ == "Image" and type(mask).__name__ == "Labels"
    for layer in (prob, mask):
        np.testing.assert_allclose(layer.scale, SCALE)
        np.testing.assert_allclose(layer.translate, TRANSLATE)
        assert layer.data.shape == (24, 48, 48)
    p = np.asarray(prob.data)
    assert 0.0 <= p.min() and p.max() <= 1.0
    progress = [v for v in seen if v is not None]      # (done, total) read from predict's bar
    assert progress and all(0 <= done <= total and total >= 1 for done, total in progress), seen
    assert w.progress.value() == w.progress.maximum() == 1
    assert not w.process.running() and w.run_button.isEnabled()


def test_cancel_stops_the_process_and_adds_nothing(widget, qtbot, tmp_path):
    viewer, w = widget
    tifffile.imwrite(tmp_path / "vol.tif", _volume((64, 192, 192)))
    w.path.setText(str(tmp_path / "vol.tif"))
    w.out.setText(str(tmp_path / "pred"))
    w.run_button.click()
    process = w.process
    assert process is not None and process.running()
    w.cancel_button.click()
    qtbot.waitUntil(lambda: w.status.text().startswith("cancelled"), timeout=60_000)
    assert not process.running() and process.cancelled
    assert process.returncode in (130, -9, -2)
    assert len(viewer.layers) == 0 and w.run_button.isEnabled() and not w.cancel_button.isEnabled()


def test_missing_file_is_one_line_and_nothing_runs(widget, tmp_path):
    _, w = widget
    w.path.setText(str(tmp_path / "nope.tif"))
    w.run_button.click()
    assert w.process is None and w.status.text() == f"cannot start: {tmp_path / 'nope.tif'}: no such file or folder"


def test_progress_and_error_lines_are_parsed():
    """The command's own output, as the widget reads it: tqdm updates and the runner's one error line."""
    cmd = predict_command("in.tif", "out", None, 0.5, "cpu", (2.0, 1.0, 1.0))
    assert cmd[-4:] == ["--voxel-size-um", "2.0", "1.0", "1.0"] and "--model" not in cmd
    proc = PredictProcess(["sh", "-c", "printf 'predict:  0%%| | 0/4 [00:00<?]\\rpredict: 50%%| | 2/4 [00:01<00:01]'; "
                                       "echo; echo 'axonseg predict: x.tif: no such file' >&2; exit 1"]).start()
    assert proc.wait(30) == 1
    assert proc.progress() == (2, 4)
    assert proc.last_message() == "axonseg predict: x.tif: no such file"


@pytest.mark.parametrize("gpu, expected", [(True, ["cuda", "cpu"]), (False, ["cpu"])])
def test_the_widget_offers_the_gpu_first_when_torch_sees_one(monkeypatch, gpu, expected):
    """Issue 18 item 45: the widget's default device is predict's ``auto`` (CI has no GPU: patched)."""
    import torch

    from axonseg.napari._widget import PredictWidget

    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    assert PredictWidget._devices() == expected
