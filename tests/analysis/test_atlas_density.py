"""Per-region axon length and density in atlas terms, with a tiny BrainGlobe atlas written here in
BrainGlobe's folder format (metadata.json, structures.json, annotation/reference/hemispheres.tiff).

Hand-computed oracle: voxel (4, 2, 2) µm = 16e-9 mm³. One straight 1-voxel axon of 26 voxels
along y in MOp (25 edges x 2 µm = 50 µm) and one of 6 voxels along x in TH (5 x 2 µm = 10 µm).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from axonseg.cli.density import main as density_main

VOXEL = (4.0, 2.0, 2.0)
VOXEL_MM3 = 4 * 2 * 2 * 1e-9
SHAPE = (20, 30, 24)
STRUCTURES = [  # id, acronym, name, structure_id_path
    (997, "root", "root", [997]),
    (688, "CTX", "Cerebral cortex", [997, 688]),
    (985, "MOp", "Primary motor area", [997, 688, 985]),
    (322, "SSp", "Primary somatosensory area", [997, 688, 322]),
    (549, "TH", "Thalamus", [997, 549]),
]


def write_brainglobe_atlas(folder: Path, shape=(8, 10, 12)) -> Path:
    """A BrainGlobe atlas folder of the format brainglobe-atlasapi reads (``core.Atlas``)."""
    folder.mkdir(parents=True)
    meta = {"name": "tiny_test_mouse_25um", "citation": "unpublished", "atlas_link": "", "species": "Mus musculus",
            "symmetric": False, "resolution": [25.0, 25.0, 25.0], "orientation": "asr", "version": "1.0",
            "shape": list(shape), "transform_to_bg": np.eye(4).tolist(), "additional_references": []}
    (folder / "metadata.json").write_text(json.dumps(meta))
    (folder / "structures.json").write_text(json.dumps([
        {"id": i, "acronym": a, "name": n, "structure_id_path": p, "rgb_triplet": [255, 255, 255]}
        for i, a, n, p in STRUCTURES]))
    annotation = np.zeros(shape, np.uint32)
    annotation[:, :, :4], annotation[:, :, 4:8], annotation[:, :, 8:] = 985, 322, 549
    tifffile.imwrite(folder / "annotation.tiff", annotation)
    tifffile.imwrite(folder / "reference.tiff", np.full(shape, 100, np.uint16))
    tifffile.imwrite(folder / "hemispheres.tiff", np.ones(shape, np.uint8))
    return folder


def _registered_annotation() -> np.ndarray:
    """Atlas ids on the brain's grid: z < 2 outside (0); x < 8 MOp, 8 <= x < 16 SSp, x >= 16 TH."""
    ann = np.zeros(SHAPE, np.uint32)
    ann[2:, :, :8], ann[2:, :, 8:16], ann[2:, :, 16:] = 985, 322, 549
    return ann


def _probability() -> np.ndarray:
    prob = np.zeros(SHAPE, np.uint8)
    prob[10, 2:28, 4] = 255        # MOp: 26 voxels along y
    prob[10, 15, 17:23] = 255      # TH: 6 voxels along x
    return prob


@pytest.fixture
def inputs(tmp_path):
    from axonseg.io.ome_zarr import create_ome_zarr, open_level

    create_ome_zarr(tmp_path / "prob.ome.zarr", SHAPE, (10, 16, 16), np.uint8, VOXEL, 1, "probability")
    open_level(tmp_path / "prob.ome.zarr", 0, "r+")[...] = _probability()
    tifffile.imwrite(tmp_path / "registered_atlas.tiff", _registered_annotation())
    atlas = write_brainglobe_atlas(tmp_path / "tiny_test_mouse_25um_v1.0")
    return tmp_path, atlas


def _rows(path: Path) -> dict[str, dict]:
    return {r["acronym"] or "outside": r for r in csv.DictReader(path.open())}


def test_regions_in_atlas_terms_hand_computed(inputs):
    root, atlas = inputs
    out = root / "density"
    rc = density_main([str(root / "prob.ome.zarr"), "--out", str(out), "--cell-size-um", "8",
                       "--atlas", str(root / "registered_atlas.tiff"), "--brainglobe-atlas", str(atlas)])
    assert rc == 0
    rows = _rows(out / "regions.csv")
    assert list(next(iter(rows.values()))) == ["id", "acronym", "name", "voxels", "volume_mm3", "axon_voxels",
                                              "axon_fraction", "length_mm", "length_density_mm_per_mm3"]
    assert set(rows) == {"outside", "MOp", "SSp", "TH"}
    mop, th, ssp = rows["MOp"], rows["TH"], rows["SSp"]
    assert (mop["id"], mop["name"]) == ("985", "Primary motor area")
    assert int(mop["voxels"]) == 18 * 30 * 8 and int(rows["outside"]["voxels"]) == 2 * 30 * 24
    assert float(mop["volume_mm3"]) == pytest.approx(18 * 30 * 8 * VOXEL_MM3)
    assert int(mop["axon_voxels"]) == 26 and int(th["axon_voxels"]) == 6
    assert float(mop["length_mm"]) == pytest.approx(0.050, rel=1e-5)
    assert float(th["length_mm"]) == pytest.approx(0.010, rel=1e-5)
    assert float(ssp["length_mm"]) == 0.0
    assert float(mop["length_density_mm_per_mm3"]) == pytest.approx(0.050 / (18 * 30 * 8 * VOXEL_MM3), rel=1e-5)

    tree = _rows(out / "regions_hierarchy.csv")
    assert set(tree) == {"root", "CTX", "MOp", "SSp", "TH"}        # parents get the totals of their parts
    assert int(tree["CTX"]["voxels"]) == 18 * 30 * 16 and tree["CTX"]["depth"] == "1"
    assert float(tree["CTX"]["length_mm"]) == pytest.approx(0.050, rel=1e-5)
    assert float(tree["root"]["length_mm"]) == pytest.approx(0.060, rel=1e-5)
    assert int(tree["root"]["voxels"]) == 18 * 30 * 24
    summary = json.loads((out / "density.json").read_text())
    assert summary["atlas"]["name"] == "tiny_test_mouse_25um" and summary["regions"] == 4


def test_unknown_region_id_is_one_error_and_no_output(inputs, capsys):
    root, atlas = inputs
    ann = _registered_annotation()
    ann[5, 5, 5] = 12345                       # e.g. from linear interpolation
    tifffile.imwrite(root / "bad.tiff", ann)
    out = root / "density"
    rc = density_main([str(root / "prob.ome.zarr"), "--out", str(out), "--atlas", str(root / "bad.tiff"),
                       "--brainglobe-atlas", str(atlas)])
    # the progress bar (stderr, \r-updated) may run before the annotation's ids are checked
    err = "\n".join(line.split("\r")[-1] for line in capsys.readouterr().err.strip().splitlines()
                    if not line.split("\r")[-1].startswith("density blocks"))
    assert rc == 1 and len(err.splitlines()) == 1, err
    assert "bad.tiff" in err and "12345" in err and "structures.json" in err
    assert not out.exists() and not [p for p in root.iterdir() if p.name.startswith(".density")]


@pytest.mark.parametrize("case", ["no_structures", "no_annotation", "float_annotation"])
def test_bad_atlas_input_is_one_error(inputs, capsys, case):
    root, atlas = inputs
    args = [str(root / "prob.ome.zarr"), "--out", str(root / "density"), "--brainglobe-atlas", str(atlas)]
    if case == "no_structures":
        (atlas / "structures.json").unlink()
        args += ["--atlas", str(root / "registered_atlas.tiff")]
        expected = "structures.json"
    elif case == "float_annotation":
        tifffile.imwrite(root / "f.tiff", _registered_annotation().astype(np.float32))
        args += ["--atlas", str(root / "f.tiff")]
        expected = "integer region ids"
    else:
        expected = "needs --atlas"
    assert density_main(args) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err
    assert not (root / "density").exists()
