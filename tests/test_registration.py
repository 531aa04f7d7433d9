"""The shim that lets nnU-Net v1 find our trainers: idempotent, reversible, and installed."""
from __future__ import annotations

import subprocess
import sys

import pytest

from axonseg.nnunet_v1.registration import SHIM_TEXT, is_registered, register, shim_path, unregister


def test_register_is_idempotent_and_unregister_reverses_it(tmp_path):
    path, changed = register(tmp_path)
    assert changed and path.read_text() == SHIM_TEXT
    mtime = path.stat().st_mtime_ns
    assert register(tmp_path) == (path, False)
    assert path.stat().st_mtime_ns == mtime
    assert is_registered(tmp_path)
    assert unregister(tmp_path) == (path, True)
    assert not path.exists()
    assert unregister(tmp_path) == (path, False)


def test_outdated_shim_is_rewritten(tmp_path):
    shim_path(tmp_path).write_text("# Written by `axonseg register` (old)\n")
    assert register(tmp_path)[1]
    assert shim_path(tmp_path).read_text() == SHIM_TEXT


def test_unregister_refuses_a_foreign_file(tmp_path):
    shim_path(tmp_path).write_text("print('not ours')\n")
    with pytest.raises(RuntimeError, match="not written by axonseg"):
        unregister(tmp_path)
    assert shim_path(tmp_path).exists()


def test_setup_registered_the_trainers_with_nnunet():
    assert is_registered(), "run `make setup` (it runs `axonseg register`)"
    code = ("import os; from nnunet.training.model_restore import recursive_find_python_class as f; import nnunet;"
            "d = os.path.join(nnunet.__path__[0], 'training', 'network_training');"
            "print(f([d], 'MyTrainerAxial', 'nnunet.training.network_training').__module__);"
            "print(f([d], 'nnUNetTrainerV2', 'nnunet.training.network_training').__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[-2:] == ["axonseg_trainers.axial", "nnunet.training.network_training.nnUNetTrainerV2"]
