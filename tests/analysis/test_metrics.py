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
    pred, truth = _lines()
    s = score(pred, truth, 1)
    assert s.tolerance_vox == 1
    # dilated by 1 (3x3x3 cube): A[0:5] -> 3x3x6 box (54), B -> 3x3x4 box (36), A -> 3x3x11 (99)
    assert (s.pred_voxels, s.truth_voxels) == (90, 99)
    assert s.precision == pytest.approx(54 / 90)
    assert s.recall == pytest.approx(54 / 99)
    assert s.dice == pytest.approx(108 / 189)
    # skeleton of a 3x3xn box: its centre line without the two end voxels (n - 2 voxels)
    # skel(P1) = 4 + 2 voxels, 4 inside T1; skel(T1) = 9 voxels (x 1..9), 5 inside P1 (x 1..5)
    assert s.cl_precision == pytest.approx(4 / 6)
    assert s.cl_recall == pytest.approx(5 / 9)


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
    assert len(rows) == 2 and float(rows[1]["precision"]) == pytest.approx(0.6)


def test_cli_shape_mismatch_one_error_no_output(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "p.tiff", np.zeros((4, 5, 6), np.uint8), photometric="minisblack")
    tifffile.imwrite(tmp_path / "t.tiff", np.zeros((4, 5, 7), np.uint8), photometric="minisblack")
    rc = evaluate_main([str(tmp_path / "p.tiff"), str(tmp_path / "t.tiff"),
                        "--json", str(tmp_path / "s.json")])
    assert rc == 1
    assert "p.tiff" in capsys.readouterr().err
    assert not (tmp_path / "s.json").exists()
