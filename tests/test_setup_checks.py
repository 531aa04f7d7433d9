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
    for var, value in NnunetPaths.under(tmp_path).environ().items():
        monkeypatch.setenv(var, value)
    assert check.main([]) == 0
    assert "registered with nnU-Net" in capsys.readouterr().out
