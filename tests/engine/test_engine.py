"""The block engine: regions, one writer per chunk, serial (with and without I/O overlap) and Dask
runners give the in-memory result, dependencies are respected, the folder lock."""
from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

from axonseg.engine import Block, BlockTask, FolderLock, LockError, Region, grid_blocks, run_dask, run_serial


def test_region_grow_intersect_snap_slices():
    r = Region((3, 5, 7), (10, 12, 20))
    assert r.shape == (7, 7, 13) and r.size == 7 * 7 * 13
    assert r.grow(2) == Region((1, 3, 5), (12, 14, 22))
    assert r.grow((1, 0, 0), (0, 0, 2)) == Region((2, 5, 7), (10, 12, 22))
    assert r.intersect(Region((0, 0, 0), (4, 4, 100))).empty
    assert r.intersect(Region((0, 0, 0), (4, 6, 100))) == Region((3, 5, 7), (4, 6, 20))
    vol = Region.from_shape((30, 30, 18))
    assert r.snap((8, 8, 8), vol) == Region((0, 0, 0), (16, 16, 18))
    assert r.snap((8, 8, 8), vol).is_snapped((8, 8, 8), vol) and not r.is_snapped((8, 8, 8), vol)
    assert r.to_slices() == (slice(3, 10), slice(5, 12), slice(7, 20))
    assert r.relative_to(Region((3, 5, 7), (4, 4, 4))) == Region((0, 0, 0), (7, 7, 13))


def test_two_blocks_writing_one_chunk_are_refused():
    vol = Region.from_shape((16, 16, 16))
    blocks = (Block(0, Region((0, 0, 0), (8, 16, 16))), Block(1, Region((8, 0, 0), (16, 16, 16))))
    BlockTask("ok", blocks, compute=None, store=None, is_done=None, chunk_shape=(8, 8, 8), bounds=vol)
    with pytest.raises(ValueError, match="not a union of whole chunks"):
        BlockTask("x", (Block(0, Region((0, 0, 0), (4, 16, 16))),), None, None, None, chunk_shape=(8, 8, 8),
                  bounds=vol)
    overlapping = (Block(0, Region((0, 0, 0), (16, 16, 16))), Block(1, Region((8, 0, 0), (16, 16, 16))))
    with pytest.raises(ValueError, match="both write chunk"):
        BlockTask("x", overlapping, None, None, None, chunk_shape=(8, 8, 8), bounds=vol)


# A job with dependencies: the running sum along z (np.cumsum), block by block. Each block adds the
# last plane handed on by the block below it (a file), like the predictor's spills.
def _load(src: str, blocks, index: int) -> np.ndarray:
    return zarr.open_array(src, mode="r")[blocks[index].write_slices]


def _below(blocks, grid, index: int) -> tuple[int, ...]:
    z, y, x = np.unravel_index(index, grid)
    return (int(np.ravel_multi_index((z - 1, y, x), grid)),) if z > 0 else ()


def _compute(work: str, blocks, grid, index: int, data: np.ndarray, progress) -> np.ndarray:
    out = np.cumsum(data, axis=0, dtype=np.int64)
    for d in _below(blocks, grid, index):
        out += np.load(Path(work) / f"carry-{d}.npy")
    progress(1)
    return out


def _store(work: str, dst: str, blocks, index: int, out: np.ndarray) -> tuple[int, int]:
    zarr.open_array(dst, mode="r+")[blocks[index].write_slices] = out
    np.save(Path(work) / f"carry-{index}.npy", out[-1:])
    (Path(work) / f"{index}.done").write_text(json.dumps({"pid": os.getpid()}))
    return index, os.getpid()


def _done(work: str, index: int) -> bool:
    return (Path(work) / f"{index}.done").exists()


def _cumsum_task(tmp: Path, shape=(37, 21, 26), block=(8, 16, 8)) -> tuple[BlockTask, np.ndarray, str]:
    rng = np.random.default_rng(0)
    data = rng.integers(0, 100, size=shape).astype(np.int64)
    src, dst = str(tmp / "src.zarr"), str(tmp / "dst.zarr")
    zarr.create_array(src, data=data, chunks=(5, 7, 9))
    zarr.create_array(dst, shape=shape, chunks=block, dtype=np.int64)
    blocks = grid_blocks(shape, block, block)
    grid = tuple(-(-s // b) for s, b in zip(shape, block))
    work = str(tmp)
    task = BlockTask("cumsum", blocks, compute=functools.partial(_compute, work, blocks, grid),
                     store=functools.partial(_store, work, dst, blocks), is_done=functools.partial(_done, work),
                     load=functools.partial(_load, src, blocks), depends_on=functools.partial(_below, blocks, grid),
                     chunk_shape=block, bounds=Region.from_shape(shape))
    return task, np.cumsum(data, axis=0), dst


@pytest.mark.parametrize("overlap_io", [True, False])
def test_serial_runner_equals_in_memory(tmp_path, overlap_io):
    task, expected, dst = _cumsum_task(tmp_path)
    results, progressed = [], []
    run_serial(task, task.pending(), results.append, lambda i, n: progressed.append(i), overlap_io=overlap_io)
    assert sorted(i for i, _ in results) == list(range(len(task.blocks))) == sorted(progressed)
    np.testing.assert_array_equal(zarr.open_array(dst)[:], expected)
    assert task.pending() == []


def test_dask_runner_equals_in_memory_and_respects_dependencies(tmp_path):
    task, expected, dst = _cumsum_task(tmp_path)
    results = []
    run_dask(task, task.pending(), results.append, n_workers=2)
    assert len(results) == len(task.blocks)
    assert os.getpid() not in {pid for _, pid in results}, "blocks must run in worker processes"
    np.testing.assert_array_equal(zarr.open_array(dst)[:], expected)


def test_rerun_skips_done_blocks(tmp_path):
    task, expected, dst = _cumsum_task(tmp_path)
    first = task.pending()[:5]
    run_serial(task, first, lambda r: None)
    assert task.pending() == [b.index for b in task.blocks][5:]
    run_serial(task, task.pending(), lambda r: None)
    np.testing.assert_array_equal(zarr.open_array(dst)[:], expected)


def test_folder_lock_is_exclusive_and_names_the_folder(tmp_path):
    with FolderLock(tmp_path):
        with pytest.raises(LockError, match=f"{tmp_path}: in use by process {os.getpid()}"):
            FolderLock(tmp_path).acquire()
    FolderLock(tmp_path).acquire().release()  # released: free again


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, caplog):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    import socket
    (tmp_path / ".axonseg.lock").write_text(json.dumps({"pid": int(dead), "host": socket.gethostname()}))
    with caplog.at_level(logging.WARNING):
        with FolderLock(tmp_path) as lock:
            assert lock.held and json.loads(lock.path.read_text())["pid"] == os.getpid()
    assert "stale lock" in caplog.text


def _sleep_load(i: int) -> int:
    import time
    time.sleep(0.15)
    return i


def _sleep_compute(i: int, loaded: int, progress) -> int:
    import time
    time.sleep(0.15)
    return loaded


def _sleep_store(log: list, i: int, out: int) -> int:
    import time
    time.sleep(0.15)
    log.append(out)
    return out


def test_serial_runner_overlaps_reading_and_writing_with_compute():
    import time

    blocks = grid_blocks((8, 8, 8), (2, 8, 8))  # 4 blocks; load, compute, store 0.15 s each
    seconds = {}
    for overlap in (False, True):
        log: list = []
        task = BlockTask("sleep", blocks, compute=_sleep_compute, store=functools.partial(_sleep_store, log),
                         is_done=lambda i: False, load=_sleep_load)
        t = time.perf_counter()
        results: list = []
        run_serial(task, range(4), results.append, overlap_io=overlap)
        seconds[overlap] = time.perf_counter() - t
        assert results == log == [0, 1, 2, 3]
    assert seconds[False] > 1.7  # 4 x 0.45 s one after the other
    assert seconds[True] < 0.75 * seconds[False], seconds  # ~0.15 + 4 x 0.15 + 0.15 when overlapped


def _import_nnunet_on_a_worker(i, loaded, progress):
    import axonseg.networks  # noqa: F401  (imports nnunet, which prints its citation banner)

    return i


def test_dask_workers_print_no_nnunet_banner(tmp_path, capfd):
    """Issue 18 item 21: every Dask worker printed nnU-Net's banner into the user's terminal."""
    blocks = grid_blocks((4, 4, 4), (4, 4, 4), (4, 4, 4))
    task = BlockTask("banner", blocks, compute=_import_nnunet_on_a_worker, store=lambda i, c: c,
                     is_done=lambda i: False, load=lambda i: None)
    results = []
    run_dask(task, [0], results.append, n_workers=1)
    assert results == [0]
    out = capfd.readouterr()
    assert "Please cite" not in out.out + out.err and "distributed.scheduler" not in out.err
