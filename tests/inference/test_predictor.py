"""The network wrapper: softmax probabilities, mirror TTA, channels_last, no silent CPU fallback."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from axonseg.inference.predictor import make_patch_predictor
from tests.inference.helpers import tiny_config, tiny_network


class _Ramp(torch.nn.Module):
    """Logits: background 0, foreground a ramp along z and x (not mirror-symmetric)."""

    def forward(self, x):
        z = torch.arange(x.shape[2], dtype=torch.float32).view(1, 1, -1, 1, 1)
        xx = torch.arange(x.shape[4], dtype=torch.float32).view(1, 1, 1, 1, -1)
        fg = (z + 2 * xx) / 4 + x
        return torch.cat([torch.zeros_like(fg), fg], dim=1)


def test_mirror_tta_averages_the_eight_flips():
    x = np.zeros((2, 1, 4, 5, 6), np.float32)
    plain = make_patch_predictor(_Ramp(), channels_last=False)(x)
    tta = make_patch_predictor(_Ramp(), mirror_tta=True, channels_last=False)(x)
    assert np.allclose(plain.sum(1), 1) and np.allclose(tta.sum(1), 1)
    assert not np.allclose(plain, plain[:, :, ::-1])
    assert np.allclose(tta, tta[:, :, ::-1, :, ::-1], atol=1e-6)
    expected = sum(np.flip(plain, axes) if axes else plain
                   for axes in [(), (2,), (3,), (4,), (2, 3), (2, 4), (3, 4), (2, 3, 4)]) / 8
    assert np.abs(tta - expected).max() < 1e-6


def test_channels_last_gives_the_same_probabilities():
    net = tiny_network(tiny_config("generic_unet")).eval()
    net.do_ds = False
    x = np.random.default_rng(0).normal(size=(2, 1, 32, 32, 32)).astype(np.float32)
    a = make_patch_predictor(net, channels_last=False)(x)
    b = make_patch_predictor(net, channels_last=True)(x)
    assert a.shape == (2, 2, 32, 32, 32) and np.abs(a - b).max() < 1e-5


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised on machines without a GPU")
def test_cuda_without_gpu_is_an_error():
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        make_patch_predictor(_Ramp(), device="cuda")
