"""The entry scripts users know: they run the axonseg command, or say how to set up first."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = ["create_data.py", "save_models.py", "predict_whole_brain.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_runs_its_command(script):
    out = subprocess.run([sys.executable, str(REPO / "scripts" / script), "--help"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "usage: axonseg" in out.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_before_setup_says_how(script, tmp_path):
    """The base interpreter of .venv has none of axonseg's dependencies: as before `make setup`."""
    base_python = Path(sys.base_prefix) / "bin" / "python3"
    probe = subprocess.run([str(base_python), "-c", "import axonseg"], capture_output=True, cwd=tmp_path)
    if probe.returncode == 0:
        pytest.skip(f"{base_python} has axonseg installed; cannot simulate a missing setup")
    out = subprocess.run([str(base_python), str(REPO / "scripts" / script), "--help"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 1
    assert "axonseg is not installed" in out.stderr and "make setup" in out.stderr
    assert "Traceback" not in out.stderr
