#!/usr/bin/env python
"""D-LMBmap's ``create_data.py``, as an axonseg command: build an nnU-Net v1 task from cubes.

Usage: python scripts/create_data.py --config configs/create_data.yaml [flags]
(the same as ``axonseg create-data``; see ``--help``).
"""
import sys

from _entry import run

if __name__ == "__main__":
    sys.exit(run('axonseg.cli.create_data'))
