"""Shared fixtures: where the real D-LMBmap data lives (../shared beside the repo)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "dlmbmap"


@pytest.fixture(scope="session")
def dlmbmap_data() -> Path:
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: real D-LMBmap data missing at {SHARED_DATA} (CI must have ../shared beside the repo)")
        pytest.skip(f"real D-LMBmap data not found at {SHARED_DATA} (../shared beside the repository)")
    return SHARED_DATA
