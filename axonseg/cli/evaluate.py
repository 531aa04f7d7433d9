"""Score predictions against ground truth: Dice, IoU, precision, recall, clDice (strict and tolerance k)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg evaluate", description=__doc__)
    p.add_argument("prediction", type=Path,
                   help="predicted volume (probability or mask; TIFF, NIfTI, zarr, OME-Zarr, HDF5) "
                        "or a folder of them")
    p.add_argument("truth", type=Path, help="true mask (non-zero = axon), or a folder of them")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="probability threshold for the prediction: p >= t (uint8 is p*255; "
                        "default 0.5)")
    p.add_argument("--mask", action="store_true",
                   help="the prediction is a mask: every non-zero voxel is foreground")
    p.add_argument("--tolerance", type=int, nargs="+", default=[0, 1], metavar="K",
                   help="tolerances in voxels: a predicted voxel within K of the truth counts as correct, "
                        "a true voxel within K of the prediction as found (default 0 1)")
    p.add_argument("--match", choices=("name", "number"), default="name",
                   help="match folder files by name without suffix, or by last number in it")
    p.add_argument("--json", type=Path, help="write all scores as JSON here")
    p.add_argument("--csv", type=Path, help="write one row per pair and tolerance here")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="score a prediction that has not finished (warns: unwritten blocks read as 0)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing --json/--csv files (only scores that axonseg evaluate wrote)")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.analysis.evaluate import EvaluationSettings, METRICS, run_evaluation

    settings = EvaluationSettings(threshold=None if args.mask else args.threshold,
                                  tolerances_vox=tuple(args.tolerance), match=args.match)
    means = run_evaluation(args.prediction, args.truth, settings, args.json, args.csv,
                           allow_incomplete=args.allow_incomplete, overwrite=args.overwrite)
    print("k  n  " + "  ".join(f"{m:>12}" for m in METRICS))
    for row in means:
        print(f"{row['tolerance_vox']:<2} {row['n_pairs']:<2} "
              + "  ".join(f"{row[m]:12.4f}" for m in METRICS))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("evaluate", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
