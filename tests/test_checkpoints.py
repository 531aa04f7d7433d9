"""Safe loading (torch's weights_only default) of our and of legacy nnU-Net v1 checkpoints."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from axonseg.nnunet_v1.checkpoints import NNUNET_V1_SAFE_GLOBALS, allow_nnunet_v1_globals, load_checkpoint, to_builtin
from tests.legacy_checkpoint import legacy_from


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)


@pytest.fixture()
def ours(tmp_path):
    """A checkpoint shaped like nnU-Net v1's, as our trainers write it (no numpy inside)."""
    ckpt = {"epoch": 2, "state_dict": {"w": torch.arange(4.0)}, "optimizer_state_dict": None,
            "lr_scheduler_state_dict": {"best": 0.5, "patience": 30},
            "plot_stuff": ([0.9, 0.8], [0.85, 0.79], [], [0.1, 0.2]), "best_stuff": (1, 0.81, 0.15)}
    path = tmp_path / "ours.model"
    torch.save(ckpt, path)
    return path


def test_to_builtin_leaves_no_numpy():
    out = to_builtin({"a": [np.float32(1.5), (np.int64(2), np.array(3.0))], "b": "x"})
    assert out == {"a": [1.5, (2, 3.0)], "b": "x"}
    assert type(out["a"][0]) is float and type(out["a"][1][0]) is int


def test_legacy_checkpoint_needs_the_allow_list_and_loads_with_it(ours, tmp_path):
    legacy = tmp_path / "legacy.model"
    legacy_from(ours, legacy, numpy1_names=True)
    plain = _run(f"import torch; torch.load({str(legacy)!r})")
    assert plain.returncode != 0 and "numpy.core.multiarray.scalar" in plain.stderr
    ours_plain = _run(f"import torch; print(torch.load({str(ours)!r})['epoch'])")
    assert ours_plain.returncode == 0 and ours_plain.stdout.strip() == "2"
    ckpt = load_checkpoint(legacy)
    assert isinstance(ckpt["plot_stuff"][0][0], np.float32)
    assert ckpt["best_stuff"][1] == pytest.approx(0.81)
    assert torch.equal(ckpt["state_dict"]["w"], torch.arange(4.0))


def test_allow_list_is_exact_and_idempotent():
    allow_nnunet_v1_globals()
    allow_nnunet_v1_globals()
    safe = torch.serialization.get_safe_globals()
    for g in NNUNET_V1_SAFE_GLOBALS:
        assert safe.count(g) == 1
    # still refuses anything else numpy can pickle, e.g. whole arrays
    result = _run("""
        import io, numpy as np, torch
        from axonseg.nnunet_v1.checkpoints import allow_nnunet_v1_globals
        allow_nnunet_v1_globals()
        buf = io.BytesIO(); torch.save({"a": np.zeros(3)}, buf); buf.seek(0)
        torch.load(buf)
    """)
    assert result.returncode != 0 and "Unsupported global" in result.stderr
