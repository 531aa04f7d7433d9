"""Pictures: matplotlib figures saved as PNG, atomically (readers never see half a file).

Every PNG axonseg writes says so in its ``Software`` text chunk (:data:`PNG_SOFTWARE`), so that
``--overwrite`` can tell a picture of ours from any other file (:func:`is_axonseg_png`).
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from axonseg.io.atomic import atomic_file

PNG_SOFTWARE = "axonseg"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def save_figure_png(fig: Any, path: str | Path, **savefig_kwargs: Any) -> Path:
    """``fig.savefig`` into a temporary file beside ``path``, then renamed onto it."""
    metadata = {"Software": PNG_SOFTWARE, **savefig_kwargs.pop("metadata", {})}
    with atomic_file(path, "wb") as f:
        fig.savefig(f, format="png", metadata=metadata, **savefig_kwargs)
    return Path(path)


def png_text(path: str | Path) -> dict[str, str]:
    """The ``tEXt`` chunks of a PNG (``{}`` for a file that is not a PNG)."""
    data = Path(path).read_bytes()
    if not data.startswith(_PNG_SIGNATURE):
        return {}
    text, pos = {}, len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"tEXt" and b"\0" in body:
            key, value = body.split(b"\0", 1)
            text[key.decode("latin-1")] = value.decode("latin-1")
        if kind == b"IEND":
            break
        pos += 12 + length
    return text


def is_axonseg_png(path: str | Path) -> bool:
    """``path`` is a PNG that axonseg wrote (see the module docstring)."""
    return Path(path).is_file() and png_text(path).get("Software") == PNG_SOFTWARE
