"""Checks of a loaded model that :mod:`axonseg.inference.weights` does not make, run before any output
exists: finite weights. Each error names the model."""
from __future__ import annotations

import torch

from axonseg.errors import AxonsegError


class ModelError(AxonsegError, ValueError):
    """The model cannot give a usable prediction; the message names the model file or folder."""


def check_finite_weights(source: str, state_dict: dict) -> None:
    """Every floating-point tensor finite, or :class:`ModelError` naming ``source`` and the first tensors."""
    bad = [k for k, v in state_dict.items()
           if isinstance(v, torch.Tensor) and v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise ModelError(f"{source}: the weights hold NaN or infinite values ({', '.join(bad[:3])}{more}); "
                         "the network would predict nothing (a diverged training?)")


def check_model(model) -> None:
    """The checks on a :class:`~axonseg.inference.weights.LoadedModel`."""
    check_finite_weights(model.source, model.state_dict)
