"""Read nnU-Net v1 result folders: ``plans.pkl`` and ``fold_N/model_*.model`` (+ ``.pkl``).

Pickles are read with an allow-list (numpy arrays and scalars, OrderedDict, builtins
containers), never with a bare ``pickle.load``; checkpoints with
``axonseg.nnunet_v1.checkpoints.load_checkpoint`` (``torch.load(weights_only=True)``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axonseg.nnunet_v1.checkpoints import load_checkpoint, to_builtin
from axonseg.errors import AxonsegError

CHECKPOINT_FILES = {"final": "model_final_checkpoint.model", "best": "model_best.model",
                    "latest": "model_latest.model"}

_ALLOWED = {
    ("collections", "OrderedDict"), ("builtins", "set"), ("builtins", "frozenset"),
    ("builtins", "slice"), ("builtins", "complex"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "float64"), ("numpy", "float32"), ("numpy", "int64"), ("numpy", "bool_"),
}


class ModelFolderError(AxonsegError, ValueError):
    """An nnU-Net result folder or checkpoint is incomplete or unreadable; names the file."""


def read_pickle(path: Path) -> Any:
    """Unpickle ``path`` allowing only plain data (numpy arrays, dicts, lists, numbers)."""
    from axonseg.io.files import read_pickle_allowlist
    from axonseg.io.info import FileFormatError

    try:
        return read_pickle_allowlist(path, _ALLOWED)
    except FileFormatError as e:
        raise ModelFolderError(str(e)) from e


@dataclass(frozen=True)
class NnunetModelFiles:
    """The files of one fold of an nnU-Net v1 training output folder."""

    folder: Path
    plans_file: Path
    checkpoint_file: Path
    checkpoint_pkl: Path | None
    fold: int


def find_model_files(folder: str | Path, fold: int = 0, checkpoint: str = "final") -> NnunetModelFiles:
    """Locate ``plans.pkl`` and the requested checkpoint of ``fold`` in a result folder."""
    folder = Path(folder)
    if checkpoint not in CHECKPOINT_FILES:
        raise ValueError(f"checkpoint must be one of {sorted(CHECKPOINT_FILES)}, got {checkpoint!r}")
    plans = folder / "plans.pkl"
    if not plans.is_file():
        raise ModelFolderError(f"{folder}: no plans.pkl; expected an nnU-Net v1 result folder "
                               f"(<task>/<trainer>__<plans>/ with plans.pkl and fold_N/)")
    fold_dir = folder / f"fold_{fold}"
    ckpt = fold_dir / CHECKPOINT_FILES[checkpoint]
    if not ckpt.is_file():
        have = sorted(p.name for p in fold_dir.glob("*.model")) if fold_dir.is_dir() else []
        raise ModelFolderError(f"{ckpt}: no such checkpoint (fold {fold}, {checkpoint}); "
                               f"{fold_dir} has {have or 'no .model files'}")
    pkl = ckpt.with_name(ckpt.name + ".pkl")
    return NnunetModelFiles(folder, plans, ckpt, pkl if pkl.is_file() else None, fold)


def read_checkpoint_state_dict(path: Path) -> dict[str, Any]:
    """The ``state_dict`` of an nnU-Net v1 ``.model`` checkpoint (safe loading)."""
    try:
        ckpt = load_checkpoint(path)
    except Exception as e:  # torch raises many types for a bad file; re-raise with the path
        raise ModelFolderError(f"{path}: cannot load checkpoint: {e}") from e
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise ModelFolderError(f"{path}: not an nnU-Net checkpoint (no 'state_dict' entry)")
    return ckpt["state_dict"]


@dataclass(frozen=True)
class PlanSummary:
    """What the predictor needs from an nnU-Net v1 plan (one stage)."""

    stage: int
    patch_size_zyx: tuple[int, ...]
    pool_op_kernel_sizes: list[list[int]]
    conv_kernel_sizes: list[list[int]]
    base_num_features: int
    num_classes_with_background: int
    num_input_channels: int
    conv_per_stage: int
    spacing_zyx: tuple[float, ...]
    normalization_scheme: str
    use_mask_for_norm: bool
    intensity_properties: dict[str, Any] | None
    transpose_forward: tuple[int, ...]


def summarize_plans(plans: dict[str, Any], source: Path, stage: int | None = None) -> PlanSummary:
    """Pull one stage's network and normalisation settings out of an nnU-Net v1 plans dict."""
    try:
        stages = plans["plans_per_stage"]
        if stage is None:
            stage = max(stages)
        st = stages[stage]
        schemes = plans["normalization_schemes"]
        intensity = (plans.get("dataset_properties") or {}).get("intensityproperties")
        return PlanSummary(
            stage=int(stage),
            patch_size_zyx=tuple(int(p) for p in st["patch_size"]),
            pool_op_kernel_sizes=[[int(k) for k in ks] for ks in st["pool_op_kernel_sizes"]],
            conv_kernel_sizes=[[int(k) for k in ks] for ks in st["conv_kernel_sizes"]],
            base_num_features=int(plans["base_num_features"]),
            num_classes_with_background=int(plans["num_classes"]) + 1,
            num_input_channels=int(plans["num_modalities"]),
            conv_per_stage=int(plans.get("conv_per_stage", 2)),
            spacing_zyx=tuple(float(s) for s in st["current_spacing"]),
            normalization_scheme=str(schemes[0]),
            use_mask_for_norm=bool((plans.get("use_mask_for_norm") or {0: False})[0]),
            intensity_properties=to_builtin(dict(intensity[0])) if intensity and 0 in intensity else None,
            transpose_forward=tuple(int(t) for t in plans.get("transpose_forward", (0, 1, 2))),
        )
    except (KeyError, TypeError, IndexError, ValueError) as e:
        raise ModelFolderError(f"{source}: not an nnU-Net v1 plans dict ({type(e).__name__}: {e})") from e


def trainer_name(files: NnunetModelFiles) -> str:
    """Trainer class name from the checkpoint's ``.pkl`` (else from the folder name)."""
    if files.checkpoint_pkl is not None:
        info = read_pickle(files.checkpoint_pkl)
        if isinstance(info, dict) and "name" in info:
            return str(info["name"])
    return files.folder.name.split("__")[0]


def stage_from_pkl(files: NnunetModelFiles) -> int | None:
    """The plan stage the fold was trained on (``init[5]`` in nnU-Net v1's ``.model.pkl``)."""
    if files.checkpoint_pkl is None:
        return None
    info = read_pickle(files.checkpoint_pkl)
    init = info.get("init") if isinstance(info, dict) else None
    if isinstance(init, (tuple, list)) and len(init) > 5 and isinstance(init[5], int):
        return init[5]
    return None
