"""Write files and folders all-or-nothing, and never replace what is not ours to replace.

* :func:`atomic_file` / :func:`write_json_atomic` / :func:`write_text_atomic`: write to a
  hidden temporary file beside the target, then ``os.replace`` it (readers see the old or
  the new file, never half of one).
* :func:`staged_folder`: build an output folder under a hidden ``.NAME.partial-*`` name and
  move it into place only when the block succeeds; on any error (Ctrl-C included) the
  partial folder is removed and an existing output is left as it was.
* :func:`check_apart`: the one rule for every command's outputs: an output must not be,
  contain or lie inside any input.
* :func:`check_replace_target`: the rules every ``--overwrite`` obeys: :func:`check_apart`, the
  target must not be a file when a folder is expected, and must look like an output of ours
  (``is_ours``), so that ``--overwrite`` never deletes a user's data.

Files and folders made here get the permissions of the process's umask (``mkstemp`` and
``mkdtemp`` alone would make them private to the user: a lab's shared folder could not read them).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Sequence

from axonseg.errors import AxonsegError

logger = logging.getLogger(__name__)


_UMASK_LOCK = threading.Lock()


class OutputTargetError(AxonsegError, ValueError):
    """The output path cannot be written or replaced safely."""


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def check_apart(outputs: Sequence[str | Path | None], inputs: Sequence[str | Path | None]) -> None:
    """The one rule for every command: an output must not be, contain or lie inside any input.

    Paths are compared after resolving symbolic links; ``None`` entries (options not given) and
    inputs that do not exist are skipped. Two outputs must not be the same path either.
    """
    outs = [Path(p) for p in outputs if p is not None]
    for dst in outs:
        for src in (Path(p) for p in inputs if p is not None):
            if (src.exists() or src.is_symlink()) and (_inside(src, dst) or _inside(dst, src)):
                raise OutputTargetError(f"{dst}: an output must not be the input, nor contain or lie inside the input "
                                        f"{src}; choose another output path")
    for k, a in enumerate(outs):
        for b in outs[k + 1:]:
            if _inside(a, b) or _inside(b, a):
                raise OutputTargetError(f"{b}: the same path as (or inside) the output {a}; "
                                        "give two different outputs")


def _umask() -> int:
    """The process's umask: from ``/proc/self/status`` on Linux, else by setting and restoring it
    (Python has no getter)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass  # not Linux: set and restore below
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def honour_umask(path: str | Path, folder: bool = False) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would have given it (0666/0777 less the umask)."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


def make_staging_dir(parent: Path, prefix: str) -> Path:
    """``tempfile.mkdtemp`` with the umask's permissions instead of 0700."""
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    honour_umask(tmp, folder=True)
    return tmp


def check_parent(path: str | Path) -> Path:
    """``path``'s parent exists and is a folder (a clear error instead of ENOTDIR deep inside)."""
    path = Path(path)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputTargetError(f"{path}: {parent} is a file, not a folder")
            break
    return path


def check_replace_target(dst: str | Path, inputs: Sequence[str | Path] = (), overwrite: bool = False,
                         is_ours: Callable[[Path], bool] | None = None, folder: bool = True) -> None:
    """Refuse to write ``dst`` when that would lose data (see the module docstring).

    Parameters
    ----------
    dst
        The output file or folder.
    inputs
        Paths read by the command: ``dst`` must not be, contain or lie inside any of them.
    overwrite
        Whether an existing ``dst`` may be replaced (``--overwrite``).
    is_ours
        Recognises an output of this command; an existing ``dst`` it rejects is never replaced.
    folder
        ``dst`` is a folder (a file there is an error) or a file (a folder there is an error).
    """
    dst = check_parent(dst)
    check_apart([dst], inputs)
    if not dst.exists() and not dst.is_symlink():
        return
    if folder and not dst.is_dir():
        raise OutputTargetError(f"{dst}: exists and is a file, not an output folder; refusing to replace it")
    if not folder and dst.is_dir():
        raise OutputTargetError(f"{dst}: exists and is a folder, expected a file; refusing to replace it")
    if is_ours is not None and not is_ours(dst):  # checked first: never advise --overwrite for it
        raise OutputTargetError(f"{dst}: exists and was not written by this axonseg command; "
                                "refusing to replace it even with --overwrite (remove it yourself)")
    if not overwrite:
        raise OutputTargetError(f"{dst}: exists; pass --overwrite to replace it")


class OutputExistsError(AxonsegError, FileExistsError):
    """Output files exist and ``--overwrite`` was not given."""


def check_replace_files(targets: Sequence[str | Path], overwrite: bool, is_ours: Callable[[Path], bool]) -> None:
    """Output files written into a folder: an existing one is replaced only with ``overwrite`` and
    only when ``is_ours`` recognises it (never a user's file or folder)."""
    existing = [Path(t) for t in targets if Path(t).exists() or Path(t).is_symlink()]
    foreign = [t for t in existing if t.is_dir() or not is_ours(t)]
    if foreign:
        raise OutputTargetError(f"{foreign[0]} (and {len(foreign) - 1} more): exist and were not written by axonseg; "
                                "refusing to replace them even with --overwrite (move them away); nothing written")
    if existing and not overwrite:
        raise OutputExistsError(f"{existing[0]} (and {len(existing) - 1} more) exist; nothing written; "
                                "pass --overwrite to replace them")


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; ``os.replace`` it onto ``path`` on success."""
    path = check_parent(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as f:
            yield f
        os.replace(tmp, path)
    except OSError as exc:  # a full disk names no file by itself
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        from axonseg.io.write_errors import named_write_error

        raise named_write_error(exc, path) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    with atomic_file(path, "w") as f:
        f.write(text)
    return Path(path)


def write_json_atomic(path: str | Path, data: Any, indent: int | None = 2, sort_keys: bool = False,
                      default: Any = None) -> Path:
    """JSON written atomically, one trailing newline; NaN/Inf refused (they are not JSON); ``default``
    as in ``json.dumps``. The one JSON writer (``axonseg.io.files.write_json`` is this function)."""
    text = json.dumps(data, indent=indent, sort_keys=sort_keys, allow_nan=False, default=default)
    return write_text_atomic(path, text + "\n")


def remove_leftovers(parent: Path, name: str) -> None:
    """Clean up after a killed run that staged ``parent/name`` (call holding the lock of ``name``).

    Its ``.NAME.partial-*`` folders are removed; a ``.NAME.old-*`` folder (killed while swapping
    the old output for the new one) gives the old output back when ``NAME`` is missing, then goes.
    """
    parent = Path(parent)
    for tmp in sorted(parent.glob(f".{name}.partial-*")):
        if tmp.is_dir() and not tmp.is_symlink():
            logger.warning("%s: removing the staging folder of an interrupted run", tmp)
            shutil.rmtree(tmp)
    for old in sorted(parent.glob(f".{name}.old-*")):
        if not old.is_dir() or old.is_symlink():
            continue
        kept = old / name
        if kept.exists() and not (parent / name).exists():
            logger.warning("%s: an interrupted run had moved it aside; putting it back", parent / name)
            os.replace(kept, parent / name)
        shutil.rmtree(old)


@contextlib.contextmanager
def staging_folder(parent: str | Path, name: str) -> Iterator[Path]:
    """A hidden ``parent/.NAME.partial-*`` folder for files that are moved out of it one by one.

    Held under a lock (``parent/.NAME.lock``): the leftovers of a killed run are removed first
    (:func:`remove_leftovers`), and the folder is removed when the block ends, whatever happens.
    """
    from axonseg.io.lock import FolderLock

    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    with FolderLock(parent, name=f".{name}.lock"):
        remove_leftovers(parent, name)
        tmp = make_staging_dir(parent, f".{name}.partial-")
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def staged_folder(dst: str | Path, overwrite: bool = False, inputs: Sequence[str | Path] = (),
                  is_ours: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield an empty hidden folder beside ``dst``; it becomes ``dst`` when the block succeeds.

    The target is checked first (:func:`check_replace_target`). An existing ``dst`` is moved
    aside, the new folder moved in, then the old one removed. A run killed meanwhile leaves hidden
    ``.NAME.partial-*`` / ``.NAME.old-*`` folders: the next run (one at a time: a lock) removes
    them, putting an output it finds moved aside back first (:func:`remove_leftovers`).
    """
    dst = Path(dst)
    check_replace_target(dst, inputs, overwrite, is_ours, folder=True)
    with staging_folder(dst.parent, dst.name) as tmp:
        yield tmp
        swap_in(tmp, dst)


def swap_in(tmp: Path, dst: Path) -> None:
    """Make the finished folder ``tmp`` (beside ``dst``) ``dst``: an existing ``dst`` is moved aside
    into a hidden ``.NAME.old-*`` folder, ``tmp`` renamed onto ``dst``, then the old one removed.
    A kill in between leaves the ``.old-*`` folder for :func:`remove_leftovers`. The one such sequence
    (staged and resumable folders use it)."""
    if dst.exists():
        old = Path(tempfile.mkdtemp(dir=dst.parent, prefix=f".{dst.name}.old-"))
        os.replace(dst, old / dst.name)
        os.replace(tmp, dst)
        shutil.rmtree(old)
    else:
        os.replace(tmp, dst)
