"""Worker processes end when their parent does.

``ProcessPoolExecutor`` workers (spawn) outlive a parent killed with SIGKILL (or SIGTERM with no
handler): they would run their queued jobs on, writing into a staging folder that nobody will
use. :func:`exit_with_parent` is a pool ``initializer``: a daemon thread in the worker polls its
parent id and ends the worker as soon as the parent is gone (the worker is re-parented).
"""
from __future__ import annotations

import os
import threading
import time

POLL_S = 0.2


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_S)
    os._exit(1)  # the parent is gone: no one reads this worker's results


def exit_with_parent(parent_pid: int) -> None:
    """Pool initializer: end this worker when process ``parent_pid`` (its parent) ends."""
    threading.Thread(target=_watch, args=(parent_pid,), daemon=True, name="axonseg-parent-watch").start()
