"""Export a trained model to one self-describing ``.pth`` (``axonseg save-models``).

The file is a plain dict of tensors and Python builtins, so it loads with
``torch.load(weights_only=True)``: the state_dict, ``UNetConfig.to_dict()``, patch
size, classes, the nnU-Net normalisation scheme and intensity statistics, voxel
spacing, trainer name and the axonseg version; how predict normalises by default
(``predict_normalization``), whether the output depends only on the neighbourhood
(``position_independent``: no per-patch statistics) and the measured receptive-field
halo (``halo_vox``, or None). Nothing of nnU-Net's folders is needed
to run it.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import axonseg
from axonseg.inference.weights import (FORMAT, FORMAT_VERSION, LoadedModel, WeightsError, build_loaded_network,
                                       load_model)
from axonseg.io.torch_files import save_torch
from axonseg.nnunet_v1.checkpoints import to_builtin
from axonseg.nnunet_v1.plans import CHECKPOINT_FILES

logger = logging.getLogger(__name__)


def _resolve_source(source: Path, fold: int, checkpoint: str) -> tuple[Path, int, str]:
    """A ``fold_N/model_*.model`` file is read through its result folder."""
    if source.is_file() and source.suffix == ".model":
        m = re.fullmatch(r"fold_(\d+)", source.parent.name)
        kinds = {v: k for k, v in CHECKPOINT_FILES.items()}
        if m is None or source.name not in kinds:
            raise WeightsError(f"{source}: expected <result folder>/fold_N/{{{', '.join(CHECKPOINT_FILES.values())}}}")
        return source.parent.parent, int(m.group(1)), kinds[source.name]
    return source, fold, checkpoint


def model_to_dict(model: LoadedModel) -> dict[str, Any]:
    """The exported dict (tensors and builtins only)."""
    extra = to_builtin(dict(model.extra))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict.items()},
        "network": model.config.to_dict(),
        "patch_size_zyx": list(model.config.patch_size_zyx),
        "num_classes": model.config.num_classes,
        "normalization": to_builtin(model.normalization.to_dict()),
        "intensity_properties": extra.get("intensity_properties"),
        "spacing_zyx": list(model.spacing_zyx) if model.spacing_zyx else None,
        "trainer": model.trainer,
        "fold": extra.get("fold"),
        "checkpoint": extra.get("checkpoint"),
        "source": model.source,
        "source_kind": model.kind,
        "axonseg_version": axonseg.__version__,
        "predict_normalization": model.predict_normalization,
        "position_independent": model.config.position_independent,
        "halo_vox": extra.get("halo_vox"),
    }


def export_model(source: str | Path, out_path: str | Path, fold: int = 0, checkpoint: str = "final",
                 overwrite: bool = False, **legacy_kwargs: Any) -> Path:
    """Write ``out_path`` (``.pth``) from an nnU-Net v1 result folder, a ``.model`` checkpoint or a
    legacy D-LMBmap state dict.

    The weights are checked by building the network and loading them strictly before
    anything is written; the file is written to a temporary name and renamed.
    """
    out_path = Path(out_path)
    if out_path.exists() and not overwrite:
        raise FileExistsError(f"{out_path}: exists; pass overwrite (--overwrite) to replace it")
    src, fold, checkpoint = _resolve_source(Path(source), fold, checkpoint)
    model = load_model(src, fold=fold, checkpoint=checkpoint, **legacy_kwargs)
    build_loaded_network(model)  # strict check: raises listing differences
    payload = model_to_dict(model)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    save_torch(out_path, payload)
    logger.info("exported %s (%s, %d tensors) to %s", src, model.config.architecture, len(payload["state_dict"]),
                out_path)
    return out_path
