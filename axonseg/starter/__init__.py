"""The shipped starter model: how its training data is made, and where it lives."""
from axonseg.starter.cubes import HELD_OUT_FROM_ROW, build_training_cubes
from axonseg.starter.model import STARTER_MODEL, starter_model_path

__all__ = ["HELD_OUT_FROM_ROW", "build_training_cubes", "STARTER_MODEL", "starter_model_path"]
