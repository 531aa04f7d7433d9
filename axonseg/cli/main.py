"""``axonseg <command> [args]``: one entry point, one module per command.

Each command module in ``axonseg.cli`` has ``main(argv=None) -> int`` and a one-line
module docstring, shown by ``axonseg --help``. Add a command by adding one line to
``COMMANDS``.
"""
from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, str] = {
    "register": "axonseg.cli.register",
    "unregister": "axonseg.cli.unregister",
    "trainers": "axonseg.cli.trainers",
    "demo": "axonseg.cli.demo",
    "check": "axonseg.cli.check",
    "crop-cubes": "axonseg.cli.crop_cubes",
    "rough-labels": "axonseg.cli.rough_labels",
    "fine-labels": "axonseg.cli.fine_labels",
    "create-data": "axonseg.cli.create_data",
    "sparse-task": "axonseg.cli.sparse_task",
    "write-splits": "axonseg.cli.write_splits",
    "convert": "axonseg.cli.convert",
    "save-models": "axonseg.cli.save_models",
    "predict": "axonseg.cli.predict",
    "preview": "axonseg.cli.preview",
    "evaluate": "axonseg.cli.evaluate",
    "density": "axonseg.cli.density",
    "measure-halo": "axonseg.cli.measure_halo",
}


def _summary(module_name: str) -> str:
    doc = importlib.import_module(module_name).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--version"], ["-V"]):
        from axonseg import __version__

        print(f"axonseg {__version__}")
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: axonseg <command> [options]   (axonseg --version: the installed version)\n\ncommands:")
        for name, mod in COMMANDS.items():
            print(f"  {name:<14} {_summary(mod)}")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"axonseg: unknown command {name!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    from axonseg.cli.runner import quiet_nnunet_import

    quiet_nnunet_import()  # nnU-Net prints a banner and path warnings on import; ours cite it in the README
    return int(importlib.import_module(COMMANDS[name]).main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
