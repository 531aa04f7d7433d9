"""The one shared-data helper: skips with the path outside CI, fails under ``CI=true``."""
from __future__ import annotations

import pytest

from tests import conftest


def test_missing_shared_data_skips_outside_ci_and_fails_under_ci(tmp_path, monkeypatch):
    """Kills: real-data tests passing quietly on CI when ../shared/data is missing."""
    missing = tmp_path / "no-shared" / "dlmbmap"
    monkeypatch.setattr(conftest, "SHARED_DATA", missing)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-shared"):
        conftest.require_dlmbmap_data("Fine-label")
    for value in ("true", "TRUE", "True"):
        monkeypatch.setenv("CI", value)
        with pytest.raises(pytest.fail.Exception, match="CI: real D-LMBmap data missing at .*no-shared"):
            conftest.require_dlmbmap_data("Fine-label")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        conftest.require_dlmbmap_data()


def test_present_shared_data_is_returned(tmp_path, monkeypatch):
    (tmp_path / "dlmbmap" / "Fine-label").mkdir(parents=True)
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path / "dlmbmap")
    monkeypatch.setenv("CI", "true")
    assert conftest.require_dlmbmap_data("Fine-label") == tmp_path / "dlmbmap" / "Fine-label"


def test_no_test_module_defines_its_own_shared_path():
    """Kills: a test that builds ../shared itself and skips on its own terms (five did)."""
    needle = '/ "' + 'shared" /'  # written split so that this file does not match itself
    offenders = [p.relative_to(conftest.REPO).as_posix() for p in (conftest.REPO / "tests").rglob("*.py")
                 if p.name != "conftest.py" and needle in p.read_text()]
    assert offenders == []
