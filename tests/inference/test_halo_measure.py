"""The halo tool: it finds a halo at which tiled output is within 1e-3 of the whole-volume pass (checked
against the independent oracle) while the next smaller halo is not; the command writes it into a .pth."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import zarr
from scipy.ndimage import gaussian_filter

from axonseg.inference.halo import predict_tiled
from axonseg.inference.halo_measure import box_shape, measure_halo
from tests.inference.halo_helpers import bn_unet, softmax_predictor, whole_volume_oracle, write_bn_model


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _structured(shape, seed=5):
    """Smooth blobs and thin bright lines on a dim background: real-looking input, z-scored."""
    rng = np.random.default_rng(seed)
    v = gaussian_filter(rng.standard_normal(shape), 3) * 4
    for _ in range(6):
        a, b = rng.integers(0, shape[1]), rng.integers(0, shape[2])
        v[:, a, b] += 3
    return ((v - v.mean()) / v.std()).astype(np.float32)


def test_the_halo_found_passes_and_the_next_smaller_fails():
    net, f = bn_unet(pools=1), 2  # one 2x pooling: receptive field radius 8, a 28^3 test box
    shape = box_shape(12, f, f)
    inputs = {"random": np.random.default_rng(0).standard_normal(shape).astype(np.float32),
              "structured": _structured(shape)}
    m = measure_halo(softmax_predictor(net), f, inputs, max_halo_vox=12)
    assert m.halo_vox is not None and m.halo_vox > 0 and m.halo_vox % f == 0
    assert m.worst(m.halo_vox) <= 1e-3 < m.worst(m.halo_vox - f)
    # checked with the oracle written independently of the tool
    for v in inputs.values():
        want = whole_volume_oracle(v, net, f)
        core = tuple(s // 2 for s in v.shape)
        assert np.abs(predict_tiled(v, softmax_predictor(net), core, m.halo_vox, f) - want).max() <= 1e-3
    v = inputs["random"]
    assert np.abs(predict_tiled(v, softmax_predictor(net), tuple(s // 2 for s in v.shape), m.halo_vox - f, f)
                  - whole_volume_oracle(v, net, f)).max() > 1e-3


def test_no_halo_within_reach_is_reported_as_none():
    net = bn_unet(pools=1)
    v = np.random.default_rng(0).standard_normal(box_shape(4, 2, 2)).astype(np.float32)
    m = measure_halo(softmax_predictor(net), 2, {"random": v}, max_halo_vox=4)
    assert m.halo_vox is None and sorted(m.errors) == [0, 2, 4]


def test_measure_halo_command_saves_the_halo_into_a_copy_of_the_model(tmp_path, monkeypatch, capsys):
    from axonseg.cli.main import main
    from axonseg.inference.weights import load_model

    model = write_bn_model(tmp_path / "bn.pth", monkeypatch, pools=1, patch=(8, 8, 8))
    out = tmp_path / "bn-halo.pth"
    vol = tmp_path / "v.zarr"  # thinner than the 28^3 test box on z: the excerpt is cut to 20 there
    zarr.create_array(str(vol), data=(_structured((20, 40, 40)) * 300 + 1000).astype(np.uint16), chunks=(8, 16, 16))
    rc = main(["measure-halo", str(model), "--input", str(vol), "--max-halo", "12", "--core", "2", "--threads", "1",
               "--json", str(tmp_path / "m.json"), "--save", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    m = json.loads((tmp_path / "m.json").read_text())
    h = m["halo_vox"]
    assert m["shapes_zyx"] == {"random": [28, 28, 28], "excerpt at z, y, x (0, 6, 6)": [20, 28, 28]}
    assert all(len(v) == 2 for v in m["max_abs_dp"].values())
    worst = {int(k): max(v.values()) for k, v in m["max_abs_dp"].items()}
    assert h > 0 and worst[h] <= 1e-3 < worst[h - 2]
    assert f"halo_vox {h}" in text
    saved = load_model(out)
    assert saved.extra["halo_vox"] == h and saved.extra["position_independent"] is True
    assert "position_independent" not in load_model(model).extra  # the model itself is untouched


def test_measure_halo_refuses_a_network_with_instance_norm(tmp_path, capsys):
    from axonseg.cli.main import main
    from tests.inference.helpers import write_model

    model = write_model(tmp_path / "inst.pth", patch=(16, 16, 16), pools=2)
    assert main(["measure-halo", str(model), "--max-halo", "8"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "inst.pth" in err[0] and "InstanceNorm3d" in err[0]


def test_measure_halo_on_the_real_excerpt(tmp_path, monkeypatch, dlmbmap_data):
    from axonseg.inference.halo_measure import measure_model_halo

    real = dlmbmap_data / "brain-example"

    model = write_bn_model(tmp_path / "bn.pth", monkeypatch, pools=1, patch=(8, 8, 8))
    m = measure_model_halo(model, real, max_halo_vox=12, core_vox=2)
    real = [k for k in m.shapes_zyx if k.startswith("excerpt")]
    assert len(real) == 1 and m.shapes_zyx[real[0]] == (28, 28, 28)
    assert m.halo_vox is not None and m.errors[m.halo_vox][real[0]] <= 1e-3 < m.worst(m.halo_vox - 2)
