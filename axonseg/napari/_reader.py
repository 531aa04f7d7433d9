"""napari reader: an ``axonseg predict`` output folder (or an ``axonseg density`` folder) as layers.

A prediction folder (``run.json`` + ``probability.ome.zarr``, see
``axonseg.inference.state.OutputLayout``) opens as:

- the input (``input.ome.zarr`` when predict converted it, else the original input if it
  still exists), grey, contrast from the 0.5-99.8 percentiles of its coarsest level;
- the probability, ``magma``, values p in [0, 1] (stored uint8 p x 255), contrast 0..1;
- every NGFF label image of the probability (``labels/<name>``, the mask: 255 = axon) and a
  legacy ``mask.ome.zarr``, as Labels layers in their ``image-label`` colours;
- the density maps of every density folder inside it (``*/density.json``).

Each layer gets the scale and translation (µm) of its OME-Zarr level 0 and the whole pyramid
(multiscale), so all layers overlay in one physical frame. A run that is not complete
(``run.json`` status other than ``complete``) opens with ``[incomplete]`` in the layer names.
The module needs no Qt: it returns napari ``LayerData`` tuples.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

import dask.array as da
import numpy as np

logger = logging.getLogger(__name__)

LayerData = tuple[Any, dict, str]
# colormaps black at 0, so the additive overlay leaves cells without axons untinted
DENSITY_MAPS = {"axon_fraction": "inferno", "axon_length_um": "bop orange"}
COMPLETE = "complete"


def is_prediction_folder(path: Path) -> bool:
    return path.is_dir() and (path / "run.json").is_file() and (path / "probability.ome.zarr").exists()


def is_density_folder(path: Path) -> bool:
    return path.is_dir() and (path / "density.json").is_file()


def napari_get_reader(path: str | list[str]) -> Callable[[str], list[LayerData]] | None:
    """npe2 reader hook: a reader function for an axonseg output folder, else ``None``."""
    if isinstance(path, (list, tuple)):
        if len(path) != 1:
            return None
        path = path[0]
    p = Path(path)
    if is_prediction_folder(p) or is_density_folder(p):
        return read_axonseg_folder
    return None


def read_axonseg_folder(path: str | list[str]) -> list[LayerData]:
    """All layers of a prediction or density folder (see module docstring)."""
    if isinstance(path, (list, tuple)):
        path = path[0]
    p = Path(path)
    if is_prediction_folder(p):
        return prediction_layers(p)
    if is_density_folder(p):
        return density_layers(p)
    raise ValueError(f"{p}: not an axonseg prediction folder (run.json + probability.ome.zarr) "
                     "nor a density folder (density.json)")


def _multiscale(image) -> tuple[list[da.Array] | da.Array, dict]:
    """(data, scale/translate kwargs) of an :class:`NgffImage`; one level is passed as an array."""
    level0 = image.levels[0]
    data = [lv.array for lv in image.levels]
    kwargs = {"scale": tuple(level0.scale_um), "translate": tuple(level0.translation_um),
              "multiscale": len(data) > 1}
    return (data if len(data) > 1 else data[0]), kwargs


def _as_probability(arr: da.Array) -> da.Array:
    """Stored probability -> float32 p in [0, 1] (lazy): uint8 / 255, uint16 / 65535, float as is."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255)
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / np.float32(65535)
    return arr.astype(np.float32)


def _percentile_contrast(arr: da.Array, slices: int = 5, side_px: int = 1024) -> tuple[float, float]:
    """0.5-99.8th percentile over a few evenly spaced z slices, subsampled to <= ``side_px`` per side
    (bounded reading, whatever the volume's size and format)."""
    zs = sorted({int(z) for z in np.linspace(0, arr.shape[0] - 1, min(arr.shape[0], slices))})
    sy, sx = (max(1, -(-n // side_px)) for n in arr.shape[1:])
    sample = np.asarray(arr[zs][:, ::sy, ::sx])
    lo, hi = np.percentile(sample, [0.5, 99.8])
    return float(lo), float(hi if hi > lo else lo + 1)


def _run_status(folder: Path) -> tuple[dict, str]:
    from axonseg.io.files import read_json

    meta = read_json(folder / "run.json")
    return meta, str(meta.get("status", "unknown"))


def _recorded_input(folder: Path, info: dict) -> Path | None:
    """The input ``run.json`` records (absolute since issue 18; older runs recorded it relative to
    where predict ran, tried beside the folder, then in the current folder), or ``None`` (logged)."""
    recorded = Path(info.get("read_from") or info.get("path") or "")
    if not str(recorded) or str(recorded) == ".":
        logger.warning("%s: run.json records no input: no input layer", folder)
        return None
    tried = [recorded] if recorded.is_absolute() else [folder.parent / recorded, Path.cwd() / recorded]
    for candidate in tried:
        if candidate.exists():
            return candidate
    logger.warning("%s: input %s not found (tried %s) and was not converted: no input layer", folder, recorded,
                   ", ".join(str(t) for t in tried))
    return None


def _input_layer(folder: Path, meta: dict, name: str) -> LayerData | None:
    """The converted input (``input.ome.zarr``) or, if predict read it in place, the original input."""
    from axonseg.io import VolumeError, open_volume
    from axonseg.io.ngff_levels import read_ngff_image
    from axonseg.io.volume import is_zarr_path

    info = meta.get("input", {})
    converted = folder / "input.ome.zarr"
    source = converted if converted.exists() else _recorded_input(folder, info)
    if source is None:
        return None
    try:
        image = None
        if is_zarr_path(source):
            try:
                image = read_ngff_image(source)
            except VolumeError:
                image = None  # a plain zarr array, not an OME-Zarr group: open_volume below
        if image is not None:
            data, kwargs = _multiscale(image)
            coarsest = image.levels[-1].array
        else:
            arr, _ = open_volume(source)
            data = coarsest = arr
            kwargs = {"scale": tuple(info.get("voxel_size_um") or (1.0, 1.0, 1.0)), "translate": (0.0, 0.0, 0.0)}
    except VolumeError as exc:
        logger.warning("%s: cannot open the input (%s): no input layer", folder, exc)
        return None
    kwargs.update(name=name, colormap="gray", blending="additive",
                  contrast_limits=_percentile_contrast(coarsest), metadata={"axonseg": "input"})
    return data, kwargs, "image"


def _label_colors(image_label: dict | None) -> dict | None:
    """napari Labels colours ``{value: RGBA 0-1, None: transparent}`` from NGFF ``image-label`` colours."""
    colors = (image_label or {}).get("colors")
    if not colors:
        return None
    out: dict = {None: (0.0, 0.0, 0.0, 0.0)}
    for c in colors:
        out[int(c["label-value"])] = tuple(float(v) / 255.0 for v in c["rgba"])
    return out


def _label_layer(image, name: str) -> LayerData:
    """A Labels layer of an NGFF label image (the mask: 255 = axon), with its stored colours."""
    data, kwargs = _multiscale(image)
    kwargs.update(name=name, opacity=0.6, metadata={"axonseg": "mask", "source": str(image.path)})
    colors = _label_colors(image.image_label)
    if colors is not None:
        kwargs["colormap"] = colors
    return data, kwargs, "labels"


def prediction_layers(folder: str | Path, include_input: bool = True) -> list[LayerData]:
    """Layers of the prediction folder ``folder``: input, probability, mask labels, density maps."""
    from axonseg.io.ngff_levels import read_ngff_image

    folder = Path(folder)
    meta, status = _run_status(folder)
    tag = folder.name + ("" if status == COMPLETE else " [incomplete]")
    if status != COMPLETE:
        logger.warning("%s: prediction is not complete (run.json status %r): layers may be partly empty",
                       folder, status)
    layers: list[LayerData] = []
    if include_input:
        layer = _input_layer(folder, meta, f"{tag} input")
        if layer is not None:
            layers.append(layer)
    prob = read_ngff_image(folder / "probability.ome.zarr")
    data, kwargs = _multiscale(prob)
    data = [_as_probability(a) for a in data] if isinstance(data, list) else _as_probability(data)
    kwargs.update(name=f"{tag} probability", colormap="magma", contrast_limits=(0.0, 1.0),
                  blending="additive", metadata={"axonseg": "probability", "run_status": status})
    layers.append((data, kwargs, "image"))
    for label in prob.label_names:
        image = read_ngff_image(folder / "probability.ome.zarr" / "labels" / label)
        layers.append(_label_layer(image, f"{tag} {label}"))
    legacy_mask = folder / "mask.ome.zarr"
    if legacy_mask.exists() and "mask" not in prob.label_names:
        layers.append(_label_layer(read_ngff_image(legacy_mask), f"{tag} mask"))
    for sub in sorted(p for p in folder.iterdir() if is_density_folder(p)):
        layers.extend(density_layers(sub))
    return layers


def density_layers(folder: str | Path) -> list[LayerData]:
    """Density maps of an ``axonseg density`` folder (one cell per voxel, at the cell size)."""
    from axonseg.io.ngff_levels import read_ngff_image

    folder = Path(folder)
    layers = []
    for name, cmap in DENSITY_MAPS.items():
        path = folder / f"{name}.ome.zarr"
        if not path.exists():
            continue
        image = read_ngff_image(path)
        data, kwargs = _multiscale(image)
        top = float(np.asarray(image.levels[-1].array).max())
        kwargs.update(name=f"{folder.name} {name}", colormap=cmap, blending="additive", opacity=0.7,
                      contrast_limits=(0.0, top if top > 0 else 1.0), visible=name == "axon_fraction",
                      metadata={"axonseg": name})
        layers.append((data, kwargs, "image"))
    return layers
