"""Build an output folder so that an interrupted run resumes where it stopped.

:func:`resumable_folder` is :func:`~axonseg.io.atomic.staged_folder` for long block jobs
(conversion, density maps): the folder is built under the fixed hidden name
``.NAME.partial`` beside ``NAME`` and moved into place when the job succeeds. Finished
units of work (blocks) are recorded as marker files, each written after its data, so a
rerun of the same command skips them:

* Ctrl-C, a killed process, a full disk or another ``OSError``: the partial folder is
  kept, and the same command resumes it. Its ``fingerprint.json`` (inputs, settings) must
  match; a partial folder of a different run is ours (it holds that file) and is started
  over with a warning.
* Any other error (bad input found on the way, a bug): the partial folder is removed, so
  no partial output is left behind.

A lock (:class:`~axonseg.io.lock.FolderLock`) keeps two runs out of one partial folder.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from axonseg.io.atomic import OutputTargetError, check_replace_target, swap_in, write_json_atomic
from axonseg.io.files import read_json
from axonseg.io.lock import FolderLock
from axonseg.io.zarr_partials import remove_partial_writes

logger = logging.getLogger(__name__)

PROGRESS = ".axonseg-progress"
KEEP_ON = (KeyboardInterrupt, OSError, MemoryError)


@dataclass(frozen=True)
class Staging:
    """The partial folder being built (``path``), and its record of finished work (picklable:
    Dask workers mark their blocks done too)."""

    path: Path
    resumed: bool

    @property
    def work_dir(self) -> Path:
        """Scratch space for per-block results kept until the end (removed with the markers)."""
        return self.path / PROGRESS

    def _marker(self, key: str) -> Path:
        return self.path / PROGRESS / f"{key}.done"

    def is_done(self, key: str) -> bool:
        return self._marker(key).is_file()

    def mark_done(self, key: str) -> None:
        """Record ``key`` finished; call only after its data are written."""
        marker = self._marker(key)
        marker.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(marker, {"done": key})

    def done_count(self) -> int:
        return sum(1 for _ in (self.path / PROGRESS).glob("*.done"))


def partial_path(dst: str | Path) -> Path:
    dst = Path(dst)
    return dst.parent / f".{dst.name}.partial"


def _canonical(fingerprint: dict) -> Any:
    """The fingerprint as JSON will read it back; a value JSON cannot hold (NaN, inf) is refused here,
    before anything is written."""
    try:
        return json.loads(json.dumps(fingerprint, sort_keys=True, default=str, allow_nan=False))
    except ValueError as exc:
        bad = sorted(k for k, v in _flat(fingerprint) if isinstance(v, float) and not math.isfinite(v))
        raise ValueError(f"{', '.join(bad) or 'settings'}: not a finite number ({exc})") from None


def _flat(d: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _flat(v, f"{prefix}{k}.")
    elif isinstance(d, (list, tuple)):
        for v in d:
            yield from _flat(v, prefix)
    else:
        yield prefix.rstrip("."), d


def _is_ours_unfinished(staging: Path) -> bool:
    """A partial folder of ours: it has our fingerprint, or (a run stopped while creating it) only an
    empty progress folder."""
    progress = staging / PROGRESS
    if (progress / "fingerprint.json").is_file():
        return True
    return progress.is_dir() and not any(progress.iterdir()) and \
        all(p.name == PROGRESS for p in staging.iterdir())


def _prepare(staging: Path, fingerprint: Any) -> bool:
    """Reuse ``staging`` when it holds this fingerprint (True), else start it afresh (False)."""
    fp_file = staging / PROGRESS / "fingerprint.json"
    if staging.exists():
        if not _is_ours_unfinished(staging):
            raise OutputTargetError(f"{staging}: exists and is not an unfinished axonseg run; move it away")
        if fp_file.is_file() and read_json(fp_file) == fingerprint:
            remove_partial_writes(staging)  # a kill inside zarr's chunk write leaves <chunk>.<hex>.partial
            return True
        logger.warning("%s: an unfinished run with other inputs or settings; starting over", staging)
        shutil.rmtree(staging)
    try:
        (staging / PROGRESS).mkdir(parents=True)
        write_json_atomic(fp_file, fingerprint)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # never leave a partial folder without its fingerprint
        raise
    return False


@contextlib.contextmanager
def resumable_folder(dst: str | Path, fingerprint: dict, overwrite: bool = False,
                     inputs: Sequence[str | Path] = (),
                     is_ours: Callable[[Path], bool] | None = None) -> Iterator[Staging]:
    """Yield the :class:`Staging` of ``dst``; it becomes ``dst`` when the block succeeds.

    ``fingerprint``: JSON-able description of the run (inputs, their sizes and times, settings);
    a partial folder is resumed only by a run with the same fingerprint. The target is checked
    first (:func:`~axonseg.io.atomic.check_replace_target`).
    """
    dst = Path(dst)
    fp = _canonical(fingerprint)  # before anything is made: a bad value leaves nothing behind
    check_replace_target(dst, inputs, overwrite, is_ours, folder=True)
    dst.parent.mkdir(parents=True, exist_ok=True)
    staging = partial_path(dst)
    with FolderLock(dst.parent, name=f".{dst.name}.lock"):
        resumed = _prepare(staging, fp)
        st = Staging(staging, resumed)
        if resumed:
            logger.info("resuming %s (%d blocks done)", staging, st.done_count())
        try:
            yield st
        except KEEP_ON:
            logger.warning("%s kept: run the same command again to resume", staging)
            raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(staging / PROGRESS)
        swap_in(staging, dst)
