"""Write a PNG of maximum-intensity projections (raw, probability overlay, skeleton)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg preview", description=__doc__)
    p.add_argument("raw", type=Path, help="raw volume (TIFF slices/stack, zarr, OME-Zarr, HDF5)")
    p.add_argument("--out", type=Path, required=True, help="output .png file")
    p.add_argument("--prob", type=Path, help="probability/mask volume of the same shape")
    p.add_argument("--skeleton", type=Path, help="skeleton volume of the same shape")
    p.add_argument("--region", help="sub-region 'z0:z1,y0:y1,x0:x1' (empty bounds = whole axis)")
    p.add_argument("--axes", default="z", help="projection axes, e.g. 'z' or 'zyx' (default z)")
    p.add_argument("--voxel-size-um", type=float, nargs=3, metavar=("Z", "Y", "X"),
                   help="voxel size for the display aspect (default: from the file, else 1 1 1)")
    p.add_argument("--title", help="title text (default: the raw file name)")
    p.add_argument("--panel-px", type=int, default=400, help="longer side of each panel (px)")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="show a prediction that has not finished (warns: unwritten blocks read as 0)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out PNG (only one that axonseg wrote)")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.analysis.preview import parse_region, save_preview_png
    from axonseg.io import open_volume

    from axonseg.io.atomic import check_replace_target
    from axonseg.io.images import is_axonseg_png

    check_replace_target(args.out, [args.raw, args.prob, args.skeleton], args.overwrite,
                         is_ours=is_axonseg_png, folder=False)
    if not args.out.parent.is_dir():
        raise ValueError(f"{args.out}: output folder {args.out.parent} does not exist")
    from axonseg.analysis.completeness import check_prediction_complete

    for path in (args.raw, args.prob, args.skeleton):
        if path is not None:
            check_prediction_complete(path, args.allow_incomplete)
    raw, info = open_volume(args.raw)
    others = [open_volume(p)[0] if p is not None else None for p in (args.prob, args.skeleton)]
    for path, arr in zip((args.prob, args.skeleton), others):
        if arr is not None and arr.shape != raw.shape:
            raise ValueError(f"{path}: shape {arr.shape} differs from {args.raw}: {raw.shape}")
    if args.region:
        region = parse_region(args.region, raw.shape)
        raw = raw[region]
        others = [a[region] if a is not None else None for a in others]
    voxel = args.voxel_size_um or info.voxel_size_um
    save_preview_png(args.out, raw, others[0], others[1],
                     title=args.title or args.raw.name, axes=tuple(args.axes),
                     voxel_size_um=voxel, panel_px=args.panel_px)
    print(args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("preview", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
