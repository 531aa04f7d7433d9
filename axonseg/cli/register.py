"""Let nnU-Net v1's commands find axonseg's trainers (idempotent)."""
from __future__ import annotations

import argparse

from axonseg.nnunet_v1.registration import register


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="axonseg register", description=__doc__).parse_args(argv)
    path, changed = register()
    print(f"{'registered' if changed else 'already registered'}: {path}")
    return 0
