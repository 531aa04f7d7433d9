"""napari plugin (npe2, manifest ``napari.yaml``): open axonseg outputs as layers, predict from napari.

The reader (:mod:`axonseg.napari._reader`) needs no Qt; the widget
(:mod:`axonseg.napari._widget`) is imported by napari only when it is opened.
"""
