"""Previews say what they show: a title line (MIP along which axis, over how many slices) and a
colour bar under each column (grey raw ramp with its intensity range, magenta p = 0 ... 1)."""
from __future__ import annotations

import numpy as np

from axonseg.analysis.preview import BAR_PX, LEGEND_PX, PAD_PX, PROB_ALPHA, describe, save_preview_png


def _bar_row(img: np.ndarray) -> np.ndarray:
    """The middle pixel row of the colour bars (bars sit LEGEND_PX - PAD_PX - BAR_PX above the bottom)."""
    y_bar = LEGEND_PX - PAD_PX - BAR_PX
    return img[img.shape[0] - y_bar - BAR_PX // 2 - 1]


def test_colour_bars_under_raw_and_probability_columns(tmp_path):
    import matplotlib.image as mpimg

    rng = np.random.default_rng(1)
    raw = rng.normal(100, 10, (9, 40, 60)).astype(np.float32)
    prob = np.zeros(raw.shape, np.float32)
    prob[4, 10:30, 10:50] = 1.0
    both = mpimg.imread(save_preview_png(tmp_path / "b.png", raw, prob, title="t"))[..., :3]
    row = _bar_row(both)
    grey = row[PAD_PX:PAD_PX + 160]
    assert np.allclose(grey[:, 0], grey[:, 1], atol=1 / 255) and np.allclose(grey[:, 0], grey[:, 2], atol=1 / 255)
    assert grey[0, 0] < 0.02 and grey[-1, 0] > 0.97 and (np.diff(grey[:, 0]) >= -1 / 255).all()
    panel_w = 400  # 60 x 40 projection, longer side 400 px
    magenta = row[PAD_PX + panel_w + PAD_PX:PAD_PX + panel_w + PAD_PX + 160]
    assert magenta[0].max() < 0.02                                   # p = 0: nothing drawn
    np.testing.assert_allclose(magenta[-1], PROB_ALPHA * np.array([1.0, 0.1, 0.8]), atol=2 / 255)
    assert (np.diff(magenta[:, 0]) >= -1 / 255).all()
    # the title strip has two lines of text: the caller's title and what the picture shows
    title_rows = (both[:44].max(axis=(1, 2)) > 0.5).nonzero()[0]
    assert title_rows.min() < 22 < title_rows.max()


def test_description_names_projection_axes_and_depth():
    text = describe((21, 33, 47), ("z", "x"))
    assert text.startswith("maximum-intensity projections (MIP)")
    assert "along z over 21 slices" in text and "along x over 47 slices" in text
