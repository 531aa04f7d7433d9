"""The halo is measured, not guessed: the smallest halo at which halo-tiled output equals one forward
pass of the whole volume, within ``max |dp| <= tolerance``, on random and real inputs.

For each candidate halo (0, F, 2F, ... voxels, F the network's largest pooling factor) the test volume
is predicted in tiles whose cores meet in the middle of every axis, so every core voxel next to a cut
sees exactly ``h`` (or a little more) voxels of context beyond it, while the whole-volume pass sees
``max_halo_vox + core`` voxels there. The first halo whose largest difference over all inputs and
classes is within the tolerance is the answer; the table of every halo tried is kept (the halo just
below the answer failed).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from axonseg.inference.halo import predict_tiled, predict_whole

logger = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 1e-3


@dataclass(frozen=True)
class HaloMeasurement:
    """Result of :func:`measure_halo`.

    Attributes
    ----------
    halo_vox
        Smallest halo (a multiple of ``step_vox``) within ``tolerance`` on every input; ``None``
        when no halo up to ``max_halo_vox`` was.
    errors
        Per halo tried: per input name, the largest ``|tiled - whole|`` over voxels and classes.
    """

    halo_vox: int | None
    tolerance: float
    step_vox: int
    max_halo_vox: int
    core_vox: int | None
    shapes_zyx: dict[str, tuple[int, ...]]
    errors: dict[int, dict[str, float]] = field(default_factory=dict)

    def worst(self, halo: int) -> float:
        return max(self.errors[halo].values())

    def to_dict(self) -> dict[str, Any]:
        return {"halo_vox": self.halo_vox, "tolerance": self.tolerance, "step_vox": self.step_vox,
                "max_halo_vox": self.max_halo_vox, "core_vox": self.core_vox,
                "shapes_zyx": {k: list(v) for k, v in self.shapes_zyx.items()},
                "max_abs_dp": {str(h): e for h, e in self.errors.items()}}


def box_shape(max_halo_vox: int, core_vox: int, factor: int) -> tuple[int, int, int]:
    """Cube side ``2 (max_halo + core)`` rounded up to the factor: one cut per axis in the middle,
    with at least ``max_halo + core`` voxels on each side of it."""
    side = -(-2 * (max_halo_vox + core_vox) // factor) * factor
    return (side,) * 3


def measure_halo(predict: Callable[[np.ndarray], np.ndarray], factor_zyx, inputs: Mapping[str, np.ndarray],
                 max_halo_vox: int, tolerance: float = DEFAULT_TOLERANCE, core_vox: int | None = None,
                 stop_at_first: bool = True, report: Callable[[int, dict[str, float]], None] | None = None
                 ) -> HaloMeasurement:
    """Smallest halo at which halo tiling reproduces the whole-volume pass on every input.

    Parameters
    ----------
    predict
        ``(1, 1, z, y, x) float32 -> (1, C, z, y, x)`` probabilities (a position-independent network).
    factor_zyx
        The network's total pooling factor per axis; halos are tried in steps of its largest value.
    inputs
        Named normalised volumes (z, y, x); tiles meet in the middle of each axis (cores of half the
        volume) unless ``core_vox`` is given.
    max_halo_vox
        Largest halo tried.
    tolerance
        Largest allowed ``max |dp|``.
    stop_at_first
        Stop at the first halo within tolerance (``False``: try every halo up to ``max_halo_vox``).
    report
        Called with each halo and its errors as it is measured.
    """
    if not inputs:
        raise ValueError("measure_halo needs at least one input volume")
    shapes = {name: tuple(int(s) for s in v.shape) for name, v in inputs.items()}
    if any(len(s) != 3 for s in shapes.values()):
        raise ValueError(f"inputs must be 3-D volumes, got shapes {shapes}")
    step = max(int(f) for f in np.broadcast_to(np.asarray(factor_zyx), (3,)))
    if max_halo_vox < 0 or tolerance <= 0:
        raise ValueError(f"max_halo_vox must be >= 0 and tolerance > 0, got {max_halo_vox} and {tolerance}")
    core = {name: tuple(-(-s // 2) for s in shape) if core_vox is None else (int(core_vox),) * 3
            for name, shape in shapes.items()}
    whole = {name: predict_whole(v, predict, factor_zyx) for name, v in inputs.items()}
    errors: dict[int, dict[str, float]] = {}
    found = None
    for h in range(0, max_halo_vox + 1, step):
        errors[h] = {name: float(np.abs(predict_tiled(v, predict, core[name], h, factor_zyx) - whole[name]).max())
                     for name, v in inputs.items()}
        if report is not None:
            report(h, errors[h])
        if found is None and max(errors[h].values()) <= tolerance:
            found = h
            if stop_at_first:
                break
    return HaloMeasurement(found, float(tolerance), step, int(max_halo_vox), core_vox, shapes, errors)


def random_input(shape_zyx, seed: int = 0) -> np.ndarray:
    """Standard normal noise: a normalised input with structure at every scale of the receptive field."""
    return np.random.default_rng(seed).standard_normal(shape_zyx).astype(np.float32)


def excerpt(volume_zyx, shape_zyx, start_zyx=None) -> tuple[np.ndarray, tuple[int, ...]]:
    """A box of ``shape_zyx`` (cut to the volume on axes where it is thinner, with a warning: cuts along
    such an axis see less context than ``max_halo`` on their far side) from ``volume_zyx``, centred unless
    ``start_zyx``, float32, with its start."""
    vs = tuple(int(s) for s in volume_zyx.shape)
    if any(v < s for v, s in zip(vs, shape_zyx)):
        logger.warning("the volume %s is thinner than the test box %s: the excerpt is cut to the volume there",
                       vs, tuple(shape_zyx))
        shape_zyx = tuple(min(v, s) for v, s in zip(vs, shape_zyx))
    start = tuple((v - s) // 2 for v, s in zip(vs, shape_zyx)) if start_zyx is None else tuple(start_zyx)
    if any(a < 0 or a + s > v for a, s, v in zip(start, shape_zyx, vs)):
        raise ValueError(f"box at {start} of shape {tuple(shape_zyx)} is outside the volume {vs}")
    box = tuple(slice(a, a + s) for a, s in zip(start, shape_zyx))
    return np.asarray(volume_zyx[box], dtype=np.float32), start


def _normalised(raw: np.ndarray, norm):
    """``raw`` normalised as predict would normalise a volume like it (statistics of the excerpt)."""
    from axonseg.inference.normalization import tissue_ratio_params, with_image_statistics

    if norm.scheme == "tissue_ratio":
        from axonseg.inference.tissue import low_resolution_view

        norm = tissue_ratio_params(low_resolution_view(raw, 8), None)
    else:
        norm = with_image_statistics(raw, norm)
    return np.asarray(norm.apply(raw), dtype=np.float32)


def measure_model_halo(model_path, input_path=None, dataset: str | None = None, max_halo_vox: int = 64,
                       core_vox: int | None = None, tolerance: float = DEFAULT_TOLERANCE,
                       stop_at_first: bool = True, report=None) -> HaloMeasurement:
    """:func:`measure_halo` for a model file on a random input and, with ``input_path``, a centred
    excerpt of that volume (normalised with the model's scheme and the excerpt's statistics).

    The network must have no per-patch layers (``ValueError`` naming the model otherwise).
    """
    from axonseg.inference.halo import check_halo_network, pooling_factor_zyx
    from axonseg.inference.predictor import make_patch_predictor
    from axonseg.inference.weights import build_loaded_network, load_model

    model = load_model(model_path)
    if model.config.architecture != "generic_unet":
        raise ValueError(f"{model_path}: a {model.config.architecture} depends on its patch; no halo to measure")
    net = build_loaded_network(model)
    check_halo_network(net, str(model_path))
    factor = pooling_factor_zyx(model.config.pool_op_kernel_sizes)
    core = 2 * max(factor) if core_vox is None else int(core_vox)
    shape = box_shape(max_halo_vox, core, max(factor))
    inputs = {"random": random_input(shape)}
    if input_path is not None:
        from axonseg.io import open_region_reader

        raw, start = excerpt(open_region_reader(input_path, dataset), shape)
        inputs[f"excerpt at z, y, x {start}"] = _normalised(raw, model.normalization)
    predict = make_patch_predictor(net, "cpu", runtime="eager", channels_last=False)
    return measure_halo(predict, factor, inputs, max_halo_vox, tolerance, stop_at_first=stop_at_first,
                        report=report)


def save_with_halo(model_path, out_path, halo_vox: int) -> None:
    """Write a copy of the axonseg ``.pth`` at ``model_path`` to ``out_path`` declaring
    ``position_independent: true`` and ``halo_vox`` (what ``--tiling auto`` reads)."""
    from axonseg.inference.weights import FORMAT, WeightsError
    from axonseg.io.torch_files import save_torch
    from axonseg.nnunet_v1.checkpoints import load_checkpoint

    obj = load_checkpoint(model_path)
    if not (isinstance(obj, dict) and obj.get("format") == FORMAT):
        raise WeightsError(f"{model_path}: not an axonseg .pth (export it first: axonseg save-models)")
    obj = dict(obj, halo_vox=int(halo_vox), position_independent=True)
    save_torch(out_path, obj)
