"""nnU-Net v1 task for fine-tuning starter v2 from a few annotated slices (label 255 = not annotated)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg sparse-task", description=__doc__ + (
        " Images are normalised as starter v2 expects (divided by their tissue level); labels are "
        "read in --convention and written as 0 background / 1 axon / 255 not annotated."))
    p.add_argument("--volumes", type=Path, required=True, help="folder of volume-<id>.tiff cubes")
    p.add_argument("--labels", type=Path, required=True,
                   help="folder of label-<id>.tiff (a napari Labels layer saved as TIFF, TrailMap labels, or masks)")
    p.add_argument("--convention", choices=["paint", "trailmap", "binary"], default="paint",
                   help="paint/trailmap: 0 not annotated, 1 background, 2 axon, 3 artifact, 4 edge band; "
                        "binary: 0 background, else axon (default paint)")
    p.add_argument("--slices-every", type=int,
                   help="keep only every N-th z-slice of the labels annotated (simulate slice annotation)")
    p.add_argument("--task-id", type=int, required=True)
    p.add_argument("--task-name", default="AxonsegSparse")
    p.add_argument("--raw-data-base", type=Path, required=True, help="nnUNet_raw_data_base")
    p.add_argument("--validation", nargs="+", metavar="ID",
                   help="cube ids validated in fold 0 (writes splits_final.pkl; install it with axonseg write-splits)")
    p.add_argument("--overwrite", action="store_true", help="replace a task folder axonseg wrote")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.cubes.sparse_task import write_sparse_task

    task = write_sparse_task(args.volumes, args.labels, args.raw_data_base, args.task_id, args.task_name,
                             args.convention, args.slices_every, overwrite=args.overwrite,
                             validation=args.validation)
    print(task)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("sparse-task", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
