"""Run the demo: points -> labels -> fine-tune the starter model -> predict the real D-LMBmap excerpt (synthetic without it)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from axonseg.cli.runner import run_command
from axonseg.errors import AxonsegError
from axonseg.nnunet_v1.registration import is_registered


def _num(x: float | None) -> str:
    return f"{x:8.1f}" if x is not None else f"{'?':>8}"


def print_steps(steps) -> None:
    """Per step: seconds and CPU seconds as it ran (a reused step: when it last ran)."""
    print(f"\n{'step':<42} {'seconds':>8} {'cpu s':>8}")
    for s in steps:
        print(f"{s.name:<42} {_num(s.recorded_seconds)} {_num(s.cpu_seconds)}" + ("  reused" if s.reused else ""))
    known = [s for s in steps if s.recorded_seconds is not None]
    line = f"{'total':<42} {_num(sum(s.recorded_seconds for s in known))}"
    if all(s.cpu_seconds is not None for s in steps):
        line += f" {_num(sum(s.cpu_seconds for s in steps))}"
    print(line)
    if any(s.reused for s in steps):
        print(f"(this run: {sum(s.seconds for s in steps):.1f} s; reused steps show the time of the run that made them)")


def print_real_summary(result, workdir: Path) -> None:
    print_steps(result.steps)
    print(f"\nwhole excerpt      {'voxels/s':>10} {'axon voxels (p >= 0.5)':>24} {'skeleton length':>17}")
    for m in result.models:
        vps = f"{m.voxels_per_s:10.3g}" if m.voxels_per_s else f"{'?':>10}"
        print(f"{m.name + ' model':<18} {vps} {100 * m.axon_fraction:23.2f}% {m.skeleton_length_mm:14.2f} mm")
    print("\npreviews (maximum-intensity projections of the excerpt and the probability):")
    for m in result.models:
        print(f"  {m.name + ':':<12} {m.preview}")
    print("\npredictions (OME-Zarr + TIFF slices): "
          + ", ".join(str(m.prediction) for m in result.models)
          + f"\nlogs: {(workdir / 'logs').resolve()}")


def _parser() -> argparse.ArgumentParser:
    from axonseg.demo import DEFAULT_DATA

    parser = argparse.ArgumentParser(prog="axonseg demo", description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("demo_output"),
                        help="folder for the demo's data, nnU-Net folders and results (default: demo_output)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"the D-LMBmap excerpt (brain-example/ inside; default: {DEFAULT_DATA}); "
                             "without it the synthetic demo runs")
    parser.add_argument("--starter-model", type=Path,
                        help="starter model .pth to fine-tune and compare (default: the shipped one, "
                             "axonseg/models/axonseg-starter-v1.pth)")
    parser.add_argument("--synthetic", action="store_true",
                        help="run the synthetic tubes demo (plan -> train -> nnUNet_predict) instead")
    return parser


def _run(args: argparse.Namespace) -> int:
    logging.getLogger().setLevel(logging.WARNING)
    if not is_registered():
        raise AxonsegError("axonseg's trainers are not registered with nnU-Net: run `make setup` first")
    from axonseg.demo import DemoSettings, RealDemoSettings, run_demo, run_real_demo

    real = not args.synthetic and (args.data / "brain-example").is_dir()
    if not args.synthetic and not real:
        print(f"demo: real data not found at {args.data / 'brain-example'}: running the synthetic demo instead")
    if real:
        settings = RealDemoSettings(data=args.data, starter_model=args.starter_model)
        print(f"demo: points -> cubes -> labels -> {settings.task} -> fine-tune the starter model -> predict "
              f"{settings.volume} in {args.workdir.resolve()} (nnU-Net folders are set to subfolders of it "
              f"for these commands only; each step reuses its output when it exists)", flush=True)
        result = run_real_demo(args.workdir, settings)
        print_real_summary(result, args.workdir)
        return 0

    settings = DemoSettings()
    print(f"demo: {settings.task} in {args.workdir.resolve()} (nnU-Net folders are set to "
          f"subfolders of it for these commands only)", flush=True)
    steps, scores = run_demo(args.workdir, settings, echo=lambda line: print(line, flush=True))
    print_steps(steps)
    print("\nheld-out case      Dice vs. true tubes   chance level")
    for case, (d, chance) in scores.items():
        print(f"{case:<18} {d:19.3f}   {chance:12.3f}")
    print(f"\npredictions: {(args.workdir / 'predictions').resolve()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("demo", _parser, _run, argv)
