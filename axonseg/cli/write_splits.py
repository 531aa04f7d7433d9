"""Install a create_data task's leak-free splits_final.pkl into nnU-Net's preprocessed folder."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg write-splits", description=__doc__)
    p.add_argument("--task-dir", type=Path, required=True,
                   help="raw task folder made by create-data (…/nnUNet_raw_data/Task<id>_<name>)")
    p.add_argument("--preprocessed", type=Path, required=True,
                   help="nnU-Net's preprocessed base folder (what nnUNet_preprocessed points to)")
    p.add_argument("--overwrite", action="store_true", help="replace a different splits file there")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from axonseg.cubes.folds import install_splits

    try:
        target = install_splits(args.task_dir, args.preprocessed, overwrite=args.overwrite)
    except (FileNotFoundError, FileExistsError) as exc:
        print(f"axonseg write-splits: {exc}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
