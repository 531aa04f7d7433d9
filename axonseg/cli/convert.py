"""Convert TIFF slices / a TIFF stack / HDF5 into a chunked OME-Zarr (zarr v3), lazily."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg convert", description=__doc__)
    p.add_argument("input", type=Path, help="TIFF slice folder (ordered by the last number), TIFF stack, HDF5")
    p.add_argument("output", type=Path, help="output .ome.zarr folder")
    p.add_argument("--voxel-size-um", type=float, nargs=3, metavar=("Z", "Y", "X"),
                   help="voxel size in micrometres (default: the input's; if it records none, 1 µm "
                        "with a warning, as predict does)")
    p.add_argument("--chunk", type=int, nargs=3, default=(64, 128, 128), metavar=("Z", "Y", "X"))
    p.add_argument("--levels", type=int, default=5, help="pyramid levels at most")
    p.add_argument("--dataset", help="HDF5 dataset name")
    p.add_argument("--ngff", choices=["0.4", "0.5"], default="0.5",
                   help="OME-Zarr version: 0.5 on zarr v3 (default), 0.4 on zarr v2 (Fiji n5-zarr, "
                        "BigDataViewer, MoBIE)")
    p.add_argument("--shard", type=int, nargs=3, metavar=("Z", "Y", "X"),
                   help="zarr v3 shard shape, a whole multiple of --chunk (fewer files on HPC file systems)")
    p.add_argument("--runner", choices=["serial", "dask"], default="serial",
                   help="serial (default) or dask: one task per row of chunks, then per pyramid chunk")
    p.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    p.add_argument("--workers", type=int, default=2, help="local Dask workers")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.io.convert import convert_to_ome_zarr
    from axonseg.io.ome_zarr import ZarrFormat

    fmt = ZarrFormat(args.ngff, tuple(args.shard) if args.shard else None)
    out = convert_to_ome_zarr(args.input, args.output, args.voxel_size_um, tuple(args.chunk), args.levels,
                              dataset=args.dataset, overwrite=args.overwrite, progress=not args.quiet, fmt=fmt,
                              runner=args.runner, scheduler_address=args.scheduler, workers=args.workers)
    print(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("convert", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
