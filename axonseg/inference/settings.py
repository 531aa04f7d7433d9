"""Prediction settings: one frozen dataclass, mapped 1:1 to ``configs/predict.yaml``."""
from __future__ import annotations

from dataclasses import dataclass

from axonseg.inference.blocks import check_block_shape
from axonseg.inference.runtime import check_runtime_settings, resolve_runtime
from axonseg.settings import SettingsBase, check_finite, check_sizes_um

_TUPLES = ("chunk_shape_vox", "block_shape_vox", "voxel_size_um", "legacy_patch_size_vox", "shard_shape_vox")


@dataclass(frozen=True)
class PredictSettings(SettingsBase):
    """How to run whole-brain prediction.

    Attributes
    ----------
    step_fraction
        Step between lattice patches as a fraction of the patch size (nnU-Net's 0.5).
    batch_size
        Patches per network call.
    device
        ``auto`` (default: ``cuda`` when torch sees a CUDA GPU, else ``cpu``; resolved once per run,
        which logs the device), ``cpu`` or ``cuda`` (``cuda:N`` for one GPU).
    num_threads
        torch threads per worker; 0: all cores for the serial runner, cores / workers for Dask.
    mirror_tta
        Average over the 8 mirrorings (nnU-Net's test-time augmentation), 8x slower.
    normalization
        ``None`` (default): as the model was trained (its ``.pth`` records it: ``per_patch`` for
        the v1 starter model and its fine-tunes, ``global`` otherwise);
        ``global``: the model's normalisation with statistics computed once for the whole
        volume (z-score, or the tissue level of ``tissue_ratio`` models);
        ``per_patch``: each network patch z-scored with its own statistics.
    norm_max_sample_voxels
        Up to this many voxels the global statistics are exact; above, sampled from cubes.
    skip_empty_below
        Lattice patches whose raw input is entirely below this intensity are not run (they
        count as probability 0, like patches outside the tissue mask) and are counted as
        skipped; ``None`` runs every patch inside the tissue.
    output_class
        Class whose probability is written (1 = foreground of a 2-class model).
    mask_threshold
        Also write a binary mask (0/255) where probability >= this (0..1); ``None``: no mask.
    chunk_shape_vox
        Output zarr chunk shape (z, y, x).
    block_shape_vox
        Work unit (z, y, x); a whole multiple of ``chunk_shape_vox``. ``None`` (default): twice
        the patch per axis, rounded up to whole chunks (shards): 128³ for the starter model's
        64³ patches, 256³ for D-LMBmap's 128³. Memory grows with the block; each patch runs
        once whatever the block.
    pyramid_max_levels
        OME-Zarr pyramid levels at most (level 0 included).
    write_tiff_slices
        Also write D-LMBmap style uint8 TIFF slices ``tiff/0000.tiff`` ...
    runner
        ``serial`` or ``dask``.
    dask_scheduler_address
        Connect to this scheduler (e.g. a SLURM cluster); ``None`` starts a local cluster.
    dask_workers
        Workers of the local cluster.
    preview
        Write ``preview.png`` (maximum-intensity projections of input and probability).
    voxel_size_um
        (z, y, x) voxel size when the input does not record one.
    channels_last
        Run the network in channels_last_3d memory format. Off by default: measured on a 2-core
        CPU it is 1.3x faster for a base-8 U-Net but slower for D-LMBmap's base-32 width, where
        InstanceNorm's layout copies outweigh the faster convolutions.
    runtime, runtime_cache_dir, autocast
        What runs the network (:mod:`axonseg.inference.runtime`): ``auto`` (default: the
        measured winner on CPU, ``eager`` on CUDA; logged), ``eager``, ``compile``, ``onnxruntime``
        or ``openvino``; exported networks are cached in ``runtime_cache_dir`` (``None``:
        ``~/.cache/axonseg/runtimes``); ``autocast`` ``fp16``/``bf16`` on CUDA only.
    fold, checkpoint
        Which fold / checkpoint (final, best, latest) of an nnU-Net result folder.
    legacy_patch_size_vox
        Patch size of a legacy plain Generic_UNet state dict (axial nets infer it).
    convert_input
        Convert a non-zarr input to ``<output>/input.ome.zarr`` first (reads each
        TIFF slice once instead of once per block row).
    tissue_mask
        Skip every lattice patch that lies entirely outside the tissue (probability 0 there);
        the mask is computed from a low-resolution view and saved as ``tissue.ome.zarr``
        (see :mod:`axonseg.inference.tissue`).
    tissue_threshold
        Mean intensity (raw units) above which a low-resolution cell is tissue; ``None``:
        automatic (:func:`axonseg.inference.tissue.automatic_threshold`): 2x the background
        level (the mean of the cells within 1.5x of the 1st-percentile cell, never above
        sqrt(background x tissue)), used only when the tissue median is >= 3x that background
        with a gap above it; otherwise, and for signed inputs, everything is tissue.
    tissue_downsample_vox
        Cell side of the low-resolution view (voxels).
    tissue_margin_vox
        The mask is dilated by this many voxels (rounded up to whole cells).
    overlap_io
        Serial runner: read the next block and write the last one in threads while the
        network runs.
    ngff_version
        ``"0.5"`` (zarr v3, default) or ``"0.4"`` (zarr v2: Fiji's n5-zarr, BigDataViewer, MoBIE).
    shard_shape_vox
        zarr v3 shard shape (z, y, x): a whole multiple of ``chunk_shape_vox`` dividing
        ``block_shape_vox`` (one writer per shard); ``None``: no sharding.
    tiling
        How the output is computed (:mod:`axonseg.inference.halo`): ``lattice`` (nnU-Net's Gaussian
        sliding window, each lattice patch once), ``halo`` (tiles of one block plus a halo, each
        output voxel computed once, no blending: only for models whose ``.pth`` declares
        ``position_independent`` and a measured ``halo_vox``), ``auto`` (default: halo where the
        model allows it, else the lattice; the choice and its reason go to ``run.json``).
    halo_vox
        Halo of halo tiling in voxels; ``None``: the model's measured ``halo_vox``.
    """

    step_fraction: float = 0.5
    batch_size: int = 2
    device: str = "auto"
    num_threads: int = 0
    mirror_tta: bool = False
    normalization: str | None = None
    norm_max_sample_voxels: int = 2 ** 27
    skip_empty_below: float | None = None
    output_class: int = 1
    mask_threshold: float | None = None
    chunk_shape_vox: tuple[int, int, int] = (128, 128, 128)
    block_shape_vox: tuple[int, int, int] | None = None
    pyramid_max_levels: int = 5
    write_tiff_slices: bool = False
    runner: str = "serial"
    dask_scheduler_address: str | None = None
    dask_workers: int = 2
    preview: bool = True
    voxel_size_um: tuple[float, float, float] | None = None
    channels_last: bool = False
    runtime: str = "auto"
    runtime_cache_dir: str | None = None
    autocast: str | None = None
    fold: int = 0
    checkpoint: str = "final"
    legacy_patch_size_vox: tuple[int, int, int] | None = None
    convert_input: bool = False
    tissue_mask: bool = True
    tissue_threshold: float | None = None
    tissue_downsample_vox: int = 8
    tissue_margin_vox: int = 8
    scout_threshold: float | None = None
    overlap_io: bool = True
    ngff_version: str = "0.5"
    shard_shape_vox: tuple[int, int, int] | None = None
    tiling: str = "auto"
    halo_vox: int | None = None

    settings_kind = "prediction settings"

    def resolved_block_shape(self, patch_size_zyx) -> tuple[int, int, int]:
        """``block_shape_vox``, or (``None``) twice the patch rounded up to whole chunks (shards)."""
        if self.block_shape_vox is not None:
            return tuple(self.block_shape_vox)
        unit = self.shard_shape_vox or self.chunk_shape_vox
        return tuple(-(-max(2 * int(p), u) // u) * u for p, u in zip(patch_size_zyx, unit))

    def resolved_runtime(self) -> str:
        """The runtime that runs the network: ``runtime`` with ``auto`` resolved for ``device``."""
        from axonseg.inference.predictor import resolve_auto_device

        return resolve_runtime(self.runtime, resolve_auto_device(self.device, log=False), log=False)

    def __post_init__(self):
        for name in _TUPLES:
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, tuple(v))
        if not 0 < self.step_fraction <= 1:
            raise ValueError(f"step_fraction must be in (0, 1], got {self.step_fraction}")
        if self.normalization not in (None, "global", "per_patch"):
            raise ValueError(f"normalization must be 'global' or 'per_patch', got {self.normalization!r}")
        if self.runner not in ("serial", "dask"):
            raise ValueError(f"runner must be 'serial' or 'dask', got {self.runner!r}")
        if not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {self.device!r}")
        if self.mask_threshold is not None and not 0 <= self.mask_threshold <= 1:
            raise ValueError(f"mask_threshold is a probability in [0, 1], got {self.mask_threshold}")
        if self.batch_size < 1 or self.dask_workers < 1 or self.pyramid_max_levels < 1:
            raise ValueError("batch_size, dask_workers and pyramid_max_levels must be >= 1")
        from axonseg.inference.predictor import resolve_auto_device

        # auto as it resolves on this machine (predict resolves it once more, logged, for the run)
        check_runtime_settings(self.runtime, resolve_auto_device(self.device, log=False), self.autocast)
        if self.checkpoint not in ("final", "best", "latest"):
            raise ValueError(f"checkpoint must be final, best or latest, got {self.checkpoint!r}")
        for name in ("chunk_shape_vox", "block_shape_vox", "shard_shape_vox", "legacy_patch_size_vox"):
            v = getattr(self, name)
            if v is not None and (len(v) != 3 or min(v) < 1):
                raise ValueError(f"{name} must be 3 positive whole numbers of voxels (z y x), got {list(v)}")
        if self.voxel_size_um is not None and (len(self.voxel_size_um) != 3 or min(self.voxel_size_um) <= 0):
            raise ValueError(f"voxel_size_um must be 3 positive sizes in micrometres (z y x), "
                             f"got {list(self.voxel_size_um)}")
        if self.voxel_size_um is not None:
            check_sizes_um(self.voxel_size_um, "voxel_size_um (--voxel-size-um)")
        check_finite(self.tissue_threshold, "tissue_threshold (--tissue-threshold)")
        check_finite(self.skip_empty_below, "skip_empty_below (--skip-empty-below)")
        if self.block_shape_vox is not None:
            check_block_shape(self.block_shape_vox, self.chunk_shape_vox)
        if self.scout_threshold is not None and not 0 < self.scout_threshold <= 1:
            raise ValueError(f"scout_threshold is a probability in (0, 1] (or null: no scout pass), "
                             f"got {self.scout_threshold}")
        if self.tissue_downsample_vox < 1 or self.tissue_margin_vox < 0:
            raise ValueError(f"tissue_downsample_vox must be >= 1 and tissue_margin_vox >= 0, got "
                             f"{self.tissue_downsample_vox} and {self.tissue_margin_vox}")
        from axonseg.io.ome_zarr import ZarrFormat

        ZarrFormat(self.ngff_version, self.shard_shape_vox).check_chunks(self.chunk_shape_vox)
        if self.shard_shape_vox is not None and self.block_shape_vox is not None and any(
                b % h for b, h in zip(self.block_shape_vox,
                                                                            self.shard_shape_vox)):
            raise ValueError(f"block_shape_vox {self.block_shape_vox} must be a whole multiple of "
                             f"shard_shape_vox {self.shard_shape_vox} (one writer per shard)")
        if self.tiling not in ("lattice", "halo", "auto"):
            raise ValueError(f"tiling must be lattice, halo or auto, got {self.tiling!r}")
        if self.halo_vox is not None and self.halo_vox < 0:
            raise ValueError(f"halo_vox must be >= 0 voxels (or null: the model's), got {self.halo_vox}")
