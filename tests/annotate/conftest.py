from pathlib import Path

import pytest

DLMBMAP = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "dlmbmap"


@pytest.fixture
def dlmbmap() -> Path:
    """The real D-LMBmap data beside the repo (``<repo>/../shared/data/dlmbmap``)."""
    if not (DLMBMAP / "README.md").is_file():
        pytest.skip(f"real D-LMBmap data not found at {DLMBMAP} (CI puts ../shared beside the repo)")
    return DLMBMAP
