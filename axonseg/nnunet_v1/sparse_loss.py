"""nnU-Net v1's Dice + cross-entropy loss over annotated voxels only (sparse annotations).

nnU-Net v1 has no ignore label. A label file may hold ``IGNORE_LABEL`` (255) where nothing was
annotated (a few painted slices of a cube, TrailMap's "unlabelled" 0, the uncertain zone around
automatic labels): those voxels contribute exactly nothing, neither to the cross-entropy nor to
the soft Dice (their predictions are multiplied out of every sum), so their gradient is zero.
Otherwise the same as nnU-Net's ``DC_and_CE_loss`` with ``batch_dice=True, do_bg=False,
smooth=1e-5`` (what ``nnUNetTrainerV2`` uses): ``CE + (-Dice of the foreground classes)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

IGNORE_LABEL = 255


class IgnoreDCandCELoss(nn.Module):
    """``CE + soft Dice`` of logits ``(b, c, *spatial)`` against labels ``(b, 1, *spatial)`` (floats or
    ints, as nnU-Net's loaders give them), ignoring voxels labelled ``ignore_label``."""

    def __init__(self, ignore_label: int = IGNORE_LABEL, smooth: float = 1e-5):
        super().__init__()
        self.ignore_label = ignore_label
        self.smooth = smooth

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        labels = target[:, 0].long() if target.ndim == logits.ndim else target.long()
        valid = labels != self.ignore_label
        num_classes = logits.shape[1]
        if bool(((labels < 0) | (labels >= num_classes))[valid].any()):
            bad = torch.unique(labels[valid & ((labels < 0) | (labels >= num_classes))]).tolist()
            raise ValueError(f"label values {bad} are neither classes 0..{num_classes - 1} nor the ignore "
                             f"label {self.ignore_label}")
        safe = torch.where(valid, labels, torch.zeros_like(labels))
        n_valid = valid.sum()
        ce = F.cross_entropy(logits, safe, reduction="none")
        ce = (ce * valid).sum() / n_valid.clamp_min(1)
        probs = torch.softmax(logits, 1)
        mask = valid.unsqueeze(1).to(probs.dtype)
        onehot = F.one_hot(safe, num_classes).movedim(-1, 1).to(probs.dtype) * mask
        probs = probs * mask
        axes = [0] + list(range(2, logits.ndim))  # batch dice: sums over the batch and space
        tp = (probs * onehot).sum(axes)
        fp = (probs * (1 - onehot) * mask).sum(axes)
        fn = ((1 - probs) * onehot).sum(axes)
        dice = (2 * tp + self.smooth) / (2 * tp + fp + fn + self.smooth)
        return ce - dice[1:].mean()
