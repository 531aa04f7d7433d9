"""Preview pictures: maximum-intensity projections (raw, probability overlay, skeleton) as PNG.

A preview lets a user see at a glance whether a prediction worked. Projections are computed
chunk by chunk (a dask ``max`` reduction), so a whole-brain array is never loaded; each
projection is then max-pooled down to at most ``max_panel_px`` pixels per side for display.

Layout of the PNG: a title strip on top (the caller's title and a line saying what the
picture shows: maximum-intensity projections along which axes, over how many slices), one
row per projection axis (``"z"`` first), columns ``raw | raw + probability | raw + skeleton``
(a column only when its input is given), each panel ``panel_px`` pixels on its longer side
(aspect from ``voxel_size_um``), and under each column its colour bar: the grey ramp with the
raw intensities it spans (0.5-99.8th percentile of the projection), the magenta overlay for
p = 0 ... 1, the green of the skeleton. :func:`preview_size_px` gives the exact PNG size.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import dask.array as da
import numpy as np

from axonseg.io.images import save_figure_png

logger = logging.getLogger(__name__)

AXES = {"z": 0, "y": 1, "x": 2}
TITLE_PX = 44
LABEL_PX = 18
PAD_PX = 4
LEGEND_PX = 34
BAR_PX = 10
PROB_ALPHA = 0.7
PROB_RGB = np.array([1.0, 0.1, 0.8])  # magenta
SKEL_RGB = np.array([0.2, 1.0, 0.2])  # green


def _as_dask(arr: np.ndarray | da.Array) -> da.Array:
    if isinstance(arr, da.Array):
        return arr
    return da.from_array(np.asarray(arr), chunks=-1)


def mip(volume_zyx: np.ndarray | da.Array, axis: str = "z", max_side_px: int = 2048) -> np.ndarray:
    """Maximum-intensity projection along ``axis``, max-pooled to at most ``max_side_px``.

    Parameters
    ----------
    volume_zyx
        3-D array (numpy or dask), axis order z, y, x. Dask arrays are reduced chunk-wise.
    axis
        ``"z"``, ``"y"`` or ``"x"``.
    max_side_px
        The projection is max-pooled by an integer factor so no side exceeds this.

    Returns
    -------
    np.ndarray
        2-D float32 projection.
    """
    if axis not in AXES:
        raise ValueError(f"axis must be one of {sorted(AXES)}, got {axis!r}")
    vol = _as_dask(volume_zyx)
    if vol.ndim != 3:
        raise ValueError(f"expected a 3-D (z, y, x) array, got shape {vol.shape}")
    proj = np.asarray(vol.max(axis=AXES[axis]).compute(), dtype=np.float32)
    factor = int(np.ceil(max(proj.shape) / max_side_px))
    if factor > 1:
        from skimage.measure import block_reduce

        proj = block_reduce(proj, (factor, factor), np.max).astype(np.float32)
    return proj


def _contrast_limits(proj: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.8) -> tuple[float, float]:
    lo, hi = np.percentile(proj, [low_pct, high_pct])
    return float(lo), float(hi if hi > lo else lo + 1.0)


def _contrast(proj: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.8) -> np.ndarray:
    lo, hi = _contrast_limits(proj, low_pct, high_pct)
    return np.clip((proj - lo) / (hi - lo), 0.0, 1.0)


def _unit_scale(proj: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1] stay; masks stored as 0/255 (or any max > 1) are divided by max."""
    top = float(proj.max()) if proj.size else 0.0
    return proj / top if top > 1.0 else np.clip(proj, 0.0, 1.0)


def _resize_nearest(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of an (h, w, 3) image to (height, width, 3)."""
    rows = (np.arange(height) * rgb.shape[0] // height).clip(0, rgb.shape[0] - 1)
    cols = (np.arange(width) * rgb.shape[1] // width).clip(0, rgb.shape[1] - 1)
    return rgb[rows][:, cols]


def _panel_shape_px(shape_2d: tuple[int, int], aspect: float, panel_px: int) -> tuple[int, int]:
    """(height, width) in pixels of a panel whose longer side is ``panel_px``."""
    h = shape_2d[0] * aspect
    w = float(shape_2d[1])
    scale = panel_px / max(h, w)
    return max(1, int(round(h * scale))), max(1, int(round(w * scale)))


def _projected_spacing(axis: str, voxel_size_um: Sequence[float]) -> float:
    """Row/column spacing ratio of the projected image (for its display aspect)."""
    keep = [i for i in range(3) if i != AXES[axis]]
    return float(voxel_size_um[keep[0]]) / float(voxel_size_um[keep[1]])


def _panel_grid(shape_zyx, axes, n_cols, voxel_size_um, panel_px):
    rows = []
    for axis in axes:
        keep = [s for i, s in enumerate(shape_zyx) if i != AXES[axis]]
        rows.append(_panel_shape_px(tuple(keep), _projected_spacing(axis, voxel_size_um), panel_px))
    width = max(n_cols * (w + PAD_PX) + PAD_PX for _, w in rows)
    height = TITLE_PX + sum(h + LABEL_PX + PAD_PX for h, _ in rows) + LEGEND_PX
    return rows, width, height


def preview_size_px(
    shape_zyx: Sequence[int],
    n_columns: int,
    axes: Sequence[str] = ("z",),
    voxel_size_um: Sequence[float] = (1.0, 1.0, 1.0),
    panel_px: int = 400,
) -> tuple[int, int]:
    """(width, height) in pixels of the PNG :func:`save_preview_png` writes."""
    _, width, height = _panel_grid(tuple(shape_zyx), tuple(axes), n_columns, voxel_size_um, panel_px)
    return width, height


def render_panels(
    raw_zyx, prob_zyx=None, skeleton_zyx=None, axis: str = "z", max_side_px: int = 2048
) -> list[tuple[str, np.ndarray]]:
    """RGB images (float in [0, 1]) for one projection axis: raw, +probability, +skeleton."""
    raw = _contrast(mip(raw_zyx, axis, max_side_px))
    gray = np.repeat(raw[..., None], 3, axis=-1)
    panels = [(f"raw MIP ({axis})", gray)]
    if prob_zyx is not None:
        p = _unit_scale(mip(prob_zyx, axis, max_side_px))[..., None]
        alpha = PROB_ALPHA * p
        blend = np.clip(gray * (1 - alpha) + alpha * PROB_RGB, 0.0, 1.0)
        panels.append((f"raw + probability MIP ({axis})", blend))
    if skeleton_zyx is not None:
        s = mip(skeleton_zyx, axis, max_side_px) > 0
        rgb = gray.copy()
        rgb[s] = SKEL_RGB
        panels.append((f"raw + skeleton MIP ({axis})", rgb))
    return panels


def save_preview_png(
    path: str | Path,
    raw_zyx: np.ndarray | da.Array,
    prob_zyx: np.ndarray | da.Array | None = None,
    skeleton_zyx: np.ndarray | da.Array | None = None,
    title: str | None = None,
    axes: Sequence[str] = ("z",),
    voxel_size_um: Sequence[float] | None = None,
    panel_px: int = 400,
    announce: bool = True,
) -> Path:
    """Write a PNG of maximum-intensity projections, atomically (temp file + ``os.replace``).

    Parameters
    ----------
    path
        Output ``.png`` file. Its folder must exist.
    raw_zyx
        Raw intensities, 3-D (z, y, x), numpy or dask (reduced chunk-wise, never loaded whole).
    prob_zyx
        Optional foreground probability in [0, 1] (or a 0/255 mask), same shape as ``raw_zyx``;
        drawn in magenta over the raw projection.
    skeleton_zyx
        Optional skeleton (non-zero = skeleton), same shape; drawn in green over the raw.
    title
        Text on top of the picture.
    axes
        Projection axes, one row each: any of ``"z"``, ``"y"``, ``"x"``.
    voxel_size_um
        (z, y, x) voxel size, only for the display aspect of each panel. Default isotropic.
    panel_px
        Size of each panel's longer side in pixels.
    announce
        Log the written path (callers that write into a temporary folder and move it
        afterwards pass False and log the final path themselves).

    Returns
    -------
    Path
        The written PNG. Its size is :func:`preview_size_px`.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    path = Path(path)
    shape = tuple(raw_zyx.shape)
    if len(shape) != 3:
        raise ValueError(f"raw_zyx must be 3-D (z, y, x), got shape {shape}")
    for name, other in (("prob_zyx", prob_zyx), ("skeleton_zyx", skeleton_zyx)):
        if other is not None and tuple(other.shape) != shape:
            raise ValueError(f"{name} has shape {tuple(other.shape)}, raw_zyx has {shape}")
    axes = tuple(axes)
    bad = [a for a in axes if a not in AXES]
    if bad or not axes:
        raise ValueError(f"axes must be a non-empty subset of 'z', 'y', 'x', got {axes}")
    voxel = tuple(voxel_size_um) if voxel_size_um is not None else (1.0, 1.0, 1.0)
    n_cols = 1 + (prob_zyx is not None) + (skeleton_zyx is not None)
    rows, width, height = _panel_grid(shape, axes, n_cols, voxel, panel_px)

    dpi = 100
    # +0.1 px guards against float round-down when the Agg canvas truncates width * dpi.
    fig = Figure(figsize=((width + 0.1) / dpi, (height + 0.1) / dpi), dpi=dpi, facecolor="black")
    if title:
        fig.text(PAD_PX / width, 1 - 13 / height, title, color="white", fontsize=11, va="center", ha="left")
    fig.text(PAD_PX / width, 1 - 33 / height, describe(shape, axes), color="#bbbbbb", fontsize=8,
             va="center", ha="left")
    top = TITLE_PX
    for axis, (ph, pw) in zip(axes, rows):
        for col, (label, rgb) in enumerate(
            render_panels(raw_zyx, prob_zyx, skeleton_zyx, axis, max_side_px=panel_px)
        ):
            left = PAD_PX + col * (pw + PAD_PX)
            fig.text(left / width, 1 - (top + LABEL_PX / 2) / height, label, color="white",
                     fontsize=8, va="center", ha="left")
            # figimage places pixels 1:1 (origin bottom-left): no resampling by matplotlib.
            fig.figimage(_resize_nearest(rgb, ph, pw), xo=left,
                         yo=height - (top + LABEL_PX + ph), origin="upper")
        top += LABEL_PX + ph + PAD_PX
    raw_limits = _contrast_limits(mip(raw_zyx, axes[0], panel_px))
    _draw_colour_bars(fig, rows[0][1], raw_limits, axes[0], prob_zyx is not None,
                      skeleton_zyx is not None)

    save_figure_png(fig, path, dpi=dpi, facecolor="black")
    if announce:
        logger.info("wrote preview %s (%d x %d px)", path, width, height)
    return path


def describe(shape_zyx: Sequence[int], axes: Sequence[str]) -> str:
    """The line under the title: what the panels are."""
    spans = ", ".join(f"along {a} over {shape_zyx[AXES[a]]} slices" for a in axes)
    return f"maximum-intensity projections (MIP) {spans}; colour bars below"


def _draw_colour_bars(fig, panel_w: int, raw_limits: tuple[float, float], axis: str,
                      with_prob: bool, with_skeleton: bool) -> None:
    """Under each column of the first row: its colour ramp and what the colours mean.

    Text is placed in pixels (identity transform), so a column's legend is the same pixels
    whatever the picture's width."""
    from matplotlib.transforms import IdentityTransform

    pixels = IdentityTransform()
    bar_w = max(20, min(160, panel_w - 2 * PAD_PX))
    y_bar = LEGEND_PX - PAD_PX - BAR_PX            # from the bottom edge, pixels
    ramp = np.linspace(0.0, 1.0, bar_w, dtype=np.float32)
    entries = [(np.repeat(ramp[:, None], 3, axis=1),
                f"raw {axis}-MIP: {raw_limits[0]:.4g} … {raw_limits[1]:.4g}", ("0.5 %ile", "99.8 %ile"))]
    if with_prob:
        entries.append((PROB_ALPHA * ramp[:, None] * PROB_RGB[None, :], "probability p (magenta)", ("0", "1")))
    if with_skeleton:
        entries.append((np.tile(SKEL_RGB, (bar_w, 1)), "skeleton (green)", ("", "")))
    for col, (colours, caption, (left_tick, right_tick)) in enumerate(entries):
        left = PAD_PX + col * (panel_w + PAD_PX)
        bar = np.repeat(colours[None, :, :], BAR_PX, axis=0)
        fig.figimage(np.clip(bar, 0.0, 1.0), xo=left, yo=y_bar, origin="upper")
        fig.text(left + bar_w + 6, y_bar + BAR_PX / 2, caption, color="white", fontsize=7, va="center",
                 ha="left", transform=pixels)
        for tick, x, ha in ((left_tick, left, "left"), (right_tick, left + bar_w, "right")):
            if tick:
                fig.text(x, y_bar - 7, tick, color="#bbbbbb", fontsize=6, va="center", ha=ha, transform=pixels)


def parse_region(text: str, shape_zyx: Sequence[int]) -> tuple[slice, slice, slice]:
    """Parse ``"z0:z1,y0:y1,x0:x1"`` (empty bounds allowed) into slices, checked against shape.

    Raises ``ValueError`` for bounds outside the volume or empty ranges (no wrap-around).
    """
    parts = text.split(",")
    if len(parts) != 3:
        raise ValueError(f"region {text!r}: expected 'z0:z1,y0:y1,x0:x1'")
    slices = []
    for name, part, size in zip("zyx", parts, shape_zyx):
        bounds = part.split(":")
        if len(bounds) != 2:
            raise ValueError(f"region {text!r}: {name} range {part!r} is not 'start:stop'")
        try:
            start = int(bounds[0]) if bounds[0].strip() else 0
            stop = int(bounds[1]) if bounds[1].strip() else int(size)
        except ValueError as exc:
            raise ValueError(f"region {text!r}: {name} range {part!r} is not integer") from exc
        if not 0 <= start < stop <= size:
            raise ValueError(
                f"region {text!r}: {name} range {start}:{stop} is outside 0:{size} or empty"
            )
        slices.append(slice(start, stop))
    return tuple(slices)
