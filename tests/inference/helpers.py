"""Test helpers: an independent (naive) whole-volume sliding window, tiny networks, model files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from axonseg.networks import UNetConfig, build_network


def naive_sliding_window(volume: np.ndarray, predict_patches, patch, steps, gaussian) -> np.ndarray:
    """nnU-Net v1's ``_internal_predict_3D_3Dconv_tiled`` written out plainly: centred zero padding,
    one patch at a time in z, y, x order, Gaussian-weighted sum divided by the summed weights."""
    shape = np.array(volume.shape)
    diff = np.maximum(np.array(patch) - shape, 0)
    below, above = diff // 2, diff - diff // 2
    padded = np.pad(volume, list(zip(below, above)))
    n = len(steps[0]) * len(steps[1]) * len(steps[2])
    w = gaussian if n > 1 else np.ones(patch, np.float32)
    num = den = None
    for z in steps[0]:
        for y in steps[1]:
            for x in steps[2]:
                sl = (slice(z, z + patch[0]), slice(y, y + patch[1]), slice(x, x + patch[2]))
                p = predict_patches(padded[sl][None, None])[0]
                if num is None:
                    num = np.zeros((p.shape[0],) + padded.shape, np.float32)
                    den = np.zeros(padded.shape, np.float32)
                num[(slice(None),) + sl] += p * w
                den[sl] += w
    crop = tuple(slice(b, b + s) for b, s in zip(below, shape))
    return num[(slice(None),) + crop] / den[crop]


def position_dependent(batch: np.ndarray) -> np.ndarray:
    """A known 2-class 'network' whose output depends on where a voxel sits in its patch, so that
    the result depends on the exact lattice (a pointwise function would hide a wrong lattice)."""
    z, y, x = batch.shape[2:]
    ramp = (np.arange(z)[:, None, None] / z + 2 * np.arange(y)[None, :, None] / y
            - np.arange(x)[None, None, :] / x).astype(np.float32)
    fg = 1 / (1 + np.exp(-(batch[:, 0] * 0.7 + ramp)))
    return np.stack([1 - fg, fg], axis=1).astype(np.float32)


def tiny_config(architecture: str = "generic_unet", patch=(32, 32, 32), base: int = 4, pools: int = 3) -> UNetConfig:
    return UNetConfig(architecture, 1, 2, base, [[2, 2, 2]] * pools, [[3, 3, 3]] * (pools + 1), tuple(patch))


def tiny_network(cfg: UNetConfig, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_network(cfg)


def net_predictor(net: torch.nn.Module):
    net = net.eval()
    net.do_ds = False

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return torch.softmax(net(torch.from_numpy(batch)), 1).numpy()
    return predict


def write_model(path: Path, architecture: str = "generic_unet", seed: int = 0, **kw) -> Path:
    """An axonseg .pth of a tiny random network (exported from a legacy state dict)."""
    from axonseg.inference.export import export_model

    cfg = tiny_config(architecture, **kw)
    legacy = path.with_suffix(".legacy.pth")
    torch.save(tiny_network(cfg, seed).state_dict(), legacy)
    return export_model(legacy, path, patch_size_zyx=None if architecture == "axial_unet" else cfg.patch_size_zyx)
