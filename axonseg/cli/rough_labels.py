"""Rough axon masks (label-<id>.tiff) for a folder of cubes: blur subtraction, auto threshold."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg rough-labels", description=__doc__)
    p.add_argument("--cubes", type=Path, required=True, help="folder of volume-<id>.tiff cubes")
    p.add_argument("--out", type=Path, required=True, help="output folder for label-<id>.tiff (uint8 0/255)")
    p.add_argument("--sigma-vox", type=float, default=10.0, help="Gaussian blur subtracted (default 10)")
    p.add_argument("--method", choices=["mad", "triangle"], default="mad",
                   help="automatic threshold: median + k*MAD (default) or triangle")
    p.add_argument("--mad-k", type=float, default=5.0, help="k for --method mad (default 5)")
    p.add_argument("--threshold", type=float,
                   help="fixed threshold on background-subtracted intensity (overrides --method)")
    p.add_argument("--min-component-voxels", type=int, default=10,
                   help="drop 26-connected components smaller than this (default 10)")
    p.add_argument("--overwrite", action="store_true", help="replace existing label files")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from axonseg.annotate import RoughLabelSettings, rough_labels_for_folder

    try:
        settings = RoughLabelSettings(sigma_vox=args.sigma_vox, threshold_method=args.method,
                                      mad_k=args.mad_k, threshold=args.threshold,
                                      min_component_voxels=args.min_component_voxels)
        written = rough_labels_for_folder(args.cubes, args.out, settings, overwrite=args.overwrite)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"axonseg rough-labels: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
