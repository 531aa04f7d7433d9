"""Whole-brain inference: patch lattice, block grid + halo, block predictor, runners, weights."""
from axonseg.inference.blocks import Block, block_grid, read_plan
from axonseg.inference.lattice import PatchLattice, build_lattice, gaussian_importance_map
from axonseg.inference.pipeline import PredictionSummary, predict_whole_brain
from axonseg.inference.settings import PredictSettings
from axonseg.inference.state import OutputError
from axonseg.inference.stitch import predict_block, read_padded_region
from axonseg.inference.weights import LoadedModel, WeightsError, build_loaded_network, load_model

__all__ = ["Block", "block_grid", "read_plan", "PatchLattice", "build_lattice", "gaussian_importance_map",
           "PredictionSummary", "predict_whole_brain", "PredictSettings", "OutputError", "predict_block",
           "read_padded_region", "LoadedModel", "WeightsError", "build_loaded_network", "load_model"]
