"""Per-region axon numbers in atlas terms: region names, acronyms and the region hierarchy.

Input: the per-region sums that :func:`axonseg.analysis.density_run.run_density` gathers from
its blocks over an atlas annotation registered to the brain (``{region id: [voxels, axon voxels,
skeleton length µm]}``) and a BrainGlobe atlas
(:func:`axonseg.io.brainglobe_atlas.load_brainglobe_atlas`).

- :func:`region_rows`: one row per region id present in the annotation (its own voxels only).
  Id 0 is outside the atlas. An id the atlas does not know is an error: the annotation is from
  another atlas, or was resampled with interpolation (which invents ids) instead of nearest
  neighbour.
- :func:`hierarchy_rows`: one row per atlas region with voxels in it *or in its descendants*
  (``structure_id_path``), so a coarse region (e.g. Isocortex) gets the totals of its parts.

``regions.csv`` has one schema, :data:`COLUMNS`, whether the names come from a BrainGlobe atlas
(:func:`region_rows`) or from a ``--region-names`` CSV
(:func:`axonseg.analysis.density.region_table`, acronym empty):

- ``id``: region id in the annotation (0: outside the atlas); ``acronym``, ``name``;
- ``voxels``; ``volume_mm3``: voxels x voxel volume;
- ``axon_voxels``; ``axon_fraction``: axon voxels / voxels;
- ``length_mm``: skeleton length; ``length_density_mm_per_mm3``: length_mm / volume_mm3.

``regions_hierarchy.csv`` has the same columns plus ``depth`` after ``name``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from axonseg.io.brainglobe_atlas import AtlasError, BrainGlobeAtlasInfo

OUTSIDE = (0, "", "outside the atlas")
COLUMNS = ("id", "acronym", "name", "voxels", "volume_mm3", "axon_voxels", "axon_fraction", "length_mm",
           "length_density_mm_per_mm3")


def region_numbers(vox: float, axon: float, length_um: float, voxel_mm3: float) -> dict:
    """The numeric columns of :data:`COLUMNS` of one region."""
    volume = vox * voxel_mm3
    length_mm = length_um * 1e-3
    return {"voxels": int(vox), "volume_mm3": volume, "axon_voxels": int(axon),
            "axon_fraction": axon / vox if vox else 0.0, "length_mm": length_mm,
            "length_density_mm_per_mm3": length_mm / volume if vox else 0.0}


def check_ids(stats: dict[int, np.ndarray], atlas: BrainGlobeAtlasInfo, annotation: str) -> None:
    """Raise :class:`AtlasError` naming ``annotation`` if it holds ids the atlas does not know."""
    unknown = sorted(rid for rid in stats if rid != 0 and rid not in atlas.regions)
    if unknown:
        shown = ", ".join(map(str, unknown[:10])) + (" ..." if len(unknown) > 10 else "")
        raise AtlasError(f"{annotation}: {len(unknown)} region id(s) not in the atlas {atlas.name} "
                         f"({atlas.path / 'structures.json'}): {shown}; is the annotation from another atlas, "
                         "or resampled with interpolation instead of nearest neighbour?")


def region_rows(stats: dict[int, np.ndarray], voxel_size_um: Sequence[float], atlas: BrainGlobeAtlasInfo,
                annotation: str = "annotation") -> list[dict]:
    """One row per region id of the annotation (see module docstring), sorted by id."""
    check_ids(stats, atlas, annotation)
    voxel_mm3 = float(np.prod(voxel_size_um)) * 1e-9
    rows = []
    for rid in sorted(stats):
        vox, axon, length = (float(v) for v in stats[rid])
        _, acronym, name = OUTSIDE if rid == 0 else (rid, atlas.regions[rid].acronym, atlas.regions[rid].name)
        rows.append({"id": rid, "acronym": acronym, "name": name, **region_numbers(vox, axon, length, voxel_mm3)})
    return rows


def hierarchy_rows(stats: dict[int, np.ndarray], voxel_size_um: Sequence[float], atlas: BrainGlobeAtlasInfo,
                   annotation: str = "annotation") -> list[dict]:
    """One row per atlas region with voxels in it or its descendants, in atlas order, with ``depth``."""
    check_ids(stats, atlas, annotation)
    voxel_mm3 = float(np.prod(voxel_size_um)) * 1e-9
    totals: dict[int, np.ndarray] = {}
    for rid, values in stats.items():
        if rid == 0:
            continue
        for ancestor in atlas.regions[rid].structure_id_path:
            totals[ancestor] = totals.get(ancestor, 0) + np.asarray(values, np.float64)
    rows = []
    for rid, region in atlas.regions.items():
        if rid in totals:
            vox, axon, length = totals[rid]
            rows.append({"id": rid, "acronym": region.acronym, "name": region.name,
                         "depth": len(region.structure_id_path) - 1, **region_numbers(vox, axon, length, voxel_mm3)})
    return rows
