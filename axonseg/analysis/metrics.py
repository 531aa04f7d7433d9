"""Overlap and centreline metrics of a predicted mask against a true mask.

Voxel metrics: Dice, IoU, precision (fraction of predicted voxels that are true) and recall
(fraction of true voxels that are predicted). Centreline metrics (Shit et al., CVPR 2021):
cl-precision = fraction of the *prediction's* skeleton inside the *truth* mask, cl-recall =
fraction of the *truth's* skeleton inside the *prediction* mask, clDice their harmonic mean.
Skeletons are scikit-image's 3-D ``skeletonize``.

Tolerance ``k`` (lenient; ``k = 0`` is the strict score): a predicted voxel counts as
correct when a true voxel lies within Chebyshev distance ``k`` of it (a 3x3x3 cube dilation
of the truth, ``k`` times), and a true voxel counts as found when a predicted voxel lies
within ``k`` of it. With ``P_ok`` correct predicted voxels and ``T_ok`` found true voxels::

    precision_k = P_ok / |P|        recall_k = T_ok / |T|
    Dice_k      = (P_ok + T_ok) / (|P| + |T|)        IoU_k = Dice_k / (2 - Dice_k)
    cl-precision_k = predicted skeleton voxels within k of the truth / skeleton voxels
    cl-recall_k    = true skeleton voxels within k of the prediction / skeleton voxels

At ``k = 0`` these are the usual (strict) scores (``P_ok = T_ok = |P & T|``), and no score
can drop when ``k`` grows (each numerator only grows, denominators stay). Skeletons are
always those of the undilated masks. (D-LMBmap's evaluation dilated both masks and scored
the dilated masks, which can score *lower* than strict; that is not done here.) D-LMBmap's
script also passed prediction and truth in swapped order; here the argument names say
which is which and the tests catch a swap.

Conventions for empty masks: when both masks (or both skeletons) are empty every score is 1;
a ratio whose denominator is empty while the other mask is not is 0.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

logger = logging.getLogger(__name__)

CUBE_26 = np.ones((3, 3, 3), bool)


@dataclass(frozen=True)
class Scores:
    """All scores of one prediction/truth pair at one tolerance (``tolerance_vox``)."""

    tolerance_vox: int
    dice: float
    iou: float
    precision: float
    recall: float
    cldice: float
    cl_precision: float
    cl_recall: float
    pred_voxels: int
    truth_voxels: int
    pred_within_tolerance: int    # predicted voxels within k of the truth (= |P & T| at k = 0)
    truth_within_tolerance: int   # true voxels within k of the prediction (= |P & T| at k = 0)

    def to_dict(self) -> dict:
        return asdict(self)


def binarize(volume: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Boolean mask of ``volume``.

    Parameters
    ----------
    volume
        A mask/label (any dtype) or a probability map: uint8 0-255 (as ``axonseg predict``
        writes, p = value / 255), uint16 0-65535 (p = value / 65535) or float in [0, 1].
    threshold
        ``None``: every non-zero voxel is foreground (labels, masks). Otherwise the
        probability threshold in [0, 1]: foreground where ``p >= threshold``.
    """
    volume = np.asarray(volume)
    if volume.dtype.kind == "f" and not np.isfinite(volume).all():
        bad = int(np.size(volume) - np.count_nonzero(np.isfinite(volume)))
        raise ValueError(f"{bad} NaN or Inf voxel(s): neither axon nor background; fix the volume first")
    if threshold is None or volume.dtype == bool:
        return volume != 0
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold {threshold} is not a probability in [0, 1]")
    if volume.dtype == np.uint8:
        return volume.astype(np.float32) / 255.0 >= threshold
    if volume.dtype == np.uint16:
        return volume.astype(np.float32) / 65535.0 >= threshold
    if np.issubdtype(volume.dtype, np.floating):
        return volume >= threshold
    raise ValueError(f"cannot threshold a {volume.dtype} volume as a probability "
                     "(expected uint8 0-255, uint16 or float in [0, 1])")


def dilate(mask: np.ndarray, k: int) -> np.ndarray:
    """``mask`` dilated by ``k`` voxels with a 3x3x3 cube (Chebyshev distance <= k)."""
    if k < 0:
        raise ValueError(f"tolerance {k} must be >= 0")
    mask = np.asarray(mask, bool)
    if k == 0 or not mask.any():
        return mask
    return ndimage.binary_dilation(mask, structure=CUBE_26, iterations=k)


def skeleton(mask: np.ndarray) -> np.ndarray:
    """3-D skeleton (boolean) of a boolean mask (scikit-image ``skeletonize``)."""
    from skimage.morphology import skeletonize

    mask = np.asarray(mask, bool)
    if not mask.any():
        return mask.copy()
    return skeletonize(mask).astype(bool)


def _ratio(num: int, den: int, other_empty: bool) -> float:
    if den == 0:
        return 1.0 if other_empty else 0.0
    return float(num) / float(den)


def _harmonic(a: float, b: float) -> float:
    return 2.0 * a * b / (a + b) if a + b > 0 else 0.0


def score(pred_mask: np.ndarray, truth_mask: np.ndarray, tolerance_vox: int = 0) -> Scores:
    """Scores of ``pred_mask`` against ``truth_mask`` (boolean arrays of one shape).

    Parameters
    ----------
    pred_mask, truth_mask
        Prediction and ground truth, (z, y, x). Order matters: precision and cl-precision
        are about the prediction, recall and cl-recall about the truth.
    tolerance_vox
        Lenient tolerance ``k`` in voxels (Chebyshev distance; 0: strict), see the module
        docstring.
    """
    pred = np.asarray(pred_mask, bool)
    truth = np.asarray(truth_mask, bool)
    if pred.shape != truth.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from truth shape {truth.shape}")
    near_truth, near_pred = dilate(truth, tolerance_vox), dilate(pred, tolerance_vox)
    n_pred, n_truth = int(pred.sum()), int(truth.sum())
    pred_ok = int(np.count_nonzero(pred & near_truth))    # predicted voxels within k of the truth
    truth_ok = int(np.count_nonzero(truth & near_pred))   # true voxels within k of the prediction
    both_empty = n_pred == 0 and n_truth == 0
    dice = 1.0 if both_empty else (pred_ok + truth_ok) / (n_pred + n_truth)
    iou = 1.0 if both_empty else dice / (2.0 - dice)
    precision = _ratio(pred_ok, n_pred, n_truth == 0)
    recall = _ratio(truth_ok, n_truth, n_pred == 0)
    skel_pred, skel_truth = skeleton(pred), skeleton(truth)
    n_sp, n_st = int(skel_pred.sum()), int(skel_truth.sum())
    cl_precision = _ratio(int(np.count_nonzero(skel_pred & near_truth)), n_sp, n_st == 0)
    cl_recall = _ratio(int(np.count_nonzero(skel_truth & near_pred)), n_st, n_sp == 0)
    cldice = 1.0 if n_sp == 0 and n_st == 0 else _harmonic(cl_precision, cl_recall)
    return Scores(tolerance_vox, dice, iou, precision, recall, cldice, cl_precision, cl_recall,
                  n_pred, n_truth, pred_ok, truth_ok)


def score_tolerances(pred_mask: np.ndarray, truth_mask: np.ndarray,
                     tolerances_vox: tuple[int, ...] = (0, 1)) -> list[Scores]:
    """:func:`score` at each tolerance in ``tolerances_vox``."""
    return [score(pred_mask, truth_mask, k) for k in tolerances_vox]
