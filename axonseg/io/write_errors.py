"""Write errors that name the file: a full disk mid-write raises ``OSError`` without a file name
(``[Errno 28] No space left on device``) or, from numpy, only ``524288 requested and 250848 written``;
the CLI then prints no path and no hint. :func:`named_write_error` gives such an error the path and,
for numpy's short write, the errno of a full disk (the CLI adds "the disk is full ... rerun to resume")."""
from __future__ import annotations

import errno
from pathlib import Path


def named_write_error(exc: OSError, path: str | Path) -> OSError:
    """``exc`` itself when it names a file; else an ``OSError`` of the same errno naming ``path``."""
    if exc.filename is not None:
        return exc
    code, text = exc.errno, exc.strerror or str(exc)
    if code is None and "requested and" in text and "written" in text:  # numpy's short write: disk full
        code, text = errno.ENOSPC, f"short write ({text})"
    named = OSError(code, text, str(path))
    named.__cause__ = exc
    return named
