"""Benchmark create_data on 150^3 cubes: cubes/second and peak memory, as a table.

Each configuration runs in a fresh subprocess (so its peak RSS is its own): synthetic LSFM-like
150^3 uint16 cubes with line "axons", artifact cubes and histogram references are made once in a
temporary folder, then create_data builds a task with 128^3 patches.

    .venv/bin/python benchmarks/bench_create_data.py [--cubes 4] [--samples 2]

Columns: source cubes per second, training cases per second, wall seconds, and peak RSS of the
main process and of the largest worker (ru_maxrss), with ratios to the first row.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CONFIGS = {
    "plain crops, 1 worker": dict(histogram_matching=False, cutmix=False, contrast=False,
                                  affine_probability=0.0, num_workers=1),
    "all augmentations, 1 worker": dict(num_workers=1),
    "all augmentations, 2 workers": dict(num_workers=2),
}


def make_inputs(root: Path, n_cubes: int, n_artifacts: int, size: int = 150) -> None:
    import tifffile
    from scipy import ndimage as ndi

    rng = np.random.default_rng(0)
    for sub in ("base/train/volumes", "base/train/Fine-label", "base/train/artifacts",
                "source/train/volumes", "source/train/artifacts"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for k in range(n_cubes):
        label = np.zeros((size,) * 3, np.uint8)
        for _ in range(6):
            axis = int(rng.integers(0, 3))
            pos = rng.integers(5, size - 5, 3)
            index = [slice(int(p), int(p) + 1) for p in pos]
            index[axis] = slice(5, size - 5)
            label[tuple(index)] = 255
        axons = ndi.gaussian_filter(label.astype(np.float32) * 12, 1.0)
        image = np.clip(1000 + rng.normal(0, 60, label.shape) + axons, 0, 65535).astype(np.uint16)
        tifffile.imwrite(root / f"base/train/volumes/volume-{1000 + k}.tiff", image)
        tifffile.imwrite(root / f"base/train/Fine-label/label-{1000 + k}.tiff", label)
        tifffile.imwrite(root / f"source/train/volumes/volume-{1000 + k}.tiff", (image * 1.5).astype(np.uint16))
    for k in range(n_artifacts):
        art = np.clip(1000 + rng.normal(0, 60, (size,) * 3), 0, None).astype(np.uint16)
        art[40:80, :, 60:90] = 60000
        tifffile.imwrite(root / f"base/train/artifacts/volume-{k + 1}.tiff", art)
        tifffile.imwrite(root / f"source/train/artifacts/volume-{k + 1}.tiff", (art * 0.8).astype(np.uint16))


def run_one(root: Path, name: str, samples: int, out: Path) -> dict:
    from axonseg.cubes import CreateDataSettings, create_data

    settings = CreateDataSettings(
        task_id=999, task_name="Bench", raw_data_base=str(out), voxel_spacing_um_zyx=(4.0, 4.0, 4.0),
        base_dir=str(root / "base"), source_dir=str(root / "source"), samples_per_cube=samples,
        artifact_samples_per_cube=samples, patch_size_zyx=(128, 128, 128), preview=False,
        num_folds=min(5, len(list((root / "base/train/volumes").iterdir()))
                      + len(list((root / "base/train/artifacts").iterdir()))),
        **CONFIGS[name])
    start = time.perf_counter()
    task = create_data(settings, progress=False)
    wall = time.perf_counter() - start
    n_cases = json.loads((task / "dataset.json").read_text())["numTraining"]
    return {"wall_s": wall, "cases": n_cases,
            "rss_main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cubes", type=int, default=4, help="labelled 150^3 cubes (default 4)")
    p.add_argument("--artifacts", type=int, default=2, help="artifact 150^3 cubes (default 2)")
    p.add_argument("--samples", type=int, default=2, help="samples per cube and copy (default 2)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as out:
            print(json.dumps(run_one(args.root, args.one, args.samples, Path(out))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_inputs(root, args.cubes, args.artifacts)
        n_source = args.cubes + args.artifacts
        rows = []
        for name in CONFIGS:
            result = subprocess.run([sys.executable, __file__, "--one", name, "--root", str(root),
                                     "--samples", str(args.samples)], capture_output=True, text=True)
            if result.returncode:
                sys.exit(f"{name} failed:\n{result.stderr[-3000:]}")
            rows.append((name, json.loads(result.stdout.strip().splitlines()[-1])))
    base = rows[0][1]["wall_s"]
    print(f"create_data on {args.cubes} labelled + {args.artifacts} artifact 150^3 cubes, "
          f"{args.samples} samples per cube and copy, 128^3 patches")
    print(f"{'configuration':<30} {'cubes/s':>8} {'cases/s':>8} {'cases':>6} {'wall s':>7} "
          f"{'x plain':>8} {'peak main MiB':>14} {'peak worker MiB':>16}")
    for name, r in rows:
        print(f"{name:<30} {n_source / r['wall_s']:>8.3f} {r['cases'] / r['wall_s']:>8.2f} {r['cases']:>6d} "
              f"{r['wall_s']:>7.1f} {r['wall_s'] / base:>8.2f} {r['rss_main_mib']:>14.0f} "
              f"{r['rss_worker_mib']:>16.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
