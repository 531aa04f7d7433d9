"""Halo tiling: how a tile is computed when the network's answer depends only on the neighbourhood.

For a network without per-patch statistics (BatchNorm in eval mode or no normalisation layer,
convolutions, strided pooling, one global input normalisation per volume), the output at a voxel
depends on the input within its receptive field only, so the whole volume could be predicted in
one forward pass. Halo tiling reproduces that pass piece by piece: a tile is a *core* (a block of
whole output chunks, written) plus a *halo* of ``h`` voxels on each side (read, not written).
Each output voxel is computed once; there is no Gaussian blend.

Three rules make a tile's core equal the whole-volume pass (up to the halo's truncation of the
receptive field, which :mod:`axonseg.inference.halo_measure` measures):

- the tile's origin (core start - h, rounded down) lies on a multiple of the network's total
  pooling factor ``F`` (8 for three 2x poolings) from the volume origin, so the tile's pooling
  grid is the whole-volume pass's;
- at the volume border the halo is clipped, so the network's own zero padding falls exactly where
  the whole-volume pass has it;
- the tile input is padded with zeros up to a multiple of ``F`` only at the far volume border,
  to the same length the whole-volume pass is padded to (``ceil(S / F) * F``); a tile inside the
  volume is a multiple of ``F`` long and is not padded.

All coordinates are volume voxels (z, y, x).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

from axonseg.engine import Region, grid_blocks

logger = logging.getLogger(__name__)

PredictPatches = Callable[[np.ndarray], np.ndarray]
TILINGS = ("lattice", "halo", "auto")
# layers that compute statistics of the patch they see: their output depends on the tile
_PER_PATCH_NORMS = (torch.nn.InstanceNorm1d, torch.nn.InstanceNorm2d, torch.nn.InstanceNorm3d,
                    torch.nn.GroupNorm, torch.nn.LayerNorm, torch.nn.LocalResponseNorm)


def pooling_factor_zyx(pool_op_kernel_sizes: Sequence[Sequence[int]]) -> tuple[int, int, int]:
    """Total down-sampling per axis: the product of the pooling kernels (8, 8, 8 for three 2x poolings)."""
    f = [1, 1, 1]
    for ks in pool_op_kernel_sizes:
        f = [a * int(k) for a, k in zip(f, ks)]
    return tuple(f)


def _ints3(v: int | Sequence[int], name: str) -> tuple[int, int, int]:
    out = (int(v),) * 3 if isinstance(v, (int, np.integer)) else tuple(int(a) for a in v)
    if len(out) != 3:
        raise ValueError(f"{name} must be 3 values (z, y, x), got {v}")
    return out


@dataclass(frozen=True)
class Tile:
    """One tile: the core it writes, the region of the volume it reads, the network input's shape.

    ``read`` starts on a multiple of the pooling factor and lies inside the volume; ``input_shape``
    is ``read.shape`` padded (with zeros after normalisation) at the far volume border only.
    """

    core: Region
    read: Region
    input_shape: tuple[int, int, int]

    @property
    def input_voxels(self) -> int:
        return int(np.prod(self.input_shape))

    def core_in_input(self) -> tuple[slice, ...]:
        """Slices of the core in the network input (and its output)."""
        return self.core.relative_to(self.read).to_slices()


def tile_for_core(core: Region, shape_zyx: Sequence[int], halo_vox: int | Sequence[int],
                  factor_zyx: int | Sequence[int]) -> Tile:
    """The tile that computes ``core``: at least ``halo_vox`` voxels of context on each side (less only
    at the volume border), origin on the pooling grid, input a whole number of ``factor_zyx``."""
    halo, factor = _ints3(halo_vox, "halo_vox"), _ints3(factor_zyx, "factor_zyx")
    shape = _ints3(shape_zyx, "shape_zyx")
    if min(halo) < 0 or min(factor) < 1:
        raise ValueError(f"halo must be >= 0 and the pooling factor >= 1 voxel, got {halo} and {factor}")
    if core.empty or not Region.from_shape(shape).contains(core):
        raise ValueError(f"core {core} is empty or outside the volume {shape}")
    lo, hi, n = [], [], []
    for a, b, h, f, s in zip(core.start, core.stop, halo, factor, shape):
        start = max((a - h) // f * f, 0)
        length = -(-(b + h - start) // f) * f
        if start + length >= s:  # reaches the far border: read to it, pad as the whole-volume pass does
            length = -(-(s - start) // f) * f
        lo.append(start)
        hi.append(min(start + length, s))
        n.append(length)
    return Tile(core, Region(lo, hi), tuple(n))


def tiles(shape_zyx: Sequence[int], core_shape_zyx: Sequence[int], halo_vox: int | Sequence[int],
          factor_zyx: int | Sequence[int]) -> list[Tile]:
    """Tiles over the volume, cores on a grid of ``core_shape_zyx`` (C order, cut at the border)."""
    return [tile_for_core(b.write, shape_zyx, halo_vox, factor_zyx) for b in grid_blocks(shape_zyx, core_shape_zyx)]


def tile_voxels_per_output_voxel(core_vox: int, halo_vox: int) -> float:
    """The ideal cost of halo tiling, ``((T + 2h) / T)^3``, for cubic cores of side ``T`` inside a volume."""
    return ((core_vox + 2 * halo_vox) / core_vox) ** 3


def tile_input(volume_zyx, tile: Tile, transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """The network input of ``tile``: its read region as float32, ``transform`` (the volume's
    normalisation) applied, zero-padded at the far volume border to ``tile.input_shape``."""
    data = np.asarray(volume_zyx[tile.read.to_slices()], dtype=np.float32)
    if transform is not None:
        data = np.asarray(transform(data), dtype=np.float32)
    if data.shape == tile.input_shape:
        return np.ascontiguousarray(data)
    out = np.zeros(tile.input_shape, np.float32)
    out[tuple(slice(0, s) for s in data.shape)] = data
    return out


def predict_tile(x: np.ndarray, tile: Tile, predict: PredictPatches) -> np.ndarray:
    """Probabilities ``(C, *core shape)`` of ``tile``'s core from its input ``x`` (one network call)."""
    if x.shape != tile.input_shape:
        raise ValueError(f"tile input has shape {x.shape}, the tile needs {tile.input_shape}")
    y = np.asarray(predict(x[None, None]))
    if y.ndim != 5 or y.shape[0] != 1 or y.shape[2:] != tile.input_shape:
        raise ValueError(f"network returned shape {y.shape} for a tile of shape {(1, 1) + tile.input_shape}")
    return y[0][(slice(None),) + tile.core_in_input()]


def predict_tiled(volume_zyx, predict: PredictPatches, core_shape_zyx: Sequence[int],
                  halo_vox: int | Sequence[int], factor_zyx: int | Sequence[int],
                  transform: Callable[[np.ndarray], np.ndarray] | None = None,
                  skip: Callable[[Tile], bool] | None = None) -> np.ndarray:
    """Halo-tiled probabilities ``(C, z, y, x)`` of a whole (small) volume, in memory.

    ``skip(tile) -> True`` leaves a tile's core at probability 0 without running it (tissue).
    """
    shape = tuple(int(s) for s in volume_zyx.shape)
    out = None
    skipped = []
    for t in tiles(shape, core_shape_zyx, halo_vox, factor_zyx):
        if skip is not None and skip(t):
            skipped.append(t)
            continue
        y = predict_tile(tile_input(volume_zyx, t, transform), t, predict)
        if out is None:
            out = np.zeros((y.shape[0],) + shape, np.float32)
        out[(slice(None),) + t.core.to_slices()] = y
    if out is None:
        raise ValueError("every tile was skipped: nothing tells the number of classes")
    return out


def predict_whole(volume_zyx, predict: PredictPatches, factor_zyx: int | Sequence[int],
                  transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """One forward pass over the whole volume (zero-padded at the far end to multiples of
    ``factor_zyx``), cropped back: what halo tiling reproduces. ``(C, z, y, x)``."""
    shape = tuple(int(s) for s in volume_zyx.shape)
    whole = Region.from_shape(shape)
    return predict_tile(tile_input(volume_zyx, tile_for_core(whole, shape, 0, factor_zyx), transform),
                        tile_for_core(whole, shape, 0, factor_zyx), predict)


def per_patch_layers(net: torch.nn.Module) -> list[str]:
    """Names of the layers whose output depends on the patch they see (instance/group/layer norm,
    batch norm without running statistics or in training mode)."""
    bad = []
    for name, m in net.named_modules():
        if isinstance(m, _PER_PATCH_NORMS) and not (isinstance(m, torch.nn.modules.instancenorm._InstanceNorm)
                                                    and m.track_running_stats and not m.training):
            bad.append(f"{name} ({type(m).__name__})")
        elif isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and (m.training or not m.track_running_stats):
            bad.append(f"{name} ({type(m).__name__} {'in training mode' if m.training else 'without running stats'})")
    return bad


@dataclass(frozen=True)
class TilingChoice:
    """How a run computes its output: ``lattice`` (nnU-Net's Gaussian sliding window) or ``halo``."""

    mode: str
    halo_vox: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "halo_vox": self.halo_vox, "reason": self.reason}


def model_halo(model, halo_vox: int | None = None) -> tuple[int | None, str]:
    """The halo for a :class:`~axonseg.inference.weights.LoadedModel` (``halo_vox`` if given, else the one its
    ``.pth`` declares), or ``None`` and why halo tiling does not apply.

    A model allows halo tiling when it is a plain Generic_UNet (the axial net's positional embeddings tie
    it to its patch), position independent (its ``.pth`` says ``position_independent: true``, or its
    network config has no per-patch statistics: ``norm: batch``) and has a halo (measured ``halo_vox``)."""
    extra = model.extra or {}
    config_says = getattr(model.config, "position_independent", None)
    if model.config.architecture != "generic_unet":
        return None, f"a {model.config.architecture} depends on its patch (positional embeddings)"
    if config_says is False:
        return None, "its network normalises each patch with the patch's own statistics (InstanceNorm)"
    if extra.get("position_independent") is not True and config_says is not True:
        return None, "the model does not declare position_independent (per-patch statistics, e.g. InstanceNorm)"
    if halo_vox is not None:
        return int(halo_vox), f"the model is position independent; halo {int(halo_vox)} voxels (--halo)"
    h = extra.get("halo_vox")
    if not isinstance(h, int) or isinstance(h, bool) or h < 0:
        return None, (f"the model declares no usable halo_vox (got {h!r}); measure it (axonseg measure-halo "
                      f"MODEL --save OUT.pth) or give --halo")
    return h, f"the model is position independent; halo {h} voxels (measured, from the model)"


def choose_tiling(tiling: str, model, normalization: str = "global", halo_vox: int | None = None,
                  scout: bool = False) -> TilingChoice:
    """Resolve ``--tiling lattice|halo|auto`` once per run (``auto``: halo where the model allows it).

    ``halo_vox`` overrides the model's halo. ``halo`` on a model that does not allow it is a
    ``ValueError`` naming the model; ``auto`` then falls back to the lattice and says why.
    """
    if tiling not in TILINGS:
        raise ValueError(f"tiling must be one of {', '.join(TILINGS)}, got {tiling!r}")
    if tiling == "lattice":
        return TilingChoice("lattice", None, "--tiling lattice")
    h, why = model_halo(model, halo_vox)
    problem = None
    if h is None:
        problem = why
    elif normalization != "global":
        problem = f"normalization {normalization!r} z-scores each patch (halo tiling needs one per volume)"
    elif scout:
        problem = "the scout pass runs on the lattice (--scout-threshold)"
    if problem is not None:
        if tiling == "halo":
            raise ValueError(f"{model.source}: --tiling halo is not possible: {problem}")
        return TilingChoice("lattice", None, f"auto: {problem}")
    return TilingChoice("halo", h, f"{tiling}: {why}")


def check_halo_network(net: torch.nn.Module, source: str) -> None:
    """Raise ``ValueError`` naming ``source`` if the built network has layers with per-patch statistics."""
    bad = per_patch_layers(net)
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise ValueError(f"{source}: declares position_independent but its network has per-patch layers "
                         f"({', '.join(bad[:3])}{more}); predict it with --tiling lattice")

