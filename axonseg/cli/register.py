"""Let nnU-Net v1's commands find axonseg's trainers (idempotent)."""
from __future__ import annotations

import argparse

from axonseg.nnunet_v1.registration import register
from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="axonseg register", description=__doc__)


def _run(args: argparse.Namespace) -> int:
    path, changed = register()
    print(f"{'registered' if changed else 'already registered'}: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("register", _parser, _run, argv)
