"""Whole-brain prediction end to end: validate -> lock -> set up -> block task on a runner -> outputs.

Everything that can be checked (model, device, output class, input files, output folder)
is checked before the output folder is created; a failure during set-up removes what the
set-up wrote, so the same command (or a corrected one) starts cleanly. One run at a time
writes into a folder (:class:`~axonseg.engine.FolderLock`).
"""
from __future__ import annotations

import hashlib
import logging
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from axonseg.engine import FolderLock, run_dask, run_serial
from axonseg.inference import state
from axonseg.inference.blockjob import BlockResult, PredictJob, _positions, _tissue_table
from axonseg.inference.fingerprint import run_fingerprint
from axonseg.inference.normalization import (NormalizationParams, check_finite_volume, tissue_ratio_params,
                                             with_image_statistics)
from axonseg.inference.progress import PatchProgress
from axonseg.inference.settings import PredictSettings
from axonseg.inference.weights import LoadedModel, build_loaded_network, load_model
from axonseg.io.files import read_json
from axonseg.io.zarr_partials import remove_partial_writes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictionSummary:
    out_dir: Path
    blocks_total: int
    blocks_run: int
    blocks_resumed: int
    blocks_skipped_empty: int  # blocks of this run that ran no patch (outside tissue / empty)
    seconds: float
    patches_run: int = 0
    patches_skipped: int = 0
    lattice_patches: int = 0


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


def _threads(settings: PredictSettings) -> int:
    if settings.num_threads > 0:
        return settings.num_threads
    cores = os.cpu_count() or 1
    return max(1, cores // settings.dask_workers) if settings.runner == "dask" else cores


def _validate(model: LoadedModel, settings: PredictSettings) -> None:
    from axonseg.inference.model_checks import check_model
    from axonseg.inference.predictor import resolve_device

    check_model(model)
    resolve_device(settings.device)
    from axonseg.inference.runtime import check_cache_writable

    check_cache_writable(settings.resolved_runtime(), settings.runtime_cache_dir)
    n = model.config.num_classes
    if not 0 <= settings.output_class < n:
        raise ValueError(f"--output-class {settings.output_class}: the model has {n} classes (0..{n - 1})")
    _choose_tiling(model, settings)


def _choose_tiling(model: LoadedModel, settings: PredictSettings):
    """Lattice or halo tiling for this run (:func:`axonseg.inference.halo.choose_tiling`); a halo run's
    network is checked for per-patch layers before any output exists."""
    from axonseg.inference.halo import check_halo_network, choose_tiling

    choice = choose_tiling(settings.tiling, model, settings.normalization, settings.halo_vox,
                           scout=settings.scout_threshold is not None)
    if choice.mode == "halo":
        check_halo_network(build_loaded_network(model), model.source)
    return choice


def _open_input(input_path: Path, dataset: str | None, layout: state.OutputLayout, settings: PredictSettings):
    from axonseg.io import open_volume
    from axonseg.io.convert import convert_to_ome_zarr

    arr, info = open_volume(input_path, dataset=dataset)
    if settings.convert_input and info.format not in ("zarr", "ome-zarr"):
        voxel = settings.voxel_size_um or info.voxel_size_um
        if not layout.converted_input.exists():
            from axonseg.io.ome_zarr import ZarrFormat

            fmt = ZarrFormat(settings.ngff_version, settings.shard_shape_vox)
            # sharded: the output's chunks, which divide the shards (the settings checked that)
            chunks = settings.chunk_shape_vox if fmt.shard_shape_vox else (64, 128, 128)
            convert_to_ome_zarr(input_path, layout.converted_input, voxel, chunks, dataset=dataset, fmt=fmt)
        arr, info = open_volume(layout.converted_input)
        return layout.converted_input, None, arr, info
    return input_path, dataset, arr, info


def _finalize(job: PredictJob, arr, voxel_size_um) -> None:
    from tqdm import tqdm

    from axonseg.io import write_tiff
    from axonseg.io.ome_zarr import level0_origin_um, open_level
    from axonseg.io.pyramid import build_pyramid

    layout, s = job.layout, job.settings
    run = {"runner": s.runner, "scheduler_address": s.dask_scheduler_address, "workers": s.dask_workers}
    build_pyramid(layout.probability, "mean", **run)
    if s.mask_threshold is not None:
        build_pyramid(layout.mask, "max", **run)
    prob = open_level(layout.probability)
    if s.write_tiff_slices:
        layout.tiff_dir.mkdir(exist_ok=True)
        width = max(4, len(str(prob.shape[0] - 1)))
        oz, oy, ox = level0_origin_um(layout.probability)  # slice z: its own z position (ImageJ origin)
        for z in tqdm(range(prob.shape[0]), desc="tiff slices", unit="slice"):
            write_tiff(layout.tiff_dir / f"{str(z).zfill(width)}.tiff", prob[z], voxel_size_um,
                       origin_um=(oz + z * voxel_size_um[0], oy, ox))
    if s.preview:
        _preview(layout, arr, prob, voxel_size_um, Path(job.input_path).name)


def _preview(layout: state.OutputLayout, arr, prob, voxel_size_um, input_name: str) -> None:
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
    save_preview_png(layout.preview, raw, p, title=f"{input_name}: z {sl[0].start}-{sl[0].stop}",
                     voxel_size_um=voxel_size_um)


def _tissue(reader, info, settings: PredictSettings, layout: state.OutputLayout, voxel,
            need_view: bool = False, origin_um=(0.0, 0.0, 0.0)) -> tuple[dict | None, tuple | None]:
    """Compute and save the tissue mask (``tissue.ome.zarr``): its description for ``run.json``, and
    (view, automatic threshold) when the mask is on or ``need_view`` (the tissue_ratio level)."""
    if not settings.tissue_mask and not need_view:
        return None, None
    from axonseg.inference.tissue import automatic_threshold, low_resolution_view, tissue_mask
    from axonseg.io.ome_zarr import ZarrFormat, create_cell_map

    f = settings.tissue_downsample_vox
    view = low_resolution_view(reader, f, chunked=info.format in ("zarr", "ome-zarr", "hdf5"))
    if not settings.tissue_mask:
        return None, (view, automatic_threshold(view))
    tm = tissue_mask(view, f, settings.tissue_threshold, settings.tissue_margin_vox)
    create_cell_map(layout.tissue, tm.mask.astype(np.uint8) * 255, voxel, (f, f, f), "tissue",
                    f"255 where the {f}^3-voxel mean > {tm.threshold} (dilated {tm.margin_vox} voxels), else 0",
                    fmt=ZarrFormat(settings.ngff_version), origin_um=origin_um)
    logger.info("tissue mask: threshold %s, %.1f %% of the volume", tm.threshold, 100 * tm.fraction)
    return tm.to_dict(), (view, tm.threshold)


def _initialize(layout: state.OutputLayout, model: LoadedModel, settings: PredictSettings, fp: dict,
                input_path: Path, src: Path, src_dataset: str | None, info, voxel) -> None:
    """Normalisation statistics, tissue mask, empty output arrays, then ``run.json`` (status running)."""
    from axonseg.io import open_region_reader
    from axonseg.io.ome_zarr import (PROBABILITY_COLOR, ZarrFormat, create_label, create_ome_zarr, level0_origin_um,
                                     num_pyramid_levels, omero_metadata)

    reader = open_region_reader(src, src_dataset)
    norm = model.normalization
    ratio = norm.scheme == "tissue_ratio"
    if ratio and settings.normalization != "global":
        raise ValueError(f"{model.source}: this model was trained with one tissue level per volume "
                         "('tissue_ratio'); --normalization per_patch does not apply to it")
    if settings.normalization == "global" and not ratio:
        dask = settings.runner == "dask"  # workers open the input themselves
        norm = with_image_statistics((str(src), src_dataset) if dask else reader, norm,
                                     settings.norm_max_sample_voxels, settings.runner,
                                     settings.dask_scheduler_address, settings.dask_workers)
    tissue, view = _tissue(reader, info, settings, layout, voxel, need_view=ratio, origin_um=level0_origin_um(src))
    if ratio:
        norm = tissue_ratio_params(*view)
        logger.info("tissue_ratio normalisation: tissue level %.4g (median of %d-voxel cell means)", norm.std,
                    settings.tissue_downsample_vox)
    levels = num_pyramid_levels(info.shape_zyx, settings.pyramid_max_levels)
    create_ome_zarr(layout.probability, info.shape_zyx, settings.chunk_shape_vox, np.uint8, voxel, levels,
                    name="probability", downsample="mean",
                    fmt=ZarrFormat(settings.ngff_version, settings.shard_shape_vox),
                    origin_um=level0_origin_um(src), description="foreground probability x 255 (uint8)",
                    omero=omero_metadata("probability", PROBABILITY_COLOR, (0, 255, 0, 255)))
    if settings.mask_threshold is not None:
        create_label(layout.probability, "mask",
                     description=f"255 where probability >= {settings.mask_threshold}, else 0")
    layout.blocks_dir.mkdir(exist_ok=True)
    meta = {"status": "running", "fingerprint": fp, "normalization": norm.to_dict(), "tissue": tissue,
            "model": {"source": model.source, "kind": model.kind, "trainer": model.trainer,
                      "network": model.config.to_dict(), "spacing_zyx": model.spacing_zyx},
            # absolute: the napari reader opens the folder from anywhere (issue 18 item 48)
            "input": {"path": os.path.abspath(input_path), "read_from": os.path.abspath(src),
                      "shape_zyx": list(info.shape_zyx),
                      "dtype": str(info.dtype), "voxel_size_um": list(voxel)},
            "settings": settings.to_dict(), "versions": _versions(), "runs": []}
    state.write_record(layout.run_json, meta)


def _set_up(layout, model, settings, fp, input_path, dataset, created: bool):
    """Fresh set-up under the lock; on any failure remove what it wrote (and the folder if we made it)."""
    try:
        state.clear_output(layout)
        state.write_record(layout.run_json, {"status": "initializing", "fingerprint": fp})
        src, src_dataset, arr, info = _open_input(input_path, dataset, layout, settings)
        voxel = _voxel(settings, info, input_path)
        _initialize(layout, model, settings, fp, input_path, src, src_dataset, info, voxel)
    except BaseException:
        state.clear_output(layout)
        if created:
            FolderLock(layout.root).release_and_remove_folder()
        raise


def _voxel(settings: PredictSettings, info, input_path: Path) -> tuple[float, ...]:
    from axonseg.io.voxel_size import voxel_size_or_default

    return voxel_size_or_default(settings.voxel_size_um, info.voxel_size_um, input_path)  # convert's rule too


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
    from axonseg.io import open_region_reader, open_volume

    t0 = time.perf_counter()
    input_path, out_dir = Path(input_path), Path(out_dir)
    layout = state.OutputLayout(out_dir)
    from axonseg.inference.predictor import resolve_auto_device

    settings = settings.replace(device=resolve_auto_device(settings.device))  # once: every block, run.json
    model = load_model(model_path, fold=settings.fold, checkpoint=settings.checkpoint,
                       patch_size_zyx=settings.legacy_patch_size_vox)
    build_loaded_network(model)  # strict weight check before any output is created
    if settings.normalization is None:
        settings = settings.replace(normalization=model.predict_normalization)
    if settings.mask_threshold is None and model.extra.get("mask_threshold") is not None:
        # the model's own threshold, chosen on its validation data (starter v2's model card)
        settings = settings.replace(mask_threshold=float(model.extra["mask_threshold"]))
    _validate(model, settings)
    arr0, info0 = open_volume(input_path, dataset=dataset)
    # open_volume has read every TIFF header (truncated files, unequal slices, gaps): see io/volume.py
    check_finite_volume(arr0, input_path)
    fp = run_fingerprint(input_path, open_region_reader(input_path, dataset), _state_dict_sha256(model), settings)
    state.check_output(layout, fp, input_path, overwrite, inputs=(model_path,))
    from axonseg.io.symlinks import check_not_dangling

    check_not_dangling(out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(out_dir)
    try:
        lock.acquire()
    except BaseException:
        if created:
            out_dir.rmdir()
        raise
    try:
        if state.check_output(layout, fp, input_path, overwrite, inputs=(model_path,)) == "new":
            _set_up(layout, model, settings, fp, input_path, dataset, created)
        else:  # a kill inside zarr's chunk write leaves <chunk>.<hex>.partial behind
            remove_partial_writes(out_dir)
        return _run(layout, model, model_path, settings, input_path, dataset, t0, progress)
    finally:
        lock.release()


def _run(layout, model, model_path, settings, input_path, dataset, t0, progress) -> PredictionSummary:
    out_dir = layout.root
    src, src_dataset, arr, info = _open_input(input_path, dataset, layout, settings)
    voxel = _voxel(settings, info, input_path)
    meta = state.read_run_json(layout)
    norm = NormalizationParams(**meta["normalization"])
    # absolute paths: workers of a cluster may start in another directory
    paths = (str(Path(src).resolve()), src_dataset, str(Path(model_path).resolve()), str(out_dir.resolve()))
    choice = _choose_tiling(model, settings)
    _record_tiling(layout, meta, choice)
    use_tissue = meta.get("tissue") is not None
    if choice.mode == "halo":
        from axonseg.inference import halojob
        from axonseg.inference.halo import pooling_factor_zyx

        job = halojob.HaloJob(*paths, settings, norm, tuple(info.shape_zyx),
                              settings.resolved_block_shape(model.patch_size_zyx), choice.halo_vox,
                              pooling_factor_zyx(model.config.pool_op_kernel_sizes), _threads(settings),
                              use_tissue=use_tissue)
        task = job.task()
        pending = task.pending()
        expected, desc, voxels_per_unit = halojob.progress_plan(job, pending)
        units = len(job.blocks)
        logger.info("%s: halo tiling (%s): %d tiles, %d done, %d to run", out_dir, choice.reason, units,
                    len(job.blocks) - len(pending), sum(expected.values()))
    else:
        job = PredictJob(*paths, settings, norm, tuple(info.shape_zyx), model.patch_size_zyx, _threads(settings),
                         use_tissue=use_tissue, use_scout=settings.scout_threshold is not None)
        if job.use_scout:
            from axonseg.inference import scout

            meta["scout"] = scout.run_pass(job, voxel, progress)
        task = job.task()
        pending = task.pending()
        expected = {i: len(_positions(job, i)[0]) for i in pending}
        units = job.lattice.num_patches
        logger.info("%s: %d blocks, %d done, %d to run; lattice %d patches, %d to run in this run (%s)", out_dir,
                    len(job.blocks), len(job.blocks) - len(pending), len(pending), units, sum(expected.values()),
                    choice.reason)
        outside = units - int(_tissue_table(job).sum())
        desc = f"predict ({units} lattice patches, {outside} outside tissue, each run once)"
        voxels_per_unit = float(np.prod(info.shape_zyx)) / units
    resumed = len(job.blocks) - len(pending)
    bar = PatchProgress(expected, voxels_per_unit, enabled=progress, description=desc)

    def on_result(r: BlockResult) -> None:
        bar.block_done(r.index, r.patches, r.patches_skipped, r.voxels)

    try:
        if settings.runner == "dask":
            run_dask(task, pending, on_result, settings.dask_scheduler_address, settings.dask_workers)
        else:
            run_serial(task, pending, on_result, bar.advance, overlap_io=settings.overlap_io)
    finally:
        bar.close()
    missing = task.pending()
    if missing:
        raise RuntimeError(f"{out_dir}: blocks {missing[:10]} were not completed")
    run_seconds = bar.seconds
    _finalize(job, arr, voxel)
    import shutil
    shutil.rmtree(layout.spill_dir, ignore_errors=True)
    if choice.mode == "halo":
        totals = {"scout": 0}
        tiling = dict(choice.to_dict(), **job.describe(), **{"run": halojob.totals(job)})
    else:
        totals = _patch_totals(layout, job)
        volume = float(np.prod(info.shape_zyx))
        tiling = dict(choice.to_dict(), patch_vox=list(model.patch_size_zyx), step_fraction=settings.step_fraction,
                      patch_voxels_per_output_voxel=round(units * float(np.prod(model.patch_size_zyx)) / volume, 4))
    if choice.mode == "lattice" and job.use_scout:
        shutil.rmtree(layout.root / "scout", ignore_errors=True)
    seconds = time.perf_counter() - t0
    scout_meta = meta.get("scout")
    meta = state.read_run_json(layout)
    if scout_meta is not None:
        meta["scout"] = scout_meta
    meta["status"] = "complete"
    meta["tiling"] = tiling
    if choice.mode == "lattice":
        meta["patches"] = totals
    meta["runs"].append({"started_unix": time.time() - seconds, "seconds": round(seconds, 3),
                         "blocks_run": bar.blocks_run, "blocks_without_patches": bar.blocks_without_patches,
                         "blocks_resumed": resumed, "patches_run": bar.patches_run,
                         "patches_skipped": bar.patches_skipped, "runner": settings.runner,
                         "threads": job.num_threads, "block_seconds": round(run_seconds, 3),
                         "network_runtime": settings.resolved_runtime(),
                         "patches_per_s": bar.patches_run / max(run_seconds, 1e-9),
                         "voxels_per_s": bar.voxels_written / max(run_seconds, 1e-9)})
    state.write_record(layout.run_json, meta)
    return PredictionSummary(out_dir, len(job.blocks), bar.blocks_run, resumed, bar.blocks_without_patches,
                             seconds, bar.patches_run + totals["scout"], bar.patches_skipped, units)


def _record_tiling(layout: state.OutputLayout, meta: dict, choice) -> None:
    """Record the run's tiling in ``run.json`` before the first block; a resumed run must compute the rest
    the same way (the same weights with another declared halo would otherwise mix two tilings)."""
    now = {"mode": choice.mode, "halo_vox": choice.halo_vox}
    before = meta.get("tiling_started")
    if before is None:
        meta["tiling_started"] = now
        state.write_record(layout.run_json, meta)
    elif before != now:
        raise state.OutputError(f"{layout.root}: was started with {before['mode']} tiling (halo {before['halo_vox']}) "
                                f"and this run would use {choice.mode} tiling (halo {choice.halo_vox}): "
                                f"give the same model/--tiling/--halo, or --overwrite")


def _patch_totals(layout: state.OutputLayout, job: PredictJob) -> dict:
    """Patch counts over all blocks (from their done markers): each lattice patch run at most once
    (``scout``: run by the scout pass; ``reused_from_scout``: of those, stitched in without a rerun)."""
    run = skipped = reused = 0
    for b in job.blocks:
        info = read_json(layout.marker(b.index))
        run += info.get("patches", 0)
        skipped += info.get("patches_skipped", 0)
        reused += info.get("patches_reused", 0)
    scout_run = 0
    if job.use_scout:
        from axonseg.inference.scout import scout_patch_count

        scout_run = scout_patch_count(job)
    lattice = job.lattice.num_patches
    total = run + scout_run
    return {"lattice": lattice, "run": total, "scout": scout_run, "reused_from_scout": reused,
            "skipped": skipped, "run_per_lattice_patch": round(total / lattice, 6),
            "run_per_patch_needed": round(total / max(lattice - skipped, 1), 6),
            "skipped_fraction": round(skipped / lattice, 6)}
