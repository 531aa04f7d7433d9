"""Ctrl-C: one line, exit 130, and the same command resumes (no traceback, no lost work)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import zarr

from tests.inference.helpers import write_model


def _status(run_json: Path) -> str | None:
    try:
        return json.loads(run_json.read_text()).get("status")
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def test_sigint_during_predict_prints_one_line_exits_130_and_rerun_resumes(tmp_path):
    model = write_model(tmp_path / "m.pth", patch=(16, 16, 16), pools=2)
    z = zarr.create_array(str(tmp_path / "in.zarr"), shape=(64, 256, 256), chunks=(16, 32, 32), dtype="uint16",
                          attributes={"voxel_size_um": [1, 1, 1]})
    z[:] = np.random.default_rng(0).integers(500, 3000, size=z.shape, dtype=np.uint16)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "axonseg.cli.main", "predict", str(tmp_path / "in.zarr"), "--model", str(model),
           str(out), "--chunk", "16", "16", "16", "--block", "16", "32", "32", "--threads", "1", "--no-preview",
           "--quiet"]
    # a terminal's Ctrl-C: default SIGINT handling in the child even if something in this test process
    # left SIGINT ignored (an ignored signal is inherited through exec, and Python then keeps ignoring it)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    from axonseg.inference.state import OutputLayout

    done = OutputLayout(out).blocks_dir
    while (len(list(done.glob("*.done"))) if done.is_dir() else 0) < 3 and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.02)  # interrupt once a few of the 256 blocks are done (far from the end, even on a loaded CI)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and not any("KeyboardInterrupt" in line for line in err.splitlines())
    assert err.strip().splitlines()[-1] == "axonseg predict: interrupted; rerun the same command to resume"
    assert _status(out / "run.json") == "running"
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _status(out / "run.json") == "complete"
    assert " 0 already done" not in rerun.stdout  # it resumed: some blocks were kept from the first run
