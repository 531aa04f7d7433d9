"""Write chunked OME-Zarr volumes (NGFF 0.5 on zarr v3, or NGFF 0.4 on zarr v2): create, write, pyramids, labels.

An OME-Zarr here is a zarr group with arrays ``0``, ``1``, ... (level 0 full resolution,
each further level a 2x2x2 reduction of the previous one) and ``multiscales`` metadata in
micrometres. Every level carries a ``scale`` and a ``translation``: level ``k`` voxel ``j``
has its centre at ``translation_k + j * scale_k`` µm, in the physical frame of level 0 of
the brain it was computed from. A 2x2x2 reduction starting at voxel 0 puts the centre of
coarse voxel ``j`` at the mean of its fine voxels' centres, so
``translation_k = origin + (2**k - 1) / 2 * voxel_size`` (the levels overlay exactly when
zooming). A grid of cells of ``c`` voxels (density maps) uses ``scale = c * voxel`` and
``translation = (c - 1) / 2 * voxel``: cell ``i`` covers voxels ``[i*c, (i+1)*c)``.

A label image (the predicted mask) lives under the image it was computed from, as NGFF
asks: ``image.ome.zarr/labels/<name>``, with ``image-label`` colours, so napari
(napari-ome-zarr) shows it as a Labels layer over the image.

:class:`ZarrFormat` chooses the NGFF version (``"0.5"``: zarr v3, the default; ``"0.4"``:
zarr v2 with ``/`` chunk keys and Blosc-zstd, which Fiji's n5-zarr, BigDataViewer and
MoBIE read) and optional zarr v3 sharding (many chunks in one file, for HPC file systems;
writers must then write whole shards: one writer per shard).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import zarr

logger = logging.getLogger(__name__)

AXES = ("z", "y", "x")
NGFF_VERSIONS = ("0.4", "0.5")
# label value -> RGBA; 0 transparent. The mask stores 255 for axon so that tools reading
# uint8 as probability * 255 (density, evaluate, preview) still threshold it correctly.
MASK_COLORS = {0: (0, 0, 0, 0), 255: (255, 0, 255, 255)}
#: ``omero`` colour of the probability (green under the magenta mask; the input is grey).
PROBABILITY_COLOR = "00FF00"


@dataclass(frozen=True)
class ZarrFormat:
    """How an OME-Zarr is stored: NGFF version (and with it the zarr format) and optional shards.

    ``shard_shape_vox`` (z, y, x), NGFF 0.5 only, must be a whole multiple of the chunk shape.
    """

    ngff_version: str = "0.5"
    shard_shape_vox: tuple[int, int, int] | None = None

    def __post_init__(self):
        if self.ngff_version not in NGFF_VERSIONS:
            raise ValueError(f"ngff_version must be one of {NGFF_VERSIONS}, got {self.ngff_version!r}")
        if self.shard_shape_vox is not None:
            if self.ngff_version != "0.5":
                raise ValueError("sharding needs zarr v3 (ngff_version 0.5); NGFF 0.4 is zarr v2")
            if len(self.shard_shape_vox) != 3 or any(int(s) < 1 for s in self.shard_shape_vox):
                raise ValueError(f"shard shape must be 3 positive sizes (z, y, x), got {self.shard_shape_vox}")
            object.__setattr__(self, "shard_shape_vox", tuple(int(s) for s in self.shard_shape_vox))

    @property
    def zarr_format(self) -> int:
        return 3 if self.ngff_version == "0.5" else 2

    def check_chunks(self, chunk_shape_zyx: Sequence[int]) -> None:
        """Raise unless the shard shape is a whole multiple of ``chunk_shape_zyx``."""
        if self.shard_shape_vox is not None and any(s % c for s, c in zip(self.shard_shape_vox, chunk_shape_zyx)):
            raise ValueError(f"shard shape {self.shard_shape_vox} is not a whole multiple of the chunk shape "
                             f"{tuple(chunk_shape_zyx)}")


def level_transforms(voxel_size_um: Sequence[float], level: int,
                     origin_um: Sequence[float] = (0.0, 0.0, 0.0)) -> list[dict]:
    """``scale`` and ``translation`` of pyramid level ``level`` (2x2x2 reductions from voxel 0)."""
    f = 2 ** level
    return [{"type": "scale", "scale": [float(v) * f for v in voxel_size_um]},
            {"type": "translation", "translation": [float(o) + (f - 1) / 2 * float(v)
                                                    for o, v in zip(origin_um, voxel_size_um)]}]


def cell_grid_transforms(voxel_size_um: Sequence[float], cell_vox: Sequence[int]) -> tuple[list[float], list[float]]:
    """(cell size µm, origin µm) of a grid whose cell ``i`` covers voxels ``[i*c, (i+1)*c)`` of the brain."""
    cell_um = [float(c) * float(v) for c, v in zip(cell_vox, voxel_size_um)]
    origin = [(int(c) - 1) / 2 * float(v) for c, v in zip(cell_vox, voxel_size_um)]
    return cell_um, origin


def multiscales_metadata(name: str, voxel_size_um: Sequence[float], num_levels: int,
                         downsample: str = "mean", ngff_version: str = "0.5",
                         origin_um: Sequence[float] = (0.0, 0.0, 0.0), description: str | None = None,
                         omero: dict | None = None) -> dict:
    """``multiscales`` attributes (NGFF 0.5: under ``ome``; 0.4: at the top level).

    ``type`` and ``metadata`` are always written (strict NGFF validation asks for both): a
    single level has ``type`` ``"none"`` (no pyramid, no downsampling method claimed);
    ``description`` goes into ``metadata``. ``omero`` (see :func:`omero_metadata`): channel
    colour and contrast window for generic viewers.
    """
    datasets = [{"path": str(k), "coordinateTransformations": level_transforms(voxel_size_um, k, origin_um)}
                for k in range(num_levels)]
    ms: dict = {"name": name,
                "axes": [{"name": a, "type": "space", "unit": "micrometer"} for a in AXES],
                "datasets": datasets}
    if num_levels > 1:
        ms["type"] = downsample
        meta: dict = {"method": f"2x2x2 {downsample} from voxel 0 (axonseg)"}
    else:
        ms["type"] = "none"
        meta = {"method": "single level, no pyramid (axonseg)"}
    if description:
        meta["description"] = description
    ms["metadata"] = meta
    if ngff_version == "0.4":
        out: dict = {"multiscales": [{"version": "0.4", **ms}]}
        if omero is not None:
            out["omero"] = omero
        return out
    ome: dict = {"version": "0.5", "multiscales": [ms]}
    if omero is not None:
        ome["omero"] = omero
    return {"ome": ome}


def omero_metadata(label: str, color_hex: str, window: Sequence[float]) -> dict:
    """NGFF ``omero`` block of a one-channel image: colour (``RRGGBB``) and contrast window.

    ``window`` is (min, max, start, end): the value range and the displayed range, which
    napari-ome-zarr and other generic viewers use as contrast limits.
    """
    lo, hi, start, end = (float(v) for v in window)
    return {"channels": [{"label": label, "color": color_hex, "active": True, "coefficient": 1.0,
                          "family": "linear", "inverted": False,
                          "window": {"min": lo, "max": hi, "start": start, "end": end}}],
            "rdefs": {"model": "color", "defaultZ": 0, "defaultT": 0}}


def set_omero(path: str | Path, omero: dict) -> None:
    """Add (or replace) the ``omero`` block of the OME-Zarr image at ``path``."""
    group = zarr.open_group(str(path), mode="r+")
    attrs = dict(group.attrs)
    if "ome" in attrs:
        group.attrs["ome"] = {**attrs["ome"], "omero": omero}
    else:
        group.attrs["omero"] = omero


def create_cell_map(path: str | Path, data: np.ndarray, voxel_size_um: Sequence[float], cell_vox: Sequence[int],
                    name: str, description: str, fmt: ZarrFormat = ZarrFormat(),
                    origin_um: Sequence[float] = (0.0, 0.0, 0.0)) -> None:
    """Write ``data``, one value per cell of ``cell_vox`` voxels of a brain, as a one-level OME-Zarr.

    Cell ``i`` covers voxels ``[i*c, (i+1)*c)``: scale ``c * voxel``, translation ``origin_um +
    (c - 1) / 2 * voxel`` (``origin_um``: the brain's voxel-0 centre), so the map overlays the brain.
    Unsharded, in the NGFF version of ``fmt``.
    """
    cell_um, half_cell = cell_grid_transforms(voxel_size_um, cell_vox)
    origin = [float(o) + h for o, h in zip(origin_um, half_cell)]
    create_ome_zarr(path, data.shape, (64, 64, 64), data.dtype, cell_um, 1, name=name,
                    fmt=ZarrFormat(fmt.ngff_version), origin_um=origin, description=description)
    write_region(path, tuple(slice(0, n) for n in data.shape), data)


def num_pyramid_levels(shape_zyx: Sequence[int], max_levels: int, min_side: int = 32) -> int:
    """Levels to build: at most ``max_levels``, stopping before any axis gets below ``min_side``."""
    levels, shape = 1, list(shape_zyx)
    while levels < max_levels and min(s // 2 for s in shape) >= min_side:
        shape = [s // 2 for s in shape]
        levels += 1
    return levels


def _create_levels(group: zarr.Group, shape_zyx: Sequence[int], chunk_shape_zyx: Sequence[int], dtype,
                   num_levels: int, fmt: ZarrFormat) -> None:
    shape = tuple(int(s) for s in shape_zyx)
    for level in range(num_levels):
        lshape = tuple(max(1, s // 2 ** level) for s in shape)
        chunks = tuple(min(int(c), s) for c, s in zip(chunk_shape_zyx, lshape))
        if fmt.zarr_format == 2:
            import numcodecs

            group.create_array(str(level), shape=lshape, chunks=chunks, dtype=dtype, fill_value=0,
                               chunk_key_encoding={"name": "v2", "separator": "/"},
                               compressors=numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE))
            continue
        shards = None
        if fmt.shard_shape_vox is not None:
            # whole chunks per shard, no bigger than the level needs
            shards = tuple(min(sh, -(-s // c) * c) for sh, s, c in zip(fmt.shard_shape_vox, lshape, chunks))
            shards = tuple(max(c, sh // c * c) for sh, c in zip(shards, chunks))
        group.create_array(str(level), shape=lshape, chunks=chunks, shards=shards, dtype=dtype, fill_value=0,
                           dimension_names=AXES)


def create_ome_zarr(path: str | Path, shape_zyx: Sequence[int], chunk_shape_zyx: Sequence[int], dtype,
                    voxel_size_um: Sequence[float], num_levels: int, name: str,
                    attributes: dict | None = None, downsample: str = "mean", fmt: ZarrFormat = ZarrFormat(),
                    origin_um: Sequence[float] = (0.0, 0.0, 0.0), description: str | None = None,
                    in_existing_folder: bool = False, omero: dict | None = None) -> zarr.Group:
    """Create an empty OME-Zarr group with level 0 and ``num_levels - 1`` (empty) pyramid levels.

    ``path`` must not exist (``in_existing_folder``: or be a folder holding no zarr node, e.g. a
    resumable staging folder). Level ``k`` has shape ``shape // 2**k`` (odd voxels trimmed).
    ``origin_um`` is the centre of voxel 0 in the physical frame (µm).
    """
    path = Path(path)
    if path.exists() and not (in_existing_folder and path.is_dir()
                              and not any((path / m).exists() for m in ("zarr.json", ".zattrs", ".zgroup"))):
        raise FileExistsError(f"{path}: exists")
    fmt.check_chunks(chunk_shape_zyx)
    attrs = multiscales_metadata(name, voxel_size_um, num_levels, downsample, fmt.ngff_version, origin_um,
                                 description, omero)
    attrs.update(attributes or {})
    # checked above that no zarr node is there: "a" only tolerates the folder's other files
    group = zarr.open_group(str(path), mode="a" if in_existing_folder else "w-", zarr_format=fmt.zarr_format,
                            attributes=attrs)
    _create_levels(group, shape_zyx, chunk_shape_zyx, dtype, num_levels, fmt)
    return group


def image_format(path: str | Path) -> tuple[ZarrFormat, dict]:
    """The :class:`ZarrFormat` and the (first) ``multiscales`` entry of the OME-Zarr image at ``path``."""
    group = zarr.open_group(str(path), mode="r")
    attrs = dict(group.attrs)
    if "ome" in attrs:
        ms = attrs["ome"]["multiscales"][0]
        level0 = group[ms["datasets"][0]["path"]]
        return ZarrFormat("0.5", getattr(level0, "shards", None)), ms
    if "multiscales" not in attrs:
        raise ValueError(f"{path}: not an OME-Zarr image (no multiscales metadata)")
    return ZarrFormat("0.4"), attrs["multiscales"][0]


def create_label(image_path: str | Path, name: str, colors: dict[int, Sequence[int]] | None = None,
                 dtype=np.uint8, downsample: str = "max", description: str | None = None) -> Path:
    """Create the empty label image ``image_path/labels/<name>`` of the same grid as the image.

    Same shape, chunks, shards, levels and coordinate transformations as the image, NGFF
    ``image-label`` metadata with ``colors`` (label value -> RGBA 0-255) and ``source``
    pointing back at the image. Returns the label's path (fill it like any level array).
    """
    image_path = Path(image_path)
    fmt, ms = image_format(image_path)
    group = zarr.open_group(str(image_path), mode="r+")
    levels = [group[d["path"]] for d in ms["datasets"]]
    t0 = ms["datasets"][0]["coordinateTransformations"]
    voxel = next(t["scale"] for t in t0 if t["type"] == "scale")
    origin = next((t["translation"] for t in t0 if t["type"] == "translation"), (0.0, 0.0, 0.0))
    colors = MASK_COLORS if colors is None else colors
    image_label = {"colors": [{"label-value": int(k), "rgba": [int(c) for c in v]} for k, v in colors.items()],
                   "source": {"image": "../../"}}
    attrs = multiscales_metadata(name, voxel, len(levels), downsample, fmt.ngff_version, origin, description)
    if fmt.ngff_version == "0.4":
        attrs["image-label"] = {"version": "0.4", **image_label}
    else:
        attrs["ome"]["image-label"] = image_label
    if "labels" in group:
        labels_group = group["labels"]
        listed = list((dict(labels_group.attrs).get("ome") or labels_group.attrs).get("labels", []))
    else:
        labels_group = group.create_group("labels")
        listed = []
    if name in labels_group:
        raise FileExistsError(f"{image_path / 'labels' / name}: exists")
    listed = listed + [name]
    labels_group.attrs.update({"ome": {"version": "0.5", "labels": listed}} if fmt.ngff_version == "0.5"
                              else {"labels": listed})
    label = labels_group.create_group(name, attributes=attrs)
    _create_levels(label, levels[0].shape, levels[0].chunks, dtype, len(levels), fmt)
    return image_path / "labels" / name


def open_level(path: str | Path, level: int = 0, mode: str = "r") -> zarr.Array:
    """Array ``level`` of an OME-Zarr group."""
    return zarr.open_array(str(Path(path) / str(level)), mode=mode)


def write_region(path: str | Path, slices_zyx: tuple[slice, ...], data: np.ndarray, level: int = 0) -> None:
    """Write ``data`` into ``slices_zyx`` of level ``level`` (callers keep regions shard/chunk-aligned)."""
    arr = open_level(path, level, mode="r+")
    try:
        arr[slices_zyx] = data
    except OSError as exc:  # a full disk names no file by itself
        from axonseg.io.write_errors import named_write_error

        raise named_write_error(exc, Path(path) / str(level)) from exc


def write_unit(arr: zarr.Array) -> tuple[int, ...]:
    """The smallest region one writer may own: the shard shape if sharded, else the chunk shape."""
    return tuple(getattr(arr, "shards", None) or arr.chunks)


def level0_origin_um(path: str | Path) -> tuple[float, float, float]:
    """Centre of voxel 0 (µm) recorded by the OME-Zarr image at ``path``; zeros for anything else.

    Outputs computed from a volume (probability, density) use it so they share its frame.
    """
    path = Path(path)
    if not (path.is_dir() and any((path / f).exists() for f in ("zarr.json", ".zattrs"))):
        return (0.0, 0.0, 0.0)
    try:
        _, ms = image_format(path)
    except (ValueError, KeyError, TypeError):  # a plain zarr array/group: no frame recorded
        return (0.0, 0.0, 0.0)
    for t in ms["datasets"][0].get("coordinateTransformations", []):
        if t.get("type") == "translation":
            return tuple(float(v) for v in t["translation"][-3:])
    return (0.0, 0.0, 0.0)


def image_ngff_version(path: str | Path) -> str | None:
    """NGFF version (``"0.4"`` / ``"0.5"``) of the OME-Zarr image at ``path``; ``None`` for anything else
    (a TIFF, HDF5, a plain zarr array). Outputs computed from an image follow its version by default."""
    path = Path(path)
    if not (path.is_dir() and any((path / f).exists() for f in ("zarr.json", ".zattrs"))):
        return None
    try:
        fmt, _ = image_format(path)
    except (ValueError, KeyError, TypeError, IndexError):  # a plain zarr array/group: no NGFF version
        return None
    return fmt.ngff_version
