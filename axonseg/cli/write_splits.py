"""Install a create_data task's leak-free splits_final.pkl into nnU-Net's preprocessed folder."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg write-splits", description=__doc__)
    p.add_argument("--task-dir", type=Path, required=True,
                   help="raw task folder made by create-data (…/nnUNet_raw_data/Task<id>_<name>)")
    p.add_argument("--preprocessed", type=Path, required=True,
                   help="nnU-Net's preprocessed base folder (what nnUNet_preprocessed points to)")
    p.add_argument("--overwrite", action="store_true", help="replace a different splits file there")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.cubes.folds import install_splits

    target = install_splits(args.task_dir, args.preprocessed, overwrite=args.overwrite)
    print(target)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("write-splits", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
