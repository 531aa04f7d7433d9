"""Clear errors for a missing setup: nnU-Net's environment variables, `axonseg check`."""
from __future__ import annotations

import pytest

from axonseg.cli import check
from axonseg.nnunet_v1.env import NNUNET_ENV_VARS, NnunetEnvError, NnunetPaths, require_nnunet_paths


def test_missing_env_vars_are_named_with_how_to_set_them():
    with pytest.raises(NnunetEnvError) as err:
        require_nnunet_paths({"nnUNet_raw_data_base": "/data/raw"})
    msg = str(err.value)
    assert "nnUNet_preprocessed, RESULTS_FOLDER" in msg
    assert "export nnUNet_preprocessed=" in msg and "export RESULTS_FOLDER=" in msg
    assert "export nnUNet_raw_data_base" not in msg


def test_env_vars_round_trip(tmp_path):
    paths = NnunetPaths.under(tmp_path)
    assert require_nnunet_paths(paths.environ()) == paths
    assert set(paths.environ()) == set(NNUNET_ENV_VARS)


def test_check_command_exit_codes(monkeypatch, tmp_path, capsys):
    for var in NNUNET_ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    assert check.main([]) == 1
    assert "RESULTS_FOLDER" in capsys.readouterr().err
    paths = NnunetPaths.under(tmp_path)
    for var, value in paths.environ().items():
        monkeypatch.setenv(var, value)
    paths.make_dirs()
    assert check.main([]) == 0
    assert "registered with nnU-Net" in capsys.readouterr().out


def test_check_refuses_nnunet_folders_that_do_not_exist(monkeypatch, tmp_path, capsys):
    """Issue 18 item 51: the variables set but a folder missing is not "ok"."""
    paths = NnunetPaths.under(tmp_path)
    for var, value in paths.environ().items():
        monkeypatch.setenv(var, value)
    paths.preprocessed.mkdir(parents=True)
    paths.results.mkdir()
    assert check.main([]) == 1
    captured = capsys.readouterr()
    assert "ok: nnU-Net folders" not in captured.out
    err = [line for line in captured.err.splitlines() if "nnU-Net folder" in line]
    assert err == [f"error: nnU-Net folder(s) nnUNet_raw_data_base={paths.raw_data_base} do not exist (or are "
                   "not folders): create them (mkdir -p) or point the variables at existing folders"]
