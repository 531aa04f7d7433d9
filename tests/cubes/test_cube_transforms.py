import numpy as np
import pytest

from axonseg.cubes import Box, CropAugmentSettings, cutmix, local_contrast, match_histogram, normalise_crop
from axonseg.cubes import random_box, random_crop
from axonseg.cubes.augment import rot90_planes
from axonseg.cubes.cutmix import choose_artifact


def test_cutmix_pastes_the_box_and_clears_its_label():
    image = np.zeros((6, 6, 6), np.float32)
    label = np.ones((6, 6, 6), np.uint8)
    artifact = np.arange(8 ** 3, dtype=np.float32).reshape(8, 8, 8)
    box = Box(size_zyx=(2, 3, 4), src_zyx=(6, 5, 4), dst_zyx=(0, 3, 2))
    out_img, out_lab = cutmix(image, label, artifact, box)
    np.testing.assert_array_equal(out_img[0:2, 3:6, 2:6], artifact[6:8, 5:8, 4:8])
    assert out_img.sum() == artifact[6:8, 5:8, 4:8].sum()     # nothing else changed
    assert out_lab[0:2, 3:6, 2:6].sum() == 0 and out_lab.sum() == 6 ** 3 - 24
    assert image.sum() == 0 and label.all()                   # inputs untouched


def test_random_boxes_stay_inside_patch_and_artifact_and_reach_both_ends():
    rng = np.random.default_rng(0)
    seen_src_end = seen_dst_zero = False
    for _ in range(2000):
        box = random_box((16, 16, 16), (20, 18, 16), rng, 0.2, 1.0)
        for n, s, d, p, a in zip(box.size_zyx, box.src_zyx, box.dst_zyx, (16,) * 3, (20, 18, 16)):
            assert 3 <= n <= 16 and 0 <= s <= a - n and 0 <= d <= p - n
        seen_src_end |= box.src_zyx[0] + box.size_zyx[0] == 20
        seen_dst_zero |= box.dst_zyx[2] == 0
    assert seen_src_end and seen_dst_zero


def test_artifact_choice_never_runs_past_the_list():
    rng = np.random.default_rng(0)
    picks = {choose_artifact(3, rng) for _ in range(500)}
    assert picks == {0, 1, 2}
    assert {choose_artifact(1, rng) for _ in range(50)} == {0}
    with pytest.raises(ValueError, match="at least one artifact"):
        choose_artifact(0, rng)


@pytest.mark.parametrize("mode, factor", [("weaken", 0.25), ("enhance", 2.0)])
def test_contrast_changes_only_voxels_near_axons_by_the_factor(mode, factor):
    rng = np.random.default_rng(0)
    image = rng.uniform(90, 110, (20, 20, 20)).astype(np.float32)
    label = np.zeros((20, 20, 20), np.uint8)
    label[10, 10, 3:17] = 1
    image[label == 1] = 500
    out = local_contrast(image, label, mode, factor, radius_vox=2)
    zz, yy, xx = np.indices(label.shape)
    dist2 = (zz - 10) ** 2 + (yy - 10) ** 2 + np.maximum(0, np.maximum(3 - xx, xx - 16)) ** 2
    near = dist2 <= 4
    background = np.median(image[~near])
    np.testing.assert_array_equal(out[~near], image[~near])
    np.testing.assert_allclose(out[near], background + factor * (image[near] - background), rtol=1e-6)
    assert (out[label == 1] - background == pytest.approx(factor * (500 - background)))
    assert np.abs(out - image)[near].min() > 0


def test_contrast_rejects_a_factor_that_does_the_opposite():
    image, label = np.ones((4, 4, 4)), np.zeros((4, 4, 4))
    with pytest.raises(ValueError, match="weaken"):
        local_contrast(image, label, "weaken", 1.5)
    with pytest.raises(ValueError, match="enhance"):
        local_contrast(image, label, "enhance", 0.5)


def test_histogram_matching_gives_the_reference_distribution():
    rng = np.random.default_rng(0)
    cube = rng.normal(1000, 50, (16, 16, 16))
    reference = rng.exponential(300, (20, 20, 20)) + 700
    matched = match_histogram(cube, reference)
    assert matched.dtype == np.float32 and matched.shape == cube.shape
    for q in (10, 50, 90):
        assert np.percentile(matched, q) == pytest.approx(np.percentile(reference, q), rel=0.02)
    assert np.array_equal(np.argsort(matched, axis=None), np.argsort(cube, axis=None))  # order kept


def test_plain_crop_is_an_exact_window():
    image = np.arange(10 * 11 * 12, dtype=np.float32).reshape(10, 11, 12)
    label = (image % 7 == 0).astype(np.uint8)
    settings = CropAugmentSettings(patch_zyx=(4, 5, 6), rotate90=False, flip=False, affine_probability=0)
    img, lab = random_crop(image, label, settings, np.random.default_rng(3))
    z0, y0, x0 = np.argwhere(image == img[0, 0, 0])[0]
    np.testing.assert_array_equal(img, image[z0:z0 + 4, y0:y0 + 5, x0:x0 + 6])
    np.testing.assert_array_equal(lab, label[z0:z0 + 4, y0:y0 + 5, x0:x0 + 6])
    with pytest.raises(ValueError, match="smaller than the patch"):
        random_crop(image, label, CropAugmentSettings(patch_zyx=(11, 5, 5)), np.random.default_rng(0))


def test_augmented_crop_keeps_image_and_label_aligned():
    rng = np.random.default_rng(0)
    label = np.zeros((40, 40, 40), np.uint8)
    label[20, 5:35, 20] = 1
    label[5:35, 12, 28] = 1
    image = label.astype(np.float32) * 100
    settings = CropAugmentSettings(patch_zyx=(24, 24, 24), affine_probability=1.0, max_angle_deg=10)
    for _ in range(5):
        img, lab = random_crop(image, label, settings, rng)
        assert img.shape == lab.shape == (24, 24, 24) and lab.dtype == np.uint8
        if lab.any():
            assert img[lab == 1].mean() > 45        # labelled voxels sit on bright voxels
            assert img[lab == 0].mean() < 5


def test_rot90_only_in_planes_of_equal_spacing():
    assert rot90_planes((1.0, 1.0, 1.0)) == [(1, 2), (0, 1), (0, 2)]
    assert rot90_planes((5.0, 1.0, 1.0)) == [(1, 2)]
    assert rot90_planes((5.0, 1.0, 2.0)) == []


def test_normalise_crop_clips_to_percentiles_and_scales_to_unit_range():
    image = np.arange(1000, dtype=np.float32).reshape(10, 10, 10)
    image[0, 0, 0] = 65535                      # one saturated voxel does not squash the rest
    out = normalise_crop(image, 0.5, 99.5)
    lo, hi = np.percentile(image, [0.5, 99.5])
    np.testing.assert_allclose(out, (np.clip(image, lo, hi) - lo) / (hi - lo), rtol=1e-6)
    assert out.min() == 0 and out.max() == 1 and out.dtype == np.float32
    assert not normalise_crop(np.full((3, 3, 3), 5.0)).any()


def test_histogram_matching_of_uint16_cubes_equals_the_float_path():
    rng = np.random.default_rng(1)
    cube = rng.normal(3000, 300, (20, 20, 20)).astype(np.uint16)
    reference = (rng.exponential(500, (24, 24, 24)) + 700).astype(np.uint16)
    np.testing.assert_array_equal(match_histogram(cube, reference),
                                  match_histogram(cube.astype(np.float32), reference.astype(np.float32)))
