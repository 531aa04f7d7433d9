"""A frozen description of a network, enough to rebuild it without nnU-Net's folders."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from nnunet.network_architecture.generic_UNet import Generic_UNet
from nnunet.network_architecture.initialization import InitWeights_He
from nnunet.utilities.nd_softmax import softmax_helper
from torch import nn

from axonseg.networks.axial_unet import AxialGenericUNet

ARCHITECTURES = ("generic_unet", "axial_unet")
NORMS = {"instance": nn.InstanceNorm3d, "batch": nn.BatchNorm3d}


@dataclass(frozen=True)
class UNetConfig:
    """Constructor arguments of an nnU-Net v1 style 3-D U-Net (as nnUNetTrainerV2 builds it).

    ``pool_op_kernel_sizes`` and ``conv_kernel_sizes`` come from the nnU-Net plan;
    ``patch_size_zyx`` is the plan's patch size (the axial net needs it to size its
    positional embeddings). ``norm``: ``instance`` (nnU-Net's InstanceNorm: statistics of each
    patch, so a voxel's output depends on its patch) or ``batch`` (BatchNorm; at inference
    fixed running statistics, so the output depends only on the voxel's neighbourhood).
    """

    architecture: str
    input_channels: int
    num_classes: int
    base_num_features: int
    pool_op_kernel_sizes: tuple[tuple[int, ...], ...]
    conv_kernel_sizes: tuple[tuple[int, ...], ...]
    patch_size_zyx: tuple[int, ...]
    conv_per_stage: int = 2
    max_num_features: int = 320
    heads: int = 2
    dim_heads: int = 8
    deep_supervision: bool = True
    norm: str = "instance"

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.architecture!r}; known: {ARCHITECTURES}")
        if self.norm not in NORMS:
            raise ValueError(f"unknown norm {self.norm!r}; known: {sorted(NORMS)}")
        for name in ("pool_op_kernel_sizes", "conv_kernel_sizes"):
            object.__setattr__(self, name, tuple(tuple(int(k) for k in ks) for ks in getattr(self, name)))
        object.__setattr__(self, "patch_size_zyx", tuple(int(s) for s in self.patch_size_zyx))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: ([list(x) for x in v] if k.endswith("kernel_sizes") else list(v) if isinstance(v, tuple) else v)
                for k, v in d.items()}

    @property
    def position_independent(self) -> bool:
        """True when the output depends only on each voxel's neighbourhood (no per-patch statistics)."""
        return self.norm == "batch" and self.architecture == "generic_unet"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "UNetConfig":
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown UNetConfig keys: {sorted(unknown)}")
        return cls(**d)


def build_network(cfg: UNetConfig) -> nn.Module:
    """Build the network exactly as our trainers do (nnUNetTrainerV2's settings).

    The network returns logits; ``inference_apply_nonlin`` is softmax, as nnU-Net's
    trainers set it, so nnU-Net's own ``predict_3D`` returns probabilities.
    """
    args = (cfg.input_channels, cfg.base_num_features, cfg.num_classes, len(cfg.pool_op_kernel_sizes),
            cfg.conv_per_stage, 2, nn.Conv3d, NORMS[cfg.norm], {"eps": 1e-5, "affine": True},
            nn.Dropout3d, {"p": 0, "inplace": True}, nn.LeakyReLU,
            {"negative_slope": 1e-2, "inplace": True}, cfg.deep_supervision, False, lambda x: x,
            InitWeights_He(1e-2), [list(k) for k in cfg.pool_op_kernel_sizes],
            [list(k) for k in cfg.conv_kernel_sizes], False, True, True, cfg.max_num_features)
    if cfg.architecture == "axial_unet":
        net = AxialGenericUNet(*args, patch_size_zyx=cfg.patch_size_zyx, heads=cfg.heads,
                               dim_heads=cfg.dim_heads)
    else:
        net = Generic_UNet(*args)
    net.inference_apply_nonlin = softmax_helper
    return net
