"""Bad input, command by command: one line naming the file/option, the documented exit code,
no partial output, and the inputs untouched (hashed before and after).

Each case builds its inputs under ``tmp_path/in`` (read-only for the command) and names its
command line; outputs go to ``tmp_path/out...``. Whatever a case leaves beside its inputs is
partial output, and fails the case.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import tifffile
import zarr

from axonseg.cli.main import main as axonseg_main
from tests.inference.helpers import write_model


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[Path, Path], list[str]]  # (input folder, model) -> argv (with "{out}" etc.)
    code: int
    says: tuple[str, ...]  # substrings of the one-line message (file/option and problem)


def _stack(d: Path, name: str = "vol.tiff", shape=(8, 24, 24), dtype=np.uint16) -> Path:
    rng = np.random.default_rng(0)
    p = d / name
    tifffile.imwrite(p, rng.integers(100, 2000, size=shape).astype(dtype), photometric="minisblack")
    return p


def _zarr(d: Path, name: str, data: np.ndarray, voxel=(4.0, 2.0, 2.0)) -> Path:
    z = zarr.create_array(str(d / name), shape=data.shape, chunks=(8, 16, 16), dtype=data.dtype,
                          attributes={"voxel_size_um": list(voxel)})
    z[:] = data
    return d / name


def _slices(d: Path, shapes, numbers=None) -> Path:
    folder = d / "slices"
    folder.mkdir()
    for i, shape in zip(numbers or range(len(shapes)), shapes):
        tifffile.imwrite(folder / f"slice_{i:04d}.tif", np.full(shape, 7, np.uint16))
    return folder


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True)
    return p


def _text(d: Path, name: str, text: str) -> Path:
    (d / name).write_text(text)
    return d / name


def _points(d: Path, rows: list[tuple[float, float, int]], name: str = "points.csv") -> Path:
    lines = [" ,Area,Mean,Min,Max,X,Y,Slice"] + [f"{i + 1},0,1,1,1,{x},{y},{s}" for i, (x, y, s) in enumerate(rows)]
    return _text(d, name, "\n".join(lines) + "\n")


def _truncated_tiff(d: Path) -> Path:
    good = _stack(d, "full.tiff")
    data = good.read_bytes()
    good.unlink()
    (d / "cut.tiff").write_bytes(data[: len(data) // 3])
    return d / "cut.tiff"


V = ["--voxel-size-um", "1", "1", "1", "--quiet"]
FAST = ["--chunk", "16", "16", "16", "--block", "16", "32", "32", "--threads", "1", "--no-preview", "--quiet"]


def _predict(inp, model, out, *extra):
    return ["predict", str(inp), "--model", str(model), str(out), *FAST, *extra]


def _nan_zarr(d):
    data = np.random.default_rng(1).random((16, 32, 32)).astype(np.float32)
    data[3, 4, 5] = np.nan
    return _zarr(d, "nan.zarr", data)


class Pickled:
    """Not weights: a checkpoint holding an object must be refused, never unpickled."""


def _evil_pth(d: Path) -> Path:
    import torch

    torch.save({"x": Pickled()}, d / "evil.pth")
    return d / "evil.pth"


def _broken_model(d: Path, m: Path, name: str, weight: float | None = None, patch=None) -> Path:
    """The test model with its first weight tensor filled with ``weight`` and/or its patch size replaced."""
    import torch

    obj = torch.load(m, weights_only=True)
    if weight is not None:
        next(iter(obj["state_dict"].values())).fill_(weight)
    if patch is not None:
        obj["network"]["patch_size_zyx"] = obj["patch_size_zyx"] = list(patch)
    torch.save(obj, d / name)
    return d / name


def _damaged_zarr(d: Path) -> Path:
    """A float zarr whose chunk c/1/0/1 was cut short (a copy interrupted)."""
    z = _float_zarr(d, "bad.zarr")
    chunk = z / "c" / "1" / "0" / "1"
    chunk.write_bytes(chunk.read_bytes()[:40])
    return z


def _dangling(d: Path, name: str) -> Path:
    (d / name).symlink_to(d / "gone" / name)
    return d / name


def _p5_pickle(d: Path) -> Path:
    """A plain pickle (protocol 5) that torch's safe loader cannot read: torch's error advised weights_only=False."""
    import pickle

    (d / "p5.pth").write_bytes(pickle.dumps({"x": bytearray(b"ab")}, protocol=5))
    return d / "p5.pth"


def _float_zarr(d, name="f.zarr"):
    return _zarr(d, name, np.random.default_rng(1).random((16, 32, 32)).astype(np.float32))


def _foreign_run(d: Path, text: str = '{"experiment": 3}') -> Path:
    """A user's folder holding a run.json of another tool, and their results."""
    folder = _mkdir(d / "results")
    _text(folder, "run.json", text)
    _text(folder, "table.csv", "a,b\n1,2\n")
    return folder


def _labels(d: Path, kind: str = "label") -> Path:
    folder = _mkdir(d / "rough")
    mask = np.zeros((12, 16, 16), np.uint8)
    mask[6, 4:12, 3:13] = 255
    tifffile.imwrite(folder / f"{kind}-1.tiff", mask)
    return folder


CASES = [
    # -- convert ---------------------------------------------------------------------------------------------
    Case("convert-missing-input", lambda d, m: ["convert", str(d / "nope.tiff"), "{out}/x.ome.zarr", *V],
         1, ("nope.tiff", "no such")),
    Case("convert-overwrite-folder-holding-input",
         lambda d, m: ["convert", str(_stack(_mkdir(d / "sub"))), str(d), "--overwrite", *V],
         1, ("inside the input",)),
    Case("convert-overwrite-foreign-folder",
         lambda d, m: ["convert", str(_stack(d)), str(_mkdir(d / "mine")), "--overwrite", *V],
         1, ("mine", "not written by")),
    Case("convert-overwrite-a-file",
         lambda d, m: ["convert", str(_stack(d)), str(_text(d, "notes.txt", "x")), "--overwrite", *V],
         1, ("notes.txt", "is a file")),
    Case("convert-existing-without-overwrite",
         lambda d, m: ["convert", str(_stack(d)), str(_mkdir(d / "o.ome.zarr")), *V],
         1, ("o.ome.zarr", "--overwrite")),
    Case("convert-output-is-the-input", lambda d, m: ["convert", str(_stack(d)), str(d / "vol.tiff"), "--overwrite", *V],
         1, ("vol.tiff",)),
    Case("convert-zero-voxel-size", lambda d, m: ["convert", str(_stack(d)), "{out}/x.ome.zarr",
                                                  "--voxel-size-um", "0", "1", "1"], 1, ("voxel size",)),
    Case("convert-negative-voxel-size", lambda d, m: ["convert", str(_stack(d)), "{out}/x.ome.zarr",
                                                      "--voxel-size-um", "-2", "1", "1"], 1, ("voxel size",)),
    Case("convert-tiny-voxel-size", lambda d, m: ["convert", str(_stack(d)), "{out}/x.ome.zarr",
                                                  "--voxel-size-um", "1e-30", "1", "1"], 1,
         ("vol.tiff", "voxel size", "between")),
    # issue 18.50: no "convert-no-voxel-size" row: such a file is converted at 1 µm with a warning, as predict
    # does (tests/io/test_voxel_size_rule.py)
    Case("convert-zero-chunk", lambda d, m: ["convert", str(_stack(d)), "{out}/x.ome.zarr", "--chunk", "0", "16", "16",
                                             *V], 1, ("chunk",)),
    Case("convert-truncated-tiff", lambda d, m: ["convert", str(_truncated_tiff(d)), "{out}/x.ome.zarr", *V], 1,
         ("cut.tiff",)),
    Case("convert-not-a-tiff", lambda d, m: ["convert", str(_text(d, "fake.tif", "hello")), "{out}/x.ome.zarr", *V],
         1, ("fake.tif",)),
    Case("convert-2d-tiff", lambda d, m: ["convert", str(_stack(d, "flat.tiff", shape=(24, 24))), "{out}/x.ome.zarr",
                                          *V], 1, ("flat.tiff", "2-D")),
    Case("convert-slices-of-different-shapes",
         lambda d, m: ["convert", str(_slices(d, [(8, 8), (8, 8), (8, 9)])), "{out}/x.ome.zarr", *V], 1,
         ("slice_0002.tif",)),
    Case("convert-gap-in-slice-numbers",
         lambda d, m: ["convert", str(_slices(d, [(8, 8)] * 3, numbers=[0, 1, 3])), "{out}/x.ome.zarr", *V], 1,
         ("slices", "missing")),
    Case("convert-output-parent-is-a-file",
         lambda d, m: ["convert", str(_stack(d)), str(_text(d, "f.txt", "x") / "x.ome.zarr"), *V], 1,
         ("f.txt", "is a file")),
    Case("convert-dask-zero-workers", lambda d, m: ["convert", str(_stack(d)), "{out}/x.ome.zarr", "--runner", "dask",
                                                    "--workers", "0", *V], 1, ("--workers",)),  # issue 18.11: hung
    Case("convert-unknown-flag", lambda d, m: ["convert", str(_stack(d)), "{out}/x.ome.zarr", "--bogus"], 2,
         ("--bogus",)),
    # -- predict ---------------------------------------------------------------------------------------------
    Case("predict-missing-input", lambda d, m: _predict(d / "nope.zarr", m, "{out}/p"), 1, ("nope.zarr",)),
    Case("predict-missing-model", lambda d, m: _predict(_float_zarr(d), d / "nope.pth", "{out}/p"), 1, ("nope.pth",)),
    Case("predict-model-not-a-checkpoint", lambda d, m: _predict(_float_zarr(d), _text(d, "bad.pth", "not torch"),
                                                                 "{out}/p"), 1, ("bad.pth",)),
    Case("predict-model-pickles-an-object", lambda d, m: _predict(_float_zarr(d), _evil_pth(d), "{out}/p"), 1,
         ("evil.pth", "refused", "Pickled")),
    Case("predict-truncated-tiff", lambda d, m: _predict(_truncated_tiff(d), m, "{out}/p", "--voxel-size-um", "1", "1",
                                                         "1"), 1, ("cut.tiff", "truncated")),
    Case("predict-slices-of-different-shapes", lambda d, m: _predict(_slices(d, [(16, 16)] * 3 + [(16, 17)]), m,
                                                                     "{out}/p", "--voxel-size-um", "1", "1", "1"),
         1, ("slice_0003.tif",)),
    Case("predict-nan-input", lambda d, m: _predict(_nan_zarr(d), m, "{out}/p"), 1, ("NaN",)),
    Case("predict-output-class-out-of-range", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--output-class", "5"),
         1, ("output", "class")),
    Case("predict-model-nan-weights", lambda d, m: _predict(_float_zarr(d), _broken_model(d, m, "nan.pth", float("nan")),
                                                            "{out}/p"), 1, ("nan.pth", "NaN")),
    Case("predict-model-patch-size-zero", lambda d, m: _predict(_float_zarr(d), _broken_model(d, m, "p0.pth",
                                                                                                patch=(0, 16, 16)),
                                                                "{out}/p"), 1, ("p0.pth", "patch size")),
    Case("predict-model-pickle-protocol-5", lambda d, m: _predict(_float_zarr(d), _p5_pickle(d), "{out}/p"), 1,
         ("p5.pth", "Unsupported operand", "weights_only=True")),
    Case("predict-cuda-without-gpu", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--device", "cuda"), 1,
         ("cuda",)),
    Case("predict-step-zero", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--step", "0"), 1, ("step_fraction",)),
    Case("predict-step-above-one", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--step", "1.5"), 1,
         ("step_fraction",)),
    Case("predict-zero-block", lambda d, m: ["predict", str(_float_zarr(d)), "--model", str(m), "{out}/p", "--block",
                                             "0", "0", "0", "--quiet"], 1, ("block_shape_vox", "positive")),
    Case("predict-yaml-syntax-error", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--config",
                                                            str(_text(d, "bad.yaml", "step_fraction: [0.5\n"))),
         1, ("bad.yaml", "line")),
    Case("predict-config-unknown-key", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--config",
                                                             str(_text(d, "c.yaml", "stepfraction: 0.5\n"))),
         1, ("c.yaml", "stepfraction")),
    Case("predict-config-wrong-type", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--config",
                                                            str(_text(d, "c.yaml", "batch_size: two\n"))),
         1, ("c.yaml", "batch_size", "integer")),
    Case("predict-config-missing-file", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--config",
                                                              str(d / "none.yaml")), 1, ("none.yaml",)),
    Case("predict-output-is-a-file", lambda d, m: _predict(_float_zarr(d), m, str(_text(d, "o.txt", "x"))), 1,
         ("o.txt",)),
    Case("predict-output-parent-is-a-file", lambda d, m: _predict(_float_zarr(d), m,
                                                                  str(_text(d, "o.txt", "x") / "p")), 1, ("o.txt",)),
    Case("predict-into-the-input", lambda d, m: _predict(_float_zarr(d), m, str(d / "f.zarr")), 1, ("f.zarr",)),
    # issue 18.1: --overwrite never empties a folder whose run.json axonseg did not write
    Case("predict-overwrite-foreign-run-json", lambda d, m: _predict(_float_zarr(d), m, str(_foreign_run(d)),
                                                                     "--overwrite"), 1, ("run.json", "not a run.json")),
    Case("predict-foreign-initializing-run-json", lambda d, m: _predict(_float_zarr(d), m, str(_foreign_run(
        d, '{"status": "initializing"}'))), 1, ("run.json", "not a run.json")),
    Case("predict-zero-voxel-size", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--voxel-size-um", "0", "1",
                                                          "1"), 1, ("voxel_size_um",)),
    Case("predict-infinite-voxel-size", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--voxel-size-um", "inf",
                                                              "1", "1"), 1, ("--voxel-size-um", "finite")),
    Case("predict-nan-tissue-threshold", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--tissue-threshold",
                                                               "nan"), 1, ("--tissue-threshold", "finite")),
    Case("predict-runtime-cache-not-a-folder", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--runtime",
                                                                     "onnxruntime", "--runtime-cache",
                                                                     str(_text(d, "c.txt", "x") / "cache")), 1,
         ("c.txt", "runtime cache", "--runtime eager")),
    Case("predict-output-is-a-dangling-link", lambda d, m: _predict(_float_zarr(d), m, str(_dangling(d, "p"))), 1,
         ("p", "symbolic link", "does not exist")),
    Case("predict-four-paths", lambda d, m: ["predict", "a", "b", "c", "d"], 2, ("INPUT OUTPUT",)),
    Case("predict-tiling-halo-instance-norm-model", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--tiling",
         "halo"), 1, ("m16.pth", "--tiling halo is not possible")),
    Case("predict-negative-halo", lambda d, m: _predict(_float_zarr(d), m, "{out}/p", "--halo", "-8"), 1,
         ("halo_vox", "-8")),
    Case("measure-halo-instance-norm-model", lambda d, m: ["measure-halo", str(m), "--max-halo", "4"], 1,
         ("m16.pth", "InstanceNorm3d")),
    Case("measure-halo-negative-max-halo", lambda d, m: ["measure-halo", str(m), "--max-halo", "-1"], 2,
         ("--max-halo",)),
    # -- create-data -----------------------------------------------------------------------------------------
    Case("create-data-wrong-type", lambda d, m: ["create-data", "--config", str(_text(
        d, "cd.yaml", "task_id: 5\ntask_name: T\nraw_data_base: x\nvoxel_spacing_um_zyx: [1, 1, 1]\n"
                      "samples_per_cube: four\n"))], 1, ("cd.yaml", "samples_per_cube", "integer")),
    Case("create-data-yaml-syntax", lambda d, m: ["create-data", "--config", str(_text(d, "cd.yaml", "a: [\n"))], 1,
         ("cd.yaml", "YAML")),
    Case("create-data-missing-keys", lambda d, m: ["create-data", "--config", str(_text(d, "cd.yaml", "seed: 1\n"))],
         1, ("cd.yaml", "task_id")),
    Case("create-data-not-a-mapping", lambda d, m: ["create-data", "--config", str(_text(d, "cd.yaml", "- 1\n- 2\n"))],
         1, ("cd.yaml", "mapping")),
    Case("create-data-bad-tuple", lambda d, m: ["create-data", "--config", str(_text(
        d, "cd.yaml", "task_id: 5\ntask_name: T\nraw_data_base: x\nvoxel_spacing_um_zyx: [1, 1]\n"))], 1,
         ("voxel_spacing_um_zyx",)),
    # -- crop-cubes ------------------------------------------------------------------------------------------
    Case("crop-duplicate-point", lambda d, m: ["crop-cubes", "--volume", str(_stack(d, shape=(40, 40, 40))),
                                               "--points", str(_points(d, [(20, 20, 20), (10, 12, 20), (20, 20, 20)])),
                                               "--out", "{out}/cubes", "--size", "8"], 1, ("points.csv", "duplicate")),
    Case("crop-size-zero", lambda d, m: ["crop-cubes", "--volume", str(_stack(d, shape=(40, 40, 40))), "--points",
                                         str(_points(d, [(20, 20, 20)])), "--out", "{out}/cubes", "--size", "0"], 1,
         ("--size",)),
    Case("crop-size-two-values", lambda d, m: ["crop-cubes", "--volume", str(_stack(d)), "--points",
                                               str(_points(d, [(2, 2, 2)])), "--out", "{out}/c", "--size", "8", "8"], 2,
         ("--size",)),
    Case("crop-points-20-digit-coordinate", lambda d, m: ["crop-cubes", "--volume", str(_stack(d, shape=(40, 40, 40))),
                                                          "--points", str(_points(d, [(12345678901234567890, 20, 20)])),
                                                          "--out", "{out}/cubes", "--size", "8"], 1,
         ("points.csv", "line 2", "beyond any volume")),
    Case("crop-points-not-a-csv", lambda d, m: ["crop-cubes", "--volume", str(_stack(d)), "--points",
                                                str(_text(d, "p.csv", "hello world\n")), "--out", "{out}/c"], 1,
         ("p.csv",)),
    # -- analysis --------------------------------------------------------------------------------------------
    Case("evaluate-shape-mismatch", lambda d, m: ["evaluate", str(_stack(d, "a.tiff", dtype=np.uint8)),
                                                  str(_stack(d, "b.tiff", shape=(8, 24, 25), dtype=np.uint8))], 1,
         ("a.tiff",)),
    Case("evaluate-nan-prediction", lambda d, m: ["evaluate", str(_nan_zarr(d)), str(_zarr(
        d, "t.zarr", np.zeros((16, 32, 32), np.uint8)))], 1, ("nan.zarr", "NaN")),
    Case("evaluate-threshold-out-of-range", lambda d, m: ["evaluate", str(_float_zarr(d)), str(_float_zarr(d, "g.zarr")),
                                                          "--threshold", "2"], 1, ("threshold",)),
    Case("evaluate-probability-map-as-truth", lambda d, m: ["evaluate", str(_float_zarr(d)),
                                                            str(_float_zarr(d, "g.zarr"))], 1,
         ("g.zarr", "not a binary mask")),
    Case("density-damaged-chunk", lambda d, m: ["density", str(_damaged_zarr(d)), "--out", str(d.parent / "dens"), "--quiet"], 1,
         ("bad.zarr", "chunk c/1/0/1", "damaged")),
    Case("evaluate-damaged-chunk", lambda d, m: ["evaluate", str(_damaged_zarr(d)), str(_zarr(
        d, "t.zarr", np.zeros((16, 32, 32), np.uint8)))], 1, ("bad.zarr", "chunk c/1/0/1", "damaged")),
    Case("preview-damaged-chunk", lambda d, m: ["preview", str(_damaged_zarr(d)), "--out", str(d.parent / "p.png")], 1,
         ("bad.zarr", "chunk c/1/0/1", "damaged")),
    Case("density-negative-halo", lambda d, m: ["density", str(_float_zarr(d)), "--out", str(d.parent / "dens"),
                                                "--config", str(_text(d, "dens.yaml", "halo_vox: -5\n"))], 1,
         ("dens.yaml", "halo_vox", ">= 0")),
    Case("density-negative-min-component", lambda d, m: ["density", str(_float_zarr(d)), "--out",
                                                         str(d.parent / "dens"), "--min-component-vox", "-3"], 1,
         ("--min-component-vox", ">= 0")),
    Case("density-nan-threshold", lambda d, m: ["density", str(_float_zarr(d)), "--out", str(d.parent / "dens"),
                                                "--threshold", "nan"], 1, ("--threshold", "finite")),
    Case("density-infinite-voxel", lambda d, m: ["density", str(_float_zarr(d)), "--out", str(d.parent / "dens"),
                                                 "--voxel-size-um", "inf", "1", "1"], 1, ("--voxel-size-um", "finite")),
    Case("density-huge-cell", lambda d, m: ["density", str(_float_zarr(d)), "--out", str(d.parent / "dens"),
                                            "--cell-size-um", "1e30"], 1, ("--cell-size-um", "between")),
    Case("density-zero-cell", lambda d, m: ["density", str(_float_zarr(d)), "--out", str(d.parent / "dens"), "--cell-size-um",
                                            "0"], 1, ("cell",)),
    Case("density-negative-voxel", lambda d, m: ["density", str(_float_zarr(d)), "--out", str(d.parent / "dens"),
                                                 "--voxel-size-um", "-1", "1", "1"], 1, ("voxel",)),
    # issue 18.2: preview/evaluate outputs never replace an input, nor a file axonseg did not write
    Case("preview-out-is-the-raw", lambda d, m: ["preview", str(_stack(d)), "--out", str(d / "vol.tiff"),
                                                 "--overwrite"], 1, ("vol.tiff", "input")),
    Case("evaluate-json-is-the-truth", lambda d, m: ["evaluate", str(_stack(d, "a.tiff", dtype=np.uint8)),
                                                     str(_stack(d, "t.tiff", dtype=np.uint8)), "--json",
                                                     str(d / "t.tiff"), "--overwrite"], 1, ("t.tiff", "input")),
    Case("evaluate-csv-foreign-file", lambda d, m: ["evaluate", str(_stack(d, "a.tiff", dtype=np.uint8)),
                                                    str(_stack(d, "t.tiff", dtype=np.uint8)), "--csv",
                                                    str(_text(d, "notes.csv", "x,y\n")), "--overwrite"], 1,
         ("notes.csv", "not written by")),
    Case("preview-missing-out-folder", lambda d, m: ["preview", str(_stack(d)), "--out", str(d / "no" / "p.png")],
         1, ("p.png",)),
    # issue 18.3 / 18.20: one rule for every command: an output is not, holds not, lies not inside an input
    Case("fine-labels-out-is-the-rough-folder", lambda d, m: ["fine-labels", "--rough", str(_labels(d)), "--out",
                                                              str(d / "rough"), "--overwrite"], 1, ("rough", "input")),
    Case("rough-labels-out-is-the-cube-folder", lambda d, m: ["rough-labels", "--cubes", str(_labels(d, "volume")),
                                                              "--out", str(d / "rough")], 1, ("rough", "input")),
    Case("crop-out-inside-the-volume", lambda d, m: ["crop-cubes", "--volume", str(_zarr(d, "v.zarr", np.zeros(
        (24, 24, 24), np.uint16))), "--points", str(_points(d, [(12, 12, 12)])), "--out", str(d / "v.zarr" / "c"),
        "--size", "8"], 1, ("v.zarr", "input")),
    Case("density-out-inside-the-input", lambda d, m: ["density", str(_float_zarr(d)), "--out", str(d / "f.zarr" / "d")],
         1, ("f.zarr", "input")),
    Case("rough-labels-missing-cubes", lambda d, m: ["rough-labels", "--cubes", str(d / "none"), "--out", "{out}/r"],
         1, ("none",)),
    # issue 18.51: density --overwrite replaces only a density folder axonseg wrote
    Case("density-overwrite-foreign-folder", lambda d, m: ["density", str(_float_zarr(d)), "--out",
                                                           str(_foreign_run(d)), "--overwrite", "--quiet"],
         1, ("results", "not written by this axonseg command")),
    Case("save-models-missing-source", lambda d, m: ["save-models", str(d / "none"), "{out}/m.pth"], 1, ("none",)),
]


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return write_model(tmp_path_factory.mktemp("model") / "m16.pth", patch=(16, 16, 16), pools=2)


def test_after_a_refused_device_the_same_command_on_cpu_runs(tmp_path, model, capsys):
    """The refused ``--device cuda`` run left nothing, so ``--device cpu`` is not 'different settings'."""
    d = tmp_path / "in"
    d.mkdir()
    inp, out = _float_zarr(d), tmp_path / "out" / "p"
    assert axonseg_main(_predict(inp, model, out, "--device", "cuda")) == 1
    assert axonseg_main(_predict(inp, model, out, "--device", "cpu")) == 0, capsys.readouterr().err


def test_the_table_covers_forty_kinds():
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_one_line_exit_code_no_output_input_untouched(case, tmp_path, model, capsys):
    d = tmp_path / "in"
    d.mkdir()
    out = tmp_path / "out"
    argv = [a.replace("{out}", str(out)) for a in case.setup(d, model)]
    before = _digest(tmp_path)
    code = axonseg_main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("usage:", " "))]
    assert code == case.code, err
    assert len(lines) == 1, err
    for word in case.says:
        assert word.lower() in lines[0].lower(), lines[0]
    assert _digest(tmp_path) == before, "partial output left, or an input changed"
