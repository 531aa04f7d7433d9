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


def write_record(path: Path, data: dict[str, Any]) -> None:
    """``run.json`` and done markers: :func:`axonseg.io.atomic.write_json_atomic`, keys sorted."""
    write_json(path, data, sort_keys=True, default=str)


def read_run_json(layout: OutputLayout) -> dict[str, Any]:
    return read_json(layout.run_json)


def mark_done(layout: OutputLayout, index: int, info: dict[str, Any]) -> None:
    """Record block ``index`` as written (call only after its data is in the store)."""
    write_record(layout.marker(index), info)


def done_indices(layout: OutputLayout) -> set[int]:
    if not layout.blocks_dir.is_dir():
        return set()
    return {int(p.name.split(".")[0]) for p in layout.blocks_dir.glob("*.done")}


def log_write(layout: OutputLayout, index: int) -> None:
    """Append one line per block write (O_APPEND: one small write, safe across processes)."""
    append_line(layout.log, f"{index} {os.getpid()}")


#: Every name axonseg predict writes at the top of its output folder (hidden ``.NAME.*.partial``
#: files of an interrupted atomic write are ours too): ``--overwrite`` deletes nothing else.
OUTPUT_NAMES = frozenset({"probability.ome.zarr", "run.json", "blocks", "blocks.log", "spill", "tissue.ome.zarr",
                          "tiff", "preview.png", "input.ome.zarr", "scout", "scout.ome.zarr"})
RUN_STATUSES = ("initializing", "running", "complete")


def _contents(layout: OutputLayout) -> list[Path]:
    from axonseg.io.lock import LOCK_NAME

    return [p for p in layout.root.iterdir() if p.name != LOCK_NAME]


def _ours(name: str) -> bool:
    return name in OUTPUT_NAMES or (name.startswith(".") and name.endswith(".partial")
                                    and name[1:].split(".")[0] in {n.split(".")[0] for n in OUTPUT_NAMES})


def foreign_entries(layout: OutputLayout) -> list[str]:
    """Names in the output folder that axonseg predict does not write (user files)."""
    return sorted(p.name for p in _contents(layout) if not _ours(p.name))


def _our_run_json(layout: OutputLayout) -> dict[str, Any] | None:
    """``run.json`` when it is one that axonseg predict wrote (status and fingerprint), else None."""
    try:
        meta = read_run_json(layout)
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("status") not in RUN_STATUSES \
            or not isinstance(meta.get("fingerprint"), dict):
        return None
    return meta


def check_output(layout: OutputLayout, fingerprint: dict[str, Any], input_path: Path, overwrite: bool,
                 inputs: tuple = ()) -> str:
    """Decide, without changing anything, between a fresh run and a resume: ``"new"`` or ``"resume"``.

    An existing folder is used only when axonseg predict wrote it: its ``run.json`` is ours and
    it holds nothing else than the names predict writes (``OUTPUT_NAMES``). It is resumed when
    the fingerprint matches and ``overwrite`` is not given; ``overwrite`` (or a run that died
    while initializing) starts it afresh. An empty folder is used as is. The output is never
    the input (``input_path``, or any of ``inputs``: the model), nor inside or around it.
    """
    from axonseg.io.atomic import check_apart

    check_apart([layout.root], [input_path, *inputs])
    if layout.root.exists() and not layout.root.is_dir():
        raise OutputError(f"{layout.root}: exists and is not a folder")
    if not layout.root.exists():
        return "new"
    if not layout.run_json.exists():
        if _contents(layout):
            raise OutputError(f"{layout.root}: exists and is not an axonseg prediction (no run.json); "
                              f"refusing to write into or delete it")
        return "new"
    previous = _our_run_json(layout)
    if previous is None:
        raise OutputError(f"{layout.run_json}: not a run.json written by axonseg predict; refusing to write "
                          f"into or delete {layout.root} (choose another output folder)")
    foreign = foreign_entries(layout)
    if foreign and (overwrite or previous["status"] == "initializing"):
        raise OutputError(f"{layout.root}: holds {foreign[:3]} that axonseg predict did not write; refusing "
                          "to delete them (move them away, or choose another output folder)")
    if overwrite or previous["status"] == "initializing":
        return "new"
    previous = previous["fingerprint"]
    current = json.loads(json.dumps(fingerprint, default=str))
    if previous != current:
        diff = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
        raise OutputError(f"{layout.root}: holds a prediction with different settings/model/input "
                          f"(differs in {diff}); use another folder or --overwrite")
    return "resume"


def clear_output(layout: OutputLayout) -> None:
    """Delete what predict wrote in the output folder but the lock (call with the lock held, after
    check_output); anything else is left where it is."""
    for p in _contents(layout):
        if not _ours(p.name):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
