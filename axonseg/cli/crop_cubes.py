"""Crop training cubes (volume-<id>.tiff) around ImageJ or z,y,x points of a whole-brain volume."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command
from axonseg.errors import UsageError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg crop-cubes", description=__doc__)
    p.add_argument("--volume", type=Path, required=True,
                   help="whole-brain volume: TIFF slice folder, multipage TIFF, zarr/OME-Zarr, HDF5")
    p.add_argument("--points", type=Path, required=True,
                   help="axon points: ImageJ multi-point CSV (X,Y,Slice; Slice 1-based) or z,y,x CSV")
    p.add_argument("--artifact-points", type=Path, help="artifact points (same formats)")
    p.add_argument("--out", type=Path, required=True,
                   help="writes OUT/volumes/volume-<id>.tiff and OUT/artifacts/volume-<id>.tiff")
    p.add_argument("--size", type=int, nargs="+", default=[150], metavar="VOX",
                   help="cube size in voxels: one value or z y x (default 150)")
    p.add_argument("--pad", choices=["constant", "edge", "reflect"],
                   help="pad cubes that leave the volume (default: refuse them)")
    p.add_argument("--first-id", type=int, default=1000, help="id of the first cube (default 1000)")
    p.add_argument("--overwrite", action="store_true", help="replace existing cube files")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.annotate import crop_cubes_to_folder

    if len(args.size) not in (1, 3):
        raise UsageError("--size takes one value or three (z y x)")
    size = args.size * 3 if len(args.size) == 1 else args.size
    written = crop_cubes_to_folder(args.volume, args.points, args.out, size_zyx=size,
                                   artifact_points_path=args.artifact_points, pad_mode=args.pad,
                                   first_id=args.first_id, overwrite=args.overwrite)
    for path in written:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("crop-cubes", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
