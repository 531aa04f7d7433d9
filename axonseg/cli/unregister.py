"""Remove axonseg's trainer shim from nnU-Net v1 (idempotent)."""
from __future__ import annotations

import argparse

from axonseg.nnunet_v1.registration import unregister
from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(prog="axonseg unregister", description=__doc__)


def _run(args: argparse.Namespace) -> int:
    path, changed = unregister()
    print(f"{'removed' if changed else 'not registered'}: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("unregister", _parser, _run, argv)
