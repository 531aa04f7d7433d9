"""Files and folders written atomically get the umask's permissions, not mkstemp's 0600 / mkdtemp's
0700: a lab's shared folder can read run.json, done markers, previews, density.json, the task (issue 18.22)."""
from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from axonseg.io.atomic import staged_folder, write_json_atomic
from axonseg.io.nifti import write_nifti


@pytest.fixture(params=[0o022, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_files_and_staged_folders_follow_the_umask(tmp_path, umask):
    write_json_atomic(tmp_path / "run.json", {"a": 1})
    write_nifti(tmp_path / "x.nii.gz", np.zeros((2, 3, 4), np.uint8), (1, 1, 1))
    with staged_folder(tmp_path / "out") as tmp:
        (tmp / "f").write_text("x")
    assert _mode(tmp_path / "run.json") == 0o666 & ~umask
    assert _mode(tmp_path / "x.nii.gz") == 0o666 & ~umask
    assert _mode(tmp_path / "out") == 0o777 & ~umask


def test_a_created_task_follows_the_umask(tmp_path, umask):
    from axonseg.cli.main import main as axonseg_main
    from tests.test_create_data_cli import _args, _line_labels, make_tree

    root = make_tree(tmp_path / "in", _line_labels(3, 16), n_artifacts=2)
    assert axonseg_main(_args(root, tmp_path / "raw", "--samples-per-cube", "1")) == 0
    task = tmp_path / "raw" / "nnUNet_raw_data" / "Task611_Test"
    assert _mode(task) == 0o777 & ~umask
    assert {_mode(p) for p in task.rglob("*") if p.is_file()} == {0o666 & ~umask}
