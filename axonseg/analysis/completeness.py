"""Refuse to analyse an unfinished prediction (or say so loudly when asked to go on).

An interrupted ``axonseg predict`` leaves its output folder with ``run.json`` status
``initializing`` or ``running`` and only some blocks written; the rest of the probability
reads as 0. Analysing it gives numbers that look valid (a total length of 0.0 mm, a preview
whose probability panel is empty) but describe a part of the brain. The analysis commands
(density, evaluate, preview) therefore call :func:`check_prediction_complete` on every input
that lies in a prediction folder: an error naming the folder and its status, or, with
``allow_incomplete``, a warning that says how much is missing.
"""
from __future__ import annotations

import logging
from pathlib import Path

from axonseg.errors import AxonsegError

logger = logging.getLogger(__name__)

COMPLETE = "complete"
MAX_DEPTH = 4   # out/probability.ome.zarr/labels/mask/0 is four levels below out/


class IncompletePredictionError(AxonsegError, ValueError):
    """The input is part of a prediction that has not finished."""


def prediction_folder_of(path: str | Path) -> Path | None:
    """The ``axonseg predict`` output folder that ``path`` is or lies in (up to 4 levels), else ``None``."""
    p = Path(path).resolve()
    for folder in [p, *p.parents][:MAX_DEPTH + 1]:
        if (folder / "run.json").is_file() and (folder / "probability.ome.zarr").exists():
            return folder
    return None


def check_prediction_complete(path: str | Path, allow_incomplete: bool = False) -> str | None:
    """Raise (or warn, with ``allow_incomplete``) if ``path`` belongs to an unfinished prediction.

    Returns the prediction's status (``None`` when ``path`` is not in a prediction folder).

    Raises
    ------
    IncompletePredictionError
        The prediction's ``run.json`` status is not ``complete`` and ``allow_incomplete`` is false.
    """
    from axonseg.inference.state import OutputLayout, done_indices, read_run_json

    folder = prediction_folder_of(path)
    if folder is None:
        return None
    layout = OutputLayout(folder)
    try:
        status = str(read_run_json(layout).get("status", "unknown"))
    except ValueError as exc:  # json.JSONDecodeError: a run.json cut short
        status = f"unreadable run.json ({exc})"
    if status == COMPLETE:
        check_no_missing_chunks(folder, path, allow_incomplete)
        return status
    done = len(done_indices(layout))
    what = f"{folder}: the prediction is not complete (run.json status {status!r}, {done} block(s) written)"
    if not allow_incomplete:
        raise IncompletePredictionError(f"{what}; rerun the same `axonseg predict` command to finish it, "
                                        "or pass --allow-incomplete")
    logger.warning("INCOMPLETE PREDICTION %s. --allow-incomplete: going on, but every block not yet written "
                   "reads as 0 (no axons): these results cover only part of the volume", what)
    return status


def _level0_array(folder: Path, path: str | Path) -> tuple[str, Path] | None:
    """(output name, level-0 array) of the prediction output that ``path`` opens; None for anything else."""
    parts = Path(path).resolve().relative_to(folder).parts
    if not parts or parts[0] != "probability.ome.zarr":
        return None
    name, rest, array = "probability", parts[1:], folder / parts[0]
    if rest[:1] == ("labels",):
        if len(rest) < 2:
            return None
        name, rest, array = rest[1], rest[2:], array / "labels" / rest[1]
    if rest not in ((), ("0",)):
        return None  # a pyramid level: not checked
    return name, array / "0"


def check_no_missing_chunks(folder: Path, path: str | Path, allow_incomplete: bool = False) -> None:
    """A complete prediction has a file for every chunk (or shard) except those its blocks recorded as
    all zero (``unwritten_units`` in their done markers); zarr would read a lost one as 0, so a missing
    one raises :class:`IncompletePredictionError` naming it (a warning with ``allow_incomplete``).
    Predictions whose markers record nothing (written before this check) are not checked."""
    from axonseg.inference.state import OutputLayout, done_indices
    from axonseg.io.chunks import missing_units
    from axonseg.io.files import read_json

    target = _level0_array(folder, path)
    if target is None or not target[1].is_dir():
        return
    name, array = target
    layout = OutputLayout(folder)
    unwritten: set[tuple[int, ...]] = set()
    indices = sorted(done_indices(layout))
    if not indices:  # no block markers at all: nothing recorded, nothing to check against
        return
    for index in indices:
        recorded = read_json(layout.marker(index)).get("unwritten_units")
        if recorded is None or name not in recorded:
            return
        unwritten.update(tuple(c) for c in recorded[name])
    missing = missing_units(array, unwritten)
    if not missing:
        return
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    what = f"{array}: chunk {missing[0]}{more} is missing from a complete prediction"
    if not allow_incomplete:
        raise IncompletePredictionError(f"{what}; axonseg writes every chunk that is not all zero, so the folder "
                                        "was damaged (copied in part?): copy it again, or rerun `axonseg predict` "
                                        "with --overwrite")
    logger.warning("DAMAGED PREDICTION %s. --allow-incomplete: going on, but the missing chunks read as 0", what)
