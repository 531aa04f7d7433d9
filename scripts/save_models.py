#!/usr/bin/env python
"""D-LMBmap's ``save_model.py``, as an axonseg command: export a trained model to one ``.pth``.

Usage: python scripts/save_models.py RESULT_FOLDER OUT.pth [--fold N] [--checkpoint final|best|latest]
(the same as ``axonseg save-models``; see ``--help``).
"""
import sys

from _entry import run

if __name__ == "__main__":
    sys.exit(run('axonseg.cli.save_models'))
