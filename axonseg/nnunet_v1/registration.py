"""Make nnU-Net v1's own commands find axonseg's trainers.

nnU-Net v1 only searches its ``nnunet/training/network_training`` folder for trainer
classes. :func:`register` writes one small shim module there, ``axonseg_plugin.py``,
that imports ``axonseg_trainers.nnunet_plugin``, and one ``axonseg_nnunet_guard.pth`` beside
the installed packages that makes nnU-Net's commands say in one line which of their
environment variables is unset (``axonseg.nnunet_v1.env_guard``) instead of a traceback;
:func:`unregister` removes both. Both are idempotent. Nothing of nnU-Net is changed.
"""
from __future__ import annotations

import logging
from pathlib import Path

from axonseg.io.files import read_text, write_text

logger = logging.getLogger(__name__)

SHIM_NAME = "axonseg_plugin.py"
SHIM_TEXT = (
    "# Written by `axonseg register`; remove with `axonseg unregister`.\n"
    "# Lets nnU-Net v1's commands find axonseg's trainers (see axonseg_trainers.nnunet_plugin).\n"
    "from axonseg_trainers.nnunet_plugin import *  # noqa: F401,F403\n"
    "from axonseg_trainers.nnunet_plugin import __getattr__  # noqa: F401\n"
)


def trainer_folder() -> Path:
    """nnU-Net v1's trainer folder in the installed ``nnunet`` package."""
    import nnunet

    return Path(nnunet.__path__[0]) / "training" / "network_training"


GUARD_NAME = "axonseg_nnunet_guard.pth"
#: One line (a .pth line must be one): find axonseg's folder without importing it (so that a
#: process that puts another axonseg checkout first on sys.path still imports that one), then
#: run the guard's source.
GUARD_TEXT = ("import importlib.util as u; s = u.find_spec('axonseg'); "
              "p = s and s.submodule_search_locations and s.submodule_search_locations[0] + "
              "'/nnunet_v1/env_guard.py'; "
              "p and __import__('os').path.isfile(p) and exec(compile(open(p).read(), p, 'exec'), {})"
              "  # written by `axonseg register`; remove with `axonseg unregister`\n")


def guard_path(folder: Path | None = None) -> Path:
    """Where the start-up guard goes: the installed packages' folder unless ``folder`` is given (tests)."""
    import sysconfig

    return (Path(sysconfig.get_paths()["purelib"]) if folder is None else Path(folder)) / GUARD_NAME


def shim_path(folder: Path | None = None) -> Path:
    """Where the shim goes: nnU-Net's trainer folder unless ``folder`` is given (tests)."""
    return (trainer_folder() if folder is None else Path(folder)) / SHIM_NAME


def is_registered(folder: Path | None = None) -> bool:
    path, guard = shim_path(folder), guard_path(folder)
    return (path.is_file() and read_text(path) == SHIM_TEXT
            and guard.is_file() and read_text(guard) == GUARD_TEXT)


def register(folder: Path | None = None) -> tuple[Path, bool]:
    """Write the shim if it is not there (or outdated). Returns (path, changed)."""
    path = shim_path(folder)
    if is_registered(folder):
        return path, False
    write_text(path, SHIM_TEXT)
    write_text(guard_path(folder), GUARD_TEXT)
    logger.info("wrote %s and %s", path, guard_path(folder))
    return path, True


def unregister(folder: Path | None = None) -> tuple[Path, bool]:
    """Remove the shim (and its bytecode) if present. Returns (path, changed)."""
    path, guard = shim_path(folder), guard_path(folder)
    for p in (path, guard):
        if p.exists() and "axonseg register" not in read_text(p):
            raise RuntimeError(f"{p}: not written by axonseg; refusing to delete it")
    if guard.exists():
        guard.unlink()
    if not path.exists():
        return path, False
    path.unlink()
    for pyc in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        pyc.unlink()
    return path, True
