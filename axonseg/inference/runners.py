"""Runners: call the block function for every pending block, serially or on Dask.

Both take ``fn(index) -> result`` (a picklable callable, e.g. ``functools.partial(run_block,
job)``) and call ``on_result`` in the main process as blocks finish, one task per block.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

logger = logging.getLogger(__name__)


def run_serial(fn: Callable[[int], Any], indices: Iterable[int], on_result: Callable[[Any], None]) -> None:
    """Run blocks one after the other in this process."""
    for i in indices:
        on_result(fn(i))


def run_dask(fn: Callable[[int], Any], indices: Iterable[int], on_result: Callable[[Any], None],
             scheduler_address: str | None = None, n_workers: int = 2) -> None:
    """Run one task per block on Dask: a local cluster of ``n_workers`` processes (one thread each),
    or the scheduler at ``scheduler_address`` (e.g. dask-jobqueue's SLURMCluster)."""
    from distributed import Client, LocalCluster, as_completed

    indices = list(indices)
    if not indices:
        return
    cluster = None
    if scheduler_address is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(scheduler_address or cluster)
    try:
        futures = client.map(fn, indices, pure=False)
        for fut in as_completed(futures):
            on_result(fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
