"""Fine (skeleton) labels from rough masks: 3-D skeleton dilated by one voxel (D-LMBmap's recipe)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg fine-labels", description=__doc__)
    p.add_argument("--rough", type=Path, required=True, help="folder of rough label-<id>.tiff masks")
    p.add_argument("--out", type=Path, required=True, help="output folder for label-<id>.tiff (uint8 0/255)")
    p.add_argument("--min-component-voxels", type=int, default=10,
                   help="drop 26-connected components smaller than this first (default 10)")
    p.add_argument("--overwrite", action="store_true", help="replace existing label files")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.annotate import fine_labels_for_folder

    written = fine_labels_for_folder(args.rough, args.out, args.min_component_voxels,
                                     overwrite=args.overwrite)
    for path in written:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("fine-labels", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
