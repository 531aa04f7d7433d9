"""``MyTrainerAxial``: D-LMBmap's axial-attention U-Net with D-LMBmap's recipe."""
from __future__ import annotations

import torch
from nnunet.training.network_training.nnUNetTrainerV2 import nnUNetTrainerV2

from axonseg.networks import UNetConfig, build_network

from axonseg_trainers.recipe import DLMBmapRecipe


class MyTrainerAxial(DLMBmapRecipe, nnUNetTrainerV2):
    """Axial-attention U-Net (heads 2, head width 8 at the finest attended stage)."""

    axial_heads = 2
    axial_dim_heads = 8

    def unet_config(self) -> UNetConfig:
        """The network this trainer builds, from the plan (patch size included)."""
        if not self.threeD:
            raise RuntimeError(f"{type(self).__name__} is 3-D only: use the 3d_fullres configuration")
        return UNetConfig(
            architecture="axial_unet", input_channels=self.num_input_channels,
            num_classes=self.num_classes, base_num_features=self.base_num_features,
            pool_op_kernel_sizes=self.net_num_pool_op_kernel_sizes,
            conv_kernel_sizes=self.net_conv_kernel_sizes, patch_size_zyx=tuple(self.patch_size),
            conv_per_stage=self.conv_per_stage, heads=self.axial_heads, dim_heads=self.axial_dim_heads,
        )

    def initialize_network(self):
        self.network = build_network(self.unet_config())
        if torch.cuda.is_available():
            self.network.cuda()
