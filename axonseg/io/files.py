"""Small files: text, JSON, CSV, YAML and pickles, read with errors that name the file and
written atomically (see :mod:`axonseg.io.atomic`).

Everything axonseg reads or writes goes through ``axonseg.io``; these are the helpers for
the files that are not volumes.
"""
from __future__ import annotations

import csv
import io
import json
import pickle
from pathlib import Path
from typing import IO, Any, Iterable, Sequence

from axonseg.errors import SettingsError
from axonseg.io.atomic import atomic_file, write_text_atomic
from axonseg.io.atomic import write_json_atomic as write_json  # noqa: F401  (the one JSON writer)
from axonseg.io.info import FileFormatError


def read_text(path: str | Path, encoding: str = "utf-8", errors: str = "strict") -> str:
    """The text of ``path``; a missing file or a binary one is a :class:`FileFormatError` naming it."""
    path = Path(path)
    try:
        return path.read_text(encoding=encoding, errors=errors)
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, expected a file") from None
    except UnicodeDecodeError:
        raise FileFormatError(f"{path}: not a text file") from None


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` atomically."""
    return write_text_atomic(path, text)


def read_bytes(path: str | Path) -> bytes:
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None


def read_head(path: str | Path, n: int) -> bytes:
    """The first ``n`` bytes of a file (to recognise its format)."""
    with open(Path(path), "rb") as f:
        return f.read(n)


def read_json(path: str | Path) -> Any:
    """Parsed JSON; bad JSON is a :class:`FileFormatError` naming the file and line."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def append_line(path: str | Path, line: str) -> None:
    """Append one line with one ``O_APPEND`` write (whole lines, also from several processes)."""
    import os

    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line.rstrip("\n") + "\n").encode())
    finally:
        os.close(fd)


def save_npy(path: str | Path, array: Any | None) -> Path:
    """An array as ``.npy`` atomically; ``None`` writes an empty file (a marker for "all zero")."""
    import numpy as np

    with atomic_file(path, "wb") as f:
        if array is not None:
            np.save(f, array)
    return Path(path)


def load_npy(path: str | Path) -> Any:
    """An array saved by :func:`save_npy` (never pickled objects)."""
    import numpy as np

    try:
        return np.load(Path(path), allow_pickle=False)
    except (ValueError, EOFError) as exc:  # cut short or changed: numpy's message names no file
        raise FileFormatError(f"{path}: not a readable .npy array ({exc}); the file is damaged") from exc


def save_npz(path: str | Path, **arrays: Any) -> Path:
    """Named arrays as one compressed ``.npz``, atomically."""
    import numpy as np

    with atomic_file(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    return Path(path)


def load_npz(path: str | Path, keys: Sequence[str] | None = None) -> dict[str, Any]:
    """The arrays (only ``keys`` when given: the others are not decompressed) of a :func:`save_npz` file."""
    import numpy as np

    with np.load(Path(path), allow_pickle=False) as z:
        return {k: z[k] for k in (z.files if keys is None else keys)}


def read_csv_dicts(path: str | Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    """Rows of a CSV file with a header line, as dicts."""
    return list(csv.DictReader(io.StringIO(read_text(path, encoding=encoding))))


def write_csv(path: str | Path, fieldnames: Sequence[str], rows: Iterable[dict[str, Any]]) -> Path:
    """A CSV with a header line, atomically."""
    with atomic_file(path, "w") as f:
        writer = csv.DictWriter(f, fieldnames=list(fieldnames))
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def _numbers_loader():
    """PyYAML's safe loader, reading ``1e9`` and ``5e-3`` as numbers (YAML 1.2; YAML 1.1 wants ``1.0e+9``)."""
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
        r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"), list("-+0123456789."))
    return Loader


def read_yaml(path: str | Path) -> Any:
    """Parsed YAML (safe loader); a syntax error is a :class:`SettingsError` with line and column."""
    import yaml

    path = Path(path)
    try:
        text = read_text(path)
    except FileFormatError as exc:
        raise SettingsError(str(exc).replace("no such file", "settings file not found")
                            .replace("not a text file", "not a text (YAML) file")) from None
    try:
        return yaml.load(text, Loader=_numbers_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SettingsError(f"{path}: YAML syntax error{at}: {problem}") from None


def write_pickle(path: str | Path, obj: Any, protocol: int = 4) -> Path:
    """Pickle ``obj`` atomically (a fixed protocol: the same object gives the same bytes)."""
    with atomic_file(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    return Path(path)


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, f: IO[bytes], allowed: frozenset[tuple[str, str]]):
        super().__init__(f)
        self._allowed = allowed

    def find_class(self, module: str, name: str):
        if (module, name) in self._allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def read_pickle_allowlist(path: str | Path, allowed: Iterable[tuple[str, str]]) -> Any:
    """Unpickle ``path`` allowing only the globals in ``allowed`` ((module, name) pairs).

    Never a bare ``pickle.load``: a pickle naming any other global (``os.system``,
    ``builtins.eval``, ...) is refused with :class:`FileFormatError` before it runs.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return _AllowListUnpickler(f, frozenset(allowed)).load()
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, IndexError, TypeError) as e:
        raise FileFormatError(f"{path}: cannot read this pickle safely: {e}") from e


def open_log(path: str | Path) -> IO[str]:
    """A text file to stream a subprocess's output into (the caller closes it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w")
