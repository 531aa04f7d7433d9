"""Load a network for prediction from any of the three kinds of weights.

(a) our self-describing ``.pth`` (``axonseg save-models``), (b) a legacy D-LMBmap
``.pth`` (a bare state_dict of its axial ``Generic_UNet``; the architecture is inferred
from the tensor shapes), (c) an nnU-Net v1 result folder. State dicts must match the
network exactly: missing/unexpected keys and wrong shapes raise, listing the first
differences (D-LMBmap's loader skipped them silently).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from axonseg.nnunet_v1.checkpoints import load_checkpoint
from axonseg.nnunet_v1 import plans as nnplans
from axonseg.inference.normalization import NormalizationParams
from axonseg.networks import UNetConfig, build_network
from axonseg.errors import AxonsegError

logger = logging.getLogger(__name__)

FORMAT = "axonseg-model"
FORMAT_VERSION = 1


class WeightsError(AxonsegError, ValueError):
    """Weights cannot be loaded into the network; the message names the file and differences."""


@dataclass(frozen=True)
class LoadedModel:
    """A network description, its weights and how its inputs were normalised in training."""

    config: UNetConfig
    state_dict: dict[str, torch.Tensor] = field(repr=False)
    normalization: NormalizationParams
    spacing_zyx: tuple[float, ...] | None
    trainer: str | None
    source: str
    kind: str
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def patch_size_zyx(self) -> tuple[int, ...]:
        return self.config.patch_size_zyx

    @property
    def predict_normalization(self) -> str:
        """How predict normalises by default: as the model was trained.

        ``per_patch`` for the v1 starter model and its fine-tunes (trained on per-crop
        z-scored cubes; their ``.pth`` names a ``DLMBmapTrainerV2Starter*`` trainer) or where
        the file records it; ``global`` otherwise.
        """
        recorded = self.extra.get("predict_normalization")
        if recorded:
            return str(recorded)
        if (self.trainer or "").startswith("DLMBmapTrainerV2Starter"):
            return "per_patch"
        return "global"


def state_dict_differences(expected: dict[str, torch.Tensor], got: dict[str, Any], limit: int = 8) -> list[str]:
    """Human-readable differences between two state dicts (missing, unexpected, shape)."""
    out = []
    for k in expected:
        if k not in got:
            out.append(f"missing {k} {tuple(expected[k].shape)}")
    for k in got:
        if k not in expected:
            out.append(f"unexpected {k} {tuple(getattr(got[k], 'shape', ()))}")
    for k in expected:
        if k in got and tuple(expected[k].shape) != tuple(getattr(got[k], "shape", ())):
            out.append(f"shape of {k}: network {tuple(expected[k].shape)}, weights {tuple(got[k].shape)}")
    return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


def build_loaded_network(model: LoadedModel) -> torch.nn.Module:
    """Build the network for inference (no deep supervision, eval mode) with its weights, strictly."""
    net = build_network(replace(model.config, deep_supervision=False))
    diffs = state_dict_differences(net.state_dict(), model.state_dict)
    if diffs:
        raise WeightsError(f"{model.source}: weights do not match the {model.config.architecture} network "
                           f"(first differences): " + "; ".join(diffs))
    net.load_state_dict(model.state_dict, strict=True)
    net.do_ds = False
    return net.eval()


_CTX = re.compile(r"^conv_blocks_context\.(\d+)\.")
_TU = re.compile(r"^tu\.(\d+)\.weight$")


def infer_config(sd: dict[str, torch.Tensor], source: str, patch_size_zyx=None, heads: int = 2,
                 dim_heads: int = 8) -> UNetConfig:
    """Rebuild the ``UNetConfig`` of a Generic_UNet / axial U-Net state dict from its tensor shapes.

    Base features, stages, kernel sizes, classes come from the convolution weights; the
    axial net's patch size from its positional embeddings (``heads``/``dim_heads`` only
    their product is stored, so they default to D-LMBmap's 2 and 8).
    """
    try:
        n_ctx = 1 + max(int(_CTX.match(k).group(1)) for k in sd if _CTX.match(k))
        num_pool = 1 + max(int(_TU.match(k).group(1)) for k in sd if _TU.match(k))
    except ValueError:
        raise WeightsError(f"{source}: not a Generic_UNet state dict (no conv_blocks_context.* / tu.* tensors)")
    if n_ctx != num_pool + 1:
        raise WeightsError(f"{source}: {n_ctx} encoder stages but {num_pool} upsamplings")
    w0 = sd["conv_blocks_context.0.blocks.0.conv.weight"]
    conv_per_stage = len({k.split(".")[3] for k in sd if k.startswith("conv_blocks_context.0.blocks.")})
    conv_kernels = [list(sd[f"conv_blocks_context.{d}.blocks.0.conv.weight"].shape[2:]) for d in range(num_pool)]
    conv_kernels.append(list(sd[f"conv_blocks_context.{num_pool}.0.blocks.0.conv.weight"].shape[2:]))
    pool_kernels = [list(sd[f"tu.{num_pool - 1 - d}.weight"].shape[2:]) for d in range(num_pool)]
    seg_last = sd[f"seg_outputs.{num_pool - 1}.weight"]
    base = int(w0.shape[0])
    widths = [int(sd[f"conv_blocks_context.{d}.blocks.0.conv.weight"].shape[0]) for d in range(num_pool)]
    widths.append(int(sd[f"conv_blocks_context.{num_pool}.0.blocks.0.conv.weight"].shape[0]))
    natural = base * 2 ** num_pool
    max_features = max(widths) if max(widths) < natural else max(320, natural)
    axial = any(k.startswith("axial_embedding.") for k in sd)
    if axial:
        d = num_pool - 1
        shape_d = [int(sd[f"axial_embedding.0.param_{a}"].shape[2 + a]) for a in range(3)]
        factor = [1, 1, 1]
        for ks in pool_kernels[:d]:
            factor = [f * k for f, k in zip(factor, ks)]
        inferred = tuple(s * f for s, f in zip(shape_d, factor))
        if patch_size_zyx is not None and tuple(patch_size_zyx) != inferred:
            raise WeightsError(f"{source}: positional embeddings need patch size {inferred}, "
                               f"but {tuple(patch_size_zyx)} was given")
        patch_size_zyx = inferred
        q = sd["axial_attention.0.axial_attentions.0.fn.to_q.weight"]
        if int(q.shape[0]) != heads * dim_heads * 4 ** d:
            raise WeightsError(f"{source}: attention width {int(q.shape[0])} != heads*dim_heads*4^{d} with "
                               f"heads={heads}, dim_heads={dim_heads}; pass the right --heads/--dim-heads")
    elif patch_size_zyx is None:
        raise WeightsError(f"{source}: a plain Generic_UNet state dict does not record its patch size; give it "
                           f"(--patch-size Z Y X)")
    return UNetConfig("axial_unet" if axial else "generic_unet", int(w0.shape[1]), int(seg_last.shape[0]),
                      base, pool_kernels, conv_kernels, tuple(int(p) for p in patch_size_zyx),
                      conv_per_stage=conv_per_stage, max_num_features=max_features, heads=heads,
                      dim_heads=dim_heads, norm=norm_of_state_dict(sd))


def norm_of_state_dict(sd: dict[str, Any]) -> str:
    """``batch`` when the state dict carries running statistics (BatchNorm), else ``instance``."""
    return "batch" if any(k.endswith(".running_mean") for k in sd) else "instance"


def normalization_from_plan(plan: nnplans.PlanSummary) -> NormalizationParams:
    """nnU-Net v1's normalisation for channel 0 of a plan (dataset statistics for CT schemes)."""
    ip = plan.intensity_properties or {}
    scheme = plan.normalization_scheme
    if scheme in ("CT", "CT2") and not ip:
        raise WeightsError(f"normalisation {scheme} needs the plan's intensityproperties, which are missing")
    if scheme == "CT":
        return NormalizationParams("CT", ip["mean"], ip["sd"], ip["percentile_00_5"], ip["percentile_99_5"])
    if scheme == "CT2":
        return NormalizationParams("CT2", None, None, ip["percentile_00_5"], ip["percentile_99_5"])
    return NormalizationParams(scheme, mask_zero=plan.use_mask_for_norm)


def load_nnunet_folder(folder: str | Path, fold: int = 0, checkpoint: str = "final") -> LoadedModel:
    """Load one fold of an nnU-Net v1 result folder (``plans.pkl`` + ``fold_N/model_*.model``)."""
    files = nnplans.find_model_files(folder, fold, checkpoint)
    plans = nnplans.read_pickle(files.plans_file)
    plan = nnplans.summarize_plans(plans, files.plans_file, nnplans.stage_from_pkl(files))
    if plan.transpose_forward != (0, 1, 2):
        raise WeightsError(f"{files.plans_file}: transpose_forward {plan.transpose_forward} is not supported "
                           f"(the predictor assumes the network's axes are the volume's z, y, x)")
    sd = nnplans.read_checkpoint_state_dict(files.checkpoint_file)
    axial = any(k.startswith("axial_embedding.") for k in sd)
    cfg = UNetConfig("axial_unet" if axial else "generic_unet", plan.num_input_channels,
                     plan.num_classes_with_background, plan.base_num_features, plan.pool_op_kernel_sizes,
                     plan.conv_kernel_sizes, plan.patch_size_zyx, conv_per_stage=plan.conv_per_stage,
                     norm=norm_of_state_dict(sd))
    if axial:
        inferred = infer_config(sd, str(files.checkpoint_file))
        cfg = replace(cfg, heads=inferred.heads, dim_heads=inferred.dim_heads)
    recorded = plans.get("axonseg_normalization") if isinstance(plans, dict) else None
    norm = NormalizationParams(**recorded) if recorded else normalization_from_plan(plan)
    return LoadedModel(cfg, sd, norm, plan.spacing_zyx,
                       nnplans.trainer_name(files), str(files.checkpoint_file), "nnunet-folder",
                       {"fold": fold, "checkpoint": checkpoint, "stage": plan.stage,
                        "intensity_properties": plan.intensity_properties})


def _from_axonseg_pth(obj: dict[str, Any], source: str) -> LoadedModel:
    if obj.get("format_version") != FORMAT_VERSION:
        raise WeightsError(f"{source}: axonseg model format version {obj.get('format_version')} "
                           f"is not {FORMAT_VERSION}")
    cfg = UNetConfig.from_dict(obj["network"])
    spacing = obj.get("spacing_zyx")
    return LoadedModel(cfg, obj["state_dict"], NormalizationParams(**obj["normalization"]),
                       tuple(spacing) if spacing else None, obj.get("trainer"), source, "axonseg",
                       {k: v for k, v in obj.items() if k not in ("state_dict", "network", "normalization")})


def _torch_load_problem(exc: Exception, path: Path) -> str:
    """torch.load's (multi-line, coloured) error in one line: what was refused, or what is wrong."""
    import re
    import zipfile

    from axonseg.io.files import read_head

    head = read_head(path, 2) if path.is_file() else b""
    if not zipfile.is_zipfile(path) and not head.startswith(b"\x80"):
        return "not a torch checkpoint (neither torch's zip format nor a pickle)"

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    refused = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if refused:
        return (f"refused by torch.load(weights_only=True): it pickles {refused.group(1)}, which a checkpoint "
                "of weights should not contain (axonseg never unpickles arbitrary objects)")
    errors = re.findall(r"\w+Error: (.+)", text)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return f"not a readable torch checkpoint ({errors[-1].strip() if errors else first})"


def load_model(path: str | Path, fold: int = 0, checkpoint: str = "final", patch_size_zyx=None,
               heads: int = 2, dim_heads: int = 8, normalization: str = "nonCT") -> LoadedModel:
    """Load weights of any supported kind (see module docstring).

    Parameters
    ----------
    path
        ``.pth`` file (ours or legacy D-LMBmap), an nnU-Net ``.model`` checkpoint needs its
        result folder instead: pass the folder.
    fold, checkpoint
        For nnU-Net result folders.
    patch_size_zyx, heads, dim_heads
        For legacy state dicts only (the axial net's patch size is inferred).
    normalization
        For legacy state dicts only: the nnU-Net scheme the model was trained with.
    """
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"{path}: no such model file or folder")
    if path.is_dir():
        return load_nnunet_folder(path, fold, checkpoint)
    try:
        obj = load_checkpoint(path)
    except Exception as e:  # torch raises many types for a bad file; re-raise with the path
        raise WeightsError(f"{path}: {_torch_load_problem(e, path)}") from e
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        return _from_axonseg_pth(obj, str(path))
    if isinstance(obj, dict) and "state_dict" in obj:
        raise WeightsError(f"{path}: an nnU-Net training checkpoint; pass its result folder (with plans.pkl) "
                           f"or export it first with `axonseg save-models`")
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        cfg = infer_config(obj, str(path), patch_size_zyx, heads, dim_heads)
        logger.info("legacy state dict %s: inferred %s", path, cfg)
        return LoadedModel(cfg, obj, NormalizationParams(normalization), None, None, str(path), "legacy-state-dict")
    raise WeightsError(f"{path}: neither an axonseg model, an nnU-Net checkpoint nor a bare state dict")
