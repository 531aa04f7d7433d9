"""torch files: loaded only with ``weights_only=True`` (nothing but tensors and plain data is
unpickled), written atomically."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from axonseg.io.atomic import atomic_file


def load_weights_only(path: str | Path, map_location: str = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` onto ``map_location``; torch's own errors pass through."""
    import torch

    return torch.load(str(path), map_location=map_location, weights_only=True)


def save_torch(path: str | Path, obj: Any) -> Path:
    """``torch.save`` into a temporary file beside ``path``, then renamed onto it."""
    import torch

    with atomic_file(path, "wb") as f:
        torch.save(obj, f)
    return Path(path)
