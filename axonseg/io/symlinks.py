"""Outputs that are symbolic links to nothing: ``mkdir`` then says only "File exists"."""
from __future__ import annotations

import os
from pathlib import Path

from axonseg.errors import AxonsegError


class DanglingLinkError(AxonsegError, ValueError):
    """An output path is a symbolic link whose target does not exist."""


def check_not_dangling(path: str | Path) -> None:
    """Raise :class:`DanglingLinkError` naming ``path`` and its target when it is a dangling link."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise DanglingLinkError(f"{path}: a symbolic link to {os.readlink(path)}, which does not exist; remove "
                                "the link, or create its target folder first")
