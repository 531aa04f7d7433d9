"""predict's output folder: ``--overwrite`` (and a restart after a run that died initialising) deletes
only what axonseg predict wrote; a foreign ``run.json`` or a user file is never deleted (issue 18.1)."""
from __future__ import annotations

import json

import pytest

from axonseg.inference.state import OutputError, OutputLayout, check_output, clear_output


def _folder(tmp_path, run_json: dict | str, *user_files: str) -> OutputLayout:
    root = tmp_path / "out"
    root.mkdir()
    (root / "run.json").write_text(run_json if isinstance(run_json, str) else json.dumps(run_json))
    for name in user_files:
        (root / name).write_text("user data")
    return OutputLayout(root)


def _ours(status="complete"):
    return {"status": status, "fingerprint": {"input": "x"}}


@pytest.mark.parametrize("overwrite", [True, False])
@pytest.mark.parametrize("run_json", [{"experiment": 3}, {"status": "initializing"}, "not json {"],
                         ids=["foreign", "foreign-initializing", "unreadable"])
def test_a_foreign_run_json_is_never_replaced(tmp_path, run_json, overwrite):
    layout = _folder(tmp_path, run_json, "results.csv")
    with pytest.raises(OutputError, match="not a run.json written by axonseg predict") as err:
        check_output(layout, {"input": "x"}, tmp_path / "in.zarr", overwrite=overwrite)
    assert "--overwrite" not in str(err.value)  # never advise the flag that would delete it
    assert (layout.root / "results.csv").read_text() == "user data"


@pytest.mark.parametrize("status,overwrite", [("complete", True), ("initializing", False)])
def test_user_files_in_our_folder_stop_a_fresh_start(tmp_path, status, overwrite):
    layout = _folder(tmp_path, _ours(status), "notes.txt")
    with pytest.raises(OutputError, match="notes.txt"):
        check_output(layout, {"input": "x"}, tmp_path / "in.zarr", overwrite=overwrite)


def test_overwrite_of_our_folder_removes_only_our_names(tmp_path):
    layout = _folder(tmp_path, _ours())
    (layout.root / "blocks").mkdir()
    (layout.root / "blocks" / "0000000.done").write_text("{}")
    (layout.root / ".run.json.abc123.partial").write_text("{")
    assert check_output(layout, {"input": "x"}, tmp_path / "in.zarr", overwrite=True) == "new"
    (layout.root / "late.txt").write_text("user data")  # appears after the check: still kept
    clear_output(layout)
    assert [p.name for p in layout.root.iterdir()] == ["late.txt"]


def test_the_same_run_resumes_beside_nothing_foreign(tmp_path):
    layout = _folder(tmp_path, _ours("running"))
    assert check_output(layout, {"input": "x"}, tmp_path / "in.zarr", overwrite=False) == "resume"


def test_the_output_is_not_inside_the_model_folder(tmp_path):
    model = tmp_path / "nnunet_result"
    model.mkdir()
    with pytest.raises(Exception, match="inside the input"):
        check_output(OutputLayout(model / "pred"), {}, tmp_path / "in.zarr", overwrite=False, inputs=(model,))


def test_every_name_a_full_prediction_writes_is_known(tmp_path):
    """Anything predict writes that OUTPUT_NAMES misses would make --overwrite refuse our own folder."""
    from axonseg.inference import PredictSettings, predict_whole_brain
    from axonseg.inference.state import OUTPUT_NAMES, foreign_entries
    from tests.inference.helpers import write_model
    from tests.inference.test_pipeline import make_input

    layout = OutputLayout(tmp_path / "out")
    props = [a for a in dir(OutputLayout) if isinstance(getattr(OutputLayout, a), property) and a != "mask"]
    assert {getattr(layout, a).relative_to(layout.root).parts[0] for a in props} <= OUTPUT_NAMES
    model = write_model(tmp_path / "m.pth", patch=(16, 16, 16), pools=2)
    settings = PredictSettings(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32), num_threads=1,
                               preview=True, write_tiff_slices=True, mask_threshold=0.5)
    predict_whole_brain(make_input(tmp_path / "in.zarr", (16, 32, 32)), model, layout.root, settings, progress=False)
    assert foreign_entries(layout) == []
