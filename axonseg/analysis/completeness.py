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
        return status
    done = len(done_indices(layout))
    what = f"{folder}: the prediction is not complete (run.json status {status!r}, {done} block(s) written)"
    if not allow_incomplete:
        raise IncompletePredictionError(f"{what}; rerun the same `axonseg predict` command to finish it, "
                                        "or pass --allow-incomplete")
    logger.warning("INCOMPLETE PREDICTION %s. --allow-incomplete: going on, but every block not yet written "
                   "reads as 0 (no axons): these results cover only part of the volume", what)
    return status
