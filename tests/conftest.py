"""Shared fixtures. The one place that knows where the real D-LMBmap data lives.

The data is ``../shared/data/dlmbmap`` beside the repository. Tests that need it take the
``dlmbmap_data`` fixture (or call :func:`require_dlmbmap_data`). When the folder is missing the
test is skipped with the path in the reason, except under CI (``CI=true``), where the test
fails: CI must have ``../shared`` beside the checkout, so a missing folder is a broken set-up,
not a reason to pass quietly.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "dlmbmap"


def running_under_ci() -> bool:
    """``CI=true`` (any case), as GitHub Actions, GitLab CI and most others set it."""
    return os.environ.get("CI", "").strip().lower() == "true"


def require_dlmbmap_data(*parts: str) -> Path:
    """``SHARED_DATA / parts``; fails under CI, else skips, when it does not exist."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if running_under_ci():
            pytest.fail(f"CI: real D-LMBmap data missing at {path} (CI must have ../shared beside the repo)",
                        pytrace=False)
        pytest.skip(f"real D-LMBmap data not found at {path} (../shared beside the repository)")
    return path


@pytest.fixture(scope="session")
def dlmbmap_data() -> Path:
    """The real D-LMBmap data folder (``../shared/data/dlmbmap``)."""
    return require_dlmbmap_data()
