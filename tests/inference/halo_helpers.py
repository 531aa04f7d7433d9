"""Test helpers for halo tiling: position-independent tiny U-Nets and an independent whole-volume oracle."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def bn_unet(pools: int = 2, base: int = 4, seed: int = 0, norm: str = "batch", classes: int = 2) -> nn.Module:
    """nnU-Net v1's Generic_UNet as the v2 model builds it: BatchNorm3d in eval mode with random running
    statistics (``norm="batch"``) or no normalisation layer (``norm="none"``), no deep supervision."""
    from nnunet.network_architecture.generic_UNet import Generic_UNet
    from nnunet.network_architecture.initialization import InitWeights_He

    torch.manual_seed(seed)
    norm_op, norm_kw = (nn.BatchNorm3d, {"eps": 1e-5, "affine": True}) if norm == "batch" else (nn.Identity, {})
    net = Generic_UNet(1, base, classes, pools, 2, 2, nn.Conv3d, norm_op, norm_kw, nn.Dropout3d,
                       {"p": 0, "inplace": True}, nn.LeakyReLU, {"negative_slope": 1e-2, "inplace": True},
                       False, False, lambda x: x, InitWeights_He(1e-2), [[2, 2, 2]] * pools,
                       [[3, 3, 3]] * (pools + 1), False, True, True, 320)
    g = torch.Generator().manual_seed(seed + 1)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm3d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            m.running_var.copy_(0.5 + torch.rand(n, generator=g))
            m.weight.data.copy_(0.5 + torch.rand(n, generator=g))
            m.bias.data.copy_(torch.rand(n, generator=g) - 0.5)
    net.do_ds = False
    return net.eval()


def softmax_predictor(net: nn.Module):
    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return torch.softmax(net(torch.from_numpy(np.ascontiguousarray(batch, np.float32))), 1).numpy()
    return predict


def whole_volume_oracle(volume: np.ndarray, net: nn.Module, factor: int) -> np.ndarray:
    """One forward pass of the whole volume, written out independently of axonseg.inference.halo:
    zero padding at the far end to multiples of ``factor``, softmax, crop. ``(C, z, y, x)``."""
    pad = [(0, -s % factor) for s in volume.shape]
    x = np.pad(volume.astype(np.float32), pad)[None, None]
    with torch.inference_mode():
        y = torch.softmax(net(torch.from_numpy(x)), 1).numpy()[0]
    return y[(slice(None),) + tuple(slice(0, s) for s in volume.shape)]


def _bn_network(cfg):
    """``axonseg.networks.build_network`` for a config, with BatchNorm3d instead of InstanceNorm3d."""
    from nnunet.network_architecture.generic_UNet import Generic_UNet
    from nnunet.network_architecture.initialization import InitWeights_He
    from nnunet.utilities.nd_softmax import softmax_helper

    net = Generic_UNet(cfg.input_channels, cfg.base_num_features, cfg.num_classes, len(cfg.pool_op_kernel_sizes),
                       cfg.conv_per_stage, 2, nn.Conv3d, nn.BatchNorm3d, {"eps": 1e-5, "affine": True},
                       nn.Dropout3d, {"p": 0, "inplace": True}, nn.LeakyReLU,
                       {"negative_slope": 1e-2, "inplace": True}, cfg.deep_supervision, False, lambda x: x,
                       InitWeights_He(1e-2), [list(k) for k in cfg.pool_op_kernel_sizes],
                       [list(k) for k in cfg.conv_kernel_sizes], False, True, True, cfg.max_num_features)
    net.inference_apply_nonlin = softmax_helper
    return net


def write_bn_model(path, monkeypatch, pools: int = 2, base: int = 4, patch=(16, 16, 16), seed: int = 0,
                   halo_vox: int | None = None, position_independent: bool | None = None,
                   normalization: dict | None = None):
    """An axonseg .pth of :func:`bn_unet` (BatchNorm3d, random running statistics), optionally declaring
    ``halo_vox`` / ``position_independent``. Until ``UNetConfig`` has a ``norm`` field, axonseg builds
    every Generic_UNet with InstanceNorm, so ``monkeypatch`` makes it build BatchNorm3d instead."""
    import dataclasses

    from axonseg.inference.weights import FORMAT, FORMAT_VERSION
    from axonseg.io.torch_files import save_torch
    from axonseg.networks import UNetConfig

    cfg = UNetConfig("generic_unet", 1, 2, base, [[2, 2, 2]] * pools, [[3, 3, 3]] * (pools + 1), tuple(patch))
    if "norm" in {f.name for f in dataclasses.fields(UNetConfig)}:
        cfg = dataclasses.replace(cfg, norm="batch")
    else:
        monkeypatch.setattr("axonseg.inference.weights.build_network", _bn_network)
    obj = {"format": FORMAT, "format_version": FORMAT_VERSION, "network": cfg.to_dict(),
           "state_dict": bn_unet(pools, base, seed).state_dict(),
           "normalization": normalization or {"scheme": "nonCT"}, "spacing_zyx": None, "trainer": "test"}
    if halo_vox is not None:
        obj["halo_vox"] = int(halo_vox)
    if position_independent is not None:
        obj["position_independent"] = bool(position_independent)
    save_torch(path, obj)
    return path
