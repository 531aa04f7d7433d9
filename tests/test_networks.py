"""The axial-attention U-Net: shapes, input checks, and D-LMBmap's exact parameter layout."""
from __future__ import annotations

import pytest
import torch

from axonseg.networks import PatchSizeError, UNetConfig, build_network
from axonseg.networks.axial_unet import count_parameters


def small_config(patch=32, pools=3, base=4, architecture="axial_unet", ds=True) -> UNetConfig:
    return UNetConfig(architecture, 1, 2, base, [[2, 2, 2]] * pools, [[3, 3, 3]] * (pools + 1),
                      (patch,) * 3, deep_supervision=ds)


@pytest.mark.parametrize("patch,pools", [(32, 3), (64, 4)])
def test_forward_deep_supervision_shapes(patch, pools):
    torch.manual_seed(0)
    net = build_network(small_config(patch, pools)).eval()
    with torch.inference_mode():
        out = net(torch.randn(2, 1, patch, patch, patch))
    assert isinstance(out, tuple) and len(out) == pools
    for level, o in enumerate(out):
        assert o.shape == (2, 2) + (patch // 2 ** level,) * 3
    assert torch.isfinite(out[0]).all()


def test_attention_changes_the_output():
    """The axial branch is really in the forward pass: zeroing its output projection changes the result."""
    torch.manual_seed(0)
    net = build_network(small_config(ds=False)).eval()
    x = torch.randn(1, 1, 32, 32, 32)
    with torch.inference_mode():
        before = net(x).clone()
        for attn in net.axial_attention:
            for sub in attn.axial_attentions:
                sub.fn.to_out.weight.zero_()
                sub.fn.to_out.bias.zero_()
        after = net(x)
    assert after.shape == (1, 2, 32, 32, 32)
    assert (before - after).abs().max() > 1e-4


def test_wrong_input_size_names_expected_and_actual():
    net = build_network(small_config(ds=False)).eval()
    with pytest.raises(PatchSizeError, match=r"\(32, 32, 32\).*\(48, 32, 32\)"):
        net(torch.zeros(1, 1, 48, 32, 32))


def test_patch_size_not_poolable_is_refused():
    with pytest.raises(PatchSizeError, match=r"\(36, 36, 36\)"):
        build_network(small_config(patch=36, pools=3))


def _dlmbmap_axial_keys():
    """D-LMBmap's attention parameter names and shapes at 5 poolings, base 32, patch 128^3."""
    channels = {0: 320, 1: 256, 2: 128, 3: 64}  # decoder stage u -> channels after upsampling
    shapes = {}
    for u, c in channels.items():
        d = 5 - u - 1
        side = 128 // 2 ** d
        inner = (2 * 2 ** d) * (8 * 2 ** d)
        for axis in range(3):
            shape = [1, c, 1, 1, 1]
            shape[2 + axis] = side
            shapes[f"axial_embedding.{u}.param_{axis}"] = tuple(shape)
            prefix = f"axial_attention.{u}.axial_attentions.{axis}.fn"
            shapes[f"{prefix}.to_q.weight"] = (inner, c)
            shapes[f"{prefix}.to_kv.weight"] = (2 * inner, c)
            shapes[f"{prefix}.to_out.weight"] = (c, inner)
            shapes[f"{prefix}.to_out.bias"] = (c,)
    return shapes


def test_full_size_state_dict_matches_dlmbmap():
    cfg = UNetConfig("axial_unet", 1, 2, 32, [[2, 2, 2]] * 5, [[3, 3, 3]] * 6, (128, 128, 128))
    plain = build_network(UNetConfig(**{**cfg.to_dict(), "architecture": "generic_unet"})).state_dict()
    net = build_network(cfg)
    sd = net.state_dict()
    assert len(sd) == 158
    assert count_parameters(net) == 50_558_368
    expected_axial = _dlmbmap_axial_keys()
    # exactly Generic_UNet's tensors plus D-LMBmap's attention tensors, nothing else
    assert set(sd) == set(plain) | set(expected_axial)
    for key, shape in expected_axial.items():
        assert tuple(sd[key].shape) == shape, key
    for key in plain:
        assert sd[key].shape == plain[key].shape, key
    assert {k.split(".")[0] for k in sd} == {"conv_blocks_context", "conv_blocks_localization", "tu",
                                             "seg_outputs", "axial_embedding", "axial_attention"}
    # the deepest decoder stage gets the most heads: 32 heads x 128 = 4096 wide
    assert sd["axial_attention.0.axial_attentions.0.fn.to_q.weight"].shape == (4096, 320)


def test_config_round_trip_and_unknown_keys():
    cfg = small_config()
    assert UNetConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown UNetConfig keys"):
        UNetConfig.from_dict({**cfg.to_dict(), "headz": 3})
