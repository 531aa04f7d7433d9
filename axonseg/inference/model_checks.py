"""Checks of a loaded model that :mod:`axonseg.inference.weights` does not make, run before any output
exists: a usable patch size and finite weights. Each error names the model."""
from __future__ import annotations

import numbers

import torch

from axonseg.errors import AxonsegError


class ModelError(AxonsegError, ValueError):
    """The model cannot give a usable prediction; the message names the model file or folder."""


def check_patch_size(source: str, patch_size_zyx) -> None:
    """Three positive whole numbers of voxels, or :class:`ModelError` naming ``source``."""
    patch = tuple(patch_size_zyx or ())
    if len(patch) != 3 or not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) and p > 0 for p in patch):
        raise ModelError(f"{source}: the model's patch size {list(patch)} is not three positive voxel counts "
                         "(z, y, x); the model file is broken or was written by hand")


def check_finite_weights(source: str, state_dict: dict) -> None:
    """Every floating-point tensor finite, or :class:`ModelError` naming ``source`` and the first tensors."""
    bad = [k for k, v in state_dict.items()
           if isinstance(v, torch.Tensor) and v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise ModelError(f"{source}: the weights hold NaN or infinite values ({', '.join(bad[:3])}{more}); "
                         "the network would predict nothing (a diverged training?)")


def check_model(model) -> None:
    """Both checks on a :class:`~axonseg.inference.weights.LoadedModel`."""
    check_patch_size(model.source, model.patch_size_zyx)
    check_finite_weights(model.source, model.state_dict)
