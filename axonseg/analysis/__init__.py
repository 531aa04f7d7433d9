"""Analysis of predictions: metrics, skeleton length, density maps, preview pictures.

Arrays in, arrays out: nothing here opens files (that is ``axonseg.io``). Import the
submodules directly, e.g. ``from axonseg.analysis.preview import save_preview_png``.
"""
