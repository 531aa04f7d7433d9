"""Remove axonseg's trainer shim from nnU-Net v1 (idempotent)."""
from __future__ import annotations

import argparse

from axonseg.nnunet_v1.registration import unregister


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="axonseg unregister", description=__doc__).parse_args(argv)
    path, changed = unregister()
    print(f"{'removed' if changed else 'not registered'}: {path}")
    return 0
