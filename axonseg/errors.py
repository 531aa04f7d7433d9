"""The errors a user can fix: the CLI prints their message in one line and exits 1.

Every axonseg error class derives from :class:`AxonsegError` (and, for backward
compatibility, from the builtin it used to be: ``ValueError`` or ``RuntimeError``).
Programming errors are not ``AxonsegError`` and keep their traceback.
"""
from __future__ import annotations


class AxonsegError(Exception):
    """Bad input, bad settings or a state the user can fix (exit code 1)."""


class UsageError(AxonsegError, ValueError):
    """The command line itself is wrong (exit code 2, like argparse)."""


class SettingsError(AxonsegError, ValueError):
    """A settings file or value is wrong; the message names the file and the key."""


class DeviceError(AxonsegError, RuntimeError):
    """The requested device (e.g. ``cuda``) is not available."""
