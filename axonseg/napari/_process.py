"""``axonseg predict`` as a child process that a GUI can watch and cancel (no Qt here).

The widget runs the real command line (``python -m axonseg.cli.main predict ...``) in its
own process: the GUI stays responsive, cancelling is a signal (SIGINT: predict stops and
says "rerun to resume", since a prediction resumes block by block; SIGKILL after a grace
period), and what the command prints is what a user of the command line would see.
Progress is read from the command's progress bar (``n/total`` of tqdm on stderr).
"""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

_PROGRESS = re.compile(r"(\d+)/(\d+) \[")


def predict_command(input_path: str | Path, output: str | Path, model: str | Path | None = None,
                    mask_threshold: float | None = 0.5, device: str = "cpu",
                    voxel_size_um: Sequence[float] | None = None) -> list[str]:
    """The ``axonseg predict`` command line (this Python) for one run; ``model`` None: the shipped one."""
    cmd = [sys.executable, "-m", "axonseg.cli.main", "predict", str(input_path), str(output), "--device", device]
    if model is not None:
        cmd += ["--model", str(model)]
    if mask_threshold is not None:
        cmd += ["--mask-threshold", repr(float(mask_threshold))]
    if voxel_size_um is not None:
        cmd += ["--voxel-size-um", *(repr(float(v)) for v in voxel_size_um)]
    return cmd


class PredictProcess:
    """One running ``axonseg predict``: progress, the text it printed, cancel."""

    def __init__(self, command: Sequence[str]):
        self.command = list(command)
        self._proc: subprocess.Popen | None = None
        self._text: list[str] = []
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self.cancelled = False
        self._kill_at: float | None = None

    def start(self) -> "PredictProcess":
        self._proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for chunk in iter(lambda: self._proc.stdout.read1(4096), b""):
            with self._lock:
                self._text.append(chunk.decode("utf-8", "replace"))

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def text(self) -> str:
        """Everything the command printed so far (stdout and stderr)."""
        with self._lock:
            return "".join(self._text)

    def progress(self) -> tuple[int, int] | None:
        """(done, total) from the last progress-bar update printed, or ``None`` before the first."""
        matches = _PROGRESS.findall(self.text()[-4000:])
        return (int(matches[-1][0]), int(matches[-1][1])) if matches else None

    def last_message(self) -> str:
        """The last line the command printed that is not a progress-bar update."""
        lines = [ln.strip() for part in self.text().split("\n") for ln in part.split("\r")]
        lines = [ln for ln in lines if ln and not _PROGRESS.search(ln)]
        return lines[-1] if lines else ""

    def wait(self, timeout_s: float | None = None) -> int:
        assert self._proc is not None
        rc = self._proc.wait(timeout_s)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return rc

    def cancel(self, grace_s: float = 10.0) -> None:
        """Ask the run to stop: SIGINT now (predict exits 130, resumable); :meth:`poll` kills it
        if it is still running ``grace_s`` later. Returns at once."""
        if not self.running():
            return
        assert self._proc is not None
        self.cancelled = True
        self._kill_at = time.monotonic() + grace_s
        self._proc.send_signal(signal.SIGINT)

    def poll(self) -> bool:
        """Whether the process still runs; enforces the cancel grace period."""
        if self.running() and self._kill_at is not None and time.monotonic() > self._kill_at:
            assert self._proc is not None
            self._proc.kill()
            self._proc.wait()
        return self.running()
