"""Evaluate predictions against ground truth: one pair of volumes or two folders of pairs.

Volumes are opened with :func:`axonseg.io.open_volume` (TIFF slices/stack, zarr, OME-Zarr,
HDF5, NIfTI). In folders, files are matched by id: the name without its volume suffix
(``match="name"``, e.g. nnU-Net's ``case_001.nii.gz`` <-> ``case_001.tiff``) or the last
number in the name (``match="number"``, e.g. ``label-1000.tiff`` <-> ``cube_1000.nii.gz``).
Results are written as JSON (every score, plus the mean over pairs per tolerance) and CSV
(one row per pair and tolerance), each written to a temporary file and renamed.
"""
from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from axonseg.analysis.metrics import Scores, binarize, score_tolerances
from axonseg.io.files import write_json, write_text
from axonseg.settings import SettingsBase

logger = logging.getLogger(__name__)

VOLUME_SUFFIXES = (".ome.zarr", ".nii.gz", ".nii", ".tiff", ".tif", ".zarr", ".h5", ".hdf5")


@dataclass(frozen=True)
class EvaluationSettings(SettingsBase):
    """How to turn inputs into masks and at which tolerances to score them."""

    threshold: float | None = 0.5   # probability threshold for the prediction (None: non-zero)
    tolerances_vox: tuple[int, ...] = (0, 1)
    match: str = "name"             # "name" or "number"


@dataclass
class PairResult:
    case_id: str
    prediction: str
    truth: str
    scores: list[Scores] = field(default_factory=list)


def case_id(path: Path, match: str) -> str:
    """Id of a volume file/folder for matching: its name without suffix, or its last number."""
    name = path.name
    for suffix in VOLUME_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    if match == "name":
        return name[:-5] if name.endswith("_0000") else name
    if match == "number":
        numbers = re.findall(r"\d+", name)
        if not numbers:
            raise ValueError(f"{path}: name contains no number to match it by")
        return str(int(numbers[-1]))
    raise ValueError(f"match must be 'name' or 'number', not {match!r}")


def _volumes_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if not p.name.startswith(".") and p.name.lower().endswith(VOLUME_SUFFIXES))


def _by_id(folder: Path, match: str) -> dict[str, Path]:
    """Volumes of ``folder`` by id; two volumes with one id is an error naming both."""
    out: dict[str, Path] = {}
    for p in _volumes_in(folder):
        cid = case_id(p, match)
        if cid in out:
            raise ValueError(f"{folder}: {out[cid].name} and {p.name} have the same id {cid!r} "
                             f"(matching by {match})")
        out[cid] = p
    return out


def find_pairs(prediction: Path, truth: Path, match: str = "name") -> list[tuple[str, Path, Path]]:
    """(id, prediction, truth) triples: one pair of volumes, or two folders matched by id.

    Raises ``ValueError`` naming the unmatched ids when a folder has a volume without partner.
    """
    prediction, truth = Path(prediction), Path(truth)
    for p in (prediction, truth):
        if not p.exists():
            raise ValueError(f"{p}: no such file or folder")
    pred_is_set = prediction.is_dir() and bool(_volumes_in(prediction))
    truth_is_set = truth.is_dir() and bool(_volumes_in(truth))
    if not pred_is_set and not truth_is_set:
        return [(case_id(prediction, "name"), prediction, truth)]
    if pred_is_set != truth_is_set:
        raise ValueError(f"{prediction} and {truth}: give two volumes or two folders of volumes")
    preds, truths = _by_id(prediction, match), _by_id(truth, match)
    missing = sorted(set(preds) ^ set(truths))
    if missing:
        raise ValueError(f"{prediction} / {truth}: ids without a partner: {missing} "
                         f"(matching by {match}; try --match number)")
    return [(cid, preds[cid], truths[cid]) for cid in sorted(preds)]


def _load(path: Path) -> np.ndarray:
    from axonseg.io import open_volume

    arr, _ = open_volume(path)
    return np.asarray(arr.compute())


def check_binary_truth(gt: np.ndarray, path: Path) -> None:
    """A truth mask has one non-zero value (``1``, ``255``, ``True``...); anything else (a probability
    map, a multi-label image, NaN) is refused with ``ValueError`` naming ``path``."""
    nonzero = gt[gt != 0]
    if nonzero.size and (nonzero != nonzero.flat[0]).any():
        values = np.unique(nonzero)
        shown = ", ".join(f"{v:.6g}" for v in values[:4]) + (", ..." if values.size > 4 else "")
        raise ValueError(f"{path}: the truth is not a binary mask: {values.size} different non-zero values "
                         f"({shown}); give a mask with one value for axon and 0 elsewhere (a probability map "
                         f"or a prediction cannot be the truth)")


def evaluate(prediction: Path, truth: Path, settings: EvaluationSettings = EvaluationSettings(),
             allow_incomplete: bool = False) -> list[PairResult]:
    """Score every prediction/truth pair (see module docstring). Truth: non-zero = axon.

    A prediction inside an unfinished ``axonseg predict`` folder is refused unless
    ``allow_incomplete`` (then a warning says so).
    """
    from axonseg.analysis.completeness import check_prediction_complete

    results = []
    pairs = find_pairs(prediction, truth, settings.match)
    for _, pred_path, _ in pairs:
        check_prediction_complete(pred_path, allow_incomplete)
    for cid, pred_path, truth_path in pairs:
        pred, gt = _load(pred_path), _load(truth_path)
        if pred.shape != gt.shape:
            raise ValueError(f"{pred_path}: shape {pred.shape} differs from {truth_path}: {gt.shape}")
        try:
            pred_mask = binarize(pred, settings.threshold)
        except ValueError as exc:
            raise ValueError(f"{pred_path}: {exc}") from exc
        check_binary_truth(gt, truth_path)
        scores = score_tolerances(pred_mask, binarize(gt), settings.tolerances_vox)
        results.append(PairResult(cid, str(pred_path), str(truth_path), scores))
        logger.info("%s: %s", cid, ", ".join(f"k={s.tolerance_vox} Dice {s.dice:.3f} clDice "
                                             f"{s.cldice:.3f}" for s in scores))
    return results


METRICS = ("dice", "iou", "precision", "recall", "cldice", "cl_precision", "cl_recall")


def summary(results: Sequence[PairResult]) -> list[dict]:
    """Mean of every metric over pairs, per tolerance."""
    out = []
    for i, first in enumerate(results[0].scores if results else []):
        rows = [r.scores[i] for r in results]
        out.append({"tolerance_vox": first.tolerance_vox, "n_pairs": len(rows),
                    **{m: float(np.mean([getattr(s, m) for s in rows])) for m in METRICS}})
    return out


def write_results(results: Sequence[PairResult], settings: EvaluationSettings,
                  json_path: Path | None = None, csv_path: Path | None = None) -> None:
    """Write ``results`` as JSON (settings, pairs, mean per tolerance) and/or CSV."""
    if json_path is not None:
        doc = {"threshold": settings.threshold, "tolerances_vox": list(settings.tolerances_vox),
               "tolerance_rule": "lenient: a predicted voxel within k voxels (Chebyshev) of the truth is "
                                 "correct, a true voxel within k of the prediction is found",
               "pairs": [{"id": r.case_id, "prediction": r.prediction, "truth": r.truth,
                          "scores": [s.to_dict() for s in r.scores]} for r in results],
               "mean": summary(results)}
        write_json(json_path, doc)
    if csv_path is not None:
        import io

        buf = io.StringIO()
        fields = _csv_fields()
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for r in results:
            for s in r.scores:
                writer.writerow({"id": r.case_id, "prediction": r.prediction, "truth": r.truth,
                                 "threshold": settings.threshold, **s.to_dict()})
        write_text(csv_path, buf.getvalue())


def _csv_fields() -> list[str]:
    return ["id", "prediction", "truth", "threshold"] + list(Scores.__dataclass_fields__)


def is_scores_json(path: Path) -> bool:
    """``path`` holds scores written by :func:`write_results` (``--overwrite`` replaces only those)."""
    from axonseg.io.files import read_json

    try:
        doc = read_json(path)
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and {"tolerance_rule", "pairs", "mean"} <= set(doc)


def is_scores_csv(path: Path) -> bool:
    """``path`` is a CSV of scores written by :func:`write_results` (its header line is ours)."""
    from axonseg.io.files import read_head

    header = ",".join(_csv_fields()).encode() + b"\n"
    return Path(path).is_file() and read_head(path, len(header)) == header


def run_evaluation(prediction: Path, truth: Path, settings: EvaluationSettings,
                   json_path: Path | None, csv_path: Path | None, allow_incomplete: bool = False,
                   overwrite: bool = False) -> list[dict]:
    """Evaluate, write JSON/CSV, and return the mean scores per tolerance (``axonseg evaluate``).

    The outputs are neither an input nor inside one, and an existing output is replaced only with
    ``overwrite`` and only when it holds scores of ours (:func:`~axonseg.io.atomic.check_replace_target`).
    """
    from axonseg.io.atomic import check_apart, check_replace_target

    check_apart([json_path, csv_path], [prediction, truth])
    for out, ours in ((json_path, is_scores_json), (csv_path, is_scores_csv)):
        if out is not None:
            check_replace_target(out, [prediction, truth], overwrite, is_ours=ours, folder=False)
    for out in (json_path, csv_path):
        if out is not None and not Path(out).parent.is_dir():
            raise ValueError(f"{out}: output folder {Path(out).parent} does not exist")
    results = evaluate(prediction, truth, settings, allow_incomplete)
    write_results(results, settings, json_path, csv_path)
    return summary(results)
