#!/usr/bin/env python
"""D-LMBmap's whole-brain segmentation, as an axonseg command: chunked, seam-free, resumable.

Usage: python scripts/predict_whole_brain.py INPUT MODEL OUTPUT --config configs/predict.yaml [flags]
(the same as ``axonseg predict``; see ``--help``).
"""
import sys

from _entry import run

if __name__ == "__main__":
    sys.exit(run('axonseg.cli.predict'))
