"""Issue 18 item 38: zarr's interrupted-write files (``<key>.<32 hex>.partial``) are removed when a
run resumes, and nothing else is."""
from __future__ import annotations

import uuid

import pytest

from axonseg.io.resumable import resumable_folder
from axonseg.io.zarr_partials import remove_partial_writes


def _tree(root):
    chunk = root / "a.ome.zarr" / "0" / "c" / "0" / "0"
    chunk.mkdir(parents=True)
    left = [chunk / f"1.{uuid.uuid4().hex}.partial", root / "a.ome.zarr" / f"zarr.{uuid.uuid4().hex}.partial"]
    kept = [chunk / "0", chunk / "notes.partial", root / f"b.{uuid.uuid4().hex}.partial",  # not in a zarr
            chunk / f"2.{uuid.uuid4().hex[:31]}.partial"]                                 # not zarr's name
    for p in left + kept:
        p.write_bytes(b"x")
    return left, kept


def test_only_zarrs_temporary_files_are_removed(tmp_path):
    left, kept = _tree(tmp_path)
    assert sorted(remove_partial_writes(tmp_path)) == sorted(left)
    assert not any(p.exists() for p in left) and all(p.exists() for p in kept)


def test_a_resumed_resumable_folder_loses_them(tmp_path):
    dst = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with resumable_folder(dst, {"a": 1}) as st:
            left, kept = _tree(st.path)
            raise KeyboardInterrupt  # kept for a resume
    assert all(p.exists() for p in left)
    with resumable_folder(dst, {"a": 1}) as st:
        assert st.resumed and not any(p.exists() for p in left)
    assert sorted(p.name for p in dst.rglob("*.partial")) == sorted(p.name for p in kept if p.name.endswith("partial"))
