"""Build an nnU-Net v1 raw task from annotated cubes (D-LMBmap's ``create_data.py``, fixed).

For each labelled cube: the original and/or a copy histogram-matched to a random reference
cube; from each, ``samples_per_cube`` random crops (affine, rot90, flips), each maybe with
cutmix from a random artifact cube and local contrast change near axons, then normalised per
crop. Artifact cubes give ``artifact_samples_per_cube`` crops per copy with empty labels, each
drawn independently. Every source cube is one *group*; groups are dealt to cross-validation
folds (``splits_final.pkl``), so no fold validates on copies of its training cubes.

Each cube is one job with its own random generator seeded by ``(seed, kind, cube id)``, so
the task is byte-identical for a given seed whatever the number of workers. Jobs run in
parallel processes and write their cases straight to disk (memory is bounded by a few cubes
per worker). The task is built in a hidden temporary folder beside its final place and moved
there at the end; on any error the temporary folder is removed. After a kill (SIGKILL, SIGTERM)
the workers end with their parent, and the next run removes the folder left behind
(:func:`~axonseg.io.atomic.staged_folder`).
"""
from __future__ import annotations

import logging
import os
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from axonseg.cubes.augment import CropAugmentSettings, normalise_crop, random_crop
from axonseg.cubes.contrast import local_contrast
from axonseg.cubes.cutmix import choose_artifact, cutmix, random_box
from axonseg.cubes.folds import SPLITS_FILE, group_folds, make_splits, write_splits
from axonseg.cubes.histogram import match_histogram
from axonseg.cubes.inputs import CreateDataError, Inputs, gather_inputs
from axonseg.cubes.settings import CreateDataSettings
from axonseg.cubes.task_writer import dataset_json, write_case, write_json
from axonseg.engine.parent_watch import exit_with_parent
from axonseg.io.atomic import staged_folder

logger = logging.getLogger(__name__)

KIND_CODE = {"axon": 1, "artifact": 2, "test": 3}
PREVIEW_FILE = "preview.png"
# settings that say where and how the task is written, not what is in it
_NOT_RECORDED = ("raw_data_base", "preprocessed_base", "num_workers", "overwrite")


@dataclass(frozen=True)
class Job:
    """One source cube and the case ids its samples get."""

    kind: str
    cube_id: int
    image_path: Path
    label_path: Path | None
    case_ids: tuple[str, ...]

    @property
    def group(self) -> str:
        return f"{self.kind}-{self.cube_id}"


def _variants(settings: CreateDataSettings) -> list[str]:
    if not settings.histogram_matching:
        return ["original"]
    return ["original", "matched"] if settings.keep_originals else ["matched"]


def plan_jobs(settings: CreateDataSettings, inputs: Inputs) -> list[Job]:
    """All jobs in a fixed order, with sequential case ids ``<task_name>_<NNNN>``."""
    jobs: list[Job] = []
    n = 0
    n_var = len(_variants(settings))
    labels = dict(inputs.labels)
    per_kind = [("axon", inputs.volumes, settings.samples_per_cube),
                ("artifact", inputs.artifacts, settings.artifact_samples_per_cube)]
    for kind, cubes, samples in per_kind:
        for cube_id, path in cubes:
            count = n_var * samples
            ids = tuple(f"{settings.task_name}_{n + k:04d}" for k in range(count))
            n += count
            if count:
                jobs.append(Job(kind, cube_id, path, labels.get(cube_id) if kind == "axon" else None, ids))
    for cube_id, path in inputs.tests:
        jobs.append(Job("test", cube_id, path, None, (f"{settings.task_name}_test{cube_id}",)))
    return jobs


def run_job(job: Job, settings: CreateDataSettings, inputs: Inputs, task_dir: Path,
            preview: bool = False) -> dict[str, dict]:
    """Make and write every case of one source cube; return ``{case_id: record}``."""
    from axonseg.io import read_tiff

    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, KIND_CODE[job.kind], job.cube_id]))
    spacing = settings.voxel_spacing_um_zyx
    lo_pct, hi_pct = settings.normalise_percentiles
    raw = read_tiff(job.image_path)
    image = raw.astype(np.float32)
    if job.kind == "test":
        write_case(task_dir, job.case_ids[0], normalise_crop(image, lo_pct, hi_pct), None, spacing, test=True)
        return {}
    if job.kind == "axon":
        label = (read_tiff(job.label_path) != 0).astype(np.uint8)
        references = inputs.source_volumes
    else:
        label = np.zeros(image.shape, dtype=np.uint8)
        references = inputs.source_artifacts
    crop = CropAugmentSettings(
        patch_zyx=settings.patch_size_zyx, spacing_zyx=spacing, rotate90=settings.rotate90,
        flip=settings.flip, affine_probability=settings.affine_probability,
        max_angle_deg=settings.affine_max_angle_deg, scale_range=settings.affine_scale_range)
    records: dict[str, dict] = {}
    case_ids = iter(job.case_ids)
    for variant in _variants(settings):
        source, reference = image, None
        if variant == "matched":
            reference = references[int(rng.integers(0, len(references)))]
            source = match_histogram(raw, read_tiff(reference))
        samples = settings.samples_per_cube if job.kind == "axon" else settings.artifact_samples_per_cube
        for sample in range(samples):
            case_id = next(case_ids)
            img, lab = random_crop(source, label, crop, rng)
            record = {"group": job.group, "source": job.image_path.name, "variant": variant,
                      "reference": _short(reference),
                      "sample": sample, "cutmix": None, "contrast": False}
            if job.kind == "axon" and settings.cutmix and rng.random() < settings.cutmix_probability:
                index = choose_artifact(len(inputs.artifacts), rng)
                artifact = read_tiff(inputs.artifacts[index][1])
                box = random_box(img.shape, artifact.shape, rng, settings.cutmix_min_fraction,
                                 settings.cutmix_max_fraction)
                img, lab = cutmix(img, lab, artifact.astype(np.float32), box)
                record["cutmix"] = {"artifact": inputs.artifacts[index][1].name,
                                    "size_zyx": box.size_zyx, "dst_zyx": box.dst_zyx}
            if job.kind == "axon" and settings.contrast and rng.random() < settings.contrast_probability:
                img = local_contrast(img, lab, settings.contrast_mode, settings.contrast_factor,
                                     settings.contrast_radius_vox)
                record["contrast"] = True
            img = normalise_crop(img, lo_pct, hi_pct)
            write_case(task_dir, case_id, img, lab, spacing)
            if preview and not records:
                _write_preview(task_dir / PREVIEW_FILE, img, lab, case_id, spacing)
            records[case_id] = record
    return records


def _short(path: Path | None) -> str | None:
    return None if path is None else f"{path.parent.name}/{path.name}"


def _write_preview(path: Path, image: np.ndarray, label: np.ndarray, case_id: str, spacing) -> None:
    from axonseg.analysis.preview import save_preview_png

    # written into the temporary task folder: create_data logs the final path after the rename
    save_preview_png(path, image, skeleton_zyx=label, title=f"{case_id}: image + label (MIP)",
                     voxel_size_um=spacing, announce=False)


INPUT_FOLDERS = ("volumes", "labels", "artifacts", "source_volumes", "source_artifacts")


def is_created_task(folder: Path) -> bool:
    """``folder`` is a task that create_data wrote (it holds our settings record): the only kind
    ``overwrite`` replaces."""
    return (folder / "create_data_settings.json").is_file() and (folder / "cases.json").is_file()


def _final_paths(settings: CreateDataSettings) -> tuple[Path, Path]:
    from axonseg.io.atomic import check_apart, check_replace_target

    raw_root = Path(settings.raw_data_base) / "nnUNet_raw_data"
    final = raw_root / settings.task_folder_name
    inputs = [settings.folder(k) for k in INPUT_FOLDERS] + [settings.test_volumes_dir]
    check_apart([final], inputs)
    if is_created_task(final) and not settings.overwrite:
        raise CreateDataError(f"{final}: task folder exists; pass --overwrite to replace it")
    check_replace_target(final, inputs, settings.overwrite, is_ours=is_created_task, folder=True)
    clash = sorted(p.name for p in raw_root.glob(f"Task{settings.task_id:03d}_*") if p.name != final.name) \
        if raw_root.is_dir() else []
    if clash:
        raise CreateDataError(f"{raw_root}: task id {settings.task_id} is already used by {clash}; "
                              "nnU-Net needs unique ids: choose another task_id")
    return raw_root, final


def _run_jobs(jobs: list[Job], settings: CreateDataSettings, inputs: Inputs, tmp: Path, bar) -> dict[str, dict]:
    """Run every job (in ``num_workers`` spawned processes, which end if this process is killed)."""
    records: dict[str, dict] = {}
    if settings.num_workers == 1:
        for k, job in enumerate(jobs):
            records.update(run_job(job, settings, inputs, tmp, preview=settings.preview and k == 0))
            bar.update(len(job.case_ids))
        return records
    # spawn, not fork: a parent that has started OpenMP threads (torch imported, e.g. by a
    # training script) deadlocks forked workers
    with ProcessPoolExecutor(max_workers=settings.num_workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(run_job, job, settings, inputs, tmp, settings.preview and k == 0): job
                   for k, job in enumerate(jobs)}
        try:
            for future in as_completed(futures):
                records.update(future.result())
                bar.update(len(futures[future].case_ids))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # then the staging folder is removed
            raise
    return records


def create_data(settings: CreateDataSettings, progress: bool = True) -> Path:
    """Build the task; return its folder ``<raw_data_base>/nnUNet_raw_data/Task<id>_<name>``.

    Raises
    ------
    CreateDataError
        On bad input (see :mod:`axonseg.cubes.inputs`) or an existing task without overwrite;
        nothing is written then.
    """
    from tqdm import tqdm

    _, final = _final_paths(settings)
    inputs = gather_inputs(settings)
    jobs = plan_jobs(settings, inputs)
    train_jobs = [j for j in jobs if j.kind != "test"]
    group_sizes = {j.group: len(j.case_ids) for j in train_jobs}
    try:
        folds = group_folds(group_sizes, settings.num_folds, settings.seed,
                            kinds={j.group: j.kind for j in train_jobs})
    except ValueError as err:
        raise CreateDataError(str(err)) from None
    inputs_paths = [settings.folder(k) for k in INPUT_FOLDERS] + [settings.test_volumes_dir]
    # the task is built in .<Task>.partial-* under a lock; a killed run's leftovers are removed first
    with staged_folder(final, settings.overwrite, inputs_paths, is_ours=is_created_task) as tmp:
        for sub in ("imagesTr", "labelsTr") + (("imagesTs",) if inputs.tests else ()):
            (tmp / sub).mkdir()
        total = sum(len(j.case_ids) for j in jobs)
        with tqdm(total=total, unit="case", desc=final.name, disable=not progress) as bar:
            records = _run_jobs(jobs, settings, inputs, tmp, bar)
        records = dict(sorted(records.items()))
        case_groups = {c: r["group"] for c, r in records.items()}
        for case_id, record in records.items():
            record["fold"] = folds[record["group"]]
        splits = make_splits(case_groups, folds, settings.num_folds)
        write_splits(tmp / SPLITS_FILE, splits)
        test_ids = [j.case_ids[0] for j in jobs if j.kind == "test"]
        write_json(tmp / "dataset.json", dataset_json(final.name, list(records), test_ids))
        write_json(tmp / "cases.json", records)
        recorded = {k: v for k, v in settings.to_dict().items() if k not in _NOT_RECORDED}
        write_json(tmp / "create_data_settings.json", recorded)
    if settings.preprocessed_base is not None:
        from axonseg.cubes.folds import install_splits

        install_splits(final, settings.preprocessed_base, overwrite=True)
    logger.info("wrote %s: %d training cases in %d groups, %d test cases", final, len(records),
                len(group_sizes), len(test_ids))
    if (final / PREVIEW_FILE).exists():
        logger.info("preview of the first case: %s", final / PREVIEW_FILE)
    return final
