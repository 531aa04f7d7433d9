"""``make demo``: the real pipeline on the D-LMBmap excerpt, or synthetic tubes without it.

Real path (:func:`run_real_demo`, when ``../shared/data/dlmbmap`` exists): shipped point lists
(training rows y < 300 only) -> ``axonseg crop-cubes`` -> ``rough-labels`` -> ``fine-labels``
-> slice annotations (every 16th z-slice painted from the automatic labels, as a user paints
a few slices in napari; the rest not annotated) -> ``sparse-task`` -> ``nnUNet_plan_and_preprocess``
(+ ``write-splits``: fold 0 validates on an axon cube) -> ``nnUNet_train
AxonsegTrainerV2StarterFinetune`` from the starter model (``-pretrained_weights``) -> ``axonseg
save-models`` -> ``measure-halo`` -> ``axonseg convert`` -> ``axonseg predict`` (defaults) over the whole excerpt with
the starter and the fine-tuned model ->
``axonseg density`` on both. Synthetic path (:func:`run_demo`): five 32^3 volumes of tubes in
noise -> plan -> train ``MyTrainerAxialSmoke`` -> ``nnUNet_predict``.

Every step is a library call or the user-facing command, run in a subprocess exactly as a
user types it (its output goes to ``<workdir>/logs/``). Each step writes into
``<output>.partial`` and renames it to ``<output>`` at the end; a step whose output exists is
reused, so a second run takes seconds; once a step has run, the steps after it run again, and
fine-tuning runs again when the starter model changed. Steps whose output nnU-Net places
itself (create-data, plan, train) finish by writing a small JSON marker in ``<workdir>/done/``.
``<workdir>/steps.json`` keeps how long each step took (wall and CPU seconds).
"""
from __future__ import annotations

import hashlib
import logging
import os
import resource
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from axonseg.io.files import open_log, read_bytes, read_csv_dicts, read_json, read_text, write_json
from axonseg.io.info import FileFormatError
from axonseg.io.nifti import read_nifti
from axonseg.nnunet_v1.commands import console_script, run_nnunet
from axonseg.nnunet_v1.env import NnunetPaths
from axonseg.nnunet_v1.task import write_raw_task
from axonseg.synthetic import TubeSettings, make_tube_volume
from axonseg.settings import SettingsBase
from axonseg.errors import AxonsegError

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "dlmbmap"
STARTER_CONFIGS = REPO / "configs" / "starter"
HELD_OUT_FROM_ROW = 300  # rows y >= 300 of the excerpt are held out (as for the starter model)
PLANS = "nnUNetPlansv2.1"


class DemoError(AxonsegError, RuntimeError):
    """A demo step failed; the message names the command and the end of its log."""


# --------------------------------------------------------------------------- steps


@dataclass
class StepReport:
    """One step of a demo run: ``seconds`` this run (0 when reused), ``recorded_seconds`` what
    it took when it last ran (from ``steps.json``; ``None`` if unknown) and ``cpu_seconds`` the
    CPU time it used then (this process and the commands it ran; a measure of the work that
    does not depend on how busy the machine was)."""

    name: str
    seconds: float
    reused: bool
    recorded_seconds: float | None = None
    output: Path | None = None
    cpu_seconds: float | None = None


def cpu_time() -> float:
    """CPU seconds (user + system) of this process and of its finished child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def partial_path(output: Path) -> Path:
    """Where a step writes before renaming to ``output``."""
    return output.with_name(output.name + ".partial")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


class Steps:
    """Run steps in order, each reused when its output exists.

    ``run(name, output, fn)`` calls ``fn(partial)`` with ``partial = <output>.partial`` (an
    old one is removed first unless ``resume_partial``: the step's command resumes it), then
    renames it to ``output``. Steps form a chain: once a step has run, every later step runs
    again too (its old output and partial output are replaced), as its input may have changed.
    Timings go to ``record_file`` (JSON) so reused steps can show what they took. Progress
    lines go to ``echo``.
    """

    def __init__(self, record_file: Path, total: int | None = None,
                 echo: Callable[[str], None] = lambda line: print(line, flush=True)):
        self.record_file = Path(record_file)
        self.total = total
        self.echo = echo
        self.reports: list[StepReport] = []
        self.ran = False  # a step ran: later steps are not reused

    def _recorded(self) -> dict[str, dict[str, float]]:
        if not self.record_file.is_file():
            return {}
        try:
            data = read_json(self.record_file)
        except FileFormatError:
            return {}  # a damaged timing record only loses the recorded seconds
        return {k: (v if isinstance(v, dict) else {"seconds": v}) for k, v in data.items()
                if isinstance(v, (dict, int, float))}

    def _record(self, name: str, seconds: float, cpu_seconds: float) -> None:
        data = self._recorded()
        data[name] = {"seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3)}
        self.record_file.parent.mkdir(parents=True, exist_ok=True)
        write_json(self.record_file, data)

    def run(self, name: str, output: Path, fn: Callable[[Path], Any], resume_partial: bool = False,
            valid: Callable[[Path], bool] | None = None) -> StepReport:
        """Run or reuse one step; ``valid(output)`` False: an existing output is out of date."""
        output = Path(output)
        tag = f"[{len(self.reports) + 1:2d}/{self.total}]" if self.total else f"[{len(self.reports) + 1:2d}]"
        if output.exists() and not self.ran and (valid is None or valid(output)):
            rec = self._recorded().get(name, {})
            report = StepReport(name, 0.0, True, rec.get("seconds"), output, rec.get("cpu_seconds"))
            self.echo(f"{tag} {name}: reused {output}")
        else:
            tmp = partial_path(output)
            if output.exists():
                why = "an earlier step ran" if self.ran else "out of date"
                self.echo(f"{tag} {name}: {why}, replacing {output} ...")
                _remove(output)
            else:
                self.echo(f"{tag} {name} ...")
            if self.ran or not resume_partial:
                _remove(tmp)
            self.ran = True
            output.parent.mkdir(parents=True, exist_ok=True)
            start, cpu_start = time.perf_counter(), cpu_time()
            fn(tmp)
            if not tmp.exists():
                raise DemoError(f"step {name!r} wrote nothing to {tmp}")
            os.replace(tmp, output)
            seconds, cpu = time.perf_counter() - start, cpu_time() - cpu_start
            self._record(name, seconds, cpu)
            report = StepReport(name, seconds, False, seconds, output, cpu)
            self.echo(f"{tag} {name}: {seconds:.1f} s -> {output}")
        self.reports.append(report)
        return report


def run_command(args: list[Any], log: Path, env: dict[str, str] | None = None) -> float:
    """Run ``args`` (``args[0]``: a console script of this environment, e.g. ``axonseg``,
    ``nnUNet_train``) with stdout and stderr going live to ``log``; seconds taken.

    Raises :class:`DemoError` with the end of the log if it exits non-zero.
    """
    args = [str(a) for a in args]
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open_log(log) as f:
        f.write(f"$ {shlex.join(args)}\n")
        f.flush()
        proc = subprocess.run([console_script(args[0])] + args[1:], env={**os.environ, **(env or {})},
                              stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = "\n".join(read_text(log, errors="replace").replace("\r", "\n").strip().splitlines()[-15:])
        raise DemoError(f"`{shlex.join(args)}` failed with exit code {proc.returncode} (log: {log}):\n{tail}")
    return time.perf_counter() - start


def write_marker(path: Path, /, **info: Any) -> None:
    write_json(path, {k: (str(v) if isinstance(v, Path) else v) for k, v in info.items()})


# --------------------------------------------------------------------------- real demo


@dataclass(frozen=True)
class RealDemoSettings(SettingsBase):
    """The real demo. ``starter_model``: ``None`` uses the shipped starter model
    (:func:`axonseg.starter.starter_model_path`; ``axonseg predict`` is then run without a
    model, as a user would); a path uses that ``.pth`` instead (same architecture)."""

    data: Path = DEFAULT_DATA
    starter_model: Path | None = None
    axon_points: Path = STARTER_CONFIGS / "demo_axon_points.csv"
    artifact_points: Path = STARTER_CONFIGS / "demo_artifact_points.csv"
    create_data_config: Path = STARTER_CONFIGS / "demo_create_data.yaml"
    cube_size: int = 96
    task_id: int = 961
    task_name: str = "AxonsegDemo"
    trainer: str = "AxonsegTrainerV2StarterFinetune"
    fold: int = 0
    slices_every: int = 16  # 6 of the 96 z-slices of each cube annotated
    voxel_size_um: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def task(self) -> str:
        return f"Task{self.task_id:03d}_{self.task_name}"

    @property
    def volume(self) -> Path:
        return Path(self.data) / "brain-example"

    def starter_path(self) -> Path:
        if self.starter_model is not None:
            if not Path(self.starter_model).is_file():
                raise FileNotFoundError(f"{self.starter_model}: no such starter model file")
            return Path(self.starter_model).resolve()
        from axonseg.starter.model import MODELS_DIR, STARTER_MODEL_V2

        return MODELS_DIR / STARTER_MODEL_V2  # the sparse-annotation path fine-tunes v2


@dataclass
class ModelResult:
    """Whole-excerpt prediction of one model and its density analysis."""

    name: str
    prediction: Path
    preview: Path
    seconds: float | None          # wall time of the predict step (None: unknown)
    voxels: int
    axon_fraction: float           # voxels with p >= 0.5
    skeleton_length_mm: float

    @property
    def voxels_per_s(self) -> float | None:
        return self.voxels / self.seconds if self.seconds else None


@dataclass
class RealDemoResult:
    steps: list[StepReport]
    models: list[ModelResult] = field(default_factory=list)


def read_points_csv(path: Path) -> list[tuple[int, int, int]]:
    """``z,y,x`` rows of a point list."""
    rows = read_csv_dicts(path)
    if not rows or set(rows[0]) != {"z", "y", "x"}:
        raise ValueError(f"{path}: expected a CSV with header z,y,x and at least one point")
    return [(int(r["z"]), int(r["y"]), int(r["x"])) for r in rows]


def cube_bounds(point: tuple[int, int, int], size: int) -> list[tuple[int, int]]:
    """[start, stop) per axis of the ``size``^3 cube that ``axonseg crop-cubes`` cuts around ``point``."""
    return [(c - size // 2, c - size // 2 + size) for c in point]


def check_points(path: Path, size: int, shape_zyx: tuple[int, int, int] | None = None,
                 held_out_from_row: int = HELD_OUT_FROM_ROW) -> list[tuple[int, int, int]]:
    """The points of ``path``; an error naming the point if its cube reaches the held-out rows
    (y >= ``held_out_from_row``) or leaves a volume of ``shape_zyx``."""
    points = read_points_csv(path)
    for k, p in enumerate(points, 1):
        bounds = cube_bounds(p, size)
        if bounds[1][1] > held_out_from_row:
            raise ValueError(f"{path}: point {k} (z,y,x {p}): its {size}^3 cube reaches row {bounds[1][1] - 1}, "
                             f"inside the held-out rows y >= {held_out_from_row}")
        if shape_zyx is not None and any(a < 0 or b > s for (a, b), s in zip(bounds, shape_zyx)):
            raise ValueError(f"{path}: point {k} (z,y,x {p}): its {size}^3 cube {bounds} leaves the volume "
                             f"of shape {tuple(shape_zyx)}")
    return points


def _copy_cubes(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("*.tiff")):
        shutil.copy2(f, dst / f.name)


def _model_result(name: str, pred_dir: Path, density_dir: Path, seconds: float | None) -> ModelResult:
    from axonseg.analysis.metrics import binarize
    from axonseg.io import open_volume

    prob, info = open_volume(pred_dir / "probability.ome.zarr")
    # density thresholds p >= 0.5 the same way
    fraction = float(prob.map_blocks(lambda b: binarize(b, 0.5), dtype=bool).mean().compute())
    density = read_json(density_dir / "density.json")
    return ModelResult(name, pred_dir, pred_dir / "preview.png", seconds, int(np.prod(info.shape_zyx)), fraction,
                       density["total_length_um"] / 1000.0)


def _sha256(path: Path) -> str:
    return hashlib.sha256(read_bytes(path)).hexdigest()


def run_real_demo(workdir: Path, s: RealDemoSettings = RealDemoSettings(),
                  echo: Callable[[str], None] = lambda line: print(line, flush=True)) -> RealDemoResult:
    """Run the real demo in ``workdir`` (see the module docstring)."""
    from axonseg.io import open_volume

    work = Path(workdir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    paths = NnunetPaths.under(work)
    paths.make_dirs()
    env = paths.environ()
    logs = work / "logs"
    starter = s.starter_path()
    _, info = open_volume(s.volume)
    for pts in (s.axon_points, s.artifact_points):
        check_points(pts, s.cube_size, info.shape_zyx)
    starter_sha = _sha256(starter)
    steps = Steps(work / "steps.json", total=15, echo=echo)

    def command(log_name: str, *args: Any) -> Callable[[Path], None]:
        """A step that runs one command whose last argument is the step's output path."""
        return lambda tmp: run_command([*args, tmp], logs / log_name, env)

    # 1. the shipped point lists (training rows only)
    def copy_points(tmp: Path) -> None:
        tmp.mkdir()
        shutil.copy(s.axon_points, tmp / "axon_points.csv")
        shutil.copy(s.artifact_points, tmp / "artifact_points.csv")

    steps.run("point lists (rows y < 300)", work / "points", copy_points)
    pts = work / "points"
    # 2-4. cubes and their automatic labels
    cubes = work / "cubes"
    steps.run("axonseg crop-cubes", cubes, command(
        "crop-cubes.log", "axonseg", "crop-cubes", "--volume", s.volume, "--points", pts / "axon_points.csv",
        "--artifact-points", pts / "artifact_points.csv", "--size", s.cube_size, "--out"))
    rough = work / "rough-labels"
    steps.run("axonseg rough-labels", rough, command(
        "rough-labels.log", "axonseg", "rough-labels", "--cubes", cubes / "volumes", "--out"))
    fine = work / "fine-labels"
    steps.run("axonseg fine-labels", fine, command(
        "fine-labels.log", "axonseg", "fine-labels", "--rough", rough, "--out"))

    # 5. what a user paints in napari: every SLICES_EVERY-th z-slice of each cube labelled (axon 2 /
    # background 1, from the automatic labels; artifact cubes all background), 0 = not annotated
    annotated = work / "annotations"

    def paint(tmp: Path) -> None:
        from axonseg.annotate.sparse import paint_slices_from_labels
        from axonseg.io import read_tiff, write_tiff

        for sub in ("volumes", "labels"):
            (tmp / sub).mkdir(parents=True)
        for kind in ("volumes", "artifacts"):
            for vol in sorted((cubes / kind).glob("volume-*.tiff")):
                cid = vol.stem.split("-", 1)[1]
                dense = read_tiff(fine / f"label-{cid}.tiff") if kind == "volumes" else read_tiff(vol) * 0
                shutil.copy(vol, tmp / "volumes" / vol.name)
                write_tiff(tmp / "labels" / f"label-{cid}.tiff", paint_slices_from_labels(dense, s.slices_every))

    steps.run(f"slice annotations (every {s.slices_every}th z-slice)", annotated, paint)

    # 6. the nnU-Net task: images as starter v2 sees them, labels 0/1/255; fold 0 validates on an
    # axon cube (a cube with axons: its Dice means something)
    raw_task = paths.raw_data_base / "nnUNet_raw_data" / s.task
    markers = work / "done"
    markers.mkdir(exist_ok=True)
    first_axon_cube = sorted((cubes / "volumes").glob("volume-*.tiff"))[0].stem.split("-", 1)[1]

    def sparse_task(tmp: Path) -> None:
        seconds = run_command(["axonseg", "sparse-task", "--volumes", annotated / "volumes", "--labels",
                               annotated / "labels", "--convention", "paint", "--task-id", s.task_id,
                               "--task-name", s.task_name, "--raw-data-base", paths.raw_data_base,
                               "--validation", first_axon_cube, "--overwrite"], logs / "sparse-task.log", env)
        write_marker(tmp, task=raw_task, seconds=seconds)

    steps.run("axonseg sparse-task", markers / "sparse-task.json", sparse_task)

    # 7-8. nnU-Net v1's own commands
    def plan(tmp: Path) -> None:
        seconds = run_command(["nnUNet_plan_and_preprocess", "-t", s.task_id, "-pl2d", "None", "-tl", "1", "-tf", "1"],
                              logs / "plan.log", env)
        seconds += run_command(["axonseg", "write-splits", "--task-dir", raw_task, "--preprocessed",
                                paths.preprocessed, "--overwrite"], logs / "write-splits.log", env)
        write_marker(tmp, preprocessed=paths.preprocessed / s.task, seconds=seconds)

    steps.run("nnUNet_plan_and_preprocess + axonseg write-splits", markers / "plan.json", plan)
    result_folder = paths.results / "nnUNet" / "3d_fullres" / s.task / f"{s.trainer}__{PLANS}"

    def train(tmp: Path) -> None:
        log = logs / "train.log"
        seconds = run_command(["nnUNet_train", "3d_fullres", s.trainer, s.task, s.fold, "-pretrained_weights", starter],
                              log, env)
        if "Loading pretrained weights" not in read_text(log, errors="replace"):
            raise DemoError(f"{log}: nnUNet_train did not report 'Loading pretrained weights' from {starter}")
        write_marker(tmp, result_folder=result_folder, pretrained_weights=starter,
                     pretrained_weights_sha256=starter_sha, seconds=seconds)

    def same_starter(marker: Path) -> bool:  # fine-tuned from this starter model (and so all after it)
        return read_json(marker).get("pretrained_weights_sha256") == starter_sha

    steps.run(f"nnUNet_train {s.trainer}", markers / "train.json", train, valid=same_starter)
    exported = work / "models" / "finetuned-export.pth"
    steps.run("axonseg save-models", exported, lambda tmp: run_command(
        ["axonseg", "save-models", result_folder, tmp, "--fold", s.fold, "--checkpoint", "final"],
        logs / "save-models.log", env))
    # its halo measured (on a training cube), so predict can tile it: each voxel computed once
    finetuned = work / "models" / "finetuned.pth"
    steps.run("axonseg measure-halo", finetuned, lambda tmp: run_command(
        ["axonseg", "measure-halo", exported, "--input", annotated / "volumes" / f"volume-{first_axon_cube}.tiff",
         "--max-halo", 48, "--save", tmp], logs / "measure-halo.log", env))

    # 10. the whole excerpt as OME-Zarr, read by both predictions
    excerpt = work / "excerpt.ome.zarr"
    steps.run("axonseg convert (excerpt -> OME-Zarr)", excerpt, command(
        "convert.log", "axonseg", "convert", "--voxel-size-um", *s.voxel_size_um, "--quiet", s.volume))

    # 11-14. whole-excerpt predictions (resumable: an interrupted one continues) and densities
    predict_flags = ["--tiff-slices"]  # defaults otherwise: what a user gets
    starter_args = ["--model", starter]
    runs = [("starter", starter_args), ("fine-tuned", ["--model", finetuned])]
    pred_reports = {}
    for name, model_args in runs:
        out = work / f"predict-{name}"
        pred_reports[name] = steps.run(f"axonseg predict ({name})", out, lambda tmp, a=model_args, n=name: run_command(
            ["axonseg", "predict", excerpt, tmp, *a, *predict_flags], logs / f"predict-{n}.log", env),
            resume_partial=True)
    result = RealDemoResult(steps.reports)
    for name, _ in runs:
        pred = work / f"predict-{name}"
        dens = work / f"density-{name}"
        steps.run(f"axonseg density ({name})", dens, lambda tmp, p=pred, n=name: run_command(
            ["axonseg", "density", p / "probability.ome.zarr", "--out", tmp], logs / f"density-{n}.log", env))
        result.models.append(_model_result(name, pred, dens, pred_reports[name].recorded_seconds))
    return result


# --------------------------------------------------------------------------- synthetic demo


@dataclass(frozen=True)
class DemoSettings(SettingsBase):
    task_id: int = 901
    task_name: str = "AxonsegDemo"
    n_train: int = 5
    n_test: int = 2
    size_vox: int = 32
    trainer: str = "MyTrainerAxialSmoke"
    fold: int = 0
    seed: int = 0

    @property
    def task(self) -> str:
        return f"Task{self.task_id:03d}_{self.task_name}"


def dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    denom = a.sum() + b.sum()
    return float(2 * (a & b).sum() / denom) if denom else 1.0


def make_cases(s: DemoSettings) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(case id, image, label) of every demo case; the same seed gives the same cases."""
    rng = np.random.default_rng(s.seed)
    shape = (s.size_vox,) * 3
    return [(f"tubes_{i:03d}",) + make_tube_volume(shape, rng, TubeSettings())
            for i in range(s.n_train + s.n_test)]


def run_demo(workdir: Path, s: DemoSettings = DemoSettings(),
             echo: Callable[[str], None] = logger.info) -> tuple[list[StepReport], dict[str, tuple[float, float]]]:
    """Run the synthetic demo in ``workdir``.

    Returns per-step timings and, per held-out case, (Dice of the prediction, Dice of a
    random mask with the same foreground fraction) against the true tubes.
    """
    paths = NnunetPaths.under(workdir)
    paths.make_dirs()
    logs = Path(workdir) / "logs"
    steps = Steps(Path(workdir) / "steps.json", total=4, echo=echo)

    task_raw = paths.raw_data_base / "nnUNet_raw_data" / s.task
    cases = make_cases(s)
    train, held_out = cases[:s.n_train], cases[s.n_train:]
    truth = {case: label for case, _, label in held_out}
    markers = Path(workdir) / "done"
    markers.mkdir(exist_ok=True)

    def make_task(tmp: Path) -> None:
        # write_raw_task is atomic itself and names the task after its folder: write it in place
        if task_raw.exists():  # from a run stopped before its marker
            shutil.rmtree(task_raw)
        write_raw_task(task_raw, train, [(case, image) for case, image, _ in held_out])
        write_marker(tmp, task=task_raw)

    steps.run("make synthetic task", markers / "task.json", make_task)

    def nnunet(args: list[Any], log: str) -> Callable[[Path], None]:
        def fn(tmp: Path) -> None:
            result = run_nnunet(args, paths, logs / log)
            write_marker(tmp, command=[str(a) for a in args], seconds=result.seconds)
        return fn

    steps.run("nnUNet_plan_and_preprocess", markers / "plan.json", nnunet(
        ["nnUNet_plan_and_preprocess", "-t", s.task_id, "-pl2d", "None", "-tl", "1", "-tf", "1"], "plan.log"))
    steps.run(f"nnUNet_train {s.trainer}", markers / "train.json", nnunet(
        ["nnUNet_train", "3d_fullres", s.trainer, s.task, s.fold], "train.log"))

    pred_dir = Path(workdir) / "predictions"
    steps.run("nnUNet_predict", pred_dir, lambda tmp: run_nnunet(
        ["nnUNet_predict", "-i", task_raw / "imagesTs", "-o", tmp, "-t", s.task_id, "-tr", s.trainer,
         "-m", "3d_fullres", "-f", s.fold], paths, logs / "predict.log"))
    scores = {}
    for case in truth:
        pred = read_nifti(pred_dir / f"{case}.nii.gz")
        # chance: a random mask with the prediction's foreground fraction
        chance = dice(np.random.default_rng(0).random(pred.shape) < pred.mean(), truth[case])
        scores[case] = (dice(pred, truth[case]), chance)
    return steps.reports, scores
