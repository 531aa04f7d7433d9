"""Robustness table: starter v2 vs v1 vs Otsu and Frangi tuned on the evaluation volumes themselves.

Held out: rows y >= 300 of the D-LMBmap excerpt (no model saw them; ``robustness_volumes``):
4 real 96^3 crops with simulated axons rendered in (exact truth; real fibres masked out of every
score), under shifts: intensity x0.25 / x4, gamma 0.7 / 1.4, z-spacing 2x (resampled), extra
noise, axons in-plane only, along z only. Otsu and Frangi are grid-searched on each row's own
volumes (their best case: what a careful user gets by hand), once for the best mean Dice and once
for the best mean clDice; each metric is compared with the baseline tuned for it. The models run
through ``predict_whole_brain`` with their defaults (v2: its recorded mask threshold; v1:
per-patch normalisation, p >= 0.5), as ``axonseg predict`` does.

Also: fraction of voxels called axon in real artifact regions of the held-out rows (outside the
real-fibre mask), featureless volumes (zeros, constant, 1x1x1).

    python benchmarks/bench_robustness.py --workdir /tmp/robust [--v2 M.pth] [--v1 M.pth] [--shifts base ...]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from axonseg.starter import evaluation_volumes as rv  # noqa: E402
from bench_quality import FRANGI_SIGMAS, OTSU_GRID, _remove_small, frangi_response, otsu_mask  # noqa: E402

from axonseg.analysis.metrics import score  # noqa: E402
from axonseg.io import open_volume, write_tiff  # noqa: E402

FRANGI_THRESHOLDS = (90.0, 93.0, 95.0, 96.0, 97.0, 98.0, 98.5, 99.0, 99.3, 99.6)


def model_probability(model: Path, image: np.ndarray, work: Path, name: str) -> np.ndarray:
    """The model's probability (float, 0-1) for ``image``, through ``predict_whole_brain`` defaults."""
    from axonseg.inference import PredictSettings, predict_whole_brain

    if min(image.shape) > 1:
        src = work / f"{name}.tiff"
        write_tiff(src, image)
    else:  # a TIFF of one slice is 2-D: a one-voxel volume goes as zarr
        import zarr

        src = work / f"{name}.zarr"
        zarr.save_array(str(src), image, zarr_format=2) if not src.exists() else None
    out = work / f"pred_{name}"
    predict_whole_brain(src, model, out, PredictSettings(preview=False, voxel_size_um=(1.0, 1.0, 1.0)),
                        overwrite=True, progress=False)
    prob, _ = open_volume(out / "probability.ome.zarr")
    return np.asarray(prob[:]).astype(np.float32) / 255


def model_threshold(model: Path) -> float:
    from axonseg.inference.weights import load_model

    return float(load_model(model).extra.get("mask_threshold") or 0.5)


def scores(pred: np.ndarray, truth: np.ndarray, ignore: np.ndarray) -> np.ndarray:
    keep = ~ignore
    s = score(pred & keep, truth & keep)
    return np.array([s.dice, s.cldice, s.precision, s.recall])


def tuned(vols, masks_for) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """Best mean Dice row and best mean clDice row over a parameter grid (and their parameters)."""
    results = [(p, np.mean([scores(m, t, ig) for m, (_, t, ig) in zip(masks, vols)], axis=0))
               for p, masks in masks_for(vols)]
    by_dice = max(results, key=lambda r: r[1][0])
    by_cl = max(results, key=lambda r: r[1][1])
    return by_dice[1], by_cl[1], by_dice[0], by_cl[0]


def otsu_masks(vols):
    for p in OTSU_GRID:
        yield p, [otsu_mask(im, **p) for im, _, _ in vols]


def frangi_masks(vols):
    for sig in FRANGI_SIGMAS:
        resp = [frangi_response(im, sig) for im, _, _ in vols]
        for t in FRANGI_THRESHOLDS:
            yield {"sigmas": sig, "percentile": t}, [_remove_small(r >= np.percentile(r, t)) for r in resp]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--v2", type=Path, help="default: the shipped starter v2")
    p.add_argument("--v1", type=Path, help="default: the shipped starter v1")
    p.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "dlmbmap"
                   / "brain-example")
    p.add_argument("--shifts", nargs="+", default=list(rv.SHIFTS), choices=rv.SHIFTS)
    args = p.parse_args(argv)
    from axonseg.starter.model import MODELS_DIR, STARTER_MODEL_V1, STARTER_MODEL_V2

    models = {"v2": args.v2 or MODELS_DIR / STARTER_MODEL_V2, "v1": args.v1 or MODELS_DIR / STARTER_MODEL_V1}
    thresholds = {k: model_threshold(m) for k, m in models.items()}
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    vol, _ = open_volume(args.data)
    t0 = time.perf_counter()
    data = rv.volumes(vol, rv.TEST_BG, args.shifts)
    print(f"volumes: {time.perf_counter() - t0:.0f} s; thresholds {thresholds}", flush=True)
    rows, record = [], {}
    frangi_params = None
    for shift, vols in data.items():
        t1 = time.perf_counter()
        res = {}
        for name, model in models.items():
            probs = [model_probability(model, im, work, f"{name}_{shift}_{i}".replace(" ", "_"))
                     for i, (im, _, _) in enumerate(vols)]
            res[name] = np.mean([scores(pr >= thresholds[name], t, ig) for pr, (_, t, ig) in zip(probs, vols)], 0)
        od, oc, _, _ = tuned(vols, otsu_masks)
        fd, fc, fpd, _ = tuned(vols, frangi_masks)
        if shift == "base":
            frangi_params = fpd
        res["Otsu (tuned for Dice)"], res["Otsu (tuned for clDice)"] = od, oc
        res["Frangi (tuned for Dice)"], res["Frangi (tuned for clDice)"] = fd, fc
        margin = (res["v2"][0] - fd[0], res["v2"][1] - fc[1])
        record[shift] = {k: list(map(float, v)) for k, v in res.items()} | {"margin_dice_cldice": margin}
        for k, v in res.items():
            rows.append(f"| {shift} | {k} | {v[0]:.3f} | {v[1]:.3f} | {v[2]:.3f} | {v[3]:.3f} |")
        rows.append(f"| {shift} | **v2 - tuned Frangi** | **{margin[0]:+.3f}** | **{margin[1]:+.3f}** | | |")
        print(f"{shift}: {time.perf_counter() - t1:.0f} s, v2 {res['v2'][:2].round(3)}, Frangi "
              f"{fd[0]:.3f}/{fc[1]:.3f}", flush=True)
    print("\n| volumes (held-out rows) | method | Dice | clDice | precision | recall |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    art_rows, art = [], {}
    for label, (z0, z1, y0, y1, x0, x1) in rv.TEST_ART.items():
        raw = np.asarray(vol[z0:z1, y0:y1, x0:x1])
        keep = ~rv.real_fibres(raw)
        fr = frangi_response(raw, frangi_params["sigmas"]) if frangi_params else None
        frac = {"Frangi": float(_remove_small(fr >= np.percentile(fr, frangi_params["percentile"]))[keep].mean())
                if fr is not None else float("nan")}
        for name, model in models.items():
            pr = model_probability(model, raw, work, "art_" + label.split(" ")[0] + "_" + name)
            frac[name] = float((pr >= thresholds[name])[keep].mean())
        art[label] = frac
        art_rows.append(f"| {label} | {100 * frac['v2']:.3f} % | {100 * frac['v1']:.3f} % | "
                        f"{100 * frac['Frangi']:.3f} % | {frac['v2'] / frac['Frangi'] if frac['Frangi'] else 0:.2f} |")
    print("\nreal artifact regions of the held-out rows (real fibres masked out): fraction called axon\n")
    print("| region | v2 | v1 | Frangi (tuned for Dice on base) | v2 / Frangi |\n|---|---|---|---|---|")
    print("\n".join(art_rows))
    feats = {"zeros 64^3": np.zeros((64, 64, 64), np.uint16), "constant 1000 64^3": np.full((64, 64, 64), 1000, np.uint16),
             "1x1x1": np.full((1, 1, 1), 1000, np.uint16)}
    print("\nfeatureless volumes: voxels called axon\n\n| volume | v2 | v1 |\n|---|---|---|")
    featless = {}
    for label, image in feats.items():
        n = {name: int((model_probability(m, image, work, f"feat_{name}_{label.split(' ')[0]}")
                        >= thresholds[name]).sum()) for name, m in models.items()}
        featless[label] = n
        print(f"| {label} | {n['v2']} | {n['v1']} |")
    (work / "robustness.json").write_text(json.dumps({"shifts": record, "artifacts": art, "featureless": featless,
                                                      "thresholds": thresholds}, indent=1))
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
