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
143   terminated (SIGTERM, e.g. a batch system's time limit): handled like Ctrl-C (one line,
      locks released, the same command resumes)
====  =====================================================================

Log lines: axonseg's own at INFO, other packages' (onnx, torch, dask...) only from WARNING up.

Errors that are not the user's (programming errors) keep their traceback. Set
``AXONSEG_DEBUG=1`` to get the traceback of every error.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import signal
import sys
import threading
from typing import Callable

from axonseg.errors import AxonsegError, UsageError

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwinds like Ctrl-C (``finally`` blocks release locks, remove staging)."""


def _on_sigterm(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the clean-up short
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (elsewhere: unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:  # a handler installed from C reads as None: the default is the best Python can restore
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _configure_logging() -> None:
    """INFO for axonseg, WARNING for everything else (exporters log hundreds of INFO lines)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("axonseg").setLevel(logging.INFO)

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
    from axonseg.nnunet_v1.quiet_import import quiet_nnunet_import as quiet

    quiet()


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
    _configure_logging()
    debug = os.environ.get("AXONSEG_DEBUG", "") not in ("", "0")
    try:
        with _sigterm_as_interrupt():
            return int(run(args) or EXIT_OK)
    except KeyboardInterrupt as exc:
        if debug:
            raise
        how = " (SIGTERM)" if isinstance(exc, Terminated) else ""
        print(f"\n{prog}: interrupted{how}; rerun the same command to resume", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
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
