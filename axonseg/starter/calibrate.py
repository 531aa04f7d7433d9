"""Choose starter v2's default mask threshold on validation volumes of the TRAINING rows (y < 300).

The volumes are made exactly as the held-out evaluation's (``evaluation_volumes``: simulated axons
in real crops, real fibres masked out) but from ``VALIDATION_BG`` crops of the training rows, under
the shifts ``base``, ``gamma 0.7``, ``gamma 1.4``, ``z-spacing 2x``. The threshold with the best
mean (Dice + clDice) is written into the ``.pth`` as ``mask_threshold``; rows y >= 300 are never read.
"""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np

from axonseg.starter import evaluation_volumes as ev

logger = logging.getLogger(__name__)

SHIFTS = ("base", "gamma 0.7", "gamma 1.4", "z-spacing 2x")
THRESHOLDS = tuple(np.round(np.arange(0.3, 0.96, 0.05), 2))


def probability(model_path: Path, image: np.ndarray, work: Path, name: str) -> np.ndarray:
    from axonseg.inference import PredictSettings, predict_whole_brain
    from axonseg.io import open_volume, write_tiff

    src = work / f"{name}.tiff"
    write_tiff(src, image)
    out = work / f"pred_{name}"
    predict_whole_brain(src, model_path, out, PredictSettings(preview=False, voxel_size_um=(1.0, 1.0, 1.0)),
                        progress=False)
    prob, _ = open_volume(out / "probability.ome.zarr")
    return np.asarray(prob[:]).astype(np.float32) / 255


def choose_threshold(model_path: Path, volume_zyx) -> tuple[float, dict[float, float]]:
    """(best threshold, {threshold: mean (Dice + clDice) / 2}) on the training-row validation volumes."""
    from axonseg.analysis.metrics import score

    data = ev.volumes(volume_zyx, ev.VALIDATION_BG, SHIFTS, seed=500)
    with tempfile.TemporaryDirectory() as tmp:
        preds = [(probability(model_path, im, Path(tmp), f"{s.replace(' ', '_')}_{i}"), t, ig)
                 for s, vols in data.items() for i, (im, t, ig) in enumerate(vols)]
    table = {}
    for th in THRESHOLDS:
        vals = [score((p >= th) & ~ig, t & ~ig) for p, t, ig in preds]
        table[float(th)] = float(np.mean([(v.dice + v.cldice) / 2 for v in vals]))
    best = max(table, key=table.get)
    logger.info("mask threshold %.2f: mean (Dice + clDice)/2 %.3f on %d validation volumes", best, table[best],
                len(preds))
    return best, table


def save_with_threshold(model_path: Path, out_path: Path, threshold: float, table: dict) -> None:
    """Copy of the axonseg ``.pth`` recording ``mask_threshold`` (and how it was chosen)."""
    from axonseg.io.torch_files import save_torch
    from axonseg.nnunet_v1.checkpoints import load_checkpoint

    obj = dict(load_checkpoint(model_path), mask_threshold=float(threshold),
               mask_threshold_choice={"volumes": "axonseg.starter.evaluation_volumes.VALIDATION_BG (rows y < 300)",
                                      "shifts": list(SHIFTS), "score": "mean (Dice + clDice) / 2",
                                      "table": {str(k): round(v, 4) for k, v in table.items()}})
    save_torch(out_path, obj)
