"""Predict axon probabilities over a whole brain, block by block (resumable; serial or Dask).

``axonseg predict INPUT OUTPUT`` uses the shipped starter model (with per-patch
normalisation, as it was trained); ``--model M`` (or ``INPUT MODEL OUTPUT``) uses another.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command
from axonseg.errors import UsageError

# flag -> (settings field, argparse kwargs); flags left unset keep the config's value
_FLAGS = {
    "--step": ("step_fraction", {"type": float, "help": "lattice step as a fraction of the patch (0.5)"}),
    "--batch-size": ("batch_size", {"type": int, "help": "patches per network call (2)"}),
    "--device": ("device", {"help": "auto (default: cuda when torch sees a GPU, else cpu) | cpu | cuda | cuda:N"}),
    "--threads": ("num_threads", {"type": int, "help": "torch threads per worker (0: automatic)"}),
    "--tta": ("mirror_tta", {"action": argparse.BooleanOptionalAction, "help": "8-fold mirror TTA"}),
    "--normalization": ("normalization", {"choices": ["global", "per_patch"],
                                          "help": "intensity normalisation (default: as the model was trained)"}),
    "--skip-empty-below": ("skip_empty_below", {"type": float, "help": "skip blocks whose raw max is below"}),
    "--output-class": ("output_class", {"type": int, "help": "class whose probability is written (1)"}),
    "--mask-threshold": ("mask_threshold", {"type": float, "help": "also write a 0/255 mask at this probability"}),
    "--chunk": ("chunk_shape_vox", {"type": int, "nargs": 3, "metavar": ("Z", "Y", "X"),
                                    "help": "output zarr chunk shape in voxels (128 128 128)"}),
    "--block": ("block_shape_vox", {"type": int, "nargs": 3, "metavar": ("Z", "Y", "X"),
                                    "help": "work unit in voxels, whole chunks (default: twice the patch)"}),
    "--pyramid-levels": ("pyramid_max_levels", {"type": int, "help": "OME-Zarr pyramid levels at most (5)"}),
    "--tiff-slices": ("write_tiff_slices", {"action": argparse.BooleanOptionalAction,
                                            "help": "also write D-LMBmap style tiff/0000.tiff ... (default off)"}),
    "--runner": ("runner", {"choices": ["serial", "dask"], "help": "serial (default) or dask: one task per block"}),
    "--scheduler": ("dask_scheduler_address", {"help": "Dask scheduler address (default: local cluster)"}),
    "--workers": ("dask_workers", {"type": int, "help": "local Dask workers"}),
    "--preview": ("preview", {"action": argparse.BooleanOptionalAction,
                             "help": "write preview.png, projections of input and probability (default on)"}),
    "--voxel-size-um": ("voxel_size_um", {"type": float, "nargs": 3, "metavar": ("Z", "Y", "X"),
                                         "help": "voxel size in µm (default: the input's; if it records none, "
                                                 "1 µm with a warning)"}),
    "--channels-last": ("channels_last", {"action": argparse.BooleanOptionalAction,
                                         "help": "channels_last_3d memory format (faster for narrow networks on CPU)"}),
    "--ngff": ("ngff_version", {"choices": ["0.4", "0.5"],
                                "help": "OME-Zarr version: 0.5 on zarr v3 (default), 0.4 on zarr v2 (Fiji, MoBIE)"}),
    "--shard": ("shard_shape_vox", {"type": int, "nargs": 3, "metavar": ("Z", "Y", "X"),
                                    "help": "zarr v3 shard shape (multiple of --chunk, divides --block)"}),
    "--runtime": ("runtime", {"choices": ["auto", "eager", "compile", "onnxruntime", "openvino"],
                              "help": "what runs the network (auto: measured default for the device)"}),
    "--runtime-cache": ("runtime_cache_dir", {"metavar": "DIR", "help": "where onnxruntime/openvino cache "
                                              "exported networks (default ~/.cache/axonseg/runtimes)"}),
    "--tissue-mask": ("tissue_mask", {"action": argparse.BooleanOptionalAction,
                                       "help": "skip patches entirely outside the tissue (default on)"}),
    "--tissue-threshold": ("tissue_threshold", {"type": float,
                                                "help": "tissue above this low-resolution mean (default: automatic)"}),
    "--tissue-downsample": ("tissue_downsample_vox", {"type": int, "help": "cell side of the tissue view (8)"}),
    "--tissue-margin": ("tissue_margin_vox", {"type": int, "help": "dilate the tissue mask by this many voxels"}),
    "--scout-threshold": ("scout_threshold", {"type": float, "help": "run a lattice patch only where the scout "
                                              "pass reached this probability (see README)"}),
    "--overlap-io": ("overlap_io", {"action": argparse.BooleanOptionalAction,
                                    "help": "read/write in threads while the network runs (default on)"}),
    "--fold": ("fold", {"type": int, "help": "nnU-Net result folder: which fold (0)"}),
    "--checkpoint": ("checkpoint", {"choices": ["final", "best", "latest"],
                                   "help": "nnU-Net result folder: which checkpoint (final)"}),
    "--patch-size": ("legacy_patch_size_vox", {"type": int, "nargs": 3, "metavar": ("Z", "Y", "X"),
                                                "help": "patch size of a legacy plain Generic_UNet .pth"}),
    "--convert": ("convert_input", {"action": argparse.BooleanOptionalAction,
                                    "help": "convert a non-zarr input to <output>/input.ome.zarr first"}),
    "--tiling": ("tiling", {"choices": ["lattice", "halo", "auto"],
                            "help": "lattice: Gaussian sliding window; halo: each voxel once in tiles of one block "
                                    "+ halo (position-independent models); auto (default): halo where allowed"}),
    "--halo": ("halo_vox", {"type": int, "help": "halo of --tiling halo in voxels (default: the model's)"}),
}


def _parser() -> argparse.ArgumentParser:
    # one job per call: argparse would write the nargs="+" positional as "INPUT [MODEL] OUTPUT [INPUT ...]"
    p = argparse.ArgumentParser(prog="axonseg predict", description=__doc__,
                                usage="%(prog)s [options] INPUT [MODEL] OUTPUT   (see --help for the options)")
    p.add_argument("paths", type=Path, nargs="+", metavar="INPUT [MODEL] OUTPUT",
                   help="INPUT: zarr / OME-Zarr / TIFF slice folder / TIFF stack / HDF5; MODEL (optional): "
                        "axonseg .pth, legacy D-LMBmap .pth, or nnU-Net v1 result folder; OUTPUT: output "
                        "folder (rerun the same command to resume)")
    p.add_argument("--model", type=Path, help="model (default: the shipped starter model)")
    p.add_argument("--config", type=Path, help="YAML settings (keys of PredictSettings); flags win")
    p.add_argument("--dataset", help="HDF5 dataset name")
    for flag, (field, kwargs) in _FLAGS.items():
        p.add_argument(flag, dest=field, default=None, **kwargs)
    p.add_argument("--no-scout", action="store_true", help="no scout pass: run every lattice patch in the tissue")
    p.add_argument("--overwrite", action="store_true", help="delete an existing prediction in OUTPUT first")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _run(args: argparse.Namespace) -> int:
    if len(args.paths) not in (2, 3) or (len(args.paths) == 3 and args.model is not None):
        raise UsageError("give INPUT OUTPUT (optionally --model MODEL) or INPUT MODEL OUTPUT")
    args.input, args.output = args.paths[0], args.paths[-1]
    if len(args.paths) == 3:
        args.model = args.paths[1]
    from axonseg.inference import PredictSettings, predict_whole_brain

    overrides = {f: getattr(args, f) for f, _ in _FLAGS.values() if getattr(args, f) is not None}
    if args.no_scout:
        if args.scout_threshold is not None:
            raise UsageError("give --scout-threshold or --no-scout, not both")
        overrides["scout_threshold"] = None
    if args.model is None:
        from axonseg.starter import starter_model_path

        args.model = starter_model_path()
    base = PredictSettings.from_yaml(args.config) if args.config else PredictSettings()
    settings = base.replace(**overrides)
    summary = predict_whole_brain(args.input, args.model, args.output, settings, overwrite=args.overwrite,
                                  dataset=args.dataset, progress=not args.quiet)
    print(f"{summary.out_dir}: {summary.blocks_run} blocks run ({summary.blocks_skipped_empty} empty, skipped), "
          f"{summary.blocks_resumed} already done, of {summary.blocks_total}; {summary.seconds:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("predict", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
