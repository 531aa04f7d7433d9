"""Check the setup: trainers registered with nnU-Net, nnU-Net's folders set, torch device."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="axonseg check", description=__doc__)
    parser.add_argument("--no-env", action="store_true",
                        help="do not require nnU-Net's environment variables (e.g. prediction-only use)")
    return parser


def _run(args: argparse.Namespace) -> int:
    import torch

    from axonseg.nnunet_v1.env import NnunetEnvError, require_nnunet_paths
    from axonseg.nnunet_v1.registration import is_registered, shim_path

    problems = []
    if is_registered():
        print(f"ok: axonseg's trainers are registered with nnU-Net ({shim_path()})")
    else:
        problems.append("axonseg's trainers are not registered with nnU-Net: run `make setup` "
                        "(or `axonseg register`)")
    if not args.no_env:
        try:
            paths = require_nnunet_paths()
        except NnunetEnvError as err:
            problems.append(str(err))
        else:
            absent = [f"{var}={path}" for var, path in paths.environ().items() if not Path(path).is_dir()]
            if absent:
                problems.append(f"nnU-Net folder(s) {', '.join(absent)} do not exist (or are not folders): "
                                "create them (mkdir -p) or point the variables at existing folders")
            else:
                print(f"ok: nnU-Net folders: raw {paths.raw_data_base}, preprocessed {paths.preprocessed}, "
                      f"results {paths.results}")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"ok: torch {torch.__version__} on {device}")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    return run_command("check", _parser, _run, argv)
