"""Fine (skeleton) labels from rough masks: 3-D skeleton dilated by one voxel (D-LMBmap's recipe)."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg fine-labels", description=__doc__)
    p.add_argument("--rough", type=Path, required=True, help="folder of rough label-<id>.tiff masks")
    p.add_argument("--out", type=Path, required=True, help="output folder for label-<id>.tiff (uint8 0/255)")
    p.add_argument("--min-component-voxels", type=int, default=10,
                   help="drop 26-connected components smaller than this first (default 10)")
    p.add_argument("--overwrite", action="store_true", help="replace existing label files")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from axonseg.annotate import fine_labels_for_folder

    try:
        written = fine_labels_for_folder(args.rough, args.out, args.min_component_voxels,
                                         overwrite=args.overwrite)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"axonseg fine-labels: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
