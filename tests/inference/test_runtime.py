"""Network runtimes (eager, torch.compile, ONNX Runtime, OpenVINO): same probabilities, cached exports,
clear errors, and ``axonseg predict --runtime`` end to end."""
from __future__ import annotations

import json
import logging
import sys

import numpy as np
import pytest
import torch
import zarr

from axonseg.inference import PredictSettings
from axonseg.inference.precise_norm import TwoLevelInstanceNorm, with_two_level_instance_norms
from axonseg.inference.predictor import make_patch_predictor
from axonseg.inference.runtime import (CPU_AUTO, RuntimeUnavailableError, build_network_call, resolve_runtime,
                                       weights_sha256)
from axonseg.io.tiff import read_tiff
from tests.inference.helpers import tiny_config, tiny_network, write_model

TOL = 1e-3  # max |dprob| vs eager (issue 9)
NO_GPU = "no CUDA GPU"


@pytest.fixture(scope="module")
def real_patches(dlmbmap_data) -> np.ndarray:
    """Two 32^3 patches of the real D-LMBmap excerpt (rows y < 300), z-scored per patch."""
    files = sorted((dlmbmap_data / "brain-example").glob("*.tif*"))[30:62]
    stack = np.stack([read_tiff(f)[100:132, 200:264] for f in files]).astype(np.float32)
    x = np.stack([stack[:, :, :32], stack[:, :, 32:]])[:, None]
    return (x - x.mean(axis=(2, 3, 4), keepdims=True)) / x.std(axis=(2, 3, 4), keepdims=True)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One export cache for the equivalence tests (the same tiny nets are exported once)."""
    return tmp_path_factory.mktemp("runtime-cache")


def _net(architecture: str, seed: int = 0, patch: int = 32, base: int = 4, pools: int = 3) -> torch.nn.Module:
    net = tiny_network(tiny_config(architecture, patch=(patch,) * 3, base=base, pools=pools), seed).eval()
    net.do_ds = False
    return net


def _small(seed: int = 0) -> torch.nn.Module:
    return _net("generic_unet", seed, patch=16, base=2, pools=1)


@pytest.mark.parametrize("architecture", ["generic_unet", "axial_unet"])
@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_exported_runtime_matches_eager(shared_cache, real_patches, architecture, runtime):
    net = _net(architecture)
    eager = make_patch_predictor(net, channels_last=False)(real_patches)
    pred = make_patch_predictor(net, runtime=runtime, batch_size=2, cache_dir=shared_cache)
    got = pred(real_patches)
    assert pred.runtime == runtime and got.shape == eager.shape == (2, 2, 32, 32, 32)
    assert np.abs(got - eager).max() <= TOL
    assert np.abs(eager[:, 1] - 0.5).max() > 10 * TOL, "the probabilities must not be trivially flat"
    short = pred(real_patches[1:])  # a short last batch is padded to the exported batch of 2
    assert short.shape == (1, 2, 32, 32, 32) and np.abs(short - eager[1:]).max() <= TOL


def test_compile_matches_eager(real_patches):
    """torch.compile (inductor) on the smallest U-Net: compiling is slow on a shared CPU, so one net."""
    net = _small()
    x = np.ascontiguousarray(real_patches[:, :, :16, :16, :16])
    eager = make_patch_predictor(net, channels_last=False)(x)
    got = make_patch_predictor(net, runtime="compile", batch_size=2, channels_last=False)(x)
    assert np.abs(got - eager).max() <= TOL


def test_mirror_tta_on_onnxruntime_equals_eager(shared_cache, real_patches):
    net = _net("generic_unet")
    eager = make_patch_predictor(net, mirror_tta=True, channels_last=False)(real_patches)
    got = make_patch_predictor(net, mirror_tta=True, runtime="onnxruntime", batch_size=2, cache_dir=shared_cache)(
        real_patches)
    assert np.abs(got - eager).max() <= TOL


def test_exports_are_cached_by_weights_patch_and_batch(tmp_path):
    shape = (2, 1, 16, 16, 16)
    first = build_network_call(_small(), "openvino", "cpu", shape, cache_dir=tmp_path)
    assert first.exported and all(f.exists() for f in first.files)
    mtimes = [f.stat().st_mtime_ns for f in first.files]
    again = build_network_call(_small(), "openvino", "cpu", shape, cache_dir=tmp_path)
    assert not again.exported and again.files == first.files
    assert [f.stat().st_mtime_ns for f in again.files] == mtimes, "a cached export was written again"
    onnx = build_network_call(_small(), "onnxruntime", "cpu", shape, cache_dir=tmp_path)
    assert onnx.exported and onnx.files[0] != first.files[0]  # OpenVINO's export has two-level norms
    assert not build_network_call(_small(), "onnxruntime", "cpu", shape, cache_dir=tmp_path).exported
    other_batch = build_network_call(_small(), "onnxruntime", "cpu", (1,) + shape[1:], cache_dir=tmp_path)
    other_weights = build_network_call(_small(seed=1), "onnxruntime", "cpu", shape, cache_dir=tmp_path)
    assert other_batch.exported and other_weights.exported
    assert len({c.files[0] for c in (first, other_batch, other_weights)}) == 3
    sha = weights_sha256(_small())
    assert sha in str(first.files[0]) and sha != weights_sha256(_small(seed=1))


def test_unknown_runtime_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown runtime 'tensorrt'.*onnxruntime"):
        make_patch_predictor(_net("generic_unet"), runtime="tensorrt")
    with pytest.raises(ValueError, match="runtime must be one of"):
        PredictSettings(runtime="tensorrt")
    with pytest.raises(ValueError, match="runtime onnxruntime runs on the CPU only"):
        PredictSettings(runtime="onnxruntime", device="cuda")
    with pytest.raises(ValueError, match="autocast"):
        PredictSettings(autocast="fp16")  # CPU


def test_missing_runtime_package_is_named_not_replaced(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    pred = make_patch_predictor(_small(), runtime="onnxruntime", cache_dir=tmp_path)
    with pytest.raises(RuntimeUnavailableError, match="runtime onnxruntime is not installed"):
        pred(np.zeros((1, 1, 16, 16, 16), np.float32))
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(RuntimeUnavailableError, match="runtime openvino is not installed"):
        build_network_call(_small(), "openvino", "cpu", (1, 1, 16, 16, 16), cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*.onnx")), "nothing is exported for a runtime that is not installed"


class _DataDependent(torch.nn.Module):
    """Python control flow on tensor values: eager runs it, ONNX export cannot capture it."""

    def forward(self, x):
        if float(x.mean()) > 0:
            return torch.cat([x, -x], dim=1)
        return torch.cat([-x, x], dim=1)


def test_network_that_does_not_export_is_a_clear_error(tmp_path):
    x = np.ones((1, 1, 8, 8, 8), np.float32)
    assert make_patch_predictor(_DataDependent(), channels_last=False)(x).shape == (1, 2, 8, 8, 8)
    with pytest.raises(RuntimeUnavailableError, match="runtime onnxruntime: _DataDependent does not export"):
        make_patch_predictor(_DataDependent(), runtime="onnxruntime", cache_dir=tmp_path)(x)
    assert not list(tmp_path.rglob("*.onnx")) and not list(tmp_path.rglob("*.tmp"))


def test_auto_is_explicit_and_logged(caplog):
    with caplog.at_level(logging.INFO, logger="axonseg.inference.runtime"):
        assert resolve_runtime("auto", "cpu") == CPU_AUTO
    assert f"runtime auto -> {CPU_AUTO} on cpu" in caplog.text
    assert resolve_runtime("auto", torch.device("cuda")) == "eager"  # resolving needs no GPU
    assert resolve_runtime("eager", "cpu") == "eager" and PredictSettings().runtime == "auto"
    with pytest.raises(RuntimeUnavailableError, match="runtime openvino runs on the CPU only"):
        resolve_runtime("openvino", "cuda:0")


def _write_input(path, shape=(24, 40, 40)):
    rng = np.random.default_rng(3)
    z = zarr.create_array(str(path), shape=shape, chunks=(16, 32, 32), dtype=np.uint16, fill_value=0,
                          attributes={"voxel_size_um": [4.0, 2.0, 2.0]})
    z[:] = rng.gamma(2.0, 600.0, size=shape).astype(np.uint16) + 500
    return path


@pytest.mark.parametrize("architecture", ["generic_unet", "axial_unet"])
def test_predict_cli_with_onnxruntime_equals_eager(tmp_path, architecture):
    from axonseg.cli.main import main as axonseg_main

    model = write_model(tmp_path / "m.pth", architecture, patch=(16, 16, 16), pools=2)
    src = _write_input(tmp_path / "in.zarr")
    config = tmp_path / "predict.yaml"
    config.write_text(f"runtime_cache_dir: {tmp_path / 'cache'}\n")
    common = ["--chunk", "16", "16", "16", "--block", "16", "32", "32", "--threads", "1", "--no-preview",
              "--quiet", "--config", str(config)]
    out = {}
    for runtime in ("eager", "onnxruntime"):
        out[runtime] = tmp_path / runtime
        assert axonseg_main(["predict", str(src), str(model), str(out[runtime]), "--runtime", runtime,
                             *common]) == 0
    assert list((tmp_path / "cache").rglob("*.onnx")), "onnxruntime must have exported into the cache folder"
    for runtime in out:
        assert json.loads((out[runtime] / "run.json").read_text())["runs"][-1]["network_runtime"] == runtime
    a, b = (zarr.open_array(str(out[r] / "probability.ome.zarr" / "0"), mode="r")[:].astype(int)
            for r in ("eager", "onnxruntime"))
    assert a.shape == (24, 40, 40) and a.std() > 0
    assert np.abs(a - b).max() <= 1  # uint8 probabilities: |dprob| <= 1e-3 moves a value by at most one level


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
@pytest.mark.parametrize("autocast", ["fp16", "bf16"])
def test_cuda_autocast_is_close_to_float32(real_patches, autocast):
    net = _net("generic_unet")
    ref = make_patch_predictor(net, device="cuda", channels_last=False)(real_patches)
    got = make_patch_predictor(net, device="cuda", channels_last=True, autocast=autocast)(real_patches)
    assert got.dtype == np.float32 and np.abs(got - ref).max() < (2e-2 if autocast == "bf16" else 5e-3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
def test_cuda_channels_last_equals_contiguous(real_patches):
    net = _net("axial_unet")
    a = make_patch_predictor(net, device="cuda", channels_last=False)(real_patches)
    b = make_patch_predictor(net, device="cuda", channels_last=True)(real_patches)
    assert np.abs(a - b).max() <= TOL


def test_autocast_on_cpu_is_refused():
    with pytest.raises(ValueError, match="autocast 'fp16' is for cuda devices"):
        make_patch_predictor(_net("generic_unet"), autocast="fp16")


@pytest.mark.parametrize("affine", [True, False])
def test_two_level_instance_norm_is_instance_norm(real_patches, affine):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv3d(1, 4, 3, padding=1), torch.nn.InstanceNorm3d(4, affine=affine),
                              torch.nn.Sequential(torch.nn.InstanceNorm3d(4, affine=affine)),
                              torch.nn.BatchNorm3d(4), torch.nn.InstanceNorm3d(4, track_running_stats=True))
    if affine:
        torch.nn.init.normal_(net[1].weight)
        torch.nn.init.normal_(net[1].bias)
    net.eval()
    two_level, swapped = with_two_level_instance_norms(net)
    assert swapped == 2 and isinstance(two_level[1], TwoLevelInstanceNorm)
    assert isinstance(two_level[4], torch.nn.InstanceNorm3d), "norms with running statistics stay"
    assert isinstance(net[1], torch.nn.InstanceNorm3d), "the original network is not modified"
    x = torch.from_numpy(real_patches) * 3 + 7  # an offset and scale the norm must remove
    with torch.no_grad():
        a, b = net(x), two_level(x)
    assert float(a.abs().max()) > 1 and float((a - b).abs().max()) < 1e-4
