"""Settings of ``create_data``: one frozen dataclass, keys 1:1 with ``configs/create_data.yaml``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axonseg.cubes.contrast import CONTRAST_MODES
from axonseg.settings import SettingsBase

_TUPLE_FIELDS = {"patch_size_zyx": int, "voxel_spacing_um_zyx": float,
                 "affine_scale_range": float, "normalise_percentiles": float}


@dataclass(frozen=True)
class CreateDataSettings(SettingsBase):
    """Everything ``create_data`` needs to build one nnU-Net v1 raw task.

    Folders default to D-LMBmap's layout: ``base_dir/train/{volumes,Fine-label,artifacts}``
    for training cubes and ``source_dir/train/{volumes,artifacts}`` for histogram references.
    The task is written to ``raw_data_base/nnUNet_raw_data/Task<id>_<name>``. Sizes are in
    voxels, spacing in micrometres, probabilities in [0, 1].
    """

    task_id: int
    task_name: str
    raw_data_base: str
    voxel_spacing_um_zyx: tuple[float, float, float]
    base_dir: str = "base"
    volumes_dir: str | None = None
    labels_dir: str | None = None
    artifacts_dir: str | None = None
    source_dir: str | None = None
    source_volumes_dir: str | None = None
    source_artifacts_dir: str | None = None
    test_volumes_dir: str | None = None
    preprocessed_base: str | None = None
    samples_per_cube: int = 4
    artifact_samples_per_cube: int = 2
    patch_size_zyx: tuple[int, int, int] = (128, 128, 128)
    seed: int = 0
    histogram_matching: bool = True
    keep_originals: bool = True
    cutmix: bool = True
    cutmix_probability: float = 0.5
    cutmix_min_fraction: float = 0.2
    cutmix_max_fraction: float = 0.5
    contrast: bool = True
    contrast_mode: str = "weaken"
    contrast_probability: float = 0.5
    contrast_factor: float = 0.5
    contrast_radius_vox: float = 2.0
    rotate90: bool = True
    flip: bool = True
    affine_probability: float = 0.5
    affine_max_angle_deg: float = 10.0
    affine_scale_range: tuple[float, float] = (0.9, 1.1)
    normalise_percentiles: tuple[float, float] = (0.0, 100.0)
    num_folds: int = 5
    num_workers: int = 2
    overwrite: bool = False
    preview: bool = True

    settings_kind = "create_data settings"

    def __post_init__(self):
        for name, kind in _TUPLE_FIELDS.items():
            value = getattr(self, name)
            if isinstance(value, (int, float)) and name == "patch_size_zyx":
                value = (value, value, value)
            object.__setattr__(self, name, tuple(kind(v) for v in value))
        if len(self.patch_size_zyx) != 3 or min(self.patch_size_zyx) < 1:
            raise ValueError(f"patch_size_zyx must be 3 positive ints, got {self.patch_size_zyx}")
        if len(self.voxel_spacing_um_zyx) != 3 or min(self.voxel_spacing_um_zyx) <= 0:
            raise ValueError(f"voxel_spacing_um_zyx must be 3 positive numbers, got {self.voxel_spacing_um_zyx}")
        if not 1 <= self.task_id <= 999:
            raise ValueError(f"task_id must be 1..999 (nnU-Net v1 Task###), got {self.task_id}")
        if not self.task_name or not self.task_name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"task_name must be letters, digits, '_' or '-', got {self.task_name!r}")
        if self.contrast_mode not in CONTRAST_MODES:
            raise ValueError(f"contrast_mode must be one of {CONTRAST_MODES}, got {self.contrast_mode!r}")
        if self.samples_per_cube < 1 or self.artifact_samples_per_cube < 0:
            raise ValueError("samples_per_cube must be >= 1 and artifact_samples_per_cube >= 0")
        for name in ("cutmix_probability", "contrast_probability", "affine_probability"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.num_folds < 2 or self.num_workers < 1:
            raise ValueError("num_folds must be >= 2 and num_workers >= 1")

    # -- folders -------------------------------------------------------------------------
    def folder(self, name: str) -> Path | None:
        """Resolved input folder: ``volumes``, ``labels``, ``artifacts``, ``source_volumes``,
        ``source_artifacts`` (explicit ``<name>_dir`` or the D-LMBmap default)."""
        explicit = getattr(self, f"{name}_dir")
        if explicit is not None:
            return Path(explicit)
        defaults = {"volumes": (self.base_dir, "volumes"), "labels": (self.base_dir, "Fine-label"),
                    "artifacts": (self.base_dir, "artifacts"),
                    "source_volumes": (self.source_dir, "volumes"),
                    "source_artifacts": (self.source_dir, "artifacts")}
        root, sub = defaults[name]
        return None if root is None else Path(root) / "train" / sub

    @property
    def task_folder_name(self) -> str:
        return f"Task{self.task_id:03d}_{self.task_name}"

    # -- (de)serialisation: SettingsBase; a single patch size means a cube -----------------
    @classmethod
    def from_dict(cls, d: Any, source: str | Path | None = None, key_prefix: str = "") -> "CreateDataSettings":
        if isinstance(d, dict) and isinstance(d.get("patch_size_zyx"), int):
            d = {**d, "patch_size_zyx": [d["patch_size_zyx"]] * 3}
        return super().from_dict(d, source=source, key_prefix=key_prefix)
