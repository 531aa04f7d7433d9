"""Test support: turn one of our checkpoints into what stock nnU-Net v1 / D-LMBmap wrote.

Stock nnU-Net v1 pickles numpy scalars into its checkpoints (``np.mean`` of float32
losses, float64 Dice and moving averages, ReduceLROnPlateau's ``best``), and D-LMBmap's
were written under numpy 1.x, whose scalars pickle as ``numpy.core.multiarray.scalar``.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import torch


def legacy_from(src: Path, dst: Path, numpy1_names: bool = True, keep_epochs: int | None = None) -> None:
    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    tr, val, val_tr, metrics = ckpt["plot_stuff"]
    if keep_epochs is not None:
        tr, val, val_tr, metrics = tr[:keep_epochs], val[:keep_epochs], val_tr[:keep_epochs], metrics[:keep_epochs]
        ckpt["epoch"] = keep_epochs
    ckpt["plot_stuff"] = ([np.float32(x) for x in tr], [np.float32(x) for x in val],
                          [np.float32(x) for x in val_tr], [np.float64(x) for x in metrics])
    best_epoch, best_ma, best_val = ckpt["best_stuff"]
    ckpt["best_stuff"] = (best_epoch, np.float64(best_ma), np.float64(best_val))
    sched = ckpt.get("lr_scheduler_state_dict")
    if sched and sched.get("best") is not None:
        sched["best"] = np.float64(sched["best"])
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    data = buf.getvalue()
    if numpy1_names:
        data = _rename_numpy_core(data)
    dst.write_bytes(data)


def _rename_numpy_core(zip_bytes: bytes) -> bytes:
    """Rewrite the pickle inside torch's zip so numpy scalars use numpy 1.x's module name."""
    src = zipfile.ZipFile(io.BytesIO(zip_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename.endswith("data.pkl"):
                assert b"numpy._core.multiarray\nscalar" in payload
                payload = payload.replace(b"numpy._core.multiarray\nscalar", b"numpy.core.multiarray\nscalar")
            dst.writestr(info, payload)
    return out.getvalue()
