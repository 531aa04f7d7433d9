"""Axon density maps (voxel fraction, skeleton length per cell) of a whole-brain volume, chunk by chunk."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg density", description=__doc__)
    p.add_argument("input", type=Path, help="probability (uint8 0-255 / float) or mask volume, "
                                            "e.g. probability.ome.zarr from axonseg predict")
    p.add_argument("--out", type=Path, required=True, help="output folder (new, or with --overwrite a density "
                                                           "folder to replace)")
    p.add_argument("--config", type=Path, help="YAML of DensitySettings (configs/analysis_density.yaml)")
    p.add_argument("--cell-size-um", type=float, help="output cell side in µm (default 50)")
    p.add_argument("--threshold", type=float, help="probability threshold p >= t (default 0.5)")
    p.add_argument("--min-component-vox", type=int, help="drop 26-connected components smaller than this")
    p.add_argument("--voxel-size-um", type=float, nargs=3, metavar=("Z", "Y", "X"),
                   help="voxel size (default: from the OME-Zarr metadata)")
    p.add_argument("--atlas", type=Path, help="registered atlas annotation (region ids) on the same grid")
    p.add_argument("--region-names", type=Path,
                   help="CSV with columns id,name (e.g. BrainGlobe structures.csv)")
    p.add_argument("--brainglobe-atlas", type=Path, metavar="FOLDER",
                   help="local BrainGlobe atlas folder (metadata.json, structures.json, ...) that --atlas "
                        "comes from: regions.csv gets its names and acronyms, regions_hierarchy.csv its parents")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="analyse a prediction that has not finished (warns: unwritten blocks read as 0)")
    p.add_argument("--ngff", choices=["0.4", "0.5"],
                   help="OME-Zarr version of the maps: 0.5 on zarr v3, 0.4 on zarr v2 (Fiji, MoBIE); "
                        "default: the input prediction's version (0.5 for other inputs)")
    p.add_argument("--runner", choices=["serial", "dask"], help="serial (default) or dask")
    p.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    p.add_argument("--workers", type=int, help="local Dask workers (default 2)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace OUT if it is a density folder axonseg wrote (never another folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.analysis.density import DensitySettings
    from axonseg.analysis.density_run import run_density

    settings = DensitySettings.from_yaml(args.config) if args.config else DensitySettings()
    overrides = {k: v for k, v in {"cell_size_um": args.cell_size_um, "threshold": args.threshold,
                                   "min_component_vox": args.min_component_vox,
                                   "voxel_size_um": tuple(args.voxel_size_um) if args.voxel_size_um
                                   else None, "runner": args.runner, "dask_scheduler_address": args.scheduler,
                                   "dask_workers": args.workers}.items() if v is not None}
    settings = dataclasses.replace(settings, **overrides)
    from axonseg.io.ome_zarr import ZarrFormat

    summary = run_density(args.input, args.out, settings, args.atlas, args.region_names,
                          fmt=ZarrFormat(args.ngff) if args.ngff else None, brainglobe_atlas=args.brainglobe_atlas,
                          allow_incomplete=args.allow_incomplete, overwrite=args.overwrite,
                          progress=not args.quiet)
    print(f"{args.out}: grid {summary['grid_shape']} of {summary['cell_size_um']} µm cells, "
          f"total skeleton length {summary['total_length_um'] / 1000:.1f} mm")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("density", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
