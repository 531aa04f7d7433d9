"""One runner for every ``axonseg`` command: parse, call, map known errors to one line.

A command module defines ``parser() -> argparse.ArgumentParser`` and
``run(args) -> int | None``; its ``main(argv)`` is ``run_command(parser, run, argv)``.
``run`` raises on bad input; it never prints tracebacks or returns error codes itself.

Exit codes (documented in the README, "Exit codes"):

====  =====================================================================
0     success
1     bad input, settings or state: one line ``axonseg <command>: <file/option>: <problem>``
2     usage error (argparse, or :class:`~axonseg.errors.UsageError`)
130   interrupted (Ctrl-C); rerunning the same command resumes where it can
====  =====================================================================

Errors that are not the user's (programming errors) keep their traceback. Set
``AXONSEG_DEBUG=1`` to get the traceback of every error.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import io
import logging
import os
import sys
from typing import Callable

from axonseg.errors import AxonsegError, UsageError

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Hints added to ``OSError`` messages whose wording alone does not say what to do (errno -> hint).
_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free space, then rerun the same command to resume",
    errno.EPERM: "immutable or protected path?",
    errno.ENOTDIR: "a parent of this path is a file, not a folder",
}


def quiet_nnunet_import() -> None:
    """Import nnU-Net once with its citation banner and path warnings swallowed.

    nnU-Net v1 prints both with ``print`` when ``nnunet`` and ``nnunet.paths`` are first
    imported; axonseg reads nnU-Net's variables itself (``axonseg.nnunet_v1.env``) and
    names the missing ones where they are needed.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        import nnunet  # noqa: F401
        import nnunet.paths  # noqa: F401


def describe_os_error(exc: OSError) -> str:
    """``<path>: <problem>`` for an ``OSError`` (both paths of a rename)."""
    where = ": ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    problem = exc.strerror or str(exc)
    hint = _OS_HINTS.get(exc.errno or -1)
    if hint:
        problem = f"{problem} ({hint})"
    return f"{where}: {problem}" if where else problem


def error_message(exc: BaseException) -> str:
    """One line for a known error: a multi-line message joined with "; " (up to 10 lines)."""
    if isinstance(exc, OSError) and not isinstance(exc, AxonsegError):
        text = describe_os_error(exc)
    else:
        text = str(exc) or type(exc).__name__
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    more = f"; ... ({len(lines) - 10} more)" if len(lines) > 10 else ""
    return " ".join([lines[0]] + ["; ".join(lines[1:10])]).strip() + more


def _known(exc: BaseException) -> bool:
    import yaml

    return isinstance(exc, (AxonsegError, ValueError, OSError, yaml.YAMLError))


def run_command(name: str, parser: Callable[[], argparse.ArgumentParser],
                run: Callable[[argparse.Namespace], int | None], argv: list[str] | None = None) -> int:
    """Parse ``argv`` with ``parser()``, call ``run(args)``, return the exit code (see module doc)."""
    prog = f"axonseg {name}"
    p = parser()
    p.prog = prog
    try:
        args = p.parse_intermixed_args(argv)  # usage errors: argparse prints usage + one line
    except SystemExit as exc:  # 2 (usage) or 0 (--help): returned, so that main(argv) never exits
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    debug = os.environ.get("AXONSEG_DEBUG", "") not in ("", "0")
    try:
        return int(run(args) or EXIT_OK)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"\n{prog}: interrupted; rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        if debug:
            raise
        p.print_usage(sys.stderr)
        print(f"{prog}: {error_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if debug or not _known(exc):
            raise
        print(f"{prog}: {error_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
