"""Synthetic volumes with known truth: bright curvilinear tubes in noise."""
from axonseg.synthetic.tubes import TubeSettings, make_tube_volume

__all__ = ["TubeSettings", "make_tube_volume"]
