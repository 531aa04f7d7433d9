"""Leftovers of zarr writes that a kill interrupted.

zarr's ``LocalStore`` writes each chunk (and ``zarr.json``) to ``<key>.<32 hex>.partial`` and then
renames it over the key; a process killed between the two leaves the ``.partial`` file behind.
The chunk itself is either the old one or missing, so the resumed run rewrites it, but the
leftover would stay in the output for ever. A resumed run removes them first (it holds the
folder's lock, so no live writer owns them).
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

logger = logging.getLogger(__name__)

#: zarr.storage.LocalStore's temporary name: ``path.with_suffix(f".{uuid4().hex}.partial")``
ZARR_PARTIAL = re.compile(r"\.[0-9a-f]{32}\.partial$")


def remove_partial_writes(root: str | Path) -> list[Path]:
    """Remove zarr's interrupted-write files in every ``*.zarr`` folder under ``root``; returns them."""
    removed = []
    for top, dirs, files in os.walk(root):
        if ".zarr" not in top:
            continue
        for name in files:
            if ZARR_PARTIAL.search(name):
                path = Path(top) / name
                path.unlink()
                removed.append(path)
    if removed:
        logger.info("%s: removed %d unfinished zarr write(s) of an interrupted run (e.g. %s)", root,
                    len(removed), removed[0])
    return removed
