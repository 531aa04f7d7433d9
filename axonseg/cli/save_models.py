"""Export an nnU-Net v1 result folder / checkpoint / legacy .pth to one self-describing .pth."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg save-models", description=__doc__)
    p.add_argument("source", type=Path,
                   help="nnU-Net v1 result folder (plans.pkl, fold_N/), a fold_N/model_*.model file, "
                        "or a legacy D-LMBmap state-dict .pth")
    p.add_argument("output", type=Path, help="the .pth to write")
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--checkpoint", choices=["final", "best", "latest"], default="final")
    p.add_argument("--patch-size", type=int, nargs=3, metavar=("Z", "Y", "X"),
                   help="legacy plain Generic_UNet state dicts only (axial nets infer it)")
    p.add_argument("--heads", type=int, default=2, help="legacy axial nets: attention heads (D-LMBmap: 2)")
    p.add_argument("--dim-heads", type=int, default=8, help="legacy axial nets: head width (D-LMBmap: 8)")
    p.add_argument("--normalization", default="nonCT", help="legacy state dicts: nnU-Net scheme trained with")
    p.add_argument("--overwrite", action="store_true")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.inference.export import export_model

    out = export_model(args.source, args.output, fold=args.fold, checkpoint=args.checkpoint,
                       overwrite=args.overwrite, patch_size_zyx=args.patch_size, heads=args.heads,
                       dim_heads=args.dim_heads, normalization=args.normalization)
    print(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("save-models", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
