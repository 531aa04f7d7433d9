"""Issue 18 item 35: every setting that changes the numbers is in a resumable job's fingerprint;
only the run-only settings (engine, speed, extras rebuilt at the end) are left out.

The lists below are written by hand from what each setting does, not taken from the code.
"""
from __future__ import annotations

import numpy as np
import pytest
import zarr

from axonseg.analysis import density_run
from axonseg.analysis.density import DensitySettings
from axonseg.inference import PredictSettings
from axonseg.inference.fingerprint import run_fingerprint
from axonseg.settings import RUN_ONLY_SETTINGS

# (setting, another value): each changes the probability a prediction writes
PREDICT_CHANGES = [("tissue_threshold", 123.0), ("tissue_margin_vox", 3), ("tissue_mask", False),
                   ("tissue_downsample_vox", 4), ("step_fraction", 0.25), ("mask_threshold", 0.4),
                   ("mirror_tta", True), ("runtime", "onnxruntime"), ("normalization", "per_patch"),
                   ("skip_empty_below", 5.0), ("output_class", 0), ("chunk_shape_vox", (32, 32, 32)),
                   ("autocast", "bf16"), ("device", "cuda"), ("tiling", "lattice"), ("halo_vox", 4)]
PREDICT_SAME = [("runner", "dask"), ("dask_workers", 5), ("num_threads", 3), ("preview", False),
                ("overlap_io", False), ("runtime_cache_dir", "/elsewhere"), ("write_tiff_slices", True),
                ("pyramid_max_levels", 2), ("convert_input", True)]
DENSITY_CHANGES = [("halo_vox", 0), ("threshold", 0.3), ("cell_size_um", 20.0), ("min_component_vox", 5),
                   ("block_target_vox", 64), ("voxel_size_um", (1.0, 1.0, 1.0))]
DENSITY_SAME = [("runner", "dask"), ("dask_workers", 5), ("dask_scheduler_address", "tcp://x:1")]


def test_the_run_only_list_is_exactly_the_hand_list():
    assert RUN_ONLY_SETTINGS == {"runner", "dask_scheduler_address", "dask_workers", "num_threads", "overlap_io",
                                 "runtime_cache_dir", "preview", "write_tiff_slices", "pyramid_max_levels",
                                 "convert_input"}


@pytest.fixture(scope="module")
def tiny_input(tmp_path_factory):
    path = tmp_path_factory.mktemp("fp") / "in.zarr"
    arr = zarr.create_array(str(path), shape=(8, 8, 8), chunks=(8, 8, 8), dtype=np.uint8)
    arr[:] = 1
    return path, arr


def _predict_fp(tiny_input, settings):
    path, arr = tiny_input
    return run_fingerprint(path, arr, "sha", settings)


@pytest.mark.parametrize("key, value", PREDICT_CHANGES, ids=[k for k, _ in PREDICT_CHANGES])
def test_predict_fingerprint_changes_with_every_output_setting(tiny_input, key, value):
    base = PredictSettings(runtime="eager", device="cuda" if key == "autocast" else "cpu")
    other = base.replace(**{key: value})
    assert _predict_fp(tiny_input, base) != _predict_fp(tiny_input, other), key


def test_predict_fingerprint_records_the_runtime_that_runs(tiny_input):
    """``auto`` is fingerprinted as what it resolves to: the same run as naming that runtime."""
    auto = PredictSettings(runtime="auto")
    named = PredictSettings(runtime=auto.resolved_runtime())
    assert _predict_fp(tiny_input, auto)["settings"]["runtime"] == auto.resolved_runtime()
    assert _predict_fp(tiny_input, auto) == _predict_fp(tiny_input, named)


@pytest.mark.parametrize("key, value", PREDICT_SAME, ids=[k for k, _ in PREDICT_SAME])
def test_predict_fingerprint_ignores_run_only_settings(tiny_input, key, value):
    base = PredictSettings(runtime="eager")
    assert _predict_fp(tiny_input, base) == _predict_fp(tiny_input, base.replace(**{key: value})), key


class _Captured(Exception):
    pass


def _density_fp(monkeypatch, tmp_path, settings):
    """The fingerprint run_density hands to its resumable folder (captured, nothing computed)."""
    src = tmp_path / "p.zarr"
    if not src.exists():
        zarr.create_array(str(src), shape=(8, 8, 8), chunks=(8, 8, 8), dtype=np.uint8,
                          attributes={"voxel_size_um": [2.0, 2.0, 2.0]})[:] = 0
    seen = {}

    def capture(out, fingerprint, *args, **kwargs):
        seen["fp"] = fingerprint
        raise _Captured

    monkeypatch.setattr(density_run, "resumable_folder", capture)
    with pytest.raises(_Captured):
        density_run.run_density(src, tmp_path / "d", settings)
    return seen["fp"]


@pytest.mark.parametrize("key, value", DENSITY_CHANGES, ids=[k for k, _ in DENSITY_CHANGES])
def test_density_fingerprint_changes_with_every_output_setting(monkeypatch, tmp_path, key, value):
    base = DensitySettings()
    assert _density_fp(monkeypatch, tmp_path, base) != _density_fp(monkeypatch, tmp_path,
                                                                      base.replace(**{key: value})), key


@pytest.mark.parametrize("key, value", DENSITY_SAME, ids=[k for k, _ in DENSITY_SAME])
def test_density_fingerprint_ignores_run_only_settings(monkeypatch, tmp_path, key, value):
    base = DensitySettings()
    assert _density_fp(monkeypatch, tmp_path, base) == _density_fp(monkeypatch, tmp_path,
                                                                      base.replace(**{key: value})), key
