"""Training cubes to an nnU-Net v1 task: histogram matching, cutmix, contrast, crops, folds."""
from axonseg.cubes.augment import CropAugmentSettings, normalise_crop, random_crop
from axonseg.cubes.contrast import local_contrast
from axonseg.cubes.create_data import create_data
from axonseg.cubes.cutmix import Box, cutmix, random_box
from axonseg.cubes.folds import group_folds, install_splits, make_splits
from axonseg.cubes.histogram import match_histogram
from axonseg.cubes.inputs import CreateDataError
from axonseg.cubes.settings import CreateDataSettings

__all__ = [
    "CropAugmentSettings", "normalise_crop", "random_crop", "local_contrast", "create_data",
    "Box", "cutmix", "random_box", "group_folds", "install_splits", "make_splits",
    "match_histogram", "CreateDataError", "CreateDataSettings",
]
