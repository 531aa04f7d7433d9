"""preview --out and evaluate --json/--csv: never an input or inside one, an existing file replaced only
with --overwrite and only when axonseg wrote it (issue 18.2)."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import tifffile
import zarr

from axonseg.cli.evaluate import main as evaluate_main
from axonseg.cli.preview import main as preview_main


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    tifffile.imwrite(tmp_path / "raw.tif", rng.integers(0, 500, (6, 16, 16)).astype(np.uint16))
    tifffile.imwrite(tmp_path / "pred.tif", (rng.random((6, 16, 16)) > 0.7).astype(np.uint8) * 255)
    tifffile.imwrite(tmp_path / "truth.tif", (rng.random((6, 16, 16)) > 0.7).astype(np.uint8))
    return tmp_path


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("target", ["raw.tif", "pred.tif"])
def test_preview_never_replaces_an_input(pair, capsys, target, overwrite):
    before = _sha(pair / target)
    rc = preview_main([str(pair / "raw.tif"), "--prob", str(pair / "pred.tif"), "--out", str(pair / target),
                       *overwrite])
    assert rc == 1 and target in capsys.readouterr().err
    assert _sha(pair / target) == before


def test_preview_replaces_only_its_own_png(pair, capsys):
    out = pair / "p.png"
    assert preview_main([str(pair / "raw.tif"), "--out", str(out)]) == 0
    assert preview_main([str(pair / "raw.tif"), "--out", str(out)]) == 1  # exists: --overwrite needed
    assert "--overwrite" in capsys.readouterr().err
    assert preview_main([str(pair / "raw.tif"), "--out", str(out), "--overwrite"]) == 0
    (pair / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)  # someone else's picture
    assert preview_main([str(pair / "raw.tif"), "--out", str(pair / "photo.png"), "--overwrite"]) == 1
    assert "not written by" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--json", "--csv"])
@pytest.mark.parametrize("target", ["pred.tif", "truth.tif"])
def test_evaluate_never_replaces_an_input(pair, capsys, option, target):
    before = _sha(pair / target)
    rc = evaluate_main([str(pair / "pred.tif"), str(pair / "truth.tif"), option, str(pair / target), "--overwrite"])
    assert rc == 1 and target in capsys.readouterr().err
    assert _sha(pair / target) == before


@pytest.mark.parametrize("name", ["run.json", "zarr.json"])
def test_evaluate_json_never_replaces_a_prediction_s_metadata(tmp_path, capsys, name):
    pred = tmp_path / "pred"
    z = zarr.create_array(str(pred / "probability.zarr"), shape=(6, 16, 16), chunks=(6, 16, 16), dtype=np.uint8)
    z[:] = 255
    (pred / "run.json").write_text(json.dumps({"status": "complete", "fingerprint": {}}))
    tifffile.imwrite(tmp_path / "truth.tif", np.ones((6, 16, 16), np.uint8))
    target = pred / "run.json" if name == "run.json" else pred / "probability.zarr" / "zarr.json"
    before = _sha(target)
    for extra in ([], ["--overwrite"]):
        rc = evaluate_main([str(pred / "probability.zarr"), str(tmp_path / "truth.tif"), "--json", str(target),
                            *extra])
        err = capsys.readouterr().err
        assert rc == 1 and name in err, err
        assert "pass --overwrite" not in err  # never advise the flag for a file that is not ours
    assert _sha(target) == before


def test_evaluate_replaces_its_own_scores_with_overwrite(pair, capsys):
    args = [str(pair / "pred.tif"), str(pair / "truth.tif"), "--json", str(pair / "s.json"), "--csv",
            str(pair / "s.csv")]
    assert evaluate_main(args) == 0
    assert evaluate_main(args) == 1 and "--overwrite" in capsys.readouterr().err
    assert evaluate_main(args + ["--overwrite"]) == 0
    assert evaluate_main([str(pair / "pred.tif"), str(pair / "truth.tif"), "--json", str(pair / "x.json"),
                          "--csv", str(pair / "x.json")]) == 1


def test_evaluate_refuses_a_foreign_csv_even_with_overwrite(pair, capsys):
    (pair / "notes.csv").write_text("name,value\na,1\n")
    rc = evaluate_main([str(pair / "pred.tif"), str(pair / "truth.tif"), "--csv", str(pair / "notes.csv"),
                        "--overwrite"])
    assert rc == 1 and "not written by" in capsys.readouterr().err
    assert (pair / "notes.csv").read_text() == "name,value\na,1\n"
