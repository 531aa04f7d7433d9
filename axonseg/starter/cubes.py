"""Training cubes of the starter model, from the real D-LMBmap excerpt (training rows only).

``base/train``: real axon cubes with automatic (tubular) fine labels, the same cubes with
simulated axons rendered into them (truth = simulated tubes + the cube's own automatic label),
and pure LSFM simulations; ``base/train/artifacts``: real artifact cubes (bright tissue edge,
saturated blobs, puncta). ``source/train``: the real cubes again, as histogram references.
Rows y >= ``HELD_OUT_FROM_ROW`` of the excerpt are held out for evaluation: every cube is
checked to lie above them.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np

from axonseg.analysis.lsfm_sim import LsfmSettings, random_centrelines, render_into_background, render_lsfm
from axonseg.annotate import RoughLabelSettings, fine_labels, rough_mask
from axonseg.annotate.crop import crop_cubes_to_folder
from axonseg.annotate.points import read_points
from axonseg.io import read_tiff, write_tiff
from axonseg.io.tiff import tiff_voxel_size_um

logger = logging.getLogger(__name__)

HELD_OUT_FROM_ROW = 300
CUBE_SIZE = 96
CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs" / "starter"


def check_training_rows(points_csv: Path, size: int = CUBE_SIZE) -> None:
    """Refuse any point whose cube reaches the held-out rows y >= HELD_OUT_FROM_ROW."""
    for k, (z, y, x) in enumerate(read_points(points_csv)):
        stop = int(y) - size // 2 + size
        if stop > HELD_OUT_FROM_ROW:
            raise ValueError(f"{points_csv}: point {k + 1} (z,y,x {int(z)},{int(y)},{int(x)}): its cube reaches "
                             f"row {stop - 1}, inside the held-out rows y >= {HELD_OUT_FROM_ROW}")


def _labelled(path: Path) -> np.ndarray:
    rough, _ = rough_mask(read_tiff(path), RoughLabelSettings())
    return fine_labels(rough.astype(np.uint8)) if rough.any() else rough


def build_training_cubes(volume: Path, out: Path, axon_points: Path | None = None,
                         artifact_points: Path | None = None, n_pure_sim: int = 4, seed: int = 0) -> Path:
    """Write ``out/base/train/{volumes,Fine-label,artifacts}`` and ``out/source/train/...``."""
    axon_points = axon_points or CONFIG_DIR / "axon_points.csv"
    artifact_points = artifact_points or CONFIG_DIR / "artifact_points.csv"
    for pts in (axon_points, artifact_points):
        check_training_rows(pts)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    train = tmp / "base" / "train"
    crop_cubes_to_folder(volume, axon_points, train, (CUBE_SIZE,) * 3, artifact_points_path=artifact_points)
    (train / "Fine-label").mkdir()
    rng = np.random.default_rng(seed)
    real = sorted((train / "volumes").glob("volume-*.tiff")) + sorted((train / "artifacts").glob("volume-*.tiff"))
    next_id = 2000
    for path in real:
        label = _labelled(path)
        voxel = tiff_voxel_size_um(path)  # the excerpt's calibration, carried by every derived cube
        if path.parent.name == "volumes":
            write_tiff(train / "Fine-label" / f"label-{path.stem.split('-')[1]}.tiff", label.astype(np.uint8) * 255,
                       voxel)
        # simulated axons rendered into the real cube: real noise, real artifacts, known truth
        cube = read_tiff(path)
        lines = random_centrelines(cube.shape, rng, n_tubes=int(rng.integers(3, 9)))
        image, truth = render_into_background(cube, lines, rng)
        write_tiff(train / "volumes" / f"volume-{next_id}.tiff", image, voxel)
        write_tiff(train / "Fine-label" / f"label-{next_id}.tiff", ((truth > 0) | (label > 0)).astype(np.uint8) * 255,
                   voxel)
        logger.info("%s: automatic label %.2f %%, + simulated axons as volume-%d", path.name,
                    100 * np.mean(label > 0), next_id)
        next_id += 1
    for _ in range(n_pure_sim):
        lines = random_centrelines((CUBE_SIZE,) * 3, rng, n_tubes=int(rng.integers(4, 12)))
        image, truth = render_lsfm(lines, rng, LsfmSettings())
        write_tiff(train / "volumes" / f"volume-{next_id}.tiff", image)
        write_tiff(train / "Fine-label" / f"label-{next_id}.tiff", truth * 255)
        next_id += 1
    source = tmp / "source" / "train"
    for sub in ("volumes", "artifacts"):
        (source / sub).mkdir(parents=True)
        for path in real:
            if path.parent.name == sub:
                shutil.copy(path, source / sub / path.name)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out
