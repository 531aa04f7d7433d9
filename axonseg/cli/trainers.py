"""List axonseg's nnU-Net trainers and whether nnU-Net can find them."""
from __future__ import annotations

import argparse

from axonseg.nnunet_v1.registration import is_registered, shim_path
from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="axonseg trainers", description=__doc__)


def _run(args: argparse.Namespace) -> int:
    from axonseg_trainers import TRAINERS

    for name, cls in TRAINERS.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        print(f"{name:<24} {doc}")
    if is_registered():
        print(f"\nregistered with nnU-Net: {shim_path()}")
        return 0
    print("\nNOT registered with nnU-Net: run `make setup` (or `axonseg register`)")
    return 1


def main(argv: list[str] | None = None) -> int:
    return run_command("trainers", _parser, _run, argv)
