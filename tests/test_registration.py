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


def test_register_writes_the_start_up_guard_and_unregister_removes_it(tmp_path):
    from axonseg.nnunet_v1.registration import GUARD_TEXT, guard_path

    register(tmp_path)
    assert guard_path(tmp_path).read_text() == GUARD_TEXT
    guard_path(tmp_path).unlink()
    assert not is_registered(tmp_path)  # half a registration is not one
    assert register(tmp_path)[1] and is_registered(tmp_path)
    unregister(tmp_path)
    assert sorted(tmp_path.iterdir()) == []


def test_guard_names_only_the_variables_the_command_needs():
    from axonseg.nnunet_v1.env_guard import problem

    env = {"nnUNet_raw_data_base": "/r"}
    assert "nnUNet_preprocessed, RESULTS_FOLDER not set" in problem(["/venv/bin/nnUNet_train", "3d_fullres"], env)
    assert problem(["/venv/bin/nnUNet_predict"], {"RESULTS_FOLDER": "/x"}) is None
    assert problem(["/venv/bin/nnUNet_train", "-h"], {}) is None  # help works without the folders
    assert problem(["/usr/bin/python", "script.py"], {}) is None  # every other program is left alone


def test_nnunet_train_without_its_variables_is_one_line_and_exit_1(tmp_path):
    from axonseg.nnunet_v1.commands import console_script

    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("nnUNet_raw_data_base", "nnUNet_preprocessed", "RESULTS_FOLDER")}
    out = subprocess.run([console_script("nnUNet_train"), "3d_fullres", "MyTrainerAxial", "Task501_X", "0"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]
    assert "nnUNet_preprocessed, RESULTS_FOLDER not set" in out.stderr
