"""torch files: loaded only with ``weights_only=True`` (nothing but tensors and plain data is
unpickled), written atomically."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from axonseg.io.atomic import atomic_file


def load_weights_only(path: str | Path, map_location: str = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` onto ``map_location``; torch's own errors pass through,
    less its advice to load with ``weights_only=False`` (which axonseg never does)."""
    import pickle
    import warnings

    import torch

    try:
        with warnings.catch_warnings():  # "Detected pickle protocol 5 ...": the error below says enough
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(str(path), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise pickle.UnpicklingError(_without_advice(str(exc))) from exc


def _without_advice(text: str) -> str:
    """torch's "Weights only load failed ... set weights_only to False ..." reduced to what failed."""
    import re

    found = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:Check the documentation|$)", text, re.S)
    if "weights_only" not in text or found is None:
        return text
    detail = " ".join(found.group(1).split())
    return f"WeightsUnpicklerError: {detail} (not allowed by torch.load(weights_only=True))"


def save_torch(path: str | Path, obj: Any) -> Path:
    """``torch.save`` into a temporary file beside ``path``, then renamed onto it."""
    import torch

    with atomic_file(path, "wb") as f:
        torch.save(obj, f)
    return Path(path)
