"""Plain nn.Modules: nnU-Net v1's Generic_UNet and D-LMBmap's axial-attention variant."""
from axonseg.networks.axial_unet import AxialGenericUNet, PatchSizeError
from axonseg.networks.config import UNetConfig, build_network

__all__ = ["AxialGenericUNet", "PatchSizeError", "UNetConfig", "build_network"]
