"""Shared start of the entry scripts: run an axonseg command, or say how to set up first."""
from __future__ import annotations

import importlib
import sys


def run(module: str) -> int:
    """Run ``module.main()`` (an ``axonseg.cli`` module); explain if axonseg is not installed."""
    try:
        command = importlib.import_module(module)
    except ModuleNotFoundError as err:
        print(f"{sys.argv[0]}: axonseg is not installed for {sys.executable} (missing module "
              f"{err.name!r}). Run `make setup` in the repository root, then use .venv/bin/python "
              f"(or `source .venv/bin/activate`).", file=sys.stderr)
        return 1
    return command.main()
