"""Runners: execute a :class:`~axonseg.engine.task.BlockTask`'s pending blocks serially or on Dask.

Both call ``on_result(result)`` in the calling process as blocks finish.

- :func:`run_serial` runs in this process and overlaps I/O with compute: the next block's
  ``load`` runs in a reader thread and each ``store`` in a writer thread while the next
  block computes (a block waits for the stores of the blocks it depends on). At most
  ``max_pending_stores`` stores wait, which bounds memory.
- :func:`run_dask` submits one task per block to a local cluster or a scheduler, with the
  task's dependencies as Dask dependencies.
"""
from __future__ import annotations

import functools
import logging
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterable

from axonseg.engine.task import BlockTask, _no_progress, run_block_after

logger = logging.getLogger(__name__)


def run_serial(task: BlockTask, indices: Iterable[int], on_result: Callable[[Any], None],
               progress: Callable[[int, int], None] = _no_progress, overlap_io: bool = True,
               max_pending_stores: int = 2) -> None:
    """Run ``indices`` (in order; each after its dependencies) in this process; ``progress(index, n)``
    is called as block ``index`` completes ``n`` more units of work (e.g. patches)."""
    indices = list(indices)
    if not overlap_io:
        for i in indices:
            loaded = task.load(i) if task.load is not None else None
            on_result(task.store(i, task.compute(i, loaded, functools.partial(progress, i))))
        return
    stores: dict[int, Future] = {}
    order: list[int] = []
    with ThreadPoolExecutor(1, thread_name_prefix=f"{task.name}-read") as reader, \
            ThreadPoolExecutor(1, thread_name_prefix=f"{task.name}-write") as writer:

        def load(i: int) -> Future:
            if task.load is None:
                f: Future = Future()
                f.set_result(None)
                return f
            return reader.submit(task.load, i)

        def drain(keep: int) -> None:
            while len(order) > keep or (order and stores[order[0]].done()):
                on_result(stores.pop(order.pop(0)).result())

        try:
            nxt = load(indices[0]) if indices else None
            for k, i in enumerate(indices):
                loaded = nxt.result()
                nxt = load(indices[k + 1]) if k + 1 < len(indices) else None
                for d in task.dependencies(i):
                    if d in stores:
                        stores[d].result()
                out = task.compute(i, loaded, functools.partial(progress, i))
                drain(max_pending_stores - 1)
                stores[i] = writer.submit(task.store, i, out)
                order.append(i)
                drain(max_pending_stores)
            drain(0)
        except BaseException:
            for f in stores.values():
                f.cancel()
            if nxt is not None:
                nxt.cancel()
            raise


def run_dask(task: BlockTask, indices: Iterable[int], on_result: Callable[[Any], None],
             scheduler_address: str | None = None, n_workers: int = 2) -> None:
    """One Dask task per block on a local cluster of ``n_workers`` processes (one thread each), or on the
    scheduler at ``scheduler_address`` (e.g. dask-jobqueue's SLURMCluster). Blocks that are already done
    are not dependencies (their results are on disk)."""
    from distributed import Client, LocalCluster, as_completed

    indices = list(indices)
    if not indices:
        return
    logging.getLogger("distributed").setLevel(logging.WARNING)  # its INFO chatter is not the user's business
    cluster = None
    if scheduler_address is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.WARNING)
    client = Client(scheduler_address or cluster)
    try:
        from axonseg.engine.dask_plugins import QuietWorker

        client.register_plugin(QuietWorker(), name="axonseg-quiet-worker")
        futures, token = {}, uuid.uuid4().hex[:8]
        for i in indices:  # index order: dependencies (lower indices) are submitted first
            deps = [futures[d] for d in task.dependencies(i) if d in futures]
            futures[i] = client.submit(run_block_after, task, i, *deps, pure=False, key=f"{task.name}-{i}-{token}")
        for fut in as_completed(list(futures.values())):
            on_result(fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
