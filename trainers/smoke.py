"""Short variants for smoke tests and the demo: same networks and recipe, tiny runs."""
from __future__ import annotations

from axonseg_trainers.axial import MyTrainerAxial
from axonseg_trainers.recipe import DLMBmapTrainerV2


class ShortRun:
    """Mixin: 2 epochs of 8 batches, 1 validation batch, 2 augmentation workers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_num_epochs = 2
        self.num_batches_per_epoch = 8
        self.num_val_batches_per_epoch = 1
        self.save_every = 1

    def setup_DA_params(self):
        super().setup_DA_params()
        self.data_aug_params["num_threads"] = 2
        self.data_aug_params["num_cached_per_thread"] = 1


class MyTrainerAxialSmoke(ShortRun, MyTrainerAxial):
    """``MyTrainerAxial`` for 2 epochs x 8 batches (smoke tests, demo)."""


class DLMBmapTrainerV2Smoke(ShortRun, DLMBmapTrainerV2):
    """``DLMBmapTrainerV2`` for 2 epochs x 8 batches (smoke tests)."""
