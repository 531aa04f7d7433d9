"""Automatic labels on the real excerpt: D-LMBmap's method vs axonseg's tubular method.

Prints, per 96^3 cube (the starter model's training cubes and named regions), the foreground
fraction of the rough mask and of the fine (skeleton) label of both methods, and writes a
picture: per cube, the raw max projection and each method's rough mask over it.

    python benchmarks/bench_labels.py --picture docs/images/rough_labels.png
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from axonseg.annotate import RoughLabelSettings, fine_labels, rough_mask
from axonseg.annotate.points import read_points
from axonseg.io import open_volume
from axonseg.starter.cubes import CONFIG_DIR

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "dlmbmap" / "brain-example"
S = 96
NAMED = {"bright edge (y 0, x 100)": (2, 0, 100), "saturated blob (y 100, x 40)": (2, 100, 40),
         "axon bundle (y 150, x 250)": (2, 150, 250), "sparse right (y 100, x 480)": (2, 100, 480),
         "sparse right, top (y 0, x 480)": (2, 0, 480)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--picture", type=Path)
    args = p.parse_args(argv)
    vol, _ = open_volume(DATA)
    cubes = dict(NAMED)
    for kind in ("axon", "artifact"):
        for z, y, x in read_points(CONFIG_DIR / f"{kind}_points.csv"):
            cubes[f"starter {kind} cube (y {y}, x {x})"] = (int(z) - S // 2, int(y) - S // 2, int(x) - S // 2)
    print("| cube (96^3, z 2-97) | D-LMBmap rough | D-LMBmap fine | tubular rough | tubular fine |")
    print("|---|---|---|---|---|")
    shown = []
    for name, (z, y, x) in cubes.items():
        cube = np.asarray(vol[z:z + S, y:y + S, x:x + S])
        old, _ = rough_mask(cube, RoughLabelSettings(threshold_method="mad"))
        new, _ = rough_mask(cube)
        fo = fine_labels(old.astype(np.uint8)).mean() if old.any() else 0.0
        fn = fine_labels(new.astype(np.uint8)).mean() if new.any() else 0.0
        print(f"| {name} | {100 * old.mean():.2f} % | {100 * fo:.2f} % | {100 * new.mean():.2f} % | "
              f"{100 * fn:.2f} % |")
        if name in NAMED:
            shown.append((name, cube, old, new))
    if args.picture:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axs = plt.subplots(3, len(shown), figsize=(3.2 * len(shown), 9.6))
        for i, (name, cube, old, new) in enumerate(shown):
            mip = cube.max(0).astype(np.float32)
            lo, hi = np.percentile(mip, (1, 99.5))
            for r, (mask, title) in enumerate(((None, name), (old, "D-LMBmap (mad)"), (new, "tubular"))):
                ax = axs[r, i]
                ax.imshow(np.clip(mip, lo, hi), cmap="gray")
                if mask is not None:
                    ax.imshow(np.ma.masked_equal(mask.max(0), 0), cmap="autumn", alpha=0.7)
                    title += f": {100 * mask.mean():.2f} %"
                ax.set_title(title, fontsize=9)
                ax.axis("off")
        fig.suptitle("rough labels (max projection over z) on real cubes of the excerpt", fontsize=11)
        fig.tight_layout()
        args.picture.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.picture, dpi=60)
        print(f"picture: {args.picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
