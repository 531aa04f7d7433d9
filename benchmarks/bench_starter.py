"""Quality of the shipped starter model on held-out REAL background, vs Otsu and Frangi.

Held out: rows y >= 300 of the D-LMBmap excerpt (the starter model never saw them).

- ``real background + simulated axons``: 96^3 crops of the held-out rows with simulated axons
  rendered into them (``lsfm_sim.render_into_background``: real noise, real tissue, real
  artifacts). Truth = the simulated tubes. The crops also hold REAL axons that are in no
  truth: voxels within 2 voxels of the crop's own automatic (tubular) labels are left out of
  the scores for every method alike (an ``ignore`` mask).
- ``simulation + real artifacts``: LSFM simulations (``render_lsfm``) with two 40^3 boxes of
  real held-out artifact tissue (bright tissue edge, saturated blobs, puncta) pasted in
  (truth 0 inside).
- ``real artifact regions``: raw held-out crops of the bright tissue edge, the puncta field
  and a blob: fraction of voxels each method calls axon.

Otsu and Frangi parameters are grid-searched on volumes made the same way from the TRAINING
rows (y < 300), once for the best mean Dice and once for the best mean clDice. The model runs
through ``axonseg.inference.predict_whole_brain`` (per-patch normalisation, step 0.5,
threshold 0.5), as ``axonseg predict`` does.

    python benchmarks/bench_starter.py --workdir /tmp/bench_starter [--model M.pth]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import FRANGI_SIGMAS, OTSU_GRID, _remove_small, frangi_response, otsu_mask  # noqa: E402

from axonseg.analysis.lsfm_sim import LsfmSettings, random_centrelines, render_into_background, render_lsfm  # noqa: E402
from axonseg.analysis.metrics import score  # noqa: E402
from axonseg.annotate import rough_mask  # noqa: E402
from axonseg.io import open_volume, read_tiff, write_tiff  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "dlmbmap" / "brain-example"
HELD_OUT = 300
S = 96
# (z, y, x) corners of 96^3 crops
TRAIN_BG = [(2, 0, 200), (2, 100, 420), (2, 150, 100), (2, 200, 300), (2, 30, 480)]
TEST_BG = [(2, 300, 0), (2, 330, 440), (2, 480, 480), (2, 420, 200)]
# (z0, z1, y0, y1, x0, x1): real artifact regions
TRAIN_ART = [(2, 98, 0, 96, 100, 196), (2, 98, 100, 196, 40, 136), (2, 98, 0, 96, 480, 576)]
TEST_ART = {"bright tissue edge (y 300-350, x 0-48)": (2, 98, 300, 350, 0, 48),
            "puncta field (y 340-436, x 470-566)": (2, 98, 340, 436, 470, 566),
            "blob (y 425-465, x 415-475)": (2, 98, 425, 465, 415, 475)}
FRANGI_GRID = [dict(sigmas=s, mode=m, t=t) for s in FRANGI_SIGMAS
               for m, ts in (("percentile", (97.0, 98.0, 98.5, 99.0, 99.5)), ("absolute", (0.02, 0.05, 0.1, 0.2)))
               for t in ts]


def _crop(vol, c) -> np.ndarray:
    z, y, x = c
    return np.asarray(vol[z:z + S, y:y + S, x:x + S])


def _ignore(raw: np.ndarray) -> np.ndarray:
    real, _ = rough_mask(raw)
    return ndimage.binary_dilation(real, iterations=2) if real.any() else real


def _paste_artifacts(image: np.ndarray, truth: np.ndarray, vol, regions, rng) -> None:
    for z0, z1, y0, y1, x0, x1 in [regions[i] for i in rng.choice(len(regions), 2, replace=False)]:
        box = [min(40, z1 - z0), min(40, y1 - y0), min(40, x1 - x0)]
        src = np.asarray(vol[z0:z0 + box[0], y0:y0 + box[1], x0:x0 + box[2]])
        at = [int(rng.integers(0, S - b + 1)) for b in box]
        sl = tuple(slice(a, a + b) for a, b in zip(at, box))
        image[sl] = src
        truth[sl] = 0


def make_volumes(work: Path, vol, corners, art_regions, seed: int, prefix: str) -> list[str]:
    rng = np.random.default_rng(seed)
    names = []
    for i, c in enumerate(corners):
        raw = _crop(vol, c)
        lines = random_centrelines(raw.shape, rng, n_tubes=6)
        image, truth = render_into_background(raw, lines, rng)
        names.append(f"{prefix}_realbg{i}")
        np.savez_compressed(work / f"{names[-1]}.npz", image=image, truth=truth, ignore=_ignore(raw))
    for i in range(3):
        image, truth = render_lsfm(random_centrelines((S,) * 3, rng, n_tubes=8), rng, LsfmSettings())
        _paste_artifacts(image, truth, vol, art_regions, rng)
        names.append(f"{prefix}_simart{i}")
        np.savez_compressed(work / f"{names[-1]}.npz", image=image, truth=truth, ignore=np.zeros_like(truth, bool))
    return names


def _scores(pred: np.ndarray, d) -> tuple[float, float]:
    keep = ~d["ignore"]
    s = score(pred & keep, (d["truth"] > 0) & keep)
    return s.dice, s.cldice


def frangi_mask(resp: np.ndarray, p: dict) -> np.ndarray:
    t = np.percentile(resp, p["t"]) if p["mode"] == "percentile" else p["t"]
    return _remove_small(resp >= t)


def tune(train: list[dict]) -> dict:
    """Best parameters on the training volumes, per method and objective (mean Dice / clDice)."""
    best = {}
    responses = {s: [frangi_response(d["image"], s) for d in train] for s in FRANGI_SIGMAS}
    for method, grid, fn in (("Otsu", OTSU_GRID, lambda i, p: otsu_mask(train[i]["image"], **p)),
                             ("Frangi", FRANGI_GRID, lambda i, p: frangi_mask(responses[p["sigmas"]][i], p))):
        means = [np.mean([_scores(fn(i, p), d) for i, d in enumerate(train)], axis=0) for p in grid]
        for k, objective in enumerate(("Dice", "clDice")):
            best[f"{method} (tuned for {objective})"] = grid[int(np.argmax([m[k] for m in means]))]
    return best


def run_model(model: Path, image: np.ndarray, work: Path, name: str) -> np.ndarray:
    from axonseg.inference import PredictSettings, predict_whole_brain

    src = work / f"{name}.tiff"
    write_tiff(src, image)
    out = work / f"pred_{name}"
    predict_whole_brain(src, model, out, PredictSettings(normalization="per_patch", preview=False,
                                                         voxel_size_um=(1.0, 1.0, 1.0)), progress=False)
    prob, _ = open_volume(out / "probability.ome.zarr")
    return np.asarray(prob[:]) >= 128  # uint8 probabilities: p >= 0.5


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", type=Path, required=True)
    p.add_argument("--model", type=Path, help="default: the shipped starter model")
    p.add_argument("--picture", type=Path, help="PNG of the held-out rows, raw | prediction")
    args = p.parse_args(argv)
    from axonseg.starter import starter_model_path

    model = args.model or starter_model_path()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    vol, _ = open_volume(DATA)
    t0 = time.perf_counter()
    train_names = make_volumes(work, vol, TRAIN_BG, TRAIN_ART, 100, "train")
    test_names = make_volumes(work, vol, TEST_BG, list(TEST_ART.values()), 200, "test")
    for n in test_names:  # the held-out volumes as TIFFs too, for `axonseg predict` and `axonseg evaluate`
        d = np.load(work / f"{n}.npz")
        write_tiff(work / f"{n}_image.tiff", d["image"])
        write_tiff(work / f"{n}_truth.tiff", (d["truth"] > 0).astype(np.uint8) * 255)
    train = [dict(np.load(work / f"{n}.npz")) for n in train_names]
    test = {n: dict(np.load(work / f"{n}.npz")) for n in test_names}
    cache = work / "tuned_baselines.json"   # depends on the seeded training volumes only
    cached = cache.exists()
    if cached:
        params = {k: {kk: tuple(vv) if kk == "sigmas" else vv for kk, vv in v.items()}
                  for k, v in json.loads(cache.read_text()).items()}
    else:
        params = tune(train)
        cache.write_text(json.dumps(params))
    t_tune = time.perf_counter() - t0
    preds = {m: {} for m in params}
    for n, d in test.items():
        for m, prm in params.items():
            preds[m][n] = (otsu_mask(d["image"], **prm) if m.startswith("Otsu")
                           else frangi_mask(frangi_response(d["image"], prm["sigmas"]), prm))
    t1 = time.perf_counter()
    preds["starter model"] = {n: run_model(model, d["image"], work, n) for n, d in test.items()}
    # the baselines' post-processing (components under 20 voxels removed), applied to the model too
    preds["starter model + small components removed"] = {
        n: _remove_small(m) for n, m in preds["starter model"].items()}
    t_model = time.perf_counter() - t1
    groups = {"real background + simulated axons": [n for n in test if "realbg" in n],
              "simulation + real artifacts": [n for n in test if "simart" in n]}
    rows, summary = [], {}
    for g, names in groups.items():
        for m in preds:
            s = np.array([_scores(preds[m][n], test[n]) for n in names])
            summary[(g, m)] = s.mean(0)
            rows.append(f"| {g} | {m} | {s[:, 0].mean():.3f} | {s[:, 1].mean():.3f} |")
    print(f"\nheld-out volumes (mean of each group; baselines tuned on training rows "
          f"({'cached, ' if cached else ''}{t_tune:.0f} s); model {t_model:.0f} s)\n")
    print("| held-out volumes | method | Dice | clDice |\n|---|---|---|---|")
    print("\n".join(rows))
    art_rows, art = [], {}
    frangi_dice = params["Frangi (tuned for Dice)"]
    for label, (z0, z1, y0, y1, x0, x1) in TEST_ART.items():
        raw = np.asarray(vol[z0:z1, y0:y1, x0:x1])
        fr = frangi_mask(frangi_response(raw, frangi_dice["sigmas"]), frangi_dice).mean()
        name = "art_" + label.split(" (")[0].replace(" ", "_")
        mo = run_model(model, raw, work, name).mean()
        art[label] = (float(mo), float(fr))
        art_rows.append(f"| {label} | {100 * mo:.3f} % | {100 * fr:.3f} % | {mo / fr if fr else float('nan'):.2f} |")
    print("\nreal artifact regions of the held-out rows: fraction of voxels called axon\n")
    print("| region | starter model | Frangi (tuned for Dice) | model / Frangi |\n|---|---|---|---|")
    print("\n".join(art_rows))
    print("\nmargins over the best tuned Frangi (target: Dice >= +0.10, clDice >= +0.05; artifacts <= 1/5):")
    for g in groups:
        m = np.max([summary[(g, k)] for k in preds if k.startswith("starter")], axis=0)
        fd = max(summary[(g, k)][0] for k in params if k.startswith("Frangi"))
        fc = max(summary[(g, k)][1] for k in params if k.startswith("Frangi"))
        print(f"  {g}: Dice {m[0] - fd:+.3f}, clDice {m[1] - fc:+.3f}")
    tot_m, tot_f = sum(v[0] for v in art.values()), sum(v[1] for v in art.values())
    print(f"  artifact regions: model / Frangi = {tot_m / tot_f:.3f} (summed fractions)")
    (work / "starter_quality.json").write_text(json.dumps({
        "params": {k: {kk: list(vv) if isinstance(vv, tuple) else vv for kk, vv in v.items()}
                   for k, v in params.items()},
        "scores": {f"{g} | {m}": list(map(float, v)) for (g, m), v in summary.items()},
        "artifact_fraction_model_frangi": art}, indent=1))
    if args.picture:
        picture(vol, model, work, args.picture)
    return 0


def picture(vol, model: Path, work: Path, out: Path) -> None:
    """Held-out rows: raw MIP | starter model probability MIP, side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    raw = np.asarray(vol[:, HELD_OUT:, :])
    from axonseg.inference import PredictSettings, predict_whole_brain
    src = work / "held_out_rows.tiff"
    write_tiff(src, raw)
    predict_whole_brain(src, model, work / "pred_held_out_rows", PredictSettings(
        normalization="per_patch", preview=False, voxel_size_um=(1.0, 1.0, 1.0)), progress=True)
    prob, _ = open_volume(work / "pred_held_out_rows" / "probability.ome.zarr")
    mip_raw = np.log(raw.max(0).astype(np.float32))
    mip_p = np.asarray(prob[:]).max(0) / 255.0
    fig, ax = plt.subplots(1, 2, figsize=(16, 4.6))
    ax[0].imshow(mip_raw, cmap="gray", extent=(0, 600, 600, HELD_OUT))
    ax[0].set_title("held-out rows y 300-599: raw (log max projection over z)")
    im = ax[1].imshow(mip_p, cmap="magma", vmin=0, vmax=1, extent=(0, 600, 600, HELD_OUT))
    ax[1].set_title("starter model: axon probability (max over z)")
    fig.colorbar(im, ax=ax[1], fraction=0.025)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    print(f"picture: {out}")


if __name__ == "__main__":
    sys.exit(main())
