"""Turn a network into ``predict_patches(batch) -> softmax probabilities`` for the block predictor."""
from __future__ import annotations

import itertools
import logging
from typing import Callable

import numpy as np
import torch

logger = logging.getLogger(__name__)

MIRROR_AXES = (2, 3, 4)


def resolve_device(device: str) -> torch.device:
    """``cpu`` / ``cuda`` / ``cuda:N``; ``cuda`` without a GPU is an error, not a silent CPU fallback."""
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but torch sees no CUDA GPU")
    return dev


def make_patch_predictor(net: torch.nn.Module, device: str | torch.device = "cpu", mirror_tta: bool = False,
                         channels_last: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap ``net`` (eval mode, no deep supervision) as a numpy batch -> probabilities callable.

    Parameters
    ----------
    net
        A network returning logits ``(N, C, z, y, x)``.
    device
        Where to run it.
    mirror_tta
        Average the softmax over all 8 mirrorings of the patch (nnU-Net's TTA).
    channels_last
        Use the ``channels_last_3d`` memory format (faster 3-D convolutions on CPU).
    """
    dev = resolve_device(str(device)) if not isinstance(device, torch.device) else device
    fmt = torch.channels_last_3d if channels_last else torch.contiguous_format
    net = net.to(dev).to(memory_format=fmt).eval()
    flips = [c for r in range(len(MIRROR_AXES) + 1) for c in itertools.combinations(MIRROR_AXES, r)] \
        if mirror_tta else [()]

    def predict_patches(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(dev)
        x = x.contiguous(memory_format=fmt)
        with torch.inference_mode():
            total = None
            for axes in flips:
                xi = torch.flip(x, axes) if axes else x
                p = torch.softmax(net(xi).float(), dim=1)
                p = torch.flip(p, axes) if axes else p
                total = p if total is None else total + p
            if len(flips) > 1:
                total = total / len(flips)
            return total.contiguous().cpu().numpy()

    return predict_patches
