"""Measure the smallest halo at which halo-tiled prediction equals one whole-volume pass (max |dp|)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command
from axonseg.errors import UsageError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg measure-halo", description=__doc__)
    p.add_argument("model", type=Path, help="axonseg .pth of a position-independent network (no InstanceNorm)")
    p.add_argument("--input", type=Path, help="also test a centred excerpt of this volume (real data)")
    p.add_argument("--dataset", help="HDF5 dataset name of --input")
    p.add_argument("--max-halo", type=int, default=64, help="largest halo tried, voxels (64)")
    p.add_argument("--core", type=int, help="core side used to size the test box (default 2x the pooling factor)")
    p.add_argument("--tolerance", type=float, default=1e-3, help="largest allowed max |dp| (1e-3)")
    p.add_argument("--all", action="store_true", help="try every halo up to --max-halo (default: stop at the first)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    p.add_argument("--json", type=Path, help="write the measurement as JSON")
    p.add_argument("--save", type=Path, metavar="OUT.pth",
                   help="write a copy of MODEL declaring position_independent and the measured halo_vox")
    return p


def _run(args: argparse.Namespace) -> int:
    if args.max_halo < 0 or not args.tolerance > 0:
        raise UsageError(f"--max-halo must be >= 0 and --tolerance > 0, got {args.max_halo} and {args.tolerance}")
    for out in (args.json, args.save):
        if out is not None and out.resolve() in (args.model.resolve(),):
            raise UsageError(f"{out}: would replace the model; give another file")
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    from axonseg.inference.halo_measure import measure_model_halo, save_with_halo

    def report(h: int, errors: dict[str, float]) -> None:
        print(f"halo {h:4d} voxels: " + ", ".join(f"{k} max |dp| {v:.3g}" for k, v in errors.items()), flush=True)

    m = measure_model_halo(args.model, args.input, args.dataset, args.max_halo, args.core, args.tolerance,
                           stop_at_first=not args.all, report=report)
    if args.json is not None:
        from axonseg.io.files import write_json

        write_json(args.json, m.to_dict(), indent=2)
    if m.halo_vox is None:
        print(f"{args.model}: no halo up to {args.max_halo} voxels reaches max |dp| <= {args.tolerance}; "
              f"try a larger --max-halo", file=sys.stderr)
        return 1
    boxes = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in m.shapes_zyx.items())
    print(f"{args.model}: halo_vox {m.halo_vox} (max |dp| {m.worst(m.halo_vox):.3g} <= {args.tolerance}; {boxes})")
    if args.save is not None:
        save_with_halo(args.model, args.save, m.halo_vox)
        print(f"{args.save}: written with halo_vox {m.halo_vox}, position_independent true")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("measure-halo", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
