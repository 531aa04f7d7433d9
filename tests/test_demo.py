"""`make demo`: its shipped inputs and its step/reuse machinery (the full run takes minutes and
is not run here; ``tests/test_nnunet_commands.py`` runs the synthetic path end to end)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from axonseg.cli import demo as demo_cli
from axonseg.demo import (HELD_OUT_FROM_ROW, DemoError, ModelResult, RealDemoResult, RealDemoSettings, StepReport,
                          Steps, check_points, cube_bounds, partial_path, read_points_csv, run_command)

SETTINGS = RealDemoSettings()
EXCERPT_SHAPE = (100, 600, 600)


@pytest.mark.parametrize("name, n", [("axon_points", 5), ("artifact_points", 2)])
def test_shipped_points_lie_in_training_rows_inside_the_excerpt(name, n):
    path = getattr(SETTINGS, name)
    assert path.read_text().splitlines()[0] == "z,y,x"
    points = check_points(path, SETTINGS.cube_size, EXCERPT_SHAPE)
    assert len(points) == n
    for p in points:
        (z0, z1), (y0, y1), (x0, x1) = cube_bounds(p, SETTINGS.cube_size)
        assert p[0] == 50 and (z0, z1) == (2, 98)
        assert 0 <= y0 and y1 <= HELD_OUT_FROM_ROW == 300  # every row of the cube is a training row
        assert 0 <= x0 and x1 <= EXCERPT_SHAPE[2]


def test_shipped_points_match_the_real_excerpt(dlmbmap_data):
    from axonseg.io import open_volume

    _, info = open_volume(dlmbmap_data / "brain-example")
    assert tuple(info.shape_zyx) == EXCERPT_SHAPE
    for path in (SETTINGS.axon_points, SETTINGS.artifact_points):
        check_points(path, SETTINGS.cube_size, info.shape_zyx)


def test_points_reaching_held_out_rows_or_leaving_the_volume_are_refused(tmp_path):
    held_out = tmp_path / "held_out.csv"
    held_out.write_text("z,y,x\n50,150,300\n50,253,300\n")  # cube rows 205..300: row 300 is held out
    with pytest.raises(ValueError, match=r"point 2 .*reaches row 300"):
        check_points(held_out, 96)
    outside = tmp_path / "outside.csv"
    outside.write_text("z,y,x\n20,150,300\n")
    with pytest.raises(ValueError, match="leaves the volume"):
        check_points(outside, 96, EXCERPT_SHAPE)
    bad = tmp_path / "bad.csv"
    bad.write_text("X,Y,Slice\n1,2,3\n")
    with pytest.raises(ValueError, match="header z,y,x"):
        read_points_csv(bad)


def test_demo_create_data_config():
    from axonseg.cubes import CreateDataSettings

    s = CreateDataSettings.from_yaml(SETTINGS.create_data_config)
    assert (s.task_id, s.task_name) == (SETTINGS.task_id, SETTINGS.task_name) == (961, "AxonsegDemo")
    assert (s.samples_per_cube, s.artifact_samples_per_cube, s.patch_size_zyx) == (2, 2, (80, 80, 80))
    # 3 axon + 2 artifact cubes: one source cube per fold at least
    assert s.num_folds <= 5


def _writer(calls: list[str], fail: bool = False):
    def fn(tmp: Path) -> None:
        calls.append(tmp.name)
        tmp.mkdir()
        (tmp / "out.txt").write_text("x")
        if fail:
            raise RuntimeError("step failed")
    return fn


def test_steps_write_through_partial_then_reuse(tmp_path):
    lines: list[str] = []
    calls: list[str] = []
    out = tmp_path / "step-out"
    steps = Steps(tmp_path / "steps.json", total=1, echo=lines.append)
    first = steps.run("fake step", out, _writer(calls))
    assert calls == ["step-out.partial"] and (out / "out.txt").read_text() == "x"
    assert not partial_path(out).exists()
    assert not first.reused and first.recorded_seconds == first.seconds
    assert lines == ["[ 1/1] fake step ...", f"[ 1/1] fake step: {first.seconds:.1f} s -> {out}"]
    record = json.loads((tmp_path / "steps.json").read_text())
    assert record == {"fake step": {"seconds": round(first.seconds, 3), "cpu_seconds": round(first.cpu_seconds, 3)}}

    again = Steps(tmp_path / "steps.json", total=1, echo=lines.append).run("fake step", out, _writer(calls))
    assert calls == ["step-out.partial"]  # not run again
    assert again.reused and again.seconds == 0 and again.recorded_seconds == round(first.seconds, 3)
    assert again.cpu_seconds == round(first.cpu_seconds, 3)
    assert lines[-1] == f"[ 1/1] fake step: reused {out}"


def test_after_a_step_ran_later_steps_run_again(tmp_path):
    quiet = {"echo": lambda _: None}
    a, b, c = (tmp_path / n for n in "abc")
    calls: list[str] = []
    first = Steps(tmp_path / "steps.json", **quiet)
    for out in (a, b, c):
        first.run(out.name, out, _writer(calls))
    assert calls == ["a.partial", "b.partial", "c.partial"]
    shutil.rmtree(b)  # redo the middle step: its input changed, so must the last one
    partial_path(c).mkdir()  # a resumable step's partial output is stale too
    (partial_path(c) / "old").write_text("")
    again = Steps(tmp_path / "steps.json", **quiet)
    reports = [again.run(out.name, out, _writer(calls), resume_partial=True) for out in (a, b, c)]
    assert [r.reused for r in reports] == [True, False, False]
    assert calls[3:] == ["b.partial", "c.partial"] and sorted(p.name for p in c.iterdir()) == ["out.txt"]


def test_an_out_of_date_output_runs_again(tmp_path):
    calls: list[str] = []
    out = tmp_path / "trained"
    Steps(tmp_path / "steps.json", echo=lambda _: None).run("train", out, _writer(calls))
    lines: list[str] = []
    report = Steps(tmp_path / "steps.json", echo=lines.append).run("train", out, _writer(calls),
                                                                   valid=lambda o: (o / "out.txt").read_text() == "y")
    assert not report.reused and len(calls) == 2 and lines[0] == f"[ 1] train: out of date, replacing {out} ..."


def test_a_failed_step_leaves_no_output_and_runs_again(tmp_path):
    out = tmp_path / "step-out"
    calls: list[str] = []
    with pytest.raises(RuntimeError, match="step failed"):
        Steps(tmp_path / "steps.json", echo=lambda _: None).run("s", out, _writer(calls, fail=True))
    assert not out.exists() and partial_path(out).exists()
    # the stale partial output is removed before the step runs again
    report = Steps(tmp_path / "steps.json", echo=lambda _: None).run("s", out, _writer(calls))
    assert not report.reused and out.is_dir() and len(calls) == 2


def test_resumable_step_keeps_its_partial_output(tmp_path):
    out = tmp_path / "prediction"
    partial_path(out).mkdir()
    (partial_path(out) / "block-0.done").write_text("")

    def resume(tmp: Path) -> None:
        assert (tmp / "block-0.done").exists()
        (tmp / "block-1.done").write_text("")

    Steps(tmp_path / "steps.json", echo=lambda _: None).run("predict", out, resume, resume_partial=True)
    assert sorted(p.name for p in out.iterdir()) == ["block-0.done", "block-1.done"]


def test_a_step_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(DemoError, match="wrote nothing"):
        Steps(tmp_path / "steps.json", echo=lambda _: None).run("s", tmp_path / "o", lambda tmp: None)


def test_failed_command_names_itself_and_its_log(tmp_path):
    log = tmp_path / "logs" / "bad.log"
    with pytest.raises(DemoError, match=r"`axonseg crop-cubes --size 96` failed with exit code 2 \(log: .*bad.log\)"
                                        r"[\s\S]*required"):
        run_command(["axonseg", "crop-cubes", "--size", 96], log)
    assert log.read_text().startswith("$ axonseg crop-cubes --size 96\n")


def test_without_data_one_line_then_the_synthetic_demo(tmp_path, monkeypatch, capsys):
    import axonseg.demo

    ran = []
    monkeypatch.setattr(axonseg.demo, "run_demo", lambda workdir, s, echo: ran.append(workdir) or ([], {}))
    monkeypatch.setattr(axonseg.demo, "run_real_demo", lambda *a, **k: pytest.fail("real demo without data"))
    assert demo_cli.main(["--workdir", str(tmp_path / "w"), "--data", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if "not found" in line] == [
        f"demo: real data not found at {tmp_path / 'none' / 'brain-example'}: running the synthetic demo instead"]
    assert ran == [tmp_path / "w"]


def test_real_summary_table(tmp_path, capsys):
    steps = [StepReport("axonseg crop-cubes", 2.5, False, 2.5, cpu_seconds=3.0),
             StepReport("axonseg predict (starter)", 0.0, True, 120.0, cpu_seconds=230.0)]
    models = [ModelResult("starter", tmp_path / "p", tmp_path / "p" / "preview.png", 120.0, 36_000_000, 0.0123, 45.6)]
    demo_cli.print_real_summary(RealDemoResult(steps, models), tmp_path)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[2].split() == ["axonseg", "crop-cubes", "2.5", "3.0"]
    assert lines[3].split() == ["axonseg", "predict", "(starter)", "120.0", "230.0", "reused"]
    assert lines[4].split() == ["total", "122.5", "233.0"]
    assert lines[5].startswith("(this run: 2.5 s;")
    row = next(line for line in out.splitlines() if line.startswith("starter model"))
    assert row.split() == ["starter", "model", "3e+05", "1.23%", "45.60", "mm"]
    assert str(tmp_path / "p" / "preview.png") in out
