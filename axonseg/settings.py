"""One base for all settings dataclasses: ``from_dict`` / ``from_yaml`` that name the bad key.

A settings class is a frozen ``@dataclass`` deriving from :class:`SettingsBase`. Values
read from YAML (or given as overrides) are checked against the field annotations before
the dataclass is built: unknown keys, missing required keys and wrong types are a
:class:`~axonseg.errors.SettingsError` naming the file and the key, e.g.
``create_data.yaml: samples_per_cube must be an integer, got 'four'``. Lists become
tuples; a mapping for a nested settings field becomes that settings class.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from axonseg.errors import SettingsError

#: Settings that change how a job runs or what is written beside its result, never the values it
#: writes: the one list every resumable job (predict, density) leaves out of its fingerprint, so a
#: resume may change them; every other setting must match for a partial output to be resumed.
#: ``runtime`` is not here: eager, ONNX and OpenVINO networks give (slightly) different numbers.
RUN_ONLY_SETTINGS = frozenset({
    "runner", "dask_scheduler_address", "dask_workers",   # which engine runs the blocks
    "num_threads", "overlap_io", "runtime_cache_dir",     # how fast
    "preview", "write_tiff_slices", "pyramid_max_levels", "convert_input",  # extras rebuilt at the end
})

S = TypeVar("S", bound="SettingsBase")

#: Voxel and cell sizes outside 1 nm .. 10 cm are a unit mistake (or a typo), not a microscope: refused,
#: where they used to end in a JSON, integer-conversion or array-size error naming nothing.
SIZE_UM_RANGE = (1e-3, 1e5)


def check_sizes_um(values, key: str) -> None:
    """Each of ``values`` a finite size in ``SIZE_UM_RANGE`` µm, or :class:`SettingsError` naming ``key``."""
    lo, hi = SIZE_UM_RANGE
    vals = list(values)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and lo <= v <= hi
               for v in vals):
        raise SettingsError(f"{key} must be finite sizes between {lo:g} and {hi:g} µm, got "
                            f"{[float(v) if isinstance(v, (int, float)) else v for v in vals]}")


def check_finite(value, key: str) -> None:
    """``value`` (a number or ``None``) is not NaN or infinite, or :class:`SettingsError` naming ``key``."""
    if value is not None and not math.isfinite(value):
        raise SettingsError(f"{key} must be a finite number, got {value}")


_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _describe(tp: Any) -> str:
    if tp in _TYPE_WORDS:
        return _TYPE_WORDS[tp]
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0]).split(' ', 1)[-1]}s"
        return f"a list of {len(args)} {_describe(args[0]).split(' ', 1)[-1]}s"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp) if a is not type(None)) + " (or null)"
    if isinstance(tp, type) and issubclass(tp, SettingsBase):
        return f"a mapping of {tp.__name__} keys"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """``value`` converted to the annotation ``tp``; ``SettingsError`` naming ``key`` if impossible."""
    def bad() -> SettingsError:
        return SettingsError(f"{key} must be {_describe(tp)}, got {value!r}")

    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise bad()
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except SettingsError:
                continue
        raise bad()
    if origin is Literal:
        if value in typing.get_args(tp):
            return value
        raise bad()
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise bad()
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise bad()
        return tuple(_coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin in (list, dict) or tp in (list, dict, tuple):
        if not isinstance(value, origin or tp):
            raise bad()
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise bad()
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad()
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise bad()
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, Path):
            return str(value)
        raise bad()
    if isinstance(tp, type) and issubclass(tp, SettingsBase):
        if isinstance(value, tp):
            return value
        if isinstance(value, dict):
            return tp.from_dict(value, key_prefix=f"{key}.")
        raise bad()
    return value


class SettingsBase:
    """Mixin for frozen settings dataclasses (see the module docstring)."""

    #: Shown in messages: "unknown <kind> keys".
    settings_kind: ClassVar[str] = "settings"

    @classmethod
    def _hints(cls) -> dict[str, Any]:
        return typing.get_type_hints(cls)

    @classmethod
    def from_dict(cls: type[S], data: Any, source: str | Path | None = None, key_prefix: str = "") -> S:
        """Build from a mapping; unknown, missing and wrongly typed keys raise ``SettingsError``."""
        where = f"{source}: " if source is not None else ""
        if not isinstance(data, dict):
            raise SettingsError(f"{where}expected a mapping of {cls.settings_kind}, got {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(str(k) for k in data if k not in fields)
        if unknown:
            raise SettingsError(f"{where}unknown key(s) {', '.join(key_prefix + k for k in unknown)} "
                                f"({cls.settings_kind}); known keys: {', '.join(fields)}")
        missing = [name for name, f in fields.items()
                   if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                   and data.get(name) is None]
        if missing:
            raise SettingsError(f"{where}{cls.settings_kind} key(s) missing: "
                                f"{', '.join(key_prefix + m for m in missing)}")
        hints = cls._hints()
        try:
            values = {k: _coerce(v, hints.get(k, Any), key_prefix + k) for k, v in data.items()}
            return cls(**values)
        except SettingsError as exc:
            raise SettingsError(f"{where}{exc}") from None
        except (ValueError, TypeError) as exc:
            raise SettingsError(f"{where}{exc}") from exc

    @classmethod
    def from_yaml(cls: type[S], path: str | Path, **overrides: Any) -> S:
        """Read a YAML mapping of field names; ``overrides`` that are not ``None`` win over the file."""
        from axonseg.io.files import read_yaml

        path = Path(path)
        data = read_yaml(path)
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise SettingsError(f"{path}: expected a mapping of {cls.settings_kind}, got {type(data).__name__}")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(data, source=path)

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON-friendly values (tuples as lists)."""
        def plain(v: Any) -> Any:
            if isinstance(v, tuple):
                return [plain(x) for x in v]
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            return v
        return {k: plain(v) for k, v in dataclasses.asdict(self).items()}

    def fingerprint_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` less :data:`RUN_ONLY_SETTINGS`: the settings a resumed job must share."""
        return {k: v for k, v in self.to_dict().items() if k not in RUN_ONLY_SETTINGS}

    def replace(self: S, **changes: Any) -> S:
        """A copy with ``changes`` applied, type-checked like ``from_dict``."""
        hints = self._hints()
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise SettingsError(f"unknown key(s) {', '.join(unknown)} ({self.settings_kind})")
        try:
            checked = {k: _coerce(v, hints.get(k, Any), k) for k, v in changes.items()}
            return dataclasses.replace(self, **checked)
        except SettingsError:
            raise
        except (ValueError, TypeError) as exc:
            raise SettingsError(str(exc)) from exc
