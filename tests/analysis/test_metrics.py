"""Metrics against hand-computed values; asymmetric cases catch swapped prediction/truth."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import SimpleITK as sitk
import tifffile

from axonseg.analysis.evaluate import EvaluationSettings, case_id, evaluate, find_pairs
from axonseg.analysis.metrics import binarize, dilate, score, skeleton
from axonseg.cli.evaluate import main as evaluate_main


def _lines():
    """Truth: a 10-voxel line A. Prediction: the first 5 voxels of A plus a separate 3-voxel line B.

    B is 4 voxels (Chebyshev) away from A, so dilating both by 1 keeps them apart.
    """
    truth = np.zeros((9, 9, 14), bool)
    truth[2, 2, 0:10] = True
    pred = np.zeros_like(truth)
    pred[2, 2, 0:5] = True
    pred[6, 6, 0:3] = True
    return pred, truth


def test_strict_scores_hand_computed():
    pred, truth = _lines()
    # a one-voxel line is its own skeleton, so cl-scores equal the voxel scores here
    assert (skeleton(truth) == truth).all() and (skeleton(pred) == pred).all()
    s = score(pred, truth, 0)
    # |P| = 8, |T| = 10, |P & T| = 5
    assert (s.pred_voxels, s.truth_voxels) == (8, 10)
    assert s.precision == pytest.approx(5 / 8)
    assert s.recall == pytest.approx(5 / 10)
    assert s.dice == pytest.approx(10 / 18)
    assert s.iou == pytest.approx(5 / 13)
    assert s.cl_precision == pytest.approx(5 / 8)
    assert s.cl_recall == pytest.approx(5 / 10)
    assert s.cldice == pytest.approx(2 * (5 / 8) * (5 / 10) / (5 / 8 + 5 / 10))


def test_swapping_arguments_swaps_precision_and_recall():
    pred, truth = _lines()
    s, t = score(pred, truth), score(truth, pred)
    assert (t.precision, t.recall) == (s.recall, s.precision)
    assert (t.cl_precision, t.cl_recall) == (s.cl_recall, s.cl_precision)
    assert s.precision != s.recall and s.cl_precision != s.cl_recall


def test_tolerance_one_hand_computed():
    """Lenient k = 1: B (4 voxels from A) stays wrong; A[5] (1 voxel from A[0:5]) becomes found."""
    pred, truth = _lines()
    s = score(pred, truth, 1)
    assert s.tolerance_vox == 1
    # |P| = 8, |T| = 10; predicted within 1 of the truth: A[0:5] = 5 (not B);
    # true within 1 of the prediction: A[0:5] and A[5] = 6
    assert (s.pred_voxels, s.truth_voxels) == (8, 10)
    assert (s.pred_within_tolerance, s.truth_within_tolerance) == (5, 6)
    assert s.precision == pytest.approx(5 / 8)
    assert s.recall == pytest.approx(6 / 10)
    assert s.dice == pytest.approx(11 / 18)
    assert s.iou == pytest.approx((11 / 18) / (2 - 11 / 18))
    # one-voxel lines are their own skeletons: the cl-scores equal the voxel scores here
    assert s.cl_precision == pytest.approx(5 / 8)
    assert s.cl_recall == pytest.approx(6 / 10)
    assert s.cldice == pytest.approx(2 * (5 / 8) * (6 / 10) / (5 / 8 + 6 / 10))


def test_one_voxel_shift_hand_computed():
    """A line predicted one voxel beside the truth: strict 0, lenient k = 1 all of it but a stray voxel."""
    truth = np.zeros((5, 8, 12), bool)
    truth[2, 3, 1:11] = True                       # 10 voxels
    pred = np.zeros_like(truth)
    pred[2, 4, 1:11] = True                        # 10 voxels, 1 voxel off
    pred[2, 7, 11] = True                          # a stray voxel 3 rows away
    strict, lenient = score(pred, truth, 0), score(pred, truth, 1)
    assert strict.dice == 0.0 and strict.precision == 0.0 and strict.recall == 0.0
    assert lenient.precision == pytest.approx(10 / 11)
    assert lenient.recall == pytest.approx(10 / 10)
    assert lenient.dice == pytest.approx(20 / 21)


def test_stray_voxel_scores_the_same_strict_and_lenient():
    """Exact line + one stray voxel: strict Dice 20/21; the old rule (dilate both masks, score the
    dilated masks) gave 216/243 = 0.889 at k = 1, *lower* than strict; lenient keeps 20/21."""
    truth = np.zeros((7, 7, 14), bool)
    truth[3, 3, 1:11] = True
    pred = truth.copy()
    pred[3, 0, 13] = True
    strict, lenient = score(pred, truth, 0), score(pred, truth, 1)
    assert strict.dice == pytest.approx(20 / 21) and lenient.dice == pytest.approx(20 / 21)
    assert lenient.precision == pytest.approx(10 / 11) and lenient.recall == 1.0


def test_tolerance_never_lowers_a_score():
    """On random blobby masks every score at k = 1, 2 is >= the strict one (the old rule failed this)."""
    from scipy import ndimage

    rng = np.random.default_rng(3)
    names = ("dice", "iou", "precision", "recall", "cldice", "cl_precision", "cl_recall")
    for trial in range(6):
        truth = ndimage.binary_dilation(rng.random((12, 16, 16)) > 0.985, iterations=1)
        pred = ndimage.binary_dilation(rng.random((12, 16, 16)) > 0.97) | truth & (rng.random(truth.shape) > 0.5)
        scores = [score(pred, truth, k) for k in (0, 1, 2)]
        for a, b in zip(scores, scores[1:]):
            for name in names:
                assert getattr(b, name) >= getattr(a, name) - 1e-12, (trial, name, a, b)


def test_thick_prediction_thin_truth_cl_scores():
    """A 3x3 tube predicted around a 1-voxel truth line: cl-recall 1, voxel precision 1/9."""
    truth = np.zeros((7, 7, 12), bool)
    truth[3, 3, :] = True
    pred = dilate(truth, 1)
    s = score(pred, truth)
    assert s.recall == 1.0 and s.precision == pytest.approx(1 / 9)
    assert s.cl_precision == 1.0 and s.cl_recall == 1.0 and s.cldice == 1.0


def test_empty_masks():
    empty = np.zeros((5, 5, 5), bool)
    some = empty.copy()
    some[2, 2, 1:4] = True
    s = score(empty, empty)
    assert s.dice == s.iou == s.precision == s.recall == s.cldice == 1.0
    s = score(empty, some)
    assert s.dice == s.recall == s.cl_recall == s.cldice == 0.0
    with pytest.raises(ValueError, match="shape"):
        score(empty, np.zeros((5, 5, 6), bool))


def test_binarize_uint8_probability_threshold():
    prob = np.array([0, 127, 128, 255], np.uint8)
    assert binarize(prob, 0.5).tolist() == [False, False, True, True]   # 127/255 < 0.5 <= 128/255
    assert binarize(prob, None).tolist() == [False, True, True, True]
    assert binarize(np.array([0.2, 0.5, 0.7]), 0.5).tolist() == [False, True, True]
    with pytest.raises(ValueError):
        binarize(prob, 1.5)


def _write_nifti(path, arr):
    sitk.WriteImage(sitk.GetImageFromArray(arr), str(path))


def test_folders_matched_by_number_tiff_vs_nifti(tmp_path):
    pred, truth = _lines()
    (tmp_path / "pred").mkdir()
    (tmp_path / "truth").mkdir()
    prob = (pred * 200).astype(np.uint8)
    _write_nifti(tmp_path / "pred" / "cube_1000.nii.gz", prob)
    _write_nifti(tmp_path / "pred" / "cube_1001.nii.gz", (truth * 255).astype(np.uint8))
    tifffile.imwrite(tmp_path / "truth" / "label-1000.tiff", (truth * 255).astype(np.uint8))
    tifffile.imwrite(tmp_path / "truth" / "label-1001.tiff", (truth * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="without a partner"):
        find_pairs(tmp_path / "pred", tmp_path / "truth", "name")
    results = evaluate(tmp_path / "pred", tmp_path / "truth",
                       EvaluationSettings(threshold=0.5, tolerances_vox=(0,), match="number"))
    assert [r.case_id for r in results] == ["1000", "1001"]
    assert results[0].scores[0].precision == pytest.approx(5 / 8)   # NIfTI axes read back z, y, x
    assert results[1].scores[0].dice == 1.0
    assert case_id(tmp_path / "case_7_0000.nii.gz", "name") == "case_7"
    # two files with one id in a folder: an error naming both, never one silently dropped
    tifffile.imwrite(tmp_path / "truth" / "image-1000.tiff", (truth * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="image-1000.tiff and label-1000.tiff"):
        find_pairs(tmp_path / "pred", tmp_path / "truth", "number")


def test_cli_writes_json_and_csv(tmp_path, capsys):
    pred, truth = _lines()
    tifffile.imwrite(tmp_path / "p.tiff", (pred * 255).astype(np.uint8))
    tifffile.imwrite(tmp_path / "t.tiff", truth.astype(np.uint8))
    rc = evaluate_main([str(tmp_path / "p.tiff"), str(tmp_path / "t.tiff"), "--tolerance", "0", "1",
                        "--json", str(tmp_path / "s.json"), "--csv", str(tmp_path / "s.csv")])
    assert rc == 0
    doc = json.loads((tmp_path / "s.json").read_text())
    assert [m["tolerance_vox"] for m in doc["mean"]] == [0, 1]
    assert doc["mean"][0]["recall"] == pytest.approx(0.5)
    rows = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert len(rows) == 2 and float(rows[1]["precision"]) == pytest.approx(5 / 8)
    assert float(rows[1]["recall"]) == pytest.approx(6 / 10) and float(rows[1]["dice"]) > float(rows[0]["dice"])


def test_cli_shape_mismatch_one_error_no_output(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "p.tiff", np.zeros((4, 5, 6), np.uint8), photometric="minisblack")
    tifffile.imwrite(tmp_path / "t.tiff", np.zeros((4, 5, 7), np.uint8), photometric="minisblack")
    rc = evaluate_main([str(tmp_path / "p.tiff"), str(tmp_path / "t.tiff"),
                        "--json", str(tmp_path / "s.json")])
    assert rc == 1
    assert "p.tiff" in capsys.readouterr().err
    assert not (tmp_path / "s.json").exists()
