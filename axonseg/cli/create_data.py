"""Build a leak-free nnU-Net v1 task from annotated cubes (histogram matching, cutmix, contrast)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from axonseg.cli.runner import run_command

# flag -> (settings field, argparse kwargs); flags left unset keep the config's value
_FLAGS = {
    "--task-id": ("task_id", {"type": int}),
    "--task-name": ("task_name", {}),
    "--raw-data-base": ("raw_data_base", {"help": "nnU-Net raw base: task goes to BASE/nnUNet_raw_data/"}),
    "--preprocessed": ("preprocessed_base", {"help": "also put splits_final.pkl in PRE/Task<id>_<name>/"}),
    "--base": ("base_dir", {"help": "training tree BASE/train/{volumes,Fine-label,artifacts}"}),
    "--source": ("source_dir", {"help": "histogram references SOURCE/train/{volumes,artifacts}"}),
    "--test-volumes": ("test_volumes_dir", {"help": "folder of volume-<id>.tiff for imagesTs"}),
    "--samples-per-cube": ("samples_per_cube", {"type": int}),
    "--artifact-samples-per-cube": ("artifact_samples_per_cube", {"type": int}),
    "--patch-size": ("patch_size_zyx", {"type": int, "nargs": "+", "metavar": "VOX"}),
    "--seed": ("seed", {"type": int}),
    "--spacing-um": ("voxel_spacing_um_zyx", {"type": float, "nargs": 3, "metavar": ("Z", "Y", "X")}),
    "--histogram-matching": ("histogram_matching", {"action": argparse.BooleanOptionalAction}),
    "--keep-originals": ("keep_originals", {"action": argparse.BooleanOptionalAction}),
    "--cutmix": ("cutmix", {"action": argparse.BooleanOptionalAction}),
    "--contrast": ("contrast", {"action": argparse.BooleanOptionalAction}),
    "--contrast-mode": ("contrast_mode", {"choices": ["weaken", "enhance"]}),
    "--contrast-factor": ("contrast_factor", {"type": float}),
    "--workers": ("num_workers", {"type": int}),
    "--preview": ("preview", {"action": argparse.BooleanOptionalAction}),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axonseg create-data", description=__doc__)
    p.add_argument("--config", type=Path, help="YAML settings (keys of CreateDataSettings); flags win")
    for flag, (field, kwargs) in _FLAGS.items():
        p.add_argument(flag, dest=field, default=None, **kwargs)
    p.add_argument("--nnunet-env", action="store_true",
                   help="take --raw-data-base and --preprocessed from nnU-Net's environment variables "
                        "(nnUNet_raw_data_base, nnUNet_preprocessed) unless given")
    p.add_argument("--overwrite", action="store_true", help="replace an existing task folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _run(args: argparse.Namespace) -> int:
    from axonseg.cubes import CreateDataSettings, create_data

    overrides = {field: getattr(args, field) for field, _ in _FLAGS.values()}
    if overrides["patch_size_zyx"] is not None and len(overrides["patch_size_zyx"]) == 1:
        overrides["patch_size_zyx"] = overrides["patch_size_zyx"] * 3
    if args.overwrite:
        overrides["overwrite"] = True
    if args.nnunet_env:
        from axonseg.nnunet_v1.env import require_nnunet_paths

        paths = require_nnunet_paths()
        overrides["raw_data_base"] = overrides["raw_data_base"] or str(paths.raw_data_base)
        overrides["preprocessed_base"] = overrides["preprocessed_base"] or str(paths.preprocessed)
    if args.config is not None:
        settings = CreateDataSettings.from_yaml(args.config, **overrides)
    else:
        settings = CreateDataSettings.from_dict({k: v for k, v in overrides.items() if v is not None})
    task = create_data(settings, progress=not args.quiet)
    print(task)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command("create-data", _parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
