"""The only code that opens image files.

Everything returns a lazy ``dask.array.Array`` (axis order z, y, x) plus a
:class:`VolumeInfo`. Library code below ``axonseg.io`` takes arrays only.
"""
from axonseg.io.volume import VolumeInfo, VolumeError, open_volume
from axonseg.io.tiff import read_tiff, write_tiff
from axonseg.io.region import RegionReader, cached_region_reader, open_region_reader
from axonseg.io.nifti import open_nifti

__all__ = ["VolumeInfo", "VolumeError", "open_volume", "read_tiff", "write_tiff", "RegionReader",
           "open_region_reader", "cached_region_reader", "open_nifti"]
