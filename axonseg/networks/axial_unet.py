"""D-LMBmap's axial-attention U-Net, rebuilt on nnU-Net v1's ``Generic_UNet``.

Every decoder stage except the highest-resolution one does, right after its
transposed-convolution upsampling::

    x = attn(posemb(x)) + x

Decoder stage ``u`` (``u = 0`` right after the bottleneck) sits ``d = num_pool - u - 1``
poolings below full resolution; it gets ``heads * 2**d`` heads of width
``dim_heads * 2**d`` and a positional embedding of shape ``patch_size / 2**d``. The
parameter names (``axial_embedding.*``, ``axial_attention.*``) are D-LMBmap's, so its
released weights load unchanged.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from axial_attention import AxialAttention, AxialPositionalEmbedding
from nnunet.network_architecture.generic_UNet import Generic_UNet
from torch import nn
from axonseg.errors import AxonsegError


class PatchSizeError(AxonsegError, ValueError):
    """The axial U-Net cannot take this patch or input size."""


def stage_shapes(patch_size_zyx: Sequence[int], pool_op_kernel_sizes: Sequence[Sequence[int]]):
    """Spatial shape at every resolution (full resolution first), exact or an error."""
    shapes = [tuple(int(s) for s in patch_size_zyx)]
    for kernel in pool_op_kernel_sizes:
        prev = shapes[-1]
        if any(s % k for s, k in zip(prev, kernel)):
            raise PatchSizeError(
                f"patch size {tuple(patch_size_zyx)} cannot be pooled by {list(map(list, pool_op_kernel_sizes))}: "
                f"stage shape {prev} is not divisible by {list(kernel)}"
            )
        shapes.append(tuple(s // k for s, k in zip(prev, kernel)))
    return shapes


class AxialGenericUNet(Generic_UNet):
    """``Generic_UNet`` with axial attention after each decoder upsampling but the last.

    Parameters
    ----------
    patch_size_zyx
        The spatial input size the network is built for (the plan's patch size).
        Inputs must have exactly this size.
    heads, dim_heads
        Heads and head width at the stage one pooling below full resolution; both
        double with every further pooling.
    *args, **kwargs
        Passed to ``Generic_UNet`` unchanged (3-D only).
    """

    def __init__(self, *args, patch_size_zyx: Sequence[int], heads: int = 2, dim_heads: int = 8,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if self.conv_op is not nn.Conv3d:
            raise PatchSizeError("AxialGenericUNet is 3-D only (conv_op must be nn.Conv3d)")
        pool_kernels = kwargs.get("pool_op_kernel_sizes")
        num_pool = len(self.tu)
        if pool_kernels is None:
            pool_kernels = [(2, 2, 2)] * num_pool
        self.patch_size_zyx = tuple(int(s) for s in patch_size_zyx)
        self.heads = heads
        self.dim_heads = dim_heads
        shapes = stage_shapes(self.patch_size_zyx, pool_kernels)
        embeddings, attentions = [], []
        for u in range(num_pool - 1):
            d = num_pool - u - 1
            channels = self.conv_blocks_context[d].output_channels
            embeddings.append(AxialPositionalEmbedding(dim=channels, shape=shapes[d]))
            attentions.append(AxialAttention(dim=channels, heads=heads * 2 ** d,
                                             dim_heads=dim_heads * 2 ** d, dim_index=1,
                                             num_dimensions=3, sum_axial_out=False))
        self.axial_embedding = nn.ModuleList(embeddings)
        self.axial_attention = nn.ModuleList(attentions)

    def forward(self, x: torch.Tensor):
        if tuple(x.shape[2:]) != self.patch_size_zyx:
            raise PatchSizeError(
                f"AxialGenericUNet was built for patches of spatial size {self.patch_size_zyx} "
                f"(z, y, x); got an input of spatial size {tuple(x.shape[2:])}"
            )
        skips = []
        for d in range(len(self.conv_blocks_context) - 1):
            x = self.conv_blocks_context[d](x)
            skips.append(x)
            if not self.convolutional_pooling:
                x = self.td[d](x)
        x = self.conv_blocks_context[-1](x)
        seg_outputs = []
        for u in range(len(self.tu)):
            x = self.tu[u](x)
            if u < len(self.axial_attention):
                x = self.axial_attention[u](self.axial_embedding[u](x)) + x
            x = torch.cat((x, skips[-(u + 1)]), dim=1)
            x = self.conv_blocks_localization[u](x)
            seg_outputs.append(self.final_nonlin(self.seg_outputs[u](x)))
        if self._deep_supervision and self.do_ds:
            return tuple([seg_outputs[-1]] + [
                op(s) for op, s in zip(list(self.upscale_logits_ops)[::-1], seg_outputs[:-1][::-1])
            ])
        return seg_outputs[-1]


def count_parameters(module: nn.Module) -> int:
    return int(sum(np.prod(t.shape) for t in module.state_dict().values()))
