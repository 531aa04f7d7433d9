"""D-LMBmap's training recipe as a mixin on top of nnUNetTrainerV2.

- Adam(lr 3e-4, amsgrad=True, weight_decay 3e-5) instead of SGD + poly LR;
- ReduceLROnPlateau(factor 0.2, patience 30, threshold 1e-3, threshold_mode 'abs'),
  stepped once per epoch on nnU-Net's exponential moving average of the training loss
  (``train_loss_MA``, alpha 0.93);
- 550 epochs, always run to the end (nnUNetTrainerV2's epoch-100 momentum reset is an
  SGD fix and does not apply);
- no mirroring, neither as augmentation nor as test-time augmentation;
- deep supervision and loss as nnUNetTrainerV2;
- checkpoints hold no numpy objects, so they load with a plain ``torch.load``.
"""
from __future__ import annotations

import torch
from nnunet.training.network_training.nnUNetTrainerV2 import nnUNetTrainerV2
from torch.optim.lr_scheduler import ReduceLROnPlateau

from axonseg.nnunet_v1.checkpoints import to_builtin


class DLMBmapRecipe:
    """Mixin: put it before ``nnUNetTrainerV2`` in the bases."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_num_epochs = 550
        self.initial_lr = 3e-4
        self.weight_decay = 3e-5
        self.lr_scheduler_factor = 0.2
        self.lr_scheduler_patience = 30
        self.lr_scheduler_eps = 1e-3
        self.train_loss_MA_alpha = 0.93

    def initialize_optimizer_and_scheduler(self):
        assert self.network is not None, "self.initialize_network must be called first"
        self.optimizer = torch.optim.Adam(self.network.parameters(), self.initial_lr,
                                          weight_decay=self.weight_decay, amsgrad=True)
        self.lr_scheduler = ReduceLROnPlateau(self.optimizer, mode="min", factor=self.lr_scheduler_factor,
                                              patience=self.lr_scheduler_patience,
                                              threshold=self.lr_scheduler_eps, threshold_mode="abs")

    def maybe_update_lr(self, epoch=None):
        # nnUNetTrainerV2.run_training calls this with the start epoch before training:
        # a plateau scheduler has nothing to step on then.
        if epoch is None and self.train_loss_MA is not None:
            self.lr_scheduler.step(float(self.train_loss_MA))
        self.print_to_log_file("lr: %.3g" % self.optimizer.param_groups[0]["lr"])

    def on_epoch_end(self):
        super(nnUNetTrainerV2, self).on_epoch_end()
        return self.epoch < self.max_num_epochs

    def setup_DA_params(self):
        super().setup_DA_params()
        self.data_aug_params["do_mirror"] = False
        self.data_aug_params["mirror_axes"] = tuple()

    def validate(self, *args, do_mirroring: bool = False, **kwargs):
        if do_mirroring:
            self.print_to_log_file("trained without mirroring: validating without mirror TTA")
        return super().validate(*args, do_mirroring=False, **kwargs)

    def predict_preprocessed_data_return_seg_and_softmax(self, data, *args, do_mirroring: bool = False,
                                                         **kwargs):
        # nnUNet_predict asks for mirror TTA by default; this recipe trains without it.
        return super().predict_preprocessed_data_return_seg_and_softmax(data, *args, do_mirroring=False,
                                                                        **kwargs)

    def save_checkpoint(self, fname, save_optimizer=True):
        for name in ("all_tr_losses", "all_val_losses", "all_val_losses_tr_mode", "all_val_eval_metrics",
                     "best_epoch_based_on_MA_tr_loss", "best_MA_tr_loss_for_patience",
                     "best_val_eval_criterion_MA", "train_loss_MA", "val_eval_criterion_MA"):
            setattr(self, name, to_builtin(getattr(self, name)))
        super().save_checkpoint(fname, save_optimizer)


class DLMBmapTrainerV2(DLMBmapRecipe, nnUNetTrainerV2):
    """D-LMBmap's recipe with nnU-Net's plain ``Generic_UNet``.

    D-LMBmap edited nnU-Net's own ``nnUNetTrainerV2`` to get this; we cannot reuse the
    name, so its models map to ``DLMBmapTrainerV2`` here.
    """
