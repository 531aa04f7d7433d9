from pathlib import Path

import pytest


@pytest.fixture
def dlmbmap(dlmbmap_data) -> Path:
    """The real D-LMBmap data beside the repo (see ``tests/conftest.py``; fails under CI if absent)."""
    return dlmbmap_data
