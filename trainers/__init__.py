"""axonseg's nnU-Net v1 trainers (importable as ``axonseg_trainers``).

=======================  ==========================================================
``MyTrainerAxial``       D-LMBmap's axial-attention U-Net + D-LMBmap's recipe
``DLMBmapTrainerV2``     plain Generic_UNet + D-LMBmap's recipe (D-LMBmap's edited
                         ``nnUNetTrainerV2``)
``*Smoke``               the same for 2 epochs x 8 batches (tests, demo)
``MyTrainerAxialQuick``  ``MyTrainerAxial`` for 40 epochs x 25 batches (CPU benchmarks)
``DLMBmapTrainerV2Starter*``  the v1 starter model's fixed small network (``starter.py``)
``AxonsegTrainerV2Starter*``  starter v2: BatchNorm, ignore label 255, tissue_ratio (``starter_v2.py``)
=======================  ==========================================================

Importing this package has no side effects. nnU-Net finds these classes through the
shim that ``axonseg register`` writes (see ``axonseg_trainers.nnunet_plugin``).
"""
from axonseg_trainers.axial import MyTrainerAxial
from axonseg_trainers.quick import MyTrainerAxialQuick
from axonseg_trainers.recipe import DLMBmapTrainerV2
from axonseg_trainers.smoke import DLMBmapTrainerV2Smoke, MyTrainerAxialSmoke
from axonseg_trainers.starter import DLMBmapTrainerV2Starter, DLMBmapTrainerV2StarterFinetune
from axonseg_trainers.starter_v2 import (AxonsegTrainerV2Starter, AxonsegTrainerV2StarterFinetune,
                                         AxonsegTrainerV2StarterSmoke)

TRAINERS = {cls.__name__: cls for cls in (MyTrainerAxial, DLMBmapTrainerV2, MyTrainerAxialSmoke,
                                          DLMBmapTrainerV2Smoke, MyTrainerAxialQuick, DLMBmapTrainerV2Starter,
                                          DLMBmapTrainerV2StarterFinetune, AxonsegTrainerV2Starter,
                                          AxonsegTrainerV2StarterFinetune, AxonsegTrainerV2StarterSmoke)}

__all__ = list(TRAINERS) + ["TRAINERS"]
