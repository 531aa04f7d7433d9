"""cl-precision and precision when one mask is empty (the documented convention: a ratio whose
denominator is empty while the other mask is not is 0; both empty is 1)."""
from __future__ import annotations

import numpy as np
import pytest

from axonseg.analysis.metrics import score, score_tolerances


def _line() -> np.ndarray:
    m = np.zeros((9, 9, 9), bool)
    m[4, 4, 1:8] = True
    return m


@pytest.mark.parametrize("k", [0, 1, 2])
def test_empty_prediction_has_zero_precision_and_cl_precision(k):
    """Kills: cl-precision's empty-prediction rule changed (an empty prediction scored as perfectly
    precise, 1.0, instead of 0 when there are axons to find)."""
    s = score(np.zeros((9, 9, 9), bool), _line(), k)
    assert s.pred_voxels == 0 and s.truth_voxels == 7
    assert s.cl_precision == 0.0 and s.precision == 0.0
    assert s.cl_recall == 0.0 and s.recall == 0.0 and s.dice == 0.0 and s.cldice == 0.0


@pytest.mark.parametrize("k", [0, 1])
def test_empty_truth_has_zero_cl_recall_and_cl_precision(k):
    """Kills: the same rule mirrored (a prediction where there is nothing to find)."""
    s = score(_line(), np.zeros((9, 9, 9), bool), k)
    assert s.cl_precision == 0.0 and s.precision == 0.0 and s.cl_recall == 0.0 and s.recall == 0.0
    assert s.cldice == 0.0 and s.dice == 0.0


def test_both_empty_is_a_perfect_score_at_every_tolerance():
    empty = np.zeros((9, 9, 9), bool)
    for s in score_tolerances(empty, empty, (0, 1)):
        assert s.cl_precision == s.cl_recall == s.cldice == s.precision == s.recall == s.dice == 1.0


def test_a_correct_prediction_beside_an_empty_one_is_told_apart():
    """The rule must make an empty prediction score below a correct one on every centreline score."""
    truth = _line()
    empty, right = score(np.zeros_like(truth), truth), score(truth, truth)
    assert right.cl_precision == right.cl_recall == right.cldice == 1.0
    assert empty.cl_precision < right.cl_precision and empty.cldice < right.cldice
