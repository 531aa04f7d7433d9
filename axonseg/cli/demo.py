"""Run the synthetic plan -> train -> predict demo through nnU-Net v1's commands."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from axonseg.registration import is_registered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="axonseg demo", description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("demo_output"),
                        help="folder for the demo's nnU-Net data and results (default: demo_output)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not is_registered():
        print("axonseg's trainers are not registered with nnU-Net: run `make setup` first",
              file=sys.stderr)
        return 1
    from axonseg.demo import DemoSettings, run_demo

    settings = DemoSettings()
    print(f"demo: {settings.task} in {args.workdir.resolve()} (nnU-Net folders are set to "
          f"subfolders of it for these commands only)")
    steps, scores = run_demo(args.workdir, settings)
    print("\nstep                                   seconds")
    for s in steps:
        print(f"{s.name:<38} {'reused' if s.reused else f'{s.seconds:7.1f}'}")
    print("\nheld-out case      Dice vs. true tubes   chance level")
    for case, (d, chance) in scores.items():
        print(f"{case:<18} {d:19.3f}   {chance:12.3f}")
    print(f"\npredictions: {(args.workdir / 'predictions').resolve()}")
    return 0
