"""Run nnU-Net v1's own console scripts (as users type them) in subprocesses."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from axonseg.nnunet_v1.env import NnunetPaths
from axonseg.errors import AxonsegError

from axonseg.io.files import write_text

logger = logging.getLogger(__name__)


class NnunetCommandError(AxonsegError, RuntimeError):
    """An nnU-Net command exited non-zero; the message carries the end of its output."""


@dataclass(frozen=True)
class CommandResult:
    args: list[str]
    returncode: int
    seconds: float
    output: str


def console_script(name: str) -> str:
    """Path of an nnU-Net console script installed beside the running Python."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise NnunetCommandError(
            f"{path}: nnU-Net's command {name} is not installed in this environment; run `make setup`"
        )
    return str(path)


def run_nnunet(args: list[str], paths: NnunetPaths, log_file: Path | None = None,
               check: bool = True, extra_env: dict[str, str] | None = None) -> CommandResult:
    """Run ``args`` (``args[0]`` an nnU-Net console script name) with nnU-Net's folders set."""
    args = [str(a) for a in args]
    cmd = [console_script(args[0])] + args[1:]
    env = {**os.environ, **paths.environ(), **(extra_env or {})}
    logger.info("running %s", " ".join(args))
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - start
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        write_text(log_file, proc.stdout)
    if check and proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
        raise NnunetCommandError(f"`{' '.join(args)}` failed with exit code {proc.returncode}:\n{tail}")
    return CommandResult(list(args), proc.returncode, seconds, proc.stdout)
