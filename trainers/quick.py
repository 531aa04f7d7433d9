"""``MyTrainerAxialQuick``: a CPU-sized real training run (quality benchmark, first trials)."""
from __future__ import annotations

from axonseg_trainers.axial import MyTrainerAxial


class MyTrainerAxialQuick(MyTrainerAxial):
    """``MyTrainerAxial`` for 40 epochs x 25 batches (about half an hour on 2 CPU cores at 32^3-48^3)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_num_epochs = 40
        self.num_batches_per_epoch = 25
        self.num_val_batches_per_epoch = 5

    def setup_DA_params(self):
        super().setup_DA_params()
        self.data_aug_params["num_threads"] = 2
