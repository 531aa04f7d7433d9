"""Read a BrainGlobe atlas from a local folder (never a download): its regions and hierarchy.

A BrainGlobe atlas folder (as ``brainglobe-atlasapi`` keeps them under
``~/.brainglobe/<atlas>_v<version>/``) holds ``metadata.json`` (name, resolution µm, shape,
orientation), ``structures.json`` (one entry per region: ``id``, ``acronym``, ``name``,
``structure_id_path`` from the root down to the region, ``rgb_triplet``), ``annotation.tiff``,
``reference.tiff`` and more. The folder is read with ``brainglobe_atlasapi.core.Atlas``, the
class BrainGlobe itself uses for a local atlas (it never goes online; the downloading
``BrainGlobeAtlas`` is not used). The annotation *registered to a brain* (e.g. brainreg's
``registered_atlas.tiff``: atlas region ids on the brain's voxel grid) is a separate volume
opened like any other (``axonseg.io.open_volume``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from axonseg.errors import AxonsegError

REQUIRED_FILES = ("metadata.json", "structures.json")


class AtlasError(AxonsegError, ValueError):
    """The atlas folder or the annotation does not fit; the message names the file."""


@dataclass(frozen=True)
class AtlasRegion:
    id: int
    acronym: str
    name: str
    structure_id_path: tuple[int, ...]   # root ... this region


@dataclass(frozen=True)
class BrainGlobeAtlasInfo:
    path: Path
    name: str
    resolution_um: tuple[float, ...]
    shape: tuple[int, ...]
    regions: dict[int, AtlasRegion]


def load_brainglobe_atlas(folder: str | Path) -> BrainGlobeAtlasInfo:
    """Regions of the BrainGlobe atlas in the local ``folder``.

    Raises
    ------
    AtlasError
        If the folder is missing, is not a BrainGlobe atlas folder, or its files are malformed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AtlasError(f"{folder}: no such BrainGlobe atlas folder")
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise AtlasError(f"{folder}: not a BrainGlobe atlas folder (no {', '.join(missing)}); give the atlas's "
                         "own folder, e.g. ~/.brainglobe/allen_mouse_25um_v1.2")
    import warnings

    from brainglobe_atlasapi.core import Atlas

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "outdated atlas" notes about optional metadata keys
            atlas = Atlas(folder)
        regions = {}
        for s in atlas.structures_list:
            rid = int(s["id"])
            path = tuple(int(i) for i in s.get("structure_id_path") or (rid,))
            regions[rid] = AtlasRegion(rid, str(s["acronym"]), str(s["name"]), path)
        meta = atlas.metadata
        return BrainGlobeAtlasInfo(folder, str(meta.get("name", folder.name)),
                                   tuple(float(r) for r in meta["resolution"]),
                                   tuple(int(n) for n in meta["shape"]), regions)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise AtlasError(f"{folder}: cannot read the BrainGlobe atlas ({type(exc).__name__}: {exc})") from exc
