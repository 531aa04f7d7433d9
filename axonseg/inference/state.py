"""The output folder of a prediction run and its resume state.

Layout::

    <out>/probability.ome.zarr   uint8 probability x 255, OME-Zarr pyramid
    <out>/probability.ome.zarr/labels/mask
                                 optional 0/255 mask (probability >= threshold), an NGFF
                                 label image of the probability (napari: Labels layer)
    <out>/run.json               model, settings, versions, normalisation, timing
    <out>/blocks/<index>.done    written after a block's data is written (resume)
    <out>/blocks.log             one line per block write (audit: each block once)
    <out>/tissue.ome.zarr        the tissue mask used to skip patches (low resolution, 0/255)
    <out>/spill/<src>-<dst>.npy  weighted patch sums a finished block hands on to a later one
    <out>/.axonseg.lock          held while a run writes (pid + host)
    <out>/tiff/0000.tiff ...     optional D-LMBmap style slices
    <out>/preview.png            maximum-intensity projections

A block counts as done only when its marker exists; markers are written (atomically)
after the block's chunks, so a killed run loses at most the blocks in flight.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axonseg.errors import AxonsegError
from axonseg.io.files import append_line, read_json, write_json


class OutputError(AxonsegError, ValueError):
    """The output folder cannot be used (exists from another run, is the input, ...)."""


@dataclass(frozen=True)
class OutputLayout:
    root: Path

    @property
    def probability(self) -> Path:
        return self.root / "probability.ome.zarr"

    @property
    def mask(self) -> Path:
        return self.probability / "labels" / "mask"

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def blocks_dir(self) -> Path:
        return self.root / "blocks"

    @property
    def spill_dir(self) -> Path:
        return self.root / "spill"

    @property
    def tissue(self) -> Path:
        return self.root / "tissue.ome.zarr"

    @property
    def log(self) -> Path:
        return self.root / "blocks.log"

    @property
    def tiff_dir(self) -> Path:
        return self.root / "tiff"

    @property
    def preview(self) -> Path:
        return self.root / "preview.png"

    @property
    def converted_input(self) -> Path:
        return self.root / "input.ome.zarr"

    def marker(self, index: int) -> Path:
        return self.blocks_dir / f"{index:07d}.done"


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    write_json(path, data, indent=2, sort_keys=True, default=str, trailing_newline=False)


def read_run_json(layout: OutputLayout) -> dict[str, Any]:
    return read_json(layout.run_json)


def mark_done(layout: OutputLayout, index: int, info: dict[str, Any]) -> None:
    """Record block ``index`` as written (call only after its data is in the store)."""
    write_json_atomic(layout.marker(index), info)


def done_indices(layout: OutputLayout) -> set[int]:
    if not layout.blocks_dir.is_dir():
        return set()
    return {int(p.name.split(".")[0]) for p in layout.blocks_dir.glob("*.done")}


def log_write(layout: OutputLayout, index: int) -> None:
    """Append one line per block write (O_APPEND: one small write, safe across processes)."""
    append_line(layout.log, f"{index} {os.getpid()}")


def _contents(layout: OutputLayout) -> list[Path]:
    from axonseg.io.lock import LOCK_NAME

    return [p for p in layout.root.iterdir() if p.name != LOCK_NAME]


def check_output(layout: OutputLayout, fingerprint: dict[str, Any], input_path: Path, overwrite: bool) -> str:
    """Decide, without changing anything, between a fresh run and a resume: ``"new"`` or ``"resume"``.

    An existing folder is resumed only if it was written by the same job (same
    fingerprint) and ``overwrite`` is not given; ``overwrite`` is allowed only on an
    axonseg output (has ``run.json``) or an empty folder. The input is never inside the output.
    """
    root = layout.root.resolve()
    src = Path(input_path).resolve()
    if root == src or src.is_relative_to(root) or (src.is_dir() and root.is_relative_to(src)):
        raise OutputError(f"{layout.root}: output folder must not be the input or inside/around it ({input_path})")
    if layout.root.exists() and not layout.root.is_dir():
        raise OutputError(f"{layout.root}: exists and is not a folder")
    if not layout.root.exists():
        return "new"
    if layout.run_json.exists():
        if overwrite:
            return "new"
        try:
            previous = read_run_json(layout)
        except ValueError as e:
            raise OutputError(f"{layout.run_json}: unreadable ({e}); use --overwrite") from e
        if previous.get("status") == "initializing":
            return "new"
        previous = previous.get("fingerprint") or {}
        current = json.loads(json.dumps(fingerprint, default=str))
        if previous != current:
            diff = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
            raise OutputError(f"{layout.root}: holds a prediction with different settings/model/input "
                              f"(differs in {diff}); use another folder or --overwrite")
        return "resume"
    if _contents(layout):
        raise OutputError(f"{layout.root}: exists and is not an axonseg prediction (no run.json); "
                          f"refusing to write into or delete it")
    return "new"


def clear_output(layout: OutputLayout) -> None:
    """Delete everything in the output folder but the lock (call with the lock held, after check_output)."""
    for p in _contents(layout):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
