"""Annotation toolkit: crop cubes at points, rough masks, skeleton (fine) labels. Array functions."""
from axonseg.annotate.crop import CubeOutsideVolumeError, crop_cube, crop_cubes_to_folder, cube_bounds
from axonseg.annotate.fine import fine_labels
from axonseg.annotate.folders import fine_labels_for_folder, list_cubes, rough_labels_for_folder
from axonseg.annotate.points import PointsError, parse_points, read_points
from axonseg.annotate.rough import (RoughLabelSettings, auto_threshold, background_subtract,
                                    remove_small_components, rough_mask)

__all__ = [
    "CubeOutsideVolumeError", "crop_cube", "crop_cubes_to_folder", "cube_bounds", "fine_labels",
    "fine_labels_for_folder", "list_cubes", "rough_labels_for_folder", "PointsError",
    "parse_points", "read_points", "RoughLabelSettings", "auto_threshold", "background_subtract",
    "remove_small_components", "rough_mask",
]
