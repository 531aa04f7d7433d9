"""Pictures: matplotlib figures saved as PNG, atomically (readers never see half a file)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from axonseg.io.atomic import atomic_file


def save_figure_png(fig: Any, path: str | Path, **savefig_kwargs: Any) -> Path:
    """``fig.savefig`` into a temporary file beside ``path``, then renamed onto it."""
    with atomic_file(path, "wb") as f:
        fig.savefig(f, format="png", **savefig_kwargs)
    return Path(path)
