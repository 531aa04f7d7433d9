"""The starter model's trainers: a small fixed network, whatever the plan says.

nnU-Net v1 sizes the network from the plan (patch, poolings, 32 base features, a GPU batch
size). The starter model must have one architecture everywhere, so that it ships small, runs
fast on a CPU, and can be fine-tuned (``-pretrained_weights``) on any user's task: these
trainers rewrite the plan's stage to

    plain Generic_UNet, 16 base features, 3 poolings of 2x2x2, 3x3x3 convolutions,
    patch 64^3, batch 2   (1.40 M parameters, 5.6 MB in float32)

and write that plan into the result folder's ``plans.pkl`` (and checkpoints), so
``nnUNet_predict``, ``axonseg save-models`` and ``axonseg predict`` rebuild exactly this
network. The recipe is D-LMBmap's (``DLMBmapTrainerV2``).

=================================  ======================================================
``DLMBmapTrainerV2Starter``        the starter model's training run (36 epochs x 36 batches)
``DLMBmapTrainerV2StarterFinetune``  a short fine-tuning run from the starter model
                                   (4 epochs x 12 batches; ``-pretrained_weights``)
=================================  ======================================================
"""
from __future__ import annotations

import pickle
from pathlib import Path

from axonseg_trainers.recipe import DLMBmapTrainerV2

STARTER_PLAN = {
    "patch_size": [64, 64, 64],
    "pool_op_kernel_sizes": [[2, 2, 2]] * 3,
    "conv_kernel_sizes": [[3, 3, 3]] * 4,
    "num_pool_per_axis": [3, 3, 3],
    "batch_size": 2,
}
STARTER_BASE_FEATURES = 16


class StarterArchitecture:
    """Mixin: the starter network regardless of the plan (see the module docstring)."""

    starter_plan = STARTER_PLAN

    def process_plans(self, plans):
        plans["base_num_features"] = STARTER_BASE_FEATURES
        for stage in plans["plans_per_stage"].values():
            stage.update({k: ([list(v) for v in val] if isinstance(val[0], list) else list(val))
                          if isinstance(val, list) else val for k, val in self.starter_plan.items()})
        super().process_plans(plans)

    def save_debug_information(self):
        super().save_debug_information()  # copies the original plans file ...
        with open(Path(self.output_folder_base) / "plans.pkl", "wb") as f:
            pickle.dump(self.plans, f)    # ... replaced by the plan this network was built from

    def setup_DA_params(self):
        super().setup_DA_params()
        self.data_aug_params["num_threads"] = 2
        self.data_aug_params["num_cached_per_thread"] = 2


class DLMBmapTrainerV2Starter(StarterArchitecture, DLMBmapTrainerV2):
    """The starter model: D-LMBmap's recipe, the starter network, 36 epochs x 36 batches."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_num_epochs = 36
        self.num_batches_per_epoch = 36
        self.num_val_batches_per_epoch = 3
        self.save_every = 5


class DLMBmapTrainerV2StarterFinetune(StarterArchitecture, DLMBmapTrainerV2):
    """Fine-tuning from the starter model (``-pretrained_weights``): 4 epochs x 12 batches."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_num_epochs = 4
        self.num_batches_per_epoch = 12
        self.num_val_batches_per_epoch = 2
        self.save_every = 2
