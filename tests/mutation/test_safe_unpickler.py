"""nnU-Net pickles (plans.pkl, checkpoint .pkl) are read with an allow-list: a pickle that calls
os.system, posix.system, builtins.eval, ... is refused before anything runs."""
from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from axonseg.inference import load_model
from axonseg.nnunet_v1.plans import ModelFolderError, read_pickle
from tests.inference.test_weights import make_result_folder


def _call(module: str, name: str, argument: str) -> bytes:
    """Protocol-0 pickle of ``module.name(argument)`` (GLOBAL + REDUCE), written by hand so the
    module name is exactly the one given (``os``, ``posix``, ``builtins`` ...)."""
    return f"c{module}\n{name}\n(V{argument}\ntR.".encode()


def _call_stack_global(module: str, name: str, argument: str) -> bytes:
    """Protocol-4 pickle of the same call (STACK_GLOBAL opcode: another path into find_class)."""
    def short(text: str) -> bytes:
        data = text.encode()
        return b"\x8c" + bytes([len(data)]) + data
    return b"\x80\x04" + short(module) + short(name) + b"\x93" + short(argument) + b"\x85R."


def _payloads(sentinel: Path) -> dict[str, bytes]:
    touch = f"touch {sentinel}"
    create = f"open({str(sentinel)!r}, 'w').close()"
    return {
        "os.system": _call("os", "system", touch),
        "posix.system": _call("posix", "system", touch),
        "builtins.eval": _call("builtins", "eval", create),
        "builtins.exec": _call("builtins", "exec", create),
        "subprocess.getoutput": _call("subprocess", "getoutput", touch),
        "builtins.open": _call("builtins", "open", str(sentinel) + ".open"),
        "posix.system (protocol 4)": _call_stack_global("posix", "system", touch),
        "builtins.eval (protocol 4)": _call_stack_global("builtins", "eval", create),
    }


def test_the_payloads_do_run_under_plain_pickle(tmp_path):
    """The oracle is live: without the allow-list each payload creates its sentinel file."""
    for i, (name, data) in enumerate(_payloads(tmp_path / "ran").items()):
        if name.startswith("builtins.open"):
            continue
        pickle.loads(data)
        assert (tmp_path / "ran").exists(), name
        (tmp_path / "ran").unlink()


def test_dangerous_globals_are_refused_and_never_run(tmp_path):
    """Kills: the safe unpickler allowing every global."""
    sentinel = tmp_path / "ran"
    for name, data in _payloads(sentinel).items():
        path = tmp_path / "evil.pkl"
        path.write_bytes(data)
        with pytest.raises(ModelFolderError, match=r"evil\.pkl: .*refusing to load global"):
            read_pickle(path)
        assert not sentinel.exists() and not Path(str(sentinel) + ".open").exists(), f"{name} ran"


def test_a_malicious_plans_pkl_in_a_result_folder_is_refused(tmp_path):
    """Kills: the same, reached the way a user reaches it (predict / save-models on a result folder)."""
    folder, _ = make_result_folder(tmp_path, architecture="generic_unet")
    sentinel = tmp_path / "ran"
    (folder / "plans.pkl").write_bytes(_call("os", "system", f"touch {sentinel}"))
    with pytest.raises(ModelFolderError, match="plans.pkl"):
        load_model(folder)
    assert not sentinel.exists()


def test_plain_data_still_loads(tmp_path):
    data = OrderedDict(a=np.arange(4, dtype=np.float32), b={1: np.float64(2.5), 2: [np.int64(3), (1, 2)]},
                       c={frozenset({1}), 3}, d=np.array([[1, 2]], dtype=np.int64))
    (tmp_path / "ok.pkl").write_bytes(pickle.dumps(data))
    back = read_pickle(tmp_path / "ok.pkl")
    assert list(back) == ["a", "b", "c", "d"] and back["b"][1] == 2.5 and back["c"] == {frozenset({1}), 3}
    np.testing.assert_array_equal(back["a"], data["a"])
