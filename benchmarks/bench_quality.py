"""Quality benchmark: Otsu and Frangi baselines vs a small MyTrainerAxial model on LSFM-like volumes.

Volumes with known truth come from ``axonseg.analysis.lsfm_sim``: tubes rendered along real
centrelines (skeletons of D-LMBmap's Fine labels in ``<repo>/../shared/data/dlmbmap``) and
along random curves, with an anisotropic PSF, varying autofluorescence, Poisson-Gaussian noise
and bright blobs. Cube 1000 is held out (with two random volumes); cubes 1001/1002 (cut into
32^3 pieces) and random 32^3 volumes train the model. Baseline parameters are grid-searched on
the training volumes only (objective: mean strict clDice).

Stages (each reuses what exists, so a rerun continues): ``data``, ``train`` (nnU-Net's own
``nnUNet_plan_and_preprocess`` and ``nnUNet_train 3d_fullres MyTrainerAxialQuick``),
``predict`` (``nnUNet_predict``), ``table``. ``all`` runs them in order.

    python benchmarks/bench_quality.py --workdir /tmp/axq --stage all
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from axonseg.analysis.lsfm_sim import LsfmSettings, centrelines_from_mask, random_centrelines, render_lsfm
from axonseg.analysis.metrics import score
from axonseg.io import open_volume, read_tiff, write_tiff
from axonseg.nnunet_v1.commands import run_nnunet
from axonseg.nnunet_v1.env import NnunetPaths
from axonseg.nnunet_v1.task import write_raw_task

logger = logging.getLogger("bench_quality")

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "dlmbmap"
TASK_ID, TASK = 905, "Task905_AxonsegQuality"
TRAINER = "MyTrainerAxialQuick"
PIECE = 32
BATCH = 3   # nnU-Net plans batch 10 at 32^3 (a GPU heuristic): ~2 min per CPU epoch; 3 fits ~30 min
COMMANDS: list[str] = []


def _log_command(args) -> None:
    COMMANDS.append(" ".join(str(a) for a in args))


def make_data(work: Path) -> None:
    """Held-out and training volumes (TIFF) and the nnU-Net raw task of the training pieces."""
    s = LsfmSettings()
    vol_dir = work / "volumes"
    if (vol_dir / "done").exists():
        return
    vol_dir.mkdir(parents=True, exist_ok=True)
    volumes = {}
    for cube, seed in ((1000, 1000), (1001, 1001), (1002, 1002)):
        fine = read_tiff(DATA / "Fine-label" / f"label-{cube}.tiff")
        volumes[f"real{cube}"] = render_lsfm(centrelines_from_mask(fine), np.random.default_rng(seed), s)
    for i in range(4):  # rand0, rand1 held out; rand2, rand3 for baseline tuning
        rng = np.random.default_rng(2000 + i)
        volumes[f"rand{i}"] = render_lsfm(random_centrelines((96, 96, 96), rng, 10), rng, s)
    for name, (image, truth) in volumes.items():
        split = "test" if name in ("real1000", "rand0", "rand1") else "train"
        (vol_dir / split).mkdir(exist_ok=True)
        write_tiff(vol_dir / split / f"{name}_image.tiff", image)
        write_tiff(vol_dir / split / f"{name}_truth.tiff", truth)
    training = []
    for name in ("real1001", "real1002", "rand2", "rand3"):
        image, truth = volumes[name]
        for k, (z, y, x) in enumerate(itertools.product(*(range(0, n - PIECE + 1, PIECE)
                                                          for n in image.shape))):
            sl = np.s_[z:z + PIECE, y:y + PIECE, x:x + PIECE]
            training.append((f"{name}_p{k:02d}", image[sl].astype(np.float32), truth[sl]))
    for i in range(12):
        rng = np.random.default_rng(3000 + i)
        image, truth = render_lsfm(random_centrelines((PIECE,) * 3, rng, 4), rng, s)
        training.append((f"randpiece{i:02d}", image.astype(np.float32), truth))
    test = [(name, volumes[name][0].astype(np.float32)) for name in ("real1000", "rand0", "rand1")]
    paths = NnunetPaths.under(work)
    paths.make_dirs()
    task_dir = paths.raw_data_base / "nnUNet_raw_data" / TASK
    if task_dir.exists():
        shutil.rmtree(task_dir)
    write_raw_task(task_dir, training, test)
    (vol_dir / "done").write_text(f"{len(training)} training pieces\n")
    logger.info("data: %d training pieces of %d^3, 3 held-out volumes", len(training), PIECE)


def set_batch_size(plans_file: Path, batch: int) -> None:
    """Set the batch size in nnU-Net's 3-D plans (what a user edits for a custom plan)."""
    import pickle

    plans = pickle.loads(plans_file.read_bytes())
    COMMANDS.append(f"(then set batch_size {batch} in {plans_file.name}, see set_batch_size)")
    if all(stage["batch_size"] == batch for stage in plans["plans_per_stage"].values()):
        return
    for stage in plans["plans_per_stage"].values():
        stage["batch_size"] = batch
    tmp = plans_file.with_name(plans_file.name + ".tmp")
    tmp.write_bytes(pickle.dumps(plans))
    tmp.replace(plans_file)
    logger.info("plans: batch size set to %d", batch)


def train(work: Path) -> None:
    paths = NnunetPaths.under(work)
    logs = work / "logs"
    if not (paths.preprocessed / TASK / "nnUNetPlansv2.1_plans_3D.pkl").exists():
        args = ["nnUNet_plan_and_preprocess", "-t", TASK_ID, "-pl2d", "None", "-tl", "1", "-tf", "1"]
        run_nnunet(args, paths, logs / "plan.log")
    _log_command(["nnUNet_plan_and_preprocess", "-t", TASK_ID, "-pl2d", "None", "-tl", "1", "-tf", "1"])
    set_batch_size(paths.preprocessed / TASK / "nnUNetPlansv2.1_plans_3D.pkl", BATCH)
    fold = paths.results / "nnUNet" / "3d_fullres" / TASK / f"{TRAINER}__nnUNetPlansv2.1" / "fold_0"
    args = ["nnUNet_train", "3d_fullres", TRAINER, TASK, 0]
    if not (fold / "model_final_checkpoint.model").exists():
        start = time.perf_counter()
        run_nnunet(args, paths, logs / "train.log")
        logger.info("training: %.0f s", time.perf_counter() - start)
    _log_command(args)


def predict(work: Path, checkpoint: str = "model_final_checkpoint") -> Path:
    paths = NnunetPaths.under(work)
    out = work / f"predictions_{checkpoint}"
    args = ["nnUNet_predict", "-i", paths.raw_data_base / "nnUNet_raw_data" / TASK / "imagesTs",
            "-o", out, "-t", TASK_ID, "-tr", TRAINER, "-m", "3d_fullres", "-f", 0, "--disable_tta",
            "-chk", checkpoint]
    if not out.exists():
        tmp = out.with_name(out.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        start = time.perf_counter()
        run_nnunet([a if a != out else tmp for a in args], paths, work / "logs" / "predict.log")
        tmp.rename(out)
        logger.info("prediction: %.0f s", time.perf_counter() - start)
    _log_command(args)
    return out


# ---- baselines -----------------------------------------------------------------------------

def _remove_small(mask: np.ndarray, min_vox: int = 20) -> np.ndarray:
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3)))
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_vox
    keep[0] = False
    return keep[labels]


def otsu_mask(image: np.ndarray, bg_sigma: float, smooth_sigma: float, factor: float) -> np.ndarray:
    """Optional background subtraction (minus a wide Gaussian), smoothing, Otsu x factor."""
    from skimage.filters import threshold_otsu

    img = image.astype(np.float32)
    if bg_sigma:
        img = img - ndimage.gaussian_filter(img, bg_sigma)
    if smooth_sigma:
        img = ndimage.gaussian_filter(img, smooth_sigma)
    return _remove_small(img >= factor * threshold_otsu(img))


def frangi_response(image: np.ndarray, sigmas: tuple[float, ...]) -> np.ndarray:
    from skimage.filters import frangi

    img = image.astype(np.float32)
    lo, hi = np.percentile(img, (0.5, 99.9))
    img = np.clip((img - lo) / (hi - lo), 0, 1)
    return frangi(img, sigmas=sigmas, black_ridges=False)


def frangi_mask(response: np.ndarray, percentile: float) -> np.ndarray:
    return _remove_small(response >= np.percentile(response, percentile))


OTSU_GRID = [dict(bg_sigma=b, smooth_sigma=s, factor=f)
             for b in (0.0, 8.0) for s in (0.0, 1.0) for f in (0.75, 1.0, 1.5, 2.0, 3.0)]
FRANGI_SIGMAS = ((1.0, 2.0), (1.0, 2.0, 3.0))
FRANGI_PERCENTILES = (97.0, 98.0, 98.5, 99.0, 99.3, 99.6)


def _load_split(work: Path, split: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    folder = work / "volumes" / split
    names = sorted(p.name[:-len("_image.tiff")] for p in folder.glob("*_image.tiff"))
    return {n: (read_tiff(folder / f"{n}_image.tiff"), read_tiff(folder / f"{n}_truth.tiff") > 0)
            for n in names}


def tune_baselines(train_vols) -> dict[str, dict[str, dict]]:
    """Grid-search Otsu and Frangi parameters on the training volumes.

    Returns ``{objective: {method: params}}`` for objectives "cldice" and "dice" (mean strict
    score over the training volumes): a mask tuned for clDice is fatter than one tuned for Dice.
    """
    trials = []  # (method, params, mean clDice, mean Dice)
    for p in OTSU_GRID:
        sc = [score(otsu_mask(img, **p), truth) for img, truth in train_vols.values()]
        trials.append(("Otsu", p, np.mean([x.cldice for x in sc]), np.mean([x.dice for x in sc])))
    for sigmas in FRANGI_SIGMAS:
        responses = [(frangi_response(img, sigmas), truth) for img, truth in train_vols.values()]
        for pct in FRANGI_PERCENTILES:
            sc = [score(frangi_mask(r, pct), t) for r, t in responses]
            trials.append(("Frangi", dict(sigmas=list(sigmas), percentile=pct),
                           np.mean([x.cldice for x in sc]), np.mean([x.dice for x in sc])))
    best = {}
    for col, objective in ((2, "cldice"), (3, "dice")):
        best[objective] = {m: max((t for t in trials if t[0] == m), key=lambda t: t[col])[1]
                           for m in ("Otsu", "Frangi")}
    logger.info("tuned: %s", best)
    return best


def _scores_row(method: str, per: dict) -> list[str]:
    groups = {"real1000": ["real1000"], "random (2)": ["rand0", "rand1"]}
    rows = []
    for gname, names in groups.items():
        vals = [np.mean([per[n][k][m] for n in names]) for m in ("cldice", "dice") for k in (0, 1)]
        rows.append(f"| {method} | {gname} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    return rows


def baselines(work: Path) -> dict:
    """Tuned parameters and held-out scores of Otsu and Frangi (cached in baselines.json)."""
    cache = work / "baselines.json"
    if cache.exists():
        return json.loads(cache.read_text())
    start = time.perf_counter()
    tuned = tune_baselines(_load_split(work, "train"))
    logger.info("baseline tuning: %.0f s", time.perf_counter() - start)
    test = _load_split(work, "test")
    params, scores = {}, {}
    for objective, methods in tuned.items():
        for method, p in methods.items():
            name = f"{method} (tuned for {'clDice' if objective == 'cldice' else 'Dice'})"
            if method == "Otsu":
                fn = lambda img, p=p: otsu_mask(img, **p)  # noqa: E731
            else:
                fn = lambda img, p=p: frangi_mask(frangi_response(img, tuple(p["sigmas"])),  # noqa: E731
                                                  p["percentile"])
            params[name] = p
            scores[name] = {n: [score(m, truth, k).to_dict() for k in (0, 1)]
                            for n, (img, truth) in test.items() for m in [fn(img)]}
    out = {"params": params, "scores": scores}
    cache.write_text(json.dumps(out, indent=1))
    return out


def table(work: Path, pred_dir: Path | None) -> str:
    base = baselines(work)
    results = dict(base["scores"])
    if pred_dir is not None:
        test = _load_split(work, "test")
        results[f"nnU-Net {TRAINER}"] = {
            n: [score(np.asarray(open_volume(pred_dir / f"{n}.nii.gz")[0].compute()) > 0, truth,
                      k).to_dict() for k in (0, 1)] for n, (_, truth) in test.items()}
    rows = [r for method, per in results.items() for r in _scores_row(method, per)]
    header = ("| method | held-out volume | clDice k=0 | clDice k=1 | Dice k=0 | Dice k=1 |\n"
              "|---|---|---|---|---|---|")
    (work / "quality.json").write_text(json.dumps({"params": base["params"], "scores": results},
                                                  indent=1))
    params = "\n".join(f"{name}: {p}" for name, p in base["params"].items())
    return header + "\n" + "\n".join(rows) + "\n\n" + params


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--stage", choices=("data", "train", "predict", "table", "all"), default="all")
    p.add_argument("--no-model", action="store_true", help="table of the baselines only")
    p.add_argument("--checkpoint", default="model_final_checkpoint",
                   help="nnU-Net checkpoint to predict with (model_best if training was stopped early)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    stages = ["data", "train", "predict", "table"] if args.stage == "all" else [args.stage]
    if "data" in stages:
        make_data(work)
    if "train" in stages:
        train(work)
    pred_dir = None
    if "predict" in stages or ("table" in stages and not args.no_model):
        pred_dir = predict(work, args.checkpoint)
    if "table" in stages:
        text = table(work, None if args.no_model else pred_dir)
        print(text)
        print("\ncommands (nnU-Net's, run with nnUNet_raw_data_base, nnUNet_preprocessed and "
              f"RESULTS_FOLDER under {work}):")
        for c in COMMANDS:
            print("  " + c)
    return 0


if __name__ == "__main__":
    sys.exit(main())
