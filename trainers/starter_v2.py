"""Starter model v2's trainers: a position-independent network, sparse labels, one tissue level.

Same fixed small architecture as the v1 starter (``starter.py``: Generic_UNet, 16 base features,
3 poolings, batch 2), trained on 48³ patches (2.4x cheaper per step on a CPU than 64³; the
network itself runs on any size divisible by 8), but

- **BatchNorm instead of InstanceNorm**: at inference the network uses fixed running
  statistics, so a voxel's output depends only on its neighbourhood, never on which patch or
  tile it was computed in (predict can tile without blending, and crops agree);
- **sparse labels**: voxels labelled 255 (not annotated) are ignored by the loss
  (:class:`axonseg.nnunet_v1.sparse_loss.IgnoreDCandCELoss`);
- **inputs already normalised** by axonseg's ``tissue_ratio`` (each volume divided by its
  tissue level; the task's modality is ``noNorm`` so nnU-Net leaves them alone). The plan
  written to the result folder records this (``plans['axonseg_normalization']``), so
  ``axonseg save-models`` / ``axonseg predict`` apply the same normalisation.

=====================================  =================================================
``AxonsegTrainerV2Starter``            the v2 starter model's training run
``AxonsegTrainerV2StarterFinetune``    fine-tuning from it (``-pretrained_weights``)
``AxonsegTrainerV2StarterSmoke``       2 epochs x 4 batches (tests)
=====================================  =================================================
"""
from __future__ import annotations

import math

import torch

from axonseg.networks import UNetConfig, build_network
from axonseg.nnunet_v1.sparse_loss import IgnoreDCandCELoss
from axonseg_trainers.recipe import DLMBmapTrainerV2
from axonseg_trainers.starter import STARTER_PLAN, StarterArchitecture

TISSUE_RATIO = {"scheme": "tissue_ratio", "mean": None, "std": None, "clip_low": None, "clip_high": None,
                "mask_zero": False}


class PositionIndependentSparse(StarterArchitecture):
    """Mixin: the starter network with BatchNorm, the ignore-label loss, the tissue_ratio record."""

    starter_plan = {**STARTER_PLAN, "patch_size": [48, 48, 48]}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss = IgnoreDCandCELoss()  # nnUNetTrainerV2.initialize wraps it for deep supervision

    def process_plans(self, plans):
        plans["axonseg_normalization"] = dict(TISSUE_RATIO)
        super().process_plans(plans)

    def initialize_network(self):
        cfg = UNetConfig("generic_unet", self.num_input_channels, self.num_classes, self.base_num_features,
                         self.net_num_pool_op_kernel_sizes, self.net_conv_kernel_sizes, tuple(self.patch_size),
                         conv_per_stage=self.conv_per_stage, deep_supervision=True, norm="batch")
        self.network = build_network(cfg)
        if torch.cuda.is_available():
            self.network.cuda()

    def setup_DA_params(self):
        super().setup_DA_params()
        self.data_aug_params["do_mirror"] = True  # axons have no handedness
        self.data_aug_params["mirror_axes"] = (0, 1, 2)


class AxonsegTrainerV2Starter(PositionIndependentSparse, DLMBmapTrainerV2):
    """Starter model v2: Adam (amsgrad) with a cosine learning-rate decay from 1e-3 over 100 epochs
    x 25 batches (half the patches centred on an axon), BatchNorm network, ignore label. nnU-Net's end-of-training validation (a
    sliding-window pass over every validation case, ~10 min on 2 CPU cores) is skipped: the
    model is measured by ``benchmarks/bench_robustness.py`` on volumes made for it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_num_epochs = 100
        self.num_batches_per_epoch = 25
        self.num_val_batches_per_epoch = 4
        self.save_every = 5
        self.initial_lr = 1e-3
        self.oversample_foreground_percent = 0.5  # axons are < 1 % of voxels

    def maybe_update_lr(self, epoch=None):
        ep = self.epoch if epoch is None else epoch
        lr = self.initial_lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(ep, self.max_num_epochs)
                                                                 / self.max_num_epochs)))
        self.optimizer.param_groups[0]["lr"] = lr
        self.print_to_log_file("lr: %.3g" % lr)

    def validate(self, *args, **kwargs):
        self.print_to_log_file("end-of-training validation skipped (see benchmarks/bench_robustness.py)")


class AxonsegTrainerV2StarterFinetune(PositionIndependentSparse, DLMBmapTrainerV2):
    """Fine-tuning from starter v2 (``-pretrained_weights``): 4 epochs x 12 batches."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_num_epochs = 4
        self.num_batches_per_epoch = 12
        self.num_val_batches_per_epoch = 2
        self.save_every = 2


class AxonsegTrainerV2StarterSmoke(PositionIndependentSparse, DLMBmapTrainerV2):
    """2 epochs x 4 batches (tests)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_num_epochs = 2
        self.num_batches_per_epoch = 4
        self.num_val_batches_per_epoch = 1
        self.save_every = 1
