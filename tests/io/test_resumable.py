"""resumable_folder: an interrupted build is resumed by the same run, started over by another, and removed
after a data error; the output appears only complete."""
from __future__ import annotations

import pytest

from axonseg.io.atomic import OutputTargetError
from axonseg.io.resumable import partial_path, resumable_folder


def _build(dst, fp, stop_after=None, error=KeyboardInterrupt):
    """Write files a..d, one 'block' each, marking each done; raise ``error`` after ``stop_after`` blocks."""
    written = []
    with resumable_folder(dst, fp) as st:
        for k, name in enumerate("abcd"):
            if st.is_done(name):
                continue
            if stop_after is not None and k == stop_after:
                raise error("stop")
            (st.path / name).write_text(name)
            written.append(name)
            st.mark_done(name)
    return written


def test_interrupted_run_resumes_and_finishes(tmp_path):
    dst = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        _build(dst, {"in": 1}, stop_after=2)
    assert not dst.exists() and sorted(p.name for p in partial_path(dst).iterdir() if p.is_file()) == ["a", "b"]
    assert _build(dst, {"in": 1}) == ["c", "d"]  # a and b are not redone
    assert sorted(p.name for p in dst.iterdir()) == ["a", "b", "c", "d"]  # no progress markers left
    assert not partial_path(dst).exists() and not (tmp_path / ".out.lock").exists()


def test_a_different_run_starts_over(tmp_path):
    dst = tmp_path / "out"
    with pytest.raises(OSError):
        _build(dst, {"in": 1}, stop_after=3, error=OSError)
    assert _build(dst, {"in": 2}) == ["a", "b", "c", "d"]


def test_a_data_error_leaves_nothing(tmp_path):
    dst = tmp_path / "out"
    with pytest.raises(ValueError):
        _build(dst, {"in": 1}, stop_after=1, error=ValueError)
    assert list(tmp_path.iterdir()) == []


def test_a_foreign_partial_folder_is_not_touched(tmp_path):
    dst = tmp_path / "out"
    partial_path(dst).mkdir()
    (partial_path(dst) / "mine.txt").write_text("user data")
    with pytest.raises(OutputTargetError, match="not an unfinished axonseg run"):
        _build(dst, {"in": 1})
    assert (partial_path(dst) / "mine.txt").read_text() == "user data"


def test_a_value_json_cannot_hold_leaves_no_partial_folder(tmp_path):
    """issue 18.16: an invalid float (--threshold nan) left an empty .OUT.partial that refused the corrected run."""
    dst = tmp_path / "out"
    with pytest.raises(ValueError, match="settings.threshold"):
        _build(dst, {"settings": {"threshold": float("nan")}})
    assert list(tmp_path.iterdir()) == []
    assert _build(dst, {"settings": {"threshold": 0.5}}) == ["a", "b", "c", "d"]


def test_a_partial_folder_stopped_before_its_fingerprint_is_started_over(tmp_path):
    dst = tmp_path / "out"
    (partial_path(dst) / ".axonseg-progress").mkdir(parents=True)  # killed between mkdir and fingerprint
    assert _build(dst, {"in": 1}) == ["a", "b", "c", "d"]
