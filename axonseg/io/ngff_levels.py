"""Read an OME-Zarr image as lazy pyramid levels, each with its physical scale and translation.

Readers that place data in space (the napari plugin) need, per level, where voxel ``j``
lies: ``translation + j * scale`` (µm). NGFF puts this in each dataset's
``coordinateTransformations`` (a ``scale``, optionally followed by a ``translation``),
optionally composed with transformations of the whole ``multiscales`` entry. Both NGFF 0.4
(zarr v2, ``multiscales`` at the top of the attributes) and NGFF 0.5 (zarr v3, under
``ome``) are read, with or without translations, and the names under ``labels/`` (NGFF
label images, e.g. the predicted mask) are listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dask.array as da

from axonseg.io.volume import VolumeError


@dataclass(frozen=True)
class NgffLevel:
    """One pyramid level: a lazy array and its voxel size / voxel-0 centre in µm (axis order of the array)."""

    array: da.Array
    scale_um: tuple[float, ...]
    translation_um: tuple[float, ...]


@dataclass(frozen=True)
class NgffImage:
    """An OME-Zarr image: levels finest first, label names under ``labels/``, ``image-label`` metadata."""

    path: Path
    name: str
    version: str
    axes: tuple[str, ...]
    levels: tuple[NgffLevel, ...]
    label_names: tuple[str, ...]
    image_label: dict | None


def _ome_attrs(attrs: dict) -> tuple[dict, str | None]:
    """The attributes holding NGFF keys (``ome`` for 0.5, the top level for 0.4) and the version."""
    if "ome" in attrs and isinstance(attrs["ome"], dict):
        return attrs["ome"], str(attrs["ome"].get("version", "0.5"))
    if "multiscales" in attrs:
        return attrs, str(attrs["multiscales"][0].get("version", "0.4"))
    return attrs, None


def _compose(transforms: list[dict], ndim: int, where: str) -> tuple[list[float], list[float]]:
    """(scale, translation) of a list of NGFF coordinate transformations applied in order."""
    scale, shift = [1.0] * ndim, [0.0] * ndim
    for t in transforms or []:
        kind = t.get("type")
        if kind == "identity":
            continue
        values = t.get(kind)
        if values is None or len(values) != ndim:
            raise VolumeError(f"{where}: {kind} transformation {t} does not give {ndim} values "
                              "(path-based transformations are not supported)")
        if kind == "scale":
            scale = [s * float(v) for s, v in zip(scale, values)]
            shift = [o * float(v) for o, v in zip(shift, values)]
        elif kind == "translation":
            shift = [o + float(v) for o, v in zip(shift, values)]
        else:
            raise VolumeError(f"{where}: unsupported coordinate transformation type {kind!r}")
    return scale, shift


def read_ngff_image(path: str | Path) -> NgffImage:
    """Open the OME-Zarr image (group with ``multiscales``) at ``path`` lazily.

    Raises
    ------
    VolumeError
        If ``path`` is not an OME-Zarr image or its transformations cannot be read.
    """
    import zarr

    path = Path(path)
    if not path.exists():
        raise VolumeError(f"{path}: no such OME-Zarr image")
    try:
        group = zarr.open_group(str(path), mode="r")
    except (FileNotFoundError, ValueError, TypeError) as exc:
        raise VolumeError(f"{path}: not a zarr group ({exc})") from exc
    attrs, version = _ome_attrs(dict(group.attrs))
    multiscales = attrs.get("multiscales")
    if not multiscales:
        raise VolumeError(f"{path}: zarr group without OME-Zarr 'multiscales' metadata")
    ms = multiscales[0]
    axes = tuple(a["name"] if isinstance(a, dict) else str(a) for a in ms.get("axes", []))
    levels = []
    for ds in ms["datasets"]:
        node = group[ds["path"]]
        ndim = node.ndim
        where = f"{path}/{ds['path']}"
        ds_scale, ds_shift = _compose(ds.get("coordinateTransformations", []), ndim, where)
        ms_scale, ms_shift = _compose(ms.get("coordinateTransformations", []), ndim, str(path))
        scale = tuple(m * s for m, s in zip(ms_scale, ds_scale))
        shift = tuple(m * o + t for m, o, t in zip(ms_scale, ds_shift, ms_shift))
        levels.append(NgffLevel(da.from_zarr(node), scale, shift))
    label_names: tuple[str, ...] = ()
    if "labels" in group:
        label_attrs, _ = _ome_attrs(dict(group["labels"].attrs))
        label_names = tuple(label_attrs.get("labels", ()))
    return NgffImage(path, str(ms.get("name", path.name)), version or "?", axes, tuple(levels), label_names,
                     attrs.get("image-label"))
