"""Checkpoints under torch's ``weights_only=True`` default (torch >= 2.6).

nnU-Net v1 (and D-LMBmap, built on it) pickles numpy scalars into its ``.model``
checkpoints: the training curves (``np.mean`` of float32 losses and float64 Dice),
the moving-average loss in ``best_stuff`` and in ReduceLROnPlateau's ``best``.
Safe loading refuses them. :func:`allow_nnunet_v1_globals` allow-lists exactly the
numpy objects those checkpoints contain, and nothing else; safe loading stays on.

Checkpoints written by our trainers contain no numpy objects at all
(:func:`to_builtin`), so they load with a plain ``torch.load``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

logger = logging.getLogger(__name__)

# numpy scalars pickle as ``scalar(dtype, bytes)``; numpy 1.x wrote the module as
# ``numpy.core.multiarray``, numpy 2 as ``numpy._core.multiarray``: allow both names.
_SCALAR = np._core.multiarray.scalar
NNUNET_V1_SAFE_GLOBALS = (
    _SCALAR,
    (_SCALAR, "numpy.core.multiarray.scalar"),
    np.dtype,
    # np.dtype objects are rebuilt and then given their state: their classes must be
    # allowed too. nnU-Net v1 stores float32 (losses), float64 (Dice, moving averages)
    # and int64 (epoch counters computed with numpy) scalars.
    type(np.dtype(np.float32)),
    type(np.dtype(np.float64)),
    type(np.dtype(np.int64)),
)


def allow_nnunet_v1_globals() -> None:
    """Allow-list the numpy globals of nnU-Net v1 checkpoints for ``torch.load``.

    Idempotent. Safe loading (``weights_only=True``) stays on for everything else.
    """
    current = torch.serialization.get_safe_globals()
    missing = [g for g in NNUNET_V1_SAFE_GLOBALS if g not in current]
    if missing:
        torch.serialization.add_safe_globals(missing)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load an nnU-Net v1 / D-LMBmap / axonseg checkpoint safely onto the CPU."""
    from axonseg.io.torch_files import load_weights_only

    allow_nnunet_v1_globals()
    return load_weights_only(path, map_location="cpu")


def to_builtin(obj: Any) -> Any:
    """Replace numpy scalars (recursively in lists, tuples, dicts) by Python numbers."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray) and obj.ndim == 0:
        return obj.item()
    if isinstance(obj, list):
        return [to_builtin(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(to_builtin(o) for o in obj)
    if isinstance(obj, dict):
        return {k: to_builtin(v) for k, v in obj.items()}
    return obj
