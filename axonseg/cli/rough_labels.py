"""Rough axon masks (label-<id>.tiff) for a folder of cubes.

Default ``--method tubular``: bright in local-noise units, on a line-like ridge, not a blob,
not saturated, in long components (follows axons, not bright tissue). ``--method mad`` /
``triangle``: D-LMBmap's blur subtraction with an automatic threshold.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg rough-labels", description=__doc__)
    p.add_argument("--cubes", type=Path, required=True, help="folder of volume-<id>.tiff cubes")
    p.add_argument("--out", type=Path, required=True, help="output folder for label-<id>.tiff (uint8 0/255)")
    p.add_argument("--method", choices=["tubular", "mad", "triangle"], default="tubular",
                   help="tubular (default, artifact-aware) or D-LMBmap's blur subtraction with a "
                        "median + k*MAD or triangle threshold")
    p.add_argument("--k-high", type=float, default=5.0,
                   help="tubular: seed threshold in local-noise units (default 5)")
    p.add_argument("--k-low", type=float, default=1.5,
                   help="tubular: growth threshold in local-noise units (default 1.5)")
    p.add_argument("--min-length-vox", type=int, default=20,
                   help="tubular: drop components whose bounding box is shorter (default 20)")
    p.add_argument("--sigma-vox", type=float, default=10.0, help="mad/triangle: Gaussian blur subtracted (default 10)")
    p.add_argument("--mad-k", type=float, default=5.0, help="k for --method mad (default 5)")
    p.add_argument("--threshold", type=float,
                   help="fixed threshold on background-subtracted intensity (overrides --method)")
    p.add_argument("--min-component-voxels", type=int,
                   help="drop 26-connected components smaller than this (default 20 tubular, 10 mad/triangle)")
    p.add_argument("--overwrite", action="store_true", help="replace existing label files")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.annotate import RoughLabelSettings, rough_labels_for_folder
    from axonseg.annotate.tubular import TubularSettings

    tubular = TubularSettings(k_high=args.k_high, k_low=args.k_low, min_length_vox=args.min_length_vox,
                              **({} if args.min_component_voxels is None
                                 else {"min_component_voxels": args.min_component_voxels}))
    settings = RoughLabelSettings(sigma_vox=args.sigma_vox, threshold_method=args.method,
                                  mad_k=args.mad_k, threshold=args.threshold, tubular=tubular,
                                  min_component_voxels=(10 if args.min_component_voxels is None
                                                        else args.min_component_voxels))
    written = rough_labels_for_folder(args.cubes, args.out, settings, overwrite=args.overwrite,
                                      progress=not args.quiet)
    for path in written:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("rough-labels", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
