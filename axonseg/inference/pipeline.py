"""Whole-brain prediction end to end: input -> normalisation -> blocks on a runner -> outputs."""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from axonseg.inference import state
from axonseg.inference.blockjob import BlockResult, PredictJob, run_block
from axonseg.inference.normalization import NormalizationParams, with_image_statistics
from axonseg.inference.runners import run_dask, run_serial
from axonseg.inference.settings import PredictSettings
from axonseg.inference.weights import LoadedModel, build_loaded_network, load_model

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictionSummary:
    out_dir: Path
    blocks_total: int
    blocks_run: int
    blocks_resumed: int
    blocks_skipped_empty: int
    seconds: float


def _versions() -> dict[str, str]:
    import dask
    import torch
    import zarr

    import axonseg
    from importlib.metadata import version
    return {"axonseg": axonseg.__version__, "torch": torch.__version__, "numpy": np.__version__,
            "zarr": zarr.__version__, "dask": dask.__version__, "nnunet": version("nnunet"),
            "python": platform.python_version()}


def _state_dict_sha256(model: LoadedModel) -> str:
    h = hashlib.sha256()
    for k in sorted(model.state_dict):
        h.update(k.encode())
        h.update(model.state_dict[k].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


_NOT_IN_FINGERPRINT = ("runner", "dask_scheduler_address", "dask_workers", "num_threads", "preview",
                       "write_tiff_slices", "pyramid_max_levels", "convert_input")


def _fingerprint(input_path: Path, shape, dtype, model: LoadedModel, settings: PredictSettings) -> dict[str, Any]:
    s = {k: v for k, v in settings.to_dict().items() if k not in _NOT_IN_FINGERPRINT}
    return {"input": str(input_path.resolve()), "shape_zyx": list(shape), "dtype": str(dtype),
            "model_sha256": _state_dict_sha256(model), "settings": s}


def _threads(settings: PredictSettings) -> int:
    if settings.num_threads > 0:
        return settings.num_threads
    cores = os.cpu_count() or 1
    return max(1, cores // settings.dask_workers) if settings.runner == "dask" else cores


def _open_input(input_path: Path, dataset: str | None, layout: state.OutputLayout, settings: PredictSettings):
    from axonseg.io import open_volume
    from axonseg.io.convert import convert_to_ome_zarr

    arr, info = open_volume(input_path, dataset=dataset)
    if settings.convert_input and info.format not in ("zarr", "ome-zarr"):
        voxel = settings.voxel_size_um or info.voxel_size_um
        if not layout.converted_input.exists():
            from axonseg.io.ome_zarr import ZarrFormat

            convert_to_ome_zarr(input_path, layout.converted_input, voxel, dataset=dataset,
                                fmt=ZarrFormat(settings.ngff_version, settings.shard_shape_vox))
        arr, info = open_volume(layout.converted_input)
        return layout.converted_input, None, arr, info
    return input_path, dataset, arr, info


def _finalize(job: PredictJob, arr, voxel_size_um) -> None:
    from axonseg.io import write_tiff
    from axonseg.io.ome_zarr import build_pyramid, open_level

    layout, s = job.layout, job.settings
    build_pyramid(layout.probability, "mean")
    if s.mask_threshold is not None:
        build_pyramid(layout.mask, "max")
    prob = open_level(layout.probability)
    if s.write_tiff_slices:
        layout.tiff_dir.mkdir(exist_ok=True)
        width = max(4, len(str(prob.shape[0] - 1)))
        for z in tqdm(range(prob.shape[0]), desc="tiff slices", unit="slice"):
            write_tiff(layout.tiff_dir / f"{str(z).zfill(width)}.tiff", prob[z], voxel_size_um)
    if s.preview:
        _preview(layout, arr, prob, voxel_size_um)


def _preview(layout: state.OutputLayout, arr, prob, voxel_size_um) -> None:
    """MIP of a central sub-region (<= 64 slices, <= 2048^2 pixels) of input and probability,
    reduced chunk by chunk (dask), never loaded whole."""
    import dask.array as da

    from axonseg.analysis.preview import save_preview_png

    sl = []
    for s, m in zip(prob.shape, (64, 2048, 2048)):
        a = max(0, s // 2 - m // 2)
        sl.append(slice(a, min(s, a + m)))
    sl = tuple(sl)
    raw = da.asarray(arr)[sl]
    p = da.from_zarr(prob)[sl].astype(np.float32) / 255
    save_preview_png(layout.preview, raw, p, title=f"{layout.root.name}: z {sl[0].start}-{sl[0].stop}",
                     voxel_size_um=voxel_size_um)


def _initialize(layout: state.OutputLayout, model: LoadedModel, settings: PredictSettings, fp: dict,
                input_path: Path, src: Path, src_dataset: str | None, info, voxel) -> None:
    """Whole-volume normalisation statistics, empty output arrays, then ``run.json`` (status running)."""
    import shutil

    from axonseg.io import open_region_reader
    from axonseg.io.ome_zarr import ZarrFormat, create_label, create_ome_zarr, level0_origin_um, num_pyramid_levels

    norm = model.normalization
    if settings.normalization == "global":
        norm = with_image_statistics(open_region_reader(src, src_dataset), norm, settings.norm_max_sample_voxels)
    levels = num_pyramid_levels(info.shape_zyx, settings.pyramid_max_levels)
    if layout.probability.exists():  # left by a set-up that was interrupted (holds the mask too)
        shutil.rmtree(layout.probability)
    create_ome_zarr(layout.probability, info.shape_zyx, settings.chunk_shape_vox, np.uint8, voxel, levels,
                    name="probability", downsample="mean",
                    fmt=ZarrFormat(settings.ngff_version, settings.shard_shape_vox),
                    origin_um=level0_origin_um(src), description="foreground probability x 255 (uint8)")
    if settings.mask_threshold is not None:
        create_label(layout.probability, "mask",
                     description=f"255 where probability >= {settings.mask_threshold}, else 0")
    layout.blocks_dir.mkdir(exist_ok=True)
    meta = {"status": "running", "fingerprint": fp, "normalization": norm.to_dict(),
            "model": {"source": model.source, "kind": model.kind, "trainer": model.trainer,
                      "network": model.config.to_dict(), "spacing_zyx": model.spacing_zyx},
            "input": {"path": str(input_path), "read_from": str(src), "shape_zyx": list(info.shape_zyx),
                      "dtype": str(info.dtype), "voxel_size_um": list(voxel)},
            "settings": settings.to_dict(), "versions": _versions(), "runs": []}
    state.write_json_atomic(layout.run_json, meta)


def predict_whole_brain(input_path: str | Path, model_path: str | Path, out_dir: str | Path,
                        settings: PredictSettings = PredictSettings(), overwrite: bool = False,
                        dataset: str | None = None, progress: bool = True) -> PredictionSummary:
    """Predict a whole volume block by block into ``out_dir`` (resumable; see ``axonseg.inference.state``).

    Parameters
    ----------
    input_path
        Volume (zarr / OME-Zarr / TIFF slices / TIFF stack / HDF5); never modified.
    model_path
        axonseg ``.pth``, legacy D-LMBmap ``.pth`` or nnU-Net v1 result folder.
    out_dir
        Output folder. Rerunning the same command resumes; ``overwrite`` starts afresh.
    settings
        :class:`PredictSettings`.
    """
    t0 = time.perf_counter()
    input_path, out_dir = Path(input_path), Path(out_dir)
    layout = state.OutputLayout(out_dir)
    model = load_model(model_path, fold=settings.fold, checkpoint=settings.checkpoint,
                       patch_size_zyx=settings.legacy_patch_size_vox)
    build_loaded_network(model)  # strict weight check before any output is created
    from axonseg.io import open_volume
    _, info0 = open_volume(input_path, dataset=dataset)
    fp = _fingerprint(input_path, info0.shape_zyx, info0.dtype, model, settings)
    mode = state.prepare_output(layout, fp, input_path, overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    if mode == "new":
        state.write_json_atomic(layout.run_json, {"status": "initializing", "fingerprint": fp})
    elif state.read_run_json(layout).get("status") == "initializing":
        mode = "new"  # stopped during set-up, before any block: set up again
    src, src_dataset, arr, info = _open_input(input_path, dataset, layout, settings)
    voxel = tuple(settings.voxel_size_um or info.voxel_size_um or (1.0, 1.0, 1.0))
    if not (settings.voxel_size_um or info.voxel_size_um):
        logger.warning("%s records no voxel size and none was given: writing 1 um", input_path)
    if mode == "new":
        _initialize(layout, model, settings, fp, input_path, src, src_dataset, info, voxel)
    meta = state.read_run_json(layout)
    norm = NormalizationParams(**meta["normalization"])
    # absolute paths: workers of a cluster may start in another directory
    job = PredictJob(str(Path(src).resolve()), src_dataset, str(Path(model_path).resolve()),
                     str(out_dir.resolve()), settings, norm, tuple(info.shape_zyx), model.patch_size_zyx,
                     _threads(settings))
    done = state.done_indices(layout)
    pending = [b.index for b in job.blocks if b.index not in done]
    logger.info("%s: %d blocks, %d done, %d to run; lattice %d patches", out_dir, len(job.blocks),
                len(done), len(pending), job.lattice.num_patches)
    counts = {"run": 0, "skipped": 0, "voxels": 0}
    t_run = time.perf_counter()
    bar = tqdm(total=len(job.blocks), initial=len(done), desc="predict", unit="block", disable=not progress)

    def on_result(r: BlockResult) -> None:
        counts["run"] += 1
        counts["skipped"] += int(r.skipped_empty)
        counts["voxels"] += r.voxels
        bar.update(1)
        bar.set_postfix(vox_per_s=f"{counts['voxels'] / max(time.perf_counter() - t_run, 1e-9):.3g}",
                        skipped=counts["skipped"])

    fn = functools.partial(run_block, job)
    try:
        if settings.runner == "dask":
            run_dask(fn, pending, on_result, settings.dask_scheduler_address, settings.dask_workers)
        else:
            run_serial(fn, pending, on_result)
    finally:
        bar.close()
    missing = [b.index for b in job.blocks if not layout.marker(b.index).exists()]
    if missing:
        raise RuntimeError(f"{out_dir}: blocks {missing[:10]} were not completed")
    _finalize(job, arr, voxel)
    seconds = time.perf_counter() - t0
    meta = state.read_run_json(layout)
    meta["status"] = "complete"
    meta["runs"].append({"started_unix": time.time() - seconds, "seconds": round(seconds, 3),
                         "blocks_run": counts["run"], "blocks_skipped_empty": counts["skipped"],
                         "blocks_resumed": len(done), "runner": settings.runner, "threads": job.num_threads,
                         "voxels_per_s": counts["voxels"] / max(time.perf_counter() - t_run, 1e-9)})
    state.write_json_atomic(layout.run_json, meta)
    return PredictionSummary(out_dir, len(job.blocks), counts["run"], len(done), counts["skipped"], seconds)
