"""density / evaluate / preview refuse an unfinished prediction in one line, or warn loudly with
--allow-incomplete; a finished one passes untouched."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from axonseg.analysis.completeness import check_prediction_complete, prediction_folder_of
from axonseg.cli.density import main as density_main
from axonseg.cli.evaluate import main as evaluate_main
from axonseg.cli.preview import main as preview_main

SHAPE = (12, 24, 24)


def _prediction(root: Path, status: str) -> Path:
    """A prediction folder as predict leaves it when stopped half-way (one of two blocks written)."""
    from axonseg.io.ome_zarr import create_ome_zarr, open_level

    out = root / "pred"
    out.mkdir()
    create_ome_zarr(out / "probability.ome.zarr", SHAPE, (12, 12, 24), np.uint8, (2.0, 1.0, 1.0), 1, "probability")
    prob = np.zeros(SHAPE, np.uint8)
    prob[6, 3:9, 4] = 255                      # the written half holds an axon
    open_level(out / "probability.ome.zarr", 0, "r+")[...] = prob
    (out / "blocks").mkdir()
    (out / "blocks" / "0000000.done").write_text("{}")
    (out / "run.json").write_text(json.dumps({"status": status, "fingerprint": {}}))
    tifffile.imwrite(root / "raw.tif", np.full(SHAPE, 100, np.uint16))
    tifffile.imwrite(root / "truth.tif", (prob > 0).astype(np.uint8))
    return out


COMMANDS = {
    "density": lambda r, p, extra: density_main([str(p / "probability.ome.zarr"), "--out", str(r / "d"), *extra]),
    "evaluate": lambda r, p, extra: evaluate_main([str(p / "probability.ome.zarr"), str(r / "truth.tif"),
                                                   "--json", str(r / "scores.json"), *extra]),
    "preview": lambda r, p, extra: preview_main([str(r / "raw.tif"), "--prob", str(p / "probability.ome.zarr"),
                                                 "--out", str(r / "p.png"), *extra]),
}
OUTPUTS = {"density": "d", "evaluate": "scores.json", "preview": "p.png"}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_incomplete_is_refused_in_one_line(tmp_path, capsys, command):
    pred = _prediction(tmp_path, "running")
    assert COMMANDS[command](tmp_path, pred, []) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert str(pred) in err and "'running'" in err and "--allow-incomplete" in err
    assert not (tmp_path / OUTPUTS[command]).exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_allow_incomplete_goes_on_with_a_loud_warning(tmp_path, caplog, command):
    pred = _prediction(tmp_path, "running")
    assert COMMANDS[command](tmp_path, pred, ["--allow-incomplete"]) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("INCOMPLETE PREDICTION" in w and "1 block(s) written" in w for w in warnings), warnings
    assert (tmp_path / OUTPUTS[command]).exists()
    if command == "density":
        assert json.loads((tmp_path / "d" / "density.json").read_text())["prediction_status"] == "running"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_complete_prediction_passes_silently(tmp_path, caplog, command):
    pred = _prediction(tmp_path, "complete")
    assert COMMANDS[command](tmp_path, pred, []) == 0
    assert not any("INCOMPLETE" in r.getMessage() for r in caplog.records)


def test_folder_lookup_and_plain_volumes(tmp_path):
    pred = _prediction(tmp_path, "initializing")
    assert prediction_folder_of(pred / "probability.ome.zarr" / "0") == pred.resolve()
    assert prediction_folder_of(tmp_path / "raw.tif") is None
    assert check_prediction_complete(tmp_path / "raw.tif") is None
    with pytest.raises(ValueError, match="'initializing'"):
        check_prediction_complete(pred)
