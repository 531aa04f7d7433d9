"""Dask worker plugins of :func:`axonseg.engine.runners.run_dask` (imported only where Dask runs)."""
from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin


class QuietWorker(WorkerPlugin):
    """Import nnU-Net without its banner when a worker joins: unpickling an axonseg task imports it, and
    every worker used to print the citation banner into the user's terminal."""

    def setup(self, worker) -> None:
        from axonseg.nnunet_v1.quiet_import import quiet_nnunet_import

        quiet_nnunet_import()
