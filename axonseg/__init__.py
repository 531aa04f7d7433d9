"""axonseg: axon segmentation in whole mouse brains on top of nnU-Net v1."""

__version__ = "0.1.0"
