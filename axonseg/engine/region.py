"""A box of voxels, ``[start, stop)`` per axis (z, y, x), as a value type (daisy's ``Roi``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


def _ints(v: Sequence[int], n: int | None = None) -> tuple[int, ...]:
    out = tuple(int(a) for a in v)
    if n is not None and len(out) != n:
        raise ValueError(f"expected {n} values, got {tuple(v)}")
    return out


@dataclass(frozen=True)
class Region:
    """A half-open box ``[start, stop)``. Empty when any ``stop <= start`` (normalised to size 0).

    Examples
    --------
    >>> Region((0, 0, 0), (4, 4, 4)).grow(1).to_slices()
    (slice(-1, 5, None), slice(-1, 5, None), slice(-1, 5, None))
    """

    start: tuple[int, ...]
    stop: tuple[int, ...]

    def __post_init__(self):
        start = _ints(self.start)
        stop = _ints(self.stop, len(start))
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "stop", tuple(max(a, b) for a, b in zip(start, stop)))

    @classmethod
    def from_shape(cls, shape: Sequence[int], start: Sequence[int] | None = None) -> "Region":
        start = _ints(start if start is not None else [0] * len(shape), len(shape))
        return cls(start, tuple(a + int(s) for a, s in zip(start, shape)))

    @property
    def ndim(self) -> int:
        return len(self.start)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(b - a for a, b in zip(self.start, self.stop))

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def empty(self) -> bool:
        return self.size == 0

    def grow(self, before: int | Sequence[int], after: int | Sequence[int] | None = None) -> "Region":
        """Enlarge by ``before`` voxels below and ``after`` (default: ``before``) above, per axis."""
        after = before if after is None else after
        b = (int(before),) * self.ndim if isinstance(before, int) else _ints(before, self.ndim)
        a = (int(after),) * self.ndim if isinstance(after, int) else _ints(after, self.ndim)
        return Region(tuple(s - x for s, x in zip(self.start, b)), tuple(s + x for s, x in zip(self.stop, a)))

    def shift(self, offset: Sequence[int]) -> "Region":
        o = _ints(offset, self.ndim)
        return Region(tuple(s + x for s, x in zip(self.start, o)), tuple(s + x for s, x in zip(self.stop, o)))

    def intersect(self, other: "Region") -> "Region":
        start = tuple(max(a, b) for a, b in zip(self.start, other.start))
        stop = tuple(min(a, b) for a, b in zip(self.stop, other.stop))
        return Region(start, stop)

    def contains(self, other: "Region") -> bool:
        return other.empty or all(a <= c and d <= b for a, b, c, d in zip(self.start, self.stop, other.start,
                                                                            other.stop))

    def snap(self, grid: Sequence[int], bounds: "Region | None" = None) -> "Region":
        """The smallest box of whole grid cells (cells start at multiples of ``grid``) containing this one,
        cut to ``bounds`` (e.g. the volume, whose last chunk may be partial)."""
        g = _ints(grid, self.ndim)
        if min(g) < 1:
            raise ValueError(f"grid must be >= 1 on every axis, got {g}")
        start = tuple(a // c * c for a, c in zip(self.start, g))
        stop = tuple(-(-b // c) * c for b, c in zip(self.stop, g))
        out = Region(start, stop)
        return out.intersect(bounds) if bounds is not None else out

    def is_snapped(self, grid: Sequence[int], bounds: "Region") -> bool:
        """True when this box is a union of whole grid cells of ``bounds`` (edge cells cut at its border)."""
        return self.snap(grid, bounds) == self

    def relative_to(self, origin: "Region") -> "Region":
        """This box in the coordinates of ``origin`` (its start becomes 0)."""
        return self.shift(tuple(-a for a in origin.start))

    def to_slices(self) -> tuple[slice, ...]:
        return tuple(slice(a, b) for a, b in zip(self.start, self.stop))
